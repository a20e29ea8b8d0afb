// One handler has one owner check.
use authgate::{owned_by, require_auth};
use axum::extract::Path;

#[require_auth]
#[owned_by(user_id)]
#[owned_by(user_id, status = 403)]
async fn show(Path(user_id): Path<u64>) -> String {
    user_id.to_string()
}

fn main() {}
