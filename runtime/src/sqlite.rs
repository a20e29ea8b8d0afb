//! A [`SessionStore`] on SQLite (sqlx), for apps with an embedded database.

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{Row, sqlite::SqliteRow};

use crate::session::{SessionKey, SessionRecord, SessionStore, StoreError};
use crate::verify::BoxFuture;

/// Server-side sessions in a SQLite table (`authgate_sessions`, indexed by user for
/// revocation). Share the app's pool, or open a file of its own.
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

/// The table, keyed by the hash of the session id (see [`SessionKey`]).
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
";

impl SqliteStore {
    /// Uses an existing pool; creates the table if it is missing, and moves a table of an
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
                let record = record_with(row, SessionKey::of(&id))?;
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

    /// Opens (or creates) a database file and the table.
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
    let key = SessionKey::from_stored(&key)
        .ok_or_else(|| StoreError::new("a session key that is not a SHA-256 in hex"))?;
    record_with(row, key)
}

fn record_with(row: &SqliteRow, key: SessionKey) -> Result<SessionRecord, StoreError> {
    let list = |column: &str| -> Result<Vec<String>, StoreError> {
        let text: String = row.try_get(column).map_err(StoreError::from_error)?;
        serde_json::from_str(&text).map_err(StoreError::from_error)
    };
    let int = |column: &str| -> Result<u64, StoreError> {
        let value: i64 = row.try_get(column).map_err(StoreError::from_error)?;
        u64::try_from(value).map_err(StoreError::from_error)
    };
    Ok(SessionRecord {
        key,
        subject: row.try_get("subject").map_err(StoreError::from_error)?,
        roles: list("roles")?,
        scopes: list("scopes")?,
        claims: row.try_get("claims").map_err(StoreError::from_error)?,
        created_at: int("created_at")?,
        last_seen: int("last_seen")?,
        expires_at: int("expires_at")?,
    })
}

/// Seconds since the epoch as SQLite's integer (times past `i64::MAX` are stored as it).
fn int(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

async fn insert<'e>(
    executor: impl sqlx::SqliteExecutor<'e>,
    record: &SessionRecord,
) -> Result<(), StoreError> {
    let roles = serde_json::to_string(&record.roles).map_err(StoreError::from_error)?;
    let scopes = serde_json::to_string(&record.scopes).map_err(StoreError::from_error)?;
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
    .bind(int(record.created_at))
    .bind(int(record.last_seen))
    .bind(int(record.expires_at))
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
        let key = key.clone();
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
        let key = key.clone();
        Box::pin(async move {
            let done = sqlx::query("UPDATE authgate_sessions SET last_seen = ? WHERE key = ?")
                .bind(int(last_seen))
                .bind(key.as_str())
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn delete(&self, key: &SessionKey) -> BoxFuture<'_, Result<(), StoreError>> {
        let key = key.clone();
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
                .bind(int(now))
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(done.rows_affected())
        })
    }
}
