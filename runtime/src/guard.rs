//! The guard extractor the attributes inject, and `CurrentUser`, which reads what it found.
//!
//! `#[require_role("admin")]` rewrites
//!
//! ```text
//! async fn list_users(State(db): State<Db>) -> Json<Vec<User>>
//! ```
//!
//! into (in spirit)
//!
//! ```text
//! async fn list_users(_guard: Guard<__authgate_policy_list_users>, State(db): State<Db>) -> ..
//! ```
//!
//! axum runs extractors in argument order, so the guard runs before `Path`, `Query`, `Json` or
//! `Form` is parsed and before the body is read: an anonymous request with a malformed body
//! gets 401, not 400 or 422.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{FromRef, FromRequestParts, MatchedPath, OptionalFromRequestParts};
use axum::response::Response;
use http::request::Parts;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::gate::Gate;
use crate::ownership::OwnerId;
use crate::policy::{Policy, PolicySpec};
use crate::principal::{AuthState, CredentialKind, Principal};
use crate::reject::RejectionKind;
use crate::verify::Invalid;

/// The access check of one handler, as an extractor. The attributes inject it as the
/// handler's first argument; you do not write it yourself.
///
/// It reads the [`Gate`] from state (`Gate: FromRef<S>`), verifies the credential, checks the
/// policy `P`, and leaves the verified caller in the request for [`CurrentUser`].
pub struct Guard<P: Policy> {
    inner: Checked,
    policy: PhantomData<fn() -> P>,
}

/// What a guard found, whatever its policy. One type for every handler, so the future that
/// produces it, its poll code and its drop glue are compiled once, not once per handler.
struct Checked {
    gate: Gate,
    principal: Option<Arc<Principal>>,
    /// The method and route template, for the ownership check's log event.
    request: Option<(http::Method, Option<MatchedPath>)>,
}

impl<P: Policy> Guard<P> {
    /// The policy this guard enforces.
    pub const SPEC: &'static PolicySpec = P::SPEC;

    /// The ownership check of `#[owned_by]`, run by the generated code before the first
    /// statement of the handler body. Passes the owner and the declared bypass roles;
    /// anyone else gets the rejection of the policy (404 by default).
    #[doc(hidden)]
    #[allow(clippy::result_large_err)] // the rejection path; boxing would cost the happy path nothing but read worse
    pub fn check_owner<T: OwnerId + ?Sized>(&self, owner: &T) -> Result<(), Response> {
        // Generic over the handler's policy and the owner's type, so compiled once per
        // `#[owned_by]` handler: only the comparison is left here.
        self.inner
            .check_owner(P::SPEC, P::HANDLER, &|subject| owner.is_subject(subject))
    }
}

impl Checked {
    /// [`Guard::check_owner`] for any policy; `owns` compares the owner id with a subject.
    #[allow(clippy::result_large_err)] // as in Guard::check_owner
    fn check_owner(
        &self,
        spec: &'static PolicySpec,
        handler: &'static str,
        owns: &dyn Fn(&str) -> bool,
    ) -> Result<(), Response> {
        let Some(rule) = spec.ownership else {
            return Ok(());
        };
        let Checked {
            gate,
            principal,
            request,
        } = self;
        let (method, route) = match request {
            Some((method, route)) => (
                method.as_str(),
                route.as_ref().map_or("<fallback>", MatchedPath::as_str),
            ),
            None => ("", "<fallback>"),
        };
        let Some(principal) = principal else {
            // The macros never emit ownership without authentication; fail closed regardless.
            return Err(gate.rejection(RejectionKind::NotFound));
        };
        if owns(&principal.subject) {
            return Ok(());
        }
        if rule
            .bypass
            .is_some_and(|roles| roles.is_met_by(&principal.roles))
        {
            tracing::info!(target: "authgate", method, route, handler,
                policy = %spec, outcome = "allowed", reason = "ownership_bypass_role",
                "access decision");
            return Ok(());
        }
        let (kind, outcome) = if rule.status == 403 {
            (
                RejectionKind::Forbidden {
                    bearer: false,
                    scopes: None,
                },
                "forbidden",
            )
        } else {
            (RejectionKind::NotFound, "not_found")
        };
        tracing::info!(target: "authgate", method, route, handler, policy = %spec,
            outcome, reason = "not_owner", "access decision");
        Err(gate.rejection(kind))
    }
}

impl<P: Policy> fmt::Debug for Guard<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guard({})", P::SPEC)
    }
}

impl<P, S> FromRequestParts<S> for Guard<P>
where
    P: Policy,
    Gate: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    // The per-handler part is only this thin future: `authorize` and `checked` are the same
    // code for every policy. (Written as an `async fn`, each handler also got its own copies
    // of the `?`, the closure and more drop glue.)
    //
    // The decision is taken before the future is built whenever it needs no waiting (the
    // Gate's own keys, no server-side session): the future then only carries the result, not
    // the state of the whole check, which axum moves into the handler's boxed future on every
    // request. The rest (a key source, a session store) is boxed: one allocation on a path
    // that waits for I/O anyway.
    fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> impl Future<Output = Result<Self, Response>> + Send {
        let gate = Gate::from_ref(state);
        let now = gate.authorize_now(parts, P::SPEC, P::HANDLER, P::SHARES_CALLER);
        async move {
            let decided = match now {
                Some(decided) => decided,
                None => {
                    Box::pin(gate.authorize(parts, P::SPEC, P::HANDLER, P::SHARES_CALLER)).await
                }
            };
            match decided {
                Ok(principal) => Ok(Guard {
                    inner: checked(gate, parts, P::SPEC, principal),
                    policy: PhantomData,
                }),
                Err(rejection) => Err(rejection),
            }
        }
    }
}

/// What an authorized request leaves for `check_owner`, for any policy.
fn checked(
    gate: Gate,
    parts: &Parts,
    spec: &'static PolicySpec,
    principal: Option<Arc<Principal>>,
) -> Checked {
    // Only an ownership check logs after the guard; other handlers skip the copies.
    let request = spec.ownership.map(|_| {
        (
            parts.method.clone(),
            parts.extensions.get::<MatchedPath>().cloned(),
        )
    });
    Checked {
        gate,
        principal,
        request,
    }
}

/// The verified caller of a guarded handler, with its claims typed as `C`.
///
/// Subject, roles and scopes come from the verified credential only, never from the body,
/// the query or a header the client controls. `C` is any `Deserialize` struct of your claims;
/// it is deserialized once per request. `CurrentUser` dereferences to `C`.
///
/// ```
/// use authgate::{CurrentUser, require_auth};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct MyClaims {
///     sub: String,
///     tenant: String,
/// }
///
/// #[require_auth]
/// async fn whoami(user: CurrentUser<MyClaims>) -> String {
///     format!("{} of {} (roles: {:?})", user.subject(), user.tenant, user.roles())
/// }
/// ```
///
/// In a handler without a guard it answers 500 and logs the configuration error: it never
/// yields an anonymous user. On `#[public]` routes use `Option<CurrentUser>`, which is `None`
/// for anonymous callers and still answers 401 to a presented but invalid credential.
pub struct CurrentUser<C = Claims> {
    principal: Arc<Principal>,
    claims: C,
}

impl<C> CurrentUser<C> {
    /// The verified subject (`sub`).
    pub fn subject(&self) -> &str {
        &self.principal.subject
    }

    /// The subject parsed as the app's id type, for scoping queries to the caller:
    /// `let id: i64 = user.id()?;`. A subject that does not parse is an error, never a
    /// default id.
    pub fn id<T: std::str::FromStr>(&self) -> Result<T, T::Err> {
        self.principal.subject.parse()
    }

    /// The verified roles, exactly as the credential carries them.
    pub fn roles(&self) -> &[String] {
        &self.principal.roles
    }

    /// The verified scopes.
    pub fn scopes(&self) -> &[String] {
        &self.principal.scopes
    }

    /// Whether the caller holds this role (exact, case-sensitive).
    pub fn has_role(&self, role: &str) -> bool {
        self.principal.roles.iter().any(|r| r == role)
    }

    /// Whether the caller holds this scope (exact, case-sensitive).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.principal.scopes.iter().any(|s| s == scope)
    }

    /// When the credential expires.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.principal.expires_at)
    }

    /// When the credential was issued, if it says (`iat`).
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.principal
            .issued_at
            .map(|t| UNIX_EPOCH + Duration::from_secs(t))
    }

    /// The server-side session id, when the caller authenticated with a session cookie.
    pub(crate) fn session_id(&self) -> Option<&str> {
        self.principal.session_id.as_deref()
    }

    /// Where the credential came from.
    pub fn credential(&self) -> CredentialKind {
        self.principal.credential
    }

    /// The typed claims.
    pub fn claims(&self) -> &C {
        &self.claims
    }

    /// The typed claims, by value.
    pub fn into_claims(self) -> C {
        self.claims
    }
}

impl<C> Deref for CurrentUser<C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.claims
    }
}

impl<C> fmt::Debug for CurrentUser<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Claims may hold personal data: print what identifies the caller and nothing more.
        f.debug_struct("CurrentUser")
            .field("subject", &self.principal.subject)
            .field("roles", &self.principal.roles)
            .field("scopes", &self.principal.scopes)
            .finish_non_exhaustive()
    }
}

/// The default claims: the registered ones, and every other claim in `extra`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Claims {
    /// Subject.
    pub sub: String,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Every other claim (`aud`, `exp`, `roles`, custom ones).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl<C: DeserializeOwned> CurrentUser<C> {
    fn from_principal(principal: Arc<Principal>) -> Result<Self, Invalid> {
        let claims = serde_json::from_str(&principal.claims).map_err(|_| Invalid::ClaimType)?;
        Ok(CurrentUser { principal, claims })
    }
}

impl<C, S> FromRequestParts<S> for CurrentUser<C>
where
    C: DeserializeOwned + Send + Sync + 'static,
    Gate: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let gate = Gate::from_ref(state);
        match parts.extensions.get::<AuthState>() {
            Some(AuthState::User(principal)) => CurrentUser::from_principal(principal.clone())
                .map_err(|_| claims_mismatch(&gate, parts)),
            Some(AuthState::Public) => Err(gate.misconfigured(
                parts,
                "CurrentUser in a #[public] handler: use Option<CurrentUser> there",
            )),
            None => Err(gate.misconfigured(
                parts,
                "CurrentUser found no verified caller: the handler has no authgate guard (add \
                 #[require_auth] or another policy attribute), or an extractor of the app's own \
                 named like an axum one (Json, Query, ..) reads CurrentUser (write its type \
                 with its module path, e.g. extract::Json)",
            )),
        }
    }
}

impl<C, S> OptionalFromRequestParts<S> for CurrentUser<C>
where
    C: DeserializeOwned + Send + Sync + 'static,
    Gate: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Response> {
        let gate = Gate::from_ref(state);
        if let Some(AuthState::User(principal)) = parts.extensions.get::<AuthState>() {
            return CurrentUser::from_principal(principal.clone())
                .map(Some)
                .map_err(|_| claims_mismatch(&gate, parts));
        }
        const OPTIONAL: PolicySpec = PolicySpec::public("Option<CurrentUser>");
        match gate.authenticate_shared(parts).await {
            Ok(None) => Ok(None),
            Ok(Some(principal)) => {
                let user = CurrentUser::from_principal(principal.clone())
                    .map_err(|_| claims_mismatch(&gate, parts))?;
                parts.extensions.insert(AuthState::User(principal));
                Ok(Some(user))
            }
            Err(failure) => Err(gate.deny(parts, &OPTIONAL, "Option<CurrentUser>", failure)),
        }
    }
}

/// The token verified but its claims do not fit the app's claims type: for this app it is not
/// a usable credential.
fn claims_mismatch(gate: &Gate, parts: &Parts) -> Response {
    tracing::info!(target: "authgate", route = crate::gate::route(parts), reason = "claims_shape",
        "verified claims do not match the CurrentUser claims type");
    gate.rejection(RejectionKind::InvalidToken)
}
