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
/// letter, at most 44 bytes): it is written into the statements, and with the longest name
/// derived from it (`{table}_refresh_expires_at`) stays within PostgreSQL's 63 bytes, which
/// it would otherwise truncate silently.
fn check_table(table: &str) -> Result<(), StoreError> {
    let valid = table.starts_with(|c: char| c.is_ascii_lowercase())
        && table
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && table.len() <= 44;
    match valid {
        true => Ok(()),
        false => Err(StoreError::new(format!(
            "{table:?} is not a table name: use at most 44 lower-case letters, digits and _, \
             starting with a letter"
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

#[cfg(test)]
mod tests {
    use super::check_table;

    #[test]
    fn table_names_are_plain_and_leave_room_for_the_derived_names() {
        for good in ["authgate_sessions", "a", &"a".repeat(44)] {
            assert!(check_table(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1a",
            "_a",
            "Sessions",
            "a-b",
            "a;drop",
            "a b",
            &"a".repeat(45),
        ] {
            assert!(check_table(bad).is_err(), "{bad}");
        }
        // The longest derived name stays within PostgreSQL's 63 bytes.
        assert!(format!("{}_refresh_expires_at", "a".repeat(44)).len() <= 63);
    }
}
