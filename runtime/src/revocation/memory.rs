//! [`MemoryRevocations`]: revocations kept in this process, for one-instance apps and tests.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::broadcast;

use super::{FeedEvent, Revocation, RevocationFeed, RevocationStore};
use crate::session::StoreError;
use crate::verify::BoxFuture;

/// Revocations in memory, shared by every Gate given a clone of it (several Gates in one
/// process, as in tests of several instances). They do not survive a restart: use a Redis or
/// PostgreSQL store when they must, or when the app runs on several machines.
///
/// [`set_down`](Self::set_down) makes it fail like a store whose server is gone, for tests
/// of what the Gate does then.
///
/// ```
/// use authgate::{MemoryRevocations, Revocations};
/// let store = MemoryRevocations::new();
/// let settings = Revocations::new(store.clone());
/// ```
#[derive(Clone, Debug)]
pub struct MemoryRevocations {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    revocations: HashSet<Revocation>,
    feed: broadcast::Sender<FeedEvent>,
    down: bool,
}

/// Events a feed may fall behind by before it is ended (and its Gate reloads).
const FEED_CAPACITY: usize = 4096;

impl Default for MemoryRevocations {
    fn default() -> Self {
        MemoryRevocations {
            inner: Arc::new(Mutex::new(Inner {
                revocations: HashSet::new(),
                feed: broadcast::channel(FEED_CAPACITY).0,
                down: false,
            })),
        }
    }
}

impl MemoryRevocations {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every revocation the store holds, for inspection in tests.
    pub fn revocations(&self) -> Vec<Revocation> {
        self.lock().revocations.iter().cloned().collect()
    }

    /// While `down`, every call fails, and feeds open before end with an error: like a
    /// store whose server went away. Up again, it has kept what it held.
    pub fn set_down(&self, down: bool) {
        let mut inner = self.lock();
        if down && !inner.down {
            // Dropping the sender ends every open feed.
            inner.feed = broadcast::channel(FEED_CAPACITY).0;
        }
        inner.down = down;
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every change is one set or channel call: a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn up(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        let inner = self.lock();
        match inner.down {
            true => Err(StoreError::new("revocation store down")),
            false => Ok(inner),
        }
    }
}

fn ready<T: Send + 'static>(value: T) -> BoxFuture<'static, T> {
    Box::pin(std::future::ready(value))
}

impl RevocationStore for MemoryRevocations {
    fn revoke(&self, revocation: &Revocation) -> BoxFuture<'_, Result<(), StoreError>> {
        let done = self.up().map(|mut inner| {
            inner.revocations.insert(revocation.clone());
            // Sent under the lock: feeds see revocations in the order the set took them. No
            // receiver (no Gate subscribed yet) is not an error.
            let _ = inner.feed.send(FeedEvent::Revoked(revocation.clone()));
        });
        ready(done)
    }

    fn load(&self, now: u64) -> BoxFuture<'_, Result<Vec<Revocation>, StoreError>> {
        let loaded = self.up().map(|inner| {
            let live = inner.revocations.iter().filter(|r| r.until() > now);
            live.cloned().collect()
        });
        ready(loaded)
    }

    fn subscribe(&self) -> BoxFuture<'_, Result<Box<dyn RevocationFeed>, StoreError>> {
        let feed = self.up().map(|inner| {
            let feed: Box<dyn RevocationFeed> = Box::new(MemoryFeed(inner.feed.subscribe()));
            feed
        });
        ready(feed)
    }

    fn heartbeat(&self, beat: u64) -> BoxFuture<'_, Result<(), StoreError>> {
        let sent = self.up().map(|inner| {
            let _ = inner.feed.send(FeedEvent::Heartbeat(beat));
        });
        ready(sent)
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        let purged = self.up().map(|mut inner| {
            let before = inner.revocations.len();
            inner.revocations.retain(|r| r.until() > now);
            (before - inner.revocations.len()) as u64
        });
        ready(purged)
    }
}

struct MemoryFeed(broadcast::Receiver<FeedEvent>);

impl RevocationFeed for MemoryFeed {
    fn next(&mut self) -> BoxFuture<'_, Result<FeedEvent, StoreError>> {
        Box::pin(async move {
            // `recv` is cancel-safe. Falling behind loses events: end the feed, so the Gate
            // reloads.
            self.0.recv().await.map_err(|e| match e {
                broadcast::error::RecvError::Closed => StoreError::new("revocation feed closed"),
                broadcast::error::RecvError::Lagged(n) => {
                    StoreError::new(format!("revocation feed fell behind by {n} events"))
                }
            })
        })
    }
}
