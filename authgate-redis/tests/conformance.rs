//! The store against authgate's conformance suites, and what is particular to Redis: its own
//! expiry, the per-subject sets, values it did not write. Redis at `AUTHGATE_TEST_REDIS_URL`
//! (each test skipped when it is unset), each test under a key prefix of its own.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authgate::store::{LoginRecord, LoginStore, StoreError};
use authgate::testing::Conformance;
use authgate_redis::RedisStore;
use authgate_redis::redis::{self, AsyncCommands, aio::MultiplexedConnection};

/// The Redis URL of the tests, or `None` (and a line saying the test is skipped).
fn redis_url(test: &str) -> Option<String> {
    let url = std::env::var("AUTHGATE_TEST_REDIS_URL").ok();
    if url.is_none() {
        println!("{test}: skipped, AUTHGATE_TEST_REDIS_URL is not set");
    }
    url
}

/// A key prefix no other run uses.
fn unique_prefix() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u128(now_since_epoch().as_nanos());
    format!("authgate-test-{:016x}", hasher.finish())
}

fn now_since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// A store under a prefix of its own, and a connection to read what it wrote.
async fn store(url: &str) -> (RedisStore, MultiplexedConnection, String) {
    let prefix = unique_prefix();
    let store = RedisStore::connect(url)
        .await
        .expect("Redis")
        .with_prefix(prefix.clone());
    let client = redis::Client::open(url).expect("a URL");
    let connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis");
    (store, connection, prefix)
}

/// Every key under `prefix` with what it holds, as text.
async fn dump(mut redis: MultiplexedConnection, prefix: String) -> Vec<u8> {
    let mut keys: Vec<String> = redis.keys(format!("{prefix}:*")).await.expect("keys");
    keys.sort();
    let mut written = Vec::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut redis)
            .await
            .expect("a type");
        let held: Vec<Vec<u8>> = match kind.as_str() {
            "string" => vec![redis.get(&key).await.expect("a string")],
            "set" => redis.smembers(&key).await.expect("a set"),
            "zset" => redis.zrange(&key, 0, -1).await.expect("a sorted set"),
            other => panic!("{key} is a {other}: the store writes no such key"),
        };
        written.extend_from_slice(format!("{key} ({kind}):\n").as_bytes());
        for value in held {
            written.extend_from_slice(&value);
            written.push(b'\n');
        }
    }
    written
}

/// Deletes every key under `prefix`.
async fn clean(redis: &mut MultiplexedConnection, prefix: &str) {
    let keys: Vec<String> = redis.keys(format!("{prefix}:*")).await.expect("keys");
    if !keys.is_empty() {
        let _: u64 = redis.del(keys).await.expect("deleted");
    }
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// A login of `subject` ending at `expires_at`, a refresh family.
fn family(key: char, subject: &str, expires_at: u64) -> LoginRecord {
    LoginRecord {
        key: key.to_string().repeat(64),
        subject: subject.to_owned(),
        current: Some("c".repeat(64)),
        last_used: at(1_900_000_000),
        expires_at: at(expires_at),
        data: r#"{"roles":[]}"#.to_owned(),
    }
}

#[tokio::test]
async fn redis_passes_the_login_suite() {
    let Some(url) = redis_url("redis_passes_the_login_suite") else {
        return;
    };
    let (store, mut redis, prefix) = store(&url).await;
    let (reader, under) = (redis.clone(), prefix.clone());
    let outcome = Conformance::logins(store)
        .written(move || dump(reader.clone(), under.clone()))
        .run()
        .await;
    clean(&mut redis, &prefix).await;
    if let Err(failures) = outcome {
        panic!("the Redis store fails:\n  {}", failures.join("\n  "));
    }
}

#[tokio::test]
async fn redis_passes_the_revocation_suite() {
    let Some(url) = redis_url("redis_passes_the_revocation_suite") else {
        return;
    };
    let (store, mut redis, prefix) = store(&url).await;
    let outcome = Conformance::revocations(store).run().await;
    clean(&mut redis, &prefix).await;
    if let Err(failures) = outcome {
        panic!("the Redis store fails:\n  {}", failures.join("\n  "));
    }
}

/// Redis expires a login at its end, and neither a touch nor a rotation changes that.
#[tokio::test]
async fn redis_expires_a_login_at_its_end() {
    let Some(url) = redis_url("redis_expires_a_login_at_its_end") else {
        return;
    };
    let (store, mut redis, prefix) = store(&url).await;
    let end = now_since_epoch().as_secs() + 3600;
    let login = family('a', "alice", end);
    let key = format!("{prefix}:login:{}", login.key);
    store.create(&login).await.expect("created");
    let expiry = |redis: &mut MultiplexedConnection| {
        let key = key.clone();
        let mut redis = redis.clone();
        async move {
            let at: i64 = redis::cmd("EXPIRETIME")
                .arg(key)
                .query_async(&mut redis)
                .await
                .expect("an expiry");
            at
        }
    };
    assert_eq!(expiry(&mut redis).await, end as i64);
    assert!(
        store
            .touch(&login.key, at(end - 10))
            .await
            .expect("touched")
    );
    let next = "d".repeat(64);
    let rotated = store
        .rotate(&login.key, &"c".repeat(64), &next, at(end - 5))
        .await
        .expect("rotated");
    assert!(rotated);
    assert_eq!(expiry(&mut redis).await, end as i64, "the end is kept");
    let read = LoginStore::load(&store, &login.key).await.expect("loaded");
    let want = LoginRecord {
        current: Some(next),
        last_used: at(end - 5),
        ..login.clone()
    };
    assert_eq!(read, Some(want));

    // A login that already ended is gone at once.
    let ended = family('b', "bob", 1);
    store.create(&ended).await.expect("created");
    let read = LoginStore::load(&store, &ended.key).await.expect("loaded");
    assert!(read.is_none());
    clean(&mut redis, &prefix).await;
}

/// The purge removes from the subject sets the logins Redis expired on its own, and
/// `delete_user` counts only the logins that still existed.
#[tokio::test]
async fn redis_purge_prunes_what_redis_expired() {
    let Some(url) = redis_url("redis_purge_prunes_what_redis_expired") else {
        return;
    };
    let (store, mut redis, prefix) = store(&url).await;
    let user = format!("{prefix}:user:carol");
    for key in ['a', 'b', 'c'] {
        store
            .create(&family(key, "carol", 2_000_000_000))
            .await
            .expect("created");
    }
    let live = family('d', "carol", 2_100_000_000);
    store.create(&live).await.expect("created");
    // As if Redis had expired two of them.
    for key in ['a', 'b'] {
        let _: u64 = redis
            .del(format!("{prefix}:login:{}", key.to_string().repeat(64)))
            .await
            .expect("deleted");
    }
    let purged = store
        .purge_expired(at(2_000_000_000))
        .await
        .expect("purged");
    assert_eq!(purged, 1, "only the login that still existed counts");
    let left: Vec<String> = redis.smembers(&user).await.expect("a set");
    assert_eq!(left, std::slice::from_ref(&live.key));
    let ends: Vec<String> = redis
        .zrange(format!("{prefix}:expiry"), 0, -1)
        .await
        .expect("a sorted set");
    assert_eq!(ends, [format!("{} carol", live.key)]);

    assert_eq!(store.delete_user("carol").await.expect("deleted"), 1);
    let keys: Vec<String> = redis.keys(format!("{prefix}:*")).await.expect("keys");
    assert!(keys.is_empty(), "{keys:?}");
}

/// Values this store did not write read as `Corrupt`; a hash that is not one is refused.
#[tokio::test]
async fn redis_refuses_what_it_did_not_write() {
    let Some(url) = redis_url("redis_refuses_what_it_did_not_write") else {
        return;
    };
    let (store, mut redis, prefix) = store(&url).await;
    let key = "e".repeat(64);
    let _: () = redis
        .set(
            format!("{prefix}:login:{key}"),
            "a session of another library",
        )
        .await
        .expect("set");
    let read = LoginStore::load(&store, &key).await;
    assert!(matches!(read, Err(StoreError::Corrupt(_))), "{read:?}");
    // Deleted all the same: a logout does not fail on it.
    store.delete(&key).await.expect("deleted");
    assert!(
        LoginStore::load(&store, &key)
            .await
            .expect("loaded")
            .is_none()
    );

    let not_a_hash = LoginRecord {
        current: Some("a refresh token itself".to_owned()),
        ..family('f', "frank", 2_000_000_000)
    };
    assert!(store.create(&not_a_hash).await.is_err());
    let unknown = store
        .rotate(&"f".repeat(64), "not a hash", &"a".repeat(64), at(1))
        .await;
    assert!(!unknown.expect("answered"));
    clean(&mut redis, &prefix).await;
}
