// `CurrentUser` needs a verified caller, which a #[public] handler never has: a compile error
// at the argument's type that names `Option<CurrentUser>`, instead of a 500 at run time. The
// type is matched, not its name, so a renamed import and an alias are caught too.
use authgate::CurrentUser as Caller;
use authgate::{CurrentUser, Gate, Router, public, routing::get};
use serde::Deserialize;

#[public(reason = "home page, with a greeting for signed-in users")]
async fn home(user: CurrentUser) -> String {
    user.subject().to_owned()
}

#[derive(Deserialize)]
struct MyClaims {
    tenant: String,
}

type Tenant = CurrentUser<MyClaims>;

#[public(reason = "tenant badge")]
async fn badge(user: Tenant) -> String {
    user.tenant.clone()
}

#[public(reason = "status page")]
async fn status(caller: Caller) -> String {
    caller.subject().to_owned()
}

fn main() {
    let _app: Router<Gate> = Router::new()
        .route("/", get(home))
        .route("/badge", get(badge))
        .route("/status", get(status));
}
