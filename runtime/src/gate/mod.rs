//! The Gate: the configuration every guard reads from app state, and the entry point of a
//! request's check. A request goes down [`authenticate`] (credential to principal) and
//! [`decide`] (policy, then the rejection); [`settings`] holds the builder and its
//! validation; [`login`], [`issuing`] and [`revoke`] are what handlers ask of the Gate.

mod authenticate;
mod decide;
mod failure;
mod issuing;
mod login;
mod revoke;
mod session_data;
mod settings;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::cache::TokenCache;
use crate::clock::{Clock, time};
use crate::issuers::Issuers;
use crate::reject::{Rejection, Render};
use crate::revocation::Revocations;
use crate::sessions::{Csrf, Sessions};
use crate::tokens::{RefreshTokens, Signer};
use crate::verify::Rules;

pub(crate) use decide::route;
pub(crate) use failure::Failure;
pub use login::LoginAttempt;
pub use settings::GateBuilder;

/// The access configuration guards read from app state through `FromRef`: the issuers whose
/// tokens it accepts, its sessions, revocations, and how refusals render. Cheap to clone
/// (`Arc` inside).
///
/// ```
/// use authgate::Gate;
/// use authgate::issuers::Issuer;
/// use axum::extract::FromRef;
///
/// #[derive(Clone)]
/// struct AppState {
///     gate: Gate,
/// }
///
/// // Or `#[derive(FromRef)]` with axum's `macros` feature.
/// impl FromRef<AppState> for Gate {
///     fn from_ref(state: &AppState) -> Gate {
///         state.gate.clone()
///     }
/// }
///
/// let gate = Gate::builder()
///     .issuer(Issuer::new("https://auth.example.com").secret("an HMAC secret of at least 32 bytes!!"))
///     .build()?;
/// let state = AppState { gate };
/// # Ok::<(), authgate::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Gate {
    inner: Arc<Inner>,
}

struct Inner {
    render: Render,
    /// Who bearer tokens are accepted from; empty for a Gate of session cookies only.
    issuers: Issuers,
    /// The Gate-wide limits: leeway, maximum lifetime, maximum token size.
    limits: Rules,
    /// The rules stateless session cookies are checked with: the limits, no issuer.
    cookie_rules: Rules,
    clock: Clock,
    sessions: Option<Sessions>,
    /// The sessions' CSRF settings (the defaults without sessions, for login attempts).
    csrf: Csrf,
    /// Verified bearer tokens and stateless cookies; `None` when turned off.
    cache: Option<TokenCache>,
    /// Revocations of bearer tokens and stateless cookies; `None` when not configured.
    revocations: Option<Revocations>,
    /// What signs the access tokens this Gate issues; `None` when no issuer has a signing key.
    signer: Option<Signer>,
    /// Refresh token families; `None` when not configured.
    refresh: Option<RefreshTokens>,
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("realm", &self.inner.render.realm())
            .field("issuers", &self.inner.issuers.summary())
            .field("sessions", &self.inner.sessions)
            .field("revocations", &self.inner.revocations)
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// The subprotocol a WebSocket handler selects when its clients send their bearer token in
    /// the handshake: `WebSocketUpgrade::protocols([Gate::WEBSOCKET_PROTOCOL])`.
    ///
    /// A browser's `WebSocket` cannot set `Authorization`; a bearer client offers the token as
    /// a subprotocol instead, next to this one, which the handler selects so that the token is
    /// never echoed back: `new WebSocket(url, ["authgate", "authgate.bearer." + token])`.
    /// Unlike a token in the URL's query, the header does not land in access logs, browser
    /// history or `Referer`.
    pub const WEBSOCKET_PROTOCOL: &'static str = crate::credentials::WEBSOCKET_PROTOCOL;

    /// The prefix of the subprotocol entry that carries a bearer token:
    /// `authgate.bearer.<token>`.
    pub const WEBSOCKET_BEARER_PREFIX: &'static str = crate::credentials::WEBSOCKET_BEARER_PREFIX;

    /// Starts a builder. Defaults: realm `api`, leeway 30 s, maximum token lifetime 24 h,
    /// maximum token size 8 KiB, issued tokens live 15 minutes, a token cache of 32 MiB.
    pub fn builder() -> GateBuilder {
        GateBuilder::new()
    }

    /// Now, as this Gate's clock tells it (whole seconds): the one clock of token expiry,
    /// sessions, revocations and the test kit.
    #[inline]
    pub fn now(&self) -> SystemTime {
        time(self.now_secs())
    }

    /// Now in seconds since the Unix epoch, as the request path reads it.
    #[inline]
    pub(crate) fn now_secs(&self) -> u64 {
        self.inner.clock.now()
    }

    /// How many verified tokens the token cache holds now (0 when it is off), for metrics.
    pub fn cached_tokens(&self) -> usize {
        self.inner.cache.as_ref().map_or(0, TokenCache::len)
    }

    /// How many revoked token ids and revoked subjects this Gate's view holds now (0 without
    /// revocations), for metrics.
    pub fn revocations_in_view(&self) -> usize {
        self.inner.revocations.as_ref().map_or(0, |r| r.view.len())
    }

    /// Waits until what the Gate keeps current in the background (the revocation view, the
    /// keys fetched from issuers) is current, for at most `within`; whether it is. Bearer
    /// tokens and stateless cookies answer 503 until then. Call it at start, before serving,
    /// to begin with everything loaded (serving without it is safe too); a Gate with neither
    /// is always ready.
    ///
    /// ```
    /// use std::time::Duration;
    /// use authgate::Gate;
    /// use authgate::issuers::Issuer;
    /// use authgate::revocation::Revocations;
    /// use authgate::store::MemoryStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), authgate::ConfigError> {
    /// let gate = Gate::builder()
    ///     .issuer(Issuer::new("https://auth.example.com").secret("an HMAC secret of at least 32 bytes!!"))
    ///     .revocations(Revocations::new(MemoryStore::new()))
    ///     .build()?;
    /// assert!(gate.ready(Duration::from_secs(5)).await);
    /// # Ok(()) }
    /// ```
    pub async fn ready(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        if !self.inner.issuers.ready(deadline).await {
            return false;
        }
        let Some(revocations) = &self.inner.revocations else {
            return true;
        };
        revocations.start(&self.inner.clock);
        loop {
            if revocations.view.is_current() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The CSRF settings, for the login extractor.
    pub(crate) fn csrf(&self) -> &Csrf {
        &self.inner.csrf
    }

    /// The session settings, or the refusal of an operation that needs them.
    fn sessions(&self) -> Result<&Sessions, Rejection> {
        self.inner.sessions.as_ref().ok_or_else(|| {
            self.fail(Rejection::misconfigured(
                "no sessions configured: call GateBuilder::sessions",
            ))
        })
    }

    /// A refusal of this Gate, rendered as it renders every other.
    fn fail(&self, rejection: Rejection) -> Rejection {
        rejection.rendered_by(&self.inner.render)
    }

    /// The key the Gate issues with and its rules, for the test kit to mint with.
    #[cfg(feature = "testing")]
    #[cfg(feature = "testing")]
    pub(crate) fn has_sessions(&self) -> bool {
        self.inner.sessions.is_some()
    }

    #[cfg(feature = "testing")]
    pub(crate) fn signer(&self) -> Option<&Signer> {
        self.inner.signer.as_ref()
    }

    /// The issuers, for the test kit and the OpenAPI document.
    #[cfg(any(feature = "testing", feature = "utoipa"))]
    pub(crate) fn issuers(&self) -> &Issuers {
        &self.inner.issuers
    }

    /// The session settings, for the OpenAPI document.
    #[cfg(feature = "utoipa")]
    pub(crate) fn session_settings(&self) -> Option<&Sessions> {
        self.inner.sessions.as_ref()
    }

    /// The realm, for the OpenAPI document.
    #[cfg(feature = "utoipa")]
    pub(crate) fn realm(&self) -> &str {
        self.inner.render.realm()
    }

    /// Whether revocations are configured, for the OpenAPI document.
    #[cfg(feature = "utoipa")]
    pub(crate) fn has_revocations(&self) -> bool {
        self.inner.revocations.is_some()
    }
}
