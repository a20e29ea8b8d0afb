//! Guides: the three common setups from start to a test, then the how-tos. Every example
//! here is compiled by `cargo test --doc` (with the features its guide names, as docs.rs
//! builds them), and runs unless it starts a server or needs the network.
//!
//! Quick starts, each an app and its test:
//!
//! - [An API behind an identity provider](api_behind_an_identity_provider): the provider's
//!   access tokens, scopes, roles and ownership, the OpenAPI document, and a test with a
//!   local key in place of the provider's.
//! - [A browser app with sessions](browser_app_with_sessions): server-side sessions, a login
//!   form, page routes that send anonymous visitors to it, forms protected against
//!   cross-site request forgery.
//! - [An app that issues its own tokens](app_that_issues_its_own_tokens): a JSON login,
//!   refresh tokens, logout, and everything of a user ended after a password change.
//!
//! How-tos:
//!
//! - [Identity providers](identity_providers): the settings of Keycloak, Entra ID, Okta,
//!   Cognito, Auth0, Authgear and Google; several issuers; RFC 9068 access tokens; keys kept
//!   current; a provider that is down.
//! - [Refusals](refusals): every status, header and body authgate answers with, a renderer
//!   of your own, and what is logged.
//!
//! The concepts are in the module documentation: [`policy`](crate::policy) (the
//! attributes), [`sessions`](crate::sessions), [`tokens`](crate::tokens),
//! [`revocation`](crate::revocation), [`store`](crate::store), [`resource`](crate::resource),
//! [`issuers`](crate::issuers), [`keys`](crate::keys), and with their features `openapi` and
//! `testing`.

// Each guide's examples use the features it names; without them, the guide says so instead
// (and `cargo test --doc` without features compiles none of its examples).

#[cfg_attr(
    all(feature = "oidc", feature = "testing", feature = "utoipa"),
    doc = include_str!("../docs/quickstart_api.md")
)]
#[cfg_attr(
    not(all(feature = "oidc", feature = "testing", feature = "utoipa")),
    doc = "An API behind an identity provider: documented with the features `oidc`, `testing` and `utoipa` on."
)]
pub mod api_behind_an_identity_provider {}

#[cfg_attr(feature = "testing", doc = include_str!("../docs/quickstart_browser.md"))]
#[cfg_attr(
    not(feature = "testing"),
    doc = "A browser app with sessions: documented with the feature `testing` on."
)]
pub mod browser_app_with_sessions {}

#[cfg_attr(feature = "testing", doc = include_str!("../docs/quickstart_issuing.md"))]
#[cfg_attr(
    not(feature = "testing"),
    doc = "An app that issues its own tokens: documented with the feature `testing` on."
)]
pub mod app_that_issues_its_own_tokens {}

#[cfg_attr(
    all(feature = "oidc", feature = "testing"),
    doc = include_str!("../docs/identity_providers.md")
)]
#[cfg_attr(
    not(all(feature = "oidc", feature = "testing")),
    doc = "Identity providers: documented with the features `oidc` and `testing` on."
)]
pub mod identity_providers {}

#[cfg_attr(feature = "testing", doc = include_str!("../docs/refusals.md"))]
#[cfg_attr(
    not(feature = "testing"),
    doc = "Refusals: documented with the feature `testing` on."
)]
pub mod refusals {}
