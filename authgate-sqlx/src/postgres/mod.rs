//! [`PostgresStore`]: logins and revocations in PostgreSQL.

mod revocations;

use std::fmt::Write as _;
use std::sync::Arc;

use authgate::store::StoreError;
use sqlx::postgres::{PgPool, PgPoolOptions, PgQueryResult, Postgres};
use tokio::sync::OnceCell;

use crate::logins::{self, Dialect, Logins, login_store, unavailable};
use crate::tables::Tables;

pub use revocations::PostgresFeed;
use revocations::RevocationSql;

/// Logins and revocations in PostgreSQL, for apps that run several instances.
///
/// - **Logins** (sessions and refresh families) are rows of one table, `authgate_logins`,
///   keyed by the SHA-256 of their secret id and indexed by subject and by end. A refresh
///   token's rotation is one conditional `UPDATE`: of two concurrent rotations, the second
///   waits for the first's row lock, then finds the token changed.
/// - **Revocations** are rows of `authgate_revocations`, indexed by the time until which they
///   matter, announced with `pg_notify` on the channel of the table's name in the same
///   transaction as the insert: PostgreSQL delivers a notification only when its transaction
///   commits, and in commit order, so no instance misses a stored revocation. A feed is a
///   `LISTEN` on its own connection of the pool.
///
/// The tables are created on first use (or by [`create_tables`](Self::create_tables)), under
/// an advisory lock so that instances starting at once do not race;
/// [`with_table`](Self::with_table) names them after another base. Clones share the pool.
///
/// ```no_run
/// use authgate::revocation::Revocations;
/// use authgate::sessions::Sessions;
/// use authgate::tokens::RefreshTokens;
/// use authgate_sqlx::PostgresStore;
///
/// # async fn demo() -> Result<(), authgate::store::StoreError> {
/// let store = PostgresStore::connect("postgres://app@127.0.0.1/app").await?;
/// let sessions = Sessions::server_side("__Host-session", store.clone());
/// let refresh = RefreshTokens::new(store.clone());
/// let revocations = Revocations::new(store);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    tables: Tables,
    logins: Logins<Postgres>,
    revocations: Arc<RevocationSql>,
    /// Set once the tables exist: shared by clones, new for other tables.
    created: Arc<OnceCell<()>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("logins", &self.tables.logins)
            .field("revocations", &self.tables.revocations)
            .finish_non_exhaustive()
    }
}

/// PostgreSQL numbers its placeholders (`$1`, `$2`, ...); `BIGINT` is 64 bits.
impl Dialect for Postgres {
    const SECONDS: &'static str = "BIGINT";

    fn placeholders(sql: &str) -> String {
        let mut numbered = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                let _ = write!(numbered, "${n}");
            } else {
                numbered.push(c);
            }
        }
        numbered
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }
}

login_store!(PostgresStore);

impl PostgresStore {
    /// Uses an existing pool and the tables `authgate_logins` and `authgate_revocations`,
    /// created on first use if missing. Each open revocation feed holds one of the pool's
    /// connections.
    pub fn new(pool: PgPool) -> Self {
        Self::with_tables(pool, Tables::default())
    }

    /// Connects to `url` with a pool of up to 10 connections (each open revocation feed holds
    /// one of them).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(url)
            .await
            .map_err(unavailable)?;
        Ok(Self::new(pool))
    }

    /// Names the tables after `base`: `{base}_logins` and `{base}_revocations` (`base`: at
    /// most 44 lower-case letters, digits and `_`, starting with a letter, so that every name
    /// derived from it fits PostgreSQL's 63 bytes). One base per app sharing a database, or
    /// per test. The revocation table's name is also the `NOTIFY` channel.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] if `base` is not such a name.
    pub fn with_table(self, base: &str) -> Result<Self, StoreError> {
        Ok(Self::with_tables(self.pool, Tables::new(base)?))
    }

    /// Creates the tables now if they are missing, instead of on first use: to find a wrong
    /// URL or a missing privilege at startup.
    pub async fn create_tables(&self) -> Result<(), StoreError> {
        self.ready().await
    }

    fn with_tables(pool: PgPool, tables: Tables) -> Self {
        PostgresStore {
            logins: Logins::new(pool.clone(), &tables.logins),
            revocations: Arc::new(RevocationSql::new(&tables.revocations)),
            pool,
            tables,
            created: Arc::new(OnceCell::new()),
        }
    }

    /// Creates the tables the first time it is called (again after a failure).
    async fn ready(&self) -> Result<(), StoreError> {
        self.created
            .get_or_try_init(|| self.create_schema())
            .await
            .copied()
    }

    /// Runs the `CREATE ... IF NOT EXISTS` statements under a transaction-scoped advisory lock
    /// on the base name: PostgreSQL fails one of two concurrent `CREATE TABLE IF NOT EXISTS`
    /// of one table (a unique violation in its catalog), as when two instances start at once.
    async fn create_schema(&self) -> Result<(), StoreError> {
        let schema = format!(
            "{} {}",
            logins::schema::<Postgres>(&self.tables.logins),
            revocations::schema(&self.tables.revocations)
        );
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(&self.tables.base)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(schema))
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(
            Postgres::placeholders("UPDATE t SET a = ?, b = ? WHERE k = ? AND c = ?"),
            "UPDATE t SET a = $1, b = $2 WHERE k = $3 AND c = $4"
        );
        assert_eq!(Postgres::placeholders("SELECT 1"), "SELECT 1");
    }
}
