//! The database: SQLite (the zero-setup default) or PostgreSQL (shared by several instances),
//! opening, migrations, the demo users, and every query the app runs.
//!
//! Queries are plain `sqlx::query` with binds (never string formatting), and rows are mapped
//! by hand, so the example needs neither sqlx's macros nor a database at build time.
//!
//! **Two databases, each query once.** A [`Db`] holds the pool of either backend ([`Pool`]),
//! and `on_pool!` runs one piece of code on whichever it is: the macro writes the code into
//! both arms of a `match`, so each arm is compiled against its own driver. The SQL is shared,
//! since both read `$1` binds, `RETURNING`, `ON CONFLICT .. DO NOTHING` and `ON DELETE
//! CASCADE`. Only the schema differs, with its own migrations per backend
//! (`migrations/sqlite/`, `migrations/postgres/`).
//!
//! **One spelling of an email.** [`normalize_email`] is the only rule: emails are stored
//! normalised, the lookup compares the stored text with the normalised input (plain `=`, no
//! SQL case folding, whose rules differ between the databases and from Rust's), and the login
//! limit counts attempts per normalised email. So the account a login reaches and the quota
//! it spends are always the same one.
//!
//! Not sqlx's `Any` driver: authgate-sqlx's `SqliteStore` and `PostgresStore` take the
//! concrete pool, so `Any` would mean a second pool on the same database (for `:memory:`, a
//! second and empty database), and an `AnyConnectOptions` is only a URL, which does not carry
//! the SQLite settings below (WAL, the busy timeout, one connection for `:memory:`). Not a
//! generic `Db<DB: sqlx::Database>` either: every function would carry sqlx's encode, decode
//! and executor bounds for each type it binds or reads.

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sqlx::migrate::{MigrateError, Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{ColumnIndex, Connection, Decode, Row, SqlSafeStr, Type};

/// The demo accounts seeded on first start: email, password, roles.
pub const DEMO_USERS: [(&str, &str, &str); 3] = [
    ("alice@example.com", "alice-password", "user"),
    ("bob@example.com", "bob-password", "user"),
    ("admin@example.com", "admin-password", "admin"),
];

/// A user as the API shows it: never the password hash.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub roles: Vec<String>,
}

/// An invoice. `user_id` is its owner, checked by `#[owned_by(invoice.user_id)]`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Invoice {
    pub id: i64,
    pub user_id: i64,
    pub amount_cents: i64,
    pub description: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
}

/// Which database to open, as chosen at start (`--db`, `INVOICES_DATABASE_URL`).
#[derive(Clone, Debug)]
pub enum Database {
    /// A SQLite file (created if missing), or `:memory:` for a private, throw-away database.
    Sqlite(String),
    /// A PostgreSQL server, which several instances can share.
    Postgres(ServerUrl),
}

/// A server's URL (`postgres://..`, `redis://..`). It may carry a password, so it is never
/// printed: its `Debug` shows the scheme only.
#[derive(Clone)]
pub struct ServerUrl(String);

impl ServerUrl {
    pub fn new(url: impl Into<String>) -> ServerUrl {
        ServerUrl(url.into())
    }

    /// The whole URL, password included: for connecting only.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = self.0.split_once("://").map_or("?", |(scheme, _)| scheme);
        write!(f, "ServerUrl({scheme}://..)")
    }
}

/// The pool of one backend. The session store is built on the same pool (see
/// `app::Backends`).
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which backend a [`Db`] is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The one form of an email the app stores, looks up and rate-limits: surrounding white space
/// trimmed, Unicode compatibility forms folded (NFKC: a full-width `ａ` is `a`), and Unicode
/// lower case (`ALICE` is `alice`; `İ` lower-cases to `i` followed by a combining dot, so
/// `alİce` is not `alice`). Applied until it changes nothing more, so it is idempotent: a
/// stored email normalises to itself.
pub fn normalize_email(email: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    let mut email = email.trim().to_owned();
    // Lower-casing can undo NFKC and NFKC can bring back upper case (`ℌ` is `H`); a few
    // rounds reach the fixed point for every character.
    for _ in 0..4 {
        let next: String = email.nfkc().collect::<String>().to_lowercase();
        let next = next.trim().to_owned();
        if next == email {
            break;
        }
        email = next;
    }
    email
}

/// Runs `$body` with `$pool` bound to the pool of `$pools` (a `&Pool`), whichever backend it
/// is. The body is written once; the `match` compiles it once per backend, each against its
/// own driver.
macro_rules! on_pool {
    ($pools:expr, |$pool:ident| $body:expr) => {
        match $pools {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

/// The one insert of a user, bound in column order, for any executor (the pool, or the
/// seeding transaction); it returns the new id.
macro_rules! insert_user {
    ($email:expr, $password_hash:expr, $roles:expr) => {
        sqlx::query(
            "INSERT INTO users (email, password_hash, roles) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(normalize_email($email))
        .bind($password_hash)
        .bind(serde_json::json!($roles).to_string())
    };
}

/// The user whose stored (normalised) email is `$1`, a normalised email.
const USER_BY_EMAIL: &str = "SELECT id, email, roles, password_hash FROM users WHERE email = $1";

/// The demo users' fact, claimed by the first start that seeds them (see `seed_demo_users`).
const CLAIM_DEMO_SEED: &str = "INSERT INTO facts (name, value) VALUES ('demo_users_seeded', 'yes')
     ON CONFLICT (name) DO NOTHING";

/// A validated new invoice (see `handlers::NewInvoice::validate`).
pub struct NewInvoice {
    pub amount_cents: i64,
    pub description: String,
}

/// The database handle in the app state; cheap to clone (a pool).
#[derive(Clone, Debug)]
pub struct Db {
    pool: Pool,
}

impl Db {
    /// Opens the database and brings its schema up to date. SQLite: the file at the path
    /// (created if needed), or a private in-memory database for `:memory:`. PostgreSQL: a
    /// pool on the server, whose migrations take sqlx's advisory lock, so instances starting
    /// at once migrate one after the other.
    pub async fn open(database: &Database) -> Result<Db, OpenError> {
        let pool = match database {
            Database::Sqlite(path) => Pool::Sqlite(open_sqlite(path).await?),
            Database::Postgres(url) => Pool::Postgres(open_postgres(url).await?),
        };
        let migrator = Migrator::with_migrations(migrations(pool.backend()));
        on_pool!(&pool, |pool| migrator.run(pool).await?);
        Ok(Db { pool })
    }

    /// The pool, for the session store that shares this database.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        on_pool!(&self.pool, |pool| pool.close().await);
    }

    /// Whether the demo users were seeded before (in this database, by any start).
    pub async fn demo_users_seeded(&self) -> Result<bool, sqlx::Error> {
        on_pool!(&self.pool, |pool| {
            let row = sqlx::query("SELECT 1 FROM facts WHERE name = 'demo_users_seeded'")
                .fetch_optional(pool)
                .await?;
            Ok(row.is_some())
        })
    }

    /// Inserts the demo users with their password hashes, and records that it did, in one
    /// transaction; `hashes` follows the order of [`DEMO_USERS`]. `false` when an earlier
    /// start, or another instance starting at the same moment, seeded them: the record is
    /// claimed first with `ON CONFLICT DO NOTHING`, so the second of two concurrent seedings
    /// waits for the first to commit, then inserts nothing and does not fail.
    pub async fn seed_demo_users(&self, hashes: &[String]) -> Result<bool, sqlx::Error> {
        on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            let claimed = sqlx::query(CLAIM_DEMO_SEED).execute(&mut *tx).await?;
            if claimed.rows_affected() == 0 {
                return Ok(false); // dropping `tx` rolls it back
            }
            for ((email, _, role), hash) in DEMO_USERS.iter().zip(hashes) {
                insert_user!(email, hash, [role]).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Creates a user, its email stored normalised; returns the new id, which no earlier user
    /// ever had.
    pub async fn create_user(
        &self,
        email: &str,
        password_hash: &str,
        roles: &[&str],
    ) -> Result<i64, sqlx::Error> {
        on_pool!(&self.pool, |pool| {
            let row = insert_user!(email, password_hash, roles)
                .fetch_one(pool)
                .await?;
            row.int("id")
        })
    }

    /// The user with this email, as [`normalize_email`] spells it, and their password hash.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>, sqlx::Error> {
        let email = normalize_email(email);
        on_pool!(&self.pool, |pool| {
            let row = sqlx::query(USER_BY_EMAIL)
                .bind(&email)
                .fetch_optional(pool)
                .await?;
            row.map(|row| Ok((user(&row)?, row.text("password_hash")?)))
                .transpose()
        })
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>, sqlx::Error> {
        on_pool!(&self.pool, |pool| {
            let row = sqlx::query("SELECT id, email, roles FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(user).transpose()
        })
    }

    pub async fn users(&self) -> Result<Vec<User>, sqlx::Error> {
        on_pool!(&self.pool, |pool| {
            let rows = sqlx::query("SELECT id, email, roles FROM users ORDER BY id")
                .fetch_all(pool)
                .await?;
            rows.iter().map(user).collect()
        })
    }

    /// Deletes a user and (by the foreign key) their invoices. `false`: no such user.
    pub async fn delete_user(&self, id: i64) -> Result<bool, sqlx::Error> {
        on_pool!(&self.pool, |pool| {
            let done = sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// The invoices of one user, newest first.
    pub async fn invoices_of(&self, user_id: i64) -> Result<Vec<Invoice>, sqlx::Error> {
        on_pool!(&self.pool, |pool| {
            let rows = sqlx::query(
                "SELECT id, user_id, amount_cents, description, created_at
                 FROM invoices WHERE user_id = $1 ORDER BY id DESC",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?;
            rows.iter().map(invoice).collect()
        })
    }

    pub async fn invoice(&self, id: i64) -> Result<Option<Invoice>, sqlx::Error> {
        on_pool!(&self.pool, |pool| {
            let row = sqlx::query(
                "SELECT id, user_id, amount_cents, description, created_at
                 FROM invoices WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?;
            row.as_ref().map(invoice).transpose()
        })
    }

    /// Creates an invoice owned by `user_id`, created `now` (kept in whole seconds since the
    /// epoch). `None` when that user no longer exists (an account deleted while one of its
    /// bearer tokens is still valid).
    pub async fn create_invoice(
        &self,
        user_id: i64,
        new: &NewInvoice,
        now: SystemTime,
    ) -> Result<Option<Invoice>, sqlx::Error> {
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        on_pool!(&self.pool, |pool| {
            let row = sqlx::query(
                "INSERT INTO invoices (user_id, amount_cents, description, created_at)
                 SELECT id, $1, $2, $3 FROM users WHERE id = $4
                 RETURNING id, user_id, amount_cents, description, created_at",
            )
            .bind(new.amount_cents)
            .bind(&new.description)
            .bind(i64::try_from(now).unwrap_or(i64::MAX))
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
            row.as_ref().map(invoice).transpose()
        })
    }

    pub async fn delete_invoice(&self, id: i64) -> Result<(), sqlx::Error> {
        on_pool!(&self.pool, |pool| {
            sqlx::query("DELETE FROM invoices WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }
}

impl Pool {
    pub fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }
}

async fn open_sqlite(path: &str) -> Result<SqlitePool, sqlx::Error> {
    if path == ":memory:" {
        // An in-memory database lives as long as its one connection: never let the pool
        // close it, and never open a second one (it would see another, empty database).
        return SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(SqliteConnectOptions::new().in_memory(true))
            .await;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(5));
    SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
}

async fn open_postgres(url: &ServerUrl) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(url.as_str())?;
    // One connection first, for a start that fails at once with the reason (refused, bad
    // password): the pool would retry a refused connection until its timeout, then report
    // only the timeout.
    PgConnection::connect_with(&options).await?.close().await?;
    PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
}

/// Reads a column by name from a row of either backend. Both keep ids, amounts and times as
/// 64-bit integers and everything else as text, so these two reads are all the mapping needs.
trait Columns {
    fn int(&self, name: &str) -> Result<i64, sqlx::Error>;
    fn text(&self, name: &str) -> Result<String, sqlx::Error>;
}

impl<R: Row> Columns for R
where
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'n> &'n str: ColumnIndex<R>,
{
    fn int(&self, name: &str) -> Result<i64, sqlx::Error> {
        self.try_get(name)
    }

    fn text(&self, name: &str) -> Result<String, sqlx::Error> {
        self.try_get(name)
    }
}

fn user(row: &impl Columns) -> Result<User, sqlx::Error> {
    let roles = row.text("roles")?;
    Ok(User {
        id: row.int("id")?,
        email: row.text("email")?,
        roles: serde_json::from_str(&roles).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
    })
}

fn invoice(row: &impl Columns) -> Result<Invoice, sqlx::Error> {
    Ok(Invoice {
        id: row.int("id")?,
        user_id: row.int("user_id")?,
        amount_cents: row.int("amount_cents")?,
        description: row.text("description")?,
        created_at: row.int("created_at")?,
    })
}

/// Every migration of one backend, in order, embedded in the binary. Built at run time
/// because sqlx's `migrate!` macro needs the `macros` feature (and a second syn); the versions
/// and checksums in `_sqlx_migrations` work the same. The two backends number their own
/// migrations: PostgreSQL's first one is SQLite's first two.
pub fn migrations(backend: Backend) -> Vec<Migration> {
    let migration = |version, description: &'static str, sql: &'static str| {
        Migration::new(
            version,
            description.into(),
            MigrationType::Simple,
            sql.into_sql_str(),
            false,
        )
    };
    match backend {
        Backend::Sqlite => vec![
            migration(
                1,
                "users and invoices",
                include_str!("migrations/sqlite/0001_users_and_invoices.sql"),
            ),
            migration(
                2,
                "ids never reused",
                include_str!("migrations/sqlite/0002_ids_never_reused.sql"),
            ),
        ],
        Backend::Postgres => vec![
            migration(
                1,
                "users and invoices",
                include_str!("migrations/postgres/0001_users_and_invoices.sql"),
            ),
            migration(
                2,
                "emails stored normalised",
                include_str!("migrations/postgres/0002_emails_stored_normalised.sql"),
            ),
        ],
    }
}

/// Opening or migrating the database failed.
#[derive(Debug)]
pub enum OpenError {
    Connect(sqlx::Error),
    Migrate(MigrateError),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Connect(e) => write!(f, "opening the database: {e}"),
            OpenError::Migrate(e) => write!(f, "migrating the database: {e}"),
        }
    }
}

impl std::error::Error for OpenError {}

impl From<sqlx::Error> for OpenError {
    fn from(e: sqlx::Error) -> Self {
        OpenError::Connect(e)
    }
}

impl From<MigrateError> for OpenError {
    fn from(e: MigrateError) -> Self {
        OpenError::Migrate(e)
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_email;

    #[test]
    fn emails_have_one_spelling() {
        for spelling in [
            "alice@example.com",
            "ALICE@example.com",
            " Alice@Example.COM\t",
            "ａｌｉｃｅ@example.com",
        ] {
            assert_eq!(
                normalize_email(spelling),
                "alice@example.com",
                "{spelling:?}"
            );
        }
        // `İ` lower-cases to `i` and a combining dot above: another address than alice's.
        assert_eq!(
            normalize_email("alİce@example.com"),
            "ali\u{307}ce@example.com"
        );
        assert_eq!(normalize_email("ÄLICE@example.com"), "älice@example.com");
    }

    /// Normalising a normalised email changes nothing, so stored emails are found by their
    /// own normal form: checked for every character of the planes with assigned letters and
    /// marks (0 to 3, and 14's tags and variation selectors).
    #[test]
    fn normalising_is_idempotent() {
        let planes = (0..=0x3ffff).chain(0xe0000..=0xe0fff);
        for c in planes.filter_map(char::from_u32) {
            let input = format!("a{c}b");
            let once = normalize_email(&input);
            if once != input {
                assert_eq!(normalize_email(&once), once, "U+{:04X}", c as u32);
            }
        }
    }
}
