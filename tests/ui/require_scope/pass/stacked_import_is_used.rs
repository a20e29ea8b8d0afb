#![deny(warnings)]

// Regression: an authgate attribute imported by name and used only below another one (here
// `require_scope`, never outermost) must count as used, or `unused_imports` fails the build
// of any crate under `#![deny(warnings)]`.

use authgate::{Gate, Router, require_role, require_scope, routing::get};

#[require_role("admin")]
#[require_scope("users:read")]
async fn list_users() -> &'static str {
    "[]"
}

fn main() {
    let app: Router<Gate> = Router::new().route("/users", get(list_users));
    assert_eq!(
        app.audit().iter().next().unwrap().to_string(),
        "GET /users require_role(admin) + require_scope(users:read)"
    );
}
