//! Revocation of self-contained credentials: bearer tokens and stateless session cookies,
//! which no store is asked about on each request.
//!
//! A revocation ends one token (by its `jti`) or everything a subject was issued before a
//! second (a per-subject "not before"). It is written to a shared [`RevocationStore`], which
//! announces it on a change feed; every Gate keeps a local view of the revocations in force,
//! loaded whole when it (re)subscribes and kept current by the feed. A request reads that view
//! and never waits on the network.
//!
//! The view **fails closed**. Each Gate sends a heartbeat through the store's own feed every
//! [`Revocations::heartbeat_every`]; a heartbeat that comes back proves that every revocation
//! announced before it was sent has been applied (feeds deliver in order). While no heartbeat
//! sent within the last [`Revocations::staleness`] has come back (the feed or the store is down,
//! or the Gate has not loaded the view yet), requests that present a valid bearer token or
//! stateless cookie answer 503 `unavailable`, never 200 for a token that may be revoked. So a
//! revocation holds on every instance within the feed's delivery time, and at worst within the
//! staleness bound. Server-side sessions are read from their own store on every request and
//! do not depend on the view.
//!
//! The view is bounded by time: a token revocation lives until the token could no longer be
//! accepted (its `exp` plus the leeway), a subject revocation until every token issued before
//! it has expired (`not_before` plus the Gate's maximum lifetime and leeway). With revocations
//! configured, a JWT without `iat` is refused: its age cannot be compared with a subject's
//! "not before".
//!
//! Stores: [`MemoryRevocations`] (one process), and with the features of those names
//! `RedisRevocations` (pub/sub) and `PostgresRevocations` (`LISTEN`/`NOTIFY`).

mod memory;
mod sync;
mod view;

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::session::StoreError;
use crate::verify::BoxFuture;

pub use memory::MemoryRevocations;
pub(crate) use view::View;

/// One revocation, as stores keep and announce it.
///
/// ```
/// use authgate::Revocation;
///
/// let one = Revocation::Token { jti: "a3f1c2".into(), until: 1_900_000_900 };
/// assert_eq!(one.to_text(), "t 1900000900 a3f1c2");
/// assert_eq!(Revocation::from_text(&one.to_text()), Some(one));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Revocation {
    /// The token (bearer or stateless cookie) whose `jti` is `jti`.
    Token {
        /// The token's id.
        jti: String,
        /// When the revocation can be forgotten: the token is no longer accepted then anyway.
        until: u64,
    },
    /// Every token and stateless cookie of `subject` issued before `not_before`
    /// (`iat < not_before`).
    Subject {
        /// The subject (`sub`).
        subject: String,
        /// The first second whose tokens stay valid.
        not_before: u64,
        /// When the revocation can be forgotten.
        until: u64,
    },
}

impl Revocation {
    /// When the revocation can be forgotten, in seconds since the Unix epoch.
    pub fn until(&self) -> u64 {
        match self {
            Revocation::Token { until, .. } | Revocation::Subject { until, .. } => *until,
        }
    }

    /// The revocation as one line of text, `t <until> <jti>` or `s <until> <not_before>
    /// <subject>`: how the Redis and PostgreSQL stores announce it on their feeds. The free
    /// text comes last, so it may contain spaces.
    pub fn to_text(&self) -> String {
        match self {
            Revocation::Token { jti, until } => format!("t {until} {jti}"),
            Revocation::Subject {
                subject,
                not_before,
                until,
            } => format!("s {until} {not_before} {subject}"),
        }
    }

    /// Reads what [`to_text`](Self::to_text) wrote; `None` for anything else.
    pub fn from_text(text: &str) -> Option<Revocation> {
        let (kind, rest) = text.split_once(' ')?;
        let (until, rest) = rest.split_once(' ')?;
        let until = until.parse().ok()?;
        match kind {
            "t" if !rest.is_empty() => Some(Revocation::Token {
                jti: rest.to_owned(),
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

/// What a [`RevocationFeed`] delivers.
///
/// ```
/// use authgate::FeedEvent;
///
/// assert_eq!(FeedEvent::from_text("h 42"), Some(FeedEvent::Heartbeat(42)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedEvent {
    /// A revocation announced by any instance.
    Revoked(Revocation),
    /// A heartbeat some instance sent with [`RevocationStore::heartbeat`]; the Gate ignores
    /// the ones it did not send.
    Heartbeat(u64),
}

impl FeedEvent {
    /// The event as one line of text: a revocation's [`to_text`](Revocation::to_text), or
    /// `h <beat>`. How the Redis and PostgreSQL stores put it on their channels.
    pub fn to_text(&self) -> String {
        match self {
            FeedEvent::Revoked(revocation) => revocation.to_text(),
            FeedEvent::Heartbeat(beat) => format!("h {beat}"),
        }
    }

    /// Reads what [`to_text`](Self::to_text) wrote; `None` for anything else.
    pub fn from_text(text: &str) -> Option<FeedEvent> {
        match text.strip_prefix("h ") {
            Some(beat) => beat.parse().ok().map(FeedEvent::Heartbeat),
            None => Revocation::from_text(text).map(FeedEvent::Revoked),
        }
    }
}

/// Where revocations are kept and announced, shared by every instance of an app.
///
/// The contract every store must meet (checked by `authgate::testing::RevocationConformance`):
///
/// - [`revoke`](Self::revoke) writes the revocation durably **and** announces it on the feed
///   as one step: once it returns `Ok`, every open feed will deliver it, and every later
///   [`load`](Self::load) returns it until it expires;
/// - a feed delivers events in the order the store took them: a heartbeat arrives after every
///   revocation announced before it was sent;
/// - a feed whose connection is lost returns an error (it never silently skips events); the
///   Gate then subscribes again and reloads everything.
///
/// ```
/// use authgate::{Gate, MemoryRevocations, Revocations};
///
/// let gate = Gate::builder()
///     .hs256("an HMAC secret of at least 32 bytes!!")
///     .revocations(Revocations::new(MemoryRevocations::new()))
///     .build()?;
/// # Ok::<(), authgate::GateError>(())
/// ```
pub trait RevocationStore: Send + Sync + 'static {
    /// Keeps `revocation` and announces it on the feed, atomically.
    fn revoke(&self, revocation: &Revocation) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Every revocation whose `until` is after `now`.
    fn load(&self, now: u64) -> BoxFuture<'_, Result<Vec<Revocation>, StoreError>>;
    /// Opens a feed of the revocations and heartbeats announced from now on.
    fn subscribe(&self) -> BoxFuture<'_, Result<Box<dyn RevocationFeed>, StoreError>>;
    /// Announces `beat` on the feed, after everything announced before.
    fn heartbeat(&self, beat: u64) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Forgets the revocations whose `until` is at or before `now`; returns how many.
    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>>;
}

/// An open change feed of a [`RevocationStore`].
///
/// ```
/// use authgate::{BoxFuture, FeedEvent, RevocationFeed, StoreError};
/// use tokio::sync::mpsc;
///
/// /// A feed from a channel that some listener task fills.
/// struct ChannelFeed(mpsc::Receiver<FeedEvent>);
///
/// impl RevocationFeed for ChannelFeed {
///     fn next(&mut self) -> BoxFuture<'_, Result<FeedEvent, StoreError>> {
///         // `recv` is cancel-safe; a closed channel ends the feed.
///         Box::pin(async move { self.0.recv().await.ok_or_else(|| StoreError::new("closed")) })
///     }
/// }
/// ```
pub trait RevocationFeed: Send {
    /// The next event. An error ends the feed: the Gate subscribes again and reloads.
    /// Must be cancel-safe: the Gate drops an unfinished call when it has a heartbeat to send.
    fn next(&mut self) -> BoxFuture<'_, Result<FeedEvent, StoreError>>;
}

/// Revocation settings. Give them to [`GateBuilder::revocations`](crate::GateBuilder::revocations).
///
/// ```
/// use std::time::Duration;
/// use authgate::{Gate, MemoryRevocations, Revocations};
///
/// let gate = Gate::builder()
///     .hs256("an HMAC secret of at least 32 bytes!!")
///     .revocations(
///         Revocations::new(MemoryRevocations::new())
///             .staleness(Duration::from_secs(5))
///             .heartbeat_every(Duration::from_secs(1)),
///     )
///     .build()?;
/// # Ok::<(), authgate::GateError>(())
/// ```
#[derive(Clone)]
pub struct Revocations {
    pub(crate) store: Arc<dyn RevocationStore>,
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
    pub(crate) fn start(&self, clock: Arc<dyn Fn() -> u64 + Send + Sync>) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        self.started.get_or_init(|| sync::spawn(self, clock));
    }
}
