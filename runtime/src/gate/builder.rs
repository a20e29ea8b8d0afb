//! The Gate's settings: the builder, its defaults, and the validation that refuses a
//! configuration that cannot be secure, with what to change.

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use jsonwebtoken::Algorithm;

use super::{Clock, Gate, Inner, Keys};
use crate::cache::{self, TokenCache};
use crate::csrf::Csrf;
use crate::error::GateError;
#[cfg(feature = "oidc")]
use crate::issuers::{self, KeyRefresh};
use crate::issuers::{Entry, Issuer, IssuerKeys, Issuers};
use crate::principal::CredentialKind;
use crate::reject::{Hook, Rejection, Render};
use crate::revocation::Revocations;
use crate::session::refresh::RefreshTokens;
use crate::session::{SessionKind, SessionUser, Sessions};
use crate::tokens::{self, Signer};
use crate::verify::{self, Key, KeyEpoch, KeySet, KeySource, Rules, SigningKey, claim_path};

/// Builds a [`Gate`]: every setting and its validation. A setter that is given something
/// wrong does not fail on the spot; [`build`](GateBuilder::build) reports every problem of the
/// configuration at once, so the whole chain reads as one expression.
///
/// ```
/// use std::time::Duration;
/// use authgate::{Algorithm, Gate, Key};
///
/// # let pem = include_bytes!("../../../tests/keys/rsa_public.pem");
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
    /// Whether `scopes_at` replaced the default scope claims yet.
    custom_scopes: bool,
    clock: Option<Clock>,
    hook: Option<Hook>,
    sessions: Option<Sessions>,
    revocations: Option<Revocations>,
    csrf: Csrf,
    token_cache: usize,
    token_cache_bytes: usize,
    /// Keys bound to issuers, with their settings, in the order given.
    issuer_keys: Vec<(Issuer, PendingKeys)>,
    /// The private key the Gate issues with (its public half verifies).
    signing_key: Option<SigningKey>,
    /// Seconds an issued access token lives.
    token_lifetime: u64,
    refresh: Option<RefreshTokens>,
    #[cfg(feature = "oidc")]
    key_refresh: KeyRefresh,
}

/// Where an issuer's keys come from, as configured.
enum PendingKeys {
    Static(Vec<Key>),
    #[cfg(feature = "oidc")]
    Jwks(String),
    #[cfg(feature = "oidc")]
    Discovery,
}

impl GateBuilder {
    pub(super) fn new() -> GateBuilder {
        GateBuilder {
            realm: "api".to_owned(),
            keys: Vec::new(),
            source: None,
            errors: Vec::new(),
            rules: Rules::default(),
            custom_scopes: false,
            clock: None,
            hook: None,
            sessions: None,
            revocations: None,
            csrf: Csrf::default(),
            token_cache: cache::DEFAULT_CAPACITY,
            token_cache_bytes: cache::DEFAULT_MAX_BYTES,
            issuer_keys: Vec::new(),
            signing_key: None,
            token_lifetime: 15 * 60,
            refresh: None,
            #[cfg(feature = "oidc")]
            key_refresh: KeyRefresh::default(),
        }
    }

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

    /// Signs the access tokens this Gate issues ([`Gate::issue`]) with this private key, and
    /// verifies with its public half, which this adds to the Gate's keys: one key
    /// configuration for both (unless a key with the same `kid` is already there, which must
    /// then be that public half; `build` checks it). A Gate with an HMAC secret issues with
    /// its first secret without this.
    ///
    /// ```
    /// use authgate::{Algorithm, Gate, SessionUser, SigningKey};
    ///
    /// # let pem = include_bytes!("../../../tests/keys/ed25519_private.pem");
    /// let gate = Gate::builder()
    ///     .signing_key(SigningKey::from_pem(Algorithm::EdDSA, pem)?.with_kid("2026-12"))
    ///     .issuer("https://notes.example.com")
    ///     .build()?;
    /// let token = gate.issue(&SessionUser::new("42"))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn signing_key(mut self, key: SigningKey) -> Self {
        self.signing_key = Some(key);
        self
    }

    /// How long the access tokens this Gate issues live (default 15 minutes; at most
    /// [`max_lifetime`](Self::max_lifetime)).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime.as_secs();
        self
    }

    /// Issues refresh tokens with the access tokens of [`Gate::issue_tokens`], exchanged with
    /// [`Gate::refresh`] (or the [`Refreshed`](crate::Refreshed) extractor). Needs a Gate
    /// that issues (an HMAC secret or [`signing_key`](Self::signing_key)) and
    /// [`revocations`](Self::revocations): a reused refresh token ends the subject's access
    /// tokens.
    pub fn refresh_tokens(mut self, refresh: RefreshTokens) -> Self {
        self.refresh = Some(refresh);
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

    /// Accepts tokens from `issuer`, verified with these keys only: a token whose `iss` is
    /// exactly `issuer` is checked against `keys`, and never against another issuer's. Call
    /// it (or, with the feature `oidc`, `jwks` and `oidc_issuer`) once per issuer; a
    /// token whose `iss` is none of them is refused (401). Cannot be combined with the keys
    /// and issuers shared by all ([`key`](Self::key), [`issuer`](Self::issuer)).
    ///
    /// `issuer` is the issuer's name, or an [`Issuer`](crate::Issuer) with an audience and
    /// claim places of its own; the Gate's settings are the default.
    ///
    /// ```
    /// use authgate::{Algorithm, Gate, Key};
    ///
    /// # let pem_a = include_bytes!("../../../tests/keys/rsa_public.pem");
    /// # let pem_b = include_bytes!("../../../tests/keys/ec256_public.pem");
    /// let gate = Gate::builder()
    ///     .issuer_keys("https://tenant-a.example.com", [Key::from_pem(Algorithm::RS256, pem_a)?])
    ///     .issuer_keys("https://tenant-b.example.com", [Key::from_pem(Algorithm::ES256, pem_b)?])
    ///     .audience("invoices-api")
    ///     .build()?;
    /// # Ok::<(), authgate::GateError>(())
    /// ```
    pub fn issuer_keys(
        mut self,
        issuer: impl Into<Issuer>,
        keys: impl IntoIterator<Item = Key>,
    ) -> Self {
        let keys = keys.into_iter().collect();
        self.issuer_keys
            .push((issuer.into(), PendingKeys::Static(keys)));
        self
    }

    /// Accepts tokens from `issuer`, verified with the keys published at `jwks_url` (a JSON
    /// Web Key Set), fetched in the background and kept current as [`KeyRefresh`] says
    /// (feature `oidc`). Like [`issuer_keys`](Self::issuer_keys), these keys verify only
    /// tokens whose `iss` is exactly `issuer` (a name, or an [`Issuer`](crate::Issuer) with
    /// rules of its own).
    ///
    /// The URL must be HTTPS (plain HTTP only for loopback addresses). The Gate is built and
    /// the server can start while the provider is down: that issuer's tokens answer 503
    /// until its keys are fetched ([`Gate::ready`] waits for them).
    ///
    /// ```
    /// use authgate::Gate;
    ///
    /// let gate = Gate::builder()
    ///     .jwks("https://login.example.com/keys", "https://login.example.com/")
    ///     .audience("invoices-api")
    ///     .build()?;
    /// assert!(gate.has_key_source());
    /// # Ok::<(), authgate::GateError>(())
    /// ```
    #[cfg(feature = "oidc")]
    pub fn jwks(mut self, jwks_url: impl Into<String>, issuer: impl Into<Issuer>) -> Self {
        self.issuer_keys
            .push((issuer.into(), PendingKeys::Jwks(jwks_url.into())));
        self
    }

    /// Accepts tokens from the OpenID Provider `issuer` (feature `oidc`): its keys are found
    /// by OpenID Connect Discovery (`{issuer}/.well-known/openid-configuration`, whose
    /// `issuer` must equal `issuer` exactly), then fetched and refreshed as with
    /// [`jwks`](Self::jwks). `issuer` is a name, or an [`Issuer`](crate::Issuer) with
    /// rules of its own.
    ///
    /// ```
    /// use authgate::{Gate, Issuer, Provider};
    ///
    /// let gate = Gate::builder()
    ///     .oidc_issuer("https://login.example.com/realms/acme")
    ///     .oidc_issuer(
    ///         Issuer::new("https://login.microsoftonline.com/5f1c2b3a-0000-4000-8000-000000000000/v2.0")
    ///             .provider(Provider::Entra)
    ///             .audience("api://invoices"),
    ///     )
    ///     .audience("invoices-api") // the default, for the first issuer
    ///     .build()?;
    /// # Ok::<(), authgate::GateError>(())
    /// ```
    #[cfg(feature = "oidc")]
    pub fn oidc_issuer(mut self, issuer: impl Into<Issuer>) -> Self {
        self.issuer_keys
            .push((issuer.into(), PendingKeys::Discovery));
        self
    }

    /// How fetched keys are refreshed, for every issuer of [`jwks`](Self::jwks) and
    /// [`oidc_issuer`](Self::oidc_issuer) (feature `oidc`; see [`KeyRefresh`] for the
    /// defaults).
    #[cfg(feature = "oidc")]
    pub fn key_refresh(mut self, refresh: KeyRefresh) -> Self {
        self.key_refresh = refresh;
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
    /// namespaced claim such as `https://example.com/claims/roles` works. An
    /// [`Issuer`](crate::Issuer) can say otherwise for its tokens.
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
                if !self.custom_scopes {
                    self.rules.scopes.clear();
                    self.custom_scopes = true;
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
        self.hook = Some(Arc::new(render));
        self
    }

    /// Accepts session cookies as credentials too (bearer tokens still win when present).
    pub fn sessions(mut self, sessions: Sessions) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// Makes bearer tokens and stateless cookies revocable on every instance
    /// ([`Gate::revoke_token`], [`Gate::revoke_user`]), through a shared store whose change
    /// feed keeps a local view current. Requests that present such a credential answer 503
    /// while that view is not current (see [`Revocations`]), and JWTs without `iat` are
    /// refused.
    pub fn revocations(mut self, revocations: Revocations) -> Self {
        self.revocations = Some(revocations);
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

    /// Checks the configuration and builds the Gate, or says what to change: every problem
    /// at once ([`GateError::Several`] when there are more than one).
    ///
    /// ```
    /// use std::time::Duration;
    /// use authgate::{Gate, GateError};
    ///
    /// let err = Gate::builder()
    ///     .hs256("short")
    ///     .leeway(Duration::from_secs(3600))
    ///     .build()
    ///     .unwrap_err();
    /// let GateError::Several(problems) = err else { panic!("{err}") };
    /// assert!(matches!(problems[0], GateError::WeakSecret { .. }));
    /// assert!(matches!(problems[1], GateError::LeewayTooLong(_)));
    /// ```
    pub fn build(mut self) -> Result<Gate, GateError> {
        let mut errors = std::mem::take(&mut self.errors);
        self.add_signing_key(&mut errors);
        let keys = if self.issuer_keys.is_empty() {
            self.shared_keys(&mut errors)
        } else {
            self.issuers(&mut errors)
        };
        let clock: Clock = self.clock.take().unwrap_or_else(|| Arc::new(system_now));
        let signer = self.signer(keys.as_ref(), clock(), &mut errors);
        if let Some(refresh) = &self.refresh {
            if signer.is_none() && keys.is_some() {
                errors.push(GateError::Issuing(
                    "refresh tokens need a Gate that issues its tokens: an HMAC secret or \
                     GateBuilder::signing_key"
                        .to_owned(),
                ));
            }
            if self.revocations.is_none() {
                errors.push(GateError::Issuing(
                    "refresh tokens need GateBuilder::revocations: a reused refresh token must \
                     end the subject's access tokens"
                        .to_owned(),
                ));
            }
            if refresh.idle_timeout == 0 || refresh.absolute_lifetime == 0 {
                errors.push(GateError::ZeroLimit("refresh token timeouts"));
            }
        }
        if let Some(sessions) = &self.sessions {
            errors.extend(check_sessions(
                sessions,
                keys.as_ref(),
                &self.rules,
                clock(),
            ));
        }
        if let Some(error) = GateError::combine(errors) {
            return Err(error);
        }
        let Some(keys) = keys else {
            return Err(GateError::NoKey);
        };
        let gate = Gate {
            inner: Arc::new(Inner {
                render: Render::new(&self.realm, self.hook),
                keys,
                rules: self.rules,
                clock,
                sessions: self.sessions,
                csrf: self.csrf,
                cache: TokenCache::new(self.token_cache, self.token_cache_bytes),
                revocations: self.revocations,
                signer,
                refresh: self.refresh,
            }),
        };
        // Inside a runtime the view and the issuers' keys start loading now; otherwise at the
        // first request that needs them (or `Gate::ready`).
        if let Some(revocations) = &gate.inner.revocations {
            revocations.start(gate.inner.clock.clone());
        }
        if let Keys::Issuers(issuers) = &gate.inner.keys {
            issuers.start();
        }
        Ok(gate)
    }

    /// Adds the public half of the signing key to the static keys, unless a key of its `kid`
    /// is there already (then [`signer`](Self::signer) checks that it is that half).
    fn add_signing_key(&mut self, errors: &mut Vec<GateError>) {
        let Some(signing) = &self.signing_key else {
            return;
        };
        if !self.issuer_keys.is_empty() || self.source.is_some() {
            return; // refused in `signer`
        }
        let known = signing.kid.as_deref().is_some_and(|kid| {
            self.keys
                .iter()
                .any(|key| key.kid() == Some(kid) && key.algorithm() == signing.algorithm)
        });
        if known {
            return;
        }
        match signing.verification_key() {
            Ok(key) => self.keys.push(key),
            Err(e) => errors.push(e),
        }
    }

    /// What signs the tokens the Gate issues: the signing key, checked against the keys by a
    /// probe token, or else the first HMAC secret. `None` with public keys only.
    fn signer(
        &mut self,
        keys: Option<&Keys>,
        now: u64,
        errors: &mut Vec<GateError>,
    ) -> Option<Signer> {
        let lifetime = self.token_lifetime;
        if lifetime == 0 {
            errors.push(GateError::ZeroLimit("token_lifetime"));
        }
        if lifetime > self.rules.max_lifetime {
            errors.push(GateError::Issuing(format!(
                "the token lifetime ({lifetime} s) is longer than max_lifetime ({} s): shorten \
                 token_lifetime or raise max_lifetime",
                self.rules.max_lifetime
            )));
        }
        let key = match (self.signing_key.take(), keys) {
            (Some(key), Some(Keys::Static(set))) => {
                let probe = tokens::sign(
                    &key,
                    &self.rules,
                    &SessionUser::new("probe"),
                    now,
                    now + 60,
                    |_| {},
                )
                .map_err(GateError::Issuing)
                .and_then(|token| {
                    verify::verify_token(
                        token.as_str(),
                        set,
                        &self.rules,
                        now,
                        CredentialKind::Bearer,
                    )
                    .map_err(|_| {
                        GateError::Issuing(
                            "the signing key does not match the Gate's key of its kid: give \
                                 the public half of the signing key that kid, or drop that key"
                                .to_owned(),
                        )
                    })
                });
                match probe {
                    Ok(_) => Some(key),
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                }
            }
            (Some(_), Some(_)) => {
                errors.push(GateError::Issuing(
                    "a signing key needs the Gate's own keys (`key`, `hs256`): tokens of a key \
                     source or of issuers' keys are issued elsewhere"
                        .to_owned(),
                ));
                None
            }
            (Some(_), None) | (None, None) => None,
            (None, Some(Keys::Static(set))) => set.hmac_secret().and_then(|(alg, kid, secret)| {
                let key = SigningKey::hmac(alg, secret).ok()?;
                Some(match kid {
                    Some(kid) => key.with_kid(kid),
                    None => key,
                })
            }),
            (None, Some(_)) => None,
        };
        key.map(|key| Signer { key, lifetime })
    }

    /// The keys and issuers shared by all: static keys, or a key source.
    fn shared_keys(&mut self, errors: &mut Vec<GateError>) -> Option<Keys> {
        let keys = std::mem::take(&mut self.keys);
        match (self.source.take(), keys.is_empty()) {
            (Some(source), true) => Some(Keys::Source(source)),
            (Some(_), false) => {
                errors.push(GateError::KeysAndSource);
                None
            }
            // A bad key was already reported; "no key" on top of it would only mislead.
            (None, true) if !errors.is_empty() => None,
            (None, _) => KeySet::new(keys)
                .map_err(|e| errors.push(e))
                .ok()
                .map(Keys::Static),
        }
    }

    /// The table of issuers with keys of their own; the accepted issuers become its names.
    fn issuers(&mut self, errors: &mut Vec<GateError>) -> Option<Keys> {
        if !self.keys.is_empty() || self.source.is_some() || !self.rules.issuers.is_empty() {
            errors.push(GateError::SharedAndIssuerKeys);
        }
        let mut list: Vec<(Issuer, IssuerKeys)> = Vec::new();
        #[cfg(feature = "oidc")]
        let mut remote = false;
        for (mut issuer, pending) in std::mem::take(&mut self.issuer_keys) {
            errors.append(&mut issuer.errors);
            let name = issuer.name.clone();
            if list.iter().any(|(known, _)| known.name == name) {
                errors.push(GateError::DuplicateIssuer(name));
                continue;
            }
            let keys = match pending {
                PendingKeys::Static(keys) => KeySet::new(keys)
                    .map(|set| IssuerKeys::Static(set, Arc::new(KeyEpoch::fixed()))),
                #[cfg(feature = "oidc")]
                PendingKeys::Jwks(url) => {
                    remote = true;
                    issuers::checked_url(&url)
                        .map_err(GateError::KeyUrl)
                        .and_then(|url| self.remote(&name, issuers::Source::Jwks(url)))
                }
                #[cfg(feature = "oidc")]
                PendingKeys::Discovery => {
                    remote = true;
                    issuers::discovery_url(&name)
                        .map_err(GateError::KeyUrl)
                        .and_then(|url| self.remote(&name, issuers::Source::Discovery(url)))
                }
            };
            match keys {
                Ok(keys) => list.push((issuer, keys)),
                Err(e) => errors.push(e),
            }
        }
        #[cfg(feature = "oidc")]
        if remote {
            errors.extend(self.key_refresh.check());
        }
        // Each issuer's rules: the Gate's, final now, with what the issuer replaces.
        let list = list
            .into_iter()
            .map(|(issuer, keys)| Entry::new(issuer.name.clone(), issuer.rules(&self.rules), keys))
            .collect::<Vec<_>>();
        self.rules.issuers = list.iter().map(|entry| entry.name().to_owned()).collect();
        Some(Keys::Issuers(Issuers::new(list)))
    }

    #[cfg(feature = "oidc")]
    fn remote(&self, issuer: &str, source: issuers::Source) -> Result<IssuerKeys, GateError> {
        issuers::Remote::new(issuer.to_owned(), source, self.key_refresh.clone())
            .map(|remote| IssuerKeys::Remote(Arc::new(remote)))
    }
}

/// Cookie name, `__Host-` rules, timeouts, and that a stateless cookie's signing key is one
/// this Gate verifies with (a probe token is signed and verified). Every problem is returned.
fn check_sessions(
    sessions: &Sessions,
    keys: Option<&Keys>,
    rules: &Rules,
    now: u64,
) -> Vec<GateError> {
    let mut errors = Vec::new();
    let name = &sessions.cookie;
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        errors.push(GateError::Sessions(format!(
            "{name:?} is not a valid cookie name"
        )));
    }
    if !sessions.secure {
        if name.starts_with("__Host-") || name.starts_with("__Secure-") {
            errors.push(GateError::Sessions(format!(
                "the cookie {name:?} needs `Secure`: drop insecure_for_local_development or the prefix"
            )));
        } else {
            tracing::warn!(target: "authgate", cookie = %name,
                "session cookies are sent without `Secure`: only for plain-HTTP local development");
        }
    }
    if sessions.idle_timeout == 0 || sessions.absolute_lifetime == 0 {
        errors.push(GateError::ZeroLimit("session timeouts"));
    }
    if let (SessionKind::Stateless(_), Some(Keys::Issuers(_))) = (&sessions.kind, keys) {
        // A cookie the app signs is not a token of an identity provider: it would be verified
        // with the first issuer's keys, which the app does not hold.
        errors.push(GateError::Sessions(
            "stateless session cookies need the Gate's own keys (`key`, `hs256`); with keys \
             bound to issuers, use server-side sessions"
                .to_owned(),
        ));
    }
    if let (SessionKind::Stateless(key), Some(Keys::Static(set))) = (&sessions.kind, keys) {
        let mut probe = serde_json::Map::new();
        probe.insert("exp".into(), (now + 60).into());
        rules.identity_claims(&mut probe, "probe", &[], &[]);
        let verified = verify::sign_session_jwt(key, &probe)
            .map_err(GateError::Sessions)
            .and_then(|token| {
                verify::verify_token(&token, set, rules, now, CredentialKind::Cookie).map_err(
                    |_| {
                        GateError::Sessions(
                        "the stateless session signing key does not match any verification key \
                         of this Gate"
                            .to_owned(),
                    )
                    },
                )
            });
        errors.extend(verified.err());
    }
    errors
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
