//! PostgreSQL (sqlx), for apps that run several instances: server-side sessions
//! ([`PostgresStore`]) and the revocations of bearer tokens and stateless cookies
//! ([`PostgresRevocations`], announced with `LISTEN`/`NOTIFY`).

mod revocations;
mod sessions;

pub use revocations::PostgresRevocations;
pub use sessions::PostgresStore;

use sqlx::postgres::PgPool;

use crate::session::StoreError;

/// Checks a table name of a store (lower-case letters, digits and `_`, starting with a
/// letter, at most 48 bytes): it is written into the statements.
fn check_table(table: &str) -> Result<(), StoreError> {
    let valid = table.starts_with(|c: char| c.is_ascii_lowercase())
        && table
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && table.len() <= 48;
    match valid {
        true => Ok(()),
        false => Err(StoreError::new(format!(
            "{table:?} is not a table name: use lower-case letters, digits and _"
        ))),
    }
}

/// Runs a store's `CREATE .. IF NOT EXISTS` statements under a transaction-scoped advisory
/// lock on the table's name: two instances starting at once would otherwise race, and
/// PostgreSQL fails one of two concurrent `CREATE TABLE IF NOT EXISTS` of the same table.
async fn create_schema(pool: &PgPool, table: &str, schema: String) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(StoreError::from_error)?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(table)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_error)?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(schema))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_error)?;
    tx.commit().await.map_err(StoreError::from_error)
}
