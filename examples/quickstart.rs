//! The smallest authgate server. `cargo run --example quickstart`, then
//! `curl -i localhost:3000/health` (200) and `curl -i localhost:3000/api/me` (401).

use authgate::{CurrentUser, Gate, Router, public, require_auth, require_role, routing::get};

#[public(reason = "load-balancer health check")]
async fn health() -> &'static str {
    "ok\n"
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
    let gate = Gate::builder()
        .hs256(secret)
        .build()
        .map_err(|e| e.to_string())?;

    let app: Router<Gate> = Router::new()
        .route("/health", get(health))
        .route("/api/me", get(me))
        .route("/api/admin", get(admin));
    for policy in app.policies() {
        println!("{policy}"); // GET /api/me require_auth ...
    }

    let addr = std::env::var("QUICKSTART_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let app: axum::Router = app.with_state(gate).into_axum();
    axum::serve(listener, app).await?;
    Ok(())
}
