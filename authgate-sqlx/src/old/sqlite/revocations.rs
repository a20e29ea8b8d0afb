//! [`SqliteRevocations`]: revocations in a SQLite table that is also their feed, read by
//! polling.

use std::collections::VecDeque;
use std::time::Duration;

use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};

use crate::revocation::{FeedEvent, Revocation, RevocationFeed, RevocationStore};
use crate::session::StoreError;
use crate::verify::BoxFuture;

/// Revocations in a SQLite table (`authgate_revocations`), for apps with an embedded
/// database. SQLite has no notifications, so the table is an append-only log numbered by an
/// `AUTOINCREMENT` sequence (never reused, and committed in order: SQLite has one writer at a
/// time), which each Gate's feed polls for rows past the last it read; heartbeats are rows of
/// that log too. Every process using the file sees every revocation, in order.
///
/// ```no_run
/// use authgate::{Gate, Revocations, SqliteRevocations};
/// # async fn demo(pool: sqlx::SqlitePool) -> Result<(), Box<dyn std::error::Error>> {
/// let store = SqliteRevocations::new(pool).await?;
/// let gate = Gate::builder()
///     .hs256("an HMAC secret of at least 32 bytes!!")
///     .revocations(Revocations::new(store))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct SqliteRevocations {
    pool: SqlitePool,
    poll_every: Duration,
}

/// `kind`: `t` (a token id in `value`), `s` (a subject in `value`, its cutoff in
/// `not_before`), or `h` (a heartbeat, its number in `value`).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS authgate_revocations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    not_before INTEGER NOT NULL,
    until INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS authgate_revocations_until ON authgate_revocations (until);
";

/// How long a heartbeat row is kept: far longer than any feed takes to read it.
const HEARTBEAT_KEPT: u64 = 60;

impl SqliteRevocations {
    /// Uses an existing pool (the app's database file); creates the table if missing. Feeds
    /// poll every 50 ms.
    pub async fn new(pool: SqlitePool) -> Result<Self, StoreError> {
        sqlx::raw_sql(SCHEMA)
            .execute(&pool)
            .await
            .map_err(StoreError::from_error)?;
        Ok(SqliteRevocations {
            pool,
            poll_every: Duration::from_millis(50),
        })
    }

    /// How often a feed reads the log (default 50 ms): the delay before a revocation made by
    /// another process holds in this one.
    pub fn poll_every(mut self, every: Duration) -> Self {
        self.poll_every = every.max(Duration::from_millis(1));
        self
    }

    async fn append(
        &self,
        kind: &str,
        value: &str,
        not_before: u64,
        until: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO authgate_revocations (kind, value, not_before, until)
             VALUES (?, ?, ?, ?)",
        )
        .bind(kind)
        .bind(value)
        .bind(seconds(not_before))
        .bind(seconds(until))
        .execute(&self.pool)
        .await
        .map_err(StoreError::from_error)?;
        Ok(())
    }
}

fn seconds(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A log row as a feed event; `None` for a row of unknown kind.
fn event(row: &SqliteRow) -> Result<Option<FeedEvent>, StoreError> {
    let kind: String = row.try_get("kind").map_err(StoreError::from_error)?;
    let value: String = row.try_get("value").map_err(StoreError::from_error)?;
    let not_before: i64 = row.try_get("not_before").map_err(StoreError::from_error)?;
    let until: i64 = row.try_get("until").map_err(StoreError::from_error)?;
    let (not_before, until) = (not_before.max(0) as u64, until.max(0) as u64);
    Ok(match kind.as_str() {
        "t" => Some(FeedEvent::Revoked(Revocation::Token { jti: value, until })),
        "s" => Some(FeedEvent::Revoked(Revocation::Subject {
            subject: value,
            not_before,
            until,
        })),
        "h" => value.parse().ok().map(FeedEvent::Heartbeat),
        _ => None,
    })
}

impl RevocationStore for SqliteRevocations {
    fn revoke(&self, revocation: &Revocation) -> BoxFuture<'_, Result<(), StoreError>> {
        let revocation = revocation.clone();
        Box::pin(async move {
            match &revocation {
                Revocation::Token { jti, until } => self.append("t", jti, 0, *until).await,
                Revocation::Subject {
                    subject,
                    not_before,
                    until,
                } => self.append("s", subject, *not_before, *until).await,
            }
        })
    }

    fn load(&self, now: u64) -> BoxFuture<'_, Result<Vec<Revocation>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT kind, value, not_before, until FROM authgate_revocations
                 WHERE kind != 'h' AND until > ?",
            )
            .bind(seconds(now))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_error)?;
            let mut loaded = Vec::with_capacity(rows.len());
            for row in &rows {
                if let Some(FeedEvent::Revoked(revocation)) = event(row)? {
                    loaded.push(revocation);
                }
            }
            Ok(loaded)
        })
    }

    fn subscribe(&self) -> BoxFuture<'_, Result<Box<dyn RevocationFeed>, StoreError>> {
        Box::pin(async move {
            let last: i64 = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM authgate_revocations")
                .fetch_one(&self.pool)
                .await
                .and_then(|row| row.try_get(0))
                .map_err(StoreError::from_error)?;
            let feed: Box<dyn RevocationFeed> = Box::new(SqliteFeed {
                pool: self.pool.clone(),
                poll_every: self.poll_every,
                last,
                read: VecDeque::new(),
            });
            Ok(feed)
        })
    }

    fn heartbeat(&self, beat: u64) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            self.append("h", &beat.to_string(), 0, now + HEARTBEAT_KEPT)
                .await
        })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM authgate_revocations WHERE until <= ?")
                .bind(seconds(now))
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(done.rows_affected())
        })
    }
}

struct SqliteFeed {
    pool: SqlitePool,
    poll_every: Duration,
    /// The sequence number of the last row read.
    last: i64,
    /// Rows read and not yet returned.
    read: VecDeque<FeedEvent>,
}

impl RevocationFeed for SqliteFeed {
    fn next(&mut self) -> BoxFuture<'_, Result<FeedEvent, StoreError>> {
        Box::pin(async move {
            loop {
                if let Some(event) = self.read.pop_front() {
                    return Ok(event);
                }
                tokio::time::sleep(self.poll_every).await;
                // Cancel-safe: the cursor moves only once the rows are in `read`.
                let rows = sqlx::query(
                    "SELECT seq, kind, value, not_before, until FROM authgate_revocations
                     WHERE seq > ? ORDER BY seq LIMIT 1024",
                )
                .bind(self.last)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
                for row in &rows {
                    if let Some(event) = event(row)? {
                        self.read.push_back(event);
                    }
                }
                if let Some(row) = rows.last() {
                    self.last = row.try_get("seq").map_err(StoreError::from_error)?;
                }
            }
        })
    }
}
