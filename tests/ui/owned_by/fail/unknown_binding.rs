// `#[owned_by(x)]` must name a binding of the handler's arguments; the error names the bindings.
use authgate::{owned_by, require_auth};
use axum::extract::Path;

#[require_auth]
#[owned_by(owner_id)]
async fn show(Path(user_id): Path<u64>) -> String {
    user_id.to_string()
}

fn main() {}
