// `#[require_auth]` on a method taking `self` inside an impl block: axum handlers are free
// functions; the error points at the receiver.
use authgate::require_auth;

pub struct Api;

impl Api {
    #[require_auth]
    pub async fn handler(&self) -> &'static str {
        "ok"
    }
}

fn main() {}
