//! The background purge of what a store keeps past its end: expired logins and revocations.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{BoxFuture, StoreError};
use crate::clock::{Clock, time};

/// What a purge task logs: a purge that removed something, a failed one, one past 30 s.
pub(crate) struct PurgeLog {
    pub(crate) purged: &'static str,
    pub(crate) failed: &'static str,
    pub(crate) slow: &'static str,
}

/// The purge task of a store: every `every`, `purge` at the clock's now, bounded to 30
/// seconds and logged with `log`. It holds the store weakly, so it ends with the Gate.
pub(crate) fn spawn_purge<S, F>(
    store: &Arc<S>,
    every: Duration,
    clock: Clock,
    log: PurgeLog,
    purge: F,
) where
    S: ?Sized + Send + Sync + 'static,
    F: for<'s> Fn(&'s S, SystemTime) -> BoxFuture<'s, Result<u64, StoreError>> + Send + 'static,
{
    let store = Arc::downgrade(store);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let Some(store) = store.upgrade() else {
                return;
            };
            let now = time(clock.now());
            match tokio::time::timeout(Duration::from_secs(30), purge(&store, now)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(purged)) => tracing::debug!(target: "authgate", purged, "{}", log.purged),
                Ok(Err(error)) => tracing::warn!(target: "authgate", %error, "{}", log.failed),
                Err(_) => tracing::warn!(target: "authgate", "{}", log.slow),
            }
        }
    });
}
