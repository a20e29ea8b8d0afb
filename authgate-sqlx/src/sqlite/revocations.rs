//! [`SqliteStore`] as a [`RevocationStore`]: an append-only log that every feed polls.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use authgate::store::{RevocationStore, StoreError};
use sqlx::{AssertSqlSafe, Row};

use super::SqliteStore;
use crate::logins::unavailable;
use crate::time::seconds;

/// How long an announcement stays in the log: far longer than any feed takes to read it, and
/// counted on the system clock (not a Gate's, which tests may set years ahead).
const ANNOUNCEMENT_KEPT: Duration = Duration::from_secs(60);

/// How many rows a feed reads per poll.
const POLL_ROWS: i64 = 1024;

/// The `CREATE ... IF NOT EXISTS` statements of the log `table`. `kept` is 1 for a revocation
/// (loaded until `until`) and 0 for an announcement (only delivered, and deleted after
/// [`ANNOUNCEMENT_KEPT`]).
pub(super) fn schema(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (
             seq INTEGER PRIMARY KEY AUTOINCREMENT,
             entry TEXT NOT NULL,
             kept INTEGER NOT NULL,
             until INTEGER NOT NULL
         );
         CREATE INDEX IF NOT EXISTS {table}_until ON {table} (until);"
    )
}

/// The statements of one log (`Arc<str>`: sqlx takes them without copying).
#[derive(Debug)]
pub(super) struct LogSql {
    append: Arc<str>,
    load: Arc<str>,
    last: Arc<str>,
    poll: Arc<str>,
    purge: Arc<str>,
}

impl LogSql {
    pub(super) fn new(table: &str) -> LogSql {
        LogSql {
            append: format!("INSERT INTO {table} (entry, kept, until) VALUES (?, ?, ?)").into(),
            load: format!("SELECT entry FROM {table} WHERE kept = 1 AND until > ? ORDER BY seq")
                .into(),
            last: format!("SELECT COALESCE(MAX(seq), 0) FROM {table}").into(),
            poll: format!("SELECT seq, entry FROM {table} WHERE seq > ? ORDER BY seq LIMIT ?")
                .into(),
            purge: format!("DELETE FROM {table} WHERE kept = ? AND until <= ?").into(),
        }
    }
}

/// An open feed of a [`SqliteStore`]: where it is in the log, and what it read and has not
/// yet delivered. Read it with [`RevocationStore::next`].
#[derive(Debug)]
pub struct SqliteFeed {
    /// The sequence number of the last row read.
    last: i64,
    /// Rows read and not yet delivered, oldest first.
    read: VecDeque<String>,
}

impl SqliteStore {
    async fn append(&self, entry: &str, kept: bool, until: i64) -> Result<(), StoreError> {
        self.ready().await?;
        sqlx::query(AssertSqlSafe(Arc::clone(&self.log.append)))
            .bind(entry)
            .bind(i64::from(kept))
            .bind(until)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn purge(&self, kept: bool, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(AssertSqlSafe(Arc::clone(&self.log.purge)))
            .bind(i64::from(kept))
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected())
    }
}

impl RevocationStore for SqliteStore {
    type Feed = SqliteFeed;

    async fn revoke(&self, entry: &str, until: SystemTime) -> Result<(), StoreError> {
        // One row is kept and announced at once: feeds read the rows they load from.
        self.append(entry, true, seconds(until)).await
    }

    async fn entries(&self, now: SystemTime) -> Result<Vec<String>, StoreError> {
        self.ready().await?;
        let rows = sqlx::query(AssertSqlSafe(Arc::clone(&self.log.load)))
            .bind(seconds(now))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter()
            .map(|row| row.try_get(0).map_err(corrupt))
            .collect()
    }

    async fn announce(&self, message: &str) -> Result<(), StoreError> {
        let until = seconds(SystemTime::now() + ANNOUNCEMENT_KEPT);
        self.append(message, false, until).await
    }

    async fn subscribe(&self) -> Result<SqliteFeed, StoreError> {
        self.ready().await?;
        // From the end of the log: what is appended after this.
        let last: i64 = sqlx::query(AssertSqlSafe(Arc::clone(&self.log.last)))
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?
            .try_get(0)
            .map_err(corrupt)?;
        Ok(SqliteFeed {
            last,
            read: VecDeque::new(),
        })
    }

    async fn next(&self, feed: &mut SqliteFeed) -> Result<String, StoreError> {
        loop {
            if let Some(entry) = feed.read.pop_front() {
                return Ok(entry);
            }
            tokio::time::sleep(self.poll_every).await;
            let rows = sqlx::query(AssertSqlSafe(Arc::clone(&self.log.poll)))
                .bind(feed.last)
                .bind(POLL_ROWS)
                .fetch_all(&self.pool)
                .await
                .map_err(unavailable)?;
            let mut read = Vec::with_capacity(rows.len());
            for row in &rows {
                let seq: i64 = row.try_get(0).map_err(corrupt)?;
                let entry: String = row.try_get(1).map_err(corrupt)?;
                read.push((seq, entry));
            }
            // Cancel-safe: the feed changes only here, after the last await, all at once.
            if let Some((seq, _)) = read.last() {
                feed.last = *seq;
            }
            feed.read.extend(read.into_iter().map(|(_, entry)| entry));
        }
    }

    async fn purge(&self, now: SystemTime) -> Result<u64, StoreError> {
        self.ready().await?;
        let purged = self.purge(true, seconds(now)).await?;
        // Announcements past their minute, on the system clock.
        self.purge(false, seconds(SystemTime::now())).await?;
        Ok(purged)
    }
}

fn corrupt(e: sqlx::Error) -> StoreError {
    StoreError::corrupt(format!("a revocation log row: {e}"))
}
