#![deny(warnings)]

// An app state that holds the Gate next to other things. The root package does not enable
// axum's `macros` feature, so `FromRef` is implemented by hand instead of derived.

use authgate::{CurrentUser, Gate, Router, public, require_auth, require_role, routing::get};
use axum::extract::{FromRef, State};

#[derive(Clone)]
struct AppState {
    gate: Gate,
    greeting: &'static str,
}

impl FromRef<AppState> for Gate {
    fn from_ref(state: &AppState) -> Gate {
        state.gate.clone()
    }
}

#[require_auth]
async fn greet(State(state): State<AppState>, user: CurrentUser) -> String {
    format!("{}, {}", state.greeting, user.subject())
}

#[require_role("admin")]
async fn generic<S>(State(state): State<S>) -> &'static str
where
    S: Clone + Send + Sync + 'static,
{
    let _ = state;
    "ok"
}

#[public(reason = "status page")]
async fn status(State(state): State<AppState>) -> &'static str {
    state.greeting
}

fn main() {
    let gate = Gate::builder()
        .issuer(authgate::issuers::Issuer::new("https://ui.test").secret("an HMAC secret of at least 32 bytes!!"))
        .build()
        .expect("valid gate");
    let state = AppState { gate, greeting: "hello" };
    let app: axum::Router = Router::new()
        .route("/greet", get(greet))
        .route("/generic", get(generic::<AppState>))
        .route("/status", get(status))
        .with_state(state)
        .into_axum();
    drop(app);
}
