//! The test kit against routers that are deliberately wrong (each must be reported) and
//! against a correct one (nothing reported).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use authgate::issuers::Issuer;
use authgate::resource::Resource;
use authgate::sessions::Sessions;
use authgate::store::{MemoryStore, StoreError};
use authgate::testing::{Minter, OwnershipProbe, RouteProbe, TestClient};
use authgate::{
    CurrentUser, Gate, Identity, Load, Router, owned_by, public, require_auth, require_role,
    require_scope, routing::get, routing::post,
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
    async fn load(id: u64, state: &AppState) -> Result<Option<Self>, StoreError> {
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
        .issuer(Issuer::new("kit").secret(SECRET).audience("kit-api"))
        .sessions(Sessions::server_side("sid", MemoryStore::new()))
        .build()
        .unwrap()
}

/// `app` with every request it serves counted: how many requests a probe sent.
fn counted(app: axum::Router) -> (axum::Router, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    let app = app.layer(tower::util::MapRequestLayer::new(
        move |request: axum::extract::Request| {
            counter.fetch_add(1, Ordering::SeqCst);
            request
        },
    ));
    (app, count)
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
    let router = correct(&gate);
    let audit = router.audit();
    let (app, requests) = counted(router.into_axum());
    let report = RouteProbe::from_parts(&audit, app, &minter)
        .allow_public(["/health"])
        .expect_roles("/admin", ["admin"])
        .run()
        .await;
    assert_eq!(report, Ok(()));
    // Anonymous to each of 8 routes, a role-less user to the role and scope routes, and (the
    // Gate takes cookies) a session cookie from another site to the POST and the DELETE.
    assert_eq!(requests.load(Ordering::SeqCst), 8 + 2 + 2);
}

/// A Gate with sessions and no issuer accepts no bearer token: its minter makes cookies, and
/// the probe checks roles with a role-less user's session cookie.
#[tokio::test]
async fn a_sessions_only_gate_is_probed_with_cookies() {
    let gate = Gate::builder()
        .sessions(Sessions::server_side("sid", MemoryStore::new()))
        .build()
        .unwrap();
    let minter = Minter::new(&gate).unwrap();
    assert!(!minter.signs_tokens());
    let router = correct(&gate);
    let audit = router.audit();
    let (app, requests) = counted(router.into_axum());
    let report = RouteProbe::from_parts(&audit, app, &minter)
        .allow_public(["/health"])
        .expect_roles("/admin", ["admin"])
        .run()
        .await;
    assert_eq!(report, Ok(()));
    assert_eq!(requests.load(Ordering::SeqCst), 8 + 2 + 2);

    let wrong = Router::new()
        .route("/admin/users", get(admin_users_missing_role))
        .with_state(state(&gate));
    let report = RouteProbe::new(&wrong, &minter).run().await;
    assert_eq!(report, Ok(()), "require_auth declares no role to check");
    let report = RouteProbe::new(&wrong, &minter)
        .expect_roles("/admin", ["admin"])
        .run()
        .await;
    assert_eq!(
        report.unwrap_err(),
        [
            "GET /admin/users: does not require role admin (policy: require_auth)",
            "GET /admin/users: answers 200 to a user without the roles and scopes; expected 403",
        ]
    );
}

#[test]
#[should_panic(expected = "accepts no bearer token to mint: use Minter::cookie")]
fn a_sessions_only_minter_says_why_it_mints_no_token() {
    let gate = Gate::builder()
        .sessions(Sessions::server_side("sid", MemoryStore::new()))
        .build()
        .unwrap();
    Minter::new(&gate).unwrap().token(&Identity::new("alice"));
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
    assert_eq!(
        report.unwrap_err(),
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
    assert_eq!(
        report.unwrap_err(),
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
    let audit = router.audit();
    let app = router.into_axum().layer(tower::util::MapResponseLayer::new(
        |mut response: Response| {
            if response.status().is_client_error() {
                *response.status_mut() = StatusCode::OK;
            }
            response
        },
    ));
    let findings = RouteProbe::from_parts(&audit, app, &minter)
        .run()
        .await
        .unwrap_err();
    // Each finding is `METHOD /path: problem`.
    let problems: Vec<&str> = findings
        .iter()
        .map(|line| {
            let (route, _) = line.split_once(": ").expect("METHOD /path: problem");
            route.split_once(' ').expect("METHOD /path").1
        })
        .collect();
    assert_eq!(
        problems,
        [
            "/me",
            "/admin/users",
            "/admin/users",
            "/reports",
            "/reports",
            "/items",
            "/items",
            "/items/{id}",
            "/items/{id}",
            "/items/{id}"
        ]
    );
    assert!(
        findings[0].starts_with("GET /me: answers 200 to anonymous callers"),
        "{findings:#?}"
    );
    assert!(
        findings[6].starts_with("POST /items: answers 200 to a valid session cookie sent from"),
        "{findings:#?}"
    );
}

#[tokio::test]
async fn missing_ownership_check_is_reported_and_correct_one_passes() {
    let gate = gate();
    let minter = Minter::new(&gate).unwrap();
    let alice = minter.token(&Identity::new("alice"));
    let bob = minter.token(&Identity::new("bob"));

    let (app, requests) = counted(correct(&gate).into_axum());
    let good = OwnershipProbe::bearer(TestClient::new(app), &alice, &bob)
        .create("/items", json!({ "text": "alice's" }))
        .read("/items/{id}")
        .delete("/items/{id}")
        .run()
        .await;
    assert_eq!(good, Ok(()));
    // Create, read before, bob's read and delete, read after.
    assert_eq!(requests.load(Ordering::SeqCst), 5);

    let wrong = Router::new()
        .route("/items", post(create))
        .route("/items/{id}", get(show_unchecked).delete(remove_unchecked))
        .with_state(state(&gate));
    let report = OwnershipProbe::bearer(TestClient::new(wrong.into_axum()), &alice, &bob)
        .create("/items", json!({ "text": "alice's" }))
        .read("/items/{id}")
        .delete("/items/{id}")
        .run()
        .await;
    assert_eq!(
        report.unwrap_err(),
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
    let admin = Identity::new("root").roles(["admin"]);
    assert_eq!(
        client
            .get("/admin/users")
            .bearer(&minter.token(&admin))
            .send()
            .await
            .status,
        200
    );
    let reply = client
        .get("/admin/users")
        .bearer(&minter.expired(&admin))
        .send()
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["error"], "invalid_token");
    assert_eq!(
        client
            .get("/admin/users")
            .bearer(&minter.wrongly_signed(&admin))
            .send()
            .await
            .status,
        401
    );
    let scoped = Identity::new("svc").scopes(["reports:read"]);
    assert_eq!(
        client
            .get("/reports")
            .bearer(&minter.token(&scoped))
            .send()
            .await
            .status,
        200
    );
    let cookie = minter
        .cookie(&Identity::new("carol").roles(["admin"]))
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

// ---------------------------------------------------------------------------------------------
// A page app: form posts, a `303` to the new note, session cookies, and the origin check.

/// How many times a handler that changes state ran.
type Runs = Arc<AtomicUsize>;

#[derive(Clone)]
struct PageState {
    gate: Gate,
    items: Items,
    runs: Runs,
}

impl FromRef<PageState> for Gate {
    fn from_ref(state: &PageState) -> Gate {
        state.gate.clone()
    }
}

impl Resource<PageState> for Item {
    type Id = u64;
    async fn load(id: u64, state: &PageState) -> Result<Option<Self>, StoreError> {
        let items = AppState {
            gate: state.gate.clone(),
            items: state.items.clone(),
        };
        <Item as Resource<AppState>>::load(id, &items).await
    }
}

#[derive(serde::Deserialize)]
struct NewItem {
    text: String,
}

/// The form's post: the new note's page in `Location`.
#[require_auth(redirect = "/login")]
async fn add_page(
    State(state): State<PageState>,
    user: CurrentUser,
    axum::Form(new): axum::Form<NewItem>,
) -> axum::response::Redirect {
    state.runs.fetch_add(1, Ordering::SeqCst);
    let mut items = state.items.lock().unwrap();
    let id = items.len() as u64 + 1;
    items.insert(id, (user.subject().to_owned(), new.text));
    axum::response::Redirect::to(&format!("/items/{id}"))
}

#[require_auth(redirect = "/login")]
#[owned_by(item.owner)]
async fn item_page(Load(item): Load<Item>) -> axum::response::Html<String> {
    axum::response::Html(format!("<p>{}</p>", item.text))
}

/// The delete form's post (HTML forms only `GET` and `POST`).
#[require_auth(redirect = "/login")]
#[owned_by(item.owner)]
async fn delete_page(
    State(state): State<PageState>,
    Path(id): Path<u64>,
    Load(item): Load<Item>,
) -> axum::response::Redirect {
    let _ = item;
    state.runs.fetch_add(1, Ordering::SeqCst);
    state.items.lock().unwrap().remove(&id);
    axum::response::Redirect::to("/items")
}

/// The bug under test: a delete form with no ownership check.
#[require_auth(redirect = "/login")]
async fn delete_page_unchecked(
    State(state): State<PageState>,
    Path(id): Path<u64>,
) -> axum::response::Redirect {
    state.runs.fetch_add(1, Ordering::SeqCst);
    state.items.lock().unwrap().remove(&id);
    axum::response::Redirect::to("/items")
}

fn page_gate() -> Gate {
    Gate::builder()
        .sessions(Sessions::server_side("sid", MemoryStore::new()))
        .build()
        .unwrap()
}

/// The page app, and how many times its state-changing handlers ran.
fn pages(gate: &Gate, checked: bool) -> (Router, Runs) {
    let runs = Runs::default();
    let delete = match checked {
        true => post(delete_page),
        false => post(delete_page_unchecked),
    };
    let router = Router::new()
        .route("/items", post(add_page))
        .route("/items/{id}", get(item_page))
        .route("/items/{id}/delete", delete)
        .with_state(PageState {
            gate: gate.clone(),
            items: Items::default(),
            runs: runs.clone(),
        });
    (router, runs)
}

/// The bug under test: a layer in front of the guard (a proxy's header clean-up, say) that
/// drops the headers the origin check reads, so a forged form post looks like a non-browser
/// client's.
fn strip_origin_headers(app: axum::Router) -> axum::Router {
    app.layer(tower::util::MapRequestLayer::new(
        |mut request: axum::extract::Request| {
            request.headers_mut().remove("origin");
            request.headers_mut().remove("sec-fetch-site");
            request
        },
    ))
}

async fn two_cookies(gate: &Gate) -> (String, String) {
    let minter = Minter::new(gate).unwrap();
    let alice = minter.cookie(&Identity::new("alice")).await.unwrap();
    let bob = minter.cookie(&Identity::new("bob")).await.unwrap();
    (alice, bob)
}

#[tokio::test]
async fn the_ownership_probe_creates_with_a_form_and_reads_the_id_from_location() {
    let gate = page_gate();
    let (alice, bob) = two_cookies(&gate).await;
    let (router, runs) = pages(&gate, true);
    let (app, requests) = counted(router.into_axum());
    let report = OwnershipProbe::cookies(TestClient::new(app), &alice, &bob)
        .create_form("/items", "text=alice%27s")
        .id_from_location("/items/{id}")
        .read("/items/{id}")
        .post_form("/items/{id}/delete", "")
        .run()
        .await;
    assert_eq!(report, Ok(()));
    // Create, read before, bob's read and delete, read after; alice's delete from another
    // site and the read after it.
    assert_eq!(requests.load(Ordering::SeqCst), 5 + 2);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "only the creation ran");

    let (wrong, runs) = pages(&gate, false);
    let report = OwnershipProbe::cookies(TestClient::new(wrong.into_axum()), &alice, &bob)
        .create_form("/items", "text=alice%27s")
        .id_from_location("/items/{id}")
        .read("/items/{id}")
        .post_form("/items/{id}/delete", "")
        .run()
        .await;
    assert_eq!(
        report.unwrap_err(),
        [
            "POST /items/{id}/delete: another user got 303 for the owner's resource; expected 404",
            "GET /items/{id}: the owner's resource changed after the other user's attempts",
        ]
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "the creation and bob's delete"
    );
}

#[tokio::test]
async fn the_ownership_probe_finds_the_id_with_a_closure_or_says_where_it_looked() {
    let gate = page_gate();
    let (alice, bob) = two_cookies(&gate).await;
    let client = TestClient::new(pages(&gate, true).0.into_axum());
    let report = OwnershipProbe::cookies(client.clone(), &alice, &bob)
        .create_form("/items", "text=x")
        .id_with(|reply| Some(reply.header("location")?.rsplit('/').next()?.to_owned()))
        .read("/items/{id}")
        .post_form("/items/{id}/delete", "")
        .run()
        .await;
    assert_eq!(report, Ok(()));

    // Without an id source, a form creation's id is looked for in a JSON body.
    let report = OwnershipProbe::cookies(client.clone(), &alice, &bob)
        .create_form("/items", "text=x")
        .read("/items/{id}")
        .run()
        .await;
    assert_eq!(
        report.unwrap_err(),
        ["POST /items: no id at /id in the response (a form app: id_from_location or id_with)"]
    );
    let report = OwnershipProbe::cookies(client, &alice, &bob)
        .create_form("/items", "text=x")
        .id_from_location("/notes/{id}")
        .run()
        .await;
    assert_eq!(
        report.unwrap_err(),
        ["POST /items: no id in the Location header (/items/3) for the template /notes/{id}"]
    );
}

#[tokio::test]
async fn the_route_probe_sends_every_cookie_state_change_from_another_site() {
    let gate = page_gate();
    let minter = Minter::new(&gate).unwrap();
    let (router, runs) = pages(&gate, true);
    let audit = router.audit();
    let (app, requests) = counted(router.into_axum());
    let report = RouteProbe::from_parts(&audit, app, &minter).run().await;
    assert_eq!(report, Ok(()));
    // Anonymous to each of 3 routes, and the 2 POST routes from another site.
    assert_eq!(requests.load(Ordering::SeqCst), 3 + 2);
    assert_eq!(runs.load(Ordering::SeqCst), 0, "no handler ran");

    let (router, runs) = pages(&gate, true);
    let audit = router.audit();
    let app = strip_origin_headers(router.into_axum());
    let report = RouteProbe::from_parts(&audit, app, &minter).run().await;
    assert_eq!(
        report.unwrap_err(),
        [
            "POST /items: answers 422 to a valid session cookie sent from another site; \
             expected 403 (cross-site request forgery)",
            "POST /items/{id}/delete: answers 404 to a valid session cookie sent from another \
             site; expected 403 (cross-site request forgery)",
        ]
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_ownership_probe_forges_the_owners_writes_and_sees_what_they_did() {
    let gate = page_gate();
    let (alice, bob) = two_cookies(&gate).await;
    let (router, runs) = pages(&gate, true);
    let app = strip_origin_headers(router.into_axum());
    let report = OwnershipProbe::cookies(TestClient::new(app), &alice, &bob)
        .create_form("/items", "text=x")
        .id_from_location("/items/{id}")
        .read("/items/{id}")
        .post_form("/items/{id}/delete", "")
        .run()
        .await;
    assert_eq!(
        report.unwrap_err(),
        [
            "POST /items/{id}/delete: the owner's own cookie sent from another site got 303; \
             expected 403 (cross-site request forgery)",
            "GET /items/{id}: the owner's resource changed after the requests from another site",
        ]
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "the creation and the forged delete"
    );
}

/// A page that takes session cookies only (on a Gate that also takes bearer tokens).
#[require_role("admin", credentials = "cookie")]
async fn admin_form(State(state): State<PageState>) -> StatusCode {
    state.runs.fetch_add(1, Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

/// An API route that takes bearer tokens only: a browser's cookie is not examined there.
#[require_auth(credentials = "bearer")]
async fn api_write(State(state): State<PageState>) -> StatusCode {
    state.runs.fetch_add(1, Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

/// Each route is probed with the credentials it accepts: the role check of a cookie-only page
/// with a cookie, no forged cookie post to a bearer-only route (the cookie is not examined
/// there, so it would answer 401 for want of a credential, not 403).
#[tokio::test]
async fn each_route_is_probed_with_the_credentials_it_accepts() {
    let gate = gate(); // an issuer and sessions
    let minter = Minter::new(&gate).unwrap();
    let runs = Runs::default();
    let router = Router::new()
        .route("/admin/settings", post(admin_form))
        .route("/api/reports", post(api_write))
        .with_state(PageState {
            gate: gate.clone(),
            items: Items::default(),
            runs: runs.clone(),
        });
    let audit = router.audit();
    let (app, requests) = counted(router.into_axum());
    let report = RouteProbe::from_parts(&audit, app, &minter)
        .expect_roles("/admin", ["admin"])
        .run()
        .await;
    assert_eq!(report, Ok(()));
    // Anonymous to both; the admin page: a forged cookie post and a role-less cookie.
    assert_eq!(requests.load(Ordering::SeqCst), 2 + 2);
    assert_eq!(runs.load(Ordering::SeqCst), 0, "no handler ran");
}
