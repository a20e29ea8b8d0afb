#![deny(warnings)]

use authgate::{
    CurrentUser, Gate, Router, public, require_auth, require_role, require_scope, routing,
};
use axum::Json;
use axum::extract::{Path, Query};
use serde::Deserialize;

/// A doc comment above the attribute stays on the handler.
#[require_auth]
async fn documented() -> &'static str {
    "ok"
}

#[require_auth]
/// A doc comment below the attribute stays too.
pub async fn public_visibility() -> &'static str {
    "ok"
}

#[require_auth]
pub(crate) async fn crate_visibility() -> &'static str {
    "ok"
}

mod nested {
    pub(crate) mod deeper {
        use authgate::require_role;

        #[require_role("auditor")]
        pub(crate) async fn audit_log() -> &'static str {
            "[]"
        }
    }

    #[authgate::require_auth]
    pub(super) async fn in_module(user: authgate::CurrentUser) -> String {
        user.subject().to_owned()
    }
}

#[require_role("admin")]
#[require_scope("users:read")]
async fn stacked_role_and_scope() -> &'static str {
    "[]"
}

#[require_scope("users:write")]
#[require_role(any("admin", "support"))]
async fn stacked_scope_then_role() -> &'static str {
    "[]"
}

#[require_role(any("admin", "billing"))]
async fn any_role() -> &'static str {
    "ok"
}

#[require_role(all("staff", "billing",))]
async fn all_roles_trailing_comma() -> &'static str {
    "ok"
}

#[require_scope(any("invoices:read", "invoices:write"))]
async fn any_scope() -> &'static str {
    "ok"
}

#[require_scope(all("invoices:read", "invoices:write"))]
async fn all_scopes() -> &'static str {
    "ok"
}

#[require_auth(redirect = "/login")]
async fn page() -> &'static str {
    "<h1>account</h1>"
}

#[require_role("admin", redirect = "/login")]
async fn admin_page() -> &'static str {
    "<h1>admin</h1>"
}

#[public(reason = "load-balancer health check")]
async fn health() -> &'static str {
    "ok"
}

#[public(reason = "landing page greets signed-in visitors by name")]
async fn landing(user: Option<CurrentUser>) -> String {
    match user {
        Some(user) => format!("hello {}", user.subject()),
        None => "hello".to_owned(),
    }
}

#[authgate::require_auth]
async fn path_form() -> &'static str {
    "ok"
}

#[authgate::require_role("admin")]
#[authgate::require_scope("users:read")]
async fn path_form_stacked() -> &'static str {
    "ok"
}

#[require_auth]
async fn current_user(user: CurrentUser) -> String {
    format!("{} {:?} {:?}", user.subject(), user.roles(), user.scopes())
}

#[derive(Deserialize)]
struct NewInvoice {
    amount: u64,
}

#[derive(Deserialize)]
struct Page {
    page: Option<u32>,
}

#[require_scope("invoices:write")]
async fn create_invoice(
    user: CurrentUser,
    Path(account): Path<u32>,
    Query(page): Query<Page>,
    Json(invoice): Json<NewInvoice>,
) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "owner": user.subject(),
        "account": account,
        "page": page.page,
        "amount": invoice.amount,
    }))
}

// Other attributes above and below an authgate attribute are kept on the handler.
// (`#[tracing::instrument]` would belong here, but the root package does not enable tracing's
// `attributes` feature.)
#[allow(clippy::unused_async)]
#[require_auth]
#[allow(unused_mut)]
async fn other_attributes() -> String {
    let mut s = String::new();
    s.push('x');
    s
}

#[require_auth]
async fn r#type() -> &'static str {
    "raw identifier"
}

fn main() {
    use routing::{any, delete, get, post, put};

    let app: Router<Gate> = Router::new()
        .route("/documented", get(documented))
        .route("/pub", get(public_visibility).put(crate_visibility))
        .route("/audit", get(nested::deeper::audit_log))
        .route("/module", get(nested::in_module))
        .route("/stacked", get(stacked_role_and_scope).post(stacked_scope_then_role))
        .route("/any-role", get(any_role))
        .route("/all-roles", get(all_roles_trailing_comma))
        .route("/any-scope", get(any_scope))
        .route("/all-scopes", delete(all_scopes))
        .route("/page", get(page))
        .route("/admin", get(admin_page))
        .route("/health", get(health))
        .route("/", get(landing))
        .route("/path", put(path_form).patch(path_form_stacked))
        .route("/me", get(current_user))
        .route("/accounts/{account}/invoices", post(create_invoice))
        .route("/attrs", get(other_attributes))
        .route("/type", any(r#type));
    assert_eq!(app.audit().iter().count(), 21);

    let gate = Gate::builder()
        .issuer(authgate::issuers::Issuer::new("https://ui.test").secret("an HMAC secret of at least 32 bytes!!"))
        .build()
        .expect("valid gate");
    let _app: axum::Router = app.with_state(gate).into_axum();
}
