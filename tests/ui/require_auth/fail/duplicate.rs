// `#[require_auth]` twice is reported once, at the second attribute.
use authgate::require_auth;

#[require_auth]
#[require_auth]
async fn handler() -> &'static str {
    "ok"
}

fn main() {
    // Routed, to show that the error does not cascade into "not an access guard".
    let _app: authgate::Router<authgate::Gate> =
        authgate::Router::new().route("/", authgate::routing::get(handler));
}
