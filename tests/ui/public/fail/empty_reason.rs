// `#[public(reason = "")]`: an empty reason is rejected at the literal.
use authgate::public;

#[public(reason = "")]
async fn health() -> &'static str {
    "ok"
}

fn main() {
    // Routed, to show that the error does not cascade into "not an access guard".
    let _app: authgate::Router<authgate::Gate> =
        authgate::Router::new().route("/", authgate::routing::get(health));
}
