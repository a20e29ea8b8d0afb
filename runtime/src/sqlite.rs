//! A [`SessionStore`] on SQLite (sqlx), for apps with an embedded database.

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{Row, sqlite::SqliteRow};

use crate::session::{SessionRecord, SessionStore, StoreError};
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

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS authgate_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    roles TEXT NOT NULL,
    scopes TEXT NOT NULL,
    claims TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS authgate_sessions_subject ON authgate_sessions (subject);
";

impl SqliteStore {
    /// Uses an existing pool; creates the table if it is missing.
    pub async fn new(pool: SqlitePool) -> Result<Self, StoreError> {
        sqlx::raw_sql(SCHEMA)
            .execute(&pool)
            .await
            .map_err(StoreError::from_error)?;
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

    /// Deletes sessions whose absolute lifetime ended before `now`; returns how many.
    pub async fn delete_expired(&self, now: u64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM authgate_sessions WHERE expires_at <= ?")
            .bind(now as i64)
            .execute(&self.pool)
            .await
            .map_err(StoreError::from_error)?;
        Ok(done.rows_affected())
    }
}

fn record(row: &SqliteRow) -> Result<SessionRecord, StoreError> {
    let list = |column: &str| -> Result<Vec<String>, StoreError> {
        let text: String = row.try_get(column).map_err(StoreError::from_error)?;
        serde_json::from_str(&text).map_err(StoreError::from_error)
    };
    let int = |column: &str| -> Result<u64, StoreError> {
        let value: i64 = row.try_get(column).map_err(StoreError::from_error)?;
        u64::try_from(value).map_err(StoreError::from_error)
    };
    Ok(SessionRecord {
        id: row.try_get("id").map_err(StoreError::from_error)?,
        subject: row.try_get("subject").map_err(StoreError::from_error)?,
        roles: list("roles")?,
        scopes: list("scopes")?,
        claims: row.try_get("claims").map_err(StoreError::from_error)?,
        created_at: int("created_at")?,
        last_seen: int("last_seen")?,
        expires_at: int("expires_at")?,
    })
}

impl SessionStore for SqliteStore {
    fn load(&self, id: &str) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
        let id = id.to_owned();
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM authgate_sessions WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            row.as_ref().map(record).transpose()
        })
    }

    fn save(&self, record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        let record = record.clone();
        Box::pin(async move {
            let roles = serde_json::to_string(&record.roles).map_err(StoreError::from_error)?;
            let scopes = serde_json::to_string(&record.scopes).map_err(StoreError::from_error)?;
            sqlx::query(
                "INSERT INTO authgate_sessions
                     (id, subject, roles, scopes, claims, created_at, last_seen, expires_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen",
            )
            .bind(record.id)
            .bind(record.subject)
            .bind(roles)
            .bind(scopes)
            .bind(record.claims)
            .bind(record.created_at as i64)
            .bind(record.last_seen as i64)
            .bind(record.expires_at as i64)
            .execute(&self.pool)
            .await
            .map_err(StoreError::from_error)?;
            Ok(())
        })
    }

    fn delete(&self, id: &str) -> BoxFuture<'_, Result<(), StoreError>> {
        let id = id.to_owned();
        Box::pin(async move {
            sqlx::query("DELETE FROM authgate_sessions WHERE id = ?")
                .bind(id)
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
}
