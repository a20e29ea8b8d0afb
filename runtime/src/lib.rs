//! Secure-by-default access control for axum handlers.
//!
//! An axum handler is a public HTTP endpoint. authgate moves its access check into the handler,
//! at compile time: one attribute, a check that runs before any of the handler's own
//! extractors, the right status code, and a router that does not compile a handler without a
//! policy.
//!
//! ```
//! use authgate::{CurrentUser, Gate, Router, public, require_auth, require_role, routing::get};
//! use authgate::issuers::Issuer;
//!
//! #[public(reason = "load-balancer health check")]
//! async fn health() -> &'static str { "ok" }
//!
//! #[require_auth]
//! async fn me(user: CurrentUser) -> String { user.subject().to_owned() }
//!
//! #[require_role("admin")]
//! async fn admin_users() -> &'static str { "[]" }
//!
//! # fn main() -> Result<(), authgate::ConfigError> {
//! let gate = Gate::builder()
//!     .issuer(Issuer::new("https://auth.example.com").secret("an HMAC secret of at least 32 bytes!!").audience("my-api"))
//!     .build()?;
//! let app = Router::new()
//!     .route("/health", get(health))
//!     .route("/api/me", get(me))
//!     .route("/api/admin/users", get(admin_users));
//! print!("{}", app.audit()); // METHOD PATH POLICY HANDLER, one line per route
//! let app: axum::Router = app.with_state(gate).into_axum();
//! # Ok(()) }
//! ```
//!
//! # The map
//!
//! What every app writes is at the root: the attributes ([`require_auth`], [`require_role`],
//! [`require_scope`], [`owned_by`], [`public`]), the [`Gate`] and its [`GateBuilder`], the
//! [`Router`] with [`routing`], the extractors ([`CurrentUser`], [`Load`], [`LoginAttempt`]),
//! [`Identity`] (who a login or token is for), and the errors: [`Rejection`] (a refusal,
//! rendered), [`ConfigError`] (a configuration refused at start). The rest is one module per
//! concept:
//!
//! | module | what it holds |
//! |---|---|
//! | [`policy`] | the policies the attributes declare, as data: the audit, OpenAPI and the probes read them |
//! | [`issuers`] | who bearer tokens are accepted from: each issuer's keys and claim rules, provider presets, fetched keys |
//! | [`keys`] | verification and signing keys, and their algorithms |
//! | [`sessions`] | browser sessions: cookies, login and logout, cross-site request forgery |
//! | [`tokens`] | the access and refresh tokens a Gate issues itself |
//! | [`revocation`] | ending bearer tokens and stateless cookies on every instance |
//! | [`store`] | where logins and revocations live, the contracts a store meets, the in-memory store |
//! | [`resource`] | resources loaded before the handler body, and their owners (`#[owned_by]`) |
//! | [`openapi`] | (feature `utoipa`) every route's security written into the OpenAPI document |
//! | [`testing`] | (feature `testing`) minting credentials, probes that prove every route is guarded, store conformance suites |
//! | [`guide`] | quick starts and how-tos, every example compiled |
//!
//! The stores for several instances are crates of their own, so that a database driver's
//! major release is not authgate's: `authgate-sqlx` (SQLite, PostgreSQL) and
//! `authgate-redis`.
//!
//! # Logs go to `tracing`
//!
//! authgate reports through [`tracing`](https://docs.rs/tracing), target `authgate`: warnings
//! about the configuration (session cookies without `Secure`), wiring errors (a `CurrentUser`
//! that found no verified caller answers 500, and the log says why), key and store failures,
//! and the precise reason of every refusal (never a token, a cookie or a password). Without a
//! subscriber these events are dropped, so install one at the top of `main`:
//!
//! ```
//! tracing_subscriber::fmt().with_writer(std::io::stderr).init();
//! ```
//!
//! Set `AUTHGATE_DEBUG=1` while building to print every expansion of the attributes to
//! stderr.
//!
//! # Features
//!
//! | feature | adds |
//! |---|---|
//! | `aws-lc-rs` (default), `rust-crypto` | the crypto backend; at least one must be on, and with both `aws-lc-rs` is used |
//! | `oidc` | keys fetched from identity providers: [`Issuer::discover`](issuers::Issuer::discover), [`Issuer::jwks`](issuers::Issuer::jwks) |
//! | `testing` | [`testing`]: minting credentials, a request helper, the probes, the store conformance suites |
//! | `utoipa` | [`openapi`]: the route policies written into a utoipa OpenAPI document |
//! | `uuid` | `uuid::Uuid` owner ids for `#[owned_by]` |
//!
//! On docs.rs every item behind a feature is marked with the feature that enables it.
//!
//! # Other crates in authgate's API
//!
//! authgate's signatures name types of these crates, re-exported here so that an app names
//! the versions authgate was built with: [`axum`] 0.8 (its `Router`, `Response`, the `http` 1
//! types it re-exports, and the `Layer` and `Service` traits of `tower-layer` and `tower-service` 0.3),
//! [`serde`] 1 (the `Serialize` of tokens and the route audit, the `DeserializeOwned` that
//! custom claims and resource ids implement), [`serde_json`] 1 (claims), with the feature
//! `utoipa`, `utoipa` 6 (the OpenAPI document), and with the feature `uuid`, `uuid` 1 (owner
//! ids). A major release of one of them is a major release of authgate; no other crate's
//! type is part of its API.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// docs.rs (`--cfg docsrs`, see Cargo.toml) marks each feature-gated item with its feature.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod algorithm;
mod cache;
mod clock;
mod credentials;
mod error;
mod gate;
mod guard;
pub mod guide;
mod identity;
pub mod issuers;
pub mod keys;
mod load;
#[cfg(feature = "utoipa")]
pub mod openapi;
pub mod policy;
mod principal;
mod reject;
pub mod resource;
pub mod revocation;
mod router;
pub mod sessions;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tokens;
mod verify;

#[cfg(any(fuzzing, test))]
mod fuzzing;
#[cfg(test)]
mod properties;

/// The crates.io page's example, compiled by `cargo test --doc` so that it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExample;

/// Crate-private parsers behind plain functions, for `fuzz/` (built with `--cfg fuzzing`,
/// which cargo-fuzz sets). Not a public API.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod __fuzz {
    pub use crate::credentials::bearer::{CredentialError, bearer_token, parse_bearer};
    pub use crate::credentials::websocket::websocket_bearer_token;
    pub use crate::fuzzing::*;
    pub use crate::sessions::redirect::is_safe_next;
}

pub use authgate_macros::{owned_by, public, require_auth, require_role, require_scope};
pub use axum;
pub use error::{ConfigError, ConfigProblem};
pub use gate::{Gate, GateBuilder, LoginAttempt};
pub use identity::Identity;
pub use load::Load;
pub use principal::{CredentialKind, CurrentUser};
pub use reject::{Rejection, RejectionKind};
pub use router::{Router, routing};
pub use serde;
pub use serde_json;
#[cfg(feature = "utoipa")]
pub use utoipa;
#[cfg(feature = "uuid")]
pub use uuid;

/// Paths used by the code the attribute macros generate. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::credentials::CredentialKind;
    pub use crate::guard::{Guard, OnlyInGuardedHandlers, Owned, PublicArg, PublicArgOk};
    pub use crate::policy::spec::{Ownership, Policy, PolicySpec, Requirement, SpecBuilder};
    pub use crate::router::bounds::{AccessGuard, HandlerArgs, NoArguments, RouterState};
}

#[cfg(test)]
mod tests {
    /// docs.rs documents every public feature: a feature added to Cargo.toml without being
    /// added to `[package.metadata.docs.rs]` would hide its items there.
    #[test]
    fn docs_rs_builds_every_public_feature() {
        let manifest = include_str!("../Cargo.toml");
        let section = |name: &str| {
            let start = manifest.find(name).expect(name) + name.len();
            let rest = &manifest[start..];
            &rest[..rest.find("\n[").unwrap_or(rest.len())]
        };
        let features: Vec<&str> = section("\n[features]\n")
            .lines()
            .filter_map(|line| line.split_once(" = ").map(|(name, _)| name.trim()))
            .filter(|name| !name.starts_with('#'))
            .collect();
        let docs_rs = section("\n[package.metadata.docs.rs]\n");
        let listed = docs_rs
            .lines()
            .find_map(|line| line.strip_prefix("features = "))
            .expect("a features list for docs.rs");
        // The default backend and its alternative are the only ones left out.
        for feature in features {
            let skipped = ["default", "aws-lc-rs", "rust-crypto"].contains(&feature);
            assert_eq!(
                listed.contains(&format!("\"{feature}\"")),
                !skipped,
                "feature `{feature}` in [package.metadata.docs.rs]"
            );
        }
    }
}
