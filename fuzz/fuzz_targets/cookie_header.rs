//! Session cookie parsing (`credentials::cookie::values`, through `authgate::__fuzz`) on arbitrary
//! `Cookie` headers.
//!
//! Input: header values separated by `\n`, each appended as one `Cookie` header.
//!
//! Invariants: never panics; every value the Gate reads for the cookie `__Host-session` is one
//! `name=value` pair of a header with exactly that name (compared after trimming the pair),
//! with one surrounding pair of double quotes removed, so it never holds `;`; every such pair
//! is read (the
//! Gate needs all of them to refuse duplicates), in order; a header that is not visible ASCII
//! is skipped whole.
#![no_main]

use authgate::__fuzz::{COOKIE, session_cookie_values, session_cookie_values_in};
use http::header::COOKIE as COOKIE_HEADER;
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

/// The pairs of `header` named `COOKIE`, by the cookie grammar's rules as the Gate applies them.
fn expected(header: &str, out: &mut Vec<String>) {
    for pair in header.split(';') {
        let pair = pair.trim();
        if let Some(value) = pair.strip_prefix(COOKIE).and_then(|v| v.strip_prefix('=')) {
            let unquoted = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
            out.push(unquoted.unwrap_or(value).to_owned());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    let mut want = Vec::new();
    for piece in data.split(|&b| b == b'\n') {
        let Ok(value) = HeaderValue::from_bytes(piece) else {
            continue;
        };
        if let Ok(text) = value.to_str() {
            expected(text, &mut want);
        }
        headers.append(COOKIE_HEADER, value);
    }
    let got = session_cookie_values_in(&headers);
    for value in &got {
        assert!(!value.contains(';'), "{value:?} spans two pairs");
    }
    assert_eq!(got, want, "headers {headers:?}");

    // One header given as a string: the same reading.
    if let Ok(text) = std::str::from_utf8(data) {
        let single = session_cookie_values(text);
        let mut want = Vec::new();
        if HeaderValue::from_str(text).is_ok()
            && text
                .bytes()
                .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
        {
            expected(text, &mut want);
        }
        assert_eq!(single, want, "{text:?}");
    }
});
