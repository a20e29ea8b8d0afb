//! The secure-by-default router: it accepts only handlers that carry a policy.
//!
//! axum's `Handler<T, S>` carries a handler's extractor types in `T` (`(M, T1, .., Tn)`), so
//! the bound `T: HandlerArgs, T::First: AccessGuard` ([`bounds`]) proves at compile time that
//! the first extractor is an access guard, which only the policy attributes inject. A handler
//! without one fails to compile with a message that names the attributes to add.

mod audit;
pub(crate) mod bounds;
mod method;

use std::convert::Infallible;
use std::fmt;

use axum::extract::Request;
use axum::handler::Handler;
use axum::response::IntoResponse;
use axum::routing::Route;
use tower::{Layer, Service};

use crate::policy::PolicySpec;
use crate::sessions::{OnEveryMethod, Renew};
use bounds::{AccessGuard, HandlerArgs, RouterState};

pub use audit::{RouteAudit, RoutePolicy};
pub use method::{MethodRouter, routing};

/// An `axum::Router` that accepts only guarded handlers and records every route's policy.
///
/// It offers what an app needs: `route`, `nest`, `merge`, `layer`, `route_layer`,
/// `with_state`, a guarded `fallback`, `public_service` for static files, `audit()` for the
/// route audit, and `into_axum()` for `axum::serve`. Unknown paths still answer 404.
///
/// ```
/// use authgate::{CurrentUser, Gate, Router, public, require_auth, routing::get};
///
/// #[public(reason = "load-balancer health check")]
/// async fn health() -> &'static str { "ok" }
///
/// #[require_auth]
/// async fn me(user: CurrentUser) -> String { user.subject().to_owned() }
///
/// # fn main() -> Result<(), authgate::ConfigError> {
/// let gate = Gate::builder()
///     .issuer(authgate::issuers::Issuer::new("https://api.example.com").secret("an HMAC secret of at least 32 bytes!!"))
///     .build()?;
/// let app: axum::Router = Router::new()
///     .route("/health", get(health))
///     .route("/api/me", get(me))
///     .with_state(gate)
///     .into_axum();
/// # Ok(()) }
/// ```
#[must_use]
pub struct Router<S = ()> {
    inner: axum::Router<S>,
    routes: Vec<RoutePolicy>,
}

impl<S> fmt::Debug for Router<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

impl<S: Clone + Send + Sync + 'static> Default for Router<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Clone + Send + Sync + 'static> Router<S> {
    /// An empty router.
    pub fn new() -> Self {
        Router {
            inner: axum::Router::new(),
            routes: Vec::new(),
        }
    }

    /// Routes `path` to a method router of guarded handlers.
    ///
    /// `H` is the state the handlers were built for: the router's own `S`. (A parameter of
    /// its own, so that a state which does not provide the [`Gate`](crate::Gate) is reported
    /// as the missing `FromRef` it is, not as a type mismatch.)
    pub fn route<H>(mut self, path: &str, method_router: MethodRouter<H>) -> Self
    where
        S: RouterState<H>,
    {
        for (method, policy, handler) in &method_router.methods {
            self.routes
                .push(RoutePolicy::new(method, path.to_owned(), **policy, handler));
        }
        self.inner = self
            .inner
            .route(path, S::method_router(method_router.inner));
        self
    }

    /// Nests another authgate router under `prefix`; its routes keep their policies and show
    /// in the audit with their full path.
    pub fn nest(mut self, prefix: &str, router: Router<S>) -> Self {
        let prefix = prefix.trim_end_matches('/');
        self.routes
            .extend(router.routes.into_iter().map(|route| route.nested(prefix)));
        self.inner = self.inner.nest(prefix, router.inner);
        self
    }

    /// Merges the routes of another authgate router.
    pub fn merge(mut self, other: Router<S>) -> Self {
        self.routes.extend(other.routes);
        self.inner = self.inner.merge(other.inner);
        self
    }

    /// Serves a tower service at `path` without authentication, for example static files.
    /// The reason shows in the audit, as for `#[public]`.
    pub fn public_service<T>(mut self, path: &str, reason: &'static str, service: T) -> Self
    where
        T: Service<Request, Error = Infallible> + Clone + Send + Sync + 'static,
        T::Response: IntoResponse,
        T::Future: Send + 'static,
    {
        let policy = PolicySpec::public(reason);
        self.routes
            .push(RoutePolicy::new("*", path.to_owned(), policy, "service"));
        self.inner = self.inner.route_service(path, service);
        self
    }

    /// Serves a tower service for every path under `prefix` without authentication, for
    /// example a `ServeDir` of assets. The reason shows in the audit.
    pub fn public_nest_service<T>(mut self, prefix: &str, reason: &'static str, service: T) -> Self
    where
        T: Service<Request, Error = Infallible> + Clone + Send + Sync + 'static,
        T::Response: IntoResponse,
        T::Future: Send + 'static,
    {
        let path = format!("{}/*", prefix.trim_end_matches('/'));
        let policy = PolicySpec::public(reason);
        self.routes
            .push(RoutePolicy::new("*", path, policy, "service"));
        self.inner = self.inner.nest_service(prefix, service);
        self
    }

    /// Answers requests that match no route with a guarded handler. Without one, unknown
    /// paths answer 404 (not 401), as in axum.
    ///
    /// The fallback takes every method, as [`routing::any`](crate::routing::any) does, and
    /// is origin-checked the same way: a cookie credential on every method, `GET` included.
    pub fn fallback<F, T, H>(mut self, handler: F) -> Self
    where
        F: Handler<T, H>,
        T: HandlerArgs + 'static,
        T::First: AccessGuard,
        S: RouterState<H>,
    {
        let spec = <T::First as AccessGuard>::SPEC;
        let name = <T::First as AccessGuard>::HANDLER;
        self.routes
            .push(RoutePolicy::new("*", "*".to_owned(), *spec, name));
        self.inner = S::fallback(self.inner, Renew(OnEveryMethod(handler)));
        self
    }

    /// Applies a tower layer to every route (and the fallback).
    pub fn layer<L>(self, layer: L) -> Router<S>
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        Router {
            inner: self.inner.layer(layer),
            routes: self.routes,
        }
    }

    /// Applies a tower layer to the routes added so far, only when a route matched.
    pub fn route_layer<L>(self, layer: L) -> Router<S>
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        Router {
            inner: self.inner.route_layer(layer),
            routes: self.routes,
        }
    }

    /// Provides the state; the result needs no more (`Router<()>` when `S2` is inferred).
    pub fn with_state<S2>(self, state: S) -> Router<S2> {
        Router {
            inner: self.inner.with_state(state),
            routes: self.routes,
        }
    }

    /// The route audit: every route's method, full path, policy and handler, as a table
    /// (`Display`) and as JSON (`Serialize`, [`RouteAudit::to_json`]), for a CI step that
    /// diffs it so a reviewer sees every new public route.
    ///
    /// ```
    /// use authgate::{Gate, Router, public, require_role, routing::get};
    ///
    /// #[public(reason = "health check")]
    /// async fn health() -> &'static str { "ok" }
    /// #[require_role("admin")]
    /// async fn users() -> &'static str { "[]" }
    ///
    /// let app: Router<Gate> = Router::new().route("/health", get(health)).route("/admin/users", get(users));
    /// let audit = app.audit();
    /// assert_eq!(audit.to_string(), "\
    /// METHOD  PATH          POLICY                HANDLER
    /// GET     /health       public: health check  health
    /// GET     /admin/users  require_role(admin)   users
    /// ");
    /// assert!(audit.to_json().contains(r#""policy": "require_role(admin)""#));
    /// ```
    pub fn audit(&self) -> RouteAudit {
        RouteAudit::new(self.routes.clone())
    }

    #[cfg(feature = "testing")]
    pub(crate) fn clone_axum(&self) -> axum::Router<S> {
        self.inner.clone()
    }

    /// The plain `axum::Router`, for `axum::serve` or for mixing with other axum code.
    pub fn into_axum(self) -> axum::Router<S> {
        self.inner
    }
}

impl<S> From<Router<S>> for axum::Router<S> {
    fn from(router: Router<S>) -> Self {
        router.inner
    }
}
