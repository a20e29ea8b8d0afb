//! The conformance suite of the [`RefreshStore`] contract: run it against your own store.

use std::future::Future;

use crate::session::refresh::{RefreshFamily, RefreshStore};
use crate::session::{SessionKey, SessionUser, StoreError, new_session_id};
use crate::verify::BoxFuture;
use crate::{Gate, MemoryRevocations, RefreshTokens, Revocations, SessionErrorKind};

/// Checks a [`RefreshStore`] against the contract the Gate relies on (see the trait): create
/// and load, a rotation that replaces only the hash it was shown, **one winner** of two
/// concurrent rotations of the same token (run at once, as two requests would),
/// `delete_user_families` of one subject only, `purge_expired_families` at its boundary, times
/// kept exactly, and (with [`written`](Self::written)) that no refresh token or family id
/// reaches what the store wrote. It also runs a Gate on the store: a login's token pair, an
/// exchange, and a reuse that ends the family, with the tokens nowhere in the store. Run it on
/// a store of its own (a clone shares it): its purge check deletes every family that ends
/// before 2040.
///
/// ```
/// use authgate::MemoryStore;
/// use authgate::testing::RefreshConformance;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let store = MemoryStore::new();
/// let dump = store.clone();
/// RefreshConformance::new(store)
///     .written(move || {
///         let families = dump.families();
///         async move { serde_json::to_vec(&families).unwrap_or_default() }
///     })
///     .assert()
///     .await;
/// # }
/// ```
pub struct RefreshConformance<S> {
    store: S,
    written: Option<Box<Written>>,
}

/// Reads everything a store wrote.
type Written = dyn Fn() -> BoxFuture<'static, Vec<u8>> + Send + Sync;

/// Times the suite writes: far from the epoch, near no boundary of `u32` or `i64`.
const NOW: u64 = 1_900_000_000;

impl<S: RefreshStore + Clone> RefreshConformance<S> {
    /// A suite for `store`.
    pub fn new(store: S) -> Self {
        RefreshConformance {
            store,
            written: None,
        }
    }

    /// How to read everything the store wrote (a database file, a dump of its tables), to
    /// check that no refresh token or family id is in it.
    pub fn written<F, Fut>(mut self, dump: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<u8>> + Send + 'static,
    {
        self.written = Some(Box::new(move || Box::pin(dump())));
        self
    }

    /// Runs every check; `Err` lists each that failed.
    pub async fn run(self) -> Result<(), Vec<String>> {
        let mut failures = Vec::new();
        let mut run = Run::new(&self.store);
        if let Err(e) = run.checks(&mut failures, self.written.as_deref()).await {
            failures.push(format!("the store failed: {e}"));
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures)
        }
    }

    /// Runs every check and panics with the list of failures.
    pub async fn assert(self) {
        if let Err(failures) = self.run().await {
            panic!(
                "the refresh store breaks its contract:\n  {}",
                failures.join("\n  ")
            );
        }
    }
}

/// One run: its own subjects, and every secret it made (family ids and tokens).
struct Run<'s, S> {
    store: &'s S,
    tag: String,
    secrets: Vec<String>,
}

impl<'s, S: RefreshStore + Clone> Run<'s, S> {
    fn new(store: &'s S) -> Self {
        let tag = new_session_id().unwrap_or_else(|_| "conformance".to_owned());
        Run {
            store,
            tag: tag[..8].to_owned(),
            secrets: Vec::new(),
        }
    }

    /// The hash of a new secret, remembered for the leak check.
    fn secret(&mut self) -> Result<SessionKey, StoreError> {
        let secret = new_session_id()?;
        let key = SessionKey::of(&secret);
        self.secrets.push(secret);
        Ok(key)
    }

    /// A new family of `who` (a subject of this run), stored, with `expires_at`.
    async fn family(&mut self, who: &str, expires_at: u64) -> Result<RefreshFamily, StoreError> {
        let family = RefreshFamily {
            key: self.secret()?,
            current: self.secret()?,
            subject: format!("{who}-{}", self.tag),
            roles: vec!["user".into(), "billing".into()],
            scopes: vec!["notes:read".into()],
            claims: format!(r#"{{"email":"{who}@example.com"}}"#),
            created_at: NOW - 60,
            last_used: NOW - 30,
            expires_at,
        };
        self.store.create_family(&family).await?;
        Ok(family)
    }

    async fn checks(
        &mut self,
        failures: &mut Vec<String>,
        written: Option<&Written>,
    ) -> Result<(), StoreError> {
        let mut check = |ok: bool, what: &str| {
            if !ok {
                failures.push(what.to_owned());
            }
        };
        let store = self.store;

        let alice = self.family("alice", NOW + 3600).await?;
        check(
            store.load_family(&alice.key).await?.as_ref() == Some(&alice),
            "load_family returns what create_family stored",
        );
        let missing = SessionKey::of("no family has this id");
        check(
            store.load_family(&missing).await?.is_none(),
            "load_family of an unknown key is None",
        );

        let next = self.secret()?;
        check(
            store
                .rotate_family(&alice.key, &alice.current, &next, NOW)
                .await?,
            "rotate_family with the hash in force reports true",
        );
        let rotated = store.load_family(&alice.key).await?;
        let want = RefreshFamily {
            current: next,
            last_used: NOW,
            ..alice.clone()
        };
        check(
            rotated == Some(want.clone()),
            "rotate_family sets current and last_used and nothing else",
        );
        let after = self.secret()?;
        check(
            !store
                .rotate_family(&alice.key, &alice.current, &after, NOW + 1)
                .await?,
            "rotate_family with a hash no longer in force reports false",
        );
        check(
            store.load_family(&alice.key).await? == Some(want),
            "a refused rotation changes nothing",
        );
        check(
            !store.rotate_family(&missing, &missing, &after, NOW).await?,
            "rotate_family of an unknown key reports false",
        );
        check(
            store.load_family(&missing).await?.is_none(),
            "rotate_family never creates a family",
        );

        // Two requests exchange the same token at once: at most one may win, whatever the
        // store's connections, locks and replicas do.
        for round in 0..8 {
            let raced = self.family("raced", NOW + 3600).await?;
            let (a, b) = (self.secret()?, self.secret()?);
            let (first, second) = tokio::join!(
                store.rotate_family(&raced.key, &raced.current, &a, NOW),
                store.rotate_family(&raced.key, &raced.current, &b, NOW),
            );
            let (first, second) = (first?, second?);
            check(
                first != second,
                &format!("exactly one of two concurrent rotations wins (round {round})"),
            );
            let current = store.load_family(&raced.key).await?.map(|f| f.current);
            let winner = if first { &a } else { &b };
            check(
                current.as_ref() == Some(winner),
                "the family holds the winner's hash",
            );
            store.delete_family(&raced.key).await?;
        }

        let first = self.family("carol", NOW + 3600).await?;
        let second = self.family("carol", NOW + 7200).await?;
        let other = self.family("dave", NOW + 3600).await?;
        let carol = first.subject.clone();
        check(
            store.delete_user_families(&carol).await? == 2,
            "delete_user_families counts the user's families",
        );
        check(
            store.load_family(&first.key).await?.is_none()
                && store.load_family(&second.key).await?.is_none(),
            "delete_user_families deletes every family of the user",
        );
        check(
            store.load_family(&other.key).await?.is_some(),
            "delete_user_families keeps other users' families",
        );
        check(
            store.delete_user_families(&carol).await? == 0,
            "delete_user_families of a user without families is 0",
        );

        // A Gate on the store: what it hands out never reaches the store, only hashes do.
        let gate = Gate::builder()
            .hs256(new_session_id()?)
            .revocations(Revocations::new(MemoryRevocations::new()))
            .refresh_tokens(RefreshTokens::new(store.clone()))
            .clock(|| NOW)
            .build()
            .map_err(|e| StoreError::new(e.to_string()))?;
        let user = SessionUser::new(format!("gate-{}", self.tag)).roles(["user"]);
        let issued = gate.issue_tokens(&user).await;
        let issued = issued.map_err(|e| StoreError::new(e.to_string()))?;
        let exchanged = gate.refresh(issued.refresh_token.as_str()).await;
        check(
            exchanged.is_ok(),
            "a Gate on the store exchanges its refresh token",
        );
        let family_id = issued
            .refresh_token
            .as_str()
            .split('.')
            .next()
            .unwrap_or_default();
        let family_key = SessionKey::of(family_id);
        for token in [Some(&issued), exchanged.as_ref().ok()]
            .into_iter()
            .flatten()
        {
            self.secrets.push(token.refresh_token.as_str().to_owned());
            self.secrets.push(token.token.as_str().to_owned());
        }
        self.secrets.push(family_id.to_owned());
        if let Ok(next) = &exchanged {
            let held = store.load_family(&family_key).await?.map(|f| f.current);
            check(
                held == Some(SessionKey::of(next.refresh_token.as_str())),
                "the store holds the hash of the Gate's new refresh token",
            );
        }
        let far = self.family("far", u64::from(u32::MAX) + 5).await?;
        if let Some(written) = written {
            let bytes = written().await;
            let leaked = self
                .secrets
                .iter()
                .any(|secret| contains(&bytes, secret.as_bytes()));
            check(
                !leaked,
                "no refresh token or family id is in what the store wrote",
            );
            check(
                contains(&bytes, far.key.as_str().as_bytes())
                    && contains(&bytes, far.current.as_str().as_bytes()),
                "what the store wrote holds its families' hashes",
            );
        }
        check(
            store.load_family(&far.key).await?.map(|f| f.expires_at)
                == Some(u64::from(u32::MAX) + 5),
            "times beyond 32 bits are kept exactly",
        );

        // The first token again: a reuse, which ends the family.
        let reused = gate.refresh(issued.refresh_token.as_str()).await;
        check(
            reused.is_err_and(|e| matches!(e.kind(), SessionErrorKind::InvalidRefreshToken)),
            "a Gate refuses a refresh token used before",
        );
        check(
            store.load_family(&family_key).await?.is_none(),
            "a reused refresh token ends its family in the store",
        );

        let purge_at = NOW + 10 * 365 * 24 * 3600;
        let expired = self.family("expired", purge_at - 1).await?;
        let boundary = self.family("boundary", purge_at).await?;
        let live = self.family("live", purge_at + 100).await?;
        let purged = store.purge_expired_families(purge_at).await?;
        check(purged >= 2, "purge_expired_families counts what it deleted");
        check(
            store.load_family(&expired.key).await?.is_none(),
            "purge_expired_families deletes a family past its lifetime",
        );
        check(
            store.load_family(&boundary.key).await?.is_none(),
            "purge_expired_families deletes a family ending at `now`",
        );
        check(
            store.load_family(&live.key).await?.is_some(),
            "purge_expired_families keeps a live family",
        );

        store.delete_family(&missing).await?;
        for family in [&alice, &other, &far, &live] {
            store.delete_family(&family.key).await?;
            check(
                store.load_family(&family.key).await?.is_none(),
                "delete_family deletes",
            );
        }
        Ok(())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
