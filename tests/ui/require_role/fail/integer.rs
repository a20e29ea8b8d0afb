// A role written as a number asks for a name in quotes, at the number.
use authgate::require_role;

#[require_role(42)]
async fn handler() -> &'static str {
    "ok"
}

fn main() {
    // Routed, to show that the error does not cascade into "not an access guard".
    let _app: authgate::Router<authgate::Gate> =
        authgate::Router::new().route("/", authgate::routing::get(handler));
}
