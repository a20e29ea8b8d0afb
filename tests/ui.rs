//! Compile tests for the attribute macros and the secure-by-default router.
//!
//! Cases live in `tests/ui/<attribute>/pass/*.rs` (must compile, under `#![deny(warnings)]`)
//! and `tests/ui/<attribute>/fail/*.rs` (must fail with the error in the `.stderr` beside it).
//!
//! `TRYBUILD=overwrite cargo test --test ui` refreshes the `.stderr` files. Read and review
//! every changed `.stderr` before committing: it is the message users see, so check that it
//! points at the right token and names the fix.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/*/pass/*.rs");
    t.compile_fail("tests/ui/*/fail/*.rs");
}
