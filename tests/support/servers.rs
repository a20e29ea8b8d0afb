//! The PostgreSQL and Redis servers of the tests that need them, found through
//! `AUTHGATE_TEST_POSTGRES_URL` and `AUTHGATE_TEST_REDIS_URL`. Without them such a test prints
//! one `skipped:` line naming what to set, and passes; with them, an unreachable server fails
//! it.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The variable naming the test PostgreSQL (for example `postgres://root@127.0.0.1:5432/test`).
pub const POSTGRES_URL: &str = "AUTHGATE_TEST_POSTGRES_URL";
/// The variable naming the test Redis (for example `redis://127.0.0.1:6379`).
pub const REDIS_URL: &str = "AUTHGATE_TEST_REDIS_URL";

/// A fresh name for one test's table, database or key prefix: `prefix`, `_` and 12 hex digits,
/// different in every call, process and run.
pub fn fresh(prefix: &str) -> String {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let key = short_hash(&format!(
        "{prefix}{:?}{}{}",
        std::time::SystemTime::now(),
        std::process::id(),
        CALLS.fetch_add(1, Ordering::Relaxed)
    ));
    format!("{prefix}_{}", &key.as_str()[..12])
}

/// A hash of `text` in hex, for names that differ with it.
pub fn short_hash(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// One line on the terminal, past the test harness's capture (written to stderr directly, not
/// through `eprintln!`), so a run without the servers says what it did not test.
pub fn skipped(what: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "skipped: {what}");
}

/// The values of `variables` (from [`POSTGRES_URL`], [`REDIS_URL`]), or `None` after one line
/// `skipped: {test}: set ..` naming the ones that are unset.
pub fn server_urls<const N: usize>(test: &str, variables: [&str; N]) -> Option<[String; N]> {
    let values = variables.map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
    if values.iter().all(Option::is_some) {
        return Some(values.map(Option::unwrap_or_default));
    }
    let unset: Vec<&str> = variables
        .iter()
        .zip(&values)
        .filter(|(_, value)| value.is_none())
        .map(|(name, _)| *name)
        .collect();
    skipped(&format!("{test}: set {}", unset.join(" and ")));
    None
}

/// A database of its own on the test PostgreSQL, created for one test and dropped when this
/// is dropped (also after a failed assertion), closing any connection still open to it.
pub struct TempPostgres {
    /// The server's URL, on the database it names (which stays).
    server: String,
    pub name: String,
    /// The URL of this database.
    pub url: String,
}

impl TempPostgres {
    /// Creates `invoices_test_<12 hex digits>` on the server of `server_url`.
    pub async fn create(server_url: &str) -> TempPostgres {
        let name = fresh("invoices_test");
        let admin = sqlx::PgPool::connect(server_url)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_URL} reachable: {e}"));
        // A name from `fresh`: lower-case hex and `_`, safe as an identifier.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("CREATE DATABASE");
        admin.close().await;
        TempPostgres {
            url: with_database(server_url, &name),
            server: server_url.to_owned(),
            name,
        }
    }

    /// A pool on this database, for looking at what the app wrote.
    pub async fn pool(&self) -> sqlx::PgPool {
        sqlx::PgPool::connect(&self.url)
            .await
            .expect("a pool on the test database")
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot block on a future: a thread of
        // its own runs one.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let admin = sqlx::PgPool::connect(&server).await?;
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                sqlx::query(sqlx::AssertSqlSafe(drop))
                    .execute(&admin)
                    .await?;
                admin.close().await;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            skipped("dropping a test database failed; it is left on the server");
        }
    }
}

/// `url` with its database (the path) replaced by `name`, keeping user, host and parameters.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let (scheme, rest) = base.split_once("://").expect("a URL with ://");
    let authority = rest.split('/').next().unwrap_or_default();
    let mut out = format!("{scheme}://{authority}/{name}");
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// One test's key prefix on the test Redis; every key under it is deleted when this is dropped.
pub struct TempRedisPrefix {
    pub url: String,
    pub prefix: String,
}

impl TempRedisPrefix {
    pub fn new(url: &str) -> TempRedisPrefix {
        TempRedisPrefix {
            url: url.to_owned(),
            prefix: fresh("invoices-test"),
        }
    }

    /// The keys under this prefix, sorted.
    pub async fn keys(&self) -> Vec<String> {
        let client = redis::Client::open(self.url.as_str()).expect("a Redis URL");
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| panic!("{REDIS_URL} reachable: {e}"));
        let mut keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query_async(&mut connection)
            .await
            .expect("KEYS");
        keys.sort();
        keys
    }
}

impl Drop for TempRedisPrefix {
    fn drop(&mut self) {
        let Ok(mut connection) =
            redis::Client::open(self.url.as_str()).and_then(|c| c.get_connection())
        else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query(&mut connection)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<i64, _> = redis::cmd("DEL").arg(&keys).query(&mut connection);
        }
    }
}

/// The PostgreSQL of `AUTHGATE_TEST_POSTGRES_URL` and a fresh table name, or `None` with one
/// line saying so.
pub async fn postgres(test: &str) -> Option<(sqlx::PgPool, String)> {
    let [url] = server_urls(&format!("{test} on PostgreSQL"), [POSTGRES_URL])?;
    let pool = sqlx::PgPool::connect(&url)
        .await
        .expect("AUTHGATE_TEST_POSTGRES_URL reachable");
    Some((pool, fresh("authgate_test")))
}

/// The Redis of `AUTHGATE_TEST_REDIS_URL` and a fresh key prefix, or `None` with one line
/// saying so.
pub async fn redis(test: &str) -> Option<(String, String)> {
    let [url] = server_urls(&format!("{test} on Redis"), [REDIS_URL])?;
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
            "string" => ::redis::cmd("GET")
                .arg(&key)
                .query_async::<String>(&mut redis)
                .await
                .map(|value| vec![value]),
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
