//! [`Load`]: the extractor that loads a [`Resource`] by its path id for a checked caller.

use axum::extract::{FromRef, FromRequestParts, Path};
use axum::response::Response;
use http::request::Parts;

use crate::gate::Gate;
use crate::principal::{Caller, PublicRoute};
use crate::reject::RejectionKind;
use crate::resource::Resource;

/// A resource loaded from the request path with [`Resource::load`].
///
/// - a path id that does not parse, or a resource that does not exist: 404, the same bytes as
///   an ownership mismatch (a page on a page route, JSON on an API route, as every refusal of
///   the route);
/// - a loader error: 503, logged, never 200 and never a leak of the error text.
///
/// It refuses to load in a handler without an authgate guard or in a `#[public]` one (500,
/// logged), so a resource is never loaded for a caller nobody checked.
#[derive(Debug, Clone)]
pub struct Load<R>(pub R);

impl<R, S> FromRequestParts<S> for Load<R>
where
    R: Resource<S>,
    Gate: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let gate = Gate::from_ref(state);
        let Some(spec) = parts.extensions.get::<Caller>().map(|caller| caller.spec) else {
            let problem = if parts.extensions.get::<PublicRoute>().is_some() {
                "Load<R> in a #[public] handler: a resource is loaded only for a checked caller; \
                 guard the handler, or load it yourself in the body"
            } else {
                "Load<R> in a handler without an authgate guard: add a policy attribute"
            };
            return Err(gate.misconfigured(parts, problem));
        };
        let Ok(Path(id)) = Path::<R::Id>::from_request_parts(parts, state).await else {
            return Err(gate.rejection_for(spec, RejectionKind::NotFound));
        };
        match R::load(id, state).await {
            Ok(Some(resource)) => Ok(Load(resource)),
            Ok(None) => Err(gate.rejection_for(spec, RejectionKind::NotFound)),
            Err(error) => {
                tracing::error!(target: "authgate", route = crate::gate::route(parts), %error,
                    "resource loader failed");
                Err(gate.rejection_for(spec, RejectionKind::Unavailable))
            }
        }
    }
}
