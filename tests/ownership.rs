//! `#[owned_by]` over HTTP: the owner passes, everyone else gets the bytes of a missing
//! resource, nothing changes on a refused write, and nothing loads before authentication.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use authgate::testing::{Minter, TestClient};
use authgate::{
    Gate, Load, LoadError, OwnerId, Resource, Router, owned_by, require_auth, require_role,
    routing::get,
};
use axum::extract::{FromRef, Path, State};
use axum::http::{StatusCode, header};
use axum::{Json, response::IntoResponse};
use serde::{Deserialize, Serialize};

const SECRET: &[u8] = b"ownership-tests-secret-of-32-bytes!!";

#[derive(Clone, Debug, Serialize)]
struct Invoice {
    id: u64,
    user_id: u64,
    amount_cents: i64,
}

#[derive(Clone, Default)]
struct Db {
    invoices: Arc<Mutex<HashMap<u64, Invoice>>>,
    loads: Arc<AtomicUsize>,
    handler_runs: Arc<AtomicUsize>,
    fail: bool,
}

#[derive(Clone)]
struct AppState {
    gate: Gate,
    db: Db,
}

impl FromRef<AppState> for Gate {
    fn from_ref(state: &AppState) -> Gate {
        state.gate.clone()
    }
}

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Db {
        state.db.clone()
    }
}

#[derive(Debug)]
struct StoreDown;
impl std::fmt::Display for StoreDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection refused (postgres://app:hunter2@db)")
    }
}
impl std::error::Error for StoreDown {}

impl Resource<AppState> for Invoice {
    type Id = u64;
    async fn load(id: u64, state: &AppState) -> Result<Option<Self>, LoadError> {
        state.db.loads.fetch_add(1, Ordering::SeqCst);
        if state.db.fail {
            return Err(StoreDown.into());
        }
        Ok(state.db.invoices.lock().unwrap().get(&id).cloned())
    }
}

#[require_auth]
#[owned_by(invoice.user_id)]
async fn show(State(db): State<Db>, Load(invoice): Load<Invoice>) -> Json<Invoice> {
    db.handler_runs.fetch_add(1, Ordering::SeqCst);
    Json(invoice)
}

#[derive(Deserialize)]
struct Tamper {
    #[allow(dead_code)]
    user_id: Option<u64>,
}

/// The body and query carry a `user_id`; only the verified subject counts.
#[require_auth]
#[owned_by(invoice.user_id, or_role = "admin")]
async fn remove(
    State(db): State<Db>,
    Load(invoice): Load<Invoice>,
    axum::extract::Query(_q): axum::extract::Query<Tamper>,
) -> Result<StatusCode, StatusCode> {
    db.handler_runs.fetch_add(1, Ordering::SeqCst);
    db.invoices
        .lock()
        .unwrap()
        .remove(&invoice.id)
        .ok_or(StatusCode::CONFLICT)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct UserPath {
    user_id: u64,
}

/// A path struct field, and `status = 403` instead of 404.
#[require_role("user")]
#[owned_by(params.user_id, status = 403)]
async fn profile(State(db): State<Db>, Path(params): Path<UserPath>) -> impl IntoResponse {
    db.handler_runs.fetch_add(1, Ordering::SeqCst);
    format!("profile of {}", params.user_id)
}

/// A plain path binding, with a string id.
#[require_auth]
#[owned_by(name, or_role = any("admin", "support"))]
async fn by_name(State(db): State<Db>, Path(name): Path<String>) -> String {
    db.handler_runs.fetch_add(1, Ordering::SeqCst);
    name
}

fn app(db: Db) -> axum::Router {
    let gate = Gate::builder().hs256(SECRET).build().unwrap();
    let router = Router::new()
        .route("/invoices/{id}", get(show).delete(remove))
        .route("/users/{user_id}/profile", get(profile))
        .route("/names/{name}", get(by_name));
    router.with_state(AppState { gate, db }).into_axum()
}

fn seeded() -> Db {
    let db = Db::default();
    let mut invoices = db.invoices.lock().unwrap();
    invoices.insert(
        1,
        Invoice {
            id: 1,
            user_id: 7,
            amount_cents: 1200,
        },
    );
    invoices.insert(
        2,
        Invoice {
            id: 2,
            user_id: 8,
            amount_cents: 99,
        },
    );
    drop(invoices);
    db
}

fn token(sub: &str, roles: &[&str]) -> String {
    let gate = Gate::builder().hs256(SECRET).build().unwrap();
    Minter::new(&gate)
        .unwrap()
        .user(sub)
        .roles(roles.iter().copied())
        .token()
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    bearer: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let method = axum::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = TestClient::new(app.clone()).request(method, uri);
    if let Some(token) = bearer {
        request = request.bearer(token);
    }
    let reply = request.send().await;
    (reply.status, reply.headers, reply.body.to_vec())
}

const NOT_FOUND_BODY: &str = r#"{"error":"not_found","message":"not found"}"#;

#[tokio::test]
async fn owner_reads_their_invoice() {
    let db = seeded();
    let app = app(db.clone());
    let (status, _, body) = call(&app, "GET", "/invoices/1", Some(&token("7", &[]))).await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["user_id"], 7);
    assert_eq!(db.handler_runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn another_users_invoice_is_byte_identical_to_a_missing_one() {
    let db = seeded();
    let app = app(db.clone());
    let bob = token("8", &["user"]);
    let theirs = call(&app, "GET", "/invoices/1", Some(&bob)).await;
    let missing = call(&app, "GET", "/invoices/999", Some(&bob)).await;
    let unparsable = call(&app, "GET", "/invoices/abc", Some(&bob)).await;
    for (status, headers, body) in [&theirs, &missing, &unparsable] {
        assert_eq!(*status, StatusCode::NOT_FOUND);
        assert_eq!(std::str::from_utf8(body).unwrap(), NOT_FOUND_BODY);
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert!(headers.get(header::WWW_AUTHENTICATE).is_none());
    }
    assert_eq!(
        theirs.1, missing.1,
        "headers differ between not-owned and missing"
    );
    assert_eq!(db.handler_runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn refused_delete_changes_nothing_and_query_user_id_is_ignored() {
    let db = seeded();
    let app = app(db.clone());
    let (status, _, body) = call(
        &app,
        "DELETE",
        "/invoices/1?user_id=8",
        Some(&token("8", &["user"])),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(std::str::from_utf8(&body).unwrap(), NOT_FOUND_BODY);
    assert!(
        db.invoices.lock().unwrap().contains_key(&1),
        "invoice 1 was deleted"
    );
    assert_eq!(db.handler_runs.load(Ordering::SeqCst), 0);

    let (status, _, _) = call(&app, "DELETE", "/invoices/1", Some(&token("7", &[]))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!db.invoices.lock().unwrap().contains_key(&1));
}

#[tokio::test]
async fn declared_bypass_role_passes_and_undeclared_does_not() {
    let db = seeded();
    let app = app(db.clone());
    // `remove` declares or_role = "admin".
    let (status, _, _) = call(&app, "DELETE", "/invoices/2", Some(&token("1", &["admin"]))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // `show` declares no bypass: an admin who does not own it gets 404.
    let (status, _, body) = call(&app, "GET", "/invoices/1", Some(&token("1", &["admin"]))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(std::str::from_utf8(&body).unwrap(), NOT_FOUND_BODY);
    // Role names are exact.
    let (status, _, _) = call(&app, "DELETE", "/invoices/1", Some(&token("1", &["Admin"]))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(db.invoices.lock().unwrap().contains_key(&1));
}

#[tokio::test]
async fn anonymous_gets_401_before_anything_loads() {
    let db = seeded();
    let app = app(db.clone());
    let (status, headers, body) = call(&app, "GET", "/invoices/1", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::WWW_AUTHENTICATE], r#"Bearer realm="api""#);
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        r#"{"error":"unauthenticated","message":"authentication is required"}"#
    );
    let (status, _, _) = call(&app, "DELETE", "/invoices/1", Some("not.a.token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        db.loads.load(Ordering::SeqCst),
        0,
        "a resource loaded before authentication"
    );
    assert_eq!(db.handler_runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn loader_failure_is_503_without_leaking_the_error() {
    let db = Db {
        fail: true,
        ..seeded()
    };
    let app = app(db.clone());
    let (status, headers, body) = call(&app, "GET", "/invoices/1", Some(&token("7", &[]))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let body = std::str::from_utf8(&body).unwrap();
    assert_eq!(
        body,
        r#"{"error":"unavailable","message":"authentication is temporarily unavailable"}"#
    );
    assert!(!body.contains("hunter2"));
    assert_eq!(db.handler_runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn path_struct_field_with_status_403() {
    let db = seeded();
    let app = app(db.clone());
    let (status, _, body) = call(
        &app,
        "GET",
        "/users/7/profile",
        Some(&token("7", &["user"])),
    )
    .await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, b"profile of 7".as_slice())
    );
    let (status, headers, body) = call(
        &app,
        "GET",
        "/users/7/profile",
        Some(&token("8", &["user"])),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        r#"{"error":"forbidden","message":"you do not have access to this resource"}"#
    );
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    // The role check runs first: without the role it is 403 before ownership is looked at.
    let (status, _, _) = call(&app, "GET", "/users/7/profile", Some(&token("7", &[]))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(db.handler_runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn string_binding_and_any_bypass() {
    let db = seeded();
    let app = app(db.clone());
    assert_eq!(
        call(&app, "GET", "/names/alice", Some(&token("alice", &[])))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "GET", "/names/alice", Some(&token("bob", &[])))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(
            &app,
            "GET",
            "/names/alice",
            Some(&token("sue", &["support"]))
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(db.handler_runs.load(Ordering::SeqCst), 2);
}

#[test]
fn audit_shows_the_ownership_rule() {
    let router: Router<AppState> = Router::new()
        .route("/invoices/{id}", get(show).delete(remove))
        .route("/users/{user_id}/profile", get(profile));
    let lines: Vec<String> = router.policies().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "GET /invoices/{id} require_auth + owned_by(invoice.user_id)",
            "DELETE /invoices/{id} require_auth + owned_by(invoice.user_id, or_role = admin)",
            "GET /users/{user_id}/profile require_role(user) + owned_by(params.user_id, status = 403)",
        ]
    );
}

#[test]
fn ids_compare_by_exact_text() {
    assert!(7u64.is_subject("7"));
    assert!(!7u64.is_subject("07"));
    assert!(!7u64.is_subject("+7"));
    assert!((-3i32).is_subject("-3"));
    assert!(String::from("a").is_subject("a"));
    assert!(!"a".is_subject("A"));
    assert!(Some(5u8).is_subject("5"));
    assert!(!None::<u8>.is_subject(""));
}
