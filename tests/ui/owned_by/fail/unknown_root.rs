// The root of a field path must be an argument binding too.
use authgate::{owned_by, require_auth};
use axum::extract::Path;

#[require_auth]
#[owned_by(invoice.user_id)]
async fn show(Path(id): Path<u64>) -> String {
    id.to_string()
}

fn main() {}
