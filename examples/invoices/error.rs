//! The app's own error answers. Access refusals come from authgate's guards; these are the
//! ones the handlers decide, in the same JSON shape: `{"error": "<code>", "message": "..."}`.

use std::collections::BTreeMap;

use authgate::{Rejection, RejectionKind};
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use crate::app::REALM;

/// Per-field validation messages, by field name.
pub type FieldErrors = BTreeMap<&'static str, &'static str>;

#[derive(Debug)]
pub enum ApiError {
    /// Wrong email or password (one answer for both): 401.
    BadCredentials,
    /// The verified caller's account no longer exists: 401 `invalid_token`, as authgate would.
    AccountGone,
    /// No such resource: authgate's 404, byte for byte.
    NotFound,
    /// The request conflicts with the current state: 409.
    Conflict(&'static str),
    /// The body is not the JSON or form the route takes (with the status axum chose).
    BadBody(StatusCode, &'static str),
    /// The input is well-formed but invalid: 422 with a message per field.
    Invalid(FieldErrors),
    /// The database failed: 503 (logged, never shown).
    Db(sqlx::Error),
    /// authgate refused an operation (a store that failed: 503; a refresh token refused:
    /// 401), rendered as authgate renders it.
    Rejected(Rejection),
    /// A bug or an exhausted resource: 500 (logged, never shown).
    Internal(&'static str),
    /// Too many login attempts from this address or for this account: 429, and the seconds
    /// until the next one is accepted.
    TooManyRequests(u64),
    /// Every password check is busy: 503, try again in a second.
    Busy,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            ApiError::BadCredentials => {
                let mut response = json_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_credentials",
                    "wrong email or password",
                );
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="invoices""#),
                );
                return response;
            }
            ApiError::AccountGone => {
                return Rejection::new(RejectionKind::InvalidToken, REALM).into_response();
            }
            ApiError::NotFound => {
                return Rejection::new(RejectionKind::NotFound, REALM).into_response();
            }
            ApiError::Invalid(fields) => {
                let body = Invalid {
                    error: "invalid_input",
                    message: "some fields are invalid",
                    fields,
                };
                return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
            }
            ApiError::Rejected(rejection) => return rejection.into_response(),
            ApiError::TooManyRequests(seconds) => {
                let mut response = json_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_requests",
                    "too many login attempts; try again later",
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                return response;
            }
            ApiError::Busy => {
                let mut response = json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "the server is busy; try again in a moment",
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                return response;
            }
            ApiError::Conflict(message) => (StatusCode::CONFLICT, "conflict", message),
            ApiError::BadBody(status, message) => (status, "bad_request", message),
            ApiError::Db(error) => {
                tracing::error!(%error, "database error");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is unavailable",
                )
            }
            ApiError::Internal(what) => {
                tracing::error!(what, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "internal server error",
                )
            }
        };
        json_error(status, code, message)
    }
}

/// The 422 body, with its members in reading order.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Invalid {
    /// `invalid_input`.
    #[schema(value_type = String)]
    error: &'static str,
    #[schema(value_type = String)]
    message: &'static str,
    /// A message per invalid field, by field name.
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    fields: FieldErrors,
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut response = (status, Json(json!({ "error": code, "message": message }))).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// For start-up errors; the text names what failed, never a value.
impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Db(e) => write!(f, "database error: {e}"),
            ApiError::Rejected(e) => write!(f, "{e}"),
            ApiError::Internal(what) => f.write_str(what),
            other => write!(f, "{other:?}"),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::Db(error)
    }
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        ApiError::Rejected(rejection)
    }
}

/// A path id that does not parse names no resource.
impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        ApiError::NotFound
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let message = match rejection {
            JsonRejection::MissingJsonContentType(_) => "send Content-Type: application/json",
            _ => "the body is not the JSON object this route takes",
        };
        ApiError::BadBody(rejection.status(), message)
    }
}
