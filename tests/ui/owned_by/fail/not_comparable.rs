// An id type that cannot be compared with the subject: the message says how to make it so.
use authgate::{owned_by, require_auth};
use axum::extract::Path;
use serde::Deserialize;

#[derive(Deserialize)]
struct Params {
    owner: Owner,
}

#[derive(Deserialize)]
struct Owner {
    id: u64,
}

#[require_auth]
#[owned_by(params.owner)]
async fn show(Path(params): Path<Params>) -> String {
    params.owner.id.to_string()
}

fn main() {}
