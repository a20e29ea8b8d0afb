//! `PostgresStore` against authgate's conformance suites, and what is particular to it: the
//! advisory lock around the schema, `LISTEN`/`NOTIFY` between instances. PostgreSQL at
//! `AUTHGATE_TEST_POSTGRES_URL` (each test skipped when it is unset), each test on tables of
//! its own, dropped at its end.

#![cfg(feature = "postgres")]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authgate::store::{RevocationStore, StoreError};
use authgate::testing::Conformance;
use authgate_sqlx::PostgresStore;
use authgate_sqlx::sqlx::{self, AssertSqlSafe, PgPool, Row};

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

fn time(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// The PostgreSQL URL of the tests, or `None` (and a line saying the test is skipped).
fn postgres_url(test: &str) -> Option<String> {
    let url = std::env::var("AUTHGATE_TEST_POSTGRES_URL").ok();
    if url.is_none() {
        println!("{test}: skipped, AUTHGATE_TEST_POSTGRES_URL is not set");
    }
    url
}

/// A store on tables of its own, and a pool to read them with.
async fn postgres_store(url: &str) -> (PostgresStore, PgPool, String) {
    let pool = PgPool::connect(url).await.expect("PostgreSQL");
    let base = unique("t");
    let store = PostgresStore::connect(url)
        .await
        .expect("a store")
        .with_table(&base)
        .expect("a valid base");
    (store, pool, base)
}

async fn drop_tables(pool: &PgPool, base: &str) {
    let sql = format!("DROP TABLE IF EXISTS {base}_logins, {base}_revocations");
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(pool)
        .await
        .expect("dropped");
}

#[tokio::test]
async fn postgres_passes_the_login_suite() {
    let Some(url) = postgres_url("postgres_passes_the_login_suite") else {
        return;
    };
    let (store, pool, base) = postgres_store(&url).await;
    let dump = pool.clone();
    let table = format!("{base}_logins");
    // Everything the store wrote: its tables, as text.
    let suite = Conformance::logins(store).written(move || {
        let (pool, table) = (dump.clone(), table.clone());
        async move {
            let sql = format!("SELECT COALESCE(string_agg(t::text, E'\\n'), '') FROM {table} t");
            let row = sqlx::query(AssertSqlSafe(sql))
                .fetch_one(&pool)
                .await
                .expect("the table");
            row.get::<String, _>(0).into_bytes()
        }
    });
    let outcome = suite.run().await;
    drop_tables(&pool, &base).await;
    if let Err(failures) = outcome {
        panic!("the PostgreSQL store fails:\n  {}", failures.join("\n  "));
    }
}

#[tokio::test]
async fn postgres_passes_the_revocation_suite() {
    let Some(url) = postgres_url("postgres_passes_the_revocation_suite") else {
        return;
    };
    let (store, pool, base) = postgres_store(&url).await;
    let outcome = Conformance::revocations(store).run().await;
    drop_tables(&pool, &base).await;
    if let Err(failures) = outcome {
        panic!("the PostgreSQL store fails:\n  {}", failures.join("\n  "));
    }
}

/// Instances starting at once create the tables once (the advisory lock), and a revocation
/// made through one reaches the feed of another.
#[tokio::test]
async fn postgres_instances_start_at_once_and_share_revocations() {
    let Some(url) = postgres_url("postgres_instances_start_at_once_and_share_revocations") else {
        return;
    };
    let (store, pool, base) = postgres_store(&url).await;
    let others: Vec<PostgresStore> = (0..4)
        .map(|_| {
            PostgresStore::new(pool.clone())
                .with_table(&base)
                .expect("valid")
        })
        .collect();
    // All at once: each creates the tables if they are missing.
    let starts: Vec<_> = others
        .iter()
        .cloned()
        .map(|s| tokio::spawn(async move { s.create_tables().await }))
        .collect();
    let outcome = async {
        for started in starts {
            started.await.expect("not panicked")?;
        }
        let mut feed = others[0].subscribe().await?;
        store.revoke("t 1 shared", time(4_000_000_000)).await?;
        let got = tokio::time::timeout(Duration::from_secs(5), others[0].next(&mut feed))
            .await
            .map_err(|_| StoreError::unavailable("nothing delivered"))??;
        assert_eq!(got, "t 1 shared");
        Ok::<_, StoreError>(())
    }
    .await;
    drop_tables(&pool, &base).await;
    outcome.expect("shared");
}

/// A feed whose connection is lost ends with an error (authgate then subscribes again and
/// reloads), instead of reconnecting and skipping what was announced meanwhile.
#[tokio::test]
async fn postgres_feed_ends_when_its_connection_is_lost() {
    let Some(url) = postgres_url("postgres_feed_ends_when_its_connection_is_lost") else {
        return;
    };
    let (store, pool, base) = postgres_store(&url).await;
    let outcome = async {
        let mut feed = store.subscribe().await?;
        // The listener's connection is the one whose last statement was its `LISTEN`.
        let terminated = sqlx::query(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = $1",
        )
        .bind(format!(r#"LISTEN "{base}_revocations""#))
        .fetch_one(&pool)
        .await
        .map_err(StoreError::unavailable)?
        .get::<i64, _>(0);
        assert_eq!(terminated, 1, "the feed's connection");
        let next = tokio::time::timeout(Duration::from_secs(5), store.next(&mut feed)).await;
        assert!(
            matches!(next, Ok(Err(StoreError::Unavailable(_)))),
            "{next:?}"
        );
        Ok::<_, StoreError>(())
    }
    .await;
    drop_tables(&pool, &base).await;
    outcome.expect("ended");
}
