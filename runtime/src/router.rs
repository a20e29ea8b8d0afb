//! The secure-by-default router: it accepts only handlers that carry a policy.
//!
//! axum's `Handler<T, S>` carries a handler's extractor types in `T` (`(M, T1, .., Tn)`), so
//! the bound `T: HandlerArgs, T::First: AccessGuard` proves at compile time that the first
//! extractor is an access guard, which only the policy attributes inject. A handler without
//! one fails to compile with a message that names the attributes to add.

use std::convert::Infallible;
use std::fmt;

use axum::extract::Request;
use axum::handler::Handler;
use axum::response::IntoResponse;
use axum::routing::Route;
use serde::Serialize;
use tower::{Layer, Service};

use crate::guard::Guard;
use crate::policy::{Policy, PolicySpec};

/// Implemented by access guards only: the first argument of every handler that an
/// [`authgate::Router`](crate::Router) accepts.
#[diagnostic::on_unimplemented(
    message = "handler argument `{Self}` is not an access guard: this handler has no authgate policy",
    label = "the handler passed here has no access policy",
    note = "add `#[require_auth]`, `#[require_role(\"...\")]`, `#[require_scope(\"...\")]` or \
            `#[public(reason = \"...\")]` to the handler, above `async fn`",
    note = "authgate::Router accepts only handlers with a policy, so that no route is forgotten"
)]
pub trait AccessGuard {
    /// The policy the guard enforces.
    const SPEC: &'static PolicySpec;
    /// The handler's name.
    const HANDLER: &'static str;
}

// Not offered as a suggestion in errors: users never write `Guard<P>` themselves.
#[diagnostic::do_not_recommend]
impl<P: Policy> AccessGuard for Guard<P> {
    const SPEC: &'static PolicySpec = P::SPEC;
    const HANDLER: &'static str = P::HANDLER;
}

/// The argument list of an axum handler, as axum's `Handler<T, S>` spells it; `First` is the
/// first extractor. Implemented for handlers of 0 to 16 arguments.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an async fn handler with an authgate policy",
    note = "authgate::routing accepts async fn handlers carrying `#[require_auth]`, \
            `#[require_role(..)]`, `#[require_scope(..)]` or `#[public(reason = \"...\")]`"
)]
pub trait HandlerArgs {
    /// The first extractor, or [`NoArguments`].
    type First;
}

/// The "first argument" of a handler that takes none: never an access guard.
pub struct NoArguments;

impl HandlerArgs for ((),) {
    type First = NoArguments;
}

macro_rules! handler_args {
    ($first:ident $(, $rest:ident)*) => {
        impl<M, $first, $($rest,)*> HandlerArgs for (M, $first, $($rest,)*) {
            type First = $first;
        }
    };
}
handler_args!(T1);
handler_args!(T1, T2);
handler_args!(T1, T2, T3);
handler_args!(T1, T2, T3, T4);
handler_args!(T1, T2, T3, T4, T5);
handler_args!(T1, T2, T3, T4, T5, T6);
handler_args!(T1, T2, T3, T4, T5, T6, T7);
handler_args!(T1, T2, T3, T4, T5, T6, T7, T8);
handler_args!(T1, T2, T3, T4, T5, T6, T7, T8, T9);
handler_args!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10);
handler_args!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11);
handler_args!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12);
handler_args!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13);
handler_args!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14);
handler_args!(
    T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15
);
handler_args!(
    T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15, T16
);

/// Implemented by a router's state `Self` for the state `H` its handlers were built for, which
/// must be the same type.
///
/// [`Router::route`] and [`Router::fallback`] take the handlers' state as a parameter of its
/// own and require `S: RouterState<H>`, instead of requiring the same `S` outright. The
/// difference shows when the app state does not provide the [`Gate`](crate::Gate): then the
/// only `FromRef` impl the guard can use is axum's `impl FromRef<T> for T`, the compiler infers
/// that the handlers' state is `Gate`, and with a shared `S` it reports a type mismatch
/// (`expected MethodRouter<AppState>, found MethodRouter<Gate>`) that does not say what is
/// missing. With the states apart, the mismatch is this bound's failure, and its message names
/// the `impl FromRef<AppState> for Gate` to write.
///
/// Sealed: implemented only for `H = Self`.
#[diagnostic::on_unimplemented(
    message = "the router's state `{Self}` does not provide the `{H}` its handlers read",
    label = "the handlers here read `{H}` from the state",
    note = "authgate's guards read the `Gate` from the app state through axum's `FromRef`: add \
            `impl axum::extract::FromRef<{Self}> for {H}` returning the `{H}` your state holds, \
            or `#[derive(axum::extract::FromRef)]` on `{Self}` (axum feature `macros`)"
)]
pub trait RouterState<H>: sealed::Same<H> + Sized {}

impl<S: Clone + Send + Sync + 'static> RouterState<S> for S {}

mod sealed {
    use std::convert::Infallible;

    use axum::handler::Handler;

    /// The conversions [`RouterState`](super::RouterState) allows, for `H = Self` only.
    pub trait Same<H>: Sized {
        fn method_router(
            router: axum::routing::MethodRouter<H, Infallible>,
        ) -> axum::routing::MethodRouter<Self, Infallible>;

        fn fallback<F, T>(router: axum::Router<Self>, handler: F) -> axum::Router<Self>
        where
            F: Handler<T, H>,
            T: 'static;
    }

    impl<S: Clone + Send + Sync + 'static> Same<S> for S {
        fn method_router(
            router: axum::routing::MethodRouter<S, Infallible>,
        ) -> axum::routing::MethodRouter<S, Infallible> {
            router
        }

        fn fallback<F, T>(router: axum::Router<S>, handler: F) -> axum::Router<S>
        where
            F: Handler<T, S>,
            T: 'static,
        {
            router.fallback(handler)
        }
    }
}

/// One line of the route audit: a method and full path, and the policy that guards it.
///
/// ```
/// use authgate::{Gate, Router, public, require_role, routing::get};
///
/// #[public(reason = "load-balancer health check")]
/// async fn health() -> &'static str { "ok" }
///
/// #[require_role("admin")]
/// async fn users() -> &'static str { "[]" }
///
/// let app: Router<Gate> = Router::new()
///     .route("/health", get(health))
///     .nest("/api", Router::new().route("/admin/users", get(users)));
/// let lines: Vec<String> = app.policies().iter().map(|p| p.to_string()).collect();
/// assert_eq!(lines, [
///     "GET /health public: load-balancer health check",
///     "GET /api/admin/users require_role(admin)",
/// ]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoutePolicy {
    /// `GET`, `POST`, ..., `ANY` for every method, or `*` for a fallback or service.
    pub method: &'static str,
    /// The full path template, with the prefixes of every `nest`.
    pub path: String,
    /// The policy, rendered as in the audit (`require_role(admin)`).
    #[serde(serialize_with = "display")]
    pub policy: PolicySpec,
    /// The handler's name (`users`), or `service` for a service.
    pub handler: &'static str,
}

fn display<S: serde::Serializer>(policy: &PolicySpec, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(policy)
}

impl RoutePolicy {
    /// The policy as the audit shows it: for a guarded `ANY` route, with the note that cookie
    /// credentials are origin-checked on every method there, `GET` included.
    fn policy_cell(&self) -> String {
        if self.method == "ANY" && self.policy.requires_authentication() {
            format!("{} [origin checked on every method]", self.policy)
        } else {
            self.policy.to_string()
        }
    }
}

impl fmt::Display for RoutePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.method, self.path, self.policy_cell())
    }
}

/// The route audit: every route's method, full path, policy and handler.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RouteAudit(pub Vec<RoutePolicy>);

impl RouteAudit {
    /// Pretty JSON: an array of `{"method", "path", "policy", "handler"}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.0).unwrap_or_else(|_| "[]".to_owned())
    }
}

/// An aligned table with a header row, one line per route.
impl fmt::Display for RouteAudit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<[String; 4]> = self
            .0
            .iter()
            .map(|r| {
                [
                    r.method.to_owned(),
                    r.path.clone(),
                    r.policy_cell(),
                    r.handler.to_owned(),
                ]
            })
            .collect();
        let header = ["METHOD", "PATH", "POLICY", "HANDLER"].map(str::to_owned);
        let mut widths = [0usize; 3];
        for row in std::iter::once(&header).chain(&rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            for (cell, width) in row.iter().zip(widths) {
                write!(f, "{cell:<width$}  ")?;
            }
            writeln!(f, "{}", row[3])?;
        }
        Ok(())
    }
}

/// A method router whose every handler carries a policy. Build it with the functions of
/// [`routing`](crate::routing) and chain more methods: `get(show).delete(remove)`.
#[must_use]
pub struct MethodRouter<S = ()> {
    inner: axum::routing::MethodRouter<S, Infallible>,
    methods: Vec<(&'static str, &'static PolicySpec, &'static str)>,
}

impl<S> fmt::Debug for MethodRouter<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MethodRouter")
            .field("methods", &self.methods)
            .finish_non_exhaustive()
    }
}

macro_rules! methods {
    ($($name:ident $label:literal),* $(,)?) => {
        /// Routing functions that accept only handlers carrying a policy.
        ///
        /// They mirror `axum::routing`: `get(handler)`, chainable as `get(a).post(b)`. A
        /// handler without `#[require_auth]`, `#[require_role]`, `#[require_scope]` or
        /// `#[public]` does not compile:
        ///
        /// ```compile_fail
        /// async fn unguarded() -> &'static str { "oops" }
        /// let _ = authgate::routing::get::<_, _, ()>(unguarded);
        /// ```
        pub mod routing {
            pub use crate::router::{AccessGuard, HandlerArgs, MethodRouter, NoArguments, RouterState};
            use axum::handler::Handler;

            $(
                #[doc = concat!("Routes `", $label, "` requests to a handler that carries a policy.")]
                pub fn $name<H, T, S>(handler: H) -> MethodRouter<S>
                where
                    H: Handler<T, S>,
                    T: HandlerArgs + 'static,
                    T::First: AccessGuard,
                    S: Clone + Send + Sync + 'static,
                {
                    MethodRouter::empty().$name(handler)
                }
            )*

            /// Routes requests of every method to a handler that carries a policy.
            ///
            /// Such a handler cannot tell a safe method from a state change, so a cookie
            /// credential is origin-checked (CSRF) on every method here, `GET` included: a
            /// cross-site link cannot trigger it with the user's `SameSite=Lax` cookie. The
            /// audit says so next to the policy.
            pub fn any<H, T, S>(handler: H) -> MethodRouter<S>
            where
                H: Handler<T, S>,
                T: HandlerArgs + 'static,
                T::First: AccessGuard,
                S: Clone + Send + Sync + 'static,
            {
                let every_method = tower::util::MapRequestLayer::new(|mut request: axum::extract::Request| {
                    request.extensions_mut().insert(crate::csrf::EveryMethod);
                    request
                });
                MethodRouter::guarded(
                    "ANY",
                    axum::routing::any(handler).layer(every_method),
                    <T::First as AccessGuard>::SPEC,
                    <T::First as AccessGuard>::HANDLER,
                )
            }
        }

        impl<S: Clone + Send + Sync + 'static> MethodRouter<S> {
            fn empty() -> Self {
                MethodRouter { inner: axum::routing::MethodRouter::new(), methods: Vec::new() }
            }

            pub(crate) fn guarded(
                label: &'static str,
                inner: axum::routing::MethodRouter<S, Infallible>,
                spec: &'static PolicySpec,
                handler: &'static str,
            ) -> Self {
                MethodRouter { inner, methods: vec![(label, spec, handler)] }
            }

            $(
                #[doc = concat!("Also routes `", $label, "` requests to a handler that carries a policy.")]
                pub fn $name<H, T>(mut self, handler: H) -> Self
                where
                    H: Handler<T, S>,
                    T: HandlerArgs + 'static,
                    T::First: AccessGuard,
                {
                    self.inner = self.inner.$name(handler);
                    self.methods.push(($label, <T::First as AccessGuard>::SPEC, <T::First as AccessGuard>::HANDLER));
                    self
                }
            )*
        }
    };
}

methods! {
    get "GET",
    post "POST",
    put "PUT",
    patch "PATCH",
    delete "DELETE",
    head "HEAD",
    options "OPTIONS",
}

impl<S: Clone + Send + Sync + 'static> MethodRouter<S> {
    /// Applies a tower layer to every handler of this method router.
    pub fn layer<L>(self, layer: L) -> MethodRouter<S>
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        MethodRouter {
            inner: self.inner.layer(layer),
            methods: self.methods,
        }
    }
}

/// An `axum::Router` that accepts only guarded handlers and records every route's policy.
///
/// It offers what an app needs: `route`, `nest`, `merge`, `layer`, `route_layer`,
/// `with_state`, a guarded `fallback`, `public_service` for static files, `policies()` for the
/// audit, and `into_axum()` for `axum::serve`. Unknown paths still answer 404.
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
/// # fn main() -> Result<(), authgate::GateError> {
/// let gate = Gate::builder().hs256("an HMAC secret of at least 32 bytes!!").build()?;
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
    /// `H` is the state the handlers were built for, the router's own `S`; see
    /// [`RouterState`](crate::routing::RouterState) for why it is a parameter of its own.
    pub fn route<H>(mut self, path: &str, method_router: MethodRouter<H>) -> Self
    where
        S: RouterState<H>,
    {
        for (method, policy, handler) in &method_router.methods {
            self.routes.push(RoutePolicy {
                method,
                path: path.to_owned(),
                policy: **policy,
                handler,
            });
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
        for mut route in router.routes {
            route.path = match route.path.as_str() {
                "/" => prefix.to_owned(),
                "*" => format!("{prefix}/*"),
                path => format!("{prefix}{path}"),
            };
            self.routes.push(route);
        }
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
        self.routes.push(RoutePolicy {
            method: "*",
            path: path.to_owned(),
            policy: PolicySpec::public(reason),
            handler: "service",
        });
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
        self.routes.push(RoutePolicy {
            method: "*",
            path: format!("{}/*", prefix.trim_end_matches('/')),
            policy: PolicySpec::public(reason),
            handler: "service",
        });
        self.inner = self.inner.nest_service(prefix, service);
        self
    }

    /// Answers requests that match no route with a guarded handler. Without one, unknown
    /// paths answer 404 (not 401), as in axum.
    pub fn fallback<F, T, H>(mut self, handler: F) -> Self
    where
        F: Handler<T, H>,
        T: HandlerArgs + 'static,
        T::First: AccessGuard,
        S: RouterState<H>,
    {
        self.routes.push(RoutePolicy {
            method: "*",
            path: "*".to_owned(),
            policy: *<T::First as AccessGuard>::SPEC,
            handler: <T::First as AccessGuard>::HANDLER,
        });
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

    /// Every route with its method, full path and policy: the route audit.
    pub fn policies(&self) -> &[RoutePolicy] {
        &self.routes
    }

    /// The route audit as a table (`Display`) and as JSON (`Serialize`), for a CI step that
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
        RouteAudit(self.routes.clone())
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
