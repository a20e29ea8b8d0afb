// `status` is 404 (the default) or 403, nothing else; unknown arguments list the valid ones.
use authgate::{owned_by, require_auth};
use axum::extract::Path;

#[require_auth]
#[owned_by(user_id, status = 200)]
async fn show(Path(user_id): Path<u64>) -> String {
    user_id.to_string()
}

#[require_auth]
#[owned_by(user_id, bypass = "admin")]
async fn edit(Path(user_id): Path<u64>) -> String {
    user_id.to_string()
}

fn main() {}
