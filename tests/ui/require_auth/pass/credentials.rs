// `credentials = ..` on every guard attribute, with the other arguments, routed by authgate's
// router (also a narrowing one), under `#![deny(warnings)]`.
#![deny(warnings)]
use authgate::{CredentialKind, Gate, Router, require_auth, require_role, require_scope, routing::get};

#[require_auth(redirect = "/login", credentials = "cookie")]
async fn page() -> &'static str {
    "page"
}

#[require_role("admin", credentials = any("bearer", "cookie"))]
async fn admin() -> &'static str {
    "admin"
}

#[require_scope(any("a", "b"), credentials = "bearer")]
async fn api() -> &'static str {
    "api"
}

fn main() {
    let app: Router<Gate> = Router::accepting(&[CredentialKind::Cookie])
        .route("/page", get(page))
        .route("/admin", get(admin))
        .merge(Router::new().route("/api", get(api)));
    let _ = app.audit();
}
