//! The `next` validator (`is_safe_next`, through `authgate::__fuzz`, and the public
//! `authgate::sessions::safe_next`) on arbitrary strings.
//!
//! Invariants: never panics; `safe_next` agrees with `is_safe_next`; anything accepted is at
//! most 2 KiB, and at every level of percent-decoding (strict `%HH`, repeated until nothing
//! changes) starts with exactly one `/` (not `//`, not `/\`), has no `.` or `..` path segment
//! (nor normalizes into `//`), and holds no backslash, control character or white space.
#![no_main]

use authgate::__fuzz::is_safe_next;
use authgate::sessions::safe_next;
use libfuzzer_sys::fuzz_target;

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
    if let Some(problem) = authgate::__fuzz::accepted_next_problem(input) {
        panic!("accepted {input:?}: {problem}");
    }
});
