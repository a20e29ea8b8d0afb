//! PostgreSQL (sqlx), for apps that run several instances: server-side sessions
//! ([`PostgresStore`]) and the revocations of bearer tokens and stateless cookies
//! ([`PostgresRevocations`], announced with `LISTEN`/`NOTIFY`).

mod revocations;
mod sessions;

pub use revocations::PostgresRevocations;
pub use sessions::PostgresStore;
