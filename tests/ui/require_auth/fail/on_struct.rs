// `#[require_auth]` on a struct: one error, at the `struct` keyword; the struct is still emitted
// so its uses below do not cascade.
use authgate::require_auth;

#[require_auth]
pub struct Handler;

fn main() {
    let _ = Handler;
}
