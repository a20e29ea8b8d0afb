// A policy attribute imported under another name and stacked below another one: the upper
// attribute gathers its siblings by their names, so the renamed one is told how to stack.
use authgate::require_auth;
use authgate::require_role as admin_only;

#[require_auth]
#[admin_only("admin")]
async fn handler() -> &'static str {
    "ok"
}

fn main() {
    let _app: authgate::Router<authgate::Gate> =
        authgate::Router::new().route("/", authgate::routing::get(handler));
}
