// Two bare names are ambiguous (either? both?): the error points at the second and names `any`/`all`.
use authgate::require_role;

#[require_role("a", "b")]
async fn handler() -> &'static str {
    "ok"
}

fn main() {
    // Routed, to show that the error does not cascade into "not an access guard".
    let _app: authgate::Router<authgate::Gate> =
        authgate::Router::new().route("/", authgate::routing::get(handler));
}
