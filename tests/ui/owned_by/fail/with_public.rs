// A public handler cannot have an ownership check: ownership needs a caller.
use authgate::{owned_by, public};
use axum::extract::Path;

#[public(reason = "anyone")]
#[owned_by(user_id)]
async fn show(Path(user_id): Path<u64>) -> String {
    user_id.to_string()
}

fn main() {}
