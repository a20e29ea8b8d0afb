//! The table runner of the security suite.
//!
//! A [`Case`] is a name, a request and what must come back. [`run`] sends every case through
//! the app with `oneshot` and checks, for a rejection:
//!
//! - the status;
//! - `WWW-Authenticate`: exactly the expected challenge, or absent;
//! - `Cache-Control: no-store` and `Content-Type: application/json`;
//! - the body, byte for byte: `{"error":"<code>","message":"<the fixed message of the code>"}`;
//! - `Location`: exactly the expected target, or absent;
//! - no `Set-Cookie` (a refusal never starts or renews a session);
//! - the handler body did not run (the app's own counter did not move);
//! - when the request carries a probed body, that nothing read it.
//!
//! A control case ([`Expect::allowed`]) must answer 200 and run the handler exactly once (and,
//! when given with [`Expect::body`], answer exactly that body); it proves that the attack next
//! to it was refused for the reason under test, not by accident.
//!
//! Requests are built with the raw builder of `tests/support` (`Req`), which can send what
//! `TestClient` cannot: non-UTF-8 header values, repeated headers, probed bodies.
//!
//! Failures are collected and reported together, each with the case name.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use authgate::testing::TestResponse;
use axum::body::Body;
use axum::http::Request;

pub use crate::support::raw::{Req, get, post, req};
use crate::support::{
    message_of, page_of, send_raw, www_insufficient, www_invalid_request, www_invalid_token,
    www_missing,
};

/// What a case must answer.
#[derive(Clone, Debug)]
pub struct Expect {
    pub status: u16,
    /// The body's `error` code; `None` for a control that reaches the handler.
    pub code: Option<&'static str>,
    /// The exact `WWW-Authenticate`, or `None` when it must be absent.
    pub www: Option<String>,
    /// The exact `Location`, or `None` when it must be absent.
    pub location: Option<String>,
    /// For a control: the exact body, when the case names one.
    pub body: Option<String>,
    /// The refusal of a page route: an HTML page instead of JSON.
    pub page: bool,
}

impl Expect {
    fn rejection(status: u16, code: &'static str, www: Option<String>) -> Self {
        Expect {
            status,
            code: Some(code),
            www,
            location: None,
            body: None,
            page: false,
        }
    }

    /// 401 `unauthenticated`, `Bearer realm="tests"`: no credential was presented.
    pub fn unauthenticated() -> Self {
        Self::rejection(401, "unauthenticated", Some(www_missing()))
    }

    /// 401 `invalid_token`, `error="invalid_token"`: a credential was presented and refused.
    pub fn invalid_token() -> Self {
        Self::rejection(401, "invalid_token", Some(www_invalid_token()))
    }

    /// 401 `invalid_token`, `error="invalid_request"`: the `Authorization` header is unusable.
    pub fn invalid_request() -> Self {
        Self::rejection(401, "invalid_token", Some(www_invalid_request()))
    }

    /// 403 `forbidden` for a bearer caller: `error="insufficient_scope"` (with the scope hint).
    pub fn forbidden_bearer(scope: Option<&str>) -> Self {
        Self::rejection(403, "forbidden", Some(www_insufficient(scope)))
    }

    /// 403 `forbidden` without a challenge: cookie callers, CSRF, `owned_by(status = 403)`.
    pub fn forbidden() -> Self {
        Self::rejection(403, "forbidden", None)
    }

    /// 404 `not_found`, the bytes of a missing resource.
    pub fn not_found() -> Self {
        Self::rejection(404, "not_found", None)
    }

    /// 503 `unavailable`: a key source, session store or resource store is down.
    pub fn unavailable() -> Self {
        Self::rejection(503, "unavailable", None)
    }

    /// 500 `internal_error`: the app is wired wrongly (logged as a configuration error).
    pub fn internal_error() -> Self {
        Self::rejection(500, "internal_error", None)
    }

    /// 303 `redirect` to exactly `location`.
    pub fn redirect(location: impl Into<String>) -> Self {
        Expect {
            location: Some(location.into()),
            ..Self::rejection(303, "redirect", None)
        }
    }

    /// A control: 200 from the handler, which runs exactly once.
    pub fn allowed() -> Self {
        Expect {
            status: 200,
            code: None,
            www: None,
            location: None,
            body: None,
            page: false,
        }
    }

    /// The same refusal from a page route (`redirect = "/login"`): rendered as HTML.
    pub fn page(mut self) -> Self {
        self.page = true;
        self
    }

    /// A control that must also answer exactly this body.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        assert!(
            self.code.is_none(),
            "a rejection's body is fixed by its code"
        );
        self.body = Some(body.into());
        self
    }
}

/// One attack (or control) of a table.
pub struct Case {
    pub name: String,
    pub request: Request<Body>,
    pub expect: Expect,
    /// Flips if anything reads the request body.
    pub body_read: Option<Arc<AtomicBool>>,
}

impl Case {
    pub fn new(name: impl Into<String>, req: Req, expect: Expect) -> Self {
        let (request, body_read) = req.build();
        Case {
            name: name.into(),
            request,
            expect,
            body_read,
        }
    }
}

/// The exact default body of a rejection with this code.
pub fn body_of(code: &str) -> String {
    format!(r#"{{"error":"{code}","message":"{}"}}"#, message_of(code))
}

/// The single value of a header, lossily as text; an error if it appears more than once.
fn single_header(reply: &TestResponse, name: &str) -> Result<Option<String>, String> {
    let mut values = reply.headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(format!("{name} appears twice"));
    }
    Ok(Some(String::from_utf8_lossy(value.as_bytes()).into_owned()))
}

/// Checks one reply against its expectation; returns every mismatch.
/// `head`: the request was `HEAD`, whose answer carries the headers of the rejection but no
/// body (RFC 9110 section 9.3.2).
pub fn check(
    reply: &TestResponse,
    expect: &Expect,
    ran: usize,
    body_read: bool,
    head: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut headers = vec![
        ("www-authenticate", expect.www.clone()),
        ("location", expect.location.clone()),
    ];
    if reply.status.as_u16() != expect.status {
        problems.push(format!(
            "status {} (want {}), body {:?}",
            reply.status.as_u16(),
            expect.status,
            String::from_utf8_lossy(&reply.body)
        ));
    }
    match expect.code {
        Some(code) => {
            // A redirect answers with its `Location` only; a page route's refusal is a page.
            let (content_type, body) = match (code, expect.page) {
                ("redirect", _) => (None, String::new()),
                (_, true) => (
                    Some("text/html; charset=utf-8"),
                    page_of(expect.status, code),
                ),
                (_, false) => (Some("application/json"), body_of(code)),
            };
            headers.push(("cache-control", Some("no-store".to_owned())));
            headers.push(("content-type", content_type.map(str::to_owned)));
            headers.push(("set-cookie", None));
            let want = if head { String::new() } else { body };
            if reply.body != want.as_bytes() {
                problems.push(format!(
                    "body {:?}, want {want:?}",
                    String::from_utf8_lossy(&reply.body)
                ));
            }
            if ran != 0 {
                problems.push(format!("the handler ran {ran} time(s)"));
            }
            if body_read {
                problems.push("the request body was read before the refusal".to_owned());
            }
        }
        None => {
            if ran != 1 {
                problems.push(format!("control: the handler ran {ran} time(s), want 1"));
            }
            if let Some(want) = &expect.body
                && reply.body != want.as_bytes()
            {
                problems.push(format!(
                    "control: body {:?}, want {want:?}",
                    String::from_utf8_lossy(&reply.body)
                ));
            }
        }
    }
    for (name, want) in headers {
        match single_header(reply, name) {
            Ok(got) if got == want => {}
            Ok(got) => problems.push(format!("{name}: got {got:?}, want {want:?}")),
            Err(e) => problems.push(e),
        }
    }
    problems
}

/// How many cases a table held.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub attacks: usize,
    pub controls: usize,
}

/// Runs a table against `app`, reading the handler-ran counter with `runs`; panics with every
/// failing case (by name) at the end.
pub async fn run(
    table: &str,
    app: &axum::Router,
    runs: impl Fn() -> usize,
    cases: Vec<Case>,
) -> Tally {
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for case in cases {
        if case.expect.code.is_some() {
            tally.attacks += 1;
        } else {
            tally.controls += 1;
        }
        let before = runs();
        let head = case.request.method() == axum::http::Method::HEAD;
        let reply = send_raw(app, case.request).await;
        let ran = runs() - before;
        let read = case
            .body_read
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::SeqCst));
        let problems = check(&reply, &case.expect, ran, read, head);
        if !problems.is_empty() {
            failures.push(format!("  {}:\n    {}", case.name, problems.join("\n    ")));
        }
    }
    println!(
        "[security] {table}: {} attack case(s), {} control(s)",
        tally.attacks, tally.controls
    );
    assert!(
        failures.is_empty(),
        "{table}: {} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    tally
}
