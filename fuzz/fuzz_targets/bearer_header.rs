//! The bearer header parsers (`bearer_token`, `parse_bearer`, through `authgate::__fuzz`) on
//! arbitrary `Authorization` headers.
//!
//! Input: one byte choosing the token bound, then header values separated by `\n` (a byte no
//! header value can hold), each appended as one `Authorization` header.
//!
//! Invariants: never panics; no header is `Ok(None)`, two or more are `Duplicate`; a token that
//! is accepted is a non-empty token68 within the bound, and is exactly what follows
//! `Bearer` (any case) and one or more spaces, up to trailing spaces and tabs.
#![no_main]

use authgate::__fuzz::{CredentialError, bearer_token, parse_bearer};
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fn bound(byte: u8) -> usize {
    match byte {
        0xff => 8192,
        b => usize::from(b) * 2,
    }
}

fn is_token68(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// `token`, accepted from the header `value`, is well-formed and is the value's token.
fn check_accepted(value: &str, token: &str, bound: usize) {
    assert!(!token.is_empty(), "empty token from {value:?}");
    assert!(
        token.len() <= bound,
        "token over the bound {bound}: {value:?}"
    );
    assert!(is_token68(token), "not token68: {token:?} from {value:?}");
    assert!(
        value.len() > 6 && value.as_bytes()[..6].eq_ignore_ascii_case(b"bearer"),
        "accepted without the Bearer scheme: {value:?}"
    );
    let after_scheme = &value[6..];
    assert!(
        after_scheme.starts_with(' '),
        "no space after the scheme: {value:?}"
    );
    let rest = after_scheme.trim_start_matches(' ');
    assert!(
        rest.starts_with(token),
        "token {token:?} is not the suffix of {value:?}"
    );
    assert!(
        rest[token.len()..].bytes().all(|b| b == b' ' || b == b'\t'),
        "bytes after the token: {value:?}"
    );
    // The token is borrowed from the header, not a copy.
    let start = token.as_ptr() as usize - value.as_ptr() as usize;
    assert!(start + token.len() <= value.len());
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let bound = bound(first);

    // The string parser alone, on each piece that is UTF-8 (even if not a valid header).
    for piece in rest.split(|&b| b == b'\n') {
        if let Ok(value) = std::str::from_utf8(piece)
            && let Ok(token) = parse_bearer(value, bound)
        {
            check_accepted(value, token, bound);
        }
    }

    let mut headers = HeaderMap::new();
    let mut count = 0;
    for piece in rest.split(|&b| b == b'\n') {
        if let Ok(value) = HeaderValue::from_bytes(piece) {
            headers.append(AUTHORIZATION, value);
            count += 1;
        }
    }
    let result = bearer_token(&headers, bound);
    match count {
        0 => assert_eq!(result, Ok(None)),
        1 => {
            let value = headers.get(AUTHORIZATION).expect("one header");
            match result {
                Ok(Some(token)) => {
                    let text = value.to_str().expect("an accepted header is visible ASCII");
                    check_accepted(text, token, bound);
                    assert_eq!(parse_bearer(text, bound), Ok(token));
                }
                Ok(None) => panic!("a present header read as no credential"),
                Err(CredentialError::Duplicate) => panic!("one header read as two"),
                Err(_) => {}
            }
        }
        _ => assert_eq!(result, Err(CredentialError::Duplicate)),
    }
});
