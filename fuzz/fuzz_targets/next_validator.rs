//! `authgate::{is_safe_next, safe_next}` on arbitrary strings.
//!
//! Invariants: never panics; `safe_next` agrees with `is_safe_next`; anything accepted is at
//! most 2 KiB, and at every level of percent-decoding (strict `%HH`, repeated until nothing
//! changes) starts with exactly one `/` (not `//`, not `/\`), has no `.` or `..` path segment
//! (nor normalizes into `//`), and holds no backslash, control character or white space.
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

/// RFC 3986 section 5.2.4, as a browser applies it to a redirect target's path.
fn remove_dot_segments(path: &str) -> String {
    let mut input = path.to_owned();
    let mut output = String::new();
    while !input.is_empty() {
        if let Some(rest) = input
            .strip_prefix("../")
            .or_else(|| input.strip_prefix("./"))
        {
            input = rest.to_owned();
        } else if input.starts_with("/./") {
            input.replace_range(..3, "/");
        } else if input == "/." {
            input = "/".to_owned();
        } else if input.starts_with("/../") || input == "/.." {
            let len = if input == "/.." { 3 } else { 4 };
            input.replace_range(..len, "/");
            output.truncate(output.rfind('/').unwrap_or(0));
        } else if input == "." || input == ".." {
            input.clear();
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            output.push_str(&input[..end]);
            input.replace_range(..end, "");
        }
    }
    output
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
    // No `.` or `..` segment: `/..//host` normalizes to `//host`. And normalizing, as a
    // browser does, cannot produce another host either.
    let path = text.split(['?', '#']).next().unwrap_or_default();
    assert!(
        !path.split('/').any(|seg| seg == "." || seg == ".."),
        "level {level} of {input:?}: dot segment in {text:?}"
    );
    let normalized = remove_dot_segments(path);
    assert!(
        !normalized.starts_with("//") && !normalized.starts_with("/\\"),
        "level {level} of {input:?}: {text:?} normalizes to {normalized:?}"
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
