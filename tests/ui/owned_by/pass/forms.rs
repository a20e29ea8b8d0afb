// Every form of #[owned_by] compiles lint-clean, with `?` in the body and `impl IntoResponse`.
#![deny(warnings)]

use authgate::resource::Resource;
use authgate::store::StoreError;
use authgate::{Gate, Load, Router, owned_by, require_auth, require_role, routing::get};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;

struct Invoice {
    user_id: String,
}

impl Resource<Gate> for Invoice {
    type Id = u64;
    async fn load(_id: u64, _state: &Gate) -> Result<Option<Self>, StoreError> {
        Ok(Some(Invoice { user_id: "7".into() }))
    }
}

#[derive(Deserialize)]
struct UserPath {
    user_id: i64,
}

/// A loaded resource's field, a bypass role, and `?` in the body.
#[require_auth]
#[owned_by(invoice.user_id, or_role = any("admin", "support"))]
pub async fn show(Load(invoice): Load<Invoice>) -> Result<String, StatusCode> {
    let n: u32 = invoice.user_id.parse().map_err(|_| StatusCode::BAD_REQUEST)?;
    Ok(n.to_string())
}

/// A path struct field, 403 instead of 404, stacked under a role.
#[require_role("user")]
#[owned_by(params.user_id, status = 403)]
pub(crate) async fn profile(Path(params): Path<UserPath>) -> impl IntoResponse {
    if params.user_id < 0 {
        return StatusCode::BAD_REQUEST.into_response();
    }
    params.user_id.to_string().into_response()
}

/// A plain binding and no return type.
#[require_auth]
#[owned_by(user_id)]
async fn touch(Path(user_id): Path<u64>) {
    let _ = user_id;
}

fn main() {
    let _app: Router<Gate> = Router::new()
        .route("/invoices/{id}", get(show))
        .route("/users/{user_id}/profile", get(profile))
        .route("/users/{user_id}/touch", get(touch));
}
