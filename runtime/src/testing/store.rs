//! The conformance suite of the [`SessionStore`] contract: run it against your own store.

use std::future::Future;

use crate::session::{SessionKey, SessionRecord, SessionStore, new_session_id};
use crate::verify::BoxFuture;

/// Checks a [`SessionStore`] against the contract the Gate relies on (see the trait): create
/// and load, an update-only `touch` that never resurrects a revoked session (the
/// revoke-during-touch race), `delete_user` of one subject only, `purge_expired` at its
/// boundary, times kept exactly, and (with [`written`](Self::written)) that no session id
/// reaches what the store wrote. Run it on a store of its own (a fresh table, key prefix or
/// database): its purge check deletes every session that ends before 2040.
///
/// ```
/// use authgate::MemoryStore;
/// use authgate::testing::StoreConformance;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let store = MemoryStore::new();
/// let dump = store.clone();
/// StoreConformance::new(store)
///     .written(move || {
///         let records = dump.records();
///         async move { serde_json::to_vec(&records).unwrap_or_default() }
///     })
///     .assert()
///     .await;
/// # }
/// ```
pub struct StoreConformance<S> {
    store: S,
    written: Option<Box<Written>>,
}

/// Reads everything a store wrote.
type Written = dyn Fn() -> BoxFuture<'static, Vec<u8>> + Send + Sync;

/// Times the suite writes: far from the epoch, near no boundary of `u32` or `i64`.
const NOW: u64 = 1_900_000_000;

impl<S: SessionStore> StoreConformance<S> {
    /// A suite for `store`.
    pub fn new(store: S) -> Self {
        StoreConformance {
            store,
            written: None,
        }
    }

    /// How to read everything the store wrote (a database file, a dump of its tables), to
    /// check that no session id is in it.
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
                "the session store breaks its contract:\n  {}",
                failures.join("\n  ")
            );
        }
    }
}

/// One run: its own subjects, and every session id it made.
struct Run<'s, S> {
    store: &'s S,
    tag: String,
    ids: Vec<String>,
}

impl<'s, S: SessionStore> Run<'s, S> {
    fn new(store: &'s S) -> Self {
        let tag = new_session_id().unwrap_or_else(|_| "conformance".to_owned());
        Run {
            store,
            tag: tag[..8].to_owned(),
            ids: Vec::new(),
        }
    }

    /// A new session of `who` (a subject of this run), stored, with `expires_at`.
    async fn session(
        &mut self,
        who: &str,
        expires_at: u64,
    ) -> Result<SessionRecord, crate::StoreError> {
        let id = new_session_id()?;
        let record = SessionRecord {
            key: SessionKey::of(&id),
            subject: format!("{who}-{}", self.tag),
            roles: vec!["user".into(), "billing".into()],
            scopes: vec!["invoices:read".into()],
            claims: format!(
                r#"{{"sub":"{who}-{}","email":"{who}@example.com"}}"#,
                self.tag
            ),
            created_at: NOW - 60,
            last_seen: NOW - 30,
            expires_at,
        };
        self.ids.push(id);
        self.store.create(&record).await?;
        Ok(record)
    }

    async fn checks(
        &mut self,
        failures: &mut Vec<String>,
        written: Option<&Written>,
    ) -> Result<(), crate::StoreError> {
        let mut check = |ok: bool, what: &str| {
            if !ok {
                failures.push(what.to_owned());
            }
        };
        let store = self.store;

        let alice = self.session("alice", NOW + 3600).await?;
        let loaded = store.load(&alice.key).await?;
        check(
            loaded.as_ref() == Some(&alice),
            "load returns what create stored",
        );
        let missing = SessionKey::of("no session has this id");
        check(
            store.load(&missing).await?.is_none(),
            "load of an unknown key is None",
        );

        check(
            store.touch(&alice.key, NOW).await?,
            "touch of a session reports true",
        );
        let touched = store.load(&alice.key).await?;
        let want = SessionRecord {
            last_seen: NOW,
            ..alice.clone()
        };
        check(
            touched == Some(want),
            "touch sets last_seen and nothing else",
        );
        check(
            !store.touch(&missing, NOW).await?,
            "touch of an unknown key reports false",
        );
        check(
            store.load(&missing).await?.is_none(),
            "touch never creates a session",
        );

        // The race: a request loads the session, a revocation deletes it, then the request
        // writes its last-seen time. The session must stay deleted.
        let raced = self.session("raced", NOW + 3600).await?;
        let _loaded = store.load(&raced.key).await?;
        store.delete(&raced.key).await?;
        check(
            !store.touch(&raced.key, NOW).await?,
            "touch after a revocation reports false",
        );
        check(
            store.load(&raced.key).await?.is_none(),
            "touch after a revocation does not bring the session back",
        );
        store.delete(&raced.key).await?;

        let first = self.session("carol", NOW + 3600).await?;
        let second = self.session("carol", NOW + 7200).await?;
        let other = self.session("dave", NOW + 3600).await?;
        let carol = first.subject.clone();
        check(
            store.delete_user(&carol).await? == 2,
            "delete_user counts the user's sessions",
        );
        check(
            store.load(&first.key).await?.is_none() && store.load(&second.key).await?.is_none(),
            "delete_user deletes every session of the user",
        );
        check(
            store.load(&other.key).await?.is_some(),
            "delete_user keeps other users' sessions",
        );
        check(
            store.delete_user(&carol).await? == 0,
            "delete_user of a user without sessions is 0",
        );

        let far = self.session("far", u64::from(u32::MAX) + 5).await?;
        // What the store wrote, while it holds sessions (alice, dave's, far): no id in it.
        if let Some(written) = written {
            let bytes = written().await;
            let leaked = self.ids.iter().any(|id| contains(&bytes, id.as_bytes()));
            let keyed = contains(&bytes, far.key.as_str().as_bytes());
            check(!leaked, "no session id is in what the store wrote");
            // The dump is of this store: it holds what the store keeps, the sessions' keys.
            check(keyed, "what the store wrote holds its sessions' keys");
        }
        let loaded = store.load(&far.key).await?;
        check(
            loaded.map(|r| r.expires_at) == Some(u64::from(u32::MAX) + 5),
            "times beyond 32 bits are kept exactly",
        );

        // Purge ten years after the suite's `NOW`: it deletes every session of the store that
        // ends earlier, which is why the suite wants a store of its own.
        let purge_at = NOW + 10 * 365 * 24 * 3600;
        let expired = self.session("expired", purge_at - 1).await?;
        let boundary = self.session("boundary", purge_at).await?;
        let live = self.session("live", purge_at + 100).await?;
        let purged = store.purge_expired(purge_at).await?;
        check(purged >= 2, "purge_expired counts what it deleted");
        check(
            store.load(&expired.key).await?.is_none(),
            "purge_expired deletes a session past its lifetime",
        );
        check(
            store.load(&boundary.key).await?.is_none(),
            "purge_expired deletes a session ending at `now`",
        );
        check(
            store.load(&live.key).await?.is_some(),
            "purge_expired keeps a live session",
        );

        store.delete(&missing).await?;
        for record in [&alice, &other, &far, &live] {
            store.delete(&record.key).await?;
            check(store.load(&record.key).await?.is_none(), "delete deletes");
        }
        Ok(())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
