//! SQLite (sqlx), for apps with an embedded database: server-side sessions ([`SqliteStore`])
//! and the revocations of bearer tokens and stateless cookies ([`SqliteRevocations`], a log
//! that every Gate on the file polls).

mod revocations;
mod sessions;

pub use revocations::SqliteRevocations;
pub use sessions::SqliteStore;
