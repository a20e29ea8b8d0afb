//! [`SqliteStore`]: logins and revocations in a SQLite database.

mod revocations;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use authgate::store::StoreError;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteQueryResult,
};
use tokio::sync::OnceCell;

use crate::logins::{self, Dialect, Logins, login_store, unavailable};
use crate::tables::Tables;

use revocations::LogSql;
pub use revocations::SqliteFeed;

/// Logins and revocations in a SQLite database, for apps with an embedded database (one
/// machine; any number of processes on the file).
///
/// - **Logins** (sessions and refresh families) are rows of one table, `authgate_logins`,
///   keyed by the SHA-256 of their secret id and indexed by subject and by end.
/// - **Revocations** are an append-only log, `authgate_revocations`, numbered by an
///   `AUTOINCREMENT` sequence (never reused, and committed in order: SQLite has one writer at
///   a time). SQLite has no notifications, so every feed polls the log for rows past the last
///   it read (every 50 ms: [`poll_every`](Self::poll_every)); announcements (authgate's
///   heartbeats) are rows of the log too, kept a minute. Every process on the file sees every
///   revocation, in order.
///
/// The tables are created on first use (or by [`create_tables`](Self::create_tables));
/// [`with_table`](Self::with_table) names them after another base. Clones share the pool.
///
/// ```no_run
/// use authgate::revocation::Revocations;
/// use authgate::sessions::Sessions;
/// use authgate_sqlx::SqliteStore;
///
/// # async fn demo() -> Result<(), authgate::store::StoreError> {
/// let store = SqliteStore::open("logins.db").await?.with_table("myapp")?;
/// store.create_tables().await?;
/// let sessions = Sessions::server_side("__Host-session", store.clone());
/// let revocations = Revocations::new(store);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    tables: Tables,
    logins: Logins<Sqlite>,
    log: Arc<LogSql>,
    poll_every: Duration,
    /// Set once the tables exist: shared by clones, new for other tables.
    created: Arc<OnceCell<()>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("logins", &self.tables.logins)
            .field("revocations", &self.tables.revocations)
            .field("poll_every", &self.poll_every)
            .finish_non_exhaustive()
    }
}

/// SQLite takes `?` placeholders, and `INTEGER` is 64 bits.
impl Dialect for Sqlite {
    const SECONDS: &'static str = "INTEGER";

    fn placeholders(sql: &str) -> String {
        sql.to_owned()
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }
}

login_store!(SqliteStore);

impl SqliteStore {
    /// Uses an existing pool (the app's database) and the tables `authgate_logins` and
    /// `authgate_revocations`, created on first use if missing.
    pub fn new(pool: SqlitePool) -> Self {
        Self::with_tables(pool, Tables::default(), Duration::from_millis(50))
    }

    /// Opens (or creates) the database file `path`, a file of the store's own, in WAL mode
    /// (readers, such as the feeds' polls, do not wait for writers).
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        Ok(Self::new(pool))
    }

    /// Names the tables after `base`: `{base}_logins` and `{base}_revocations` (`base`: at
    /// most 44 lower-case letters, digits and `_`, starting with a letter). One base per app
    /// sharing a database, or per test.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] if `base` is not such a name.
    pub fn with_table(self, base: &str) -> Result<Self, StoreError> {
        Ok(Self::with_tables(
            self.pool,
            Tables::new(base)?,
            self.poll_every,
        ))
    }

    /// How often a feed reads the revocation log (default 50 ms, at least 1 ms): the delay
    /// before a revocation made by another process holds in this one.
    pub fn poll_every(mut self, every: Duration) -> Self {
        self.poll_every = every.max(Duration::from_millis(1));
        self
    }

    /// Creates the tables now if they are missing, instead of on first use: to find a
    /// read-only file or a full disk at startup.
    pub async fn create_tables(&self) -> Result<(), StoreError> {
        self.ready().await
    }

    fn with_tables(pool: SqlitePool, tables: Tables, poll_every: Duration) -> Self {
        SqliteStore {
            logins: Logins::new(pool.clone(), &tables.logins),
            log: Arc::new(LogSql::new(&tables.revocations)),
            pool,
            tables,
            poll_every,
            created: Arc::new(OnceCell::new()),
        }
    }

    /// Creates the tables the first time it is called (again after a failure).
    async fn ready(&self) -> Result<(), StoreError> {
        self.created
            .get_or_try_init(|| async {
                let schema = format!(
                    "{} {}",
                    logins::schema::<Sqlite>(&self.tables.logins),
                    revocations::schema(&self.tables.revocations)
                );
                // In one transaction, both tables or neither; `IMMEDIATE` takes the write lock
                // first (waiting for it), so two processes starting at once do not both read
                // an old schema and then fail to write.
                let mut tx = self
                    .pool
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(unavailable)?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(schema))
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                tx.commit().await.map_err(unavailable)
            })
            .await
            .copied()
    }
}
