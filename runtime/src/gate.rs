//! The Gate: the configuration every guard reads from app state.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, OriginalUri};
use axum::response::Response;
use http::request::Parts;
use jsonwebtoken::Algorithm;

use crate::cache::{self, TokenCache};
use crate::credentials::{self, CredentialError};
use crate::csrf::Csrf;
use crate::guard::CurrentUser;
use crate::policy::{PolicySpec, all_met};
use crate::principal::{AuthState, CredentialKind, Principal};
use crate::reject::{Rejection, RejectionKind};
use crate::session::{
    RenewSlot, SessionCookie, SessionError, SessionKind, SessionLayer, SessionRecord, SessionStore,
    SessionUser, Sessions, new_session_id,
};
use crate::verify::{self, ClaimPath, Invalid, Key, KeySet, KeySource, Rules};

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
    realm: String,
    keys: Keys,
    rules: Rules,
    clock: Clock,
    renderer: Option<Renderer>,
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

/// How far [`Gate::authenticate_now`] got.
enum Step<'r> {
    /// Decided.
    Done(Result<Option<Arc<Principal>>, Failure>),
    /// A JWT credential, to verify with the key source's keys.
    NeedsKeys(Jwt<'r>),
    /// A server-side session id (shape not yet checked), to look up in the store.
    NeedsStore(&'r str),
}

/// A presented JWT credential, not yet parsed.
struct Jwt<'r> {
    kind: CredentialKind,
    /// What the token cache is asked with before the parse (see `Gate::verify_with`).
    cache_key: Option<&'r [u8]>,
    /// The hash of `cache_key` when the cache was already asked about it, on this request and
    /// with these keys, and missed.
    missed: Option<u64>,
    presented: Presented<'r>,
}

/// Where the token is, and how strictly it still has to be read.
enum Presented<'r> {
    /// An `Authorization` header value: `Bearer <token68>`, parsed by `bearer_value`.
    Bearer(&'r http::HeaderValue),
    /// A session cookie's value, already read from the `Cookie` header (or a token as is).
    Cookie(&'r str),
}

impl<'r> Jwt<'r> {
    /// The token, read strictly.
    fn parse(&self, gate: &Gate) -> Result<&'r str, Failure> {
        match self.presented {
            Presented::Bearer(value) => {
                credentials::bearer_value(value, gate.inner.rules.max_token_bytes)
                    .map_err(Failure::Header)
            }
            Presented::Cookie(value) => Ok(value),
        }
    }
}

/// The keys of one request: the Gate's own, or what its key source returned.
enum KeysRef<'g> {
    Static(&'g KeySet),
    Fetched(Arc<KeySet>),
}

impl KeysRef<'_> {
    fn get(&self) -> &KeySet {
        match self {
            KeysRef::Static(keys) => keys,
            KeysRef::Fetched(keys) => keys,
        }
    }
}
type Renderer = Arc<dyn Fn(&Rejection) -> Response + Send + Sync>;

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = match &self.inner.keys {
            Keys::Static(set) => format!("{} static", set.len()),
            Keys::Source(_) => "dynamic".to_owned(),
        };
        f.debug_struct("Gate")
            .field("realm", &self.inner.realm)
            .field("keys", &keys)
            .field("rules", &self.inner.rules)
            .finish_non_exhaustive()
    }
}

/// A configuration the [`GateBuilder`] refuses, with what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GateError {
    /// No verification key was configured.
    NoKey,
    /// An HMAC secret shorter than its hash.
    WeakSecret {
        /// The algorithm the secret was given for.
        algorithm: Algorithm,
        /// Its length in bytes.
        len: usize,
        /// The minimum length.
        min: usize,
    },
    /// A key constructor that does not fit the algorithm (an HMAC secret for RS256).
    WrongKeyType {
        /// The algorithm asked for.
        algorithm: Algorithm,
        /// What was given.
        given: &'static str,
    },
    /// A key that does not parse.
    InvalidKey {
        /// The algorithm the key was given for.
        algorithm: Algorithm,
        /// The parser's complaint.
        detail: String,
    },
    /// HMAC secrets next to public keys, or public keys of several families without `kid`s.
    MixedFamilies,
    /// Two keys with the same `kid`.
    DuplicateKid(String),
    /// A leeway longer than five minutes.
    LeewayTooLong(Duration),
    /// A maximum token size or lifetime of zero.
    ZeroLimit(&'static str),
    /// An empty claim name or path.
    EmptyClaimPath,
    /// Both static keys and a key source were configured.
    KeysAndSource,
    /// The session settings cannot work.
    Sessions(String),
}

impl fmt::Display for GateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GateError::NoKey => f.write_str(
                "no verification key: add one with `.hs256(secret)`, `.key(Key::from_pem(..))` \
                 or `.key_source(..)`",
            ),
            GateError::WeakSecret {
                algorithm,
                len,
                min,
            } => write!(
                f,
                "the {algorithm:?} secret is {len} bytes; use at least {min} bytes of random data \
                 (for example `openssl rand -base64 {min}`)"
            ),
            GateError::WrongKeyType { algorithm, given } => {
                write!(
                    f,
                    "{algorithm:?} cannot use {given}: pass the key type of its family"
                )
            }
            GateError::InvalidKey { algorithm, detail } => {
                write!(
                    f,
                    "the {algorithm:?} key does not parse ({detail}); pass a public key"
                )
            }
            GateError::MixedFamilies => f.write_str(
                "keys of different families in one Gate: never mix HMAC secrets with public keys, \
                 and give every public key a `kid` when RSA, EC and EdDSA keys are mixed",
            ),
            GateError::DuplicateKid(kid) => {
                write!(f, "two keys have the kid {kid:?}; kids must be unique")
            }
            GateError::LeewayTooLong(d) => {
                write!(
                    f,
                    "a leeway of {d:?} is too long; use at most 5 minutes (default 30 s)"
                )
            }
            GateError::ZeroLimit(what) => write!(f, "{what} must be greater than zero"),
            GateError::EmptyClaimPath => f.write_str("a claim name or path segment is empty"),
            GateError::Sessions(problem) => write!(f, "sessions: {problem}"),
            GateError::KeysAndSource => f.write_str(
                "both static keys and a key source are configured: put the static keys into the \
                 source's key set, or drop the source",
            ),
        }
    }
}

impl std::error::Error for GateError {}

/// Builds a [`Gate`]. Errors are collected and reported by [`build`](GateBuilder::build), so
/// the whole chain reads as one expression.
///
/// ```
/// use std::time::Duration;
/// use authgate::{Algorithm, Gate, Key};
///
/// # let pem = include_bytes!("../../tests/keys/rsa_public.pem");
/// let gate = Gate::builder()
///     .realm("invoices")
///     .key(Key::from_pem(Algorithm::RS256, pem)?.with_kid("2026-11"))
///     .issuer("https://auth.example.com")
///     .audience("invoices-api")
///     .leeway(Duration::from_secs(10))
///     .max_lifetime(Duration::from_secs(3600))
///     .roles_at(["realm_access", "roles"])
///     .build()?;
/// # Ok::<(), authgate::GateError>(())
/// ```
#[must_use]
pub struct GateBuilder {
    realm: String,
    keys: Vec<Key>,
    source: Option<Arc<dyn KeySource>>,
    errors: Vec<GateError>,
    rules: Rules,
    clock: Option<Clock>,
    renderer: Option<Renderer>,
    sessions: Option<Sessions>,
    csrf: Csrf,
    token_cache: usize,
    token_cache_bytes: usize,
}

impl Gate {
    /// Starts a builder with the defaults: realm `api`, leeway 30 s, maximum lifetime 24 h,
    /// maximum token size 8 KiB, roles in the `roles` claim, scopes in `scope` or `scp`.
    pub fn builder() -> GateBuilder {
        GateBuilder {
            realm: "api".to_owned(),
            keys: Vec::new(),
            source: None,
            errors: Vec::new(),
            rules: Rules {
                issuers: Vec::new(),
                audiences: Vec::new(),
                leeway: 30,
                max_lifetime: 24 * 3600,
                max_token_bytes: 8 * 1024,
                roles: ClaimPath(vec!["roles".to_owned()]),
                scopes: vec![
                    ClaimPath(vec!["scope".to_owned()]),
                    ClaimPath(vec!["scp".to_owned()]),
                ],
            },
            clock: None,
            renderer: None,
            sessions: None,
            csrf: Csrf::default(),
            token_cache: cache::DEFAULT_CAPACITY,
            token_cache_bytes: cache::DEFAULT_MAX_BYTES,
        }
    }

    /// The realm named in `WWW-Authenticate`.
    pub fn realm(&self) -> &str {
        &self.inner.realm
    }

    /// The current time in seconds since the Unix epoch, as this Gate's clock tells it.
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

    /// Renders a rejection through the app's hook (or as JSON), then makes sure the protocol
    /// headers are there whatever the hook did.
    pub fn render(&self, rejection: &Rejection) -> Response {
        let mut response = match &self.inner.renderer {
            Some(render) => render(rejection),
            None => rejection.json_response(),
        };
        rejection.add_protocol_headers(&mut response);
        response
    }

    fn reject(&self, kind: RejectionKind) -> Rejection {
        Rejection::new(kind, self.inner.realm.clone())
    }

    /// Reads and verifies the request's credential. `Ok(None)`: none was presented.
    ///
    /// The `Authorization` header wins when present, valid or not: a presented credential
    /// never falls back to another source. Otherwise the session cookie is read; for
    /// state-changing methods it is CSRF-checked before the store is asked.
    pub(crate) async fn authenticate(&self, parts: &Parts) -> Result<Option<Principal>, Failure> {
        let principal = self.authenticate_shared(parts).await?;
        Ok(principal.map(Arc::unwrap_or_clone))
    }

    /// [`authenticate`](Gate::authenticate), with the principal shared with the token cache
    /// (no copy on a cache hit).
    pub(crate) async fn authenticate_shared(
        &self,
        parts: &Parts,
    ) -> Result<Option<Arc<Principal>>, Failure> {
        match self.authenticate_now(parts) {
            Step::Done(result) => result,
            step => self.authenticate_rest(parts, step).await,
        }
    }

    /// As much of [`authenticate_shared`](Gate::authenticate_shared) as needs no waiting: all
    /// of it with the Gate's own keys, unless the credential is a server-side session. Callers
    /// on the hot path call this first and only build the asynchronous rest when it is needed.
    fn authenticate_now<'r>(&self, parts: &'r Parts) -> Step<'r> {
        let inner = &*self.inner;
        let static_keys = match &inner.keys {
            Keys::Static(keys) => Some(keys),
            Keys::Source(_) => None,
        };
        match credentials::authorization(&parts.headers) {
            Ok(Some(value)) => {
                let jwt = Jwt {
                    kind: CredentialKind::Bearer,
                    cache_key: credentials::bearer_cache_key(
                        value.as_bytes(),
                        inner.rules.max_token_bytes,
                    ),
                    missed: None,
                    presented: Presented::Bearer(value),
                };
                return match static_keys {
                    Some(keys) => Step::Done(self.verify_with(keys, 0, &jwt).map(Some)),
                    None => Step::NeedsKeys(jwt),
                };
            }
            Ok(None) => {}
            Err(e) => return Step::Done(Err(Failure::Header(e))),
        }
        let Some(sessions) = &inner.sessions else {
            return Step::Done(Ok(None));
        };
        // A stateless cookie the cache knows: the cookies need no parse (see
        // `cookie_cache_key`); the CSRF check and the renewal still run, in the same order.
        let mut probed = None;
        if let (SessionKind::Stateless(key), Some(_), Some(cache)) =
            (&sessions.kind, static_keys, &inner.cache)
            && let Some(cache_key) = sessions.cookie_cache_key(&parts.headers)
        {
            let kind = CredentialKind::Cookie;
            let hash = cache.hash(cache_key, kind);
            if let Some(principal) = cache.get_hashed(hash, cache_key, kind, 0, self.now()) {
                if let Err(e) = inner.csrf.check(parts) {
                    return Step::Done(Err(Failure::Csrf(e)));
                }
                self.renew_if_due(parts, sessions, key, &principal);
                return Step::Done(Ok(Some(principal)));
            }
            probed = Some((cache_key, hash));
        }
        let value = match sessions.cookie_values(&parts.headers).as_slice() {
            [] => return Step::Done(Ok(None)),
            [first, rest @ ..] if rest.iter().all(|v| v == first) => *first,
            _ => return Step::Done(Err(Failure::Token(Invalid::SessionCookie))),
        };
        if let Err(e) = inner.csrf.check(parts) {
            return Step::Done(Err(Failure::Csrf(e)));
        }
        match &sessions.kind {
            SessionKind::Stateless(key) => {
                let jwt = Jwt {
                    kind: CredentialKind::Cookie,
                    cache_key: Some(value.as_bytes()),
                    // The header was this one cookie: the probe above already missed.
                    missed: probed
                        .filter(|(probed, _)| std::ptr::eq(*probed, value.as_bytes()))
                        .map(|(_, hash)| hash),
                    presented: Presented::Cookie(value),
                };
                let Some(keys) = static_keys else {
                    return Step::NeedsKeys(jwt);
                };
                let verified = self.verify_with(keys, 0, &jwt);
                if let Ok(principal) = &verified {
                    self.renew_if_due(parts, sessions, key, principal);
                }
                Step::Done(verified.map(Some))
            }
            SessionKind::Server(_) => Step::NeedsStore(value),
        }
    }

    /// What [`authenticate_now`](Gate::authenticate_now) left: the key source's keys, or the
    /// session store.
    async fn authenticate_rest(
        &self,
        parts: &Parts,
        step: Step<'_>,
    ) -> Result<Option<Arc<Principal>>, Failure> {
        match step {
            Step::Done(result) => result,
            Step::NeedsKeys(jwt) => {
                // A malformed header is refused before the key source is asked (and without
                // waiting for it): the cache cannot be asked before the keys anyway.
                jwt.parse(self)?;
                let (keys, generation) = self.keys().await.map_err(Failure::Unavailable)?;
                let principal = self.verify_with(keys.get(), generation, &jwt)?;
                if let (Presented::Cookie(_), Some(sessions)) =
                    (&jwt.presented, &self.inner.sessions)
                    && let SessionKind::Stateless(key) = &sessions.kind
                {
                    self.renew_if_due(parts, sessions, key, &principal);
                }
                Ok(Some(principal))
            }
            // Boxed: its state (a session record held across store calls) would otherwise
            // make every guard's future, bearer requests included, several hundred bytes larger.
            Step::NeedsStore(value) => match &self.inner.sessions {
                Some(sessions) => match &sessions.kind {
                    SessionKind::Server(store) => {
                        Box::pin(self.server_session(sessions, store.as_ref(), value)).await
                    }
                    // Not built for stateless cookies: refuse rather than call it anonymous.
                    SessionKind::Stateless(_) => Err(Failure::Token(Invalid::SessionCookie)),
                },
                None => Err(Failure::Token(Invalid::SessionCookie)),
            },
        }
    }

    /// A server-side session cookie: the id's shape, then the store (idle and absolute expiry,
    /// last-seen written at most once a minute).
    async fn server_session(
        &self,
        sessions: &Sessions,
        store: &dyn SessionStore,
        value: &str,
    ) -> Result<Option<Arc<Principal>>, Failure> {
        if value.len() != 43
            || !value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Failure::Token(Invalid::SessionCookie));
        }
        let now = self.now();
        let loaded = store
            .load(value)
            .await
            .map_err(|e| Failure::Unavailable(e.to_string()))?;
        let Some(mut record) = loaded else {
            return Err(Failure::Token(Invalid::UnknownSession));
        };
        let idle_end = record.last_seen.saturating_add(sessions.idle_timeout);
        if now >= record.expires_at || now >= idle_end {
            store
                .delete(value)
                .await
                .map_err(|e| Failure::Unavailable(e.to_string()))?;
            return Err(Failure::Token(Invalid::SessionExpired));
        }
        // Write last-seen at most once a minute (or per quarter of the idle timeout):
        // the idle clock stays accurate without a store write on every request.
        if now.saturating_sub(record.last_seen) >= (sessions.idle_timeout / 4).min(60) {
            record.last_seen = now;
            store
                .save(&record)
                .await
                .map_err(|e| Failure::Unavailable(e.to_string()))?;
        }
        let expires_at = record
            .expires_at
            .min(record.last_seen.saturating_add(sessions.idle_timeout));
        Ok(Some(Arc::new(Principal {
            subject: record.subject,
            roles: record.roles,
            scopes: record.scopes,
            expires_at,
            issued_at: Some(record.created_at),
            credential: CredentialKind::Cookie,
            claims: record.claims,
            session_id: Some(record.id),
        })))
    }

    /// Verifies a bearer token or a stateless session cookie, through the token cache.
    #[cfg(test)]
    pub(crate) async fn verify_jwt(
        &self,
        token: &str,
        kind: CredentialKind,
    ) -> Result<Arc<Principal>, Failure> {
        let jwt = Jwt {
            kind,
            cache_key: Some(token.as_bytes()),
            missed: None,
            presented: Presented::Cookie(token),
        };
        let (keys, generation) = self.keys().await.map_err(Failure::Unavailable)?;
        self.verify_with(keys.get(), generation, &jwt)
    }

    /// The key set to verify with, and its cache generation. A key source is asked on every
    /// request, cache hit or not, so a source that fails still answers 503, and a new key set
    /// (another `Arc`) empties the cache.
    async fn keys(&self) -> Result<(KeysRef<'_>, u64), String> {
        let inner = &*self.inner;
        match &inner.keys {
            Keys::Static(keys) => Ok((KeysRef::Static(keys), 0)),
            Keys::Source(source) => {
                let fetched = source.keys().await.map_err(|e| e.to_string())?;
                let generation = inner.cache.as_ref().map_or(0, |c| c.generation(&fetched));
                Ok((KeysRef::Fetched(fetched), generation))
            }
        }
    }

    /// Verifies a presented credential with these keys, through the token cache.
    ///
    /// The cache is asked with the credential's `cache_key` before it is parsed: bytes that,
    /// if they equal a cached token, are that token exactly (see
    /// [`credentials::bearer_cache_key`]). A hit therefore skips the strict parse, which only
    /// ever accepted the same bytes. On a miss, or without a key, the credential is parsed
    /// strictly and the outcome is as without a cache.
    fn verify_with(
        &self,
        keys: &KeySet,
        generation: u64,
        jwt: &Jwt<'_>,
    ) -> Result<Arc<Principal>, Failure> {
        let inner = &*self.inner;
        let kind = jwt.kind;
        let now = self.now();
        let Some(cache) = &inner.cache else {
            let verified =
                verify::verify_token_until(jwt.parse(self)?, keys, &inner.rules, now, kind)
                    .map_err(Failure::Token)?;
            return Ok(verified.principal);
        };
        let mut asked = None;
        if let Some(key) = jwt.cache_key {
            let hash = match jwt.missed {
                Some(hash) => hash,
                None => {
                    let hash = cache.hash(key, kind);
                    if let Some(principal) = cache.get_hashed(hash, key, kind, generation, now) {
                        return Ok(principal);
                    }
                    hash
                }
            };
            asked = Some((key, hash));
        }
        let token = jwt.parse(self)?;
        let hash = match asked {
            // The parse returned the bytes the cache was just asked about: a known miss.
            Some((key, hash)) if std::ptr::eq(key, token.as_bytes()) => hash,
            _ => {
                let hash = cache.hash(token.as_bytes(), kind);
                if let Some(principal) =
                    cache.get_hashed(hash, token.as_bytes(), kind, generation, now)
                {
                    return Ok(principal);
                }
                hash
            }
        };
        let verified = verify::verify_token_until(token, keys, &inner.rules, now, kind)
            .map_err(Failure::Token)?;
        let principal = verified.principal;
        cache.insert_hashed(
            hash,
            token,
            cache::Entry {
                principal: principal.clone(),
                generation,
                verified_at: now,
                expired_at: verified.expired_at,
            },
        );
        Ok(principal)
    }

    /// Re-issues a stateless cookie with less than half its lifetime left, through the
    /// [`SessionLayer`], never past the absolute lifetime (`auth_time` + lifetime).
    fn renew_if_due(
        &self,
        parts: &Parts,
        sessions: &Sessions,
        key: &crate::session::SigningKey,
        principal: &Principal,
    ) {
        let Some(slot) = parts.extensions.get::<RenewSlot>() else {
            return;
        };
        let now = self.now();
        if principal.expires_at.saturating_sub(now) > sessions.idle_timeout / 2 {
            return;
        }
        let Ok(mut claims) =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&principal.claims)
        else {
            return;
        };
        let auth_time = claims
            .get("auth_time")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        let end = auth_time.saturating_add(sessions.absolute_lifetime);
        if now >= end {
            return;
        }
        let exp = now.saturating_add(sessions.idle_timeout).min(end);
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), exp.into());
        if let Ok(token) = verify::sign_session_jwt(key, &claims)
            && let Ok(mut slot) = slot.0.lock()
        {
            *slot = Some(sessions.set_cookie(&token, exp - now));
        }
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
        let sessions = self
            .inner
            .sessions
            .as_ref()
            .ok_or(SessionError::NotConfigured)?;
        let now = self.now();
        let mut claims = user.claims;
        claims.insert("sub".into(), user.subject.clone().into());
        claims.insert("roles".into(), user.roles.clone().into());
        claims.insert("scope".into(), user.scopes.join(" ").into());
        match &sessions.kind {
            SessionKind::Server(store) => {
                let id = new_session_id().map_err(SessionError::Store)?;
                let record = SessionRecord {
                    id: id.clone(),
                    subject: user.subject,
                    roles: user.roles,
                    scopes: user.scopes,
                    claims: serde_json::Value::Object(claims).to_string(),
                    created_at: now,
                    last_seen: now,
                    expires_at: now.saturating_add(sessions.absolute_lifetime),
                };
                store.save(&record).await.map_err(SessionError::Store)?;
                Ok(SessionCookie(
                    sessions.set_cookie(&id, sessions.absolute_lifetime),
                ))
            }
            SessionKind::Stateless(key) => {
                let lifetime = sessions.idle_timeout.min(sessions.absolute_lifetime);
                claims.insert("iat".into(), now.into());
                claims.insert("auth_time".into(), now.into());
                claims.insert("exp".into(), now.saturating_add(lifetime).into());
                claims.insert(
                    "jti".into(),
                    new_session_id().map_err(SessionError::Store)?.into(),
                );
                if let Some(iss) = self.inner.rules.issuers.first() {
                    claims.insert("iss".into(), iss.clone().into());
                }
                if let Some(aud) = self.inner.rules.audiences.first() {
                    claims.insert("aud".into(), aud.clone().into());
                }
                let token =
                    verify::sign_session_jwt(key, &claims).map_err(SessionError::Signing)?;
                Ok(SessionCookie(sessions.set_cookie(&token, lifetime)))
            }
        }
    }

    /// Ends the caller's session: deletes it from the store (server-side) and returns the
    /// cookie that clears it in the browser.
    pub async fn logout<C>(&self, user: &CurrentUser<C>) -> Result<SessionCookie, SessionError> {
        let sessions = self
            .inner
            .sessions
            .as_ref()
            .ok_or(SessionError::NotConfigured)?;
        if let (SessionKind::Server(store), Some(id)) = (&sessions.kind, user.session_id()) {
            store.delete(id).await.map_err(SessionError::Store)?;
        }
        Ok(SessionCookie(sessions.set_cookie("", 0)))
    }

    /// Ends every server-side session of a user, for example after a password change.
    /// Returns how many were ended.
    pub async fn revoke_user(&self, subject: &str) -> Result<u64, SessionError> {
        match &self.inner.sessions {
            None => Err(SessionError::NotConfigured),
            Some(Sessions {
                kind: SessionKind::Stateless(_),
                ..
            }) => Err(SessionError::Stateless),
            Some(Sessions {
                kind: SessionKind::Server(store),
                ..
            }) => store
                .delete_user(subject)
                .await
                .map_err(SessionError::Store),
        }
    }

    /// The layer that re-issues stateless session cookies close to expiry:
    /// `router.layer(gate.session_layer())`.
    pub fn session_layer(&self) -> SessionLayer {
        SessionLayer
    }

    /// The guard's whole decision for one request: authenticate, check roles and scopes,
    /// leave the principal in the request (when `share`: see `Policy::SHARES_CALLER`), and
    /// log the outcome.
    pub(crate) async fn authorize(
        &self,
        parts: &mut Parts,
        spec: &'static PolicySpec,
        handler: &'static str,
        share: bool,
    ) -> Result<Option<Arc<Principal>>, Response> {
        if !spec.requires_authentication() {
            return Ok(self.public(parts, spec, handler, share));
        }
        let authenticated = self.authenticate_shared(parts).await;
        self.decide(parts, spec, handler, share, authenticated)
    }

    /// [`authorize`](Gate::authorize) when it needs no waiting (`None` otherwise): with the
    /// Gate's own keys, always, unless the credential is a server-side session. The guard
    /// calls this first, so on the hot path no asynchronous state is built at all.
    pub(crate) fn authorize_now(
        &self,
        parts: &mut Parts,
        spec: &'static PolicySpec,
        handler: &'static str,
        share: bool,
    ) -> Option<Result<Option<Arc<Principal>>, Response>> {
        if !spec.requires_authentication() {
            return Some(Ok(self.public(parts, spec, handler, share)));
        }
        let authenticated = match self.authenticate_now(parts) {
            Step::Done(result) => result,
            Step::NeedsKeys(_) | Step::NeedsStore(_) => return None,
        };
        Some(self.decide(parts, spec, handler, share, authenticated))
    }

    /// A `#[public]` handler: nothing is examined.
    fn public(
        &self,
        parts: &mut Parts,
        spec: &'static PolicySpec,
        handler: &'static str,
        share: bool,
    ) -> Option<Arc<Principal>> {
        if share {
            parts.extensions.insert(AuthState::Public);
        }
        log(parts, spec, handler, "public", "public");
        None
    }

    /// The decision on an authenticated (or not) request: roles, scopes, the log event, and
    /// the caller left in the request when `share`.
    #[allow(clippy::result_large_err)] // the response is the rejection; `authorize` returns it as is
    fn decide(
        &self,
        parts: &mut Parts,
        spec: &'static PolicySpec,
        handler: &'static str,
        share: bool,
        authenticated: Result<Option<Arc<Principal>>, Failure>,
    ) -> Result<Option<Arc<Principal>>, Response> {
        let principal = match authenticated {
            Ok(Some(principal)) => principal,
            Ok(None) => return Err(self.deny(parts, spec, handler, Failure::Missing)),
            Err(failure) => return Err(self.deny(parts, spec, handler, failure)),
        };
        let bearer = principal.credential == CredentialKind::Bearer;
        if !all_met(spec.roles, &principal.roles) {
            return Err(self.deny(parts, spec, handler, Failure::Role { bearer }));
        }
        if !all_met(spec.scopes, &principal.scopes) {
            return Err(self.deny(parts, spec, handler, Failure::Scope { bearer }));
        }
        log(parts, spec, handler, "allowed", "ok");
        if share {
            parts.extensions.insert(AuthState::User(principal.clone()));
        }
        Ok(Some(principal))
    }

    /// Turns a failure into the rendered response and logs it.
    pub(crate) fn deny(
        &self,
        parts: &Parts,
        spec: &'static PolicySpec,
        handler: &'static str,
        failure: Failure,
    ) -> Response {
        let reason = failure.reason();
        let kind = match failure {
            Failure::Missing | Failure::Header(_) | Failure::Token(_)
                if spec.redirect.is_some() =>
            {
                RejectionKind::Redirect {
                    location: login_location(spec.redirect.unwrap_or("/"), parts),
                }
            }
            Failure::Missing => RejectionKind::Unauthenticated,
            Failure::Header(_) => RejectionKind::InvalidRequest,
            Failure::Token(_) => RejectionKind::InvalidToken,
            Failure::Role { bearer } => RejectionKind::Forbidden {
                bearer,
                scopes: None,
            },
            Failure::Scope { bearer } => RejectionKind::Forbidden {
                bearer,
                scopes: Some(
                    spec.scopes
                        .iter()
                        .flat_map(|r| r.names())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            },
            Failure::Unavailable(_) => RejectionKind::Unavailable,
            Failure::Csrf(_) => RejectionKind::CrossOrigin,
        };
        let rejection = self.reject(kind);
        let outcome = rejection.code();
        if let Failure::Unavailable(detail) = &failure {
            tracing::error!(target: "authgate", route = %route(parts), handler, error = %detail,
                "credential verification unavailable");
        }
        log(parts, spec, handler, outcome, reason);
        self.render(&rejection)
    }

    /// The 500 answer for `CurrentUser` in a handler with no guard.
    pub(crate) fn misconfigured(&self, parts: &Parts, what: &'static str) -> Response {
        tracing::error!(target: "authgate", route = %route(parts), problem = what,
            "authgate is misconfigured");
        self.render(&self.reject(RejectionKind::Misconfigured))
    }

    /// Renders a rejection of this kind, for extractors outside the guard.
    pub(crate) fn rejection(&self, kind: RejectionKind) -> Response {
        self.render(&self.reject(kind))
    }
}

/// Why authentication or authorization failed; the reason goes to logs only.
#[derive(Debug)]
pub(crate) enum Failure {
    Missing,
    Header(CredentialError),
    Token(Invalid),
    Role { bearer: bool },
    Scope { bearer: bool },
    Csrf(&'static str),
    Unavailable(String),
}

impl Failure {
    fn reason(&self) -> &'static str {
        match self {
            Failure::Missing => "no_credentials",
            Failure::Header(e) => e.as_str(),
            Failure::Token(e) => e.as_str(),
            Failure::Role { .. } => "missing_role",
            Failure::Scope { .. } => "missing_scope",
            Failure::Csrf(reason) => reason,
            Failure::Unavailable(_) => "credential_store_unavailable",
        }
    }
}

/// The route template when axum matched one, else `<fallback>`; never the concrete path or
/// query, which may carry secrets (`/invite/{code}`, `?access_token=`).
pub(crate) fn route(parts: &Parts) -> &str {
    parts
        .extensions
        .get::<MatchedPath>()
        .map_or("<fallback>", MatchedPath::as_str)
}

fn log(parts: &Parts, spec: &PolicySpec, handler: &'static str, outcome: &str, reason: &str) {
    if outcome == "allowed" || outcome == "public" {
        tracing::debug!(target: "authgate", method = %parts.method, route = %route(parts), handler,
            policy = %spec, outcome, reason, "access decision");
    } else {
        tracing::info!(target: "authgate", method = %parts.method, route = %route(parts), handler,
            policy = %spec, outcome, reason, "access decision");
    }
}

/// `login?next=<path and query, percent-encoded>`.
fn login_location(login: &str, parts: &Parts) -> String {
    // Inside `nest`, axum strips the prefix from `parts.uri`; the original URI has it.
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    let target = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
    let separator = if login.contains('?') { '&' } else { '?' };
    format!("{login}{separator}next={}", percent_encode(target))
}

/// Encodes everything but RFC 3986 unreserved characters.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl GateBuilder {
    /// The realm named in `WWW-Authenticate` challenges (default `api`).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Adds a verification key. Call it several times for key rotation (give each a `kid`).
    pub fn key(mut self, key: Key) -> Self {
        self.keys.push(key);
        self
    }

    /// Adds an HS256 secret (at least 32 bytes).
    pub fn hs256(self, secret: impl AsRef<[u8]>) -> Self {
        self.try_key(Key::hmac(Algorithm::HS256, secret))
    }

    /// Adds a key whose construction may have failed; the error is reported by `build`.
    pub fn try_key(mut self, key: Result<Key, GateError>) -> Self {
        match key {
            Ok(key) => self.keys.push(key),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Reads keys from a source that may fail (answering 503 then), instead of static keys.
    pub fn key_source(mut self, source: impl KeySource) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Accepts tokens from this issuer. When any issuer is configured, `iss` is required and
    /// must be one of them. Call it again to accept several.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.rules.issuers.push(issuer.into());
        self
    }

    /// Accepts tokens for this audience. When any audience is configured, `aud` is required
    /// and must name one of them.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.rules.audiences.push(audience.into());
        self
    }

    /// Clock skew allowed on `exp`, `nbf` and `iat` (default 30 s, at most 5 min).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        if leeway > Duration::from_secs(300) {
            self.errors.push(GateError::LeewayTooLong(leeway));
        }
        self.rules.leeway = leeway.as_secs();
        self
    }

    /// The longest lifetime a token may have: `exp` further than this from now (or from `iat`)
    /// is refused (default 24 h).
    pub fn max_lifetime(mut self, lifetime: Duration) -> Self {
        if lifetime.as_secs() == 0 {
            self.errors.push(GateError::ZeroLimit("max_lifetime"));
        }
        self.rules.max_lifetime = lifetime.as_secs();
        self
    }

    /// The largest token accepted, in bytes (default 8 KiB). Larger ones are refused unread.
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        if bytes == 0 {
            self.errors.push(GateError::ZeroLimit("max_token_bytes"));
        }
        self.rules.max_token_bytes = bytes;
        self
    }

    /// Roles live in this top-level claim (default `roles`). The name is taken whole, so a
    /// namespaced claim such as `https://example.com/claims/roles` works.
    pub fn roles_claim(self, name: impl Into<String>) -> Self {
        self.roles_at([name.into()])
    }

    /// Roles live at this path of nested objects, for example `["realm_access", "roles"]`.
    pub fn roles_at<I: IntoIterator<Item = T>, T: Into<String>>(mut self, path: I) -> Self {
        match claim_path(path) {
            Ok(path) => self.rules.roles = path,
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Scopes live in this top-level claim, as a space-delimited string or an array (default:
    /// `scope`, then `scp`). Replaces the defaults; call again to add more places.
    pub fn scopes_claim(self, name: impl Into<String>) -> Self {
        self.scopes_at([name.into()])
    }

    /// Scopes live at this path of nested objects. The first place present wins.
    pub fn scopes_at<I: IntoIterator<Item = T>, T: Into<String>>(mut self, path: I) -> Self {
        match claim_path(path) {
            Ok(path) => {
                if self.rules.scopes.first().is_some_and(|p| p.0 == ["scope"])
                    && self.rules.scopes.len() == 2
                    && self.rules.scopes[1].0 == ["scp"]
                {
                    self.rules.scopes.clear();
                }
                self.rules.scopes.push(path);
            }
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Renders every rejection with this function instead of the default JSON, for example
    /// as `application/problem+json` or an HTML page. The status, `WWW-Authenticate`,
    /// `Location` and `Cache-Control: no-store` are set by authgate afterwards, so the hook
    /// cannot get the protocol wrong.
    ///
    /// ```
    /// use authgate::{Gate, Rejection};
    /// use axum::response::{Html, IntoResponse};
    ///
    /// let gate = Gate::builder()
    ///     .hs256([7u8; 32])
    ///     .render_rejection(|r: &Rejection| Html(format!("<h1>{}</h1>", r.message())).into_response())
    ///     .build()?;
    /// # Ok::<(), authgate::GateError>(())
    /// ```
    pub fn render_rejection<F>(mut self, render: F) -> Self
    where
        F: Fn(&Rejection) -> Response + Send + Sync + 'static,
    {
        self.renderer = Some(Arc::new(render));
        self
    }

    /// Accepts session cookies as credentials too (bearer tokens still win when present).
    pub fn sessions(mut self, sessions: Sessions) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// CSRF settings for cookie-authenticated requests (on by default; this adds trusted
    /// origins or the strict mode).
    pub fn csrf(mut self, csrf: Csrf) -> Self {
        self.csrf = csrf;
        self
    }

    /// Caches up to `entries` verified tokens (default 10 000; `0` turns the cache off).
    ///
    /// A bearer token or stateless session cookie seen before is then not verified again
    /// until it expires (by this Gate's clock and leeway) or the key set changes; roles,
    /// scopes, CSRF and ownership are still checked on every request. Server-side sessions are
    /// always read from their store.
    ///
    /// ```
    /// use authgate::Gate;
    ///
    /// let gate = Gate::builder()
    ///     .hs256("an HMAC secret of at least 32 bytes!!")
    ///     .token_cache(50_000)
    ///     .token_cache_bytes(128 << 20)
    ///     .build()?;
    /// # Ok::<(), authgate::GateError>(())
    /// ```
    pub fn token_cache(mut self, entries: usize) -> Self {
        self.token_cache = entries;
        self
    }

    /// Bounds the token cache's memory: tokens, claims and a fixed overhead per entry
    /// (default 32 MiB). When full, entries not used lately make room.
    pub fn token_cache_bytes(mut self, bytes: usize) -> Self {
        self.token_cache_bytes = bytes;
        self
    }

    /// Replaces the clock (seconds since the Unix epoch), for tests of expiry.
    ///
    /// The default is the system's real-time clock; on Linux its coarse variant, which the
    /// kernel updates every few milliseconds and which costs a fraction of the precise one.
    /// Token times are whole seconds, checked with a leeway.
    pub fn clock<F>(mut self, now: F) -> Self
    where
        F: Fn() -> u64 + Send + Sync + 'static,
    {
        self.clock = Some(Arc::new(now));
        self
    }

    /// Checks the configuration and builds the Gate, or says what to change.
    pub fn build(mut self) -> Result<Gate, GateError> {
        if let Some(e) = self.errors.drain(..).next() {
            return Err(e);
        }
        let keys = match (self.source, self.keys.is_empty()) {
            (Some(source), true) => Keys::Source(source),
            (Some(_), false) => return Err(GateError::KeysAndSource),
            (None, _) => Keys::Static(KeySet::new(self.keys)?),
        };
        let clock = self.clock.unwrap_or_else(|| Arc::new(system_now));
        if let Some(sessions) = &self.sessions {
            check_sessions(sessions, &keys, &self.rules)?;
        }
        Ok(Gate {
            inner: Arc::new(Inner {
                realm: self.realm,
                keys,
                rules: self.rules,
                clock,
                renderer: self.renderer,
                sessions: self.sessions,
                csrf: self.csrf,
                cache: TokenCache::new(self.token_cache, self.token_cache_bytes),
            }),
        })
    }
}

/// Cookie name, `__Host-` rules, timeouts, and that a stateless cookie's signing key is one
/// this Gate verifies with (a probe token is signed and verified).
fn check_sessions(sessions: &Sessions, keys: &Keys, rules: &Rules) -> Result<(), GateError> {
    let name = &sessions.cookie;
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        return Err(GateError::Sessions(format!(
            "{name:?} is not a valid cookie name"
        )));
    }
    if !sessions.secure {
        if name.starts_with("__Host-") || name.starts_with("__Secure-") {
            return Err(GateError::Sessions(format!(
                "the cookie {name:?} needs `Secure`: drop insecure_for_local_development or the prefix"
            )));
        }
        tracing::warn!(target: "authgate", cookie = %name,
            "session cookies are sent without `Secure`: only for plain-HTTP local development");
    }
    if sessions.idle_timeout == 0 || sessions.absolute_lifetime == 0 {
        return Err(GateError::ZeroLimit("session timeouts"));
    }
    if let (SessionKind::Stateless(key), Keys::Static(set)) = (&sessions.kind, keys) {
        let mut probe = serde_json::Map::new();
        probe.insert("sub".into(), "probe".into());
        probe.insert("exp".into(), (system_now() + 60).into());
        if let Some(iss) = rules.issuers.first() {
            probe.insert("iss".into(), iss.clone().into());
        }
        if let Some(aud) = rules.audiences.first() {
            probe.insert("aud".into(), aud.clone().into());
        }
        let token = verify::sign_session_jwt(key, &probe).map_err(GateError::Sessions)?;
        if verify::verify_token(&token, set, rules, system_now(), CredentialKind::Cookie).is_err() {
            return Err(GateError::Sessions(
                "the stateless session signing key does not match any verification key of this Gate"
                    .to_owned(),
            ));
        }
    }
    Ok(())
}

fn claim_path<I: IntoIterator<Item = T>, T: Into<String>>(path: I) -> Result<ClaimPath, GateError> {
    let path: Vec<String> = path.into_iter().map(Into::into).collect();
    if path.is_empty() || path.iter().any(String::is_empty) {
        return Err(GateError::EmptyClaimPath);
    }
    Ok(ClaimPath(path))
}

/// The default clock: seconds since the epoch. On Linux the coarse real-time clock, which the
/// kernel updates every tick (a few ms) and reads without touching the time-stamp counter;
/// token times are whole seconds with a leeway, so the tick does not matter.
fn system_now() -> u64 {
    // Checked, not `clock_gettime`'s panic: a sandbox without the coarse clock falls back to
    // the precise one.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::time::{ClockId, DynamicClockId, clock_gettime_dynamic};
        if let Ok(now) = clock_gettime_dynamic(DynamicClockId::Known(ClockId::RealtimeCoarse)) {
            return u64::try_from(now.tv_sec).unwrap_or(0);
        }
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(feature = "testing")]
impl Gate {
    /// What `authgate::testing` needs to mint credentials this Gate accepts.
    pub(crate) fn testing_view(&self) -> crate::testing::GateView {
        let hmac = match &self.inner.keys {
            Keys::Static(keys) => keys.hmac_secret(),
            Keys::Source(_) => None,
        };
        crate::testing::GateView {
            hmac,
            issuer: self.inner.rules.issuers.first().cloned(),
            audience: self.inner.rules.audiences.first().cloned(),
            roles: self.inner.rules.roles.0.clone(),
            now: self.now(),
            has_sessions: self.inner.sessions.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    /// The coarse default clock tells the same second as the precise one (give or take the
    /// boundary between them).
    #[test]
    fn the_default_clock_is_the_system_time() {
        let precise = || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
        };
        let before = precise();
        let now = super::system_now();
        let after = precise();
        assert!(
            before.saturating_sub(1) <= now && now <= after,
            "{before} {now} {after}"
        );
    }
}
