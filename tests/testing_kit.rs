//! The test kit against routers that are deliberately wrong (each must be reported) and
//! against a correct one (nothing reported).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use authgate::testing::{Credential, Minter, OwnershipProbe, RouteProbe, TestClient};
use authgate::{
    CurrentUser, Gate, Load, LoadError, MemoryStore, Resource, Router, Sessions, owned_by, public,
    require_auth, require_role, require_scope, routing::get, routing::post,
};
use axum::Json;
use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

const SECRET: &str = "testing-kit-secret-of-at-least-32-bytes";

type Items = Arc<Mutex<HashMap<u64, (String, String)>>>;

#[derive(Clone)]
struct AppState {
    gate: Gate,
    items: Items,
}

impl FromRef<AppState> for Gate {
    fn from_ref(state: &AppState) -> Gate {
        state.gate.clone()
    }
}

#[derive(Clone)]
struct Item {
    owner: String,
    text: String,
}

impl Resource<AppState> for Item {
    type Id = u64;
    async fn load(id: u64, state: &AppState) -> Result<Option<Self>, LoadError> {
        Ok(state
            .items
            .lock()
            .unwrap()
            .get(&id)
            .map(|(owner, text)| Item {
                owner: owner.clone(),
                text: text.clone(),
            }))
    }
}

#[public(reason = "health check")]
async fn health() -> &'static str {
    "ok"
}

#[public(reason = "oops: export should need a login")]
async fn export() -> &'static str {
    "all the data"
}

#[require_auth]
async fn me(user: CurrentUser) -> String {
    user.subject().to_owned()
}

#[require_role("admin")]
async fn admin_users() -> &'static str {
    "[]"
}

/// The bug under test: an admin page guarded by login only.
#[require_auth]
async fn admin_users_missing_role() -> &'static str {
    "[]"
}

#[require_scope("reports:read")]
async fn reports() -> &'static str {
    "reports"
}

#[require_auth(redirect = "/login")]
async fn dashboard() -> &'static str {
    "dashboard"
}

#[require_auth]
async fn create(
    State(items): State<Items>,
    user: CurrentUser,
    Json(body): Json<Value>,
) -> Response {
    let mut items = items.lock().unwrap();
    let id = items.len() as u64 + 1;
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    items.insert(id, (user.subject().to_owned(), text));
    (StatusCode::CREATED, Json(json!({ "id": id }))).into_response()
}

#[require_auth]
#[owned_by(item.owner)]
async fn show(Load(item): Load<Item>) -> String {
    item.text
}

#[require_auth]
#[owned_by(item.owner)]
async fn remove(
    State(items): State<Items>,
    Path(id): Path<u64>,
    Load(item): Load<Item>,
) -> StatusCode {
    let _ = item;
    items.lock().unwrap().remove(&id);
    StatusCode::NO_CONTENT
}

/// The bug under test: no ownership check at all.
#[require_auth]
async fn show_unchecked(Load(item): Load<Item>) -> String {
    item.text
}

#[require_auth]
async fn remove_unchecked(State(items): State<Items>, Path(id): Path<u64>) -> StatusCode {
    items.lock().unwrap().remove(&id);
    StatusCode::NO_CONTENT
}

impl FromRef<AppState> for Items {
    fn from_ref(state: &AppState) -> Items {
        state.items.clone()
    }
}

fn gate() -> Gate {
    Gate::builder()
        .hs256(SECRET)
        .issuer("kit")
        .audience("kit-api")
        .sessions(Sessions::server_side("sid", MemoryStore::new()))
        .build()
        .unwrap()
}

fn state(gate: &Gate) -> AppState {
    AppState {
        gate: gate.clone(),
        items: Items::default(),
    }
}

fn correct(gate: &Gate) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/me", get(me))
        .route("/admin/users", get(admin_users))
        .route("/reports", get(reports))
        .route("/dashboard", get(dashboard))
        .route("/items", post(create))
        .route("/items/{id}", get(show).delete(remove))
        .with_state(state(gate))
}

#[tokio::test]
async fn correct_router_reports_nothing() {
    let gate = gate();
    let minter = Minter::new(&gate).unwrap();
    let report = RouteProbe::new(&correct(&gate), &minter)
        .allow_public(["/health"])
        .expect_roles("/admin", ["admin"])
        .run()
        .await;
    assert!(report.is_ok(), "{report}");
    // Anonymous to each of 8 routes, plus a role-less user to the role and scope routes.
    assert_eq!(report.requests, 8 + 2);
}

#[tokio::test]
async fn missing_role_check_is_reported() {
    let gate = gate();
    let minter = Minter::new(&gate).unwrap();
    let wrong = Router::new()
        .route("/health", get(health))
        .route("/admin/users", get(admin_users_missing_role))
        .with_state(state(&gate));
    let report = RouteProbe::new(&wrong, &minter)
        .expect_roles("/admin", ["admin"])
        .run()
        .await;
    let lines: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "GET /admin/users: does not require role admin (policy: require_auth)",
            "GET /admin/users: answers 200 to a user without the roles and scopes; expected 403",
        ]
    );
}

#[tokio::test]
async fn unexpected_public_route_is_reported() {
    let gate = gate();
    let minter = Minter::new(&gate).unwrap();
    let wrong = Router::new()
        .route("/health", get(health))
        .route("/api/export", get(export))
        .with_state(state(&gate));
    let report = RouteProbe::new(&wrong, &minter)
        .allow_public(["/health"])
        .run()
        .await;
    let lines: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "GET /api/export: is public (public: oops: export should need a login) but not in the list of allowed public routes"
        ]
    );
}

#[tokio::test]
async fn a_middleware_that_turns_401_into_200_is_reported() {
    // The "200 with an error body" anti-pattern: a layer rewriting statuses hides the guard.
    let gate = gate();
    let minter = Minter::new(&gate).unwrap();
    let router = correct(&gate);
    let policies = router.policies().to_vec();
    let app = router.into_axum().layer(tower::util::MapResponseLayer::new(
        |mut response: Response| {
            if response.status().is_client_error() {
                *response.status_mut() = StatusCode::OK;
            }
            response
        },
    ));
    let report = RouteProbe::from_parts(policies, app, &minter).run().await;
    let problems: Vec<&str> = report.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        problems,
        [
            "/me",
            "/admin/users",
            "/admin/users",
            "/reports",
            "/reports",
            "/items",
            "/items/{id}",
            "/items/{id}"
        ]
    );
    assert!(
        report.findings[0]
            .problem
            .contains("answers 200 to anonymous callers"),
        "{report}"
    );
}

#[tokio::test]
async fn missing_ownership_check_is_reported_and_correct_one_passes() {
    let gate = gate();
    let minter = Minter::new(&gate).unwrap();
    let alice = Credential::Bearer(minter.user("alice").token());
    let bob = Credential::Bearer(minter.user("bob").token());

    let client = TestClient::new(correct(&gate).into_axum());
    let good = OwnershipProbe::new(client, alice.clone(), bob.clone())
        .create("/items", json!({ "text": "alice's" }))
        .read("/items/{id}")
        .delete("/items/{id}")
        .run()
        .await;
    assert!(good.is_ok(), "{good}");
    assert_eq!(good.requests, 5);

    let wrong = Router::new()
        .route("/items", post(create))
        .route("/items/{id}", get(show_unchecked).delete(remove_unchecked))
        .with_state(state(&gate));
    let report = OwnershipProbe::new(TestClient::new(wrong.into_axum()), alice, bob)
        .create("/items", json!({ "text": "alice's" }))
        .read("/items/{id}")
        .delete("/items/{id}")
        .run()
        .await;
    let lines: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "GET /items/{id}: another user got 200 for the owner's resource; expected 404",
            "DELETE /items/{id}: another user got 204 for the owner's resource; expected 404",
            "GET /items/{id}: the owner's resource changed after the other user's attempts",
        ]
    );
}

#[tokio::test]
async fn minted_credentials_and_their_negative_variants() {
    let gate = gate();
    let minter = Minter::new(&gate).unwrap();
    let client = TestClient::new(correct(&gate).into_axum());
    let admin = minter.user("root").roles(["admin"]);
    assert_eq!(
        client
            .get("/admin/users")
            .bearer(&admin.token())
            .send()
            .await
            .status,
        200
    );
    let reply = client
        .get("/admin/users")
        .bearer(&admin.expired())
        .send()
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["error"], "invalid_token");
    assert_eq!(
        client
            .get("/admin/users")
            .bearer(&admin.wrongly_signed())
            .send()
            .await
            .status,
        401
    );
    let scoped = minter.user("svc").scopes(["reports:read"]);
    assert_eq!(
        client
            .get("/reports")
            .bearer(&scoped.token())
            .send()
            .await
            .status,
        200
    );
    let cookie = minter
        .user("carol")
        .roles(["admin"])
        .cookie()
        .await
        .unwrap();
    let reply = client.get("/me").cookie(&cookie).send().await;
    assert_eq!(
        (reply.status.as_u16(), reply.text()),
        (200, "carol".to_owned())
    );
    // Cookie credentials pass CSRF as a same-site browser would.
    let reply = client
        .post("/items")
        .cookie(&cookie)
        .json(&json!({ "text": "x" }))
        .send()
        .await;
    assert_eq!(reply.status, 201);
}

#[test]
fn audit_renders_as_table_and_json() {
    let gate = gate();
    let router = correct(&gate);
    let table = router.audit().to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["METHOD", "PATH", "POLICY", "HANDLER"]
    );
    assert!(
        lines.contains(&"GET     /health       public: health check                 health"),
        "{table}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("DELETE  /items/{id}") && l.ends_with("remove")),
        "{table}"
    );
    let json: Value = serde_json::from_str(&router.audit().to_json()).unwrap();
    assert_eq!(
        json[0],
        json!({"method": "GET", "path": "/health", "policy": "public: health check", "handler": "health"})
    );
    assert_eq!(json.as_array().unwrap().len(), 8);
}
