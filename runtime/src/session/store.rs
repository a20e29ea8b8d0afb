//! Where server-side sessions live: the [`SessionStore`] trait, its record and error, and the
//! in-memory store.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::verify::BoxFuture;

/// One server-side session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The opaque id the cookie carries.
    pub id: String,
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
/// ```
/// use authgate::{BoxFuture, SessionRecord, SessionStore, StoreError};
///
/// struct Down;
/// impl SessionStore for Down {
///     fn load(&self, _id: &str) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
///         Box::pin(async { Err(StoreError::new("connection refused")) })
///     }
///     fn save(&self, _r: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
///         Box::pin(async { Err(StoreError::new("connection refused")) })
///     }
///     fn delete(&self, _id: &str) -> BoxFuture<'_, Result<(), StoreError>> {
///         Box::pin(async { Err(StoreError::new("connection refused")) })
///     }
///     fn delete_user(&self, _subject: &str) -> BoxFuture<'_, Result<u64, StoreError>> {
///         Box::pin(async { Err(StoreError::new("connection refused")) })
///     }
/// }
/// ```
pub trait SessionStore: Send + Sync + 'static {
    /// The session with this id, if it exists.
    fn load(&self, id: &str) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>>;
    /// Inserts or replaces a session.
    fn save(&self, record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Deletes one session (logout). Deleting a missing one is not an error.
    fn delete(&self, id: &str) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Deletes every session of a user; returns how many there were.
    fn delete_user(&self, subject: &str) -> BoxFuture<'_, Result<u64, StoreError>>;
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

/// An in-memory [`SessionStore`], for one-instance apps and tests. Sessions do not survive a
/// restart; use a database store when they must, or when several instances serve the app.
#[derive(Clone, Default, Debug)]
pub struct MemoryStore {
    sessions: Arc<Mutex<HashMap<String, SessionRecord>>>,
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionRecord>> {
        // A panic while holding the lock cannot leave a half-written record behind (every
        // operation is one map call), so a poisoned lock is still consistent.
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SessionStore for MemoryStore {
    fn load(&self, id: &str) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
        let found = self.lock().get(id).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn save(&self, record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        self.lock().insert(record.id.clone(), record.clone());
        Box::pin(async { Ok(()) })
    }

    fn delete(&self, id: &str) -> BoxFuture<'_, Result<(), StoreError>> {
        self.lock().remove(id);
        Box::pin(async { Ok(()) })
    }

    fn delete_user(&self, subject: &str) -> BoxFuture<'_, Result<u64, StoreError>> {
        let mut sessions = self.lock();
        let before = sessions.len();
        sessions.retain(|_, r| r.subject != subject);
        let removed = (before - sessions.len()) as u64;
        Box::pin(async move { Ok(removed) })
    }
}

/// A new random session id: 256 bits from the OS CSPRNG, base64url.
pub(crate) fn new_session_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::new(format!("no randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}
