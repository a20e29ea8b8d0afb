//! Revocation of self-contained credentials: bearer tokens and stateless session cookies,
//! which no store is asked about on each request.
//!
//! # What can be revoked
//!
//! - [`Gate::revoke_user`](crate::Gate::revoke_user): everything a subject was issued up to
//!   now (a per-subject "not before"), after a password change, a lost device or a deleted
//!   account. It also deletes the subject's server-side sessions and refresh families.
//! - [`Gate::logout`](crate::Gate::logout) with a bearer token that names its login (`sid`,
//!   which every token of a refresh family carries): every token of that login, whenever it
//!   was issued, and its refresh family (see [`tokens`](crate::tokens)). A token of an
//!   identity provider that carries `sid` (its session id) ends that login's tokens here too.
//! - [`Gate::logout`](crate::Gate::logout) with any other bearer token or a stateless cookie:
//!   that credential, by its `jti`.
//! - [`Gate::revoke_token_id`](crate::Gate::revoke_token_id): one token by its `jti`, until
//!   its `exp`.
//! - a refresh token used twice revokes its subject (see [`tokens`](crate::tokens)).
//!
//! A revoked credential is refused with 401 `invalid_token`, also when the token cache holds
//! it. With revocations configured, a JWT without `iat` is refused: its age cannot be
//! compared with a subject's "not before".
//!
//! # The model
//!
//! A revocation is written to a shared [`RevocationStore`], which announces it on a change
//! feed; every Gate keeps a local view of the revocations in force, loaded whole when it
//! (re)subscribes and kept current by the feed. A request reads that view and never waits on
//! the network.
//!
//! The view is bounded by time: a token revocation lives until the token could no longer be
//! accepted (its `exp` plus the leeway), a subject revocation until every token issued before
//! it has expired (`not_before` plus the Gate's maximum lifetime and leeway), a login
//! revocation likewise from the logout (a refresh that rotated before the family was deleted
//! stamps its token with a time read before that).
//!
//! Every instance on one store must understand every kind of revocation written to it: an
//! instance that loads one it cannot read fails closed (503) rather than skip it. Login
//! revocations are new in this release, so upgrade every instance before one logs out a
//! bearer token of a refresh family. Expired
//! revocations are purged from the store in the background ([`Revocations::purge_every`]).
//!
//! # Several instances
//!
//! Every instance of an app builds its Gate on the same store, so a revocation on one holds
//! on all: a logout behind a load balancer is a logout. The stores: [`MemoryStore`](crate::store::MemoryStore)
//! (one process, or several Gates in one test), and for several processes the stores of
//! `authgate-redis` (pub/sub), `authgate-sqlx` on PostgreSQL (`LISTEN`/`NOTIFY`) and on SQLite
//! (a polled log, for processes on one machine). Any [`RevocationStore`] that passes
//! `authgate::testing::Conformance::revocations` works. Server-side sessions need no
//! revocations: they are read from their own shared store on every request.
//!
//! # The staleness bound
//!
//! The view **fails closed**. Each Gate sends a heartbeat through the store's own feed every
//! [`Revocations::heartbeat_every`]; a heartbeat that comes back proves that every revocation
//! announced before it was sent has been applied (feeds deliver in order). While no heartbeat
//! sent within the last [`Revocations::staleness`] has come back (the feed or the store is down,
//! or the Gate has not loaded the view yet), requests that present a valid bearer token or
//! stateless cookie answer 503 `unavailable`, never 200 for a token that may be revoked. So a
//! revocation holds on every instance within the feed's delivery time, and at worst within the
//! staleness bound. Anonymous callers and invalid tokens still get 401; the Gate subscribes
//! again on its own and serves as soon as it has reloaded. [`Gate::ready`](crate::Gate::ready)
//! waits for the first load at start.
//!
//! Two instances on one store, and the store going down:
//!
//! ```
//! use std::time::Duration;
//! use authgate::{CurrentUser, Gate, Identity, Router, require_auth, routing::get};
//! use authgate::issuers::Issuer;
//! use authgate::revocation::Revocations;
//! use authgate::store::MemoryStore;
//!
//! #[require_auth]
//! async fn me(user: CurrentUser) -> String { user.subject().to_owned() }
//!
//! /// One instance: its own Gate on the shared store.
//! fn instance(store: &MemoryStore) -> Result<(Gate, axum::Router), authgate::ConfigError> {
//!     let gate = Gate::builder()
//!         .issuer(Issuer::new("https://notes.example.com").secret("an HMAC secret of at least 32 bytes!!"))
//!         .revocations(Revocations::new(store.clone()).staleness(Duration::from_millis(500)))
//!         .build()?;
//!     let app = Router::new().route("/me", get(me)).with_state(gate.clone()).into_axum();
//!     Ok((gate, app))
//! }
//! # /// The status of `GET /me` with this bearer token.
//! # async fn me_status(app: &axum::Router, token: &str) -> u16 {
//! #     use tower::ServiceExt as _;
//! #     let request = axum::http::Request::get("/me").header("authorization", format!("Bearer {token}"));
//! #     let response = app.clone().oneshot(request.body(axum::body::Body::empty()).unwrap()).await;
//! #     response.map_or(0, |r| r.status().as_u16())
//! # }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = MemoryStore::new(); // Redis or PostgreSQL between processes
//! let (a, _) = instance(&store)?;
//! let (b, app_b) = instance(&store)?;
//! assert!(a.ready(Duration::from_secs(5)).await && b.ready(Duration::from_secs(5)).await);
//! let token = a.issue(&Identity::new("42")).await?;
//! assert_eq!(me_status(&app_b, token.access_token()).await, 200);
//!
//! a.revoke_user("42").await?; // on instance A
//! while b.revocations_in_view() == 0 {
//!     tokio::time::sleep(Duration::from_millis(5)).await; // the feed's delivery time
//! }
//! assert_eq!(me_status(&app_b, token.access_token()).await, 401); // on instance B
//!
//! // The store goes down: once no heartbeat has come back for the staleness bound, B cannot
//! // know what was revoked meanwhile, and answers 503 to a valid token.
//! let other = a.issue(&Identity::new("7")).await?;
//! store.set_down(true);
//! tokio::time::sleep(Duration::from_millis(800)).await;
//! assert_eq!(me_status(&app_b, other.access_token()).await, 503);
//! store.set_down(false);
//! assert!(b.ready(Duration::from_secs(5)).await); // reloaded: serving again
//! assert_eq!(me_status(&app_b, other.access_token()).await, 200);
//! # Ok(()) }
//! ```

mod sync;
mod view;

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::clock::Clock;
use crate::store::{RevocationLog, RevocationStore};

pub(crate) use view::View;

/// One revocation, as authgate writes it into a [`RevocationStore`] (an opaque line of text
/// to the store).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Revocation {
    /// The token (bearer or stateless cookie) whose `jti` is `jti`.
    Token {
        jti: String,
        /// When the revocation can be forgotten: the token is no longer accepted then anyway.
        until: u64,
    },
    /// Every token and stateless cookie of `subject` issued before `not_before`
    /// (`iat < not_before`).
    Subject {
        subject: String,
        /// The first second whose tokens stay valid.
        not_before: u64,
        /// When the revocation can be forgotten.
        until: u64,
    },
    /// Every token whose login (`sid`) is `login`, whenever it was issued: a login's tokens
    /// share its id, so this ends the ones issued by every refresh of a family, and the one a
    /// refresh running alongside the logout may still be signing.
    Login {
        login: String,
        /// When the revocation can be forgotten: every token of the login has expired.
        until: u64,
    },
}

/// What a feed delivers: a revocation, or a heartbeat some instance announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FeedEvent {
    Revoked(Revocation),
    Heartbeat(u64),
}

impl Revocation {
    /// When the revocation can be forgotten, in seconds since the Unix epoch.
    pub(crate) fn until(&self) -> u64 {
        match self {
            Revocation::Token { until, .. }
            | Revocation::Subject { until, .. }
            | Revocation::Login { until, .. } => *until,
        }
    }

    /// Reads what `Display` wrote; `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<Revocation> {
        let (kind, rest) = text.split_once(' ')?;
        let (until, rest) = rest.split_once(' ')?;
        let until = until.parse().ok()?;
        match kind {
            "t" if !rest.is_empty() => Some(Revocation::Token {
                jti: rest.to_owned(),
                until,
            }),
            "l" if !rest.is_empty() => Some(Revocation::Login {
                login: rest.to_owned(),
                until,
            }),
            "s" => {
                let (not_before, subject) = rest.split_once(' ')?;
                let not_before = not_before.parse().ok()?;
                (!subject.is_empty()).then(|| Revocation::Subject {
                    subject: subject.to_owned(),
                    not_before,
                    until,
                })
            }
            _ => None,
        }
    }
}

/// One line of text, `t <until> <jti>`, `s <until> <not_before> <subject>` or
/// `l <until> <sid>`: the free text comes last, so it may contain spaces.
impl fmt::Display for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Revocation::Token { jti, until } => write!(f, "t {until} {jti}"),
            Revocation::Subject {
                subject,
                not_before,
                until,
            } => write!(f, "s {until} {not_before} {subject}"),
            Revocation::Login { login, until } => write!(f, "l {until} {login}"),
        }
    }
}

impl FeedEvent {
    /// A heartbeat as it is announced.
    pub(crate) fn heartbeat(beat: u64) -> String {
        format!("h {beat}")
    }

    /// Reads an announcement; `None` for anything that is not one of authgate's.
    pub(crate) fn parse(text: &str) -> Option<FeedEvent> {
        match text.strip_prefix("h ") {
            Some(beat) => beat.parse().ok().map(FeedEvent::Heartbeat),
            None => Revocation::parse(text).map(FeedEvent::Revoked),
        }
    }
}

/// Revocation settings, for [`GateBuilder::revocations`](crate::GateBuilder::revocations).
///
/// ```
/// use std::time::Duration;
/// use authgate::revocation::Revocations;
/// use authgate::store::MemoryStore;
///
/// let revocations = Revocations::new(MemoryStore::new())
///     .staleness(Duration::from_secs(5))
///     .heartbeat_every(Duration::from_secs(1));
/// ```
#[derive(Clone)]
pub struct Revocations {
    pub(crate) store: RevocationLog,
    pub(crate) staleness: Duration,
    pub(crate) heartbeat: Option<Duration>,
    pub(crate) purge_every: Duration,
    /// The view every request reads; one per `Revocations` (and so per Gate).
    pub(crate) view: Arc<View>,
    /// Whether the sync task was started (at build inside a runtime, or by the first request).
    pub(crate) started: Arc<OnceLock<()>>,
}

impl fmt::Debug for Revocations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Revocations")
            .field("staleness", &self.staleness)
            .field("heartbeat_every", &self.heartbeat_interval())
            .field("current", &self.view.is_current())
            .finish_non_exhaustive()
    }
}

impl Revocations {
    /// Revocations kept in `store`. Defaults: staleness 10 s, a heartbeat every fifth of it,
    /// expired revocations purged from the store every 10 minutes.
    pub fn new(store: impl RevocationStore) -> Self {
        Revocations {
            store: Arc::new(store),
            staleness: Duration::from_secs(10),
            heartbeat: None,
            purge_every: Duration::from_secs(10 * 60),
            view: Arc::new(View::new()),
            started: Arc::new(OnceLock::new()),
        }
    }

    /// How long the view may go without a confirmed heartbeat before requests that depend on
    /// it answer 503 (default 10 s; at least 100 ms). The longest a revocation can take to
    /// hold everywhere when the feed fails.
    pub fn staleness(mut self, staleness: Duration) -> Self {
        self.staleness = staleness.max(Duration::from_millis(100));
        self
    }

    /// How often a heartbeat is sent (default a fifth of the staleness; at most half of it).
    pub fn heartbeat_every(mut self, every: Duration) -> Self {
        self.heartbeat = Some(every.max(Duration::from_millis(10)));
        self
    }

    /// How often expired revocations are deleted from the store (default every 10 minutes).
    pub fn purge_every(mut self, every: Duration) -> Self {
        self.purge_every = every.max(Duration::from_secs(1));
        self
    }

    pub(crate) fn heartbeat_interval(&self) -> Duration {
        let half = self.staleness / 2;
        self.heartbeat.unwrap_or(self.staleness / 5).min(half)
    }

    /// Starts the task that keeps the view current, once; inside a tokio runtime only.
    pub(crate) fn start(&self, clock: &Clock) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        self.started
            .get_or_init(|| sync::spawn(self, clock.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocations_and_heartbeats_round_trip_through_their_text() {
        for revocation in [
            Revocation::Token {
                jti: "a b:c".into(),
                until: 7,
            },
            Revocation::Subject {
                subject: "user 42".into(),
                not_before: 5,
                until: 9,
            },
            Revocation::Login {
                login: "a login".into(),
                until: 11,
            },
        ] {
            assert_eq!(
                Revocation::parse(&revocation.to_string()),
                Some(revocation.clone())
            );
            let announced = revocation.to_string();
            assert_eq!(
                FeedEvent::parse(&announced),
                Some(FeedEvent::Revoked(revocation))
            );
        }
        for bad in [
            "", "t", "t 5", "t 5 ", "x 5 a", "s 5 6", "s 5 6 ", "t -1 a", "s 1 x a", "l 5", "l 5 ",
            "l x a",
        ] {
            assert_eq!(Revocation::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            FeedEvent::parse(&FeedEvent::heartbeat(99)),
            Some(FeedEvent::Heartbeat(99))
        );
        assert_eq!(FeedEvent::parse("h x"), None);
        assert_eq!(FeedEvent::parse("hello"), None);
    }
}
