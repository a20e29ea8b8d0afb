//! Where a credential is read from: the `Authorization: Bearer` header, the bearer token of a
//! WebSocket handshake, and the session cookie.
//!
//! This layer only reads: what a credential says is decided below it (tokens in `verify`,
//! sessions in `session`). Both readers are strict: a request that presents something
//! malformed is refused, never treated as anonymous, and never falls back to another source.

pub(crate) mod bearer;
pub(crate) mod cookie;
pub(crate) mod websocket;

pub(crate) use bearer::{CredentialError, authorization, bearer_cache_key, bearer_value};
#[cfg(test)]
pub(crate) use bearer::{bearer_token, parse_bearer};
pub(crate) use websocket::{
    WEBSOCKET_BEARER_PREFIX, WEBSOCKET_PROTOCOL, is_websocket_handshake, offered_bearer,
};
