//! [`MemoryStore`]: logins and revocations kept in this process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use tokio::sync::broadcast;

use super::{LoginRecord, LoginStore, RevocationStore, StoreError};

/// Logins and revocations in memory, for one-instance apps and tests: a [`LoginStore`] and a
/// [`RevocationStore`] at once. Clones share one store, so several Gates in one process (the
/// tests of several instances) see the same state. Nothing survives a restart: use a database
/// store (`authgate-sqlx`, `authgate-redis`) when it must, or when the app runs on several
/// machines.
///
/// [`set_down`](Self::set_down) makes it fail like a store whose server is gone, for tests of
/// what the Gate does then.
///
/// ```
/// use authgate::store::MemoryStore;
/// use authgate::sessions::Sessions;
/// use authgate::revocation::Revocations;
///
/// let store = MemoryStore::new();
/// let sessions = Sessions::server_side("__Host-session", store.clone());
/// let revocations = Revocations::new(store);
/// ```
#[derive(Clone, Debug)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    logins: HashMap<String, LoginRecord>,
    /// Revocation entries, with the time until which each is kept.
    revocations: Vec<(String, SystemTime)>,
    feed: broadcast::Sender<String>,
    down: bool,
}

/// Announcements a feed may fall behind by before it is ended (and its Gate reloads).
const FEED_CAPACITY: usize = 4096;

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            inner: Arc::new(Mutex::new(Inner {
                logins: HashMap::new(),
                revocations: Vec::new(),
                feed: broadcast::channel(FEED_CAPACITY).0,
                down: false,
            })),
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every login the store holds, for inspection in tests.
    pub fn logins(&self) -> Vec<LoginRecord> {
        self.lock().logins.values().cloned().collect()
    }

    /// Every revocation entry the store holds, for inspection in tests.
    pub fn revocations(&self) -> Vec<String> {
        let inner = self.lock();
        inner.revocations.iter().map(|(e, _)| e.clone()).collect()
    }

    /// While `down`, every call fails, and feeds open before end with an error: like a store
    /// whose server went away. Up again, it has kept what it held.
    pub fn set_down(&self, down: bool) {
        let mut inner = self.lock();
        if down && !inner.down {
            // Dropping the sender ends every open feed.
            inner.feed = broadcast::channel(FEED_CAPACITY).0;
        }
        inner.down = down;
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every change is one map, list or channel call under the lock: a poisoned lock is
        // still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn up(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        let inner = self.lock();
        match inner.down {
            true => Err(StoreError::unavailable("memory store set down")),
            false => Ok(inner),
        }
    }
}

/// Removes the entries that match; returns how many.
fn remove_where<T>(list: &mut Vec<T>, matches: impl Fn(&T) -> bool) -> u64 {
    let before = list.len();
    list.retain(|item| !matches(item));
    (before - list.len()) as u64
}

impl LoginStore for MemoryStore {
    async fn create(&self, record: &LoginRecord) -> Result<(), StoreError> {
        self.up()?.logins.insert(record.key.clone(), record.clone());
        Ok(())
    }

    async fn load(&self, key: &str) -> Result<Option<LoginRecord>, StoreError> {
        Ok(self.up()?.logins.get(key).cloned())
    }

    async fn touch(&self, key: &str, last_used: SystemTime) -> Result<bool, StoreError> {
        let mut inner = self.up()?;
        Ok(match inner.logins.get_mut(key) {
            Some(record) => {
                record.last_used = last_used;
                true
            }
            None => false,
        })
    }

    async fn rotate(
        &self,
        key: &str,
        presented: &str,
        next: &str,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let mut inner = self.up()?;
        Ok(match inner.logins.get_mut(key) {
            Some(record) if record.current.as_deref() == Some(presented) => {
                record.current = Some(next.to_owned());
                record.last_used = now;
                true
            }
            _ => false,
        })
    }

    async fn replace_data(
        &self,
        key: &str,
        expected: &str,
        data: &str,
    ) -> Result<bool, StoreError> {
        let mut inner = self.up()?;
        Ok(match inner.logins.get_mut(key) {
            Some(record) if record.data == expected => {
                record.data = data.to_owned();
                true
            }
            _ => false,
        })
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.up()?.logins.remove(key);
        Ok(())
    }

    async fn delete_user(&self, subject: &str) -> Result<u64, StoreError> {
        let mut inner = self.up()?;
        let before = inner.logins.len();
        inner.logins.retain(|_, record| record.subject != subject);
        Ok((before - inner.logins.len()) as u64)
    }

    async fn purge_expired(&self, now: SystemTime) -> Result<u64, StoreError> {
        let mut inner = self.up()?;
        let before = inner.logins.len();
        inner.logins.retain(|_, record| record.expires_at > now);
        Ok((before - inner.logins.len()) as u64)
    }
}

/// An open feed of a [`MemoryStore`]: opaque, so that the channel behind it is not part of
/// authgate's API.
#[derive(Debug)]
pub struct MemoryFeed(broadcast::Receiver<String>);

impl RevocationStore for MemoryStore {
    type Feed = MemoryFeed;

    async fn revoke(&self, entry: &str, until: SystemTime) -> Result<(), StoreError> {
        let mut inner = self.up()?;
        inner.revocations.push((entry.to_owned(), until));
        // Sent under the lock: feeds see entries in the order the store took them. No
        // receiver (no Gate subscribed yet) is not an error.
        let _ = inner.feed.send(entry.to_owned());
        Ok(())
    }

    async fn entries(&self, now: SystemTime) -> Result<Vec<String>, StoreError> {
        let inner = self.up()?;
        let live = inner.revocations.iter().filter(|(_, until)| *until > now);
        Ok(live.map(|(entry, _)| entry.clone()).collect())
    }

    async fn announce(&self, message: &str) -> Result<(), StoreError> {
        let _ = self.up()?.feed.send(message.to_owned());
        Ok(())
    }

    async fn subscribe(&self) -> Result<Self::Feed, StoreError> {
        Ok(MemoryFeed(self.up()?.feed.subscribe()))
    }

    async fn next(&self, feed: &mut Self::Feed) -> Result<String, StoreError> {
        // `recv` is cancel-safe. Falling behind loses announcements: end the feed, so the Gate
        // reloads.
        feed.0.recv().await.map_err(|e| match e {
            broadcast::error::RecvError::Closed => {
                StoreError::unavailable("memory revocation feed closed")
            }
            broadcast::error::RecvError::Lagged(n) => StoreError::unavailable(format!(
                "memory revocation feed fell behind by {n} announcements"
            )),
        })
    }

    async fn purge(&self, now: SystemTime) -> Result<u64, StoreError> {
        let mut inner = self.up()?;
        Ok(remove_where(&mut inner.revocations, |(_, until)| {
            *until <= now
        }))
    }
}
