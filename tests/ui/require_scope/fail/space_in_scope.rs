// A scope holding a space would be split by the space-delimited `scope` claim: rejected at the
// literal, with the `all(..)` fix.
use authgate::require_scope;

#[require_scope("invoices:read invoices:write")]
async fn handler() -> &'static str {
    "ok"
}

fn main() {
    // Routed, to show that the error does not cascade into "not an access guard".
    let _app: authgate::Router<authgate::Gate> =
        authgate::Router::new().route("/", authgate::routing::get(handler));
}
