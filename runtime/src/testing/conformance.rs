//! The conformance suites of the store contracts: run them against your own store.

mod data;
mod revocations;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::time;
use crate::gate::Gate;
use crate::identity::Identity;
use crate::issuers::Issuer;
use crate::reject::RejectionKind;
use crate::revocation::Revocations;
use crate::store::{
    BoxFuture, IdHash, LoginRecord, LoginStore, MemoryStore, RevocationStore, StoreError, random_id,
};
use crate::tokens::RefreshTokens;

/// Checks a store against the contract authgate relies on: [`logins`](Self::logins) for a
/// [`LoginStore`], [`revocations`](Self::revocations) for a [`RevocationStore`] (see each
/// trait for its contract). The bundled stores pass both; so must yours.
///
/// Run each suite on a store of its own (a fresh table, key prefix or database): it writes
/// records dated around 2030 and purges everything that ends before 2040.
///
/// ```
/// use authgate::store::MemoryStore;
/// use authgate::testing::Conformance;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let store = MemoryStore::new();
/// let dump = store.clone();
/// Conformance::logins(store)
///     .written(move || {
///         let logins = dump.logins();
///         async move { format!("{logins:?}").into_bytes() }
///     })
///     .assert()
///     .await;
/// Conformance::revocations(MemoryStore::new()).assert().await;
/// # }
/// ```
#[must_use = "a suite checks nothing until it runs: `.assert().await`"]
pub struct Conformance {
    name: &'static str,
    suite: Box<Suite>,
    written: Option<Box<Written>>,
}

/// A suite's checks, given what reads the store's writes; returns the failures.
type Suite = dyn FnOnce(Option<Box<Written>>) -> BoxFuture<'static, Vec<String>> + Send;

/// Reads everything a store wrote.
type Written = dyn Fn() -> BoxFuture<'static, Vec<u8>> + Send + Sync;

/// Times the suite writes: far from the epoch and from today, near no boundary of `u32` or
/// `i64`, so a purge at them cannot touch what an app stored.
const NOW: u64 = 1_900_000_000;
/// How long a feed may take to deliver one announcement.
const DELIVERY: Duration = Duration::from_secs(5);

impl Conformance {
    /// The suite of the [`LoginStore`] contract: create and load, an update-only `touch`
    /// that never resurrects a revoked login (the revoke-during-touch race), `rotate` with
    /// exactly one winner of concurrent rotations, `replace_data` likewise (and never after a
    /// logout), session data on the store (written only when changed, kept across requests,
    /// size-bounded, concurrent changes not lost), `delete_user` of one subject only,
    /// `purge_expired` at its boundary, times kept exactly, a Gate's sessions and refresh
    /// families on the store, and (with [`written`](Self::written)) that no id or token reaches
    /// what the store wrote.
    pub fn logins<S: LoginStore + Clone>(store: S) -> Self {
        Conformance {
            name: "login store",
            suite: Box::new(move |written| {
                Box::pin(async move { failures(Logins::new(store).checks(written).await) })
            }),
            written: None,
        }
    }

    /// The suite of the [`RevocationStore`] contract: what `revoke` kept is loaded until its
    /// `until` and announced on every open feed, in order with what is announced after it;
    /// `purge_expired` forgets exactly what ended; entries with spaces and non-ASCII text
    /// survive; and Gates on the store share a logout: one ends a login with a bearer token,
    /// another refuses the login's tokens through the feed, and a Gate started later through
    /// the entries it loads.
    pub fn revocations<S: RevocationStore>(store: S) -> Self {
        Conformance {
            name: "revocation store",
            suite: Box::new(move |_| {
                Box::pin(async move { failures(revocations::checks(Arc::new(store)).await) })
            }),
            written: None,
        }
    }

    /// How to read everything the store wrote (a database file, a dump of its tables), to
    /// check that no secret (a session id, a refresh token) is in it.
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
        let failures = (self.suite)(self.written).await;
        match failures.is_empty() {
            true => Ok(()),
            false => Err(failures),
        }
    }

    /// Runs every check and panics with the list of failures.
    pub async fn assert(self) {
        let name = self.name;
        if let Err(failures) = self.run().await {
            panic!(
                "the {name} breaks its contract:\n  {}",
                failures.join("\n  ")
            );
        }
    }
}

/// The failures of a suite, with a store error that stopped it as one more.
fn failures(result: (Vec<String>, Result<(), StoreError>)) -> Vec<String> {
    let (mut failures, stopped) = result;
    if let Err(e) = stopped {
        failures.push(format!("the store failed: {e}"));
    }
    failures
}

/// One run of the login suite: its own subjects, and every secret it made.
struct Logins<S> {
    store: S,
    tag: String,
    secrets: Vec<String>,
    failures: Vec<String>,
}

impl<S: LoginStore + Clone> Logins<S> {
    fn new(store: S) -> Self {
        let tag = random_id(6).unwrap_or_else(|_| "conformance".to_owned());
        Logins {
            store,
            tag,
            secrets: Vec::new(),
            failures: Vec::new(),
        }
    }

    fn check(&mut self, ok: bool, what: &str) {
        if !ok {
            self.failures.push(what.to_owned());
        }
    }

    /// The hash of a new secret, remembered for the leak check.
    fn secret(&mut self) -> Result<String, StoreError> {
        let secret = random_id(32)?;
        let key = IdHash::of(&secret).as_str().to_owned();
        self.secrets.push(secret);
        Ok(key)
    }

    /// A new login of `who` (a subject of this run), stored, with `expires_at`; a refresh
    /// family when `family`.
    async fn login(
        &mut self,
        who: &str,
        expires_at: u64,
        family: bool,
    ) -> Result<LoginRecord, StoreError> {
        let record = LoginRecord {
            key: self.secret()?,
            subject: format!("{who}-{}", self.tag),
            current: if family { Some(self.secret()?) } else { None },
            last_used: time(NOW - 30),
            expires_at: time(expires_at),
            data: format!(r#"{{"who":"{who} ✓","roles":["user","billing"]}}"#),
        };
        self.store.create(&record).await?;
        Ok(record)
    }

    async fn checks(
        mut self,
        written: Option<Box<Written>>,
    ) -> (Vec<String>, Result<(), StoreError>) {
        let outcome = self.run(written.as_deref()).await;
        (self.failures, outcome)
    }

    async fn run(&mut self, written: Option<&Written>) -> Result<(), StoreError> {
        let store = self.store.clone();
        let alice = self.login("alice", NOW + 3600, false).await?;
        let loaded = store.load(&alice.key).await?;
        self.check(
            loaded.as_ref() == Some(&alice),
            "load returns what create stored",
        );
        let missing = IdHash::of("no login has this id").as_str().to_owned();
        self.check(
            store.load(&missing).await?.is_none(),
            "load of an unknown key is None",
        );

        self.check(
            store.touch(&alice.key, time(NOW)).await?,
            "touch of a login reports true",
        );
        let want = LoginRecord {
            last_used: time(NOW),
            ..alice.clone()
        };
        let touched = store.load(&alice.key).await?;
        self.check(
            touched == Some(want),
            "touch sets last_used and nothing else",
        );
        self.check(
            !store.touch(&missing, time(NOW)).await?,
            "touch of an unknown key reports false",
        );
        self.check(
            store.load(&missing).await?.is_none(),
            "touch never creates a login",
        );

        // The race: a request loads the session, a revocation deletes it, then the request
        // writes its last use. The session must stay deleted.
        let raced = self.login("raced", NOW + 3600, false).await?;
        let _loaded = store.load(&raced.key).await?;
        store.delete(&raced.key).await?;
        self.check(
            !store.touch(&raced.key, time(NOW)).await?,
            "touch after a revocation reports false",
        );
        self.check(
            store.load(&raced.key).await?.is_none(),
            "touch after a revocation does not bring the login back",
        );

        self.rotations().await?;
        self.data_replacements().await?;
        self.session_data().await?;

        let first = self.login("carol", NOW + 3600, false).await?;
        let second = self.login("carol", NOW + 7200, true).await?;
        let other = self.login("dave", NOW + 3600, true).await?;
        let carol = first.subject.clone();
        self.check(
            store.delete_user(&carol).await? == 2,
            "delete_user counts the user's logins",
        );
        let gone =
            store.load(&first.key).await?.is_none() && store.load(&second.key).await?.is_none();
        self.check(gone, "delete_user deletes every login of the user");
        self.check(
            store.load(&other.key).await?.is_some(),
            "delete_user keeps other users' logins",
        );
        self.check(
            store.delete_user(&carol).await? == 0,
            "delete_user of a user without logins is 0",
        );

        self.gate_on_the_store().await?;

        let far = self.login("far", u64::from(u32::MAX) + 5, true).await?;
        if let Some(written) = written {
            let bytes = written().await;
            let leaked = self.secrets.iter().any(|s| contains(&bytes, s.as_bytes()));
            self.check(!leaked, "no id or token is in what the store wrote");
            let hashed = contains(&bytes, far.key.as_bytes())
                && far
                    .current
                    .as_ref()
                    .is_some_and(|c| contains(&bytes, c.as_bytes()));
            // The dump is of this store: it holds what the store keeps, the hashes.
            self.check(hashed, "what the store wrote holds its logins' hashes");
        }
        let far_loaded = store.load(&far.key).await?;
        self.check(
            far_loaded.map(|r| r.expires_at) == Some(time(u64::from(u32::MAX) + 5)),
            "times beyond 32 bits are kept exactly",
        );

        // Purge ten years after the suite's `NOW`: it deletes every login of the store that
        // ends earlier, which is why the suite wants a store of its own.
        let purge_at = NOW + 10 * 365 * 24 * 3600;
        let expired = self.login("expired", purge_at - 1, false).await?;
        let boundary = self.login("boundary", purge_at, true).await?;
        let live = self.login("live", purge_at + 100, false).await?;
        let purged = store.purge_expired(time(purge_at)).await?;
        self.check(purged >= 2, "purge_expired counts what it deleted");
        self.check(
            store.load(&expired.key).await?.is_none(),
            "purge_expired deletes a login past its lifetime",
        );
        self.check(
            store.load(&boundary.key).await?.is_none(),
            "purge_expired deletes a login ending at `now`",
        );
        self.check(
            store.load(&live.key).await?.is_some(),
            "purge_expired keeps a live login",
        );

        store.delete(&missing).await?;
        for record in [&alice, &other, &far, &live] {
            store.delete(&record.key).await?;
            let deleted = store.load(&record.key).await?.is_none();
            self.check(deleted, "delete deletes");
        }
        Ok(())
    }

    /// `rotate`: only with the hash in force, changing nothing else, never creating, and of
    /// two concurrent rotations exactly one wins.
    async fn rotations(&mut self) -> Result<(), StoreError> {
        let store = self.store.clone();
        let family = self.login("fran", NOW + 3600, true).await?;
        let presented = family.current.clone().unwrap_or_default();
        let missing = IdHash::of("no family has this id").as_str().to_owned();
        let next = self.secret()?;
        let rotated = store
            .rotate(&family.key, &presented, &next, time(NOW))
            .await?;
        self.check(rotated, "rotate with the hash in force reports true");
        let want = LoginRecord {
            current: Some(next.clone()),
            last_used: time(NOW),
            ..family.clone()
        };
        let loaded = store.load(&family.key).await?;
        self.check(
            loaded.as_ref() == Some(&want),
            "rotate sets current and last_used and nothing else",
        );
        let after = self.secret()?;
        let stale = store
            .rotate(&family.key, &presented, &after, time(NOW + 1))
            .await?;
        self.check(
            !stale,
            "rotate with a hash no longer in force reports false",
        );
        let unchanged = store.load(&family.key).await?;
        self.check(
            unchanged == Some(want),
            "a refused rotation changes nothing",
        );
        let unknown = store.rotate(&missing, &missing, &after, time(NOW)).await?;
        self.check(!unknown, "rotate of an unknown key reports false");
        self.check(
            store.load(&missing).await?.is_none(),
            "rotate never creates a login",
        );
        let session = self.login("sam", NOW + 3600, false).await?;
        let no_current = store
            .rotate(&session.key, &missing, &after, time(NOW))
            .await?;
        self.check(
            !no_current,
            "rotate of a session (no current hash) reports false",
        );
        store.delete(&session.key).await?;
        store.delete(&family.key).await?;

        // Two requests exchange the same token at once: at most one may win, whatever the
        // store's connections, locks and replicas do.
        for round in 0..8 {
            let raced = self.login("raced", NOW + 3600, true).await?;
            let presented = raced.current.clone().unwrap_or_default();
            let (a, b) = (self.secret()?, self.secret()?);
            let (first, second) = tokio::join!(
                store.rotate(&raced.key, &presented, &a, time(NOW)),
                store.rotate(&raced.key, &presented, &b, time(NOW)),
            );
            let (first, second) = (first?, second?);
            let what = format!("exactly one of two concurrent rotations wins (round {round})");
            self.check(first != second, &what);
            let current = store.load(&raced.key).await?.and_then(|f| f.current);
            let winner = if first { &a } else { &b };
            self.check(
                current.as_ref() == Some(winner),
                "the family holds the winner's hash",
            );
            store.delete(&raced.key).await?;
        }
        Ok(())
    }

    /// A Gate on the store: a session and a refresh family work, what the Gate hands out never
    /// reaches the store (only hashes do), and a reused refresh token ends its family.
    async fn gate_on_the_store(&mut self) -> Result<(), StoreError> {
        let store = self.store.clone();
        let refused = |e: crate::ConfigError| StoreError::unavailable(e.to_string());
        let gate = Gate::builder()
            .issuer(Issuer::new("https://conformance.test").secret(random_id(32)?))
            .sessions(crate::sessions::Sessions::server_side(
                "__Host-conformance",
                store.clone(),
            ))
            .revocations(Revocations::new(MemoryStore::new()))
            .refresh_tokens(RefreshTokens::new(store.clone()))
            .clock(|| time(NOW))
            .build()
            .map_err(refused)?;
        let user = Identity::new(format!("gate-{}", self.tag)).roles(["user"]);
        let failed = |e: crate::Rejection| StoreError::unavailable(e.to_string());
        let cookie = gate.login_unchecked(user.clone()).await.map_err(failed)?;
        let cookie = cookie
            .header_value()
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let id = cookie
            .split(';')
            .next()
            .and_then(|c| c.split_once('='))
            .map(|(_, id)| id);
        self.secrets.extend(id.map(str::to_owned));
        let session_key = id
            .map(|id| IdHash::of(id).as_str().to_owned())
            .unwrap_or_default();
        let session = store.load(&session_key).await?;
        self.check(
            session.is_some_and(|s| s.current.is_none() && s.subject == user.subject),
            "a Gate's session is a login under the hash of its cookie",
        );

        let issued = gate.issue(&user).await.map_err(failed)?;
        let first = issued.refresh_token().unwrap_or_default().to_owned();
        let exchanged = gate.refresh(&first).await;
        self.check(
            exchanged.is_ok(),
            "a Gate on the store exchanges its refresh token",
        );
        let family_id = first.split('.').next().unwrap_or_default().to_owned();
        let family_key = IdHash::of(&family_id).as_str().to_owned();
        for tokens in [Some(&issued), exchanged.as_ref().ok()]
            .into_iter()
            .flatten()
        {
            self.secrets
                .extend(tokens.refresh_token().map(str::to_owned));
            self.secrets.push(tokens.access_token().to_owned());
        }
        self.secrets.push(family_id);
        if let Some(next) = exchanged.as_ref().ok().and_then(|t| t.refresh_token()) {
            let held = store.load(&family_key).await?.and_then(|f| f.current);
            let want = IdHash::of(next).as_str().to_owned();
            self.check(
                held == Some(want),
                "the store holds the hash of the Gate's new refresh token",
            );
        }
        // The first token again: a reuse, which ends the family.
        let reused = gate.refresh(&first).await;
        self.check(
            reused.is_err_and(|e| matches!(e.kind(), RejectionKind::InvalidToken)),
            "a Gate refuses a refresh token used before",
        );
        self.check(
            store.load(&family_key).await?.is_none(),
            "a reused refresh token ends its family in the store",
        );

        // A logout with a bearer token of a login ends that login's family, and no other.
        let login = gate.issue(&user).await.map_err(failed)?;
        let other = gate.issue(&user).await.map_err(failed)?;
        let refreshed = gate
            .refresh(login.refresh_token().unwrap_or_default())
            .await
            .map_err(failed)?;
        for tokens in [&login, &other, &refreshed] {
            self.secrets
                .extend(tokens.refresh_token().map(str::to_owned));
        }
        let ready = gate.ready(DELIVERY).await;
        let caller = bearer_user(&gate, login.access_token()).await;
        self.check(
            ready && caller.is_some(),
            "a Gate on the store accepts its token",
        );
        if let Some(caller) = caller {
            let _no_cookie = gate.logout(&caller).await.map_err(failed)?;
        }
        let family_of = |tokens: &crate::tokens::Tokens| {
            let id = tokens.refresh_token().unwrap_or_default();
            IdHash::of(id.split('.').next().unwrap_or_default())
        };
        self.check(
            store.load(family_of(&login).as_str()).await?.is_none(),
            "a logout with a bearer token ends its refresh family in the store",
        );
        let after = gate
            .refresh(refreshed.refresh_token().unwrap_or_default())
            .await;
        self.check(
            after.is_err_and(|e| matches!(e.kind(), RejectionKind::InvalidToken)),
            "a Gate refuses the refresh token of a logged-out login",
        );
        self.check(
            store.load(family_of(&other).as_str()).await?.is_some(),
            "a logout keeps the user's other refresh families",
        );
        store.delete(family_of(&other).as_str()).await?;
        store.delete(&session_key).await?;
        Ok(())
    }
}

/// The caller a Gate makes of a bearer token, as a handler would see it.
async fn bearer_user(gate: &Gate, token: &str) -> Option<crate::CurrentUser> {
    let request = http::Request::builder()
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(())
        .ok()?;
    let (parts, ()) = request.into_parts();
    let principal = gate
        .authenticate_shared(&parts, crate::credentials::Kinds::ALL)
        .await
        .ok()??;
    Some(crate::CurrentUser {
        principal,
        claims: serde_json::Map::new(),
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
