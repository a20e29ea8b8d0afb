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
use tower::util::MapRequestLayer;
use tower::{Layer, Service};

use crate::credentials::{CredentialKind, Kinds, narrow};
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
    /// The credential kinds every route of this router accepts ([`Router::accepting`]).
    kinds: Kinds,
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
            kinds: Kinds::ALL,
        }
    }

    /// An empty router whose routes accept only these kinds of credential, whatever else
    /// their Gate accepts: a credential of another kind is not examined, as if the request
    /// did not carry it. Every route that reaches this router (`route`, `nest`, `merge`,
    /// `fallback`) is narrowed, and the audit and the OpenAPI document show it.
    ///
    /// The pages of an app that also serves an API take session cookies only, so a bearer
    /// token (which skips the origin check) is no way into them; the API takes bearer tokens
    /// only, so a browser's cookie gives it no identity:
    ///
    /// ```
    /// use authgate::{CredentialKind, Gate, Router, require_auth, routing::get};
    ///
    /// #[require_auth(redirect = "/login")]
    /// async fn dashboard() -> &'static str { "<h1>Dashboard</h1>" }
    /// #[require_auth]
    /// async fn invoices() -> &'static str { "[]" }
    ///
    /// let pages = Router::accepting(&[CredentialKind::Cookie]).route("/dashboard", get(dashboard));
    /// let api = Router::accepting(&[CredentialKind::Bearer]).route("/invoices", get(invoices));
    /// let app: Router<Gate> = Router::new().merge(pages).nest("/api", api);
    /// let lines: Vec<String> = app.audit().iter().map(|route| route.to_string()).collect();
    /// assert_eq!(lines, [
    ///     "GET /dashboard require_auth [redirect: /login] [credentials: cookie]",
    ///     "GET /api/invoices require_auth [credentials: bearer]",
    /// ]);
    /// ```
    ///
    /// A handler narrows its own kinds with `credentials = ".."` on its attribute; a route
    /// accepts what both allow. An empty list accepts nothing: every guarded route of the
    /// router refuses every request.
    pub fn accepting(kinds: &[CredentialKind]) -> Self {
        Router {
            kinds: Kinds::of(kinds),
            ..Router::new()
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
            let policy = policy.narrowed(self.kinds);
            self.routes
                .push(RoutePolicy::new(method, path.to_owned(), policy, handler));
        }
        let mut inner = S::method_router(method_router.inner);
        if let Some(narrowing) = narrowing(self.kinds) {
            inner = inner.layer(narrowing);
        }
        self.inner = self.inner.route(path, inner);
        self
    }

    /// Nests another authgate router under `prefix`; its routes keep their policies and show
    /// in the audit with their full path.
    pub fn nest(mut self, prefix: &str, router: Router<S>) -> Self {
        let prefix = prefix.trim_end_matches('/');
        let (inner, routes) = self.adopt(router);
        self.routes
            .extend(routes.into_iter().map(|route| route.nested(prefix)));
        self.inner = self.inner.nest(prefix, inner);
        self
    }

    /// Merges the routes of another authgate router.
    pub fn merge(mut self, other: Router<S>) -> Self {
        let (inner, routes) = self.adopt(other);
        self.routes.extend(routes);
        self.inner = self.inner.merge(inner);
        self
    }

    /// Another router's routes, narrowed to this router's credential kinds.
    fn adopt(&self, other: Router<S>) -> (axum::Router<S>, Vec<RoutePolicy>) {
        let routes = other
            .routes
            .into_iter()
            .map(|route| route.narrowed(self.kinds))
            .collect();
        let inner = match narrowing(self.kinds) {
            Some(narrowing) => other.inner.layer(narrowing),
            None => other.inner,
        };
        (inner, routes)
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
        let spec = <T::First as AccessGuard>::SPEC.narrowed(self.kinds);
        let name = <T::First as AccessGuard>::HANDLER;
        self.routes
            .push(RoutePolicy::new("*", "*".to_owned(), spec, name));
        let handler = Narrowed {
            handler: Renew(OnEveryMethod(handler)),
            kinds: self.kinds,
        };
        self.inner = S::fallback(self.inner, handler);
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
            kinds: self.kinds,
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
            kinds: self.kinds,
        }
    }

    /// Provides the state; the result needs no more (`Router<()>` when `S2` is inferred).
    pub fn with_state<S2>(self, state: S) -> Router<S2> {
        Router {
            inner: self.inner.with_state(state),
            routes: self.routes,
            kinds: self.kinds,
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

/// The layer that leaves a router's kinds in each request, when they narrow anything.
fn narrowing(kinds: Kinds) -> Option<MapRequestLayer<impl Fn(Request) -> Request + Clone>> {
    (!kinds.is_all()).then(|| {
        MapRequestLayer::new(move |mut request: Request| {
            narrow(request.extensions_mut(), kinds);
            request
        })
    })
}

/// A fallback of a narrowing router: its requests carry the router's credential kinds.
#[derive(Clone)]
struct Narrowed<H> {
    handler: H,
    kinds: Kinds,
}

impl<H, T, S> Handler<T, S> for Narrowed<H>
where
    H: Handler<T, S>,
{
    type Future = H::Future;

    fn call(self, mut request: Request, state: S) -> Self::Future {
        narrow(request.extensions_mut(), self.kinds);
        self.handler.call(request, state)
    }
}
