// An unguarded handler that takes no arguments is refused too: its "first argument" is
// `NoArguments`, which is not an access guard.
use authgate::{Gate, Router, routing::get};

async fn index() -> &'static str {
    "hello"
}

fn main() {
    let _app: Router<Gate> = Router::new().route("/", get(index));
}
