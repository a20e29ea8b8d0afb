//! [`PostgresRevocations`]: revocations in a PostgreSQL table, announced with
//! `LISTEN`/`NOTIFY`.

use sqlx::Row;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};

use crate::revocation::{FeedEvent, Revocation, RevocationFeed, RevocationStore};
use crate::session::StoreError;
use crate::verify::BoxFuture;

/// Revocations in a PostgreSQL table (default `authgate_revocations`), indexed by the time
/// until which they matter, and announced with `NOTIFY` on the channel of the table's name in
/// the same transaction as the insert: PostgreSQL delivers a notification only when its
/// transaction commits, and in commit order, so no instance can miss a stored revocation.
///
/// ```no_run
/// use authgate::{Gate, PostgresRevocations, Revocations};
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let store = PostgresRevocations::connect("postgres://app@127.0.0.1/app").await?;
/// let gate = Gate::builder()
///     .hs256("an HMAC secret of at least 32 bytes!!")
///     .revocations(Revocations::new(store))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct PostgresRevocations {
    pool: PgPool,
    /// The table, which is also the channel.
    table: String,
    queries: Queries,
}

#[derive(Clone, Debug)]
struct Queries {
    insert: String,
    load: String,
    purge: String,
}

impl PostgresRevocations {
    /// Uses an existing pool and the table `authgate_revocations`, created if missing.
    pub async fn new(pool: PgPool) -> Result<Self, StoreError> {
        Self::with_table(pool, "authgate_revocations").await
    }

    /// Connects to `url` (a pool of up to 4 connections, one of them held by the feed) and
    /// uses `authgate_revocations`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect(url)
            .await
            .map_err(StoreError::from_error)?;
        Self::new(pool).await
    }

    /// Uses the table `table` (lower-case letters, digits and `_`, starting with a letter),
    /// created if missing; its name is also the `NOTIFY` channel.
    pub async fn with_table(pool: PgPool, table: &str) -> Result<Self, StoreError> {
        super::check_table(table)?;
        // `kind` is `t` (a token id in `value`) or `s` (a subject in `value`, with its
        // cutoff in `not_before`).
        let schema = format!(
            "CREATE TABLE IF NOT EXISTS {table} (
                 kind TEXT NOT NULL,
                 value TEXT NOT NULL,
                 not_before BIGINT NOT NULL,
                 until BIGINT NOT NULL,
                 PRIMARY KEY (kind, value, not_before)
             );
             CREATE INDEX IF NOT EXISTS {table}_until ON {table} (until);"
        );
        super::create_schema(&pool, table, schema).await?;
        let queries = Queries {
            insert: format!(
                "INSERT INTO {table} AS t (kind, value, not_before, until) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (kind, value, not_before)
                 DO UPDATE SET until = GREATEST(t.until, EXCLUDED.until)"
            ),
            load: format!("SELECT kind, value, not_before, until FROM {table} WHERE until > $1"),
            purge: format!("DELETE FROM {table} WHERE until <= $1"),
        };
        Ok(PostgresRevocations {
            pool,
            table: table.to_owned(),
            queries,
        })
    }

    async fn notify(
        &self,
        executor: impl sqlx::PgExecutor<'_>,
        payload: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&self.table)
            .bind(payload)
            .execute(executor)
            .await
            .map_err(StoreError::from_error)?;
        Ok(())
    }
}

/// A revocation as a row: kind, value, cutoff, until.
fn row(revocation: &Revocation) -> (&'static str, &str, u64, u64) {
    match revocation {
        Revocation::Token { jti, until } => ("t", jti, 0, *until),
        Revocation::Subject {
            subject,
            not_before,
            until,
        } => ("s", subject, *not_before, *until),
    }
}

fn seconds(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl RevocationStore for PostgresRevocations {
    fn revoke(&self, revocation: &Revocation) -> BoxFuture<'_, Result<(), StoreError>> {
        let revocation = revocation.clone();
        Box::pin(async move {
            let (kind, value, not_before, until) = row(&revocation);
            let mut tx = self.pool.begin().await.map_err(StoreError::from_error)?;
            sqlx::query(sqlx::AssertSqlSafe(self.queries.insert.as_str()))
                .bind(kind)
                .bind(value)
                .bind(seconds(not_before))
                .bind(seconds(until))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_error)?;
            self.notify(&mut *tx, &revocation.to_text()).await?;
            tx.commit().await.map_err(StoreError::from_error)
        })
    }

    fn load(&self, now: u64) -> BoxFuture<'_, Result<Vec<Revocation>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(sqlx::AssertSqlSafe(self.queries.load.as_str()))
                .bind(seconds(now))
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            rows.iter()
                .map(|row| {
                    let kind: String = row.try_get("kind").map_err(StoreError::from_error)?;
                    let value: String = row.try_get("value").map_err(StoreError::from_error)?;
                    let not_before: i64 =
                        row.try_get("not_before").map_err(StoreError::from_error)?;
                    let until: i64 = row.try_get("until").map_err(StoreError::from_error)?;
                    let (not_before, until) = (not_before.max(0) as u64, until.max(0) as u64);
                    match kind.as_str() {
                        "t" => Ok(Revocation::Token { jti: value, until }),
                        "s" => Ok(Revocation::Subject {
                            subject: value,
                            not_before,
                            until,
                        }),
                        _ => Err(StoreError::new("a revocation of unknown kind in the table")),
                    }
                })
                .collect()
        })
    }

    fn subscribe(&self) -> BoxFuture<'_, Result<Box<dyn RevocationFeed>, StoreError>> {
        Box::pin(async move {
            let mut listener = PgListener::connect_with(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            // Returns once the server ran `LISTEN`.
            listener
                .listen(&self.table)
                .await
                .map_err(StoreError::from_error)?;
            let feed: Box<dyn RevocationFeed> = Box::new(PostgresFeed(listener));
            Ok(feed)
        })
    }

    fn heartbeat(&self, beat: u64) -> BoxFuture<'_, Result<(), StoreError>> {
        let text = FeedEvent::Heartbeat(beat).to_text();
        Box::pin(async move { self.notify(&self.pool, &text).await })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let done = sqlx::query(sqlx::AssertSqlSafe(self.queries.purge.as_str()))
                .bind(seconds(now))
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(done.rows_affected())
        })
    }
}

struct PostgresFeed(PgListener);

impl RevocationFeed for PostgresFeed {
    fn next(&mut self) -> BoxFuture<'_, Result<FeedEvent, StoreError>> {
        Box::pin(async move {
            loop {
                // `try_recv`, not `recv`: `recv` reconnects on its own and silently drops what
                // was sent meanwhile; a lost connection must end the feed so the Gate reloads.
                let Some(notification) = self.0.try_recv().await.map_err(StoreError::from_error)?
                else {
                    return Err(StoreError::new(
                        "PostgreSQL revocation feed connection lost",
                    ));
                };
                // Anything else on the channel is not ours: skip it.
                if let Some(event) = FeedEvent::from_text(notification.payload()) {
                    return Ok(event);
                }
            }
        })
    }
}
