//! Stores: where logins and revocations outlive a request, and the contracts a store meets.
//!
//! Two kinds of state live in a store that every instance of an app shares:
//!
//! - **logins** ([`LoginStore`]): a browser session (its cookie holds an opaque id) or a
//!   refresh-token family (its client holds the token in force). Both are a [`LoginRecord`]
//!   under the SHA-256 of their secret id: the id never reaches the store, so a leaked table or
//!   backup holds no credential that works.
//! - **revocations** ([`RevocationStore`]): which bearer tokens and stateless cookies no longer
//!   count, kept and announced to every instance, whose local view the request path reads.
//!
//! [`MemoryStore`] is both, for one process and for tests. For several instances, the crates
//! `authgate-sqlx` (`SqliteStore`, `PostgresStore`, on the app's sqlx pool) and
//! `authgate-redis` (`RedisStore`) are both too; one value serves every role (pass a clone
//! to [`Sessions`](crate::sessions::Sessions), [`RefreshTokens`](crate::tokens::RefreshTokens)
//! and [`Revocations`](crate::revocation::Revocations)). They live in crates of their own so
//! that a database driver's major release is not authgate's.
//!
//! A store's errors answer 503 `unavailable` on guarded routes: never 401, never 200. Return
//! [`StoreError::unavailable`] for a store that did not answer (worth retrying) and
//! [`StoreError::corrupt`] for one that answered with data it should not hold.
//!
//! # Writing your own store
//!
//! Implement the trait with `async fn`, keeping to the contract in its documentation. The
//! two properties that matter most for security: nothing but [`LoginStore::create`] adds a
//! login (so a logout that runs during a request stays done), and [`LoginStore::rotate`] and
//! [`LoginStore::replace_data`] are each one atomic compare-and-set (so a refresh token is
//! good for one exchange, even when two requests race, and concurrent changes of a session's
//! data are not lost). Idle and absolute expiry are authgate's to decide: a store returns what it
//! holds.
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
//! use std::time::SystemTime;
//! use authgate::store::{LoginRecord, LoginStore, StoreError};
//!
//! /// Logins in a map (a real store would talk to its database here). Clones share it.
//! #[derive(Clone, Default)]
//! struct MapStore(Arc<Mutex<HashMap<String, LoginRecord>>>);
//!
//! impl MapStore {
//!     fn map(&self) -> MutexGuard<'_, HashMap<String, LoginRecord>> {
//!         self.0.lock().unwrap_or_else(PoisonError::into_inner)
//!     }
//! }
//!
//! impl LoginStore for MapStore {
//!     async fn create(&self, record: &LoginRecord) -> Result<(), StoreError> {
//!         self.map().insert(record.key.clone(), record.clone());
//!         Ok(())
//!     }
//!     async fn load(&self, key: &str) -> Result<Option<LoginRecord>, StoreError> {
//!         Ok(self.map().get(key).cloned())
//!     }
//!     async fn touch(&self, key: &str, last_used: SystemTime) -> Result<bool, StoreError> {
//!         // An update of what exists, never an insert: a deleted login stays deleted.
//!         Ok(self.map().get_mut(key).map(|r| r.last_used = last_used).is_some())
//!     }
//!     async fn rotate(&self, key: &str, presented: &str, next: &str, now: SystemTime)
//!         -> Result<bool, StoreError> {
//!         // One step under the lock; in SQL, `UPDATE .. WHERE key = $1 AND current = $2`.
//!         let mut map = self.map();
//!         match map.get_mut(key) {
//!             Some(r) if r.current.as_deref() == Some(presented) => {
//!                 r.current = Some(next.to_owned());
//!                 r.last_used = now;
//!                 Ok(true)
//!             }
//!             _ => Ok(false),
//!         }
//!     }
//!     async fn replace_data(&self, key: &str, expected: &str, data: &str)
//!         -> Result<bool, StoreError> {
//!         // Also one step under the lock; in SQL, `UPDATE .. WHERE key = $1 AND data = $2`.
//!         match self.map().get_mut(key) {
//!             Some(r) if r.data == expected => {
//!                 r.data = data.to_owned();
//!                 Ok(true)
//!             }
//!             _ => Ok(false),
//!         }
//!     }
//!     async fn delete(&self, key: &str) -> Result<(), StoreError> {
//!         self.map().remove(key);
//!         Ok(())
//!     }
//!     async fn delete_user(&self, subject: &str) -> Result<u64, StoreError> {
//!         let mut map = self.map();
//!         let before = map.len();
//!         map.retain(|_, r| r.subject != subject);
//!         Ok((before - map.len()) as u64)
//!     }
//!     async fn purge_expired(&self, now: SystemTime) -> Result<u64, StoreError> {
//!         let mut map = self.map();
//!         let before = map.len();
//!         map.retain(|_, r| r.expires_at > now);
//!         Ok((before - map.len()) as u64)
//!     }
//! }
//!
//! # #[cfg(feature = "testing")]
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // In the store's own tests (feature `testing`): the suite the bundled stores pass.
//! let store = MapStore::default();
//! let dump = store.clone();
//! authgate::testing::Conformance::logins(store)
//!     .written(move || {
//!         // Everything the store holds: no session id or refresh token may be in it.
//!         let rows = format!("{:?}", dump.map().values().collect::<Vec<_>>());
//!         async move { rows.into_bytes() }
//!     })
//!     .assert()
//!     .await;
//! # }
//! # #[cfg(not(feature = "testing"))] fn main() {}
//! ```
//!
//! A [`RevocationStore`] keeps opaque lines of text until a time and announces each on a
//! feed every instance reads, in order, with authgate's heartbeats among them. A feed whose
//! connection is lost must end with an error, never skip: authgate then subscribes again and
//! reloads. Pub/sub (Redis), `LISTEN`/`NOTIFY` (PostgreSQL) or a polled log table all fit.
//!
//! # The conformance suite
//!
//! `authgate::testing::Conformance` (feature `testing`) checks a store against its contract,
//! the same suite the bundled stores pass: for logins, create and load, a `touch` that never
//! resurrects a deleted login, exactly one winner of concurrent rotations and of concurrent
//! data replacements (which never resurrect a login either), `delete_user` of
//! one subject only, `purge_expired` at its boundary, times kept exactly, a Gate's
//! sessions and refresh families on the store, and (given a dump of what the store wrote) no
//! secret in it; for revocations, what is kept and loaded until when, delivery on every open
//! feed in order, and entries with spaces and non-ASCII text. Run each suite on a store of its
//! own (a fresh table, key prefix or database): it writes records dated around 2030.

mod data;
mod dynamic;
mod error;
pub(crate) mod hash;
mod memory;
mod purge;

use std::future::Future;
use std::time::SystemTime;

pub use error::StoreError;
pub use memory::MemoryStore;

pub(crate) use data::{LoginData, SessionValues};
pub(crate) use dynamic::{BoxFuture, DynLoginStore, Logins, RevocationLog};
pub(crate) use hash::{IdHash, random_id};
pub(crate) use purge::{PurgeLog, spawn_purge};

/// One login, as a [`LoginStore`] keeps it: the fields a store indexes or updates, and the
/// rest as `data` it keeps unread.
///
/// The set of fields is the store contract and does not grow: what authgate learns to keep
/// about a login goes into `data`, so a store written today keeps working.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginRecord {
    /// What the login is stored under: the SHA-256, in lower-case hex, of its secret id (a
    /// session cookie's value, a refresh family's id). Never the id itself.
    pub key: String,
    /// Whose login it is: [`LoginStore::delete_user`] deletes by it.
    pub subject: String,
    /// For a login held with refresh tokens, the SHA-256 (hex) of the one token in force,
    /// which [`LoginStore::rotate`] replaces; `None` for a browser session.
    pub current: Option<String>,
    /// When the login was last used: [`LoginStore::touch`] and [`LoginStore::rotate`] set it.
    pub last_used: SystemTime,
    /// When the login ends, however active: [`LoginStore::purge_expired`] deletes by it.
    pub expires_at: SystemTime,
    /// Everything else (who the user is, when the login began), as authgate wrote it: kept as
    /// given and returned unchanged.
    pub data: String,
}

/// Where logins live: browser sessions and refresh-token families. Implement it with
/// `async fn`; errors answer 503.
///
/// The contract (`authgate::testing::Conformance::logins` checks it):
///
/// - **nothing resurrects a login**: only [`create`](Self::create) adds one;
///   [`touch`](Self::touch) and [`rotate`](Self::rotate) update a login that still exists and
///   report `false` when it is gone, so a logout or revocation that runs between a request's
///   [`load`](Self::load) and its update stays done;
/// - **one winner**: `rotate` replaces `current` only if it is still the presented hash, and
///   [`replace_data`](Self::replace_data) replaces `data` only if it is still what the caller
///   read, each in one atomic step (a conditional update, a transaction, a script), so two
///   concurrent uses of one refresh token cannot both succeed, and two requests that change
///   a session's data cannot silently undo each other;
/// - **hashes only**: keys are hashes; neither an id nor a token is ever passed in;
/// - [`delete_user`](Self::delete_user) removes every login of one subject and no other;
/// - [`purge_expired`](Self::purge_expired) removes logins whose `expires_at` is at or before
///   `now` and counts them (authgate calls it in the background; a store that also expires
///   logins on its own, such as Redis with key expiry, still keeps an index to purge by);
/// - idle and absolute expiry are decided by authgate from `last_used` and `expires_at`: a
///   store returns what it holds.
pub trait LoginStore: Send + Sync + 'static {
    /// Adds a new login. Its key is new: ids have 128 or 256 random bits.
    fn create(&self, record: &LoginRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The login stored under `key`, if there is one.
    fn load(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<LoginRecord>, StoreError>> + Send;

    /// Sets `last_used` of the login under `key`, if it still exists: `Ok(false)` when it is
    /// gone. Never creates a login.
    fn touch(
        &self,
        key: &str,
        last_used: SystemTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// If the login under `key` exists and its `current` is `presented`, sets `current` to
    /// `next` and `last_used` to `now` and returns `true`; otherwise changes nothing and
    /// returns `false`. Atomic.
    fn rotate(
        &self,
        key: &str,
        presented: &str,
        next: &str,
        now: SystemTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// If the login under `key` exists and its `data` is exactly `expected`, sets `data` to
    /// `data` and returns `true`; otherwise changes nothing and returns `false`. Atomic, like
    /// [`rotate`](Self::rotate): of two writes that expect the same `data`, one wins. Never
    /// creates a login and changes no other field. Session data
    /// ([`SessionData`](crate::sessions::SessionData)) is written with it.
    fn replace_data(
        &self,
        key: &str,
        expected: &str,
        data: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes one login. Deleting a missing one is not an error.
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes every login of `subject`; returns how many there were.
    fn delete_user(&self, subject: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes the logins whose `expires_at` is at or before `now`; returns how many.
    fn purge_expired(
        &self,
        now: SystemTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// Where revocations are kept and announced, shared by every instance of an app.
///
/// A revocation is an opaque line of text that authgate writes and reads; a store keeps it
/// until its `until` and announces it on a feed that every instance reads. Implement it with
/// `async fn`.
///
/// The contract (`authgate::testing::Conformance::revocations` checks it):
///
/// - [`revoke`](Self::revoke) keeps the entry **and** announces it as one step: once it
///   returns `Ok`, every open feed delivers it, and every later [`entries`](Self::entries) returns it
///   until `until` has passed;
/// - a feed delivers in the order the store took them: a message [`announce`](Self::announce)d
///   arrives after every entry announced before it;
/// - a feed whose connection is lost returns an error from [`next`](Self::next) (it never
///   skips silently); authgate then subscribes again and reloads.
pub trait RevocationStore: Send + Sync + 'static {
    /// An open feed, read with [`next`](Self::next).
    type Feed: Send + 'static;

    /// Keeps `entry` until `until` and announces it on every open feed, atomically.
    fn revoke(
        &self,
        entry: &str,
        until: SystemTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every entry kept whose `until` is after `now`.
    fn entries(
        &self,
        now: SystemTime,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// Announces `message` on every open feed, after everything announced before, without
    /// keeping it (authgate's heartbeats, which prove a feed is current).
    fn announce(&self, message: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Opens a feed of what is announced from now on.
    fn subscribe(&self) -> impl Future<Output = Result<Self::Feed, StoreError>> + Send;

    /// The next entry or message of `feed`. An error ends the feed. Must be cancel-safe:
    /// authgate drops an unfinished call when it has a heartbeat to send.
    fn next(
        &self,
        feed: &mut Self::Feed,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// Forgets the entries whose `until` is at or before `now`; returns how many.
    fn purge(&self, now: SystemTime) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
