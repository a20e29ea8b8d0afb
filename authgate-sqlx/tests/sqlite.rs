//! `SqliteStore` against authgate's conformance suites, and what is particular to it: the
//! revocation log shared by the stores on one file, table names, unreadable rows. Each test
//! on a database file of its own in the temporary directory.

#![cfg(feature = "sqlite")]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authgate::store::{LoginRecord, LoginStore, RevocationStore, StoreError};
use authgate::testing::Conformance;
use authgate_sqlx::SqliteStore;
use authgate_sqlx::sqlx;

/// A name no other run uses: `{prefix}_` and 16 hex digits.
fn unique(prefix: &str) -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    format!("{prefix}_{:016x}", hasher.finish())
}

/// A database file in the temporary directory, deleted (with its WAL files) when dropped.
struct TempDb(PathBuf);

impl TempDb {
    fn new() -> Self {
        TempDb(std::env::temp_dir().join(format!("{}.db", unique("authgate_sqlx"))))
    }

    fn files(&self) -> [PathBuf; 3] {
        let path = self.0.display();
        [
            self.0.clone(),
            format!("{path}-wal").into(),
            format!("{path}-shm").into(),
        ]
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for file in self.files() {
            let _ = std::fs::remove_file(file);
        }
    }
}

fn time(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn record(key: &str, subject: &str) -> LoginRecord {
    LoginRecord {
        key: key.to_owned(),
        subject: subject.to_owned(),
        current: None,
        last_used: time(1_900_000_000),
        expires_at: time(1_900_003_600),
        data: "{}".to_owned(),
    }
}

#[tokio::test]
async fn sqlite_passes_the_login_suite() {
    let db = TempDb::new();
    let store = SqliteStore::open(&db.0).await.expect("a store");
    // Everything the store wrote: the database file and its write-ahead log.
    let files = db.files();
    Conformance::logins(store)
        .written(move || {
            let files = files.clone();
            async move {
                let read = |file: &PathBuf| std::fs::read(file).unwrap_or_default();
                files.iter().flat_map(read).collect()
            }
        })
        .assert()
        .await;
}

#[tokio::test]
async fn sqlite_passes_the_revocation_suite() {
    let db = TempDb::new();
    let store = SqliteStore::open(&db.0).await.expect("a store");
    Conformance::revocations(store.poll_every(Duration::from_millis(5)))
        .assert()
        .await;
}

/// Two stores on one file (two processes, or two instances): a revocation made through one
/// reaches the other's feed, and tables named after another base stay apart.
#[tokio::test]
async fn sqlite_feeds_see_what_another_store_on_the_file_wrote() {
    let db = TempDb::new();
    let first = SqliteStore::open(&db.0).await.expect("a store");
    let second = SqliteStore::open(&db.0).await.expect("a store");
    let mut feed = second.subscribe().await.expect("a feed");
    first
        .revoke("t 1 a token", time(4_000_000_000))
        .await
        .expect("revoked");
    first.announce("h 1").await.expect("announced");
    for want in ["t 1 a token", "h 1"] {
        let got = tokio::time::timeout(Duration::from_secs(5), second.next(&mut feed)).await;
        assert_eq!(got.expect("in time").expect("read"), want);
    }
    assert_eq!(
        RevocationStore::entries(&second, time(0))
            .await
            .expect("loaded"),
        ["t 1 a token"]
    );

    let other = SqliteStore::open(&db.0)
        .await
        .expect("a store")
        .with_table("other")
        .expect("a valid base");
    assert!(
        RevocationStore::entries(&other, time(0))
            .await
            .expect("loaded")
            .is_empty()
    );
    let key = "a".repeat(64);
    first.create(&record(&key, "alice")).await.expect("created");
    let elsewhere = LoginStore::load(&other, &key).await.expect("loaded");
    assert!(elsewhere.is_none(), "another base, other tables");
}

#[tokio::test]
async fn sqlite_refuses_table_names_it_would_not_quote() {
    let db = TempDb::new();
    let store = SqliteStore::open(&db.0).await.expect("a store");
    for bad in ["", "Logins", "a;drop table x", "1a", &"a".repeat(45)] {
        let refused = store.clone().with_table(bad);
        assert!(
            matches!(refused, Err(StoreError::Unavailable(_))),
            "{bad:?}"
        );
    }
}

/// A row that does not read back (a time that is not a number) is `Corrupt`, not a panic or a
/// login.
#[tokio::test]
async fn sqlite_reports_a_row_it_cannot_read_as_corrupt() {
    let db = TempDb::new();
    let store = SqliteStore::open(&db.0).await.expect("a store");
    store.create_tables().await.expect("tables");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.0.display()))
        .await
        .expect("a pool");
    sqlx::query(
        "INSERT INTO authgate_logins (key, subject, current, last_used, expires_at, data)
         VALUES ('k', 's', NULL, 'not a time', 1, '{}')",
    )
    .execute(&pool)
    .await
    .expect("inserted");
    let read = LoginStore::load(&store, "k").await;
    assert!(matches!(read, Err(StoreError::Corrupt(_))), "{read:?}");
}

/// Stores starting at once on one file (several processes) all create the tables, or find
/// them.
#[tokio::test]
async fn sqlite_stores_start_at_once() {
    let db = TempDb::new();
    let mut starts = Vec::new();
    for _ in 0..4 {
        let store = SqliteStore::open(&db.0).await.expect("a store");
        starts.push(tokio::spawn(async move { store.create_tables().await }));
    }
    for started in starts {
        started.await.expect("not panicked").expect("tables");
    }
}
