//! [`PostgresStore`] as a [`RevocationStore`]: a table, announced with `NOTIFY` and followed
//! with `LISTEN`.

use std::sync::Arc;
use std::time::SystemTime;

use authgate::store::{RevocationStore, StoreError};
use sqlx::postgres::PgListener;
use sqlx::{AssertSqlSafe, Row};

use super::PostgresStore;
use crate::logins::unavailable;
use crate::time::seconds;

/// The `CREATE ... IF NOT EXISTS` statements of the revocation table `table`.
pub(super) fn schema(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (
             entry TEXT PRIMARY KEY NOT NULL,
             until BIGINT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS {table}_until ON {table} (until);"
    )
}

/// The statements of one revocation table, and its channel (`Arc<str>`: sqlx takes them
/// without copying).
#[derive(Debug)]
pub(super) struct RevocationSql {
    /// The `NOTIFY` channel: the table's name.
    channel: String,
    /// An entry revoked twice is kept until the later of its two ends.
    insert: Arc<str>,
    load: Arc<str>,
    purge: Arc<str>,
}

impl RevocationSql {
    pub(super) fn new(table: &str) -> RevocationSql {
        RevocationSql {
            channel: table.to_owned(),
            insert: format!(
                "INSERT INTO {table} AS r (entry, until) VALUES ($1, $2)
                 ON CONFLICT (entry) DO UPDATE SET until = GREATEST(r.until, EXCLUDED.until)"
            )
            .into(),
            load: format!("SELECT entry FROM {table} WHERE until > $1").into(),
            purge: format!("DELETE FROM {table} WHERE until <= $1").into(),
        }
    }
}

/// An open feed of a [`PostgresStore`]: a `LISTEN` on a connection of its own. Read it with
/// [`RevocationStore::next`].
pub struct PostgresFeed(PgListener);

impl std::fmt::Debug for PostgresFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PostgresFeed").finish_non_exhaustive()
    }
}

impl PostgresStore {
    async fn notify(
        &self,
        executor: impl sqlx::PgExecutor<'_>,
        payload: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&self.revocations.channel)
            .bind(payload)
            .execute(executor)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

impl RevocationStore for PostgresStore {
    type Feed = PostgresFeed;

    async fn revoke(&self, entry: &str, until: SystemTime) -> Result<(), StoreError> {
        self.ready().await?;
        // Kept and announced in one transaction: the notification goes out at the commit,
        // after the row is visible to every `load`.
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        sqlx::query(AssertSqlSafe(Arc::clone(&self.revocations.insert)))
            .bind(entry)
            .bind(seconds(until))
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        self.notify(&mut *tx, entry).await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn entries(&self, now: SystemTime) -> Result<Vec<String>, StoreError> {
        self.ready().await?;
        let rows = sqlx::query(AssertSqlSafe(Arc::clone(&self.revocations.load)))
            .bind(seconds(now))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter()
            .map(|row| {
                row.try_get(0)
                    .map_err(|e| StoreError::corrupt(format!("a revocation row: {e}")))
            })
            .collect()
    }

    async fn announce(&self, message: &str) -> Result<(), StoreError> {
        self.notify(&self.pool, message).await
    }

    async fn subscribe(&self) -> Result<PostgresFeed, StoreError> {
        self.ready().await?;
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(unavailable)?;
        // A lost connection ends the feed (authgate subscribes again and reloads): no use
        // reconnecting this listener first.
        listener.eager_reconnect(false);
        // Returns once the server ran `LISTEN`: what is notified from now on is delivered.
        listener
            .listen(&self.revocations.channel)
            .await
            .map_err(unavailable)?;
        Ok(PostgresFeed(listener))
    }

    async fn next(&self, feed: &mut PostgresFeed) -> Result<String, StoreError> {
        // `try_recv`, not `recv`: `recv` reconnects on its own and silently drops what was
        // notified meanwhile; a lost connection must end the feed. Cancel-safe: a notification
        // is taken from the connection's buffer only when it is returned.
        match feed.0.try_recv().await.map_err(unavailable)? {
            Some(notification) => Ok(notification.payload().to_owned()),
            None => Err(StoreError::unavailable(
                "PostgreSQL revocation feed connection lost",
            )),
        }
    }

    async fn purge(&self, now: SystemTime) -> Result<u64, StoreError> {
        self.ready().await?;
        let done = sqlx::query(AssertSqlSafe(Arc::clone(&self.revocations.purge)))
            .bind(seconds(now))
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected())
    }
}
