// The injected guard binding has mixed-site hygiene: the handler body cannot name it, so a
// body that uses `__authgate_guard` fails to resolve the name.
use authgate::require_auth;

#[require_auth]
async fn handler() -> String {
    format!("{:?}", __authgate_guard)
}

fn main() {
    // Routed, to show that the error does not cascade into "not an access guard".
    let _app: authgate::Router<authgate::Gate> =
        authgate::Router::new().route("/", authgate::routing::get(handler));
}
