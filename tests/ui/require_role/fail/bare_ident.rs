// A role written as an identifier, not a string, asks for quotes at the identifier.
use authgate::require_role;

#[require_role(admin)]
async fn handler() -> &'static str {
    "ok"
}

fn main() {
    // Routed, to show that the error does not cascade into "not an access guard".
    let _app: authgate::Router<authgate::Gate> =
        authgate::Router::new().route("/", authgate::routing::get(handler));
}
