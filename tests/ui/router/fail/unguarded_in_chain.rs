// The second method of a chain is checked as well: `get(guarded).post(unguarded)` fails at
// `.post`, not only at the first method.
use authgate::{Gate, Router, require_auth, routing::get};
use axum::Json;

#[require_auth]
async fn list() -> &'static str {
    "[]"
}

async fn create(Json(body): Json<serde_json::Value>) -> String {
    body.to_string()
}

fn main() {
    let _app: Router<Gate> = Router::new().route("/items", get(list).post(create));
}
