// A handler written without `async` and routed: only the error asking for `async fn`, at the
// `fn` token, not also "the trait `Handler<_, _>` is not implemented" at the route (authgate
// emits the handler as `async fn`, so it stays a handler).
use authgate::{Gate, Router, public, require_auth, routing::get};

#[require_auth]
fn me() -> &'static str {
    "me"
}

#[public(reason = "load-balancer health check")]
pub fn health() -> &'static str {
    "ok"
}

fn main() {
    let _app: Router<Gate> = Router::new()
        .route("/me", get(me))
        .route("/health", get(health));
    let _plain: axum::Router<Gate> = axum::Router::new().route("/me", axum::routing::get(me));
}
