// An unguarded handler with arguments is refused by `authgate::routing::get`, with the
// `AccessGuard` on_unimplemented message naming the attributes to add.
use authgate::{Gate, Router, routing::get};
use axum::extract::Path;

async fn show(Path(id): Path<u32>) -> String {
    id.to_string()
}

fn main() {
    let _app: Router<Gate> = Router::new().route("/items/{id}", get(show));
}
