//! The SQLite database: opening, migrations, the demo users, and every query the app runs.
//!
//! Queries are plain `sqlx::query` with binds (never string formatting), and rows are mapped
//! by hand, so the example needs neither sqlx's macros nor a database at build time.

use std::time::Duration;

use serde::Serialize;
use sqlx::migrate::{MigrateError, Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Row, SqlSafeStr, sqlite::SqliteRow};

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

/// A validated new invoice (see `handlers::NewInvoice::validate`).
pub struct NewInvoice {
    pub amount_cents: i64,
    pub description: String,
}

/// The database handle in the app state; cheap to clone (a pool).
#[derive(Clone, Debug)]
pub struct Db {
    pool: SqlitePool,
}

impl Db {
    /// Opens (creating it if needed) the database at `path`, or a private in-memory one for
    /// `:memory:`, and brings its schema up to date.
    pub async fn open(path: &str) -> Result<Db, OpenError> {
        let pool = if path == ":memory:" {
            // An in-memory database lives as long as its one connection: never let the pool
            // close it, and never open a second one (it would see another, empty database).
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(SqliteConnectOptions::new().in_memory(true))
                .await?
        } else {
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5));
            SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await?
        };
        migrator().run(&pool).await?;
        Ok(Db { pool })
    }

    /// The pool, for the session store that shares this database.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether the demo users were seeded before (in this database, by any start).
    pub async fn demo_users_seeded(&self) -> Result<bool, sqlx::Error> {
        let row = sqlx::query("SELECT 1 FROM facts WHERE name = 'demo_users_seeded'")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Inserts the demo users with their password hashes, and records that it did, in one
    /// transaction. `hashes` follows the order of [`DEMO_USERS`].
    pub async fn seed_demo_users(&self, hashes: &[String]) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO facts (name, value) VALUES ('demo_users_seeded', 'yes')")
            .execute(&mut *tx)
            .await?;
        for ((email, _, role), hash) in DEMO_USERS.iter().zip(hashes) {
            insert_user(&mut *tx, email, hash, &[role]).await?;
        }
        tx.commit().await
    }

    /// Creates a user; returns the new id, which no earlier user ever had.
    pub async fn create_user(
        &self,
        email: &str,
        password_hash: &str,
        roles: &[&str],
    ) -> Result<i64, sqlx::Error> {
        insert_user(&self.pool, email, password_hash, roles).await
    }

    /// The user with this email (case-insensitive) and their password hash.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>, sqlx::Error> {
        let row = sqlx::query("SELECT id, email, roles, password_hash FROM users WHERE email = ?")
            .bind(email.trim())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((user(&row)?, row.try_get("password_hash")?)))
            .transpose()
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>, sqlx::Error> {
        let row = sqlx::query("SELECT id, email, roles FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user).transpose()
    }

    pub async fn users(&self) -> Result<Vec<User>, sqlx::Error> {
        let rows = sqlx::query("SELECT id, email, roles FROM users ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user).collect()
    }

    /// Deletes a user and (by the foreign key) their invoices. `false`: no such user.
    pub async fn delete_user(&self, id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM users WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The invoices of one user, newest first.
    pub async fn invoices_of(&self, user_id: i64) -> Result<Vec<Invoice>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, user_id, amount_cents, description, created_at
             FROM invoices WHERE user_id = ? ORDER BY id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(invoice).collect()
    }

    pub async fn invoice(&self, id: i64) -> Result<Option<Invoice>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, user_id, amount_cents, description, created_at
             FROM invoices WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(invoice).transpose()
    }

    /// Creates an invoice owned by `user_id`. `None` when that user no longer exists (an
    /// account deleted while one of its bearer tokens is still valid).
    pub async fn create_invoice(
        &self,
        user_id: i64,
        new: &NewInvoice,
        now: u64,
    ) -> Result<Option<Invoice>, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO invoices (user_id, amount_cents, description, created_at)
             SELECT id, ?, ?, ? FROM users WHERE id = ?
             RETURNING id, user_id, amount_cents, description, created_at",
        )
        .bind(new.amount_cents)
        .bind(&new.description)
        .bind(i64::try_from(now).unwrap_or(i64::MAX))
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(invoice).transpose()
    }

    pub async fn delete_invoice(&self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM invoices WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

async fn insert_user<'e>(
    executor: impl sqlx::SqliteExecutor<'e>,
    email: &str,
    password_hash: &str,
    roles: &[&str],
) -> Result<i64, sqlx::Error> {
    sqlx::query("INSERT INTO users (email, password_hash, roles) VALUES (?, ?, ?) RETURNING id")
        .bind(email)
        .bind(password_hash)
        .bind(serde_json::json!(roles).to_string())
        .fetch_one(executor)
        .await?
        .try_get("id")
}

fn user(row: &SqliteRow) -> Result<User, sqlx::Error> {
    let roles: String = row.try_get("roles")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        roles: serde_json::from_str(&roles).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
    })
}

fn invoice(row: &SqliteRow) -> Result<Invoice, sqlx::Error> {
    Ok(Invoice {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        amount_cents: row.try_get("amount_cents")?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The schema's migrations, embedded in the binary. Built at run time because sqlx's
/// `migrate!` macro needs the `macros` feature (and a second syn); the versions and checksums
/// in `_sqlx_migrations` work the same.
fn migrator() -> Migrator {
    Migrator::with_migrations(migrations())
}

/// Every migration, in order.
pub fn migrations() -> Vec<Migration> {
    vec![
        Migration::new(
            1,
            "users and invoices".into(),
            MigrationType::Simple,
            include_str!("migrations/0001_users_and_invoices.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            2,
            "ids never reused".into(),
            MigrationType::Simple,
            include_str!("migrations/0002_ids_never_reused.sql").into_sql_str(),
            false,
        ),
    ]
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
