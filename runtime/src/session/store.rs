//! Where server-side sessions live: the [`SessionStore`] contract, its record, key and error,
//! and the in-memory store.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

pub use crate::session_key::SessionKey;
use crate::verify::BoxFuture;

/// One server-side session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// What the session is stored under (never the cookie's id).
    pub key: SessionKey,
    /// The user's subject.
    pub subject: String,
    /// The user's roles at login.
    pub roles: Vec<String>,
    /// The user's scopes at login.
    pub scopes: Vec<String>,
    /// Extra claims as a JSON object, for typed `CurrentUser<C>`.
    pub claims: String,
    /// When the session was created (seconds since the Unix epoch).
    pub created_at: u64,
    /// When the session was last used.
    pub last_seen: u64,
    /// When the session ends whatever happens (absolute lifetime).
    pub expires_at: u64,
}

/// A store of server-side sessions. Errors answer 503 on guarded routes.
///
/// The contract every store meets (`authgate::testing::StoreConformance` checks it):
///
/// - **nothing resurrects a session**: only [`create`](Self::create) (a login) adds one;
///   [`touch`](Self::touch) updates `last_seen` of a session that still exists and reports
///   `false` when it is gone, so a logout or revocation that runs between a request's `load` and
///   its `touch` stays done (the request then gets 401);
/// - **keys only**: records are stored under their [`SessionKey`], never the cookie's id;
/// - [`delete_user`](Self::delete_user) removes every session of one subject and no other;
/// - [`purge_expired`](Self::purge_expired) removes sessions past their absolute lifetime (the
///   Gate calls it in the background; a store that expires rows itself may return 0);
/// - idle and absolute expiry are decided by the Gate from `last_seen` and `expires_at`, so a
///   store returns what it holds.
///
/// Refresh token families are a contract of their own, [`RefreshStore`](crate::RefreshStore),
/// which every bundled store also implements (checked by `RefreshConformance`).
///
/// ```
/// use authgate::{BoxFuture, SessionKey, SessionRecord, SessionStore, StoreError};
///
/// struct Down;
/// fn down<T: Send>() -> BoxFuture<'static, Result<T, StoreError>> {
///     Box::pin(async { Err(StoreError::new("connection refused")) })
/// }
/// impl SessionStore for Down {
///     fn create(&self, _: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> { down() }
///     fn load(&self, _: &SessionKey) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> { down() }
///     fn touch(&self, _: &SessionKey, _: u64) -> BoxFuture<'_, Result<bool, StoreError>> { down() }
///     fn delete(&self, _: &SessionKey) -> BoxFuture<'_, Result<(), StoreError>> { down() }
///     fn delete_user(&self, _: &str) -> BoxFuture<'_, Result<u64, StoreError>> { down() }
///     fn purge_expired(&self, _: u64) -> BoxFuture<'_, Result<u64, StoreError>> { down() }
/// }
/// ```
pub trait SessionStore: Send + Sync + 'static {
    /// Adds a new session (a login). Its key is new: ids are 256 random bits.
    fn create(&self, record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>>;
    /// The session stored under this key, if it exists.
    fn load(&self, key: &SessionKey) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>>;
    /// Sets `last_seen` of the session under this key, if it still exists: `Ok(false)` when it
    /// is gone. Never creates a session.
    fn touch(&self, key: &SessionKey, last_seen: u64) -> BoxFuture<'_, Result<bool, StoreError>>;
    /// Deletes one session (logout). Deleting a missing one is not an error.
    fn delete(&self, key: &SessionKey) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Deletes every session of a user; returns how many there were.
    fn delete_user(&self, subject: &str) -> BoxFuture<'_, Result<u64, StoreError>>;
    /// Deletes the sessions whose absolute lifetime ended at or before `now`; returns how many.
    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>>;
}

/// A session store failed.
#[derive(Debug)]
pub struct StoreError(Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// A store error from a message.
    pub fn new(message: impl Into<String>) -> Self {
        StoreError(message.into().into())
    }

    /// A store error wrapping another error.
    pub fn from_error(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError(Box::new(error))
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "session store error: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// An in-memory [`SessionStore`] (and [`RefreshStore`](crate::RefreshStore)), for
/// one-instance apps and tests. Sessions do not survive a restart; use a database store when
/// they must, or when several instances serve the app.
#[derive(Clone, Default, Debug)]
pub struct MemoryStore {
    sessions: Arc<Mutex<HashMap<SessionKey, SessionRecord>>>,
    /// Refresh families, by key (see `refresh::memory`).
    pub(crate) families: Arc<Mutex<HashMap<SessionKey, crate::session::refresh::RefreshFamily>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many sessions the store holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the store holds no session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every record the store holds, for inspection in tests.
    pub fn records(&self) -> Vec<SessionRecord> {
        self.lock().values().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionKey, SessionRecord>> {
        // A panic while holding the lock cannot leave a half-written record behind (every
        // operation is one map call), so a poisoned lock is still consistent.
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SessionStore for MemoryStore {
    fn create(&self, record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        self.lock().insert(record.key, record.clone());
        Box::pin(async { Ok(()) })
    }

    fn load(&self, key: &SessionKey) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
        let found = self.lock().get(key).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn touch(&self, key: &SessionKey, last_seen: u64) -> BoxFuture<'_, Result<bool, StoreError>> {
        let touched = match self.lock().get_mut(key) {
            Some(record) => {
                record.last_seen = last_seen;
                true
            }
            None => false,
        };
        Box::pin(async move { Ok(touched) })
    }

    fn delete(&self, key: &SessionKey) -> BoxFuture<'_, Result<(), StoreError>> {
        self.lock().remove(key);
        Box::pin(async { Ok(()) })
    }

    fn delete_user(&self, subject: &str) -> BoxFuture<'_, Result<u64, StoreError>> {
        let removed = remove_where(&mut self.lock(), |r| r.subject == subject);
        Box::pin(async move { Ok(removed) })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        let removed = remove_where(&mut self.lock(), |r| r.expires_at <= now);
        Box::pin(async move { Ok(removed) })
    }
}

/// Removes the records that match; returns how many.
fn remove_where(
    sessions: &mut HashMap<SessionKey, SessionRecord>,
    matches: impl Fn(&SessionRecord) -> bool,
) -> u64 {
    let before = sessions.len();
    sessions.retain(|_, record| !matches(record));
    (before - sessions.len()) as u64
}

/// A new random session id: 256 bits from the OS CSPRNG, base64url.
pub(crate) fn new_session_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::new(format!("no randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// `bytes` random bytes from the OS CSPRNG, base64url.
pub(crate) fn random_id(bytes: usize) -> Result<String, String> {
    let mut buf = [0u8; 32];
    let buf = buf.get_mut(..bytes).ok_or("at most 32 random bytes")?;
    getrandom::fill(buf).map_err(|e| format!("no randomness: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}
