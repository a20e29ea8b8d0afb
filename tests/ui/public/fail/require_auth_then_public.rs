// `#[require_auth]` above `#[public]`: same conflict, in the other order. The error points at
// the later attribute.
use authgate::{public, require_auth};

#[require_auth]
#[public(reason = "x")]
async fn handler() -> &'static str {
    "ok"
}

fn main() {
    // Routed, to show that the error does not cascade into "not an access guard".
    let _app: authgate::Router<authgate::Gate> =
        authgate::Router::new().route("/", authgate::routing::get(handler));
}
