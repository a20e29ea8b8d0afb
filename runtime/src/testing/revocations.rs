//! The conformance suite of the [`RevocationStore`] contract: run it against your own store.

use std::time::Duration;

use crate::revocation::{FeedEvent, Revocation, RevocationFeed, RevocationStore};
use crate::session::StoreError;

/// Checks a [`RevocationStore`] against the contract the Gate relies on (see the trait):
/// what `revoke` stored is loaded until it expires and announced on every open feed, in order
/// with heartbeats; a later revocation of the same token or subject never shortens an earlier
/// one; `purge_expired` forgets exactly what expired; ids and subjects with spaces and
/// non-ASCII text survive. Run it on a store of its own (a fresh table or key prefix): it
/// writes revocations that live until about 2030 and purges everything before that.
///
/// ```
/// use authgate::MemoryRevocations;
/// use authgate::testing::RevocationConformance;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// RevocationConformance::new(MemoryRevocations::new()).assert().await;
/// # }
/// ```
pub struct RevocationConformance<S> {
    store: S,
}

/// Times the suite writes: far from the epoch and from today, so a purge at `NOW` cannot
/// touch revocations an app made.
const NOW: u64 = 1_900_000_000;
/// How long a feed may take to deliver one event.
const DELIVERY: Duration = Duration::from_secs(5);

impl<S: RevocationStore> RevocationConformance<S> {
    /// A suite for `store`.
    pub fn new(store: S) -> Self {
        RevocationConformance { store }
    }

    /// Runs every check; `Err` lists each that failed.
    pub async fn run(self) -> Result<(), Vec<String>> {
        let mut failures = Vec::new();
        if let Err(e) = self.checks(&mut failures).await {
            failures.push(format!("the store failed: {e}"));
        }
        match failures.is_empty() {
            true => Ok(()),
            false => Err(failures),
        }
    }

    /// Runs every check and panics with the list of failures.
    pub async fn assert(self) {
        if let Err(failures) = self.run().await {
            panic!(
                "the revocation store breaks its contract:\n  {}",
                failures.join("\n  ")
            );
        }
    }

    async fn checks(&self, failures: &mut Vec<String>) -> Result<(), StoreError> {
        let store = &self.store;
        let token = Revocation::Token {
            jti: "conformance token ✓".into(),
            until: NOW + 100,
        };
        let subject = Revocation::Subject {
            subject: "conformance subject ✓".into(),
            not_before: NOW - 10,
            until: NOW + 200,
        };
        let mut first = store.subscribe().await?;
        let mut second = store.subscribe().await?;
        store.revoke(&token).await?;
        store.revoke(&subject).await?;
        store.heartbeat(7).await?;
        let expected = [
            FeedEvent::Revoked(token.clone()),
            FeedEvent::Revoked(subject.clone()),
            FeedEvent::Heartbeat(7),
        ];
        for (name, feed) in [("a feed", &mut first), ("a second feed", &mut second)] {
            let got = next_events(feed.as_mut(), expected.len()).await;
            if got.as_deref() != Ok(&expected[..]) {
                failures.push(format!(
                    "{name} delivered {got:?}, not the revocations then the heartbeat, in order"
                ));
            }
        }

        let loaded = store.load(NOW).await?;
        for revocation in [&token, &subject] {
            if !covered(&loaded, revocation) {
                failures.push(format!("load did not return the stored {revocation:?}"));
            }
        }
        if covered(&store.load(NOW + 100).await?, &token) {
            failures.push("load returned a token revocation at its `until`".into());
        }

        // The same token revoked again until earlier: the later `until` holds.
        let shorter = Revocation::Token {
            jti: "conformance token ✓".into(),
            until: NOW + 50,
        };
        store.revoke(&shorter).await?;
        if !covered(&store.load(NOW + 60).await?, &token) {
            failures.push("a second, shorter revocation of a token shortened the first".into());
        }

        let purged = store.purge_expired(NOW + 150).await?;
        let left = store.load(NOW).await?;
        if purged == 0 || covered(&left, &token) {
            failures.push(format!(
                "purge_expired at NOW + 150 left the token revocation (purged {purged})"
            ));
        }
        if !covered(&left, &subject) {
            failures.push("purge_expired removed a revocation that had not expired".into());
        }
        store.purge_expired(NOW + 300).await?;
        Ok(())
    }
}

/// Whether `loaded` holds `revocation`, or one that revokes the same for at least as long.
fn covered(loaded: &[Revocation], revocation: &Revocation) -> bool {
    loaded.iter().any(|r| match (r, revocation) {
        (Revocation::Token { jti: a, until: ua }, Revocation::Token { jti: b, until: ub }) => {
            a == b && ua >= ub
        }
        (
            Revocation::Subject {
                subject: a,
                not_before: na,
                until: ua,
            },
            Revocation::Subject {
                subject: b,
                not_before: nb,
                until: ub,
            },
        ) => a == b && na >= nb && ua >= ub,
        _ => false,
    })
}

/// The next `n` events of `feed`, each within [`DELIVERY`].
async fn next_events(feed: &mut dyn RevocationFeed, n: usize) -> Result<Vec<FeedEvent>, String> {
    let mut events = Vec::new();
    while events.len() < n {
        match tokio::time::timeout(DELIVERY, feed.next()).await {
            Ok(Ok(event)) => events.push(event),
            Ok(Err(e)) => return Err(format!("{e} after {events:?}")),
            Err(_) => return Err(format!("nothing within {DELIVERY:?} after {events:?}")),
        }
    }
    Ok(events)
}
