// authgate attributes stack with #[tracing::instrument] (above or below) and with
// #[axum::debug_handler] placed below them, and the result is lint-clean. (debug_handler above
// authgate checks the signature before the guard is injected, so it must go below.)
#![deny(warnings)]

use authgate::{CurrentUser, Gate, Router, require_auth, require_role, routing::get};
use axum::extract::{FromRef, Path, State};

#[derive(Clone)]
struct AppState {
    gate: Gate,
    name: String,
}

impl FromRef<AppState> for Gate {
    fn from_ref(state: &AppState) -> Gate {
        state.gate.clone()
    }
}

/// instrument above, debug_handler below.
#[tracing::instrument(skip_all)]
#[require_auth]
#[axum::debug_handler(state = AppState)]
async fn above(user: CurrentUser, State(state): State<AppState>) -> String {
    format!("{} {}", user.subject(), state.name)
}

/// authgate above both.
#[require_role("admin")]
#[tracing::instrument(skip(state))]
#[axum::debug_handler(state = AppState)]
async fn below(State(state): State<AppState>, Path(id): Path<u64>) -> String {
    format!("{} {id}", state.name)
}

fn main() {
    let _app: Router<AppState> = Router::new()
        .route("/a", get(above))
        .route("/b/{id}", get(below));
}
