//! Test kit (feature `testing`): mint credentials from the app's own Gate, send requests with
//! `oneshot`, and prove in one test that every route is protected.
//!
//! ```
//! use authgate::testing::{Minter, RouteProbe, TestClient};
//! use authgate::{CurrentUser, Gate, Identity, Router, public, require_auth, require_role, routing::get};
//!
//! #[public(reason = "health check")]
//! async fn health() -> &'static str { "ok" }
//! #[require_auth]
//! async fn me(user: CurrentUser) -> String { user.subject().to_owned() }
//! #[require_role("admin")]
//! async fn users() -> &'static str { "[]" }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let gate = Gate::builder()
//!     .issuer(authgate::issuers::Issuer::new("https://api.example.com").secret("an HMAC secret of at least 32 bytes!!"))
//!     .build()
//!     .unwrap();
//! let router = Router::new()
//!     .route("/health", get(health))
//!     .route("/me", get(me))
//!     .route("/admin/users", get(users))
//!     .with_state(gate.clone());
//! let minter = Minter::new(&gate).unwrap();
//!
//! // One line: every route refuses anonymous callers and users without the declared roles.
//! RouteProbe::new(&router, &minter).allow_public(["/health"]).assert().await;
//!
//! // Requests read well.
//! let client = TestClient::new(router.into_axum());
//! let alice = minter.token(&Identity::new("alice"));
//! let reply = client.get("/me").bearer(&alice).send().await;
//! assert_eq!(reply.status, 200);
//! assert_eq!(reply.text(), "alice");
//! # }
//! ```
//!
//! Limits of the probe: it cannot know your ids, so it fills path parameters with
//! placeholders (`1` unless told otherwise) and only sends requests that a correct app must
//! refuse (anonymous, or authenticated without the declared roles and scopes). It never sends
//! a request that should succeed, so it does not test ownership: use [`OwnershipProbe`] with
//! two accounts for that.

mod client;
mod conformance;
mod mint;
mod probe;

pub use client::{TestClient, TestRequest, TestResponse};
pub use conformance::Conformance;
pub use mint::Minter;
pub use probe::{OwnershipProbe, RouteProbe};
