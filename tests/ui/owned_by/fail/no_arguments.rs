// A handler with no arguments has nothing to compare with the caller.
use authgate::{owned_by, require_auth};

#[require_auth]
#[owned_by(user_id)]
async fn show() -> &'static str {
    "nothing to own"
}

fn main() {}
