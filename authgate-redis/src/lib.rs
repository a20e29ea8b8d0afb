//! A Redis store for [authgate], on [redis-rs](redis): where the logins (browser sessions and
//! refresh-token families) and revocations of an app that runs several instances live.
//!
//! [`RedisStore`] is an [`authgate::store::LoginStore`] and an
//! [`authgate::store::RevocationStore`] at once. Its keys, under a prefix (`authgate` unless
//! [`with_prefix`](RedisStore::with_prefix) says otherwise):
//!
//! | key | type | what |
//! | --- | --- | --- |
//! | `{prefix}:login:{key}` | string | one login, under the SHA-256 of its secret id: a fixed-width header (`last_used`, the refresh token's hash in force, `expires_at`), then the subject and the rest; Redis expires it at its end (`EXAT`) |
//! | `{prefix}:user:{subject}` | set | the keys of a subject's logins: `delete_user` is one script |
//! | `{prefix}:expiry` | sorted set | `key subject` by end: the purge, which also prunes the subject sets of logins Redis expired |
//! | `{prefix}:revocations` | sorted set, channel | the revocations by the time until which they matter; announced on the channel of the same name |
//!
//! A session read is one `GET`. A touch rewrites `last_used` in place, only if the login
//! still exists, keeping its expiry; a refresh-token rotation is a compare-and-set in one Lua
//! script (Redis runs scripts one at a time, so of two rotations of one token one wins); a
//! revocation is added and published in one script, so no instance misses one that was kept.
//!
//! ```no_run
//! use authgate::issuers::Issuer;
//! use authgate::revocation::Revocations;
//! use authgate::sessions::Sessions;
//! use authgate::tokens::RefreshTokens;
//! use authgate::Gate;
//! use authgate_redis::RedisStore;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::connect("redis://127.0.0.1:6379")
//!     .await?
//!     .with_prefix("myapp");
//! let gate = Gate::builder()
//!     .issuer(Issuer::new("https://api.example.com").secret("an HMAC secret of at least 32 bytes!!"))
//!     .sessions(Sessions::server_side("__Host-session", store.clone()))
//!     .refresh_tokens(RefreshTokens::new(store.clone()))
//!     .revocations(Revocations::new(store))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! # The client is part of the contract
//!
//! This crate is built on **redis-rs 1.x** (`redis` 1.8) and re-exports it as
//! [`authgate_redis::redis`](redis): [`RedisStore::new`] takes that version's `Client`. A new
//! redis-rs major version is a new major version of this crate.
//!
//! Client errors are [`StoreError::Unavailable`] (authgate answers 503); a value this store did
//! not write is [`StoreError::Corrupt`]. Times are kept as whole seconds since the Unix epoch.
//! A single Redis 6.2 or later (`SET ... EXAT`, `ZADD ... GT`), or a primary with replicas:
//! the scripts touch keys they compute, which Redis Cluster does not allow.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use redis;

mod layout;
mod logins;
mod revocations;

pub use revocations::RedisFeed;

use authgate::store::StoreError;
use redis::aio::ConnectionManager;

/// Logins and revocations in Redis: see the [crate] documentation for its keys.
///
/// Commands go through one multiplexed connection that reconnects on its own (redis-rs's
/// `ConnectionManager`); each revocation feed has a connection of its own. Clones share
/// them.
#[derive(Clone)]
pub struct RedisStore {
    /// For the feeds' connections.
    client: redis::Client,
    redis: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// The key prefix unless [`RedisStore::with_prefix`] says otherwise.
const DEFAULT_PREFIX: &str = "authgate";

impl RedisStore {
    /// Connects to `url` (`redis://host:port/db`), with the key prefix `authgate`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(StoreError::unavailable)?;
        Self::new(client).await
    }

    /// Connects with `client` (one the app configured: a password, a database), with the key
    /// prefix `authgate`.
    pub async fn new(client: redis::Client) -> Result<Self, StoreError> {
        let redis = ConnectionManager::new(client.clone())
            .await
            .map_err(StoreError::unavailable)?;
        Ok(RedisStore {
            client,
            redis,
            prefix: DEFAULT_PREFIX.to_owned(),
        })
    }

    /// Keeps this store's keys (and its channel) under another prefix: one per app sharing a
    /// Redis, or per test.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The login under `key`; with an empty `key`, the prefix of every login.
    fn login(&self, key: &str) -> String {
        self.name("login", key)
    }

    /// The set of `subject`'s logins; with an empty `subject`, the prefix of every such set.
    fn user(&self, subject: &str) -> String {
        self.name("user", subject)
    }

    /// The sorted set of every login's end.
    fn expiry(&self) -> String {
        format!("{}:expiry", self.prefix)
    }

    /// The sorted set of revocations, which is also their channel.
    fn revocations(&self) -> String {
        format!("{}:revocations", self.prefix)
    }

    /// `{prefix}:{kind}:{id}`, in one allocation (a login's name is built on every request).
    fn name(&self, kind: &str, id: &str) -> String {
        let mut name = String::with_capacity(self.prefix.len() + kind.len() + id.len() + 2);
        name.push_str(&self.prefix);
        name.push(':');
        name.push_str(kind);
        name.push(':');
        name.push_str(id);
        name
    }
}
