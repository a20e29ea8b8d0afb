//! The Gate's settings: the builder, its defaults, and the validation that refuses a
//! configuration that cannot be secure, with what to change.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::response::Response;

use super::{Gate, Inner};
use crate::cache::{self, TokenCache};
use crate::clock::Clock;
use crate::error::{ConfigError, ConfigProblem};
#[cfg(feature = "oidc")]
use crate::issuers::KeyRefresh;
use crate::issuers::{Issuer, Issuers, Limits};
use crate::reject::{Hook, Rejection, Render};
use crate::revocation::Revocations;
use crate::sessions::{Csrf, SessionKind, Sessions};
use crate::tokens::RefreshTokens;
use crate::verify::Rules;

/// Builds a [`Gate`]: every setting and its validation. A setter that is given something
/// wrong does not fail on the spot; [`build`](GateBuilder::build) reports every problem of the
/// configuration at once, so the whole chain reads as one expression.
///
/// ```
/// use std::time::Duration;
/// use authgate::Gate;
/// use authgate::issuers::{Issuer, Provider};
///
/// let gate = Gate::builder()
///     .realm("invoices")
///     .issuer(
///         Issuer::new("https://auth.example.com")
///             .secret("an HMAC secret of at least 32 bytes!!")
///             .audience("invoices-api")
///             .roles_claim("/realm_access/roles"),
///     )
///     .leeway(Duration::from_secs(10))
///     .max_lifetime(Duration::from_secs(3600))
///     .build()?;
/// # Ok::<(), authgate::ConfigError>(())
/// ```
#[must_use]
pub struct GateBuilder {
    realm: String,
    issuers: Vec<Issuer>,
    problems: Vec<ConfigProblem>,
    /// The limits every issuer's rules take: leeway, lifetime, size.
    limits: Rules,
    clock: Clock,
    hook: Option<Hook>,
    sessions: Option<Sessions>,
    revocations: Option<Revocations>,
    token_cache_bytes: usize,
    /// Seconds an issued access token lives.
    token_lifetime: u64,
    refresh: Option<RefreshTokens>,
    #[cfg(feature = "oidc")]
    key_refresh: KeyRefresh,
}

impl GateBuilder {
    pub(super) fn new() -> GateBuilder {
        GateBuilder {
            realm: "api".to_owned(),
            issuers: Vec::new(),
            problems: Vec::new(),
            limits: Rules::default(),
            clock: Clock::System,
            hook: None,
            sessions: None,
            revocations: None,
            token_cache_bytes: cache::DEFAULT_MAX_BYTES,
            token_lifetime: 15 * 60,
            refresh: None,
            #[cfg(feature = "oidc")]
            key_refresh: KeyRefresh::default(),
        }
    }

    /// Accepts bearer tokens of this issuer, verified with its keys and checked with its
    /// rules. Call it once per issuer; a token whose `iss` names none of them is refused
    /// (401). The issuer with a signing key is the one the Gate issues its own tokens as.
    pub fn issuer(mut self, mut issuer: Issuer) -> Self {
        // Reported in the order of the calls, with the builder's own problems.
        issuer.reported = !issuer.problems.is_empty();
        self.problems.append(&mut issuer.problems);
        self.issuers.push(issuer);
        self
    }

    /// Accepts session cookies: server-side sessions in a store, or stateless signed cookies.
    /// A bearer token still wins when a request presents both.
    pub fn sessions(mut self, sessions: Sessions) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// Makes bearer tokens and stateless cookies revocable on every instance
    /// ([`Gate::revoke_user`], [`Gate::logout`], [`Gate::revoke_token_id`]), through a
    /// shared store whose change feed keeps a local view current. Requests that present such
    /// a credential answer 503 while that view is not current (see [`Revocations`]), and
    /// JWTs without `iat` are refused.
    pub fn revocations(mut self, revocations: Revocations) -> Self {
        self.revocations = Some(revocations);
        self
    }

    /// Issues refresh tokens with the access tokens of [`Gate::issue`], exchanged with
    /// [`Gate::refresh`]. Needs an issuer with a signing key and
    /// [`revocations`](Self::revocations): a reused refresh token ends the subject's access
    /// tokens.
    pub fn refresh_tokens(mut self, refresh: RefreshTokens) -> Self {
        self.refresh = Some(refresh);
        self
    }

    /// How long the access tokens this Gate issues live (default 15 minutes; at most
    /// [`max_lifetime`](Self::max_lifetime)).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime.as_secs();
        self
    }

    /// Clock skew allowed on `exp`, `nbf` and `iat` (default 30 s, at most 5 min).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        if leeway > Duration::from_secs(300) {
            self.problems.push(ConfigProblem::LeewayTooLong { leeway });
        }
        self.limits.leeway = leeway.as_secs();
        self
    }

    /// The longest lifetime a token may have: `exp` further than this from now (or from `iat`)
    /// is refused (default 24 h).
    pub fn max_lifetime(mut self, lifetime: Duration) -> Self {
        if lifetime.as_secs() == 0 {
            self.problems.push(ConfigProblem::ZeroLimit {
                setting: "max_lifetime",
            });
        }
        self.limits.max_lifetime = lifetime.as_secs();
        self
    }

    /// The largest token accepted, in bytes (default 8 KiB). Larger ones are refused unread.
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        if bytes == 0 {
            self.problems.push(ConfigProblem::ZeroLimit {
                setting: "max_token_bytes",
            });
        }
        self.limits.max_token_bytes = bytes;
        self
    }

    /// How many bytes of verified tokens and their claims are cached (default 32 MiB; `0`
    /// turns the cache off). When full, entries not used lately make room.
    ///
    /// A bearer token or stateless session cookie seen before is then not verified again
    /// until it expires (by this Gate's clock and leeway) or its issuer's keys change; roles,
    /// scopes, CSRF, ownership and revocations are still checked on every request.
    /// Server-side sessions are always read from their store.
    pub fn token_cache(mut self, max_bytes: usize) -> Self {
        self.token_cache_bytes = max_bytes;
        self
    }

    /// How keys fetched from issuers are kept current, for every issuer of
    /// [`Issuer::discover`] and [`Issuer::jwks`] (feature `oidc`; see [`KeyRefresh`] for the
    /// defaults).
    #[cfg(feature = "oidc")]
    pub fn key_refresh(mut self, refresh: KeyRefresh) -> Self {
        self.key_refresh = refresh;
        self
    }

    /// The realm named in `WWW-Authenticate` challenges (default `api`).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Renders every refusal with this function instead of the default JSON, for example
    /// as `application/problem+json` or an HTML page. The status, `WWW-Authenticate`,
    /// `Location` and `Cache-Control: no-store` are set by authgate afterwards, so the hook
    /// cannot get the protocol wrong.
    ///
    /// ```
    /// use authgate::{Gate, Rejection};
    /// use authgate::issuers::Issuer;
    /// use axum::response::{Html, IntoResponse};
    ///
    /// let gate = Gate::builder()
    ///     .issuer(Issuer::new("https://auth.example.com").secret([7u8; 32]))
    ///     .render_rejection(|r: &Rejection| Html(format!("<h1>{}</h1>", r.message())).into_response())
    ///     .build()?;
    /// # Ok::<(), authgate::ConfigError>(())
    /// ```
    pub fn render_rejection<F>(mut self, render: F) -> Self
    where
        F: Fn(&Rejection) -> Response + Send + Sync + 'static,
    {
        self.hook = Some(Arc::new(render));
        self
    }

    /// Replaces the clock, for tests of expiry. Times are read in whole seconds.
    ///
    /// The default is the system's real-time clock; on Linux its coarse variant, which the
    /// kernel updates every few milliseconds and which costs a fraction of the precise one.
    pub fn clock<F>(mut self, now: F) -> Self
    where
        F: Fn() -> SystemTime + Send + Sync + 'static,
    {
        self.clock = Clock::Custom(Arc::new(now));
        self
    }

    /// Checks the configuration and builds the Gate, or says what to change: every problem
    /// at once, in one [`ConfigError`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use authgate::{ConfigProblem, Gate};
    /// use authgate::issuers::Issuer;
    ///
    /// let err = Gate::builder()
    ///     .issuer(Issuer::new("https://a.example.com").secret("short"))
    ///     .issuer(Issuer::new("https://b.example.com"))
    ///     .issuer(Issuer::new("https://b.example.com").secret("an HMAC secret of at least 32 bytes!!"))
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(err.problems(), [
    ///     ConfigProblem::WeakSecret { .. },
    ///     ConfigProblem::NoKeys { .. },
    ///     ConfigProblem::DuplicateIssuer { .. },
    /// ]));
    /// ```
    pub fn build(self) -> Result<Gate, ConfigError> {
        let GateBuilder {
            realm,
            issuers,
            mut problems,
            limits,
            clock,
            hook,
            sessions,
            revocations,
            token_cache_bytes,
            token_lifetime,
            refresh,
            #[cfg(feature = "oidc")]
            key_refresh,
        } = self;
        if issuers.is_empty() && sessions.is_none() {
            problems.push(ConfigProblem::NothingAccepted);
        }
        if token_lifetime == 0 {
            problems.push(ConfigProblem::ZeroLimit {
                setting: "token_lifetime",
            });
        }
        if token_lifetime > limits.max_lifetime {
            problems.push(ConfigProblem::TokenLifetimeTooLong {
                lifetime: Duration::from_secs(token_lifetime),
                max_lifetime: Duration::from_secs(limits.max_lifetime),
            });
        }
        let built = Limits {
            rules: &limits,
            token_lifetime,
            #[cfg(feature = "oidc")]
            refresh: &key_refresh,
        };
        let (issuers, signer) = Issuers::build(issuers, &built, &mut problems);
        if let Some(refresh) = &refresh {
            if signer.is_none() {
                problems.push(ConfigProblem::Missing {
                    setting: "an issuer with a signing key (Issuer::secret or Issuer::signing_key)",
                    needed_by: "refresh tokens",
                });
            }
            if revocations.is_none() {
                problems.push(ConfigProblem::Missing {
                    setting: "revocations (a reused refresh token ends the subject's tokens)",
                    needed_by: "refresh tokens",
                });
            }
            if refresh.idle_timeout == 0 || refresh.absolute_lifetime == 0 {
                problems.push(ConfigProblem::ZeroLimit {
                    setting: "refresh token timeouts",
                });
            }
        }
        if let Some(sessions) = &sessions {
            problems.extend(sessions.problems());
            let lifetime = sessions.idle_timeout.min(sessions.absolute_lifetime);
            if matches!(sessions.kind, SessionKind::Stateless(_)) && lifetime > limits.max_lifetime
            {
                problems.push(ConfigProblem::SessionLifetimeTooLong {
                    lifetime: Duration::from_secs(lifetime),
                    max_lifetime: Duration::from_secs(limits.max_lifetime),
                });
            }
        }
        if let Some(error) = ConfigError::from_problems(problems) {
            return Err(error);
        }
        let cookie_rules = Rules {
            leeway: limits.leeway,
            max_lifetime: limits.max_lifetime,
            max_token_bytes: limits.max_token_bytes,
            ..Rules::default()
        };
        let csrf = sessions
            .as_ref()
            .map_or_else(Csrf::default, |s| s.csrf.clone());
        let gate = Gate {
            inner: Arc::new(Inner {
                render: Render::new(&realm, hook),
                issuers,
                limits,
                cookie_rules,
                clock,
                sessions,
                csrf,
                cache: TokenCache::new(token_cache_bytes),
                revocations,
                signer,
                refresh,
            }),
        };
        // Inside a runtime the view and the issuers' keys start loading now; otherwise at the
        // first request that needs them (or `Gate::ready`).
        if let Some(revocations) = &gate.inner.revocations {
            revocations.start(&gate.inner.clock);
        }
        gate.inner.issuers.start();
        Ok(gate)
    }
}
