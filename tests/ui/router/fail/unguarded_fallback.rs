// `Router::fallback` accepts only guarded handlers: an unguarded fallback would answer every
// unknown path without a policy.
use authgate::{Gate, Router};
use axum::http::Uri;

async fn not_found(uri: Uri) -> String {
    format!("no route for {uri}")
}

fn main() {
    let _app: Router<Gate> = Router::new().fallback(not_found);
}
