//! Hosts the examples, the integration tests, the UI tests and the benchmarks, so that they
//! share one build of the workspace's crates.

/// The README's Rust example, compiled by `cargo test --doc` so that it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExample;
