// The internal marker left on stacked attributes cannot be written by hand to get a handler
// without a guard.
use authgate::require_role;

#[require_role(__authgate_stacked)]
async fn sneaky() -> &'static str {
    "no guard"
}

fn main() {
    let _app: axum::Router = axum::Router::new().route("/", axum::routing::get(sneaky));
}
