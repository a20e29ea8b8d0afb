//! The Gate: the configuration every guard reads from app state, and the entry point of a
//! request's check. A request goes down [`authenticate`] (credential to principal) and
//! [`decide`] (policy, then the rejection); [`builder`] holds the settings and their
//! validation. The session lifecycle is delegated to `session`.

mod authenticate;
mod builder;
mod decide;

use std::fmt;
use std::sync::Arc;

use axum::response::Response;

use crate::cache::TokenCache;
use crate::csrf::Csrf;
use crate::principal::CurrentUser;
use crate::reject::{Rejection, Render};
use crate::session::{
    self, SessionCookie, SessionError, SessionErrorKind, SessionLayer, SessionUser, Sessions,
};
use crate::verify::{KeySet, KeySource, Rules};

pub use builder::GateBuilder;
pub(crate) use decide::{Failure, route};

/// The access configuration guards read from app state through `FromRef`: keys, claim rules,
/// where roles and scopes live, and how rejections render. Cheap to clone (`Arc` inside).
///
/// ```
/// use authgate::Gate;
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
///     .hs256("an HMAC secret of at least 32 bytes!!")
///     .issuer("https://auth.example.com")
///     .audience("invoices-api")
///     .build()?;
/// let state = AppState { gate };
/// # Ok::<(), authgate::GateError>(())
/// ```
#[derive(Clone)]
pub struct Gate {
    inner: Arc<Inner>,
}

struct Inner {
    render: Render,
    keys: Keys,
    rules: Rules,
    clock: Clock,
    sessions: Option<Sessions>,
    csrf: Csrf,
    /// Verified bearer tokens and stateless cookies; `None` when turned off.
    cache: Option<TokenCache>,
}

enum Keys {
    Static(KeySet),
    Source(Arc<dyn KeySource>),
}

type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = match &self.inner.keys {
            Keys::Static(set) => format!("{} static", set.len()),
            Keys::Source(_) => "dynamic".to_owned(),
        };
        f.debug_struct("Gate")
            .field("realm", &self.realm())
            .field("keys", &keys)
            .field("rules", &self.inner.rules)
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// Starts a builder with the defaults: realm `api`, leeway 30 s, maximum lifetime 24 h,
    /// maximum token size 8 KiB, roles in the `roles` claim, scopes in `scope` or `scp`.
    pub fn builder() -> GateBuilder {
        GateBuilder::new()
    }

    /// The realm named in `WWW-Authenticate`.
    #[inline]
    pub fn realm(&self) -> &str {
        self.inner.render.realm()
    }

    /// The current time in seconds since the Unix epoch, as this Gate's clock tells it: the
    /// one clock of token expiry, sessions and the test kit.
    #[inline]
    pub fn now(&self) -> u64 {
        (self.inner.clock)()
    }

    /// How many verified tokens the token cache holds now (0 when it is off), for metrics.
    ///
    /// ```
    /// use authgate::Gate;
    ///
    /// let gate = Gate::builder().hs256("an HMAC secret of at least 32 bytes!!").build()?;
    /// assert_eq!(gate.cached_tokens(), 0);
    /// # Ok::<(), authgate::GateError>(())
    /// ```
    pub fn cached_tokens(&self) -> usize {
        self.inner.cache.as_ref().map_or(0, TokenCache::len)
    }

    /// The name of the session cookie this Gate accepts, or `None` when it accepts bearer
    /// tokens only (no [`GateBuilder::sessions`]).
    ///
    /// ```
    /// use authgate::{Gate, MemoryStore, Sessions};
    ///
    /// let bearer_only = Gate::builder().hs256("an HMAC secret of at least 32 bytes!!").build()?;
    /// assert_eq!(bearer_only.session_cookie_name(), None);
    /// let with_cookie = Gate::builder()
    ///     .hs256("an HMAC secret of at least 32 bytes!!")
    ///     .sessions(Sessions::server_side("__Host-session", MemoryStore::new()))
    ///     .build()?;
    /// assert_eq!(with_cookie.session_cookie_name(), Some("__Host-session"));
    /// # Ok::<(), authgate::GateError>(())
    /// ```
    pub fn session_cookie_name(&self) -> Option<&str> {
        self.inner.sessions.as_ref().map(|s| s.cookie.as_str())
    }

    /// Whether the keys come from a [`KeySource`], which can fail: guarded routes then answer
    /// 503 `unavailable`.
    ///
    /// ```
    /// let gate = authgate::Gate::builder().hs256("an HMAC secret of at least 32 bytes!!").build()?;
    /// assert!(!gate.has_key_source()); // static keys cannot be down
    /// # Ok::<(), authgate::GateError>(())
    /// ```
    pub fn has_key_source(&self) -> bool {
        matches!(self.inner.keys, Keys::Source(_))
    }

    /// Whether session cookies are looked up in a [`SessionStore`](crate::SessionStore)
    /// (server-side sessions), which can fail: a cookie-authenticated request then answers
    /// 503 `unavailable`. Stateless cookies and bearer tokens never ask a store.
    ///
    /// ```
    /// use authgate::{Gate, MemoryStore, Sessions};
    ///
    /// let gate = Gate::builder()
    ///     .hs256("an HMAC secret of at least 32 bytes!!")
    ///     .sessions(Sessions::server_side("__Host-session", MemoryStore::new()))
    ///     .build()?;
    /// assert!(gate.has_session_store());
    /// # Ok::<(), authgate::GateError>(())
    /// ```
    pub fn has_session_store(&self) -> bool {
        self.inner
            .sessions
            .as_ref()
            .is_some_and(|s| matches!(s.kind, session::SessionKind::Server(_)))
    }

    /// Renders a rejection through the app's hook (or as JSON), then makes sure the protocol
    /// headers are there whatever the hook did.
    pub fn render(&self, rejection: &Rejection) -> Response {
        self.inner.render.render(rejection)
    }

    /// Starts a session for `user` with a fresh id (never an id the request brought), and
    /// returns the cookie to send.
    ///
    /// ```
    /// use authgate::{Gate, MemoryStore, SessionCookie, SessionError, SessionUser, Sessions};
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let gate = Gate::builder()
    ///     .hs256("an HMAC secret of at least 32 bytes!!")
    ///     .sessions(Sessions::server_side("__Host-session", MemoryStore::new()))
    ///     .build()?;
    /// let cookie: SessionCookie = gate.login(SessionUser::new("42").roles(["user"])).await?;
    /// assert!(cookie.header_value().to_str()?.starts_with("__Host-session="));
    /// # Ok(()) }
    /// ```
    pub async fn login(&self, user: SessionUser) -> Result<SessionCookie, SessionError> {
        let sessions = self.sessions()?;
        session::login(sessions, &self.inner.rules, self.now(), user)
            .await
            .map_err(|kind| self.session_error(kind))
    }

    /// Ends the caller's session: deletes it from the store (server-side) and returns the
    /// cookie that clears it in the browser.
    pub async fn logout<C>(&self, user: &CurrentUser<C>) -> Result<SessionCookie, SessionError> {
        let sessions = self.sessions()?;
        session::logout(sessions, &user.principal)
            .await
            .map_err(|kind| self.session_error(kind))
    }

    /// Ends every server-side session of a user, for example after a password change.
    /// Returns how many were ended.
    pub async fn revoke_user(&self, subject: &str) -> Result<u64, SessionError> {
        let sessions = self.sessions()?;
        session::revoke_user(sessions, subject)
            .await
            .map_err(|kind| self.session_error(kind))
    }

    /// The layer that re-issues stateless session cookies close to expiry:
    /// `router.layer(gate.session_layer())`.
    pub fn session_layer(&self) -> SessionLayer {
        SessionLayer
    }

    fn sessions(&self) -> Result<&Sessions, SessionError> {
        self.inner
            .sessions
            .as_ref()
            .ok_or_else(|| self.session_error(SessionErrorKind::NotConfigured))
    }

    fn session_error(&self, kind: SessionErrorKind) -> SessionError {
        SessionError::new(kind, &self.inner.render)
    }

    /// The claim rules, for the test kit to mint tokens this Gate accepts.
    #[cfg(feature = "testing")]
    pub(crate) fn rules(&self) -> &Rules {
        &self.inner.rules
    }

    /// The first HMAC secret of the Gate's own keys, for the test kit to mint with.
    #[cfg(feature = "testing")]
    pub(crate) fn hmac_secret(&self) -> Option<(jsonwebtoken::Algorithm, Option<String>, Vec<u8>)> {
        match &self.inner.keys {
            Keys::Static(keys) => keys.hmac_secret(),
            Keys::Source(_) => None,
        }
    }

    /// Whether the Gate can start sessions.
    #[cfg(feature = "testing")]
    pub(crate) fn has_sessions(&self) -> bool {
        self.inner.sessions.is_some()
    }
}
