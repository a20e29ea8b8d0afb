//! Login stores that fail, and the session cookie of a login.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use authgate::store::{LoginRecord, LoginStore, StoreError};
use authgate::testing::TestResponse;
use authgate::{Gate, Identity};

use super::gate::{NOW, at};

/// The error of [`DownStore`]: it names a password, which must never reach a response or a log.
pub const STORE_DOWN: &str = "session database: connection refused (password=hunter2)";

/// A login store that is down: every call fails with [`STORE_DOWN`], and loads are counted.
#[derive(Clone, Default)]
pub struct DownStore(Arc<AtomicUsize>);

impl DownStore {
    /// How many times a login was looked up.
    pub fn lookups(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

fn down<T>(message: &'static str) -> Result<T, StoreError> {
    Err(StoreError::unavailable(message))
}

impl LoginStore for DownStore {
    async fn create(&self, _record: &LoginRecord) -> Result<(), StoreError> {
        down(STORE_DOWN)
    }
    async fn load(&self, _key: &str) -> Result<Option<LoginRecord>, StoreError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        down(STORE_DOWN)
    }
    async fn touch(&self, _key: &str, _last_used: SystemTime) -> Result<bool, StoreError> {
        down(STORE_DOWN)
    }
    async fn rotate(&self, _: &str, _: &str, _: &str, _: SystemTime) -> Result<bool, StoreError> {
        down(STORE_DOWN)
    }
    async fn replace_data(&self, _: &str, _: &str, _: &str) -> Result<bool, StoreError> {
        down(STORE_DOWN)
    }
    async fn delete(&self, _key: &str) -> Result<(), StoreError> {
        down(STORE_DOWN)
    }
    async fn delete_user(&self, _subject: &str) -> Result<u64, StoreError> {
        down(STORE_DOWN)
    }
    async fn purge_expired(&self, _now: SystemTime) -> Result<u64, StoreError> {
        down(STORE_DOWN)
    }
}

/// A store that can read but not write: it returns a session due for its last-use update
/// (or an expired one, to be deleted), and every write fails.
#[derive(Clone)]
pub struct ReadOnlyStore {
    pub expired: bool,
}

impl LoginStore for ReadOnlyStore {
    async fn create(&self, _record: &LoginRecord) -> Result<(), StoreError> {
        down("read-only replica")
    }
    async fn load(&self, key: &str) -> Result<Option<LoginRecord>, StoreError> {
        Ok(Some(LoginRecord {
            key: key.to_owned(),
            subject: "alice".into(),
            current: None,
            last_used: at(NOW - 120),
            expires_at: at(if self.expired { NOW - 1 } else { NOW + 3000 }),
            data: format!(
                r#"{{"roles":[],"scopes":[],"claims":{{"sub":"alice"}},"created_at":{}}}"#,
                NOW - 300
            ),
        }))
    }
    async fn touch(&self, _key: &str, _last_used: SystemTime) -> Result<bool, StoreError> {
        down("read-only replica")
    }
    async fn rotate(&self, _: &str, _: &str, _: &str, _: SystemTime) -> Result<bool, StoreError> {
        down("read-only replica")
    }
    async fn replace_data(&self, _: &str, _: &str, _: &str) -> Result<bool, StoreError> {
        down("read-only replica")
    }
    async fn delete(&self, _key: &str) -> Result<(), StoreError> {
        down("read-only replica")
    }
    async fn delete_user(&self, _subject: &str) -> Result<u64, StoreError> {
        down("read-only replica")
    }
    async fn purge_expired(&self, _now: SystemTime) -> Result<u64, StoreError> {
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
pub async fn login_cookie(gate: &Gate, user: Identity) -> String {
    let set = gate.login_unchecked(user).await.expect("login");
    let text = set
        .header_value()
        .expect("a Set-Cookie header")
        .to_str()
        .expect("ASCII cookie");
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
