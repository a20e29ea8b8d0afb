//! SQLite and PostgreSQL stores for [authgate], on [sqlx]: where an app's logins (browser
//! sessions and refresh-token families) and revocations outlive a request and a restart.
//!
//! - [`SqliteStore`] (feature `sqlite`): one machine, an embedded database file; revocation
//!   feeds poll an append-only log.
//! - [`PostgresStore`] (feature `postgres`): several instances; revocations are announced
//!   with `NOTIFY` and followed with `LISTEN`.
//!
//! Each is an [`authgate::store::LoginStore`] and an [`authgate::store::RevocationStore`]
//! at once (both features are on by default). The logins of both live in one table of the
//! same shape, `authgate_logins` (the SQL is written once), keyed by the SHA-256 of each
//! login's secret id: a leaked table or backup holds no session id or refresh token that
//! works. The tables are created on first use; [`SqliteStore::with_table`] and
//! [`PostgresStore::with_table`] name them after another base than `authgate`.
//!
//! ```no_run
//! use authgate::issuers::Issuer;
//! use authgate::revocation::Revocations;
//! use authgate::sessions::Sessions;
//! use authgate::tokens::RefreshTokens;
//! use authgate::Gate;
//! use authgate_sqlx::SqliteStore;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = SqliteStore::open("app.db").await?;
//! store.create_tables().await?;
//! let gate = Gate::builder()
//!     .issuer(Issuer::new("https://api.example.com").secret("an HMAC secret of at least 32 bytes!!"))
//!     .sessions(Sessions::server_side("__Host-session", store.clone()))
//!     .refresh_tokens(RefreshTokens::new(store.clone()))
//!     .revocations(Revocations::new(store))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! With PostgreSQL, the app's own pool (its tables under the base name `myapp`):
//!
//! ```no_run
//! use authgate_sqlx::{PostgresStore, sqlx::PgPool};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = PgPool::connect("postgres://app@127.0.0.1/app").await?;
//! let store = PostgresStore::new(pool).with_table("myapp")?;
//! store.create_tables().await?;
//! # Ok(()) }
//! ```
//!
//! # The driver is part of the contract
//!
//! This crate is built on **sqlx 0.9** and re-exports it as [`authgate_sqlx::sqlx`](sqlx):
//! [`SqliteStore::new`] and [`PostgresStore::new`] take that version's pools. An app on
//! another sqlx major version uses [`SqliteStore::open`] or [`PostgresStore::connect`] (the
//! store's own pool), or the re-exported `sqlx`. A new sqlx major version is a new major
//! version of this crate.
//!
//! Store errors are [`StoreError::Unavailable`](authgate::store::StoreError::Unavailable)
//! for the driver's (authgate answers 503), and
//! [`StoreError::Corrupt`](authgate::store::StoreError::Corrupt) for a row that does not read
//! back. Times are kept as whole seconds since the Unix epoch.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use sqlx;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod logins;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod tables;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod time;

#[cfg(feature = "postgres")]
pub use postgres::{PostgresFeed, PostgresStore};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteFeed, SqliteStore};
