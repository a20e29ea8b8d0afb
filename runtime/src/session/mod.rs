//! Browser sessions: their settings, the session lifecycle (login, logout, revocation,
//! renewal) and the stores server-side sessions live in.
//!
//! Two kinds, configured on the Gate with [`GateBuilder::sessions`](crate::GateBuilder::sessions):
//!
//! - **server-side** ([`Sessions::server_side`]): the cookie holds an opaque id (256 bits from
//!   the OS CSPRNG); the session lives in a [`SessionStore`], with an idle timeout and an
//!   absolute lifetime, and can be revoked — one session at logout, or all of a user's after a
//!   password change ([`Gate::revoke_user`](crate::Gate::revoke_user)). A store error answers
//!   503, never 401 and never 200.
//! - **stateless** ([`Sessions::stateless`]): the cookie holds a JWT signed with a key the Gate
//!   also verifies with, checked exactly like a bearer token. Without
//!   [`Revocations`](crate::Revocations) it cannot be revoked before it expires. With
//!   [`Gate::session_layer`](crate::Gate::session_layer) it is re-issued when less than half
//!   its lifetime is left (rolling), up to the absolute lifetime.
//!
//! Cookies are `HttpOnly; Secure; SameSite=Lax; Path=/` with `Max-Age`; the `__Host-` name
//! prefix is recommended (the browser then refuses the cookie from a sub-domain or over HTTP).
//! Every login issues a fresh id, so a planted id is never adopted (no fixation).
//!
//! Why authgate has its own [`SessionStore`] trait rather than tower-sessions' store trait:
//! revocation of all of a user's sessions needs an index by user, and idle and absolute
//! expiry are separate; tower-sessions' `SessionStore` (create/save/load/delete by id, one
//! expiry) has neither. The trait is six small methods; [`MemoryStore`] is built in, and
//! `SqliteStore`, `PostgresStore` and `RedisStore` come with the features of those names.

mod layer;
mod lifecycle;
pub(crate) mod refresh;
mod store;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
mod stored;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::response::{IntoResponse, IntoResponseParts, Response, ResponseParts};
use http::{HeaderValue, header};

use crate::reject::{RejectionKind, Render};
use crate::verify::SigningKey;

pub(crate) use layer::RenewSlot;
pub use layer::{SessionLayer, SessionService};
pub(crate) use lifecycle::{
    Refused, authenticate_server, login, logout, renew_if_due, revoke_user, start_purge,
};
#[cfg(feature = "testing")]
pub(crate) use store::new_session_id;
pub(crate) use store::random_id;
pub use store::{MemoryStore, SessionKey, SessionRecord, SessionStore, StoreError};
#[cfg(feature = "redis")]
pub(crate) use stored::StoredFields;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
pub(crate) use stored::list_as_json;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) use stored::{SqlRow, sql_seconds};

/// `SameSite` of the session cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    /// Sent on top-level navigations from other sites (default): links to the app work.
    Lax,
    /// Never sent from other sites.
    Strict,
}

/// Session cookie settings. Give them to [`GateBuilder::sessions`](crate::GateBuilder::sessions).
///
/// ```
/// use std::time::Duration;
/// use authgate::{Gate, MemoryStore, Sessions};
///
/// let gate = Gate::builder()
///     .hs256("an HMAC secret of at least 32 bytes!!")
///     .sessions(
///         Sessions::server_side("__Host-session", MemoryStore::new())
///             .idle_timeout(Duration::from_secs(30 * 60))
///             .absolute_lifetime(Duration::from_secs(12 * 3600)),
///     )
///     .build()?;
/// # Ok::<(), authgate::GateError>(())
/// ```
#[derive(Clone)]
pub struct Sessions {
    pub(crate) cookie: String,
    pub(crate) kind: SessionKind,
    pub(crate) secure: bool,
    pub(crate) same_site: SameSite,
    pub(crate) idle_timeout: u64,
    pub(crate) absolute_lifetime: u64,
    /// How often the Gate purges expired server-side sessions.
    pub(crate) purge_every: Duration,
    /// Whether the purge task runs (started by the first request that reads the store).
    pub(crate) purging: Arc<std::sync::Once>,
}

#[derive(Clone)]
pub(crate) enum SessionKind {
    Server(Arc<dyn SessionStore>),
    Stateless(SigningKey),
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
            .finish()
    }
}

impl Sessions {
    /// Opaque session ids in `cookie`, looked up in `store`. Defaults: idle timeout 30 min,
    /// absolute lifetime 12 h.
    pub fn server_side(cookie: impl Into<String>, store: impl SessionStore) -> Self {
        Sessions::new(cookie.into(), SessionKind::Server(Arc::new(store)))
    }

    /// Signed JWTs in `cookie`, verified like bearer tokens. Defaults: each cookie lives
    /// 30 min (re-issued when half is left), sessions end after 12 h whatever happens.
    pub fn stateless(cookie: impl Into<String>, key: SigningKey) -> Self {
        Sessions::new(cookie.into(), SessionKind::Stateless(key))
    }

    fn new(cookie: String, kind: SessionKind) -> Self {
        Sessions {
            cookie,
            kind,
            secure: true,
            same_site: SameSite::Lax,
            idle_timeout: 30 * 60,
            absolute_lifetime: 12 * 3600,
            purge_every: Duration::from_secs(10 * 60),
            purging: Arc::new(std::sync::Once::new()),
        }
    }

    /// How often expired server-side sessions are deleted from the store (default every 10
    /// minutes). The Gate runs the purge in the background, started by the first request that
    /// reads a session, each run bounded to 30 seconds and logged; it stops with the store.
    pub fn purge_every(mut self, every: Duration) -> Self {
        self.purge_every = every.max(Duration::from_secs(1));
        self
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

    /// `SameSite=Strict` instead of `Lax`.
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// Drops the `Secure` attribute so the cookie works over plain HTTP on `localhost`.
    /// Only for local development: a warning is logged when the Gate is built. Refused with a
    /// `__Host-` cookie name, which browsers only accept with `Secure`.
    pub fn insecure_for_local_development(mut self) -> Self {
        self.secure = false;
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
        cookie.push_str(match self.same_site {
            SameSite::Lax => "; SameSite=Lax",
            SameSite::Strict => "; SameSite=Strict",
        });
        // The name was checked at build time and values are base64url: always a valid header.
        HeaderValue::try_from(cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// Who logs in: what the session, or the access token [`Gate::issue`](crate::Gate::issue)
/// signs, will carry.
///
/// ```
/// use authgate::SessionUser;
/// let user = SessionUser::new("42").roles(["user"]).claim("email", "alice@example.com");
/// ```
#[derive(Clone, Debug, Default)]
pub struct SessionUser {
    pub(crate) subject: String,
    pub(crate) roles: Vec<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) claims: serde_json::Map<String, serde_json::Value>,
}

impl SessionUser {
    /// A user with this subject (the id `CurrentUser::subject` will return).
    pub fn new(subject: impl Into<String>) -> Self {
        SessionUser {
            subject: subject.into(),
            ..Default::default()
        }
    }

    /// The user's roles.
    pub fn roles<I: IntoIterator<Item = T>, T: Into<String>>(mut self, roles: I) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// The user's scopes.
    pub fn scopes<I: IntoIterator<Item = T>, T: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// An extra claim, readable through a typed `CurrentUser<C>`.
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.claims.insert(name.into(), value.into());
        self
    }
}

/// A `Set-Cookie` header that starts or ends a session; return it with the response:
/// `(cookie, Redirect::to("/dashboard"))`.
#[derive(Clone, Debug)]
#[must_use = "the cookie does nothing unless it is returned in the response"]
pub struct SessionCookie(pub(crate) HeaderValue);

impl SessionCookie {
    /// The `Set-Cookie` value.
    pub fn header_value(&self) -> &HeaderValue {
        &self.0
    }
}

impl IntoResponseParts for SessionCookie {
    type Error = std::convert::Infallible;
    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        res.headers_mut().append(header::SET_COOKIE, self.0);
        Ok(res)
    }
}

/// Starting or ending a session failed. As a response it renders through the Gate's
/// rejection hook, like every other refusal: 503 when the store failed, 500 for a
/// configuration that cannot work.
///
/// ```
/// use authgate::{Gate, SessionErrorKind, SessionUser};
/// use axum::response::IntoResponse;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let gate = Gate::builder().hs256("an HMAC secret of at least 32 bytes!!").build().unwrap();
/// let error = gate.login_unchecked(SessionUser::new("42")).await.unwrap_err();
/// assert!(matches!(error.kind(), SessionErrorKind::NotConfigured));
/// assert_eq!(error.into_response().status(), 500);
/// # }
/// ```
pub struct SessionError {
    kind: SessionErrorKind,
    render: Render,
}

/// What went wrong in a [`SessionError`].
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionErrorKind {
    /// The Gate has no [`Sessions`] configured.
    NotConfigured,
    /// The operation needs server-side sessions (stateless cookies cannot be revoked).
    Stateless,
    /// The store failed; answer 503.
    Store(StoreError),
    /// Signing a stateless cookie or an access token failed.
    Signing(String),
    /// The Gate has no [`Revocations`](crate::Revocations) configured, which revoking a
    /// bearer token or stateless cookie needs.
    NoRevocations,
    /// The credential has no `jti`, so it cannot be revoked alone (revoke its subject with
    /// [`Gate::revoke_user`](crate::Gate::revoke_user)).
    NoTokenId,
    /// The Gate cannot issue tokens: it verifies with public keys only, a key source or
    /// issuers' keys (give it [`GateBuilder::signing_key`](crate::GateBuilder::signing_key)).
    NoSigningKey,
    /// The Gate has no [`RefreshTokens`](crate::RefreshTokens) configured.
    NoRefreshTokens,
    /// The refresh token presented is unknown, expired, or was used before (which ended its
    /// family): 401 `invalid_token`.
    InvalidRefreshToken,
}

impl SessionError {
    pub(crate) fn new(kind: SessionErrorKind, render: &Render) -> Self {
        SessionError {
            kind,
            render: render.clone(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> &SessionErrorKind {
        &self.kind
    }
}

impl fmt::Debug for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.kind, f)
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SessionErrorKind::NotConfigured => {
                f.write_str("no sessions configured: call GateBuilder::sessions")
            }
            SessionErrorKind::Stateless => f.write_str(
                "stateless session cookies cannot be revoked without revocations: call \
                 GateBuilder::revocations",
            ),
            SessionErrorKind::Store(e) => write!(f, "{e}"),
            SessionErrorKind::Signing(e) => write!(f, "signing a token failed: {e}"),
            SessionErrorKind::NoRevocations => f.write_str(
                "revoking a bearer token or stateless cookie needs GateBuilder::revocations",
            ),
            SessionErrorKind::NoTokenId => {
                f.write_str("the credential has no jti: revoke its subject with revoke_user")
            }
            SessionErrorKind::NoSigningKey => f.write_str(
                "this Gate cannot issue tokens: it has no HMAC secret or signing key (give it \
                 GateBuilder::signing_key with the private key of one of its public keys)",
            ),
            SessionErrorKind::NoRefreshTokens => {
                f.write_str("no refresh tokens configured: call GateBuilder::refresh_tokens")
            }
            SessionErrorKind::InvalidRefreshToken => {
                f.write_str("the refresh token is unknown, expired or used before")
            }
        }
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            SessionErrorKind::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        // A refused refresh token is the client's, logged where it was refused.
        if !matches!(self.kind, SessionErrorKind::InvalidRefreshToken) {
            tracing::error!(target: "authgate", error = %self, "session operation failed");
        }
        let kind = match self.kind {
            SessionErrorKind::Store(_) => RejectionKind::Unavailable,
            SessionErrorKind::InvalidRefreshToken => RejectionKind::InvalidToken,
            _ => RejectionKind::Misconfigured,
        };
        self.render.kind(kind)
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::*;
    use crate::verify::BoxFuture;
    use crate::{Gate, Rejection};

    struct Down;
    fn down<T: Send>() -> BoxFuture<'static, Result<T, StoreError>> {
        Box::pin(async { Err(StoreError::new("connection refused")) })
    }
    impl SessionStore for Down {
        fn create(&self, _: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
            down()
        }
        fn load(&self, _: &SessionKey) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
            down()
        }
        fn touch(&self, _: &SessionKey, _: u64) -> BoxFuture<'_, Result<bool, StoreError>> {
            down()
        }
        fn delete(&self, _: &SessionKey) -> BoxFuture<'_, Result<(), StoreError>> {
            down()
        }
        fn delete_user(&self, _: &str) -> BoxFuture<'_, Result<u64, StoreError>> {
            down()
        }
        fn purge_expired(&self, _: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
            down()
        }
    }

    /// A session error answers through the app's rendering hook like every other refusal,
    /// with the protocol headers authgate owns: 503 for a failed store, 500 for a
    /// configuration that cannot work.
    #[tokio::test]
    async fn session_errors_render_through_the_gate_hook() {
        let hook = |r: &Rejection| {
            let body = format!("<h1>{}</h1>", r.code());
            ([(header::CONTENT_TYPE, "text/html")], body).into_response()
        };
        let gate = Gate::builder()
            .hs256([7u8; 32])
            .sessions(Sessions::server_side("__Host-s", Down))
            .render_rejection(hook)
            .build()
            .unwrap();
        let error = gate
            .login_unchecked(SessionUser::new("42"))
            .await
            .unwrap_err();
        assert!(matches!(error.kind(), SessionErrorKind::Store(_)));
        let response = error.into_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/html");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(&body[..], b"<h1>unavailable</h1>");

        let stateless = Gate::builder()
            .hs256([7u8; 32])
            .sessions(Sessions::stateless(
                "__Host-s",
                SigningKey::hmac(jsonwebtoken::Algorithm::HS256, [7u8; 32]).unwrap(),
            ))
            .render_rejection(hook)
            .build()
            .unwrap();
        let error = stateless.revoke_user("42").await.unwrap_err();
        assert!(matches!(error.kind(), SessionErrorKind::Stateless));
        let response = error.into_response();
        assert_eq!(response.status(), 500);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(&body[..], b"<h1>internal_error</h1>");
    }
}
