//! Authentication: the request's credential (read by `credentials`) to a verified principal,
//! through the token cache, the issuers' keys, the stateless cookies' key and the session
//! store.
//!
//! The `Authorization` header wins when present, valid or not; then the bearer token a
//! WebSocket handshake offers as a subprotocol; otherwise the session cookie is read,
//! CSRF-checked for state-changing methods (and handshakes) before the store is asked. As much
//! as needs no waiting runs synchronously ([`Gate::authenticate_now`]); only a refresh of an
//! issuer's fetched keys (an unknown `kid`) or a session store is awaited.

use std::sync::Arc;

use http::request::Parts;

use super::Gate;
use super::failure::Failure;
use crate::cache;
use crate::credentials::{self, Kinds, cookie};
use crate::issuers::{Entry, Issuers};
use crate::keys::KeyEpoch;
use crate::principal::{CredentialKind, Principal};
use crate::revocation::{Revocations, View};
use crate::sessions::{self, Refused, SessionKind, Sessions};
use crate::store::DynLoginStore;
use crate::verify::{self, Invalid, Rules};

/// How far [`Gate::authenticate_now`] got.
pub(super) enum Step<'r> {
    /// Decided.
    Done(Result<Option<Arc<Principal>>, Failure>),
    /// A bearer token whose `kid` its issuer's fetched keys do not have: to try again after
    /// one refresh of them.
    NeedsKeys(Jwt<'r>),
    /// A server-side session id (shape not yet checked), to look up in the store.
    NeedsStore(&'r str),
}

/// A presented JWT credential, not yet parsed.
pub(super) struct Jwt<'r> {
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
    /// A token already read strictly: a session cookie's value, or the bearer token of a
    /// WebSocket handshake.
    Read(&'r str),
}

impl<'r> Jwt<'r> {
    /// The token, read strictly.
    fn parse(&self, gate: &Gate) -> Result<&'r str, Failure> {
        match self.presented {
            Presented::Bearer(value) => {
                credentials::bearer_value(value, gate.inner.limits.max_token_bytes)
                    .map_err(Failure::Header)
            }
            Presented::Read(value) => Ok(value),
        }
    }
}

impl Gate {
    /// Reads and verifies the request's credential: `Ok(None)` when none was presented. The
    /// principal is shared with the token cache (no copy on a cache hit).
    pub(crate) async fn authenticate_shared(
        &self,
        parts: &Parts,
        kinds: Kinds,
    ) -> Result<Option<Arc<Principal>>, Failure> {
        match self.authenticate_now(parts, kinds) {
            Step::Done(result) => result,
            step => self.authenticate_rest(step).await,
        }
    }

    /// As much of [`authenticate_shared`](Gate::authenticate_shared) as needs no waiting: all
    /// of it with the Gate's own keys, unless the credential is a server-side session. Callers
    /// on the hot path call this first and only build the asynchronous rest when it is needed.
    ///
    /// Only the credential kinds in `kinds` are examined: one outside it is passed over as if
    /// the request did not carry it.
    pub(super) fn authenticate_now<'r>(&self, parts: &'r Parts, kinds: Kinds) -> Step<'r> {
        let inner = &*self.inner;
        let handshake = match kinds.contains(CredentialKind::Bearer) {
            true => match self.bearer_now(parts) {
                Ok(step) => return step,
                Err(NoBearer { handshake }) => handshake,
            },
            false => credentials::is_websocket_handshake(&parts.headers),
        };
        if !kinds.contains(CredentialKind::Cookie) {
            return Step::Done(Ok(None));
        }
        let Some(sessions) = &inner.sessions else {
            return Step::Done(Ok(None));
        };
        // A stateless cookie the cache knows: the cookies need no parse (see
        // `cookie::cache_key`); the CSRF check and the renewal still run, in the same order.
        let mut probed = None;
        if let (SessionKind::Stateless(key), Some(cache)) = (&sessions.kind, &inner.cache)
            && let Some(cache_key) = cookie::cache_key(&parts.headers, &sessions.cookie)
        {
            let kind = CredentialKind::Cookie;
            let hash = cache.hash(cache_key, kind);
            let revocations = self.revocation_view();
            if let Some(principal) =
                cache.get_hashed(hash, cache_key, kind, 0, self.now_secs(), revocations)
            {
                if let Err(e) = inner.csrf.check_request(parts, handshake) {
                    return Step::Done(Err(Failure::Csrf(e)));
                }
                if let Err(e) = self.check_current() {
                    return Step::Done(Err(e));
                }
                sessions::renew_if_due(sessions, &key.signing, &principal, self.now_secs());
                return Step::Done(Ok(Some(principal)));
            }
            probed = Some((cache_key, hash));
        }
        let value = match cookie::value(&parts.headers, &sessions.cookie) {
            Ok(Some(value)) => value,
            Ok(None) => return Step::Done(Ok(None)),
            Err(cookie::Conflicting) => {
                return Step::Done(Err(Failure::Token(Invalid::SessionCookie)));
            }
        };
        if let Err(e) = inner.csrf.check_request(parts, handshake) {
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
                    presented: Presented::Read(value),
                };
                let verified = match &key.verifying {
                    Ok(keys) => self.verify_cached(0, &jwt, |token, now| {
                        let rules = &inner.cookie_rules;
                        let verified =
                            verify::verify_token_until(token, keys, rules, now, jwt.kind)
                                .map_err(Failure::Token)?;
                        Ok((verified, 0, None))
                    }),
                    // Refused by `build`: never reached.
                    Err(_) => Err(Failure::Token(Invalid::SessionCookie)),
                };
                if let Ok(principal) = &verified {
                    sessions::renew_if_due(sessions, &key.signing, principal, self.now_secs());
                }
                Step::Done(verified.map(Some))
            }
            SessionKind::Server(_) => Step::NeedsStore(value),
        }
    }

    /// Whether the credential [`authenticate_now`](Gate::authenticate_now) examined was the
    /// session cookie: it looks at a bearer token first (the `Authorization` header, or one a
    /// WebSocket handshake offers), and at the cookie only without one.
    pub(crate) fn examined_the_cookie(&self, parts: &Parts, kinds: Kinds) -> bool {
        if !kinds.contains(CredentialKind::Bearer) {
            return kinds.contains(CredentialKind::Cookie);
        }
        let headers = &parts.headers;
        if !matches!(credentials::authorization(headers), Ok(None)) {
            return false;
        }
        !credentials::is_websocket_handshake(headers)
            || matches!(
                credentials::offered_bearer(headers, self.inner.limits.max_token_bytes),
                Ok(None)
            )
    }

    /// The bearer token of the request, if it presents one: the `Authorization` header, or
    /// the token a WebSocket handshake offers (a browser's WebSocket cannot set
    /// `Authorization`; see `credentials::websocket_bearer_token`).
    #[inline]
    fn bearer_now<'r>(&self, parts: &'r Parts) -> Result<Step<'r>, NoBearer> {
        let inner = &*self.inner;
        match credentials::authorization(&parts.headers) {
            Ok(Some(value)) => {
                let jwt = Jwt {
                    kind: CredentialKind::Bearer,
                    cache_key: credentials::bearer_cache_key(
                        value.as_bytes(),
                        inner.limits.max_token_bytes,
                    ),
                    missed: None,
                    presented: Presented::Bearer(value),
                };
                return Ok(self.bearer_step(jwt));
            }
            Ok(None) => {}
            Err(e) => return Ok(Step::Done(Err(Failure::Header(e)))),
        }
        // Only looked at without an `Authorization` header: the hot path skips it.
        let handshake = credentials::is_websocket_handshake(&parts.headers);
        if !handshake {
            return Err(NoBearer { handshake });
        }
        match credentials::offered_bearer(&parts.headers, inner.limits.max_token_bytes) {
            Ok(Some(token)) => {
                let jwt = Jwt {
                    kind: CredentialKind::Bearer,
                    cache_key: Some(token.as_bytes()),
                    missed: None,
                    presented: Presented::Read(token),
                };
                Ok(self.bearer_step(jwt))
            }
            Ok(None) => Err(NoBearer { handshake }),
            Err(e) => Ok(Step::Done(Err(Failure::Header(e)))),
        }
    }

    /// A presented bearer token: verified now with its issuer's keys, which are read without
    /// waiting; only an unknown `kid` of fetched keys waits (for a refresh), in the
    /// asynchronous rest.
    #[inline]
    fn bearer_step<'r>(&self, jwt: Jwt<'r>) -> Step<'r> {
        match self.verify_issued(&self.inner.issuers, &jwt) {
            Err(Failure::Token(Invalid::UnknownKid)) => Step::NeedsKeys(jwt),
            done => Step::Done(done.map(Some)),
        }
    }

    /// What [`authenticate_now`](Gate::authenticate_now) left: the key source's keys, or the
    /// session store.
    async fn authenticate_rest(&self, step: Step<'_>) -> Result<Option<Arc<Principal>>, Failure> {
        match step {
            Step::Done(result) => result,
            Step::NeedsKeys(jwt) => {
                let principal = self
                    .verify_issued_waiting(&self.inner.issuers, &jwt)
                    .await?;
                Ok(Some(principal))
            }
            // Boxed: its state (a session record held across store calls) would otherwise
            // make every guard's future, bearer requests included, several hundred bytes larger.
            Step::NeedsStore(value) => match &self.inner.sessions {
                Some(sessions) => match &sessions.kind {
                    SessionKind::Server(store) => {
                        sessions::start_purge(sessions, store, &self.inner.clock);
                        Box::pin(self.server_session(sessions, store.as_ref(), value)).await
                    }
                    // Not built for stateless cookies: refuse rather than call it anonymous.
                    SessionKind::Stateless(_) => Err(Failure::Token(Invalid::SessionCookie)),
                },
                None => Err(Failure::Token(Invalid::SessionCookie)),
            },
        }
    }

    /// A server-side session cookie, looked up in the store by `session`.
    async fn server_session(
        &self,
        sessions: &Sessions,
        store: &dyn DynLoginStore,
        value: &str,
    ) -> Result<Option<Arc<Principal>>, Failure> {
        match sessions::authenticate_server(sessions, store, value, self.now_secs()).await {
            Ok(principal) => Ok(Some(principal)),
            Err(Refused::Invalid(invalid)) => Err(Failure::Token(invalid)),
            Err(Refused::Unavailable(e)) => {
                Err(Failure::Unavailable(format!("session store: {e}")))
            }
        }
    }

    /// Verifies a bearer token through the token cache.
    #[cfg(test)]
    pub(crate) async fn verify_jwt(&self, token: &str) -> Result<Arc<Principal>, Failure> {
        let jwt = Jwt {
            kind: CredentialKind::Bearer,
            cache_key: Some(token.as_bytes()),
            missed: None,
            presented: Presented::Read(token),
        };
        self.verify_issued_waiting(&self.inner.issuers, &jwt).await
    }

    /// Verifies a presented bearer token with the keys and the rules of the issuer its `iss`
    /// names, through the token cache: an `iss` that is not configured is refused before any
    /// signature work, and keys not fetched yet (or too stale) answer 503.
    fn verify_issued(&self, issuers: &Issuers, jwt: &Jwt<'_>) -> Result<Arc<Principal>, Failure> {
        self.verify_cached(0, jwt, |token, now| {
            let issuer = issuer_of(issuers, token, &self.inner.limits)?;
            let (keys, epoch, generation) = match issuer.current() {
                Ok(current) => current,
                // Without keys, what any keys would refuse is still refused: a token that
                // does not parse, or names another issuer (one issuer's Gate reads no `iss`
                // before the signature, so this is where it is read). Only a token that
                // could verify answers 503.
                Err(unavailable) => {
                    let iss = verify::claimed_issuer(token, &self.inner.limits)
                        .map_err(Failure::Token)?;
                    if iss.as_deref() != Some(issuer.name()) {
                        return Err(Failure::Token(Invalid::Issuer));
                    }
                    return Err(Failure::Unavailable(unavailable));
                }
            };
            let rules = issuer.rules();
            let verified = verify::verify_token_until(token, keys.get(), rules, now, jwt.kind)
                .map_err(Failure::Token)?;
            Ok((verified, generation, Some(epoch)))
        })
    }

    /// [`verify_issued`](Gate::verify_issued); a `kid` the issuer's fetched keys do not have
    /// waits for one refresh (shared with every request that needs it, see `issuers`) and
    /// is tried again.
    async fn verify_issued_waiting(
        &self,
        issuers: &Issuers,
        jwt: &Jwt<'_>,
    ) -> Result<Arc<Principal>, Failure> {
        match self.verify_issued(issuers, jwt) {
            Err(Failure::Token(Invalid::UnknownKid)) => {
                let token = jwt.parse(self)?;
                let issuer = issuer_of(issuers, token, &self.inner.limits)?;
                if issuer.refreshes() && issuer.refresh_for_unknown_kid().await {
                    self.verify_issued(issuers, jwt)
                } else {
                    Err(Failure::Token(Invalid::UnknownKid))
                }
            }
            other => other,
        }
    }

    /// Verifies a presented credential through the token cache, with `verify` on a miss
    /// (which returns the verified token, the generation of the keys it used and, for a
    /// bearer token, its issuer's epoch).
    ///
    /// The cache is asked with the credential's `cache_key` before it is parsed: bytes that,
    /// if they equal a cached token, are that token exactly (see
    /// [`credentials::bearer_cache_key`]). A hit therefore skips the strict parse, which only
    /// ever accepted the same bytes. On a miss, or without a key, the credential is parsed
    /// strictly and the outcome is as without a cache.
    #[inline]
    fn verify_cached<F>(
        &self,
        generation: u64,
        jwt: &Jwt<'_>,
        verify: F,
    ) -> Result<Arc<Principal>, Failure>
    where
        F: FnOnce(&str, u64) -> Result<(verify::Verified, u64, Option<Arc<KeyEpoch>>), Failure>,
    {
        let inner = &*self.inner;
        let kind = jwt.kind;
        let now = self.now_secs();
        let revocations = self.revocation_view();
        let Some(cache) = &inner.cache else {
            let (verified, _, _) = verify(jwt.parse(self)?, now)?;
            self.check_revocation(&verified.principal)?;
            return Ok(verified.principal);
        };
        let mut asked = None;
        if let Some(key) = jwt.cache_key {
            let hash = match jwt.missed {
                Some(hash) => hash,
                None => {
                    let hash = cache.hash(key, kind);
                    if let Some(principal) =
                        cache.get_hashed(hash, key, kind, generation, now, revocations)
                    {
                        self.check_current()?;
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
                    cache.get_hashed(hash, token.as_bytes(), kind, generation, now, revocations)
                {
                    self.check_current()?;
                    return Ok(principal);
                }
                hash
            }
        };
        let (verified, generation, epoch) = verify(token, now)?;
        let principal = verified.principal;
        let checked = self.check_revocation(&principal)?;
        cache.insert_hashed(
            hash,
            token,
            cache::Entry {
                principal: principal.clone(),
                generation,
                epoch,
                checked,
                verified_at: now,
                expired_at: verified.expired_at,
            },
        );
        Ok(principal)
    }

    /// The revocation view requests are checked against, when revocations are configured.
    #[inline]
    fn revocation_view(&self) -> Option<&View> {
        self.inner.revocations.as_ref().map(|r| &*r.view)
    }

    /// A valid token from the cache (checked against the view's current generation) is let
    /// through only while the view is current: otherwise 503, since it may have been revoked
    /// since.
    #[inline]
    fn check_current(&self) -> Result<(), Failure> {
        match &self.inner.revocations {
            Some(revocations) if !revocations.view.is_current() => {
                Err(self.not_current(revocations))
            }
            _ => Ok(()),
        }
    }

    /// A freshly verified token against the revocation view: 503 when the view is not
    /// current, 401 when revoked (or without `iat`). Returns the view's generation it was
    /// checked against, for the cache entry (0 without revocations).
    fn check_revocation(&self, principal: &Principal) -> Result<u64, Failure> {
        let Some(revocations) = &self.inner.revocations else {
            return Ok(0);
        };
        if !revocations.view.is_current() {
            return Err(self.not_current(revocations));
        }
        if principal.issued_at.is_none() {
            return Err(Failure::Token(Invalid::MissingIat));
        }
        let generation = revocations.view.generation();
        if revocations.view.is_revoked(principal) {
            return Err(Failure::Token(Invalid::Revoked));
        }
        Ok(generation)
    }

    #[cold]
    fn not_current(&self, revocations: &Revocations) -> Failure {
        // A Gate built outside a runtime starts following the store at its first request.
        revocations.start(&self.inner.clock);
        Failure::Unavailable("revocation view not current (store or feed down)".to_owned())
    }
}

/// The issuer a token claims, from the table: an `iss` that is missing or not configured is
/// refused (`Invalid::Issuer`). With one issuer, its keys are the only ones any token is
/// tried with, and its rules require its `iss` once the signature verified: the claim is not
/// read first. `rules` are the Gate's limits (only the size bound is read).
#[inline]
fn issuer_of<'i>(issuers: &'i Issuers, token: &str, rules: &Rules) -> Result<&'i Entry, Failure> {
    if let Some(only) = issuers.only() {
        return Ok(only);
    }
    let iss = verify::claimed_issuer(token, rules).map_err(Failure::Token)?;
    iss.and_then(|iss| issuers.find(&iss))
        .ok_or(Failure::Token(Invalid::Issuer))
}

/// What [`Gate::bearer_now`] found when the request presents no bearer token: whether it is a
/// WebSocket handshake, which the cookie's origin check needs next.
struct NoBearer {
    handshake: bool,
}
