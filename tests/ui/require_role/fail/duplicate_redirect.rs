// `redirect` given twice is reported at the second occurrence.
use authgate::require_role;

#[require_role("a", redirect = "/a", redirect = "/b")]
async fn handler() -> &'static str {
    "ok"
}

fn main() {
    // Routed, to show that the error does not cascade into "not an access guard".
    let _app: authgate::Router<authgate::Gate> =
        authgate::Router::new().route("/", authgate::routing::get(handler));
}
