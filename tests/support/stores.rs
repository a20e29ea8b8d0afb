//! Session stores that fail, and the session cookie of a login.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use authgate::testing::TestResponse;
use authgate::{BoxFuture, Gate, SessionKey, SessionRecord, SessionStore, SessionUser, StoreError};

use super::gate::NOW;

/// The error of [`DownStore`]: it names a password, which must never reach a response or a log.
pub const STORE_DOWN: &str = "session database: connection refused (password=hunter2)";

/// A session store that is down: every call fails with [`STORE_DOWN`], and loads are counted.
#[derive(Clone, Default)]
pub struct DownStore(Arc<AtomicUsize>);

impl DownStore {
    /// How many times a session was looked up.
    pub fn lookups(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

fn down<T: Send>(message: &'static str) -> BoxFuture<'static, Result<T, StoreError>> {
    Box::pin(async move { Err(StoreError::new(message)) })
}

impl SessionStore for DownStore {
    fn create(&self, _record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        down(STORE_DOWN)
    }
    fn load(&self, _key: &SessionKey) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        down(STORE_DOWN)
    }
    fn touch(&self, _key: &SessionKey, _last_seen: u64) -> BoxFuture<'_, Result<bool, StoreError>> {
        down(STORE_DOWN)
    }
    fn delete(&self, _key: &SessionKey) -> BoxFuture<'_, Result<(), StoreError>> {
        down(STORE_DOWN)
    }
    fn delete_user(&self, _subject: &str) -> BoxFuture<'_, Result<u64, StoreError>> {
        down(STORE_DOWN)
    }
    fn purge_expired(&self, _now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        down(STORE_DOWN)
    }
}

/// A store that can read but not write: it returns a session due for its last-seen update
/// (or an expired one, to be deleted), and every write fails.
#[derive(Clone)]
pub struct ReadOnlyStore {
    pub expired: bool,
}

impl SessionStore for ReadOnlyStore {
    fn create(&self, _record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        down("read-only replica")
    }
    fn load(&self, key: &SessionKey) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
        let record = SessionRecord {
            key: *key,
            subject: "alice".into(),
            roles: vec![],
            scopes: vec![],
            claims: "{}".into(),
            created_at: NOW - 300,
            last_seen: NOW - 120,
            expires_at: if self.expired { NOW - 1 } else { NOW + 3000 },
        };
        Box::pin(async move { Ok(Some(record)) })
    }
    fn touch(&self, _key: &SessionKey, _last_seen: u64) -> BoxFuture<'_, Result<bool, StoreError>> {
        down("read-only replica")
    }
    fn delete(&self, _key: &SessionKey) -> BoxFuture<'_, Result<(), StoreError>> {
        down("read-only replica")
    }
    fn delete_user(&self, _subject: &str) -> BoxFuture<'_, Result<u64, StoreError>> {
        down("read-only replica")
    }
    fn purge_expired(&self, _now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        down("read-only replica")
    }
}

/// The `name=value` pair of a reply's `Set-Cookie` header.
pub fn cookie_pair(reply: &TestResponse) -> String {
    let set = reply
        .headers
        .get("set-cookie")
        .expect("a Set-Cookie header")
        .to_str()
        .expect("ASCII cookie");
    set.split(';').next().expect("name=value").to_owned()
}

/// Logs `user` in through the Gate itself and returns the cookie's `name=value`.
pub async fn login_cookie(gate: &Gate, user: SessionUser) -> String {
    let set = gate.login_unchecked(user).await.expect("login");
    let text = set.header_value().to_str().expect("ASCII cookie");
    text.split(';').next().expect("name=value").to_owned()
}

/// The value of a `name=value` pair.
pub fn cookie_value(pair: &str) -> &str {
    pair.split_once('=').expect("name=value").1
}

/// The value with its last character replaced (still base64url).
pub fn flip_last(value: &str) -> String {
    let mut v = value.to_owned();
    let last = v.pop().expect("a non-empty value");
    v.push(if last == 'A' { 'B' } else { 'A' });
    v
}
