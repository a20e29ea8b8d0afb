//! The refresh endpoint's extractor: [`Refreshed`], a refresh token exchanged before the
//! handler runs.

use axum::extract::{FromRef, FromRequest, Request};
use axum::response::{IntoResponse, Response};

use crate::gate::Gate;
use crate::reject::RejectionKind;
use crate::tokens::Tokens;

/// The largest refresh request body read: a token is 66 bytes.
const MAX_BODY: usize = 4 * 1024;

/// A refresh token exchanged for a new token pair ([`Gate::refresh`]): the body of a refresh
/// endpoint, JSON `{"refresh_token": ".."}`, read (at most 4 KiB) and exchanged before the
/// handler runs. A body that is not that JSON, and a token that is unknown, expired or used
/// before, are refused with 401 `invalid_token` (a reuse also ends the family and the
/// subject's access tokens); a store that is down, 503. The handler only runs with a new pair.
///
/// The refresh token is the credential here, so the route is `#[public]`:
///
/// ```
/// use authgate::{Refreshed, public};
/// use axum::http::header::CONTENT_TYPE;
/// use axum::response::IntoResponse;
///
/// #[public(reason = "token refresh: the refresh token is the credential")]
/// async fn refresh(Refreshed(tokens): Refreshed) -> impl IntoResponse {
///     // {"token", "refresh_token", "token_type", "expires_in"}; with axum's `json` feature,
///     // `Json(tokens)`.
///     let body = serde_json::to_string(&tokens).unwrap_or_default();
///     ([(CONTENT_TYPE, "application/json")], body)
/// }
/// ```
#[derive(Debug)]
pub struct Refreshed(pub Tokens);

#[derive(serde::Deserialize)]
struct Body {
    refresh_token: String,
}

impl<S> FromRequest<S> for Refreshed
where
    Gate: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let gate = Gate::from_ref(state);
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY).await;
        let body = bytes
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Body>(&bytes).ok());
        let Some(body) = body else {
            tracing::info!(target: "authgate", outcome = "invalid_token",
                reason = "malformed_refresh_request", "refresh token refused");
            return Err(gate.rejection(RejectionKind::InvalidToken));
        };
        gate.refresh(&body.refresh_token)
            .await
            .map(Refreshed)
            .map_err(IntoResponse::into_response)
    }
}
