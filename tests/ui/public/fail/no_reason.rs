// `#[public]` without a reason: the reason is required because it shows in the route audit.
use authgate::public;

#[public]
async fn health() -> &'static str {
    "ok"
}

fn main() {
    // Routed, to show that the error does not cascade into "not an access guard".
    let _app: authgate::Router<authgate::Gate> =
        authgate::Router::new().route("/", authgate::routing::get(health));
}
