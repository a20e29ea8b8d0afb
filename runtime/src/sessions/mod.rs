//! Browser sessions: the session cookie, how a login starts one and a logout ends it, the
//! values a session keeps, and the cross-site request forgery check of every
//! cookie-authenticated state change.
//!
//! Two kinds, configured on the Gate with [`GateBuilder::sessions`](crate::GateBuilder::sessions):
//!
//! - **server-side** ([`Sessions::server_side`]): the cookie holds an opaque id (256 bits from
//!   the OS CSPRNG); the session lives in a [`LoginStore`] under the
//!   id's SHA-256, with an idle timeout and an absolute lifetime, and can be revoked: one
//!   session at logout, or all of a user's after a password change
//!   ([`Gate::revoke_user`](crate::Gate::revoke_user)). A store error answers 503, never 401
//!   and never 200.
//! - **stateless** ([`Sessions::stateless`]): the cookie holds a JWT signed with the session's
//!   own [`SigningKey`], verified with that key only (never taken for a bearer token, and no
//!   bearer token is taken for it). Without [`Revocations`](crate::revocation::Revocations) it
//!   cannot be revoked before it expires. It is re-issued when less than half its lifetime
//!   is left (rolling), up to the absolute lifetime, on every route of
//!   [`authgate::Router`](crate::Router): the new cookie rides on the handler's response.
//!
//! Cookies are `HttpOnly; Secure; SameSite=Lax; Path=/` with `Max-Age`; the `__Host-` name
//! prefix is recommended (the browser then refuses the cookie from a sub-domain or over
//! HTTP). Every login issues a fresh id, so a planted id is never adopted (no fixation), and a
//! login ends the session the browser presented.
//!
//! A Gate may take sessions next to bearer tokens. When a request carries an `Authorization`
//! header, the bearer token decides, valid or not: a presented credential never falls back to
//! the cookie. Pages that should take the cookie only say so with `credentials = "cookie"` on
//! their attribute, or live in a [`Router::accepting`](crate::Router::accepting) router: a
//! bearer token (which skips the origin check) is then no way into them.
//!
//! A cookie that stands for no session any more (a logout elsewhere, the idle timeout, a
//! store flush) is refused on guarded routes (401, or the login redirect of a page), and on
//! `#[public]` routes with `Option<CurrentUser>` makes the visitor anonymous: the response
//! clears the cookie, so a home page never stays broken for a browser that kept one.
//!
//! Server-side sessions live in a [`LoginStore`]: [`MemoryStore`](crate::store::MemoryStore)
//! for one instance and tests; for several instances, or sessions that survive a restart,
//! `authgate_sqlx::SqliteStore`, `authgate_sqlx::PostgresStore` or
//! `authgate_redis::RedisStore`, which every instance shares. Expired sessions are purged in
//! the background ([`Sessions::purge_every`]). The
//! [browser quick start](crate::guide::browser_app_with_sessions) is a whole app with its
//! test.
//!
//! # A login form
//!
//! [`Gate::login`](crate::Gate::login) takes a [`LoginAttempt`](crate::LoginAttempt): the
//! extractor that runs the origin check on the login request itself (login CSRF), which a
//! `#[public]` handler would otherwise skip.
//!
//! ```
//! use authgate::{Gate, Identity, LoginAttempt, Rejection, public, require_auth, CurrentUser};
//! use authgate::sessions::{SessionCookie, Sessions, safe_next};
//! use authgate::store::MemoryStore;
//! use axum::extract::{Query, State};
//! use axum::response::{IntoResponse, Redirect, Response};
//!
//! #[derive(serde::Deserialize)]
//! struct Next { next: Option<String> }
//!
//! #[public(reason = "the login form posts here")]
//! async fn login(
//!     State(gate): State<Gate>,
//!     attempt: LoginAttempt,
//!     Query(next): Query<Next>,
//!     body: String, // check the password in it (argon2id) and find the user
//! ) -> Result<Response, Rejection> {
//!     let user = Identity::new("42").roles(["user"]);
//!     let cookie = gate.login(&attempt, user).await?;
//!     let to = safe_next(next.next.as_deref(), "/dashboard"); // never an open redirect
//!     Ok((cookie, Redirect::to(to)).into_response())
//! }
//!
//! #[require_auth(redirect = "/login")]
//! async fn logout(user: CurrentUser, State(gate): State<Gate>) -> Result<Response, Rejection> {
//!     let cookie: SessionCookie = gate.logout(&user).await?;
//!     Ok((cookie, Redirect::to("/")).into_response())
//! }
//!
//! # fn main() -> Result<(), authgate::ConfigError> {
//! let gate = Gate::builder()
//!     .sessions(Sessions::server_side("__Host-session", MemoryStore::new()))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! # Session values
//!
//! [`SessionData`] keeps a server-side session's own values (typed, by key) and flash
//! messages (taken once by a later request), in the session's record: read without a store
//! call, written only when changed, each change an atomic compare-and-set that never brings
//! back a session a logout or revocation deleted. Bounded by [`Sessions::data_limit`]. A
//! login starts with none. Stateless cookies carry no values: an older cookie would bring back
//! older ones, and two tabs would overwrite each other.
//!
//! # Cross-site request forgery
//!
//! Checked by the guard for every cookie-authenticated request that can change state, before
//! the store is asked, so a form POST cannot forget it. It follows the browser's own signals
//! (the approach of Go 1.25's `http.CrossOriginProtection` and Rails 8):
//!
//! 1. `GET`, `HEAD` and `OPTIONS` pass, except a WebSocket handshake and any request to a
//!    route made with [`routing::any`](crate::routing::any). Bearer credentials are exempt: a
//!    browser never attaches one on its own.
//! 2. An `Origin` on the trusted list ([`Sessions::trusted_origin`]) passes.
//! 3. `Sec-Fetch-Site: same-origin` or `none` passes; any other value is refused.
//! 4. Without `Sec-Fetch-Site`: no `Origin` passes (not a browser, or a very old one) unless
//!    [`Sessions::require_origin`] is set. An `Origin` must be one of the app's declared
//!    origins ([`Sessions::origin`]: scheme, host and port compared); when none is declared,
//!    its host and port must equal `Host`. `Origin: null` is refused.
//!
//! A refused request answers 403 `forbidden`, and the handler does not run.
//!
//! # Stateless cookies
//!
//! No store to run, and no store lookup per request: the cookie is verified like a token. The
//! price is revocation: a logout clears the cookie in this browser only, unless the Gate has
//! [`Revocations`](crate::revocation::Revocations), which then end it on every instance (as
//! [`Gate::revoke_user`](crate::Gate::revoke_user) does for all of a user's cookies).
//!
//! ```
//! use std::time::Duration;
//! use authgate::{CurrentUser, Gate, Router, require_auth, routing::get};
//! use authgate::keys::{Algorithm, SigningKey};
//! use authgate::sessions::Sessions;
//!
//! #[require_auth(redirect = "/login")]
//! async fn dashboard(user: CurrentUser) -> String { format!("<h1>Hello {}</h1>", user.subject()) }
//!
//! # fn main() -> Result<(), authgate::ConfigError> {
//! let key = SigningKey::hmac(Algorithm::HS256, "a cookie secret of at least 32 bytes!!")?;
//! let gate = Gate::builder()
//!     .sessions(Sessions::stateless("__Host-session", key).idle_timeout(Duration::from_secs(30 * 60)))
//!     .build()?;
//! // A cookie half-way to its idle timeout is re-issued with the handler's response.
//! let app: axum::Router = Router::new().route("/dashboard", get(dashboard)).with_state(gate).into_axum();
//! # Ok(()) }
//! ```

mod csrf;
mod data;
mod lifecycle;
pub(crate) mod redirect;
mod renew;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::response::{IntoResponseParts, ResponseParts};
use http::{HeaderValue, header};

use crate::error::ConfigProblem;
use crate::keys::{KeySet, SigningKey};
use crate::store::{LoginStore, Logins};

pub(crate) use csrf::{Csrf, OnEveryMethod};
pub use data::{SessionData, SessionDataError};
pub(crate) use lifecycle::{
    Refused, SESSION_STORE, authenticate_server, forget_dead_cookie, login, logout, renew_if_due,
    start_purge,
};
#[cfg(test)]
pub(crate) use redirect::is_safe_next;
pub(crate) use redirect::login_location;
pub use redirect::safe_next;
pub(crate) use renew::Renew;

/// Session cookie settings, for [`GateBuilder::sessions`](crate::GateBuilder::sessions): the
/// cookie, where the session lives, its timeouts, and the cross-site request forgery check.
///
/// ```
/// use std::time::Duration;
/// use authgate::sessions::Sessions;
/// use authgate::store::MemoryStore;
///
/// let sessions = Sessions::server_side("__Host-session", MemoryStore::new())
///     .idle_timeout(Duration::from_secs(30 * 60))
///     .absolute_lifetime(Duration::from_secs(12 * 3600))
///     .origin("https://app.example.com");
/// ```
#[derive(Clone)]
pub struct Sessions {
    pub(crate) cookie: String,
    pub(crate) kind: SessionKind,
    pub(crate) secure: bool,
    pub(crate) strict: bool,
    pub(crate) idle_timeout: u64,
    pub(crate) absolute_lifetime: u64,
    /// How often the Gate purges expired server-side sessions.
    pub(crate) purge_every: Duration,
    /// Whether the purge task runs (started by the first request that reads the store).
    pub(crate) purging: Arc<std::sync::Once>,
    pub(crate) csrf: Csrf,
    /// The most bytes a session's values and flash messages take in its record.
    pub(crate) data_limit: usize,
    /// Whether `data_limit` was set, which stateless sessions refuse.
    data_limit_set: bool,
}

/// The default of [`Sessions::data_limit`].
const DATA_LIMIT: usize = 4096;

#[derive(Clone)]
pub(crate) enum SessionKind {
    Server(Logins),
    Stateless(StatelessKey),
}

/// The key of stateless session cookies: it signs them, and its public half (or the same
/// secret) is the only key they are verified with.
#[derive(Clone)]
pub(crate) struct StatelessKey {
    pub(crate) signing: SigningKey,
    /// Derived when the settings are made; a key that cannot verify is reported by `build`.
    pub(crate) verifying: Result<KeySet, ConfigProblem>,
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            SessionKind::Server(_) => "server-side",
            SessionKind::Stateless(_) => "stateless",
        };
        f.debug_struct("Sessions")
            .field("cookie", &self.cookie)
            .field("kind", &kind)
            .field("secure", &self.secure)
            .field("idle_timeout", &self.idle_timeout)
            .field("absolute_lifetime", &self.absolute_lifetime)
            .finish_non_exhaustive()
    }
}

/// What a stateless cookie's key is called in configuration errors.
pub(crate) const STATELESS_KEY: &str = "stateless session cookies";

impl Sessions {
    /// Opaque session ids in `cookie`, looked up in `store`. Defaults: idle timeout 30 min,
    /// absolute lifetime 12 h.
    pub fn server_side(cookie: impl Into<String>, store: impl LoginStore) -> Self {
        Sessions::new(cookie.into(), SessionKind::Server(Arc::new(store)))
    }

    /// Signed JWTs in `cookie`, signed with `key` and verified with it alone. Defaults: each
    /// cookie lives 30 min (re-issued when half is left), sessions end after 12 h whatever
    /// happens.
    pub fn stateless(cookie: impl Into<String>, key: SigningKey) -> Self {
        let verifying = key
            .verification_key()
            .map_err(|e| e.into_problems().remove(0))
            .and_then(|public| KeySet::new(STATELESS_KEY, vec![public]));
        let key = StatelessKey {
            signing: key,
            verifying,
        };
        Sessions::new(cookie.into(), SessionKind::Stateless(key))
    }

    fn new(cookie: String, kind: SessionKind) -> Self {
        Sessions {
            cookie,
            kind,
            secure: true,
            strict: false,
            idle_timeout: 30 * 60,
            absolute_lifetime: 12 * 3600,
            purge_every: Duration::from_secs(10 * 60),
            purging: Arc::new(std::sync::Once::new()),
            csrf: Csrf::default(),
            data_limit: DATA_LIMIT,
            data_limit_set: false,
        }
    }

    /// How long an unused session stays valid (server-side), or how long one stateless
    /// cookie lives before it must be re-issued.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout.as_secs();
        self
    }

    /// How long a session lasts from login, however active.
    pub fn absolute_lifetime(mut self, lifetime: Duration) -> Self {
        self.absolute_lifetime = lifetime.as_secs();
        self
    }

    /// How often expired server-side sessions are deleted from the store (default every 10
    /// minutes). The Gate runs the purge in the background, started by the first request that
    /// reads a session, each run bounded to 30 seconds and logged; it stops with the Gate.
    pub fn purge_every(mut self, every: Duration) -> Self {
        self.purge_every = every.max(Duration::from_secs(1));
        self
    }

    /// `SameSite=Strict` instead of `Lax`: the cookie is not sent on navigations from other
    /// sites either, so a link to the app from elsewhere arrives logged out.
    pub fn same_site_strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Drops the `Secure` attribute so the cookie works over plain HTTP on `localhost`.
    /// Only for local development: a warning is logged when the Gate is built. Refused with a
    /// `__Host-` or `__Secure-` cookie name, which browsers only accept with `Secure`.
    pub fn insecure_for_local_development(mut self) -> Self {
        self.secure = false;
        self
    }

    /// Declares an origin the app is served from (`https://app.example.com`). Without
    /// `Sec-Fetch-Site`, a state change's `Origin` must then be one of the declared origins,
    /// scheme, host and port alike, instead of matching the `Host` header by host and port.
    /// Call it once per origin.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.csrf.origin(origin.into());
        self
    }

    /// Accepts cookie-authenticated state changes from this other origin too
    /// (`scheme://host[:port]`, compared with the request's `Origin` as a browser sends it).
    pub fn trusted_origin(mut self, origin: impl Into<String>) -> Self {
        self.csrf.trusted_origin(origin.into());
        self
    }

    /// The most bytes a session's values and flash messages ([`SessionData`]) may take, as
    /// stored (JSON); 4 KiB by default. Every request of the session reads them with it, and
    /// each change sends them to the store. A change that would go over is refused
    /// ([`SessionDataError::is_too_large`]). Server-side sessions only: `build` refuses it on
    /// stateless ones.
    pub fn data_limit(mut self, bytes: usize) -> Self {
        self.data_limit = bytes;
        self.data_limit_set = true;
        self
    }

    /// Refuses cookie-authenticated state changes that carry neither `Sec-Fetch-Site` nor
    /// `Origin`, instead of taking them for a non-browser client.
    pub fn require_origin(mut self) -> Self {
        self.csrf.require_origin();
        self
    }

    pub(crate) fn set_cookie(&self, value: &str, max_age: u64) -> HeaderValue {
        let mut cookie = format!(
            "{}={value}; Path=/; Max-Age={max_age}; HttpOnly",
            self.cookie
        );
        if self.secure {
            cookie.push_str("; Secure");
        }
        cookie.push_str(match self.strict {
            false => "; SameSite=Lax",
            true => "; SameSite=Strict",
        });
        // The name was checked at build time and values are base64url: always a valid header.
        let mut header =
            HeaderValue::try_from(cookie).unwrap_or_else(|_| HeaderValue::from_static(""));
        // A credential: `Debug` prints `Sensitive`, and HTTP/2 never indexes it.
        header.set_sensitive(true);
        header
    }

    /// The settings' problems, for `GateBuilder::build`: the cookie name and its prefix, the
    /// timeouts, and a stateless key that cannot verify what it signs.
    pub(crate) fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let name = &self.cookie;
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid {
            problems.push(ConfigProblem::CookieName { name: name.clone() });
        }
        if !self.secure {
            if name.starts_with("__Host-") || name.starts_with("__Secure-") {
                problems.push(ConfigProblem::InsecurePrefixedCookie { name: name.clone() });
            } else {
                tracing::warn!(target: "authgate", cookie = %name,
                    "session cookies are sent without `Secure`: only for plain-HTTP local development");
            }
        }
        if self.idle_timeout == 0 || self.absolute_lifetime == 0 {
            problems.push(ConfigProblem::ZeroLimit {
                setting: "session timeouts",
            });
        }
        if let SessionKind::Stateless(key) = &self.kind {
            if let Err(problem) = &key.verifying {
                problems.push(problem.clone());
            }
            if self.data_limit_set {
                problems.push(ConfigProblem::Missing {
                    setting: "server-side sessions (Sessions::server_side)",
                    needed_by: "session data (Sessions::data_limit)",
                });
            }
        }
        problems
    }
}

/// A `Set-Cookie` header that starts or ends a session; return it with the response:
/// `(cookie, Redirect::to("/dashboard"))`. A logout of a bearer token clears no cookie: its
/// `SessionCookie` adds nothing to the response.
#[derive(Clone, Debug)]
#[must_use = "the cookie does nothing unless it is returned in the response"]
pub struct SessionCookie(pub(crate) Option<HeaderValue>);

impl SessionCookie {
    /// The `Set-Cookie` value, if there is one to send.
    pub fn header_value(&self) -> Option<&HeaderValue> {
        self.0.as_ref()
    }
}

impl IntoResponseParts for SessionCookie {
    type Error = std::convert::Infallible;
    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        if let Some(cookie) = self.0 {
            res.headers_mut().append(header::SET_COOKIE, cookie);
        }
        Ok(res)
    }
}
