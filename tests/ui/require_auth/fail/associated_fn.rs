// `#[require_auth]` on an associated fn without `self` inside an impl block: the macro cannot
// see that it is inside an impl, and its marker type cannot live there.
use authgate::require_auth;

pub struct Api;

impl Api {
    #[require_auth]
    pub async fn handler() -> &'static str {
        "ok"
    }
}

fn main() {}
