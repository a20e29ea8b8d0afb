//! The bounds that prove at compile time that a handler carries a policy: axum's
//! `Handler<T, S>` spells a handler's extractor types in `T`, and the first of them must be
//! an access guard. Users meet these traits only in error messages; the macros' guard is the
//! only implementation.

use crate::guard::Guard;
use crate::policy::PolicySpec;
use crate::policy::spec::Policy;

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
/// `Router::route` and `Router::fallback` take the handlers' state as a parameter of its own
/// and require `S: RouterState<H>`, instead of requiring the same `S` outright. The
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

pub(crate) mod sealed {
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
