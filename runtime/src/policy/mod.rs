//! Access policies as data: what the attributes declare on each handler.
//!
//! Every guarded handler carries one [`PolicySpec`], written by the attribute macros into a
//! `const`. The same value drives the check at request time, the route audit
//! ([`Router::audit`](crate::Router::audit)), the OpenAPI document and the test kit's probes,
//! so what the audit shows is exactly what runs.
//!
//! # The attributes
//!
//! | attribute | who passes | otherwise |
//! |---|---|---|
//! | `#[require_auth]` | any caller with a valid credential | 401 (`WWW-Authenticate`) |
//! | `#[require_role("admin")]` | callers whose roles include `admin` | 401 if anonymous, else 403 |
//! | `#[require_role(any("admin", "billing"))]` | callers with at least one of them | 401 / 403 |
//! | `#[require_role(all("staff", "billing"))]` | callers with every one of them | 401 / 403 |
//! | `#[require_scope("invoices:write")]`, `any(..)`, `all(..)` | callers whose scopes match, as for roles | 401 / 403 |
//! | `#[owned_by(invoice.user_id)]` | the owner: the caller whose subject is that id | 401 if anonymous, else 404 |
//! | `#[public(reason = "...")]` | everyone | — |
//!
//! - Role and scope names compare exactly (case-sensitive) with what the verified credential
//!   carries: roles from the issuer's roles claim (`roles` by default), scopes from `scope`
//!   (space-delimited) or else `scp` (see [`Issuer`](crate::issuers::Issuer) for other
//!   places). A name cannot be empty or start or end with white space; a scope holds no
//!   space.
//! - One requirement per attribute: `#[require_role("a", "b")]` does not compile, and says
//!   to write `any("a", "b")` or `all("a", "b")`.
//! - `#[public]` needs a reason, which the audit shows. In a public handler,
//!   `Option<CurrentUser>` is `None` for an anonymous caller, and a credential that is
//!   presented but invalid still gets 401.
//! - The attributes go on free `async fn` handlers, and also work as paths
//!   (`#[authgate::require_role("admin")]`).
//!
//! # Stacking
//!
//! Attributes stack, and every one must hold. The topmost expands the whole stack into one
//! guard, whose order of checks is fixed: the credential (401), the roles (403), the scopes
//! (403), then the handler's own extractors in argument order (a [`Load`](crate::Load)
//! among them: 404 or 503), then the `#[owned_by]` comparison (404), then the body. So a
//! caller who may not call the handler never has the body read or the resource loaded.
//!
//! - `#[public]` with any other policy attribute does not compile: a handler is either
//!   public or guarded. Two `#[owned_by]`, a repeated `#[require_auth]` or `redirect` given
//!   twice do not compile either; `#[require_auth]` next to a role adds nothing.
//! - Other attributes stay on the handler: `#[tracing::instrument]` above or below,
//!   `#[axum::debug_handler]` below authgate's (above, it checks the signature before the
//!   guard is added).
//!
//! # `#[owned_by]`
//!
//! Against IDOR (one user reading another's invoice by changing the id in the URL):
//! compares a value the handler already has with the caller's verified subject (`sub`),
//! before the first statement of the body.
//!
//! - `#[owned_by(user_id)]`: a binding of the handler's arguments (`Path(user_id):
//!   Path<u64>`); `#[owned_by(invoice.user_id)]`: a field of one, usually of a resource
//!   loaded with [`Load`](crate::Load). Its type implements
//!   [`OwnerId`](crate::resource::OwnerId): strings, integers (compared as decimal text, so
//!   `"07"` does not own `7`), `Option` (`None` is owned by nobody), `uuid::Uuid` (feature
//!   `uuid`), or a type of yours.
//! - `or_role = "admin"` (or `any(..)`, `all(..)`) lets holders of those roles act without
//!   owning the resource. Without it an admin who is not the owner gets 404 too.
//! - A mismatch answers 404 with exactly the bytes of a missing resource, so a caller cannot
//!   learn that the id exists; `status = 403` answers 403 `forbidden` instead, where the
//!   resource's existence is no secret.
//! - `#[owned_by]` implies authentication: alone, it is `require_auth` plus the check.
//!
//! # `redirect = "/login"`
//!
//! For HTML pages, on `require_auth`, `require_role` or `require_scope`: a visitor without a
//! valid credential is answered `303 See Other` with `Location: /login?next=<the page's path
//! and query, percent-encoded>` instead of 401; the login form sends them back with
//! [`safe_next`](crate::sessions::safe_next). A logged-in visitor without a role still gets
//! 403, as a small HTML page. The target must be a path on the same site: `"//host"`,
//! `"/\host"` and absolute URLs do not compile. On a page with `#[owned_by]`, put it on the
//! `require_auth` next to it.
//!
//! ```
//! use authgate::resource::Resource;
//! use authgate::store::StoreError;
//! use authgate::{Gate, Load, Router, owned_by, require_auth, require_role, require_scope};
//! use authgate::routing::{get, put};
//! use authgate::policy::Requirement;
//! use axum::extract::Path;
//!
//! struct Invoice { id: u64, user_id: u64 }
//!
//! impl Resource<Gate> for Invoice {
//!     type Id = u64;
//!     async fn load(id: u64, _gate: &Gate) -> Result<Option<Self>, StoreError> {
//!         Ok(Some(Invoice { id, user_id: 7 })) // a query in a real app
//!     }
//! }
//!
//! // A binding of the handler's arguments.
//! #[require_auth]
//! #[owned_by(user_id, or_role = any("admin", "support"))]
//! async fn profile(Path(user_id): Path<u64>) -> String { format!("user {user_id}") }
//!
//! // A field of a resource loaded before the check, under stacked requirements.
//! #[require_role("staff")]
//! #[require_scope(all("invoices:read", "invoices:write"))]
//! #[owned_by(invoice.user_id, or_role = "admin")]
//! async fn update(Load(invoice): Load<Invoice>) -> String { format!("invoice {}", invoice.id) }
//!
//! // A page: anonymous visitors go to the login form; others' invoices answer 403.
//! #[require_auth(redirect = "/login")]
//! #[owned_by(invoice.user_id, status = 403)]
//! async fn page(Load(invoice): Load<Invoice>) -> String { format!("<h1>Invoice {}</h1>", invoice.id) }
//!
//! let app: Router<Gate> = Router::new()
//!     .route("/users/{user_id}", get(profile))
//!     .route("/invoices/{id}", put(update))
//!     .route("/invoices/{id}/page", get(page));
//! let policies: Vec<String> = app.audit().iter().map(|r| r.policy().to_string()).collect();
//! assert_eq!(policies, [
//!     "require_auth + owned_by(user_id, or_role = any(admin, support))",
//!     "require_role(staff) + require_scope(all(invoices:read, invoices:write)) + owned_by(invoice.user_id, or_role = admin)",
//!     "require_auth + owned_by(invoice.user_id, status = 403) [redirect: /login]",
//! ]);
//! let update = app.audit().iter().nth(1).unwrap().policy().clone();
//! assert_eq!(update.roles(), &[Requirement::Any(&["staff"])]);
//! assert_eq!(update.scopes(), &[Requirement::All(&["invoices:read", "invoices:write"])]);
//! assert_eq!(update.owner(), Some("invoice.user_id"));
//! ```

pub(crate) mod spec;

pub use spec::{PolicySpec, Requirement};
