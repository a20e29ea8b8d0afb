//! The Gate: the configuration every guard reads from app state, and the entry point of a
//! request's check. A request goes down [`authenticate`] (credential to principal) and
//! [`decide`] (policy, then the rejection); [`builder`] holds the settings and their
//! validation. The session lifecycle is delegated to `session`.

mod authenticate;
mod builder;
mod decide;
mod login;
mod refresh;

use std::fmt;
use std::sync::Arc;

use axum::response::Response;

use crate::cache::TokenCache;
use crate::csrf::Csrf;
use crate::issuers::Issuers;
use crate::principal::{CredentialKind, CurrentUser};
use crate::reject::{Rejection, Render};
use crate::revocation::{Revocation, Revocations};
use crate::session::refresh::RefreshTokens;
use crate::session::{
    self, SessionCookie, SessionError, SessionErrorKind, SessionLayer, SessionUser, Sessions,
};
use crate::tokens::{self, AccessToken, Signer};
use crate::verify::{KeySet, KeySource, Rules, SigningKey};

pub use builder::GateBuilder;
pub(crate) use decide::{Failure, route};
pub use login::LoginAttempt;

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
    /// Revocations of bearer tokens and stateless cookies; `None` when not configured.
    revocations: Option<Revocations>,
    /// What signs the access tokens this Gate issues; `None` with public keys only.
    signer: Option<Signer>,
    /// Refresh token families; `None` when not configured.
    refresh: Option<RefreshTokens>,
}

enum Keys {
    /// One key set for every accepted issuer (`key`, `hs256` with `issuer`).
    Static(KeySet),
    Source(Arc<dyn KeySource>),
    /// Each issuer its own keys: the token's `iss` selects them.
    Issuers(Issuers),
}

type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = match &self.inner.keys {
            Keys::Static(set) => format!("{} static", set.len()),
            Keys::Source(_) => "dynamic".to_owned(),
            Keys::Issuers(issuers) => issuers.summary(),
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

    /// Whether the keys come from a [`KeySource`] or are fetched from an issuer (feature
    /// `oidc`), which can fail: guarded routes then answer 503 `unavailable`.
    ///
    /// ```
    /// let gate = authgate::Gate::builder().hs256("an HMAC secret of at least 32 bytes!!").build()?;
    /// assert!(!gate.has_key_source()); // static keys cannot be down
    /// # Ok::<(), authgate::GateError>(())
    /// ```
    pub fn has_key_source(&self) -> bool {
        match &self.inner.keys {
            Keys::Static(_) => false,
            Keys::Source(_) => true,
            Keys::Issuers(issuers) => issuers.any_remote(),
        }
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

    /// Starts a browser session for `user` with a fresh id (never an id the request brought),
    /// and returns the cookie to send. `attempt` is the proof that the login request passed
    /// the Gate's origin check (login CSRF); the session the browser presented, if any, is
    /// ended first (a logout: deleted from the store, or, with [`Revocations`], a stateless
    /// cookie revoked), so a login never leaves two.
    ///
    /// ```
    /// use authgate::{Gate, LoginAttempt, MemoryStore, SessionError, SessionUser, Sessions, public};
    /// use axum::extract::State;
    /// use axum::response::{IntoResponse, Response};
    ///
    /// #[public(reason = "login")]
    /// async fn login(State(gate): State<Gate>, attempt: LoginAttempt) -> Result<Response, SessionError> {
    ///     // (check the password first)
    ///     let cookie = gate.login(&attempt, SessionUser::new("42").roles(["user"])).await?;
    ///     Ok((cookie, "welcome").into_response())
    /// }
    /// ```
    pub async fn login(
        &self,
        attempt: &LoginAttempt,
        user: SessionUser,
    ) -> Result<SessionCookie, SessionError> {
        let sessions = self.sessions()?;
        if let Some(presented) = &attempt.presented {
            self.end_presented(sessions, presented).await?;
        }
        self.login_unchecked(user).await
    }

    /// Starts a session for `user` without a request: no origin check, and no session of the
    /// browser's is ended. Only for logins whose CSRF protection is elsewhere (an OAuth or
    /// OpenID Connect callback arrives from the provider's site by design; its `state`
    /// parameter is its protection) and for tests; a login form or API uses
    /// [`login`](Self::login).
    ///
    /// ```
    /// use authgate::{Gate, MemoryStore, SessionCookie, SessionUser, Sessions};
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let gate = Gate::builder()
    ///     .hs256("an HMAC secret of at least 32 bytes!!")
    ///     .sessions(Sessions::server_side("__Host-session", MemoryStore::new()))
    ///     .build()?;
    /// let cookie: SessionCookie = gate.login_unchecked(SessionUser::new("42").roles(["user"])).await?;
    /// assert!(cookie.header_value().to_str()?.starts_with("__Host-session="));
    /// # Ok(()) }
    /// ```
    pub async fn login_unchecked(&self, user: SessionUser) -> Result<SessionCookie, SessionError> {
        let sessions = self.sessions()?;
        session::login(sessions, &self.inner.rules, self.now(), user)
            .await
            .map_err(|kind| self.session_error(kind))
    }

    /// Ends the session a login request presented: a server-side one is deleted; a stateless
    /// one that verifies is revoked by its `jti` when revocations are configured (without
    /// them it cannot be ended, and the new cookie replaces it in the browser).
    async fn end_presented(&self, sessions: &Sessions, value: &str) -> Result<(), SessionError> {
        match &sessions.kind {
            session::SessionKind::Server(store) => store
                .delete(&session::SessionKey::of(value))
                .await
                .map_err(|e| self.session_error(SessionErrorKind::Store(e))),
            session::SessionKind::Stateless(_) => {
                let (Some(_), Keys::Static(keys)) = (&self.inner.revocations, &self.inner.keys)
                else {
                    return Ok(());
                };
                let now = self.now();
                let rules = &self.inner.rules;
                let Ok(principal) =
                    crate::verify::verify_token(value, keys, rules, now, CredentialKind::Cookie)
                else {
                    return Ok(()); // not a session of ours: nothing to end
                };
                match &principal.token_id {
                    // Re-issued with the same `jti` up to the absolute lifetime.
                    Some(jti) => {
                        let until = now.saturating_add(sessions.absolute_lifetime);
                        self.revoke_token_id(jti, principal.expires_at.max(until))
                            .await
                    }
                    None => Ok(()),
                }
            }
        }
    }

    /// Issues an access token for `user` that this Gate accepts: signed with its own key
    /// (its HMAC secret, or [`GateBuilder::signing_key`]), with `iss`, `aud`, `sub`, the
    /// roles and scopes where this Gate reads them, the user's extra claims, `iat`, `exp`
    /// ([`GateBuilder::token_lifetime`], default 15 minutes), a random `jti` and the header
    /// `typ: at+jwt`.
    ///
    /// A Gate that verifies with public keys only, a key source or issuers' keys cannot issue:
    /// that is a [`SessionError`] of kind [`SessionErrorKind::NoSigningKey`] (500).
    ///
    /// A token issued right after [`revoke_user`](Self::revoke_user) of its subject (a login
    /// after a password change) is accepted: its `iat` is the revocation's cutoff when that is
    /// later than now (at most a second ahead, within the leeway), so it is not taken for a
    /// token issued before the revocation. (With a leeway of zero, such a token is accepted
    /// from the next second. A Gate that has not yet heard of a revocation made elsewhere in
    /// the same second stamps `now`, and its token is refused once the cutoff arrives: the
    /// order of the two cannot be known, so the revocation wins.)
    ///
    /// ```
    /// use authgate::{Gate, SessionUser};
    ///
    /// let gate = Gate::builder()
    ///     .hs256("an HMAC secret of at least 32 bytes!!")
    ///     .issuer("https://notes.example.com")
    ///     .audience("notes-api")
    ///     .build()?;
    /// let token = gate.issue(&SessionUser::new("42").roles(["admin"]))?;
    /// // Send it as `Authorization: Bearer <token>`; the Gate checks it like any other.
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn issue(&self, user: &SessionUser) -> Result<AccessToken, SessionError> {
        let now = self.now();
        self.issue_own(user, self.login_iat(&user.subject, now), now)
    }

    /// Issues the access token of a refresh: stamped `now`, never with a revocation's cutoff.
    /// A refresh continues a family that a revocation in this same second may be ending (a
    /// `revoke_user`, or the reuse of one of its tokens); such a token is then refused with
    /// everything else the subject held in that second.
    pub(crate) fn issue_refreshed(&self, user: &SessionUser) -> Result<AccessToken, SessionError> {
        let now = self.now();
        self.issue_own(user, now, now)
    }

    /// Issues with the Gate's own key and rules, `iat` as given, living the Gate's token
    /// lifetime from `now`.
    fn issue_own(
        &self,
        user: &SessionUser,
        iat: u64,
        now: u64,
    ) -> Result<AccessToken, SessionError> {
        let Some(signer) = &self.inner.signer else {
            return Err(self.session_error(SessionErrorKind::NoSigningKey));
        };
        let times = (iat, now.saturating_add(signer.lifetime));
        self.issue_with(&signer.key, user, times, &self.inner.rules, |_| {})
            .map_err(|e| self.session_error(SessionErrorKind::Signing(e)))
    }

    /// The `iat` of a token issued at `now` by a login: `revoke_user` refuses what was issued
    /// up to the end of its second (the cutoff is the next second, as seconds are all `iat`
    /// says), so a token issued after it within that second is stamped with the cutoff, which
    /// it then passes.
    pub(crate) fn login_iat(&self, subject: &str, now: u64) -> u64 {
        let cutoff = self
            .inner
            .revocations
            .as_ref()
            .and_then(|r| r.view.not_before(subject));
        cutoff.map_or(now, |cutoff| cutoff.max(now))
    }

    /// Signs an access token for `user` with `key`, issued and expiring at `times`
    /// (`iat`, `exp`): [`issue`](Self::issue) with the Gate's own key, and the test kit's
    /// minting. The claims follow `rules` (the Gate's own, or one issuer's for the test kit),
    /// and `shape` may add to them last.
    pub(crate) fn issue_with(
        &self,
        key: &SigningKey,
        user: &SessionUser,
        (iat, exp): (u64, u64),
        rules: &Rules,
        shape: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
    ) -> Result<AccessToken, String> {
        tokens::sign(key, rules, user, iat, exp, shape)
    }

    /// Ends the caller's session: deletes it from the store (server-side) and returns the
    /// cookie that clears it in the browser.
    ///
    /// With [`Revocations`] configured, a stateless cookie is also revoked (by its `jti`), so
    /// a copy of it that the browser did not drop stops working on every instance.
    pub async fn logout<C>(&self, user: &CurrentUser<C>) -> Result<SessionCookie, SessionError> {
        let sessions = self.sessions()?;
        let principal = &user.principal;
        if self.inner.revocations.is_some()
            && principal.session_key.is_none()
            && principal.credential == CredentialKind::Cookie
        {
            self.revoke_token(user).await?;
        }
        session::logout(sessions, &user.principal)
            .await
            .map_err(|kind| self.session_error(kind))
    }

    /// Ends everything a user holds, for example after a password change or when the account
    /// is deleted: every server-side session and refresh token family, and with
    /// [`Revocations`] configured every bearer token and stateless cookie issued to `subject`
    /// up to now (the current second included), on every instance. Returns how many
    /// server-side sessions were ended.
    ///
    /// Fails (and should be retried) when a store fails; the parts that succeeded stay done.
    ///
    /// ```
    /// use authgate::{Gate, MemoryRevocations, MemoryStore, Revocations, Sessions, SessionUser};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let gate = Gate::builder()
    ///     .hs256("an HMAC secret of at least 32 bytes!!")
    ///     .sessions(Sessions::server_side("__Host-session", MemoryStore::new()))
    ///     .revocations(Revocations::new(MemoryRevocations::new()))
    ///     .build()?;
    /// gate.login_unchecked(SessionUser::new("42")).await?;
    /// assert_eq!(gate.revoke_user("42").await?, 1);
    /// # Ok(()) }
    /// ```
    pub async fn revoke_user(&self, subject: &str) -> Result<u64, SessionError> {
        let inner = &*self.inner;
        let server_side = inner
            .sessions
            .as_ref()
            .filter(|s| matches!(s.kind, session::SessionKind::Server(_)));
        match (&inner.revocations, &inner.sessions) {
            (None, None) => return Err(self.session_error(SessionErrorKind::NotConfigured)),
            (None, Some(_)) if server_side.is_none() => {
                return Err(self.session_error(SessionErrorKind::Stateless));
            }
            _ => {}
        }
        // Families first: a refresh that rotates before the revocation is written still gets
        // a token stamped in this second, which the cutoff then refuses.
        if let Some(refresh) = &inner.refresh {
            refresh
                .store
                .delete_user_families(subject)
                .await
                .map_err(|e| self.session_error(SessionErrorKind::Store(e)))?;
        }
        if inner.revocations.is_some() {
            self.revoke(self.subject_cutoff(subject)).await?;
        }
        match server_side {
            Some(sessions) => session::revoke_user(sessions, subject)
                .await
                .map_err(|kind| self.session_error(kind)),
            None => Ok(0),
        }
    }

    /// The revocation of everything `subject` was issued up to the end of this second.
    fn subject_cutoff(&self, subject: &str) -> Revocation {
        let rules = &self.inner.rules;
        // Every credential whose lifetime the Gate accepts, issued up to this second, has
        // expired by `until`.
        let not_before = self.now().saturating_add(1);
        let until = not_before
            .saturating_add(rules.max_lifetime)
            .saturating_add(rules.leeway);
        Revocation::Subject {
            subject: subject.to_owned(),
            not_before,
            until,
        }
    }

    /// Revokes the credential of this request on every instance: a bearer token or
    /// stateless cookie by its `jti` (needs [`Revocations`]), a server-side session by
    /// deleting it. For "log out this device" with bearer tokens.
    ///
    /// ```
    /// use authgate::{CurrentUser, Gate, require_auth};
    /// use axum::extract::State;
    /// use axum::http::StatusCode;
    ///
    /// #[require_auth]
    /// async fn sign_out(user: CurrentUser, State(gate): State<Gate>) -> StatusCode {
    ///     match gate.revoke_token(&user).await {
    ///         Ok(()) => StatusCode::NO_CONTENT,
    ///         Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    ///     }
    /// }
    /// ```
    pub async fn revoke_token<C>(&self, user: &CurrentUser<C>) -> Result<(), SessionError> {
        let principal = &user.principal;
        if principal.session_key.is_some() {
            let sessions = self.sessions()?;
            return session::logout(sessions, principal)
                .await
                .map(drop)
                .map_err(|kind| self.session_error(kind));
        }
        let Some(jti) = &principal.token_id else {
            return Err(self.session_error(SessionErrorKind::NoTokenId));
        };
        let mut expires_at = principal.expires_at;
        if let (CredentialKind::Cookie, Some(sessions)) =
            (principal.credential, &self.inner.sessions)
        {
            // A stateless cookie is re-issued with the same `jti` up to its absolute lifetime.
            expires_at = expires_at.max(self.now().saturating_add(sessions.absolute_lifetime));
        }
        self.revoke_token_id(jti, expires_at).await
    }

    /// Revokes the token whose `jti` is `jti` on every instance, until `expires_at` (its
    /// `exp`, in seconds since the Unix epoch; it is refused after that anyway). Needs
    /// [`Revocations`].
    ///
    /// ```
    /// use authgate::{Gate, MemoryRevocations, Revocations};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let gate = Gate::builder()
    ///     .hs256("an HMAC secret of at least 32 bytes!!")
    ///     .revocations(Revocations::new(MemoryRevocations::new()))
    ///     .build()?;
    /// gate.revoke_token_id("a3f1c2", gate.now() + 900).await?;
    /// assert_eq!(gate.revocations_in_view(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn revoke_token_id(&self, jti: &str, expires_at: u64) -> Result<(), SessionError> {
        let until = expires_at
            .saturating_add(self.inner.rules.leeway)
            .saturating_add(1);
        self.revoke(Revocation::Token {
            jti: jti.to_owned(),
            until,
        })
        .await
    }

    /// Writes a revocation to the store (which announces it to every instance), then applies
    /// it here at once.
    async fn revoke(&self, revocation: Revocation) -> Result<(), SessionError> {
        let Some(revocations) = &self.inner.revocations else {
            return Err(self.session_error(SessionErrorKind::NoRevocations));
        };
        revocations
            .store
            .revoke(&revocation)
            .await
            .map_err(|e| self.session_error(SessionErrorKind::Store(e)))?;
        revocations.view.apply(&revocation, self.now());
        Ok(())
    }

    /// Waits until what the Gate keeps current in the background (the revocation view, the
    /// keys fetched from issuers) is current, for at most `within`; whether it is. Bearer
    /// tokens and stateless cookies answer 503 until then. Call it at start, before serving,
    /// to begin with everything loaded (serving without it is safe too); a Gate with neither
    /// is always ready.
    ///
    /// ```
    /// use std::time::Duration;
    /// use authgate::{Gate, MemoryRevocations, Revocations};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), authgate::GateError> {
    /// let gate = Gate::builder()
    ///     .hs256("an HMAC secret of at least 32 bytes!!")
    ///     .revocations(Revocations::new(MemoryRevocations::new()))
    ///     .build()?;
    /// assert!(gate.ready(Duration::from_secs(5)).await);
    /// # Ok(()) }
    /// ```
    pub async fn ready(&self, within: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        if let Keys::Issuers(issuers) = &self.inner.keys
            && !issuers.ready(deadline).await
        {
            return false;
        }
        let Some(revocations) = &self.inner.revocations else {
            return true;
        };
        revocations.start(self.inner.clock.clone());
        loop {
            if revocations.view.is_current() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Whether bearer tokens and stateless cookies are checked against revocations, whose
    /// view can be stale: such requests then answer 503 `unavailable`.
    ///
    /// ```
    /// use authgate::{Gate, MemoryRevocations, Revocations};
    ///
    /// let gate = Gate::builder()
    ///     .hs256("an HMAC secret of at least 32 bytes!!")
    ///     .revocations(Revocations::new(MemoryRevocations::new()))
    ///     .build()?;
    /// assert!(gate.has_revocations());
    /// # Ok::<(), authgate::GateError>(())
    /// ```
    pub fn has_revocations(&self) -> bool {
        self.inner.revocations.is_some()
    }

    /// How many revoked token ids and revoked subjects this Gate's view holds now (0 without
    /// revocations), for metrics.
    pub fn revocations_in_view(&self) -> usize {
        self.inner.revocations.as_ref().map_or(0, |r| r.view.len())
    }

    /// The layer that re-issues stateless session cookies close to expiry:
    /// `router.layer(gate.session_layer())`.
    pub fn session_layer(&self) -> SessionLayer {
        SessionLayer
    }

    /// The CSRF settings, for the login extractor.
    pub(crate) fn csrf(&self) -> &Csrf {
        &self.inner.csrf
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

    /// The key the Gate issues with, for the test kit to mint with.
    #[cfg(feature = "testing")]
    pub(crate) fn signing_key(&self) -> Option<&SigningKey> {
        self.inner.signer.as_ref().map(|s| &s.key)
    }

    /// The claim rules of `issuer`'s tokens (the first issuer's when `None`; the Gate's own
    /// when the issuer is not one of its issuers with keys of their own), for the test kit to
    /// mint tokens this Gate accepts.
    #[cfg(feature = "testing")]
    pub(crate) fn mint_rules(&self, issuer: Option<&str>) -> &Rules {
        let Keys::Issuers(issuers) = &self.inner.keys else {
            return &self.inner.rules;
        };
        let entry = match issuer {
            Some(name) => issuers.find(name),
            None => issuers.iter().next(),
        };
        entry.map_or(&self.inner.rules, |entry| entry.rules())
    }

    /// The OpenID Connect Discovery URLs of the issuers configured with `oidc_issuer`, for
    /// the OpenAPI document's `openIdConnect` security schemes.
    #[cfg(feature = "utoipa")]
    pub(crate) fn discovery_urls(&self) -> Vec<String> {
        match &self.inner.keys {
            Keys::Issuers(issuers) => issuers
                .iter()
                .filter_map(|entry| entry.discovery_url().map(str::to_owned))
                .collect(),
            Keys::Static(_) | Keys::Source(_) => Vec::new(),
        }
    }

    /// Whether the Gate can start sessions.
    #[cfg(feature = "testing")]
    pub(crate) fn has_sessions(&self) -> bool {
        self.inner.sessions.is_some()
    }
}
