//! Access policies as data: what the attributes declare on each handler.
//!
//! Every guarded handler carries one [`PolicySpec`], written by the attribute macros into a
//! `const`. The same value drives the check at request time, the route audit
//! ([`Router::audit`](crate::Router::audit)), the OpenAPI document and the test kit's probes,
//! so what the audit shows is exactly what runs.
//!
//! | attribute | who passes | otherwise |
//! |---|---|---|
//! | `#[require_auth]` | any valid credential | 401 (`WWW-Authenticate`) |
//! | `#[require_role("admin")]`, `any(..)`, `all(..)` | holders of the roles | 401, or 403 when known |
//! | `#[require_scope("invoices:write")]`, `any(..)`, `all(..)` | holders of the scopes | 401, or 403 when known |
//! | `#[owned_by(invoice.user_id)]`, `or_role = "admin"` | the owner: the caller whose subject is that id (or holders of `or_role`) | 401, or 404 (`status = 403` to say so) |
//! | `#[public(reason = "...")]` | everyone | — |
//!
//! Stacked role and scope attributes all must hold. `redirect = "/login"` on `require_auth`,
//! `require_role` or `require_scope` sends anonymous page visitors to the login page (303)
//! instead of answering 401.
//!
//! ```
//! use authgate::{Router, require_role, routing::get};
//! use authgate::policy::Requirement;
//!
//! #[require_role(any("staff", "billing"))]
//! async fn invoices() -> &'static str { "[]" }
//!
//! let app: Router<authgate::Gate> = Router::new().route("/invoices", get(invoices));
//! let route = app.audit().iter().next().unwrap().clone();
//! let policy = route.policy();
//! assert_eq!(policy.to_string(), "require_role(any(staff, billing))");
//! assert_eq!(policy.roles(), &[Requirement::Any(&["staff", "billing"])]);
//! assert!(!policy.is_public());
//! ```

pub(crate) mod spec;

pub use spec::{PolicySpec, Requirement};
