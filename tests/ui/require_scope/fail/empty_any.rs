// `any()` with no scope would let nobody (or everybody) in: rejected at `any`.
use authgate::require_scope;

#[require_scope(any())]
async fn handler() -> &'static str {
    "ok"
}

fn main() {
    // Routed, to show that the error does not cascade into "not an access guard".
    let _app: authgate::Router<authgate::Gate> =
        authgate::Router::new().route("/", authgate::routing::get(handler));
}
