//! `authgate::{is_safe_next, safe_next}` on arbitrary strings.
//!
//! Invariants: never panics; `safe_next` agrees with `is_safe_next`; anything accepted is at
//! most 2 KiB, and at every level of percent-decoding (strict `%HH`, repeated until nothing
//! changes) starts with exactly one `/` (not `//`, not `/\`) and holds no backslash, control
//! character or white space.
#![no_main]

use authgate::{is_safe_next, safe_next};
use libfuzzer_sys::fuzz_target;

/// Strict percent-decoding: `%` must be followed by two hex digits. `None` when malformed or
/// not UTF-8.
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = (*bytes.get(i + 1)? as char).to_digit(16)?;
            let lo = (*bytes.get(i + 2)? as char).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn plain_ok(level: usize, text: &str, input: &str) {
    let bytes = text.as_bytes();
    assert_eq!(
        bytes.first(),
        Some(&b'/'),
        "level {level} of {input:?}: no leading /"
    );
    assert!(
        !matches!(bytes.get(1), Some(b'/' | b'\\')),
        "level {level} of {input:?}: {text:?} names another host"
    );
    for c in text.chars() {
        assert!(
            c != '\\' && !c.is_control() && !c.is_whitespace(),
            "level {level} of {input:?}: {c:?} in {text:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let input: &str = &input;
    let accepted = is_safe_next(input);
    let chosen = safe_next(Some(input), "/fallback");
    if accepted {
        assert!(std::ptr::eq(chosen, input));
    } else {
        assert_eq!(chosen, "/fallback");
        return;
    }
    assert!(input.len() <= 2048);
    let mut text = input.to_owned();
    for level in 0.. {
        plain_ok(level, &text, input);
        let decoded = decode(&text)
            .unwrap_or_else(|| panic!("accepted {input:?}, but level {level} is malformed"));
        if decoded == text {
            break;
        }
        assert!(
            level < 8,
            "accepted {input:?} still decoding at level {level}"
        );
        text = decoded;
    }
});
