// `redirect = "//evil.example"` is a protocol-relative URL to another host (open redirect):
// rejected at the literal.
use authgate::require_auth;

#[require_auth(redirect = "//evil.example")]
async fn handler() -> &'static str {
    "ok"
}

fn main() {
    // Routed, to show that the error does not cascade into "not an access guard".
    let _app: authgate::Router<authgate::Gate> =
        authgate::Router::new().route("/", authgate::routing::get(handler));
}
