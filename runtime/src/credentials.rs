//! Where a credential is read from: the `Authorization` header.
//!
//! The parser is strict on purpose. Exactly one `Authorization` header; the scheme `Bearer` in
//! any case; one or more spaces; a `token68` (RFC 7235 section 2.1) of bounded length. Anything
//! else that is present is an error, never "no credential": a request that presents something
//! must not be treated as anonymous, or fall back to another credential source.

use std::fmt;

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// Why an `Authorization` header could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialError {
    /// More than one `Authorization` header.
    Duplicate,
    /// Bytes outside visible ASCII.
    NotAscii,
    /// Longer than the allowed token size.
    TooLong,
    /// A scheme other than `Bearer` (for example `Basic`).
    UnsupportedScheme,
    /// `Bearer` with no token, or a token with characters outside `token68`.
    Malformed,
}

impl CredentialError {
    /// A short name for logs and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            CredentialError::Duplicate => "duplicate_authorization_header",
            CredentialError::NotAscii => "non_ascii_authorization_header",
            CredentialError::TooLong => "authorization_header_too_long",
            CredentialError::UnsupportedScheme => "unsupported_scheme",
            CredentialError::Malformed => "malformed_bearer",
        }
    }
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for CredentialError {}

/// The bearer token of a request: `Ok(None)` when there is no `Authorization` header at all.
///
/// `max_token_bytes` bounds the token; longer values are refused before any decoding.
///
/// ```
/// use authgate::credentials::{bearer_token, CredentialError};
/// use http::{HeaderMap, HeaderValue, header::AUTHORIZATION};
///
/// let mut headers = HeaderMap::new();
/// assert_eq!(bearer_token(&headers, 8192), Ok(None));
///
/// headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer   abc.def.ghi"));
/// assert_eq!(bearer_token(&headers, 8192), Ok(Some("abc.def.ghi")));
///
/// headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic dXNlcjpwYXNz"));
/// assert_eq!(bearer_token(&headers, 8192), Err(CredentialError::UnsupportedScheme));
///
/// headers.append(AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
/// assert_eq!(bearer_token(&headers, 8192), Err(CredentialError::Duplicate));
/// ```
pub fn bearer_token(
    headers: &HeaderMap,
    max_token_bytes: usize,
) -> Result<Option<&str>, CredentialError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(CredentialError::Duplicate);
    }
    // "Bearer" + spaces + token: anything much longer than the token bound is refused unread.
    if value.len() > max_token_bytes.saturating_add(64) {
        return Err(CredentialError::TooLong);
    }
    let value = value.to_str().map_err(|_| CredentialError::NotAscii)?;
    parse_bearer(value, max_token_bytes).map(Some)
}

/// Parses one `Authorization` header value as `Bearer <token68>`.
///
/// ```
/// use authgate::credentials::{parse_bearer, CredentialError};
/// assert_eq!(parse_bearer("BEARER x.y.z", 100), Ok("x.y.z"));
/// assert_eq!(parse_bearer("Bearer", 100), Err(CredentialError::Malformed));
/// assert_eq!(parse_bearer("Bearer a b", 100), Err(CredentialError::Malformed));
/// ```
pub fn parse_bearer(value: &str, max_token_bytes: usize) -> Result<&str, CredentialError> {
    let (scheme, rest) = match value.find(' ') {
        Some(i) => (&value[..i], &value[i..]),
        None => (value, ""),
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return if scheme.is_empty() || !is_token(scheme) {
            Err(CredentialError::Malformed)
        } else {
            Err(CredentialError::UnsupportedScheme)
        };
    }
    let token = rest.trim_start_matches(' ').trim_end_matches([' ', '\t']);
    if token.is_empty() || rest.len() == token.len() {
        return Err(CredentialError::Malformed);
    }
    if token.len() > max_token_bytes {
        return Err(CredentialError::TooLong);
    }
    if !is_token68(token) {
        return Err(CredentialError::Malformed);
    }
    Ok(token)
}

/// RFC 7235 token68: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty() && all_token68(body.as_bytes())
}

/// Whether every byte is a token68 character (before the padding). This reads every byte of
/// every bearer token, so it is written without branches or early exit, which the compiler
/// turns into SIMD: several times faster than a byte-at-a-time check. The length was bounded
/// by the caller.
fn all_token68(bytes: &[u8]) -> bool {
    let mut bad = 0u8;
    for &b in bytes {
        let ok = (b.wrapping_sub(b'A') < 26)
            | (b.wrapping_sub(b'a') < 26)
            | (b.wrapping_sub(b'0') < 10)
            | (b == b'-')
            | (b == b'.')
            | (b == b'_')
            | (b == b'~')
            | (b == b'+')
            | (b == b'/');
        bad |= u8::from(!ok);
    }
    bad == 0
}

/// RFC 7230 tchar, for the scheme name.
fn is_token(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token68_bytes_are_the_rfc_set() {
        for b in 0..=255u8 {
            let rfc = b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
            assert_eq!(all_token68(&[b]), rfc, "byte {b}");
            // Also at every position of a longer run (the vectorized loop and its tail).
            for len in [15, 16, 17, 64, 100] {
                for at in [0, len / 2, len - 1] {
                    let mut run = vec![b'a'; len];
                    run[at] = b;
                    assert_eq!(all_token68(&run), rfc, "byte {b} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn header_forms() {
        let ok = [
            ("Bearer a.b.c", "a.b.c"),
            ("bearer a.b.c", "a.b.c"),
            ("BeArEr    a.b.c  ", "a.b.c"),
            ("Bearer abc==", "abc=="),
            ("Bearer a+b/c~d", "a+b/c~d"),
        ];
        for (value, token) in ok {
            assert_eq!(parse_bearer(value, 100), Ok(token), "{value}");
        }
        let bad = [
            ("Bearer", CredentialError::Malformed),
            ("Bearer ", CredentialError::Malformed),
            ("Bearer    ", CredentialError::Malformed),
            ("Bearer\ta.b.c", CredentialError::Malformed),
            ("Bearer a b", CredentialError::Malformed),
            ("Bearer ==", CredentialError::Malformed),
            ("Bearer a,b", CredentialError::Malformed),
            ("Bearer \"a\"", CredentialError::Malformed),
            ("Basic abc", CredentialError::UnsupportedScheme),
            ("Token abc", CredentialError::UnsupportedScheme),
            ("Bearerabc", CredentialError::UnsupportedScheme),
            (" Bearer abc", CredentialError::Malformed),
            ("", CredentialError::Malformed),
            ("Bearer aaaaaaaaaaa", CredentialError::TooLong),
        ];
        for (value, err) in bad {
            assert_eq!(parse_bearer(value, 10), Err(err), "{value:?}");
        }
    }

    #[test]
    fn header_map_rules() {
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            http::HeaderValue::from_bytes(b"Bearer \xffabc").unwrap(),
        );
        assert_eq!(bearer_token(&headers, 100), Err(CredentialError::NotAscii));
        let long = format!("Bearer {}", "a".repeat(500));
        headers.insert(AUTHORIZATION, long.parse().unwrap());
        assert_eq!(bearer_token(&headers, 100), Err(CredentialError::TooLong));
    }
}
