//! [`SqliteStore`]: server-side sessions in a SQLite table.

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{Row, sqlite::SqliteRow};

use crate::session::refresh::{RefreshFamily, RefreshStore};
use crate::session::{
    SessionKey, SessionRecord, SessionStore, SqlRow, StoreError, list_as_json, sql_seconds,
};
use crate::verify::BoxFuture;

/// Server-side sessions in a SQLite table (`authgate_sessions`, indexed by user for
/// revocation), and refresh token families in `authgate_refresh_families` (created when the
/// store is opened, also on a database of an earlier authgate). Share the app's pool, or open
/// a file of its own.
///
/// ```no_run
/// use authgate::SqliteStore;
/// # async fn demo() -> Result<(), authgate::StoreError> {
/// let store = SqliteStore::open("sessions.db").await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

/// The tables, keyed by the hash of the session id or refresh family id (see [`SessionKey`]).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS authgate_sessions (
    key TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    roles TEXT NOT NULL,
    scopes TEXT NOT NULL,
    claims TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS authgate_sessions_subject ON authgate_sessions (subject);
CREATE INDEX IF NOT EXISTS authgate_sessions_expires_at ON authgate_sessions (expires_at);
CREATE TABLE IF NOT EXISTS authgate_refresh_families (
    key TEXT PRIMARY KEY NOT NULL,
    current TEXT NOT NULL,
    subject TEXT NOT NULL,
    roles TEXT NOT NULL,
    scopes TEXT NOT NULL,
    claims TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS authgate_refresh_families_subject
    ON authgate_refresh_families (subject);
CREATE INDEX IF NOT EXISTS authgate_refresh_families_expires_at
    ON authgate_refresh_families (expires_at);
";

impl SqliteStore {
    /// Uses an existing pool; creates the tables if they are missing, and moves a table of an
    /// earlier authgate (keyed by the session ids themselves) to hashed keys.
    pub async fn new(pool: SqlitePool) -> Result<Self, StoreError> {
        let mut tx = pool.begin().await.map_err(StoreError::from_error)?;
        let keyed_by_id =
            sqlx::query("SELECT 1 FROM pragma_table_info('authgate_sessions') WHERE name = 'id'")
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::from_error)?
                .is_some();
        if keyed_by_id {
            sqlx::raw_sql(
                "ALTER TABLE authgate_sessions RENAME TO authgate_sessions_by_id;
                 DROP INDEX IF EXISTS authgate_sessions_subject;",
            )
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_error)?;
        }
        sqlx::raw_sql(SCHEMA)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_error)?;
        if keyed_by_id {
            let rows = sqlx::query("SELECT * FROM authgate_sessions_by_id")
                .fetch_all(&mut *tx)
                .await
                .map_err(StoreError::from_error)?;
            for row in &rows {
                let id: String = row.try_get("id").map_err(StoreError::from_error)?;
                let record = SessionRecord::from_fields(SessionKey::of(&id), &SqlRow(row))?;
                insert(&mut *tx, &record).await?;
            }
            sqlx::query("DROP TABLE authgate_sessions_by_id")
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_error)?;
            tracing::info!(target: "authgate", sessions = rows.len(),
                "session table moved to hashed keys");
        }
        tx.commit().await.map_err(StoreError::from_error)?;
        Ok(SqliteStore { pool })
    }

    /// Opens (or creates) a database file and the tables.
    pub async fn open(path: impl AsRef<std::path::Path>) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .map_err(StoreError::from_error)?;
        Self::new(pool).await
    }
}

fn record(row: &SqliteRow) -> Result<SessionRecord, StoreError> {
    let key: String = row.try_get("key").map_err(StoreError::from_error)?;
    SessionRecord::from_fields(SessionKey::parse_stored(&key)?, &SqlRow(row))
}

async fn insert<'e>(
    executor: impl sqlx::SqliteExecutor<'e>,
    record: &SessionRecord,
) -> Result<(), StoreError> {
    let (roles, scopes) = record.lists_as_json()?;
    sqlx::query(
        "INSERT INTO authgate_sessions
             (key, subject, roles, scopes, claims, created_at, last_seen, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(record.key.as_str())
    .bind(&record.subject)
    .bind(roles)
    .bind(scopes)
    .bind(&record.claims)
    .bind(sql_seconds(record.created_at))
    .bind(sql_seconds(record.last_seen))
    .bind(sql_seconds(record.expires_at))
    .execute(executor)
    .await
    .map_err(StoreError::from_error)?;
    Ok(())
}

impl SessionStore for SqliteStore {
    fn create(&self, record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        let record = record.clone();
        Box::pin(async move { insert(&self.pool, &record).await })
    }

    fn load(&self, key: &SessionKey) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
        let key = *key;
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM authgate_sessions WHERE key = ?")
                .bind(key.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            row.as_ref().map(record).transpose()
        })
    }

    fn touch(&self, key: &SessionKey, last_seen: u64) -> BoxFuture<'_, Result<bool, StoreError>> {
        let key = *key;
        Box::pin(async move {
            let done = sqlx::query("UPDATE authgate_sessions SET last_seen = ? WHERE key = ?")
                .bind(sql_seconds(last_seen))
                .bind(key.as_str())
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn delete(&self, key: &SessionKey) -> BoxFuture<'_, Result<(), StoreError>> {
        let key = *key;
        Box::pin(async move {
            sqlx::query("DELETE FROM authgate_sessions WHERE key = ?")
                .bind(key.as_str())
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(())
        })
    }

    fn delete_user(&self, subject: &str) -> BoxFuture<'_, Result<u64, StoreError>> {
        let subject = subject.to_owned();
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM authgate_sessions WHERE subject = ?")
                .bind(subject)
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(done.rows_affected())
        })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM authgate_sessions WHERE expires_at <= ?")
                .bind(sql_seconds(now))
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(done.rows_affected())
        })
    }
}

fn family(row: &SqliteRow) -> Result<RefreshFamily, StoreError> {
    let key: String = row.try_get("key").map_err(StoreError::from_error)?;
    RefreshFamily::from_fields(SessionKey::parse_stored(&key)?, &SqlRow(row))
}

impl RefreshStore for SqliteStore {
    fn create_family(&self, family: &RefreshFamily) -> BoxFuture<'_, Result<(), StoreError>> {
        let family = family.clone();
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO authgate_refresh_families (key, current, subject, roles, scopes,
                     claims, created_at, last_used, expires_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(family.key.as_str())
            .bind(family.current.as_str())
            .bind(&family.subject)
            .bind(list_as_json(&family.roles)?)
            .bind(list_as_json(&family.scopes)?)
            .bind(&family.claims)
            .bind(sql_seconds(family.created_at))
            .bind(sql_seconds(family.last_used))
            .bind(sql_seconds(family.expires_at))
            .execute(&self.pool)
            .await
            .map_err(StoreError::from_error)?;
            Ok(())
        })
    }

    fn load_family(
        &self,
        key: &SessionKey,
    ) -> BoxFuture<'_, Result<Option<RefreshFamily>, StoreError>> {
        let key = *key;
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM authgate_refresh_families WHERE key = ?")
                .bind(key.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            row.as_ref().map(family).transpose()
        })
    }

    fn rotate_family(
        &self,
        key: &SessionKey,
        presented: &SessionKey,
        next: &SessionKey,
        now: u64,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let (key, presented, next) = (*key, *presented, *next);
        Box::pin(async move {
            // One statement: SQLite runs it under the database's write lock, so of two
            // rotations of the same token only the first finds `current` unchanged.
            let done = sqlx::query(
                "UPDATE authgate_refresh_families SET current = ?, last_used = ?
                 WHERE key = ? AND current = ?",
            )
            .bind(next.as_str())
            .bind(sql_seconds(now))
            .bind(key.as_str())
            .bind(presented.as_str())
            .execute(&self.pool)
            .await
            .map_err(StoreError::from_error)?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn delete_family(&self, key: &SessionKey) -> BoxFuture<'_, Result<(), StoreError>> {
        let key = *key;
        Box::pin(async move {
            sqlx::query("DELETE FROM authgate_refresh_families WHERE key = ?")
                .bind(key.as_str())
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(())
        })
    }

    fn delete_user_families(&self, subject: &str) -> BoxFuture<'_, Result<u64, StoreError>> {
        let subject = subject.to_owned();
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM authgate_refresh_families WHERE subject = ?")
                .bind(subject)
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(done.rows_affected())
        })
    }

    fn purge_expired_families(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM authgate_refresh_families WHERE expires_at <= ?")
                .bind(sql_seconds(now))
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(done.rows_affected())
        })
    }
}
