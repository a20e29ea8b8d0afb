//! The bearer token: the `Authorization` header.
//!
//! The parser is strict on purpose. Exactly one `Authorization` header; the scheme `Bearer` in
//! any case; one or more spaces; a `token68` (RFC 7235 section 2.1) of bounded length. Anything
//! else that is present is an error, never "no credential": a request that presents something
//! must not be treated as anonymous, or fall back to another credential source.

use std::fmt;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};

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
#[cfg(any(fuzzing, test))]
pub fn bearer_token(
    headers: &HeaderMap,
    max_token_bytes: usize,
) -> Result<Option<&str>, CredentialError> {
    match authorization(headers)? {
        Some(value) => bearer_value(value, max_token_bytes).map(Some),
        None => Ok(None),
    }
}

/// The request's one `Authorization` header: `Ok(None)` without one, an error with several.
pub(crate) fn authorization(headers: &HeaderMap) -> Result<Option<&HeaderValue>, CredentialError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(CredentialError::Duplicate);
    }
    Ok(Some(value))
}

/// The bearer token of one `Authorization` header value, checked strictly (see
/// [`bearer_token`]).
pub(crate) fn bearer_value(
    value: &HeaderValue,
    max_token_bytes: usize,
) -> Result<&str, CredentialError> {
    // "Bearer" + spaces + token: anything much longer than the token bound is refused unread.
    if value.len() > max_token_bytes.saturating_add(64) {
        return Err(CredentialError::TooLong);
    }
    // The usual form, `Bearer <token68>` with one space, in one pass over the token (the
    // token68 check implies visible ASCII); everything else, errors included, goes through
    // the general parse below, which this agrees with wherever it answers.
    if let Some(token) = bearer_cache_key(value.as_bytes(), max_token_bytes)
        && let Ok(token) = std::str::from_utf8(token)
        && is_token68(token)
    {
        return Ok(token);
    }
    let value = value.to_str().map_err(|_| CredentialError::NotAscii)?;
    parse_bearer(value, max_token_bytes)
}

/// The bytes after `Bearer ` (the scheme in any case, then exactly one space), unchecked: the
/// key the token cache is asked with before the strict parse.
///
/// Only the cache may take these bytes as a token, and only on a hit: the cache holds nothing
/// but tokens that passed [`bearer_value`] and verified, so bytes equal to one of them are a
/// header that [`bearer_value`] would accept and parse to exactly those bytes (one space, then
/// a token68 with no surrounding whitespace, within the length bound). On a miss the strict
/// parse runs as if this had not been asked.
pub(crate) fn bearer_cache_key(value: &[u8], max_token_bytes: usize) -> Option<&[u8]> {
    let (scheme, token) = value.split_at_checked(7)?;
    (scheme.eq_ignore_ascii_case(b"bearer ") && !token.is_empty() && token.len() <= max_token_bytes)
        .then_some(token)
}

/// Parses one `Authorization` header value as `Bearer <token68>`.
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
pub(super) fn is_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty() && all_token68(body.as_bytes())
}

/// Whether every byte is a token68 character (before the padding). It reads every byte of
/// every bearer token, so it has no branches or early exit: the compiler vectorizes it. The
/// length was bounded by the caller.
fn all_token68(bytes: &[u8]) -> bool {
    #[inline(always)]
    fn bad(b: u8) -> u8 {
        // `-./0-9` are one run (0x2D..=0x39), and `b | 0x20` folds the two letter ranges
        // into one: three ranges and three bytes, fewer vector operations than ten tests.
        let ok = ((b | 0x20).wrapping_sub(b'a') < 26)
            | (b.wrapping_sub(b'-') < 13)
            | (b == b'_')
            | (b == b'~')
            | (b == b'+');
        u8::from(!ok)
    }
    // Fixed 32-byte blocks, which the compiler vectorizes reliably; the tail is the last 32
    // bytes again, overlapping the previous block.
    #[inline(always)]
    fn block_bad(block: &[u8]) -> u8 {
        block.iter().fold(0, |acc, &b| acc | bad(b))
    }
    if bytes.len() < 32 {
        return block_bad(bytes) == 0;
    }
    let mut blocks = bytes.chunks_exact(32);
    let mut any_bad = 0u8;
    for block in &mut blocks {
        any_bad |= block_bad(block);
    }
    if !blocks.remainder().is_empty() {
        any_bad |= block_bad(&bytes[bytes.len() - 32..]);
    }
    any_bad == 0
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
    fn bearer_tokens_are_read_strictly() {
        use http::header::AUTHORIZATION;
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers, 8192), Ok(None));
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static("bearer   abc.def.ghi"),
        );
        assert_eq!(bearer_token(&headers, 8192), Ok(Some("abc.def.ghi")));
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Basic dXNlcjpwYXNz"),
        );
        assert_eq!(
            bearer_token(&headers, 8192),
            Err(CredentialError::UnsupportedScheme)
        );
        headers.append(AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(
            bearer_token(&headers, 8192),
            Err(CredentialError::Duplicate)
        );
        assert_eq!(parse_bearer("BEARER x.y.z", 100), Ok("x.y.z"));
        assert_eq!(parse_bearer("Bearer", 100), Err(CredentialError::Malformed));
        assert_eq!(
            parse_bearer("Bearer a b", 100),
            Err(CredentialError::Malformed)
        );
    }

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

    /// The token cache is asked with `bearer_cache_key` before the strict parse, and a hit
    /// skips that parse. Sound only if: whenever the key equals a token the strict parse
    /// accepted (all the cache ever holds), the strict parse of this header gives that token.
    #[test]
    fn a_cache_key_equal_to_an_accepted_token_is_what_the_strict_parse_returns() {
        // (and the one-pass parse of the usual form answers as the general parse)
        let tokens = ["a.b.c", "abc==", "a+b/c~d", "x", "a.b.c=", "aaaaaaaaaa"];
        let schemes = [
            "Bearer", "bearer", "BEARER", "bEaReR", "Basic", "Bearerx", "Bear", "",
        ];
        let separators = ["", " ", "  ", "\t", " \t", ",", ": "];
        let affixes = ["", " ", "  ", "\t", "=", "x", ",", " x", "\u{0}", "\u{e9}"];
        let max = 10;
        let header = |s: &str| HeaderValue::from_bytes(s.as_bytes());
        let mut keyed = std::collections::HashSet::new();
        for stored in tokens {
            // What the cache can hold: tokens the strict parse accepted.
            let stored_header = header(&format!("Bearer {stored}")).unwrap();
            let accepted = bearer_value(&stored_header, max).unwrap();
            for scheme in schemes {
                for sep in separators {
                    for before in affixes {
                        for after in affixes {
                            let text = format!("{scheme}{sep}{before}{accepted}{after}");
                            let Ok(value) = header(&text) else { continue };
                            // The one-pass form agrees with the general parse everywhere.
                            let general = value
                                .to_str()
                                .map_err(|_| CredentialError::NotAscii)
                                .and_then(|v| parse_bearer(v, max));
                            assert_eq!(bearer_value(&value, max), general, "{text:?}");
                            if bearer_cache_key(value.as_bytes(), max) == Some(accepted.as_bytes())
                            {
                                assert_eq!(bearer_value(&value, max), Ok(accepted), "{text:?}");
                                keyed.insert(text);
                            }
                        }
                    }
                }
            }
        }
        // Exactly the four spellings of the scheme, one space, the token: nothing else keys.
        assert_eq!(keyed.len(), 4 * tokens.len(), "{keyed:?}");
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
