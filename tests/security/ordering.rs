//! Ordering: the access check runs before anything the request could influence. An anonymous
//! or invalid caller gets 401 (not 400, 404, 413, 415 or 422) and its body is never read; a
//! known caller without the role, the scope or a same-origin signal gets 403 before the body is
//! parsed; nothing is loaded for either.
//!
//! Every case with a body uses a probed body that flips a flag when anything polls it.
//!
//! - OWASP ASVS 5.0.0: V8.3.1 (authorization enforced at the server before the operation),
//!   V16.5.3 (no fail-open path through parsing errors), V15.2.2 (no resource-demanding work,
//!   such as reading a large body, for callers that are refused), V16.5.1 (refusals are the
//!   generic rejection, not a parser's error text that would describe the API to anonymous
//!   callers).
//! - OWASP API Security Top 10 2023: API2 (Broken Authentication), API4 (Unrestricted Resource
//!   Consumption: bodies of refused callers are not read), API5 (Broken Function Level
//!   Authorization), API8 (Security Misconfiguration: parser errors reveal nothing before
//!   authentication).

use std::time::Duration;

use authgate::resource::Resource;
use authgate::sessions::Sessions;
use authgate::store::{MemoryStore, StoreError};
use authgate::{Gate, Identity, Load, Router, require_auth, require_role, require_scope, routing};
use axum::extract::{Form, Path, Query, State};
use axum::{Json, body::Bytes};
use serde::Deserialize;
use serde_json::json;

use crate::harness::{Case, Expect, get, post, req, run};
use crate::support::*;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Item {
    name: String,
    qty: u32,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Page {
    page: u32,
}

struct Thing;

impl Resource<AppState> for Thing {
    type Id = u32;
    async fn load(_id: u32, _state: &AppState) -> Result<Option<Self>, StoreError> {
        panic!("a resource was loaded for a caller the guard refused");
    }
}

#[require_auth]
async fn create(State(hits): State<Hits>, Json(_item): Json<Item>) -> &'static str {
    hits.hit();
    "created"
}

#[require_auth]
async fn create_form(State(hits): State<Hits>, Form(_item): Form<Item>) -> &'static str {
    hits.hit();
    "created"
}

#[require_auth]
async fn upload(State(hits): State<Hits>, _body: Bytes) -> &'static str {
    hits.hit();
    "uploaded"
}

#[require_auth]
async fn item(
    State(hits): State<Hits>,
    Path(_id): Path<u32>,
    Query(_page): Query<Page>,
) -> &'static str {
    hits.hit();
    "item"
}

#[require_auth]
async fn thing(State(hits): State<Hits>, Load(_thing): Load<Thing>) -> &'static str {
    hits.hit();
    "thing"
}

#[require_role("admin")]
async fn admin_create(State(hits): State<Hits>, Json(_item): Json<Item>) -> &'static str {
    hits.hit();
    "created"
}

#[require_role("admin")]
async fn admin_item(State(hits): State<Hits>, Path(_id): Path<u32>) -> &'static str {
    hits.hit();
    "item"
}

#[require_role("admin")]
async fn admin_thing(State(hits): State<Hits>, Load(_thing): Load<Thing>) -> &'static str {
    hits.hit();
    "thing"
}

#[require_scope("items:write")]
async fn scoped_create(State(hits): State<Hits>, Json(_item): Json<Item>) -> &'static str {
    hits.hit();
    "created"
}

#[require_auth(redirect = "/login")]
async fn page_form(State(hits): State<Hits>, Form(_item): Form<Item>) -> &'static str {
    hits.hit();
    "saved"
}

const COOKIE: &str = "__Host-session";

fn ordering_gate() -> Gate {
    gate_builder()
        .sessions(
            Sessions::server_side(COOKIE, MemoryStore::new())
                .idle_timeout(Duration::from_secs(600)),
        )
        .build()
        .unwrap()
}

fn app(gate: Gate) -> (axum::Router, Hits) {
    let state = AppState::new(gate);
    let hits = state.hits.clone();
    let app = Router::new()
        .route("/items", routing::post(create))
        .route("/items/form", routing::post(create_form))
        .route("/upload", routing::post(upload))
        .route("/items/{id}", routing::get(item))
        .route("/things/{id}", routing::get(thing))
        .route("/admin/items", routing::post(admin_create))
        .route("/admin/items/{id}", routing::get(admin_item))
        .route("/admin/things/{id}", routing::get(admin_thing))
        .route("/scoped/items", routing::post(scoped_create))
        .route("/page", routing::post(page_form))
        .with_state(state)
        .into_axum();
    (app, hits)
}

/// 3 MiB: over axum's default 2 MB body limit, so reading it would be a 413.
fn huge() -> &'static [u8] {
    Box::leak(vec![b'x'; 3 << 20].into_boxed_slice())
}

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn unauthenticated_is_401_before_400_404_413_415_and_422() {
    let (app, hits) = app(ordering_gate());
    let expired = hs256(&with(claims("alice"), "exp", json!(NOW - 3600)));
    let anon = |path: &str| post(path);
    run(
        "ordering/401 first",
        &app,
        || hits.count(),
        vec![
            Case::new(
                "malformed JSON (400)",
                anon("/items").probed_body(JSON, b"{not json"),
                Expect::unauthenticated(),
            ),
            Case::new(
                "JSON missing a field (422)",
                anon("/items").probed_body(JSON, br#"{"name":"x"}"#),
                Expect::unauthenticated(),
            ),
            Case::new(
                "JSON with a field of the wrong type (422)",
                anon("/items").probed_body(JSON, br#"{"name":"x","qty":"many"}"#),
                Expect::unauthenticated(),
            ),
            Case::new(
                "text/plain body (415)",
                anon("/items").probed_body("text/plain", b"hello"),
                Expect::unauthenticated(),
            ),
            Case::new(
                "no Content-Type (415)",
                anon("/items").probed_body("", br#"{"name":"x","qty":1}"#),
                Expect::unauthenticated(),
            ),
            Case::new(
                "3 MiB body (413)",
                anon("/upload").probed_body("application/octet-stream", huge()),
                Expect::unauthenticated(),
            ),
            Case::new(
                "malformed form (422)",
                anon("/items/form").probed_body(FORM, b"name=x&qty=%zz"),
                Expect::unauthenticated(),
            ),
            Case::new(
                "unparsable path parameter (400)",
                get("/items/abc?page=1"),
                Expect::unauthenticated(),
            ),
            Case::new(
                "unparsable query (400)",
                get("/items/1?page=many"),
                Expect::unauthenticated(),
            ),
            Case::new(
                "missing query (400)",
                get("/items/1"),
                Expect::unauthenticated(),
            ),
            Case::new(
                "nonexistent resource through Load (404)",
                get("/things/999"),
                Expect::unauthenticated(),
            ),
            Case::new(
                "unparsable resource id through Load (404)",
                get("/things/abc"),
                Expect::unauthenticated(),
            ),
            Case::new(
                "invalid token with malformed JSON",
                anon("/items").bearer("x.y.z").probed_body(JSON, b"[[["),
                Expect::invalid_token(),
            ),
            Case::new(
                "expired token with a 3 MiB body",
                anon("/upload")
                    .bearer(&expired)
                    .probed_body("application/octet-stream", huge()),
                Expect::invalid_token(),
            ),
            Case::new(
                "expired token with an unparsable path",
                get("/items/abc").bearer(&expired),
                Expect::invalid_token(),
            ),
            Case::new(
                "Basic credentials with malformed JSON",
                anon("/items")
                    .authorization("Basic YWxpY2U6aHVudGVyMg==")
                    .probed_body(JSON, b"{"),
                Expect::invalid_request(),
            ),
            Case::new(
                "two Authorization headers with JSON missing a field",
                anon("/items")
                    .bearer("a.b.c")
                    .bearer("a.b.c")
                    .probed_body(JSON, b"{}"),
                Expect::invalid_request(),
            ),
            Case::new(
                "unknown session cookie with malformed JSON",
                anon("/items")
                    .cookie(&format!("{COOKIE}={}", "A".repeat(43)))
                    .header("sec-fetch-site", "same-origin")
                    .probed_body(JSON, b"{"),
                Expect::invalid_token(),
            ),
            Case::new(
                "page route: anonymous form post is a redirect (no `next`: a browser cannot GET a form's target), body unread",
                anon("/page").probed_body(FORM, b"name=x&qty=nope"),
                Expect::redirect("/login"),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn forbidden_is_403_before_the_body_is_parsed() {
    let gate = ordering_gate();
    let cookie = login_cookie(&gate, Identity::new("alice").roles(["admin"])).await;
    let (app, hits) = app(gate);
    let user = token("alice", &["user"]);
    let as_user = |path: &str| post(path).bearer(&user);
    run(
        "ordering/403 first",
        &app,
        || hits.count(),
        vec![
            Case::new(
                "no admin role, malformed JSON (400)",
                as_user("/admin/items").probed_body(JSON, b"{not json"),
                Expect::forbidden_bearer(None),
            ),
            Case::new(
                "no admin role, JSON missing a field (422)",
                as_user("/admin/items").probed_body(JSON, b"{}"),
                Expect::forbidden_bearer(None),
            ),
            Case::new(
                "no admin role, text/plain body (415)",
                as_user("/admin/items").probed_body("text/plain", b"hello"),
                Expect::forbidden_bearer(None),
            ),
            Case::new(
                "no admin role, 3 MiB body (413)",
                as_user("/admin/items").probed_body(JSON, huge()),
                Expect::forbidden_bearer(None),
            ),
            Case::new(
                "no admin role, unparsable path (400)",
                get("/admin/items/abc").bearer(&user),
                Expect::forbidden_bearer(None),
            ),
            Case::new(
                "no admin role, nonexistent resource (404)",
                get("/admin/things/999").bearer(&user),
                Expect::forbidden_bearer(None),
            ),
            Case::new(
                "no scope, malformed JSON",
                as_user("/scoped/items").probed_body(JSON, b"{"),
                Expect::forbidden_bearer(Some("items:write")),
            ),
            Case::new(
                "admin cookie, cross-site, malformed JSON (CSRF first)",
                post("/admin/items")
                    .header("host", "app.example.com")
                    .cookie(&cookie)
                    .header("sec-fetch-site", "cross-site")
                    .probed_body(JSON, b"{not json"),
                Expect::forbidden(),
            ),
            Case::new(
                "admin cookie, evil Origin, 3 MiB body (CSRF first)",
                req("POST", "/upload")
                    .header("host", "app.example.com")
                    .cookie(&cookie)
                    .header("origin", "https://evil.example")
                    .probed_body("application/octet-stream", huge()),
                Expect::forbidden(),
            ),
        ],
    )
    .await;
}

/// The probe is not vacuous: an authorized caller's body is read (and refused by the
/// extractor with its own status), so an unread body above means the guard refused first.
#[tokio::test]
async fn control_the_body_probe_sees_reads() {
    let (app, hits) = app(ordering_gate());
    let (request, read) = post("/items")
        .bearer(&token("alice", &[]))
        .probed_body(JSON, b"{not json")
        .build();
    let reply = send_raw(&app, request).await;
    assert_eq!(reply.status.as_u16(), 400);
    assert!(
        read.expect("probed")
            .load(std::sync::atomic::Ordering::SeqCst)
    );
    let (request, read) = post("/admin/items")
        .bearer(&token("alice", &["admin"]))
        .probed_body(JSON, br#"{"name":"x","qty":1}"#)
        .build();
    let reply = send_raw(&app, request).await;
    assert_eq!(
        (reply.status.as_u16(), reply.text().as_str()),
        (200, "created")
    );
    assert!(
        read.expect("probed")
            .load(std::sync::atomic::Ordering::SeqCst)
    );
    assert_eq!(hits.count(), 1);
}
