#![deny(warnings)]

use std::convert::Infallible;

use authgate::{CurrentUser, Gate, Router, public, require_auth, require_role, routing::get};
use axum::extract::{DefaultBodyLimit, Path, Request};
use axum::handler::HandlerWithoutStateExt;
use axum::http::Uri;
use axum::response::Response;
use tower::service_fn;
use tower::util::MapResponseLayer;

#[public(reason = "load-balancer health check")]
async fn health() -> &'static str {
    "ok"
}

#[require_auth]
async fn me(user: CurrentUser) -> String {
    user.subject().to_owned()
}

#[require_role("admin")]
async fn list_users() -> &'static str {
    "[]"
}

#[require_role("admin")]
async fn delete_user(Path(id): Path<u32>) -> String {
    format!("deleted {id}")
}

#[require_auth]
async fn not_found(uri: Uri) -> String {
    format!("no route for {uri}")
}

async fn robots() -> &'static str {
    "User-agent: *\nDisallow:"
}

fn main() {
    let gate = Gate::builder()
        .issuer(authgate::issuers::Issuer::new("https://ui.test").secret("an HMAC secret of at least 32 bytes!!"))
        .build()
        .expect("valid gate");

    let admin: Router<Gate> = Router::new()
        .route(
            "/users",
            get(list_users).layer(DefaultBodyLimit::max(1024)),
        )
        .route("/users/{id}", get(delete_user).delete(delete_user))
        .route_layer(MapResponseLayer::new(|response: Response| response));

    let api: Router<Gate> = Router::new()
        .route("/me", get(me))
        .nest("/admin", admin);

    let app = Router::new()
        .route("/health", get(health))
        .merge(api)
        .fallback(not_found)
        .public_service(
            "/version",
            "build information for operators",
            service_fn(|_request: Request| async { Ok::<_, Infallible>("0.1.0") }),
        )
        .public_service("/robots.txt", "crawlers read it anonymously", robots.into_service())
        .layer(MapResponseLayer::new(|response: Response| response));

    assert!(app.audit().iter().count() >= 6);
    let app: axum::Router = app.with_state(gate).into_axum();
    drop(app);
}
