//! Guarded method routers: [`routing`](crate::routing)'s functions and the
//! [`MethodRouter`] they build, which records each method's policy.

use std::convert::Infallible;
use std::fmt;

use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::Route;
use tower::{Layer, Service};

use super::bounds::{AccessGuard, HandlerArgs};
use crate::policy::PolicySpec;

/// A method router whose every handler carries a policy. Build it with the functions of
/// [`routing`](crate::routing) and chain more methods: `get(show).delete(remove)`.
#[must_use]
pub struct MethodRouter<S = ()> {
    pub(super) inner: axum::routing::MethodRouter<S, Infallible>,
    pub(super) methods: Vec<(&'static str, &'static PolicySpec, &'static str)>,
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
            pub use crate::router::{MethodRouter, RouteAudit, RoutePolicy};
            use crate::router::bounds::{AccessGuard, HandlerArgs};
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
                MethodRouter::guarded(
                    "ANY",
                    axum::routing::any(crate::sessions::Renew(crate::sessions::OnEveryMethod(handler))),
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
                    H: axum::handler::Handler<T, S>,
                    T: HandlerArgs + 'static,
                    T::First: AccessGuard,
                {
                    self.inner = self.inner.$name(crate::sessions::Renew(handler));
                    self.methods.push(($label, <T::First as AccessGuard>::SPEC, <T::First as AccessGuard>::HANDLER));
                    self
                }
            )*
        }
    };
}

// `HEAD` is answered by `get` (axum runs the `GET` handler and drops the body), and `OPTIONS`
// is a CORS layer's, not a guarded handler's.
methods! {
    get "GET",
    post "POST",
    put "PUT",
    patch "PATCH",
    delete "DELETE",
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
