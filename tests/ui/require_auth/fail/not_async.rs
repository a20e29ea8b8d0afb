// `#[require_auth]` on a non-async fn asks for `async fn`, at the `fn` token.
use authgate::require_auth;

#[require_auth]
fn handler() -> &'static str {
    "ok"
}

fn main() {
    let _ = handler;
}
