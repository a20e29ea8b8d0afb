// An unknown key is rejected at the key, listing the valid arguments.
use authgate::require_role;

#[require_role("a", foo = "b")]
async fn handler() -> &'static str {
    "ok"
}

fn main() {
    // Routed, to show that the error does not cascade into "not an access guard".
    let _app: authgate::Router<authgate::Gate> =
        authgate::Router::new().route("/", authgate::routing::get(handler));
}
