#![deny(warnings)]

// The public forms of the caller: `Option<CurrentUser>` (typed claims too), next to other
// extractors, in a generic handler; the argument check emits nothing that warns.
use authgate::{CurrentUser, Gate, Router, public, routing::get};
use axum::extract::{Path, State};
use serde::Deserialize;

#[derive(Deserialize)]
struct MyClaims {
    tenant: String,
}

#[public(reason = "home page, with a greeting for signed-in users")]
async fn home(user: Option<CurrentUser>) -> String {
    user.map_or_else(|| "hello".to_owned(), |user| user.subject().to_owned())
}

#[public(reason = "tenant badge")]
async fn badge(Path(id): Path<u32>, user: Option<CurrentUser<MyClaims>>) -> String {
    format!("{id} {}", user.map_or("-".to_owned(), |user| user.tenant.clone()))
}

#[public(reason = "generic status page")]
async fn status<S>(State(_state): State<S>, user: Option<CurrentUser>) -> &'static str
where
    S: Clone + Send + Sync + 'static,
{
    if user.is_some() { "signed in" } else { "anonymous" }
}

fn main() {
    let app: Router<Gate> = Router::new()
        .route("/", get(home))
        .route("/badge/{id}", get(badge))
        .route("/status", get(status::<Gate>));
    drop(app);
}
