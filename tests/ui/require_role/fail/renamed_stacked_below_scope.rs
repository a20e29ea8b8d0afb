// The same with the renamed attribute under a scope requirement: one error, at the alias.
use authgate::require_role as staff_only;
use authgate::require_scope;

#[require_scope("reports:read")]
#[staff_only("staff")]
async fn reports() -> &'static str {
    "[]"
}

fn main() {
    let _app: authgate::Router<authgate::Gate> =
        authgate::Router::new().route("/", authgate::routing::get(reports));
}
