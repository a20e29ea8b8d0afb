//! Shared fixtures of the HTTP-level test binaries, one module per kind:
//!
//! - `gate`: the fixed-clock test Gate, a clock the test moves, the app state with its
//!   handler-ran counter;
//! - `keys`: the PEM keys of `tests/keys/`, and a key source that can be switched off;
//! - `tokens`: claims and token minting, raw JWS building, base64url;
//! - `stores`: session stores that fail, and session cookies from a Gate's own login;
//! - `files`: temporary SQLite database files;
//! - `invoices`: a seeded invoice store for the ownership tests;
//! - `request`: the one way to send a request, `TestClient` (see [`client`]), and the one raw
//!   request builder for what `TestClient` cannot express (repeated or non-UTF-8 headers, a
//!   body that reports whether it was read);
//! - `assert`: the expected rejections, checked on a `TestResponse`;
//! - `handlers`: handlers several binaries route (role and scope forms, a session login and
//!   logout);
//! - `logs`: a per-thread capture of `tracing` output;
//! - `provider`: the test identity provider (discovery and a JWKS on loopback, misbehaving on
//!   demand);
//! - `servers`: the test PostgreSQL and Redis (when their variables are set), a database and a
//!   key prefix of one test's own;
//! - `socket`: a real WebSocket client.
//!
//! Every test binary includes this module with `mod support;` (or a `#[path]` to it) and uses
//! a different subset of it, hence the `dead_code` and `unused_imports` allowances.

#![allow(dead_code, unused_imports)]

mod assert;
mod files;
mod gate;
mod handlers;
mod invoices;
mod keys;
mod logs;
mod provider;
mod request;
mod servers;
mod socket;
mod stores;
mod tokens;

pub use assert::*;
pub use files::*;
pub use gate::*;
pub use handlers::*;
pub use invoices::*;
pub use keys::*;
pub use logs::*;
pub use provider::*;
pub use request::*;
pub use servers::*;
pub use socket::*;
pub use stores::*;
pub use tokens::*;
