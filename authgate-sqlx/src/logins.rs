//! The login table and its statements, written once for both databases: [`Logins`] runs them
//! on any database with a [`Dialect`], and [`login_store!`] makes a store type a
//! [`LoginStore`](authgate::store::LoginStore) with them.
//!
//! One table holds sessions and refresh families alike (`current` is `NULL` for a session):
//!
//! | column | |
//! | --- | --- |
//! | `key TEXT PRIMARY KEY` | the SHA-256 (hex) of the login's secret id |
//! | `subject TEXT` | whose login it is (indexed: `delete_user`) |
//! | `current TEXT NULL` | the SHA-256 (hex) of the refresh token in force |
//! | `last_used`, `expires_at` | seconds since the epoch (`expires_at` indexed: the purge) |
//! | `data TEXT` | the rest, as authgate wrote it |

use std::sync::Arc;

use authgate::store::{LoginRecord, StoreError};
use sqlx::database::Database;
use sqlx::decode::Decode;
use sqlx::encode::Encode;
use sqlx::{AssertSqlSafe, ColumnIndex, Executor, IntoArguments, Pool, Row, Type};

use crate::time::{seconds, time};

/// What differs between the databases, for the statements that do not.
pub(crate) trait Dialect: Database {
    /// The column type of times: a signed 64-bit integer.
    const SECONDS: &'static str;

    /// `sql`, written with `?` placeholders (and no `?` anywhere else), in this database's
    /// placeholder style.
    fn placeholders(sql: &str) -> String;

    /// How many rows a statement changed.
    fn rows_affected(done: &Self::QueryResult) -> u64;
}

/// The statements of one login table, in one database's placeholder style. `Arc<str>`: sqlx
/// takes them without copying.
#[derive(Debug)]
struct LoginSql {
    create: Arc<str>,
    load: Arc<str>,
    touch: Arc<str>,
    rotate: Arc<str>,
    replace_data: Arc<str>,
    delete: Arc<str>,
    delete_user: Arc<str>,
    purge: Arc<str>,
}

impl LoginSql {
    fn new<DB: Dialect>(table: &str) -> LoginSql {
        let sql = |text: String| Arc::from(DB::placeholders(&text));
        LoginSql {
            create: sql(format!(
                "INSERT INTO {table} (key, subject, current, last_used, expires_at, data)
                 VALUES (?, ?, ?, ?, ?, ?)"
            )),
            load: sql(format!(
                "SELECT key, subject, current, last_used, expires_at, data
                 FROM {table} WHERE key = ?"
            )),
            // Update-only: a login deleted meanwhile (a logout, a revocation) stays deleted.
            touch: sql(format!("UPDATE {table} SET last_used = ? WHERE key = ?")),
            // One conditional update: of two rotations of one token, the second runs after
            // the first (the row's write lock in PostgreSQL, the database's in SQLite), finds
            // `current` changed and updates nothing.
            rotate: sql(format!(
                "UPDATE {table} SET current = ?, last_used = ? WHERE key = ? AND current = ?"
            )),
            // The same for session data: of two writes that read the same data, the second
            // finds it changed and updates nothing; a deleted login has no row to update.
            replace_data: sql(format!(
                "UPDATE {table} SET data = ? WHERE key = ? AND data = ?"
            )),
            delete: sql(format!("DELETE FROM {table} WHERE key = ?")),
            delete_user: sql(format!("DELETE FROM {table} WHERE subject = ?")),
            purge: sql(format!("DELETE FROM {table} WHERE expires_at <= ?")),
        }
    }
}

/// The `CREATE ... IF NOT EXISTS` statements of the login table `table`.
pub(crate) fn schema<DB: Dialect>(table: &str) -> String {
    let seconds = DB::SECONDS;
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (
             key TEXT PRIMARY KEY NOT NULL,
             subject TEXT NOT NULL,
             current TEXT,
             last_used {seconds} NOT NULL,
             expires_at {seconds} NOT NULL,
             data TEXT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS {table}_subject ON {table} (subject);
         CREATE INDEX IF NOT EXISTS {table}_expires_at ON {table} (expires_at);"
    )
}

/// A login table on a pool: every [`LoginStore`](authgate::store::LoginStore) call, once.
pub(crate) struct Logins<DB: Database> {
    pool: Pool<DB>,
    sql: Arc<LoginSql>,
}

impl<DB: Database> Clone for Logins<DB> {
    fn clone(&self) -> Self {
        Logins {
            pool: self.pool.clone(),
            sql: Arc::clone(&self.sql),
        }
    }
}

impl<DB: Dialect> Logins<DB> {
    /// The login table `table` on `pool` (not created here: see the stores' `create_tables`).
    pub(crate) fn new(pool: Pool<DB>, table: &str) -> Self {
        Logins {
            pool,
            sql: Arc::new(LoginSql::new::<DB>(table)),
        }
    }
}

/// A driver error: the store did not answer.
pub(crate) fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::unavailable(e)
}

/// A statement run on a pool: the bounds under which sqlx's generic API does so.
impl<DB> Logins<DB>
where
    DB: Dialect,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a str>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
    for<'a> Option<String>: Decode<'a, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    fn query(sql: &Arc<str>) -> sqlx::query::Query<'static, DB, DB::Arguments> {
        sqlx::query(AssertSqlSafe(Arc::clone(sql)))
    }

    pub(crate) async fn create(&self, record: &LoginRecord) -> Result<(), StoreError> {
        Self::query(&self.sql.create)
            .bind(record.key.as_str())
            .bind(record.subject.as_str())
            .bind(record.current.as_deref())
            .bind(seconds(record.last_used))
            .bind(seconds(record.expires_at))
            .bind(record.data.as_str())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub(crate) async fn load(&self, key: &str) -> Result<Option<LoginRecord>, StoreError> {
        let row = Self::query(&self.sql.load)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(record::<DB>).transpose()
    }

    pub(crate) async fn touch(
        &self,
        key: &str,
        last_used: std::time::SystemTime,
    ) -> Result<bool, StoreError> {
        let done = Self::query(&self.sql.touch)
            .bind(seconds(last_used))
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(DB::rows_affected(&done) == 1)
    }

    pub(crate) async fn rotate(
        &self,
        key: &str,
        presented: &str,
        next: &str,
        now: std::time::SystemTime,
    ) -> Result<bool, StoreError> {
        let done = Self::query(&self.sql.rotate)
            .bind(next)
            .bind(seconds(now))
            .bind(key)
            .bind(presented)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(DB::rows_affected(&done) == 1)
    }

    pub(crate) async fn replace_data(
        &self,
        key: &str,
        expected: &str,
        data: &str,
    ) -> Result<bool, StoreError> {
        let done = Self::query(&self.sql.replace_data)
            .bind(data)
            .bind(key)
            .bind(expected)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(DB::rows_affected(&done) == 1)
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), StoreError> {
        Self::query(&self.sql.delete)
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub(crate) async fn delete_user(&self, subject: &str) -> Result<u64, StoreError> {
        let done = Self::query(&self.sql.delete_user)
            .bind(subject)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(DB::rows_affected(&done))
    }

    pub(crate) async fn purge_expired(
        &self,
        now: std::time::SystemTime,
    ) -> Result<u64, StoreError> {
        let done = Self::query(&self.sql.purge)
            .bind(seconds(now))
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(DB::rows_affected(&done))
    }
}

/// A row of the `load` statement as a record; a row that does not read back is corrupt.
fn record<DB>(row: &DB::Row) -> Result<LoginRecord, StoreError>
where
    DB: Database,
    for<'a> i64: Decode<'a, DB> + Type<DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
    for<'a> Option<String>: Decode<'a, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let corrupt = |e: sqlx::Error| StoreError::corrupt(format!("a login row: {e}"));
    Ok(LoginRecord {
        key: row.try_get(0).map_err(corrupt)?,
        subject: row.try_get(1).map_err(corrupt)?,
        current: row.try_get(2).map_err(corrupt)?,
        last_used: time(row.try_get(3).map_err(corrupt)?),
        expires_at: time(row.try_get(4).map_err(corrupt)?),
        data: row.try_get(5).map_err(corrupt)?,
    })
}

/// Implements [`LoginStore`](authgate::store::LoginStore) for a store type with a field
/// `logins: Logins<_>` and a method `ready()` that creates its tables once.
macro_rules! login_store {
    ($store:ty) => {
        impl authgate::store::LoginStore for $store {
            async fn create(
                &self,
                record: &authgate::store::LoginRecord,
            ) -> Result<(), authgate::store::StoreError> {
                self.ready().await?;
                self.logins.create(record).await
            }

            async fn load(
                &self,
                key: &str,
            ) -> Result<Option<authgate::store::LoginRecord>, authgate::store::StoreError> {
                self.ready().await?;
                self.logins.load(key).await
            }

            async fn touch(
                &self,
                key: &str,
                last_used: std::time::SystemTime,
            ) -> Result<bool, authgate::store::StoreError> {
                self.ready().await?;
                self.logins.touch(key, last_used).await
            }

            async fn rotate(
                &self,
                key: &str,
                presented: &str,
                next: &str,
                now: std::time::SystemTime,
            ) -> Result<bool, authgate::store::StoreError> {
                self.ready().await?;
                self.logins.rotate(key, presented, next, now).await
            }

            async fn replace_data(
                &self,
                key: &str,
                expected: &str,
                data: &str,
            ) -> Result<bool, authgate::store::StoreError> {
                self.ready().await?;
                self.logins.replace_data(key, expected, data).await
            }

            async fn delete(&self, key: &str) -> Result<(), authgate::store::StoreError> {
                self.ready().await?;
                self.logins.delete(key).await
            }

            async fn delete_user(&self, subject: &str) -> Result<u64, authgate::store::StoreError> {
                self.ready().await?;
                self.logins.delete_user(subject).await
            }

            async fn purge_expired(
                &self,
                now: std::time::SystemTime,
            ) -> Result<u64, authgate::store::StoreError> {
                self.ready().await?;
                self.logins.purge_expired(now).await
            }
        }
    };
}
pub(crate) use login_store;
