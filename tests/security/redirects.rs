//! Redirects: open-redirect attempts through the `next` of a login handler that uses
//! `authgate::safe_next`, and through the `Location` the guard itself builds for page routes
//! (`redirect = "/login"`), including the round trip guard -> login page -> login form.
//!
//! Every hostile `next` must land on the default (`/dashboard`) and nothing else; every guard
//! redirect carries the requested path percent-encoded, so no header or host can be injected.
//!
//! - OWASP ASVS 5.0.0: V3.7.2 (automatic redirects only to allowed destinations), V1.2.2
//!   (URLs built from untrusted data are encoded; `javascript:` and `data:` are refused),
//!   V1.2.1 (the path is encoded for the header: no CR/LF reaches a response header), V7.2.4
//!   (the login still issues a fresh session whatever `next` says).
//! - OWASP API Security Top 10 2023: no category is about open redirects; the nearest is
//!   API8 (Security Misconfiguration). The mapping is approximate and SECURITY.md says so.

use std::time::Duration;

use authgate::sessions::{Sessions, safe_next};
use authgate::store::MemoryStore;
use authgate::{CurrentUser, Gate, Identity, Router, public, require_auth, require_role, routing};
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use crate::harness::{Case, Expect, get, run};
use crate::support::*;

const COOKIE: &str = "__Host-session";
const PASSWORD: &str = "correct horse battery staple";

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

#[public(reason = "login form")]
async fn login(
    State(gate): State<Gate>,
    attempt: authgate::LoginAttempt,
    Form(form): Form<LoginForm>,
) -> axum::response::Response {
    if form.username != "alice" || form.password != PASSWORD {
        return Redirect::to("/login?failed").into_response();
    }
    match gate
        .login(&attempt, Identity::new("alice").roles(["user"]))
        .await
    {
        Ok(cookie) => (
            cookie,
            Redirect::to(safe_next(form.next.as_deref(), "/dashboard")),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

#[require_auth(redirect = "/login")]
async fn dashboard(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    format!("dashboard of {}", user.subject())
}

#[require_role("admin", redirect = "/login")]
async fn admin_page(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "admin"
}

#[require_auth(redirect = "/login?from=reports")]
async fn reports(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "reports"
}

/// A page's form posts here (`<form method="post">`).
#[require_auth(redirect = "/login")]
async fn delete_note(State(hits): State<Hits>) -> Redirect {
    hits.hit();
    Redirect::to("/dashboard")
}

#[require_auth(redirect = "/login")]
async fn fallback(State(hits): State<Hits>) -> (StatusCode, &'static str) {
    hits.hit();
    (StatusCode::NOT_FOUND, "no such page")
}

fn app() -> (axum::Router, Hits, Gate) {
    let gate = gate_builder()
        .sessions(
            Sessions::server_side(COOKIE, MemoryStore::new())
                .idle_timeout(Duration::from_secs(600)),
        )
        .build()
        .unwrap();
    let state = AppState::new(gate.clone());
    let hits = state.hits.clone();
    let app = Router::new()
        .route("/login", routing::post(login))
        .route("/dashboard", routing::get(dashboard))
        .route("/admin", routing::get(admin_page))
        .route("/reports", routing::get(reports))
        .route("/notes/{id}/delete", routing::post(delete_note))
        .fallback(fallback)
        .with_state(state)
        .into_axum();
    (app, hits, gate)
}

/// `application/x-www-form-urlencoded` encoding of one value (everything but unreserved).
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Decodes `%XX` once (what a query-string extractor does to `next`).
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = value.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Posts the login form with this `next` and returns (status, Location, whether a session
/// cookie was set).
async fn log_in(app: &axum::Router, password: &str, next: Option<&str>) -> (u16, String, bool) {
    let mut body = format!("username=alice&password={}", form_encode(password));
    if let Some(next) = next {
        body.push_str(&format!("&next={}", form_encode(next)));
    }
    let request = axum::http::Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body))
        .unwrap();
    let reply = send_raw(app, request).await;
    (
        reply.status.as_u16(),
        reply.header("location").unwrap_or_default().to_owned(),
        reply.headers.contains_key("set-cookie"),
    )
}

/// Hostile values of `next`: each must send the user to `/dashboard`.
const OPEN_REDIRECTS: &[&str] = &[
    // Dot segments normalize to `//evil.example` (finding F3, fixed).
    "/..//evil.example",
    "/.//evil.example",
    "/%2e%2e//evil.example",
    "/a/../..//evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "https://evil.example",
    "HTTPS://evil.example",
    "http:evil.example",
    "https:/evil.example",
    "//evil.example@app.example.com",
    "evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "/%2F%2Fevil.example",
    "/%2fevil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%255Cevil.example",
    "/%252F%252Fevil.example",
    "/%25252F%25252Fevil.example",
    "/%2525252F%2525252Fevil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/%09/evil.example",
    "/%0A/evil.example",
    "/\r\nLocation: https://evil.example",
    "/%0d%0aSet-Cookie:%20a=b",
    " //evil.example",
    "/ /evil.example",
    "/\u{3000}/evil.example",
    "/%E3%80%80/evil.example",
    "\u{ff0f}\u{ff0f}evil.example",
    "/%",
    "/%zz",
    "/%ff",
    "",
];

#[tokio::test]
async fn open_redirects_through_next_land_on_the_default() {
    let (app, hits, _gate) = app();
    let mut failures = Vec::new();
    let mut long = "/".to_owned();
    long.push_str(&"a".repeat(3000));
    let mut cases: Vec<&str> = OPEN_REDIRECTS.to_vec();
    cases.push(&long);
    for next in &cases {
        let got = log_in(&app, PASSWORD, Some(next)).await;
        if got != (303, "/dashboard".to_owned(), true) {
            failures.push(format!("next={next:?}: got {got:?}"));
        }
    }
    // Controls: same-site paths are honoured, and no `next` means the default.
    for (next, want) in [
        (
            Some("/invoices?page=2&sort=asc"),
            "/invoices?page=2&sort=asc",
        ),
        (Some("/reports#q1"), "/reports#q1"),
        (Some("/caf%C3%A9"), "/caf%C3%A9"),
        (None, "/dashboard"),
    ] {
        let got = log_in(&app, PASSWORD, next).await;
        if got != (303, want.to_owned(), true) {
            failures.push(format!("control next={next:?}: got {got:?}, want {want}"));
        }
    }
    // A failed login never follows `next`, and sets no cookie.
    let got = log_in(&app, "wrong", Some("//evil.example")).await;
    if got != (303, "/login?failed".to_owned(), false) {
        failures.push(format!("failed login: got {got:?}"));
    }
    println!(
        "[security] redirects/next: {} attack case(s), 5 control(s)",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "open redirects:\n{}",
        failures.join("\n")
    );
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn guard_redirects_encode_the_requested_path() {
    let (app, hits, gate) = app();
    let user = login_cookie(&gate, Identity::new("alice").roles(["user"])).await;
    let expired = hs256(&with(claims("alice"), "exp", serde_json::json!(NOW - 3600)));
    run(
        "redirects/guard Location",
        &app,
        || hits.count(),
        vec![
            Case::new("anonymous page visit with a query", get("/dashboard?tab=open&x=a%20b"), Expect::redirect("/login?next=%2Fdashboard%3Ftab%3Dopen%26x%3Da%2520b")),
            Case::new("protocol-relative request path (fallback)", get("//evil.example"), Expect::redirect("/login?next=%2F%2Fevil.example")),
            Case::new("encoded protocol-relative path (fallback)", get("/%2F%2Fevil.example"), Expect::redirect("/login?next=%2F%252F%252Fevil.example")),
            Case::new("encoded backslash path (fallback)", get("/%5Cevil.example"), Expect::redirect("/login?next=%2F%255Cevil.example")),
            Case::new("encoded CR LF and a header in the path", get("/dashboard%0d%0aSet-Cookie:%20x=y"), Expect::redirect("/login?next=%2Fdashboard%250d%250aSet-Cookie%3A%2520x%3Dy")),
            Case::new("encoded CR LF in the query", get("/dashboard?a=%0d%0aLocation:%20https://evil.example"), Expect::redirect("/login?next=%2Fdashboard%3Fa%3D%250d%250aLocation%3A%2520https%3A%2F%2Fevil.example")),
            Case::new("a next parameter of its own in the query", get("/dashboard?next=https://evil.example"), Expect::redirect("/login?next=%2Fdashboard%3Fnext%3Dhttps%3A%2F%2Fevil.example")),
            Case::new("login path with a query keeps it and appends next", get("/reports"), Expect::redirect("/login?from=reports&next=%2Freports")),
            Case::new("an expired token on a page route", get("/dashboard").bearer(&expired), Expect::redirect("/login?next=%2Fdashboard")),
            Case::new("a malformed Authorization header on a page route", get("/dashboard").authorization("Basic YWxpY2U6aHVudGVyMg=="), Expect::redirect("/login?next=%2Fdashboard")),
            Case::new("an unknown session cookie on a page route", get("/dashboard").cookie(&format!("{COOKIE}={}", "A".repeat(43))), Expect::redirect("/login?next=%2Fdashboard")),
            Case::new("logged in without the role: 403 as a page, not a redirect", get("/admin").cookie(&user), Expect::forbidden().page()),
        ],
    )
    .await;
}

/// A state change that finds no session (expired, logged out elsewhere) cannot come back to
/// itself after the login: the browser would `GET` a route that only takes `POST` (405). Its
/// `next` is the page that showed the form (a same-origin `Referer`), or there is none and the
/// login page's own default applies.
#[tokio::test]
async fn form_posts_come_back_to_the_page_that_posted() {
    let (app, hits, _gate) = app();
    let post = |referer: Option<&str>| {
        let r = crate::harness::post("/notes/3/delete")
            .header("host", "app.example.com")
            .body("application/x-www-form-urlencoded", b"confirm=yes");
        match referer {
            Some(referer) => r.header("referer", referer),
            None => r,
        }
    };
    let dead_cookie = format!("{COOKIE}={}", "A".repeat(43));
    run(
        "redirects/next of a state change",
        &app,
        || hits.count(),
        vec![
            Case::new(
                "no Referer: the login page's default",
                post(None),
                Expect::redirect("/login"),
            ),
            Case::new(
                "a same-origin Referer",
                post(Some("http://app.example.com/notes?tab=2")),
                Expect::redirect("/login?next=%2Fnotes%3Ftab%3D2"),
            ),
            Case::new(
                "a same-origin Referer, its fragment dropped",
                post(Some("http://app.example.com/notes#n3")),
                Expect::redirect("/login?next=%2Fnotes"),
            ),
            Case::new(
                "a same-origin Referer of the site's root",
                post(Some("http://app.example.com")),
                Expect::redirect("/login?next=%2F"),
            ),
            Case::new(
                "a same-origin Referer, with Sec-Fetch-Site",
                post(Some("http://app.example.com/notes")).header("sec-fetch-site", "same-origin"),
                Expect::redirect("/login?next=%2Fnotes"),
            ),
            Case::new(
                "a dead session cookie and a same-origin Referer",
                post(Some("http://app.example.com/notes")).cookie(&dead_cookie),
                Expect::redirect("/login?next=%2Fnotes"),
            ),
            Case::new(
                "another site's Referer",
                post(Some("https://evil.example/notes")),
                Expect::redirect("/login"),
            ),
            Case::new(
                "another port's Referer",
                post(Some("http://app.example.com:8443/notes")),
                Expect::redirect("/login"),
            ),
            Case::new(
                "a sub-domain's Referer",
                post(Some("http://evil.app.example.com/notes")),
                Expect::redirect("/login"),
            ),
            Case::new(
                "a Referer with user info",
                post(Some("http://app.example.com@evil.example/notes")),
                Expect::redirect("/login"),
            ),
            Case::new(
                "a same-origin Referer to a protocol-relative path",
                post(Some("http://app.example.com//evil.example")),
                Expect::redirect("/login"),
            ),
            Case::new(
                "a same-origin Referer with an encoded path escape",
                post(Some("http://app.example.com/%2F%2Fevil.example")),
                Expect::redirect("/login"),
            ),
            Case::new(
                "a Referer that is not a URL",
                post(Some("/notes")),
                Expect::redirect("/login"),
            ),
            Case::new(
                "two Referers",
                post(Some("http://app.example.com/notes"))
                    .header("referer", "http://app.example.com/admin"),
                Expect::redirect("/login"),
            ),
            Case::new(
                "a POST to the fallback, same-origin Referer",
                crate::harness::post("/unknown")
                    .header("host", "app.example.com")
                    .header("referer", "http://app.example.com/dashboard"),
                Expect::redirect("/login?next=%2Fdashboard"),
            ),
            Case::new(
                "HEAD still comes back to itself",
                crate::harness::req("HEAD", "/dashboard"),
                Expect::redirect("/login?next=%2Fdashboard"),
            ),
        ],
    )
    .await;
}

/// The guard's `next`, decoded once as the login page would read it, then posted back through
/// the login form: the user ends on the requested page when it is same-site, else on the
/// default, never elsewhere.
#[tokio::test]
async fn round_trip_from_guard_to_login_never_leaves_the_site() {
    let (app, _hits, _gate) = app();
    let mut failures = Vec::new();
    for (path, want) in [
        ("/dashboard?tab=1", "/dashboard?tab=1"),
        ("//evil.example", "/dashboard"),
        ("/%2F%2Fevil.example", "/dashboard"),
        ("/%5Cevil.example", "/dashboard"),
        ("/%252F%252Fevil.example", "/dashboard"),
        ("/a%0d%0aLocation:%20https://evil.example", "/dashboard"),
    ] {
        let reply = send_raw(&app, get(path).build().0).await;
        let location = reply.header("location").unwrap_or_default().to_owned();
        let Some(next) = location.split_once("next=").map(|(_, n)| percent_decode(n)) else {
            failures.push(format!("{path}: no next in {location:?}"));
            continue;
        };
        let got = log_in(&app, PASSWORD, Some(&next)).await;
        if got != (303, want.to_owned(), true) {
            failures.push(format!("{path} (next {next:?}): got {got:?}, want {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
