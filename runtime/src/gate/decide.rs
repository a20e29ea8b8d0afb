//! The decision: a policy applied to what authentication found (roles, scopes; CSRF ran
//! during authentication), the log event of every decision, and the one rendered rejection of
//! every refusal.

use std::sync::Arc;

use axum::extract::MatchedPath;
use axum::response::Response;
use http::request::Parts;

use super::Gate;
use super::authenticate::Step;
use super::failure::Failure;
use crate::credentials::{Kinds, router_kinds};
use crate::policy::PolicySpec;
use crate::policy::spec::all_met;
use crate::principal::{Caller, CredentialKind, Principal, PublicRoute};
use crate::reject::{Rejection, RejectionKind};
use crate::sessions::{self, login_location};
use crate::verify::Invalid;

impl Gate {
    /// The guard's whole decision for one request: authenticate, check roles and scopes,
    /// leave the principal in the request for `CurrentUser` and `Load`, and log the outcome.
    /// `Ok` holds the principal again when the policy has an ownership check, which runs in
    /// the handler body.
    pub(crate) async fn authorize(
        &self,
        parts: &mut Parts,
        spec: &'static PolicySpec,
        handler: &'static str,
    ) -> Result<Option<Arc<Principal>>, Response> {
        if !spec.requires_authentication() {
            return Ok(self.public(parts, spec, handler));
        }
        let authenticated = self.authenticate_shared(parts, kinds(parts, spec)).await;
        self.decide(parts, spec, handler, authenticated)
    }

    /// [`authorize`](Gate::authorize) when it needs no waiting (`None` otherwise): with the
    /// Gate's own keys, always, unless the credential is a server-side session. The guard
    /// calls this first, so on the hot path no asynchronous state is built at all.
    pub(crate) fn authorize_now(
        &self,
        parts: &mut Parts,
        spec: &'static PolicySpec,
        handler: &'static str,
    ) -> Option<Result<Option<Arc<Principal>>, Response>> {
        if !spec.requires_authentication() {
            return Some(Ok(self.public(parts, spec, handler)));
        }
        let authenticated = match self.authenticate_now(parts, kinds(parts, spec)) {
            Step::Done(result) => result,
            Step::NeedsKeys(_) | Step::NeedsStore(_) => return None,
        };
        Some(self.decide(parts, spec, handler, authenticated))
    }

    /// A `#[public]` handler: nothing is examined.
    fn public(
        &self,
        parts: &mut Parts,
        spec: &'static PolicySpec,
        handler: &'static str,
    ) -> Option<Arc<Principal>> {
        parts.extensions.insert(PublicRoute);
        log(parts, spec, handler, "public", "public");
        None
    }

    /// The decision on an authenticated (or not) request: roles, scopes, the log event, and
    /// the caller left in the request (and returned for an ownership check).
    #[allow(clippy::result_large_err)] // the response is the rejection; `authorize` returns it as is
    fn decide(
        &self,
        parts: &mut Parts,
        spec: &'static PolicySpec,
        handler: &'static str,
        authenticated: Result<Option<Arc<Principal>>, Failure>,
    ) -> Result<Option<Arc<Principal>>, Response> {
        let principal = match authenticated {
            Ok(Some(principal)) => principal,
            Ok(None) => return Err(self.deny(parts, spec, handler, Failure::Missing)),
            Err(failure) => return Err(self.deny(parts, spec, handler, failure)),
        };
        let bearer = principal.credential == CredentialKind::Bearer;
        if !all_met(spec.roles(), &principal.roles) {
            return Err(self.deny(parts, spec, handler, Failure::Role { bearer }));
        }
        if !all_met(spec.scopes(), &principal.scopes) {
            return Err(self.deny(parts, spec, handler, Failure::Scope { bearer }));
        }
        log(parts, spec, handler, "allowed", "ok");
        // Moved into the request, not shared, unless the ownership check needs it too.
        let kept = spec.ownership().map(|_| principal.clone());
        parts.extensions.insert(Caller { principal, spec });
        Ok(kept)
    }

    /// A refused session cookie on a route that welcomes anonymous visitors: the visitor is
    /// anonymous, and the response clears the cookie (see `sessions::forget_dead_cookie`).
    pub(crate) fn forget_dead_cookie(&self, parts: &Parts, invalid: &Invalid) {
        tracing::info!(target: "authgate", route = %route(parts), reason = invalid.as_str(),
            "a session cookie that stands for no session: the visitor is anonymous and the cookie is cleared");
        if let Some(sessions) = &self.inner.sessions {
            sessions::forget_dead_cookie(sessions);
        }
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
                if spec.redirect().is_some() =>
            {
                RejectionKind::Redirect {
                    location: login_location(
                        spec.redirect().unwrap_or("/"),
                        parts,
                        &self.inner.csrf,
                    ),
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
                    spec.scopes()
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
        let rejection = self.inner.render.rejection(kind);
        let outcome = rejection.code();
        if let Failure::Unavailable(detail) = &failure {
            tracing::error!(target: "authgate", route = %route(parts), handler, error = %detail,
                "credential verification unavailable");
        }
        log(parts, spec, handler, outcome, reason);
        self.render_for(spec, rejection)
    }

    /// The 500 answer for `CurrentUser` in a handler with no guard.
    pub(crate) fn misconfigured(&self, parts: &Parts, what: &'static str) -> Response {
        tracing::error!(target: "authgate", route = %route(parts), problem = what,
            "authgate is misconfigured");
        self.inner.render.kind(RejectionKind::Misconfigured)
    }

    /// Renders a rejection of this kind for a handler with this policy (see `render_for`).
    pub(crate) fn rejection_for(&self, spec: &PolicySpec, kind: RejectionKind) -> Response {
        self.render_for(spec, self.inner.render.rejection(kind))
    }

    /// Renders a refusal of a handler with this policy: as a page when the handler is one
    /// (`redirect = "/login"`), else as the API answer.
    pub(crate) fn render_for(&self, spec: &PolicySpec, rejection: Rejection) -> Response {
        if spec.redirect().is_some() {
            self.inner.render.render_page(&rejection.for_page())
        } else {
            self.inner.render.render(&rejection)
        }
    }
}

/// The credential kinds a request to a handler with this policy may present: those of the
/// policy, narrowed by the router's.
#[inline]
fn kinds(parts: &Parts, spec: &PolicySpec) -> Kinds {
    spec.credentials().and(router_kinds(&parts.extensions))
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
