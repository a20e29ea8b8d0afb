//! The OpenAPI document: utoipa derives it from the handlers' `#[utoipa::path]` attributes and
//! the types they answer with; authgate writes every operation's security and refusals into
//! it from the same policies the guards enforce (`authgate::openapi::apply`). Served at
//! `GET /openapi.json`.

use std::sync::Arc;

use authgate::openapi::Drift;
use authgate::routing::RouteAudit;
use authgate::{Gate, public};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::app::AppState;
use crate::{feed, handlers, pages};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "invoices",
        description = "The authgate example: a multi-user invoices API and its HTML pages. \
            Get a bearer token with `POST /login` (JSON), a new one with `POST /token/refresh`; \
            every operation says who may call it \
            (`security`, `x-authgate-roles`) and how it refuses."
    ),
    paths(
        handlers::health,
        openapi_json,
        pages::login_form,
        handlers::login,
        handlers::refresh_token,
        handlers::logout,
        handlers::me,
        handlers::list_invoices,
        handlers::create_invoice,
        handlers::show_invoice,
        handlers::delete_invoice,
        handlers::list_users,
        handlers::delete_user,
        pages::dashboard,
        pages::create_invoice,
        feed::invoice_feed,
        feed::script,
    ),
    tags(
        (name = "auth", description = "Logging in and out"),
        (name = "invoices", description = "The caller's own invoices"),
        (name = "admin", description = "Administrators only"),
        (name = "pages", description = "HTML pages for browsers"),
        (name = "meta", description = "Health and this document"),
    )
)]
pub struct ApiDoc;

/// The app's own error answers: `{"error": "<code>", "message": "<text>"}`, the shape of
/// authgate's refusals.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// A machine-readable code, such as `conflict` or `bad_request`.
    pub error: String,
    /// A generic, human-readable text.
    pub message: String,
}

/// The JSON body of `POST /api/invoices`. Other members (such as `user_id`) are ignored: the
/// owner is the caller.
#[derive(Serialize, ToSchema)]
pub struct NewInvoiceBody {
    /// A positive amount in cents.
    #[schema(minimum = 1)]
    pub amount_cents: i64,
    /// At most 200 characters, not only white space.
    #[schema(max_length = 200, pattern = r"\S")]
    pub description: String,
}

/// The document with the policies of the route audit applied, as JSON, and its drift from the
/// router (empty when every route is documented and every operation routed).
pub fn document(audit: &RouteAudit, gate: &Gate) -> (String, Drift) {
    let mut doc = ApiDoc::openapi();
    let drift = authgate::openapi::apply(&mut doc, audit, gate);
    // Serializing the document's own types cannot fail; an empty object is still valid JSON.
    let json = doc.to_pretty_json().unwrap_or_else(|_| "{}".to_owned());
    (json, drift)
}

/// The document, built once at start.
#[derive(Clone, Debug)]
pub struct OpenApiJson(pub Arc<str>);

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses(
        (status = 200, description = "This OpenAPI 3.1 document", content_type = "application/json",
         body = serde_json::Value),
    )
)]
#[public(reason = "the OpenAPI document: how to call the API, no data")]
pub async fn openapi_json(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        app.openapi.0.to_string(),
    )
}
