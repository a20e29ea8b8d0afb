// The invoices example's modules, compiled into the test binaries that build its app in
// process (`include!`d at their crate root, where the modules name each other as
// `crate::app`, `crate::db`, ..). Paths are relative to this file.

#[path = "../../examples/invoices/app.rs"]
#[allow(dead_code)]
mod app;
#[path = "../../examples/invoices/auth.rs"]
#[allow(dead_code)]
mod auth;
#[path = "../../examples/invoices/db.rs"]
#[allow(dead_code)]
mod db;
#[path = "../../examples/invoices/error.rs"]
#[allow(dead_code)]
mod error;
#[path = "../../examples/invoices/feed.rs"]
#[allow(dead_code)]
mod feed;
#[path = "../../examples/invoices/handlers.rs"]
#[allow(dead_code)]
mod handlers;
#[path = "../../examples/invoices/limits.rs"]
#[allow(dead_code)]
mod limits;
#[path = "../../examples/invoices/openapi.rs"]
#[allow(dead_code)]
mod openapi;
#[path = "../../examples/invoices/pages.rs"]
#[allow(dead_code)]
mod pages;
