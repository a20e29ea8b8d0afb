//! The revocation suite of [`Conformance::revocations`](super::Conformance::revocations):
//! revocations kept, announced and loaded, and a logout that reaches every Gate on the store.

use std::sync::Arc;
use std::time::Duration;

use super::{DELIVERY, NOW, bearer_user};
use crate::clock::time;
use crate::gate::Gate;
use crate::identity::Identity;
use crate::issuers::Issuer;
use crate::revocation::Revocations;
use crate::store::{MemoryStore, RevocationStore, StoreError, random_id};
use crate::tokens::RefreshTokens;

/// The revocation suite.
pub(super) async fn checks<S: RevocationStore>(
    store: Arc<S>,
) -> (Vec<String>, Result<(), StoreError>) {
    let mut failures = Vec::new();
    let mut outcome = revocations_run(&*store, &mut failures).await;
    if outcome.is_ok() {
        outcome = gates_share_a_logout(&store, &mut failures).await;
    }
    let cleaned = store.purge(time(NOW + 3 * 24 * 3600)).await;
    (failures, outcome.and(cleaned.map(|_| ())))
}

/// A store shared by several Gates of the suite.
struct Shared<S>(Arc<S>);

impl<S: RevocationStore> RevocationStore for Shared<S> {
    type Feed = S::Feed;

    async fn revoke(&self, entry: &str, until: std::time::SystemTime) -> Result<(), StoreError> {
        self.0.revoke(entry, until).await
    }

    async fn entries(&self, now: std::time::SystemTime) -> Result<Vec<String>, StoreError> {
        self.0.entries(now).await
    }

    async fn announce(&self, message: &str) -> Result<(), StoreError> {
        self.0.announce(message).await
    }

    async fn subscribe(&self) -> Result<S::Feed, StoreError> {
        self.0.subscribe().await
    }

    async fn next(&self, feed: &mut S::Feed) -> Result<String, StoreError> {
        self.0.next(feed).await
    }

    async fn purge(&self, now: std::time::SystemTime) -> Result<u64, StoreError> {
        self.0.purge(now).await
    }
}

/// Two Gates on the store (their refresh families in memory, shared): a logout with a bearer
/// token on one ends the login's access tokens on the other, the one its refresh handed out
/// included, within [`DELIVERY`]; a third Gate, started afterwards, loads that.
async fn gates_share_a_logout<S: RevocationStore>(
    store: &Arc<S>,
    failures: &mut Vec<String>,
) -> Result<(), StoreError> {
    let secret = random_id(32)?;
    let families = MemoryStore::new();
    let gate = || {
        Gate::builder()
            .issuer(Issuer::new("https://conformance.test").secret(secret.clone()))
            .revocations(Revocations::new(Shared(store.clone())))
            .refresh_tokens(RefreshTokens::new(families.clone()))
            .clock(|| time(NOW))
            .build()
            .map_err(|e| StoreError::unavailable(e.to_string()))
    };
    let failed = |e: crate::Rejection| StoreError::unavailable(e.to_string());
    let (a, b) = (gate()?, gate()?);
    if !(a.ready(DELIVERY).await && b.ready(DELIVERY).await) {
        failures.push("two Gates on the store never loaded their revocations".into());
        return Ok(());
    }
    let login = a
        .issue(&Identity::new("conformance logout ✓"))
        .await
        .map_err(failed)?;
    let refreshed = b
        .refresh(login.refresh_token().unwrap_or_default())
        .await
        .map_err(failed)?;
    let token = refreshed.access_token();
    if bearer_user(&b, token).await.is_none() {
        failures.push("a Gate on the store refused a token of a login in force".into());
        return Ok(());
    }
    let Some(caller) = bearer_user(&a, login.access_token()).await else {
        failures.push("a Gate on the store refused its own token".into());
        return Ok(());
    };
    let _no_cookie = a.logout(&caller).await.map_err(failed)?;
    let start = tokio::time::Instant::now();
    while bearer_user(&b, token).await.is_some() {
        if start.elapsed() > DELIVERY {
            failures.push(format!(
                "a Gate on the store still accepts a token of a login ended on another after \
                 {DELIVERY:?}"
            ));
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let c = gate()?;
    if !c.ready(DELIVERY).await {
        failures.push("a Gate started later never loaded its revocations".into());
    } else if bearer_user(&c, token).await.is_some() {
        failures.push(
            "a Gate started after a logout accepts a token of the ended login: the entry \
             did not load"
                .into(),
        );
    }
    Ok(())
}

async fn revocations_run<S: RevocationStore>(
    store: &S,
    failures: &mut Vec<String>,
) -> Result<(), StoreError> {
    let token = "t conformance token ✓";
    let subject = "s conformance subject ✓";
    let mut first = store.subscribe().await?;
    let mut second = store.subscribe().await?;
    store.revoke(token, time(NOW + 100)).await?;
    store.revoke(subject, time(NOW + 200)).await?;
    store.announce("h 7").await?;
    let expected = [token, subject, "h 7"];
    for (name, feed) in [("a feed", &mut first), ("a second feed", &mut second)] {
        let got = next_announcements(store, feed, expected.len()).await;
        if got.as_deref() != Ok(&expected.map(str::to_owned)[..]) {
            failures.push(format!(
                "{name} delivered {got:?}, not the entries then the message, in order"
            ));
        }
    }

    let loaded = store.entries(time(NOW)).await?;
    for entry in [token, subject] {
        if !loaded.iter().any(|e| e == entry) {
            failures.push(format!("load did not return the stored {entry:?}"));
        }
    }
    if loaded.iter().any(|e| e.starts_with('h')) {
        failures.push("load returned an announced message, which is not kept".into());
    }
    if store
        .entries(time(NOW + 100))
        .await?
        .iter()
        .any(|e| e == token)
    {
        failures.push("load returned an entry at its `until`".into());
    }

    let purged = store.purge(time(NOW + 150)).await?;
    let left = store.entries(time(NOW)).await?;
    if purged == 0 || left.iter().any(|e| e == token) {
        failures.push(format!(
            "purge at NOW + 150 left the entry kept until NOW + 100 (purged {purged})"
        ));
    }
    if !left.iter().any(|e| e == subject) {
        failures.push("purge removed an entry that had not ended".into());
    }
    // Its entries are not authgate's revocations: gone before a Gate loads the store.
    store.purge(time(NOW + 300)).await?;
    Ok(())
}

/// The next `n` announcements of `feed`, each within [`DELIVERY`].
async fn next_announcements<S: RevocationStore>(
    store: &S,
    feed: &mut S::Feed,
    n: usize,
) -> Result<Vec<String>, String> {
    let mut got = Vec::new();
    while got.len() < n {
        match tokio::time::timeout(DELIVERY, store.next(feed)).await {
            Ok(Ok(announced)) => got.push(announced),
            Ok(Err(e)) => return Err(format!("{e} after {got:?}")),
            Err(_) => return Err(format!("nothing within {DELIVERY:?} after {got:?}")),
        }
    }
    Ok(got)
}
