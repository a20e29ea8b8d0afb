//! [`PostgresStore`]: server-side sessions in a PostgreSQL table.

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row};

use crate::session::refresh::{RefreshFamily, RefreshStore};
use crate::session::{
    SessionKey, SessionRecord, SessionStore, SqlRow, StoreError, list_as_json, sql_seconds,
};
use crate::verify::BoxFuture;

/// Server-side sessions in a PostgreSQL table (default `authgate_sessions`), keyed by the
/// hash of the session id, indexed by user (one `DELETE` revokes a user) and by expiry (the
/// Gate's background purge); refresh token families in the table of the same name with
/// `_refresh` appended, created when the store is opened (also beside the session table of an
/// earlier authgate).
///
/// ```no_run
/// use authgate::PostgresStore;
/// # async fn demo() -> Result<(), authgate::StoreError> {
/// let store = PostgresStore::connect("postgres://app@127.0.0.1/app").await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
    queries: Queries,
}

/// The statements of one table.
#[derive(Clone, Debug)]
struct Queries {
    create: String,
    load: String,
    touch: String,
    delete: String,
    delete_user: String,
    purge: String,
    family_create: String,
    family_load: String,
    family_rotate: String,
    family_delete: String,
    family_delete_user: String,
    family_purge: String,
}

impl PostgresStore {
    /// Uses an existing pool and the table `authgate_sessions`, created if missing.
    pub async fn new(pool: PgPool) -> Result<Self, StoreError> {
        Self::with_table(pool, "authgate_sessions").await
    }

    /// Connects to `url` (a pool of up to 8 connections) and uses `authgate_sessions`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect(url)
            .await
            .map_err(StoreError::from_error)?;
        Self::new(pool).await
    }

    /// Uses the table `table` (letters, digits and `_`, starting with a letter; at most 44
    /// bytes; not ending in `_refresh`, the name of another store's refresh table) and
    /// `{table}_refresh`, created if missing: one table per app, or per test run.
    pub async fn with_table(pool: PgPool, table: &str) -> Result<Self, StoreError> {
        super::check_table(table)?;
        if table.ends_with("_refresh") {
            return Err(StoreError::new(format!(
                "{table:?} is the refresh table of the session table {:?}: choose another name",
                table.trim_end_matches("_refresh")
            )));
        }
        let schema = format!(
            "CREATE TABLE IF NOT EXISTS {table} (
                 key TEXT PRIMARY KEY NOT NULL,
                 subject TEXT NOT NULL,
                 roles TEXT NOT NULL,
                 scopes TEXT NOT NULL,
                 claims TEXT NOT NULL,
                 created_at BIGINT NOT NULL,
                 last_seen BIGINT NOT NULL,
                 expires_at BIGINT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS {table}_subject ON {table} (subject);
             CREATE INDEX IF NOT EXISTS {table}_expires_at ON {table} (expires_at);
             CREATE TABLE IF NOT EXISTS {table}_refresh (
                 key TEXT PRIMARY KEY NOT NULL,
                 current TEXT NOT NULL,
                 subject TEXT NOT NULL,
                 roles TEXT NOT NULL,
                 scopes TEXT NOT NULL,
                 claims TEXT NOT NULL,
                 created_at BIGINT NOT NULL,
                 last_used BIGINT NOT NULL,
                 expires_at BIGINT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS {table}_refresh_subject ON {table}_refresh (subject);
             CREATE INDEX IF NOT EXISTS {table}_refresh_expires_at
                 ON {table}_refresh (expires_at);"
        );
        super::create_schema(&pool, table, schema).await?;
        let queries = Queries {
            create: format!(
                "INSERT INTO {table}
                     (key, subject, roles, scopes, claims, created_at, last_seen, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ),
            load: format!("SELECT * FROM {table} WHERE key = $1"),
            touch: format!("UPDATE {table} SET last_seen = $1 WHERE key = $2"),
            delete: format!("DELETE FROM {table} WHERE key = $1"),
            delete_user: format!("DELETE FROM {table} WHERE subject = $1"),
            purge: format!("DELETE FROM {table} WHERE expires_at <= $1"),
            family_create: format!(
                "INSERT INTO {table}_refresh (key, current, subject, roles, scopes, claims,
                     created_at, last_used, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ),
            family_load: format!("SELECT * FROM {table}_refresh WHERE key = $1"),
            // One row update: a concurrent rotation of the same row waits for this one's
            // commit, then finds `current` changed and updates nothing.
            family_rotate: format!(
                "UPDATE {table}_refresh SET current = $1, last_used = $2
                 WHERE key = $3 AND current = $4"
            ),
            family_delete: format!("DELETE FROM {table}_refresh WHERE key = $1"),
            family_delete_user: format!("DELETE FROM {table}_refresh WHERE subject = $1"),
            family_purge: format!("DELETE FROM {table}_refresh WHERE expires_at <= $1"),
        };
        Ok(PostgresStore { pool, queries })
    }

    fn query<'q>(
        &self,
        sql: &'q str,
    ) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
        sqlx::query(sqlx::AssertSqlSafe(sql))
    }
}

fn record(row: &PgRow) -> Result<SessionRecord, StoreError> {
    let key: String = row.try_get("key").map_err(StoreError::from_error)?;
    SessionRecord::from_fields(SessionKey::parse_stored(&key)?, &SqlRow(row))
}

impl SessionStore for PostgresStore {
    fn create(&self, record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        let record = record.clone();
        Box::pin(async move {
            let (roles, scopes) = record.lists_as_json()?;
            self.query(&self.queries.create)
                .bind(record.key.as_str())
                .bind(&record.subject)
                .bind(roles)
                .bind(scopes)
                .bind(&record.claims)
                .bind(sql_seconds(record.created_at))
                .bind(sql_seconds(record.last_seen))
                .bind(sql_seconds(record.expires_at))
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(())
        })
    }

    fn load(&self, key: &SessionKey) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
        let key = *key;
        Box::pin(async move {
            let row = self
                .query(&self.queries.load)
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
            let done = self
                .query(&self.queries.touch)
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
            self.query(&self.queries.delete)
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
            let done = self
                .query(&self.queries.delete_user)
                .bind(subject)
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(done.rows_affected())
        })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let done = self
                .query(&self.queries.purge)
                .bind(sql_seconds(now))
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(done.rows_affected())
        })
    }
}

fn family(row: &PgRow) -> Result<RefreshFamily, StoreError> {
    let key: String = row.try_get("key").map_err(StoreError::from_error)?;
    RefreshFamily::from_fields(SessionKey::parse_stored(&key)?, &SqlRow(row))
}

impl RefreshStore for PostgresStore {
    fn create_family(&self, family: &RefreshFamily) -> BoxFuture<'_, Result<(), StoreError>> {
        let family = family.clone();
        Box::pin(async move {
            self.query(&self.queries.family_create)
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
            let row = self
                .query(&self.queries.family_load)
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
            let done = self
                .query(&self.queries.family_rotate)
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
            self.query(&self.queries.family_delete)
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
            let done = self
                .query(&self.queries.family_delete_user)
                .bind(subject)
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(done.rows_affected())
        })
    }

    fn purge_expired_families(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let done = self
                .query(&self.queries.family_purge)
                .bind(sql_seconds(now))
                .execute(&self.pool)
                .await
                .map_err(StoreError::from_error)?;
            Ok(done.rows_affected())
        })
    }
}
