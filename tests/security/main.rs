//! The adversarial security suite: attacks a reviewer would try against authgate, over HTTP,
//! each one asserting the status, the protocol headers (`WWW-Authenticate` exactly or absent,
//! `Cache-Control: no-store`, `Location`), the JSON body's `error` code byte for byte, and that
//! the handler body did not run.
//!
//! One module per group; every module's doc comment names the OWASP ASVS 5.0.0 requirements
//! and OWASP API Security Top 10 2023 risks it covers, and `SECURITY.md` maps them in one table.
//! The table runner is in `harness`; the keys, tokens and log capture are shared with the other
//! test binaries through `tests/support`.
//!
//! Run with `cargo test --test security` (add `-- --nocapture` to see the case count of every
//! table).

#[path = "../support/mod.rs"]
mod support;

mod harness;

mod authz;
mod cookies;
mod credentials;
mod csrf;
mod header;
mod hygiene;
mod jwt;
mod ordering;
mod ownership;
mod redirects;
mod websocket;
