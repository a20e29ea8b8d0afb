//! Where a credential is read from: the `Authorization: Bearer` header, the bearer token of a
//! WebSocket handshake, and the session cookie.
//!
//! This layer only reads: what a credential says is decided below it (tokens in `verify`,
//! sessions in `session`). Both readers are strict: a request that presents something
//! malformed is refused, never treated as anonymous, and never falls back to another source.

mod bearer;
pub(crate) mod cookie;
mod websocket;

pub use bearer::{CredentialError, bearer_token, parse_bearer};
pub(crate) use bearer::{authorization, bearer_cache_key, bearer_value};
pub use websocket::{WEBSOCKET_BEARER_PREFIX, WEBSOCKET_PROTOCOL, websocket_bearer_token};
pub(crate) use websocket::{is_websocket_handshake, offered_bearer};
