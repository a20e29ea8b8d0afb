//! The PostgreSQL and Redis servers of the store tests, found through
//! `AUTHGATE_TEST_POSTGRES_URL` and `AUTHGATE_TEST_REDIS_URL`: without them a test says in one
//! line what it did not test, and passes.

use authgate::SessionKey;

/// A fresh name for one test's table or key prefix.
pub fn fresh(prefix: &str) -> String {
    let key = SessionKey::of(&format!("{prefix}{:?}", std::time::SystemTime::now()));
    format!("{prefix}_{}", &key.as_str()[..12])
}

/// One line on the terminal, past the test harness's capture (written to stderr directly, not
/// through `eprintln!`), so a run without the servers says what it did not test.
pub fn skipped(what: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "skipped: {what}");
}

/// The PostgreSQL of `AUTHGATE_TEST_POSTGRES_URL`, or `None` with one line saying so.
pub async fn postgres(test: &str) -> Option<(sqlx::PgPool, String)> {
    let Ok(url) = std::env::var("AUTHGATE_TEST_POSTGRES_URL") else {
        skipped(&format!(
            "{test} on PostgreSQL: set AUTHGATE_TEST_POSTGRES_URL"
        ));
        return None;
    };
    let pool = sqlx::PgPool::connect(&url)
        .await
        .expect("AUTHGATE_TEST_POSTGRES_URL reachable");
    Some((pool, fresh("authgate_test")))
}

/// The Redis of `AUTHGATE_TEST_REDIS_URL`, or `None` with one line saying so.
pub async fn redis(test: &str) -> Option<(String, String)> {
    let Ok(url) = std::env::var("AUTHGATE_TEST_REDIS_URL") else {
        skipped(&format!("{test} on Redis: set AUTHGATE_TEST_REDIS_URL"));
        return None;
    };
    Some((url, fresh("authgate-test")))
}

/// Every key of a prefix and every value under it, as text.
pub async fn redis_dump(client: &::redis::Client, prefix: &str) -> Vec<u8> {
    let mut redis = client
        .get_multiplexed_async_connection()
        .await
        .expect("a connection");
    let keys: Vec<String> = ::redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut redis)
        .await
        .expect("keys");
    let mut dump = String::new();
    for key in keys {
        let kind: String = ::redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut redis)
            .await
            .expect("type");
        let values: Vec<String> = match kind.as_str() {
            "hash" => {
                ::redis::cmd("HGETALL")
                    .arg(&key)
                    .query_async(&mut redis)
                    .await
            }
            "set" => {
                ::redis::cmd("SMEMBERS")
                    .arg(&key)
                    .query_async(&mut redis)
                    .await
            }
            "zset" => {
                ::redis::cmd("ZRANGE")
                    .arg(&key)
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut redis)
                    .await
            }
            _ => Ok(Vec::new()),
        }
        .expect("values");
        dump.push_str(&key);
        dump.push_str(&values.concat());
    }
    dump.into_bytes()
}
