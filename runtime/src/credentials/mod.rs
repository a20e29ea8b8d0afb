//! Where a credential is read from: the `Authorization: Bearer` header and the session cookie.
//!
//! This layer only reads: what a credential says is decided below it (tokens in `verify`,
//! sessions in `session`). Both readers are strict: a request that presents something
//! malformed is refused, never treated as anonymous, and never falls back to another source.

mod bearer;
pub(crate) mod cookie;

pub use bearer::{CredentialError, bearer_token, parse_bearer};
pub(crate) use bearer::{authorization, bearer_cache_key, bearer_value};
