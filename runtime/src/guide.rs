//! Guides: the three common setups from start to a test, then the how-tos. Every example
//! here is compiled and run by `cargo test --doc`.

#[doc = include_str!("../docs/quickstart_api.md")]
pub mod api_behind_an_identity_provider {}

#[doc = include_str!("../docs/quickstart_browser.md")]
pub mod browser_app_with_sessions {}

#[doc = include_str!("../docs/quickstart_issuing.md")]
pub mod app_that_issues_its_own_tokens {}

#[doc = include_str!("../docs/identity_providers.md")]
pub mod identity_providers {}
