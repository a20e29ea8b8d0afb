//! Browser sessions: cookie credentials, issued by a login handler and ended by a logout one.
//!
//! Two kinds, configured on the Gate with [`GateBuilder::sessions`](crate::GateBuilder::sessions):
//!
//! - **server-side** ([`Sessions::server_side`]): the cookie holds an opaque id (256 bits from
//!   the OS CSPRNG); the session lives in a [`SessionStore`], with an idle timeout and an
//!   absolute lifetime, and can be revoked — one session at logout, or all of a user's after a
//!   password change ([`Gate::revoke_user`](crate::Gate::revoke_user)). A store error answers
//!   503, never 401 and never 200.
//! - **stateless** ([`Sessions::stateless`]): the cookie holds a JWT signed with a key the Gate
//!   also verifies with, checked exactly like a bearer token. It cannot be revoked before it
//!   expires; with [`Gate::session_layer`](crate::Gate::session_layer) it is re-issued when
//!   less than half its lifetime is left (rolling), up to the absolute lifetime.
//!
//! Cookies are `HttpOnly; Secure; SameSite=Lax; Path=/` with `Max-Age`; the `__Host-` name
//! prefix is recommended (the browser then refuses the cookie from a sub-domain or over HTTP).
//! Every login issues a fresh id, so a planted id is never adopted (no fixation).
//!
//! Why authgate has its own [`SessionStore`] trait rather than tower-sessions' store trait:
//! revocation of all of a user's sessions needs an index by user, and idle and absolute
//! expiry are separate; tower-sessions' `SessionStore` (create/save/load/delete by id, one
//! expiry) has neither. The trait is four small methods, so a Postgres or Redis store is a
//! short file; [`MemoryStore`] and, with the `sqlite` feature, `SqliteStore` are built in.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::response::{IntoResponseParts, ResponseParts};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderValue, Request, Response, header};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde::{Deserialize, Serialize};
use tower::{Layer, Service};

use crate::verify::BoxFuture;

/// One server-side session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The opaque id the cookie carries.
    pub id: String,
    /// The user's subject.
    pub subject: String,
    /// The user's roles at login.
    pub roles: Vec<String>,
    /// The user's scopes at login.
    pub scopes: Vec<String>,
    /// Extra claims as a JSON object, for typed `CurrentUser<C>`.
    pub claims: String,
    /// When the session was created (seconds since the Unix epoch).
    pub created_at: u64,
    /// When the session was last used.
    pub last_seen: u64,
    /// When the session ends whatever happens (absolute lifetime).
    pub expires_at: u64,
}

/// A store of server-side sessions. Errors answer 503 on guarded routes.
///
/// ```
/// use authgate::{BoxFuture, SessionRecord, SessionStore, StoreError};
///
/// struct Down;
/// impl SessionStore for Down {
///     fn load(&self, _id: &str) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
///         Box::pin(async { Err(StoreError::new("connection refused")) })
///     }
///     fn save(&self, _r: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
///         Box::pin(async { Err(StoreError::new("connection refused")) })
///     }
///     fn delete(&self, _id: &str) -> BoxFuture<'_, Result<(), StoreError>> {
///         Box::pin(async { Err(StoreError::new("connection refused")) })
///     }
///     fn delete_user(&self, _subject: &str) -> BoxFuture<'_, Result<u64, StoreError>> {
///         Box::pin(async { Err(StoreError::new("connection refused")) })
///     }
/// }
/// ```
pub trait SessionStore: Send + Sync + 'static {
    /// The session with this id, if it exists.
    fn load(&self, id: &str) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>>;
    /// Inserts or replaces a session.
    fn save(&self, record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Deletes one session (logout). Deleting a missing one is not an error.
    fn delete(&self, id: &str) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Deletes every session of a user; returns how many there were.
    fn delete_user(&self, subject: &str) -> BoxFuture<'_, Result<u64, StoreError>>;
}

/// A session store failed.
#[derive(Debug)]
pub struct StoreError(Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// A store error from a message.
    pub fn new(message: impl Into<String>) -> Self {
        StoreError(message.into().into())
    }

    /// A store error wrapping another error.
    pub fn from_error(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError(Box::new(error))
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "session store error: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// An in-memory [`SessionStore`], for one-instance apps and tests. Sessions do not survive a
/// restart; use a database store when they must, or when several instances serve the app.
#[derive(Clone, Default, Debug)]
pub struct MemoryStore {
    sessions: Arc<Mutex<HashMap<String, SessionRecord>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many sessions the store holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the store holds no session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionRecord>> {
        // A panic while holding the lock cannot leave a half-written record behind (every
        // operation is one map call), so a poisoned lock is still consistent.
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SessionStore for MemoryStore {
    fn load(&self, id: &str) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
        let found = self.lock().get(id).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn save(&self, record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        self.lock().insert(record.id.clone(), record.clone());
        Box::pin(async { Ok(()) })
    }

    fn delete(&self, id: &str) -> BoxFuture<'_, Result<(), StoreError>> {
        self.lock().remove(id);
        Box::pin(async { Ok(()) })
    }

    fn delete_user(&self, subject: &str) -> BoxFuture<'_, Result<u64, StoreError>> {
        let mut sessions = self.lock();
        let before = sessions.len();
        sessions.retain(|_, r| r.subject != subject);
        let removed = (before - sessions.len()) as u64;
        Box::pin(async move { Ok(removed) })
    }
}

/// The key stateless session cookies are signed with. The Gate must hold the matching
/// verification key; [`GateBuilder::build`](crate::GateBuilder::build) checks that it does.
#[derive(Clone)]
pub struct SigningKey {
    pub(crate) algorithm: Algorithm,
    pub(crate) kid: Option<String>,
    pub(crate) key: EncodingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish()
    }
}

impl SigningKey {
    /// An HMAC secret (the same one given to the Gate for verification).
    pub fn hmac(algorithm: Algorithm, secret: impl AsRef<[u8]>) -> Self {
        SigningKey {
            algorithm,
            kid: None,
            key: EncodingKey::from_secret(secret.as_ref()),
        }
    }

    /// A private key in PEM form for an RSA, PSS, ECDSA (PKCS#8) or EdDSA algorithm.
    pub fn from_pem(algorithm: Algorithm, pem: impl AsRef<[u8]>) -> Result<Self, crate::GateError> {
        let pem = pem.as_ref();
        let key = match algorithm.family() {
            jsonwebtoken::AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(pem),
            jsonwebtoken::AlgorithmFamily::Ec => EncodingKey::from_ec_pem(pem),
            jsonwebtoken::AlgorithmFamily::Ed => EncodingKey::from_ed_pem(pem),
            _ => return Ok(SigningKey::hmac(algorithm, pem)),
        }
        .map_err(|e| crate::GateError::InvalidKey {
            algorithm,
            detail: e.to_string(),
        })?;
        Ok(SigningKey {
            algorithm,
            kid: None,
            key,
        })
    }

    /// Names the `kid` put in the token header.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }
}

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

    /// The bytes after `<name>=` when the request has exactly one `Cookie` header and it starts
    /// with this app's cookie, unchecked: the key the token cache is asked with before the
    /// cookies are parsed.
    ///
    /// Only the cache may take these bytes as a token, and only on a hit. It holds nothing but
    /// values [`cookie_values`](Self::cookie_values) returned that then verified as JWTs, which
    /// are base64url and dots: no `;`, `=`, quote or white space. Bytes equal to one are
    /// therefore a header holding that one cookie and nothing else, which the strict parse
    /// reads as exactly that value.
    pub(crate) fn cookie_cache_key<'a>(&self, headers: &'a http::HeaderMap) -> Option<&'a [u8]> {
        let mut all = headers.get_all(header::COOKIE).iter();
        let only = all.next()?;
        if all.next().is_some() {
            return None;
        }
        only.as_bytes()
            .strip_prefix(self.cookie.as_bytes())?
            .strip_prefix(b"=")
    }

    /// The session cookie values a request carries (all of them: duplicates are an attack).
    pub(crate) fn cookie_values<'a>(&self, headers: &'a http::HeaderMap) -> Vec<&'a str> {
        let mut values = Vec::new();
        for header in headers.get_all(header::COOKIE) {
            let Ok(header) = header.to_str() else {
                continue;
            };
            for pair in header.split(';') {
                if let Some((name, value)) = pair.trim().split_once('=')
                    && name == self.cookie
                {
                    values.push(value.trim_matches('"'));
                }
            }
        }
        values
    }
}

/// A new random session id: 256 bits from the OS CSPRNG, base64url.
pub(crate) fn new_session_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::new(format!("no randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Who logs in: what the session will carry.
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

/// Starting or ending a session failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionError {
    /// The Gate has no [`Sessions`] configured.
    NotConfigured,
    /// The operation needs server-side sessions (stateless cookies cannot be revoked).
    Stateless,
    /// The store failed; answer 503.
    Store(StoreError),
    /// Signing a stateless cookie failed.
    Signing(String),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::NotConfigured => {
                f.write_str("no sessions configured: call GateBuilder::sessions")
            }
            SessionError::Stateless => {
                f.write_str("stateless session cookies cannot be revoked before they expire")
            }
            SessionError::Store(e) => write!(f, "{e}"),
            SessionError::Signing(e) => write!(f, "signing the session cookie failed: {e}"),
        }
    }
}

impl std::error::Error for SessionError {}

impl axum::response::IntoResponse for SessionError {
    fn into_response(self) -> axum::response::Response {
        tracing::error!(target: "authgate", error = %self, "session operation failed");
        crate::Rejection::new(crate::RejectionKind::Unavailable, "session").json_response()
    }
}

/// The slot a [`SessionLayer`] puts in each request, where the guard leaves a renewed
/// stateless cookie.
#[derive(Clone, Default)]
pub(crate) struct RenewSlot(pub(crate) Arc<Mutex<Option<HeaderValue>>>);

/// Re-issues stateless session cookies close to expiry. Get it from
/// [`Gate::session_layer`](crate::Gate::session_layer) and add it with `Router::layer`.
#[derive(Clone, Debug, Default)]
pub struct SessionLayer;

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        SessionService { inner }
    }
}

/// The service of [`SessionLayer`].
#[derive(Clone, Debug)]
pub struct SessionService<S> {
    inner: S,
}

impl<S, B, R> Service<Request<B>> for SessionService<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let slot = RenewSlot::default();
        req.extensions_mut().insert(slot.clone());
        let future = self.inner.call(req);
        Box::pin(async move {
            let mut response = future.await?;
            let renewed = slot.0.lock().ok().and_then(|mut s| s.take());
            if let Some(cookie) = renewed {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            Ok(response)
        })
    }
}
