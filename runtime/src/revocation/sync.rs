//! The task that keeps a Gate's revocation view current: subscribe, load everything, then
//! apply the feed and confirm the view with heartbeats; on any failure, start over.

use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use tokio::time::{MissedTickBehavior, interval, sleep, timeout};

use super::{FeedEvent, Revocation, Revocations, View};
use crate::clock::{Clock, monotonic_ms, time};
use crate::store::{RevocationLog, StoreError};

/// The bound on each store call the task makes.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// The first wait before subscribing again after a failure; doubled up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Why [`follow`] returned.
enum Ended {
    /// The Gate is gone: the task ends.
    GateDropped,
    /// The store or its feed failed: subscribe again.
    Failed(StoreError),
}

impl From<StoreError> for Ended {
    fn from(e: StoreError) -> Self {
        Ended::Failed(e)
    }
}

/// Starts the task. It holds the view weakly and ends soon after the Gate is dropped.
pub(super) fn spawn(settings: &Revocations, clock: Clock) {
    let task = Task {
        store: settings.store.clone(),
        view: Arc::downgrade(&settings.view),
        clock,
        staleness_ms: u64::try_from(settings.staleness.as_millis()).unwrap_or(u64::MAX),
        heartbeat_every: settings.heartbeat_interval(),
        purge_every: settings.purge_every,
    };
    tokio::spawn(async move {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let started = Instant::now();
            match task.follow().await {
                Ended::GateDropped => return,
                Ended::Failed(error) => {
                    tracing::warn!(target: "authgate", %error,
                        "revocation feed lost; subscribing again (requests answer 503 once \
                         the view is older than the staleness bound)");
                }
            }
            // A feed that ran for a while failed afresh: retry soon.
            if started.elapsed() > MAX_BACKOFF * 2 {
                backoff = FIRST_BACKOFF;
            }
            sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            if task.view.strong_count() == 0 {
                return;
            }
        }
    });
}

struct Task {
    store: RevocationLog,
    view: Weak<View>,
    clock: Clock,
    staleness_ms: u64,
    heartbeat_every: Duration,
    purge_every: Duration,
}

impl Task {
    /// One subscription: returns only when it fails or the Gate is gone.
    async fn follow(&self) -> Ended {
        // Subscribed before the load: a revocation made in between is in the load, the feed,
        // or both (applying one twice changes nothing).
        let subscribed_at = monotonic_ms();
        let mut feed = match call(self.store.clone().subscribe()).await {
            Ok(feed) => feed,
            Err(e) => return e.into(),
        };
        let loaded = match call(self.store.entries(time(self.clock.now()))).await {
            Ok(loaded) => loaded,
            Err(e) => return e.into(),
        };
        // A revocation that does not read back is never skipped: the view would miss it.
        let loaded: Vec<Revocation> = match loaded.iter().map(|e| Revocation::parse(e)).collect() {
            Some(loaded) => loaded,
            None => return Ended::Failed(StoreError::corrupt("a revocation that does not parse")),
        };
        {
            let Some(view) = self.view.upgrade() else {
                return Ended::GateDropped;
            };
            view.replace(&loaded, self.clock.now());
            view.confirm(subscribed_at.saturating_add(self.staleness_ms));
            tracing::info!(target: "authgate", revocations = loaded.len(),
                "revocation view loaded; following the store's feed");
        }
        let mut beats = interval(self.heartbeat_every);
        beats.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut purges = interval(self.purge_every);
        purges.set_missed_tick_behavior(MissedTickBehavior::Delay);
        purges.tick().await;
        // Heartbeats sent and not yet back, oldest first, with when each was sent.
        let mut pending: VecDeque<(u64, u64)> = VecDeque::new();
        loop {
            tokio::select! {
                announced = feed.next() => {
                    let announced = match announced {
                        Ok(announced) => announced,
                        Err(e) => return e.into(),
                    };
                    // Not ours (someone else announcing on the channel): skip it.
                    let Some(event) = FeedEvent::parse(&announced) else {
                        continue;
                    };
                    let Some(view) = self.view.upgrade() else {
                        return Ended::GateDropped;
                    };
                    match event {
                        FeedEvent::Revoked(revocation) => view.apply(&revocation, self.clock.now()),
                        FeedEvent::Heartbeat(beat) => {
                            // Ours: everything announced before it was sent is applied.
                            if let Some(at) = pending.iter().position(|(b, _)| *b == beat) {
                                let sent = pending[at].1;
                                pending.drain(..=at);
                                view.confirm(sent.saturating_add(self.staleness_ms));
                            }
                        }
                    }
                }
                _ = beats.tick() => {
                    let Some(view) = self.view.upgrade() else {
                        return Ended::GateDropped;
                    };
                    view.forget_expired(self.clock.now());
                    drop(view);
                    let sent = monotonic_ms();
                    // A feed whose heartbeats stopped coming back is broken even if it never
                    // said so (a half-open connection): subscribe again while the view is
                    // still current.
                    if pending.front().is_some_and(|(_, at)| sent.saturating_sub(*at) > self.staleness_ms / 2) {
                        return Ended::Failed(StoreError::unavailable("heartbeats stopped coming back"));
                    }
                    let beat = match random_beat() {
                        Ok(beat) => beat,
                        Err(e) => return e.into(),
                    };
                    pending.push_back((beat, sent));
                    if let Err(e) = call(self.store.announce(&FeedEvent::heartbeat(beat))).await {
                        return e.into();
                    }
                }
                _ = purges.tick() => {
                    match call(self.store.purge(time(self.clock.now()))).await {
                        Ok(0) => {}
                        Ok(purged) => tracing::debug!(target: "authgate", purged,
                            "expired revocations purged"),
                        // The feed still works: keep following it.
                        Err(error) => tracing::warn!(target: "authgate", %error,
                            "purging expired revocations failed"),
                    }
                }
            }
        }
    }
}

/// A store call, bounded by [`CALL_TIMEOUT`].
async fn call<T>(future: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    match timeout(CALL_TIMEOUT, future).await {
        Ok(result) => result,
        Err(_) => Err(StoreError::unavailable("revocation store call timed out")),
    }
}

fn random_beat() -> Result<u64, StoreError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::unavailable(format!("no randomness: {e}")))?;
    Ok(u64::from_le_bytes(bytes))
}
