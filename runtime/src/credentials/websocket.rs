//! The WebSocket handshake: telling one from a plain request, and the bearer token a browser
//! sends in it.
//!
//! A browser's `WebSocket` cannot set `Authorization`. A bearer client offers the token as a
//! subprotocol instead, next to the protocol the server selects:
//!
//! ```text
//! new WebSocket(url, ["authgate", "authgate.bearer." + accessToken])
//! Sec-WebSocket-Protocol: authgate, authgate.bearer.eyJhbGciOi...
//! ```
//!
//! The handler selects [`WEBSOCKET_PROTOCOL`] (`WebSocketUpgrade::protocols`), so the token is
//! never echoed back. Unlike a token in the URL's query, the header does not land in access
//! logs, browser history or `Referer`.

use http::HeaderMap;
use http::header::{SEC_WEBSOCKET_PROTOCOL, UPGRADE};

use super::CredentialError;
use super::bearer::is_token68;

/// The subprotocol a WebSocket handler selects ([`Gate::WEBSOCKET_PROTOCOL`](crate::Gate)).
pub(crate) const WEBSOCKET_PROTOCOL: &str = "authgate";

/// The prefix of the subprotocol entry that carries a bearer token
/// ([`Gate::WEBSOCKET_BEARER_PREFIX`](crate::Gate)).
pub(crate) const WEBSOCKET_BEARER_PREFIX: &str = "authgate.bearer.";

/// Whether the request asks to open a WebSocket (RFC 6455 section 4.1: `Upgrade: websocket`).
pub(crate) fn is_websocket_handshake(headers: &HeaderMap) -> bool {
    headers.get_all(UPGRADE).iter().any(|value| {
        value.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|protocol| protocol.trim().eq_ignore_ascii_case("websocket"))
        })
    })
}

/// The bearer token a WebSocket handshake offers as `authgate.bearer.<token>` in
/// `Sec-WebSocket-Protocol`; `Ok(None)` when it offers none (or is no handshake). Two such
/// entries, a malformed token or one over `max_token_bytes` are refused, never skipped.
///
#[cfg(any(fuzzing, test))]
pub fn websocket_bearer_token(
    headers: &HeaderMap,
    max_token_bytes: usize,
) -> Result<Option<&str>, CredentialError> {
    if !is_websocket_handshake(headers) {
        return Ok(None);
    }
    offered_bearer(headers, max_token_bytes)
}

/// [`websocket_bearer_token`] of a request already known to be a handshake.
pub(crate) fn offered_bearer(
    headers: &HeaderMap,
    max_token_bytes: usize,
) -> Result<Option<&str>, CredentialError> {
    let mut found = None;
    for value in headers.get_all(SEC_WEBSOCKET_PROTOCOL) {
        let Ok(value) = value.to_str() else {
            return Err(CredentialError::NotAscii);
        };
        for entry in value.split(',').map(str::trim) {
            let Some(token) = entry.strip_prefix(WEBSOCKET_BEARER_PREFIX) else {
                continue;
            };
            if found.is_some() {
                return Err(CredentialError::Duplicate);
            }
            if token.len() > max_token_bytes {
                return Err(CredentialError::TooLong);
            }
            if !is_token68(token) {
                return Err(CredentialError::Malformed);
            }
            found = Some(token);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(upgrade: Option<&str>, protocols: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        if let Some(upgrade) = upgrade {
            map.insert(UPGRADE, HeaderValue::from_str(upgrade).unwrap());
        }
        for p in protocols {
            map.append(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_str(p).unwrap());
        }
        map
    }

    #[test]
    fn the_token_is_read_only_from_a_handshake_and_strictly() {
        let ws = Some("websocket");
        type Case<'a> = (
            Option<&'a str>,
            &'a [&'a str],
            Result<Option<&'a str>, CredentialError>,
        );
        let cases: [Case<'_>; 10] = [
            (ws, &["authgate, authgate.bearer.a.b.c"], Ok(Some("a.b.c"))),
            (
                ws,
                &["authgate", "authgate.bearer.a.b.c"],
                Ok(Some("a.b.c")),
            ),
            (ws, &["chat, authgate"], Ok(None)),
            (None, &["authgate, authgate.bearer.a.b.c"], Ok(None)),
            (Some("h2c"), &["authgate.bearer.a.b.c"], Ok(None)),
            (
                ws,
                &["authgate.bearer.a, authgate.bearer.b"],
                Err(CredentialError::Duplicate),
            ),
            (
                ws,
                &["authgate.bearer.a", "authgate.bearer.a"],
                Err(CredentialError::Duplicate),
            ),
            (ws, &["authgate.bearer."], Err(CredentialError::Malformed)),
            (
                ws,
                &["authgate.bearer.a b"],
                Err(CredentialError::Malformed),
            ),
            (
                ws,
                &["authgate.bearer.a;b"],
                Err(CredentialError::Malformed),
            ),
        ];
        for (upgrade, protocols, want) in cases {
            let map = headers(upgrade, protocols);
            assert_eq!(
                websocket_bearer_token(&map, 64),
                want,
                "{upgrade:?} {protocols:?}"
            );
        }
        let long = format!("authgate.bearer.{}", "a".repeat(65));
        let map = headers(ws, &[&long]);
        assert_eq!(
            websocket_bearer_token(&map, 64),
            Err(CredentialError::TooLong)
        );
    }
}
