// `credentials = ..` misused: an unknown kind, a kind twice, `all(..)` (a request presents one
// credential), a value that is not a kind, and the argument given on two attributes.
use authgate::{require_auth, require_role};

#[require_auth(credentials = "session")]
async fn unknown_kind() {}

#[require_auth(credentials = any("cookie", "cookie"))]
async fn listed_twice() {}

#[require_auth(credentials = all("bearer", "cookie"))]
async fn all_of_them() {}

#[require_auth(credentials = cookie)]
async fn not_in_quotes() {}

#[require_auth(credentials = any())]
async fn empty_any() {}

#[require_auth(credentials = "cookie")]
#[require_role("admin", credentials = "bearer")]
async fn given_twice() {}

#[authgate::public(reason = "a public handler examines no credential", credentials = "cookie")]
async fn on_public() {}

fn main() {}
