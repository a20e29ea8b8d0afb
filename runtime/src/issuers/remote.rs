//! Keys fetched from an issuer (a JWKS URL, or the `jwks_uri` of its OpenID Connect
//! Discovery document) and kept current by a background task, so that no request waits on
//! the network and none is refused because the provider is slow or down for a while.
//!
//! - The task fetches at start; until it succeeds, that issuer's tokens answer 503
//!   `unavailable`, never 401. The server starts either way.
//! - It refreshes when `Cache-Control: max-age` says (clamped to [`KeyRefresh::between`]),
//!   and at least twice within [`KeyRefresh::max_staleness`]; after a failure it retries with
//!   a growing delay (1 s to 30 s, never more than the lower refresh bound). A document that is refused (too large, not JSON, no usable key) is a
//!   failure too: the previous keys stay in use.
//! - The last good keys stay in use until they are `max_staleness` old; then 503 until a
//!   fetch succeeds again. The token cache's entries of this issuer end at the same moment
//!   (through the [`KeyEpoch`]), and whenever the keys change.
//! - A token with a `kid` the keys do not have wakes the task for one early fetch and waits
//!   for it: concurrent requests share that one fetch, and another is made at most once per
//!   [`KeyRefresh::unknown_kid_interval`]; within it they are refused (401) at once.
//!
//! Requests read the keys through an `ArcSwapOption`: no lock, no network.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use reqwest::Url;
use tokio::sync::{Notify, watch};
use tokio::time::{Instant, sleep_until, timeout};

use super::fetch;
use crate::algorithm::Family;
use crate::clock::monotonic_ms;
use crate::error::ConfigProblem;
use crate::keys::{Algorithm, Key, KeyEpoch, KeySet, MAX_JWKS_BYTES, next_generation, parse_jwks};

/// How keys fetched from identity providers are kept current (feature `oidc`): the bounds of
/// the refresh interval, how stale the last good keys may get, how often an unknown `kid` may
/// cause a fetch, the HTTP timeouts, and the algorithms a fetched key may be bound to.
///
/// ```
/// use std::time::Duration;
/// use authgate::Gate;
/// use authgate::issuers::{Issuer, KeyRefresh};
/// use authgate::keys::Algorithm;
///
/// let gate = Gate::builder()
///     .issuer(Issuer::discover("https://login.example.com").audience("invoices-api"))
///     .key_refresh(
///         KeyRefresh::default()
///             .between(Duration::from_secs(300), Duration::from_secs(6 * 3600))
///             .max_staleness(Duration::from_secs(12 * 3600))
///             .algorithms([Algorithm::RS256, Algorithm::ES256]),
///     )
///     .build()?;
/// # Ok::<(), authgate::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct KeyRefresh {
    min_refresh: Duration,
    max_refresh: Duration,
    max_staleness: Duration,
    unknown_kid_interval: Duration,
    connect_timeout: Duration,
    timeout: Duration,
    algorithms: Vec<Algorithm>,
}

impl Default for KeyRefresh {
    /// Refresh between 5 minutes and 24 hours (1 hour without `max-age`), keys usable up to
    /// 24 hours after the last successful fetch, an unknown `kid` fetches at most every 30 s,
    /// connect timeout 5 s, whole fetch 10 s, algorithms RS256, PS256, ES256, ES384 and
    /// EdDSA.
    fn default() -> KeyRefresh {
        KeyRefresh {
            min_refresh: Duration::from_secs(300),
            max_refresh: Duration::from_secs(24 * 3600),
            max_staleness: Duration::from_secs(24 * 3600),
            unknown_kid_interval: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            algorithms: vec![
                Algorithm::RS256,
                Algorithm::PS256,
                Algorithm::ES256,
                Algorithm::ES384,
                Algorithm::EdDSA,
            ],
        }
    }
}

/// Without `Cache-Control: max-age`, the keys are fetched again after this (clamped).
const DEFAULT_REFRESH: Duration = Duration::from_secs(3600);

impl KeyRefresh {
    /// The refresh interval is the response's `max-age`, kept within `min..=max`.
    pub fn between(mut self, min: Duration, max: Duration) -> Self {
        self.min_refresh = min;
        self.max_refresh = max;
        self
    }

    /// How long after the last successful fetch its keys are still used while the provider
    /// cannot be reached; then the issuer's tokens answer 503 until a fetch succeeds.
    pub fn max_staleness(mut self, staleness: Duration) -> Self {
        self.max_staleness = staleness;
        self
    }

    /// An unknown `kid` causes a fetch at most once per this interval, per issuer.
    pub fn unknown_kid_interval(mut self, interval: Duration) -> Self {
        self.unknown_kid_interval = interval;
        self
    }

    /// The connect timeout and the timeout of a whole fetch.
    pub fn timeouts(mut self, connect: Duration, total: Duration) -> Self {
        self.connect_timeout = connect;
        self.timeout = total;
        self
    }

    /// The algorithms fetched keys may be bound to: a JWK whose `alg` (or, without one, whose
    /// type) names another is skipped. An RSA key without `alg` gets the first RSA algorithm
    /// of this list.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// The settings' problems, for `GateBuilder::build`.
    pub(crate) fn check(&self) -> Vec<ConfigProblem> {
        let mut errors = Vec::new();
        let zero = [
            self.min_refresh,
            self.max_staleness,
            self.unknown_kid_interval,
            self.connect_timeout,
            self.timeout,
        ];
        if zero.iter().any(Duration::is_zero) || self.min_refresh > self.max_refresh {
            errors.push(ConfigProblem::ZeroLimit {
                setting: "key refresh intervals and timeouts (and min <= max)",
            });
        }
        if self.algorithms.is_empty()
            || self
                .algorithms
                .iter()
                .any(|alg| alg.family() == Family::Hmac)
        {
            errors.push(ConfigProblem::WrongKeyType {
                algorithm: self.algorithms.first().copied().unwrap_or(Algorithm::HS256),
                given: "a fetched public key (allow public-key algorithms only, at least one)",
            });
        }
        errors
    }

    /// After a failed fetch: 1 s (or `min_refresh`, when shorter), doubled after each
    /// failure up to 30 s (or `min_refresh`), so a provider back up is noticed soon.
    fn first_retry(&self) -> Duration {
        self.min_refresh.min(Duration::from_secs(1))
    }

    fn max_retry(&self) -> Duration {
        self.min_refresh.min(Duration::from_secs(30))
    }
}

/// Where the keys are found.
pub(crate) enum Source {
    /// A JWKS URL given directly.
    Jwks(Url),
    /// The issuer's discovery document, whose `jwks_uri` is the JWKS URL.
    Discovery(Url),
}

impl Source {
    fn url(&self) -> &str {
        match self {
            Source::Jwks(url) | Source::Discovery(url) => url.as_str(),
        }
    }
}

/// One issuer's fetched keys, as requests and the task share them.
pub(crate) struct Remote {
    issuer: String,
    source: Source,
    /// Keys given with the issuer's settings, trusted beside the fetched ones.
    pinned: Vec<Key>,
    settings: KeyRefresh,
    client: reqwest::Client,
    snapshot: ArcSwapOption<Snapshot>,
    epoch: Arc<KeyEpoch>,
    signals: Arc<Signals>,
    started: OnceLock<()>,
}

struct Snapshot {
    keys: Arc<KeySet>,
    generation: u64,
    /// The document the keys were read from: the same document again keeps the generation
    /// (and the cache).
    document: Vec<u8>,
}

/// What the task and waiting requests share; the task holds only this while it sleeps, so
/// that it ends once the Gate is dropped.
struct Signals {
    /// An unknown `kid` asks for an early fetch.
    kick: Notify,
    /// Counts the task's answers to fetches and kicks; waiters wait for it to move.
    attempts: watch::Sender<u64>,
    /// When the last fetch for an unknown `kid` started ([`monotonic_ms`]; 0: never). The
    /// scheduled refreshes do not count: a key rotated in just after one is still found.
    last_kid_fetch_ms: AtomicU64,
    in_flight: AtomicBool,
    unknown_kid_interval_ms: u64,
}

impl Signals {
    fn rate_limited(&self) -> bool {
        let last = self.last_kid_fetch_ms.load(Ordering::Acquire);
        last != 0 && monotonic_ms() < last.saturating_add(self.unknown_kid_interval_ms)
    }

    fn answered(&self) {
        self.attempts.send_modify(|n| *n += 1);
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Remote {
    /// Keys for `issuer` from `source`; nothing is fetched until [`start`](Remote::start).
    pub(crate) fn new(
        issuer: String,
        source: Source,
        pinned: Vec<Key>,
        settings: KeyRefresh,
    ) -> Result<Remote, ConfigProblem> {
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            // The URL checked at start is the URL fetched: no redirect to plain HTTP or to
            // another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigProblem::KeyUrl {
                url: source.url().to_owned(),
                detail: format!("the HTTP client cannot start ({e})"),
            })?;
        let epoch = KeyEpoch::fixed();
        epoch.set(epoch.generation(), 0); // not usable before the first fetch
        Ok(Remote {
            issuer,
            source,
            pinned,
            signals: Arc::new(Signals {
                kick: Notify::new(),
                attempts: watch::Sender::new(0),
                last_kid_fetch_ms: AtomicU64::new(0),
                in_flight: AtomicBool::new(false),
                unknown_kid_interval_ms: millis(settings.unknown_kid_interval),
            }),
            settings,
            client,
            snapshot: ArcSwapOption::empty(),
            epoch: Arc::new(epoch),
            started: OnceLock::new(),
        })
    }

    /// The discovery document's URL, when the keys are found through one.
    #[cfg(feature = "utoipa")]
    pub(crate) fn discovery_url(&self) -> Option<&str> {
        match &self.source {
            Source::Discovery(url) => Some(url.as_str()),
            Source::Jwks(_) => None,
        }
    }

    pub(crate) fn epoch(&self) -> Arc<KeyEpoch> {
        self.epoch.clone()
    }

    /// The keys in use and their generation, or why there are none.
    #[inline]
    pub(crate) fn current(&self) -> Result<(Arc<KeySet>, u64), String> {
        let snapshot = self.snapshot.load();
        let Some(snapshot) = &*snapshot else {
            return Err(format!("keys of {:?} not fetched yet", self.issuer));
        };
        if !self.epoch.usable() {
            return Err(format!(
                "keys of {:?} older than the staleness bound (provider unreachable)",
                self.issuer
            ));
        }
        Ok((snapshot.keys.clone(), snapshot.generation))
    }

    /// Starts the refresh task once, when called inside a tokio runtime.
    pub(crate) fn start(self: &Arc<Self>) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        self.started.get_or_init(|| {
            let weak = Arc::downgrade(self);
            let signals = self.signals.clone();
            tokio::spawn(run(weak, signals));
        });
    }

    /// Waits until keys are usable, up to `deadline`.
    pub(crate) async fn ready(self: &Arc<Self>, deadline: Instant) -> bool {
        self.start();
        let mut attempts = self.signals.attempts.subscribe();
        loop {
            if self.current().is_ok() {
                return true;
            }
            if timeout(
                deadline.saturating_duration_since(Instant::now()),
                attempts.changed(),
            )
            .await
            .is_err()
            {
                return self.current().is_ok();
            }
        }
    }

    /// Asks for an early fetch and waits for the task's answer; whether the keys are worth a
    /// second look. Within the rate limit, and with no fetch under way, it returns at once
    /// without a fetch: `true` still, since a fetch may have ended just after this request
    /// read the keys (one more lookup costs nothing next to a wrong 401).
    pub(crate) async fn refresh_for_unknown_kid(&self) -> bool {
        let signals = &self.signals;
        let mut attempts = signals.attempts.subscribe();
        let seen = *attempts.borrow_and_update();
        // In this order: the task marks a fetch in flight before it records the fetch for the
        // rate limit, so a request that sees the limit also sees the fetch it may wait for (or
        // a fetch that has ended, whose keys it will find).
        let limited = signals.rate_limited();
        if limited && !signals.in_flight.load(Ordering::Acquire) {
            return true;
        }
        signals.kick.notify_one();
        let wait = self.settings.timeout + Duration::from_millis(500);
        matches!(
            timeout(wait, attempts.wait_for(|n| *n > seen)).await,
            Ok(Ok(_))
        )
    }

    /// One fetch (discovery first when needed): when the next should be.
    async fn refresh(&self, jwks_url: &mut Option<Url>) -> Result<Duration, String> {
        let url = match (&self.source, &*jwks_url) {
            (Source::Jwks(url), _) => url.clone(),
            (Source::Discovery(_), Some(url)) => url.clone(),
            (Source::Discovery(discovery), None) => {
                let document = fetch::get(&self.client, discovery, MAX_JWKS_BYTES)
                    .await
                    .map_err(|e| format!("discovery: {e}"))?;
                let url = fetch::jwks_uri(&document.body, &self.issuer)?;
                *jwks_url = Some(url.clone());
                url
            }
        };
        let fetched = fetch::get(&self.client, &url, MAX_JWKS_BYTES).await?;
        let fetched_at = monotonic_ms();
        let usable_until = fetched_at.saturating_add(millis(self.settings.max_staleness));
        let previous = self.snapshot.load_full();
        match &previous {
            Some(previous) if previous.document == fetched.body => {
                self.epoch.set(previous.generation, usable_until);
            }
            _ => {
                let keys = parse_jwks(
                    &self.issuer,
                    &fetched.body,
                    &self.settings.algorithms,
                    &self.pinned,
                )?;
                let generation = next_generation();
                let count = keys.len();
                self.snapshot.store(Some(Arc::new(Snapshot {
                    keys: Arc::new(keys),
                    generation,
                    document: fetched.body,
                })));
                self.epoch.set(generation, usable_until);
                tracing::info!(target: "authgate", issuer = %self.issuer, keys = count,
                    "issuer keys fetched");
            }
        }
        let settings = &self.settings;
        let next = fetched
            .max_age
            .unwrap_or(DEFAULT_REFRESH)
            .clamp(settings.min_refresh, settings.max_refresh)
            .min(settings.max_staleness / 2);
        Ok(next)
    }
}

/// The task: fetch, then wait for the next refresh or a kick; it ends once the Gate is gone.
async fn run(remote: Weak<Remote>, signals: Arc<Signals>) {
    let mut jwks_url = None;
    let mut backoff = None;
    loop {
        let delay = {
            let Some(remote) = remote.upgrade() else {
                return;
            };
            signals.in_flight.store(true, Ordering::Release);
            let outcome = remote.refresh(&mut jwks_url).await;
            signals.in_flight.store(false, Ordering::Release);
            signals.answered();
            match outcome {
                Ok(next) => {
                    backoff = None;
                    next
                }
                Err(error) => {
                    // Discovery is asked again on the next attempt: the provider may have moved.
                    jwks_url = None;
                    let settings = &remote.settings;
                    let delay = backoff
                        .map(|d: Duration| (d * 2).min(settings.max_retry()))
                        .unwrap_or_else(|| settings.first_retry());
                    backoff = Some(delay);
                    tracing::warn!(target: "authgate", issuer = %remote.issuer, %error,
                        retry_in_ms = millis(delay),
                        "issuer keys not fetched; the last good keys stay in use up to the \
                         staleness bound");
                    delay
                }
            }
        };
        let deadline = Instant::now() + delay;
        loop {
            tokio::select! {
                () = sleep_until(deadline) => break,
                () = signals.kick.notified() => {
                    if signals.rate_limited() {
                        signals.answered();
                        continue;
                    }
                    signals.in_flight.store(true, Ordering::Release);
                    signals.last_kid_fetch_ms.store(monotonic_ms(), Ordering::Release);
                    break;
                }
            }
        }
    }
}
