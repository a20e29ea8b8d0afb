//! The smallest authgate server. `cargo run --example quickstart`, then:
//!
//! ```text
//! $ curl -i localhost:3000/health                                        -> 200 ok
//! $ curl -i localhost:3000/api/me                                        -> 401, WWW-Authenticate: Bearer realm="api"
//! $ TOKEN=$(curl -s localhost:3000/login -H 'Content-Type: application/json' \
//!     -d '{"user":"alice","password":"alice-password"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
//! $ curl -i -H "Authorization: Bearer $TOKEN" localhost:3000/api/me      -> 200 subject alice, roles ["user"]
//! $ curl -i -H "Authorization: Bearer $TOKEN" localhost:3000/api/admin   -> 403 (alice is no admin)
//! ```

use authgate::issuers::Issuer;
use authgate::{
    CurrentUser, Gate, Identity, Rejection, Router, public, require_auth, require_role,
    routing::{get, post},
};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The `iss` of the tokens this server issues and accepts.
const ISSUER: &str = "quickstart";

#[public(reason = "load-balancer health check")]
async fn health() -> &'static str {
    "ok\n"
}

#[derive(serde::Deserialize)]
struct Login {
    user: String,
    password: String,
}

/// Issues a bearer token to the demo account. A real app checks a password hash here (see the
/// invoices example); the Gate signs the token as its issuer, with that issuer's key, iss and
/// claim places. The answer is `{"token": ..}`, the shape this module's curl walk reads.
#[public(reason = "demo login: issues a bearer token")]
async fn login(State(gate): State<Gate>, Json(login): Json<Login>) -> Result<Response, Rejection> {
    if (login.user.as_str(), login.password.as_str()) != ("alice", "alice-password") {
        return Ok(StatusCode::UNAUTHORIZED.into_response());
    }
    let tokens = gate.issue(&Identity::new("alice").roles(["user"])).await?;
    Ok(Json(serde_json::json!({ "token": tokens.access_token() })).into_response())
}

#[require_auth]
async fn me(user: CurrentUser) -> String {
    format!("subject {}, roles {:?}\n", user.subject(), user.roles())
}

#[require_role("admin")]
async fn admin() -> &'static str {
    "admin area\n"
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // authgate logs its warnings and the reason of every refusal through `tracing`.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let secret = std::env::var("QUICKSTART_JWT_SECRET").unwrap_or_else(|_| {
        eprintln!("warning: QUICKSTART_JWT_SECRET is unset; using the public demo secret");
        "quickstart-demo-secret-never-use-in-production".to_owned()
    });
    // build() refuses an HS256 secret under 32 bytes, saying what to change (never the secret).
    // The one issuer's secret verifies tokens and signs the ones `gate.issue` hands out; every
    // token must name that issuer in `iss`.
    let gate = Gate::builder()
        .issuer(Issuer::new(ISSUER).secret(secret))
        .build()
        .map_err(|e| e.to_string())?;

    let app: Router<Gate> = Router::new()
        .route("/health", get(health))
        .route("/login", post(login))
        .route("/api/me", get(me))
        .route("/api/admin", get(admin));
    for policy in &app.audit() {
        println!("{policy}"); // GET /api/me require_auth ...
    }

    let addr = std::env::var("QUICKSTART_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let app: axum::Router = app.with_state(gate).into_axum();
    axum::serve(listener, app).await?;
    Ok(())
}
