//! The expected rejections, checked on a `TestResponse`.

use authgate::testing::TestResponse;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::gate::REALM;

/// The single value of a header as text; panics if it appears more than once or is not text.
#[track_caller]
pub fn single_header<'a>(reply: &'a TestResponse, name: &str) -> Option<&'a str> {
    let mut values = reply.headers.get_all(name).iter();
    let value = values.next()?;
    assert!(values.next().is_none(), "header {name} appears twice");
    Some(value.to_str().expect("header value is text"))
}

/// The body as JSON; panics if it is not JSON.
#[track_caller]
pub fn json_body(reply: &TestResponse) -> Value {
    serde_json::from_slice(&reply.body)
        .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", reply.body))
}

/// The fixed message of each rejection code.
pub fn message_of(code: &str) -> &'static str {
    match code {
        "unauthenticated" | "redirect" => "authentication is required",
        "invalid_token" => "the credential is invalid or expired",
        "forbidden" => "you do not have access to this resource",
        "not_found" => "not found",
        "unavailable" => "authentication is temporarily unavailable",
        "internal_error" => "internal server error",
        other => panic!("unknown rejection code {other}"),
    }
}

/// `Bearer realm="tests"`: no credential.
pub fn www_missing() -> String {
    format!(r#"Bearer realm="{REALM}""#)
}

/// `Bearer realm="tests", error="invalid_token"`.
pub fn www_invalid_token() -> String {
    format!(r#"Bearer realm="{REALM}", error="invalid_token""#)
}

/// `Bearer realm="tests", error="invalid_request"`.
pub fn www_invalid_request() -> String {
    format!(r#"Bearer realm="{REALM}", error="invalid_request""#)
}

/// `Bearer realm="tests", error="insufficient_scope"[, scope="..."]`.
pub fn www_insufficient(scope: Option<&str>) -> String {
    match scope {
        Some(scope) => {
            format!(r#"Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}""#)
        }
        None => format!(r#"Bearer realm="{REALM}", error="insufficient_scope""#),
    }
}

/// Asserts a default-rendered rejection: status, exact `WWW-Authenticate` (or its absence),
/// `Cache-Control: no-store`, `Content-Type: application/json` and exactly
/// `{"error": code, "message": <the fixed message>}`.
#[track_caller]
pub fn assert_rejection(reply: &TestResponse, status: u16, code: &str, www: Option<&str>) {
    assert_eq!(
        reply.status.as_u16(),
        status,
        "status; body: {:?}",
        reply.body
    );
    assert_eq!(
        single_header(reply, "www-authenticate"),
        www,
        "WWW-Authenticate of a {status} {code}"
    );
    assert_eq!(single_header(reply, "cache-control"), Some("no-store"));
    assert_eq!(
        single_header(reply, "content-type"),
        Some("application/json")
    );
    assert_eq!(
        json_body(reply),
        json!({ "error": code, "message": message_of(code) }),
        "body of a {status} {code}"
    );
}

/// Asserts a page route's 303 to the login page: exactly this `Location`, `Cache-Control:
/// no-store`, no challenge, and no body (no JSON, no HTML: the `Location` is the answer).
#[track_caller]
pub fn assert_redirect(reply: &TestResponse, location: &str) {
    assert_eq!(reply.status.as_u16(), 303, "status; body: {:?}", reply.body);
    assert_eq!(single_header(reply, "location"), Some(location));
    assert_eq!(single_header(reply, "cache-control"), Some("no-store"));
    assert_eq!(single_header(reply, "www-authenticate"), None);
    assert_eq!(single_header(reply, "content-type"), None);
    assert!(reply.body.is_empty(), "body of a 303: {:?}", reply.body);
}

/// The default HTML page of a page route's refusal, byte for byte.
pub fn page_of(status: u16, code: &str) -> String {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{status} {reason}</title>\
         </head><body><h1>{status} {reason}</h1><p>{}</p></body></html>\n",
        message_of(code)
    )
}

/// Asserts a page route's refusal rendered by default: status, exact `WWW-Authenticate` (or
/// its absence), `Cache-Control: no-store`, `Content-Type: text/html; charset=utf-8` and
/// exactly the page of the code, which a browser shows as a page, not as raw JSON.
#[track_caller]
pub fn assert_page_rejection(reply: &TestResponse, status: u16, code: &str, www: Option<&str>) {
    assert_eq!(
        reply.status.as_u16(),
        status,
        "status; body: {:?}",
        reply.body
    );
    assert_eq!(single_header(reply, "www-authenticate"), www);
    assert_eq!(single_header(reply, "cache-control"), Some("no-store"));
    assert_eq!(
        single_header(reply, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        reply.text(),
        page_of(status, code),
        "page of a {status} {code}"
    );
}

#[track_caller]
pub fn assert_unauthenticated(reply: &TestResponse) {
    assert_rejection(reply, 401, "unauthenticated", Some(&www_missing()));
}

#[track_caller]
pub fn assert_invalid_token(reply: &TestResponse) {
    assert_rejection(reply, 401, "invalid_token", Some(&www_invalid_token()));
}

#[track_caller]
pub fn assert_invalid_request(reply: &TestResponse) {
    assert_rejection(reply, 401, "invalid_token", Some(&www_invalid_request()));
}

#[track_caller]
pub fn assert_forbidden(reply: &TestResponse, scope: Option<&str>) {
    assert_rejection(reply, 403, "forbidden", Some(&www_insufficient(scope)));
}

/// Asserts a 200 with this text body, and no `WWW-Authenticate`.
#[track_caller]
pub fn assert_ok(reply: &TestResponse, body: &str) {
    assert_eq!(reply.status, StatusCode::OK, "body: {:?}", reply.body);
    assert_eq!(reply.text(), body);
    assert_eq!(single_header(reply, "www-authenticate"), None);
}
