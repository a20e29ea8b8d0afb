//! The extractors: the [`Guard`] the attributes inject, which runs the Gate's check first, and
//! [`CurrentUser`], which reads the caller the guard left in the request.
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
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, MatchedPath, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::credentials::router_kinds;
use crate::gate::{self, Failure, Gate};
use crate::policy::PolicySpec;
use crate::policy::spec::Policy;
use crate::principal::{Caller, CurrentUser, Principal, PublicRoute};
use crate::reject::RejectionKind;
use crate::resource::OwnerId;
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
        let Some(rule) = spec.ownership() else {
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
            return Err(gate.rejection_for(spec, RejectionKind::NotFound));
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
        Err(gate.rejection_for(spec, kind))
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
    // code for every policy.
    //
    // The decision is taken before the future is built whenever it needs no waiting (the
    // Gate's own keys, no server-side session), so the future carries only the result, not
    // the state of the whole check. The rest (a key source, a session store) is boxed: one
    // allocation on a path that waits for I/O anyway.
    fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> impl Future<Output = Result<Self, Response>> + Send {
        let gate = Gate::from_ref(state);
        let now = gate.authorize_now(parts, P::SPEC, P::HANDLER);
        async move {
            let decided = match now {
                Some(decided) => decided,
                None => Box::pin(gate.authorize(parts, P::SPEC, P::HANDLER)).await,
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
    let request = spec.ownership().map(|_| {
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
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return CurrentUser::from_principal(caller.principal.clone())
                .map_err(|_| claims_mismatch(&gate, parts, caller.spec));
        }
        match parts.extensions.get::<PublicRoute>() {
            Some(PublicRoute) => Err(gate.misconfigured(
                parts,
                "CurrentUser in a #[public] handler: use Option<CurrentUser> there",
            )),
            None => Err(gate.misconfigured(
                parts,
                "CurrentUser found no verified caller: the handler has no authgate guard (add \
                 #[require_auth] or another policy attribute)",
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
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return CurrentUser::from_principal(caller.principal.clone())
                .map(Some)
                .map_err(|_| claims_mismatch(&gate, parts, caller.spec));
        }
        const OPTIONAL: PolicySpec = PolicySpec::public("Option<CurrentUser>");
        let kinds = router_kinds(&parts.extensions);
        match gate.authenticate_shared(parts, kinds).await {
            Ok(None) => Ok(None),
            Ok(Some(principal)) => {
                let user = CurrentUser::from_principal(principal.clone())
                    .map_err(|_| claims_mismatch(&gate, parts, &OPTIONAL))?;
                parts.extensions.insert(Caller {
                    principal,
                    spec: &OPTIONAL,
                });
                Ok(Some(user))
            }
            // A dead session cookie on a public page (logged out elsewhere, idle, the store
            // flushed) must not break the page for good: the visitor is anonymous and the
            // cookie goes. A bad bearer token still answers 401: an API client must learn it.
            Err(Failure::Token(invalid)) if gate.examined_the_cookie(parts, kinds) => {
                gate.forget_dead_cookie(parts, &invalid);
                Ok(None)
            }
            Err(failure) => Err(gate.deny(parts, &OPTIONAL, "Option<CurrentUser>", failure)),
        }
    }
}

/// The compile-time check of a `#[public]` handler's arguments: for each argument type `T`,
/// the attribute emits `PublicArg::<T>::new().check()` (in a function of its own, beside the
/// handler; the handler is untouched).
///
/// Method resolution decides, on the argument's type itself: for `CurrentUser<C>` (and
/// `Result<CurrentUser<C>, E>`) the inherent `check` below is found first, and its bound
/// `OnlyInGuardedHandlers` never holds, so the build fails with the fix; for every other type only the
/// trait method of [`PublicArgOk`] exists, which does nothing. Because it is the type that is
/// matched, not the name written, a renamed import or a type alias of `CurrentUser` is caught
/// too. Only a bare type parameter that a caller later sets to `CurrentUser` escapes it; that
/// still answers 500 at run time, as every `CurrentUser` without a verified caller does.
pub struct PublicArg<T>(PhantomData<fn() -> T>);

impl<T> PublicArg<T> {
    /// The check of one argument type.
    #[allow(clippy::new_without_default)] // generated code only
    pub const fn new() -> Self {
        PublicArg(PhantomData)
    }
}

impl<C> PublicArg<CurrentUser<C>> {
    /// Fails to compile: `CurrentUser` in a `#[public]` handler.
    pub fn check(self)
    where
        CurrentUser<C>: OnlyInGuardedHandlers,
    {
    }
}

impl<C, E> PublicArg<Result<CurrentUser<C>, E>> {
    /// Fails to compile: `Result<CurrentUser, _>` in a `#[public]` handler.
    pub fn check(self)
    where
        CurrentUser<C>: OnlyInGuardedHandlers,
    {
    }
}

/// The `check` of every argument type other than `CurrentUser`: nothing to check.
pub trait PublicArgOk {
    /// Passes: any other argument type.
    fn check(self);
}

impl<T> PublicArgOk for PublicArg<T> {
    fn check(self) {}
}

/// Implemented by no type: the bound that fails when a `#[public]` handler takes
/// `CurrentUser`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` in a #[public] handler: a public handler has no verified caller",
    label = "write `Option<{Self}>` here",
    note = "in a #[public] handler, `Option<CurrentUser>` is `Some` when the request carries a \
            valid credential and `None` for an anonymous caller",
    note = "or, if every caller must be signed in, replace #[public(..)] with #[require_auth]"
)]
pub trait OnlyInGuardedHandlers {}

/// The token verified but its claims do not fit the app's claims type: for this app it is not
/// a usable credential. Rendered as the route's other refusals are.
fn claims_mismatch(gate: &Gate, parts: &Parts, spec: &PolicySpec) -> Response {
    tracing::info!(target: "authgate", route = gate::route(parts), reason = "claims_shape",
        "verified claims do not match the CurrentUser claims type");
    gate.rejection_for(spec, RejectionKind::InvalidToken)
}

/// The response of a handler with `#[owned_by]`: the handler's own, or the ownership
/// rejection. The macro rewrites the return type to this; you do not name it.
pub enum Owned<R> {
    /// The handler ran.
    Handler(R),
    /// The ownership check refused the caller before the first statement.
    Rejected(Response),
}

impl<R: IntoResponse> IntoResponse for Owned<R> {
    fn into_response(self) -> Response {
        match self {
            Owned::Handler(response) => response.into_response(),
            Owned::Rejected(response) => response,
        }
    }
}
