// An app state that holds the Gate but does not provide it through `FromRef`: the error names
// the missing `impl FromRef<AppState> for Gate` at the route, instead of "expected
// `MethodRouter<AppState>`, found `MethodRouter<Gate>`" (or "expected `Gate`, found
// `AppState`" at `with_state`), which is what a shared state parameter would report.
use authgate::{CurrentUser, Gate, Router, require_auth, routing::get};

#[derive(Clone)]
struct AppState {
    gate: Gate,
}

#[require_auth]
async fn me(user: CurrentUser) -> String {
    user.subject().to_owned()
}

fn api() -> Router<AppState> {
    Router::new().route("/me", get(me))
}

fn main() {
    let gate = Gate::builder()
        .issuer(authgate::issuers::Issuer::new("https://ui.test").secret("an HMAC secret of at least 32 bytes!!"))
        .build()
        .expect("valid gate");
    let state = AppState { gate };
    let _app: axum::Router = Router::new()
        .fallback(me)
        .merge(api())
        .with_state(state)
        .into_axum();
}
