//! Secure-by-default access control for axum handlers.
//!
//! An axum handler is a public HTTP endpoint. authgate moves its access check into the handler,
//! at compile time: one attribute, a check that runs before any of the handler's own
//! extractors, the right status code, and a router that does not compile a handler without a
//! policy.
//!
//! ```
//! use authgate::{CurrentUser, Gate, Router, public, require_auth, require_role, routing::get};
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
//! # fn main() -> Result<(), authgate::GateError> {
//! let gate = Gate::builder()
//!     .hs256("an HMAC secret of at least 32 bytes!!")
//!     .issuer("https://auth.example.com")
//!     .audience("my-api")
//!     .build()?;
//! let app = Router::new()
//!     .route("/health", get(health))
//!     .route("/api/me", get(me))
//!     .route("/api/admin/users", get(admin_users));
//! for line in app.policies() {
//!     println!("{line}"); // GET /api/me require_auth ...
//! }
//! let app: axum::Router = app.with_state(gate).into_axum();
//! # Ok(()) }
//! ```
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
//! Set `AUTHGATE_DEBUG=1` while building to print every expansion to stderr.
//!
//! # Logs go to `tracing`
//!
//! authgate reports through [`tracing`](https://docs.rs/tracing), target `authgate`: warnings
//! about the configuration (session cookies without `Secure`), wiring errors (a `CurrentUser`
//! that found no verified caller answers 500, and the log says why), key and store failures,
//! and the precise reason of every refusal (never the token). Without a subscriber these
//! events are dropped, so install one at the top of `main`, as the examples do:
//!
//! ```
//! tracing_subscriber::fmt().with_writer(std::io::stderr).init();
//! ```
//!
//! # Features
//!
//! | feature | adds |
//! |---|---|
//! | `aws-lc-rs` (default) or `rust-crypto` | the crypto backend; exactly one must be on |
//! | `oidc` | keys from identity providers: `GateBuilder::oidc_issuer`, `GateBuilder::jwks` |
//! | `sqlite`, `postgres`, `redis` | session and revocation stores: `SqliteStore`, `PostgresStore`, `RedisStore` and their `*Revocations` |
//! | `testing` | `authgate::testing`: minting credentials, a request helper, the route and ownership probes |
//! | `utoipa` | `authgate::openapi`: the route policies written into a utoipa OpenAPI document |
//! | `uuid` | `uuid::Uuid` owner ids for `#[owned_by]` |
//!
//! On docs.rs every item behind a feature is marked with the feature that enables it.
//!
//! # How the crate is laid out
//!
//! A request goes down the layers and comes back up; no module imports one above it, and
//! nothing in production code imports the test kit:
//!
//! ```text
//! openapi       (feature utoipa) the route policies written into a utoipa OpenAPI document
//! router        authgate::Router: accepts only guarded handlers; the route audit
//!   guard       the extractors: Guard (injected first), CurrentUser; ownership: Load, OwnerId;
//!               refreshed: Refreshed
//!     gate      the Gate: builder (settings) -> authenticate -> decide; issuing and refresh;
//!               login: LoginAttempt (the origin check of a login)
//!       credentials   where a credential is read: bearer header, WebSocket subprotocol, cookie
//!       cache         verified tokens, by exact bytes (per issuer: until its keys change)
//!       issuers       keys and claim rules per issuer, chosen by the token's `iss` (Issuer,
//!                     Provider presets); (feature oidc) JWKS and discovery, fetched and
//!                     refreshed off the request path
//!       tokens        issuing: the access tokens the Gate signs with its own key and rules
//!       session       sessions: settings, lifecycle (login, logout, revoke, renew), stores;
//!                     refresh: refresh token families (settings, the store contract,
//!                     rotation, reuse), kept in the same stores
//!       revocation    revoked tokens: the store contract, the local view, the feed's task
//!       verify        tokens: keys, JWS, claim rules, JSON, JWK sets, signing
//!       csrf          the origin check of cookie-authenticated state changes
//!       redirect      the login redirect and `next` validation
//!         policy, principal, reject, error     data: policies, the caller, refusals, config errors
//! ```
//!
//! `testing` (feature `testing`) sits on top of `router` and `gate`. The stores `sqlite`,
//! `postgres` and `redis` (features of those names) implement `session`'s `SessionStore`,
//! `session::refresh`'s `RefreshStore` and `revocation`'s `RevocationStore`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// docs.rs (`--cfg docsrs`, see Cargo.toml) marks each feature-gated item with its feature.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cache;
pub mod credentials;
mod csrf;
mod error;
mod gate;
mod guard;
mod issuers;
#[cfg(feature = "utoipa")]
pub mod openapi;
mod ownership;
mod policy;
#[cfg(feature = "postgres")]
mod postgres;
mod principal;
mod redirect;
#[cfg(feature = "redis")]
mod redis;
mod refreshed;
mod reject;
mod revocation;
mod router;
mod session;
mod session_key;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod tokens;
mod verify;

/// Crate-private parsers behind plain functions, for `fuzz/` and the property tests (feature
/// `fuzzing`). Not a public API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
#[path = "fuzzing.rs"]
pub mod __fuzz;

pub use authgate_macros::{owned_by, public, require_auth, require_role, require_scope};
pub use csrf::Csrf;
pub use error::GateError;
pub use gate::{Gate, GateBuilder, LoginAttempt};
pub use guard::Guard;
#[cfg(feature = "oidc")]
pub use issuers::KeyRefresh;
pub use issuers::{Issuer, Provider};
pub use jsonwebtoken::Algorithm;
pub use ownership::{Load, LoadError, OwnerId, Resource};
pub use policy::{Access, Ownership, Policy, PolicySpec, Requirement};
#[cfg(feature = "postgres")]
pub use postgres::{PostgresRevocations, PostgresStore};
pub use principal::{Claims, CredentialKind, CurrentUser};
pub use redirect::{is_safe_next, safe_next};
#[cfg(feature = "redis")]
pub use redis::{RedisRevocations, RedisStore};
pub use refreshed::Refreshed;
pub use reject::{Rejection, RejectionKind};
pub use revocation::{
    FeedEvent, MemoryRevocations, Revocation, RevocationFeed, RevocationStore, Revocations,
};
pub use router::{MethodRouter, RouteAudit, RoutePolicy, Router, routing};
pub use session::refresh::{RefreshFamily, RefreshStore, RefreshToken, RefreshTokens};
pub use session::{
    MemoryStore, SameSite, SessionCookie, SessionError, SessionErrorKind, SessionKey, SessionLayer,
    SessionRecord, SessionService, SessionStore, SessionUser, Sessions, StoreError,
};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteRevocations, SqliteStore};
pub use tokens::{AccessToken, Tokens};
pub use verify::{BoxFuture, Key, KeySet, KeySource, KeySourceError, SigningKey};

/// Paths used by the code the attribute macros generate. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::guard::{Guard, OnlyInGuardedHandlers, PublicArg, PublicArgOk};
    pub use crate::ownership::Owned;
    pub use crate::policy::{Access, Ownership, Policy, PolicySpec, Requirement};
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
        // The default backend, its alternative (they cannot be on together) and the fuzzing
        // surface (not a public API) are the only ones left out.
        for feature in features {
            let skipped = ["default", "aws-lc-rs", "rust-crypto", "fuzzing"].contains(&feature);
            assert_eq!(
                listed.contains(&format!("\"{feature}\"")),
                !skipped,
                "feature `{feature}` in [package.metadata.docs.rs]"
            );
        }
    }
}
