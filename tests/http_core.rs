//! HTTP-level tests of the core pipeline (bearer JWT), through `tower::ServiceExt::oneshot`:
//! the rejection table, every attribute form, extractor ordering, Gate refusals, the router,
//! custom rendering and log hygiene.
//!
//! Every rejection test also proves the handler body did not run (the `Hits` counter).

mod support;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use authgate::issuers::Issuer;
use authgate::keys::{Algorithm, Key};
use authgate::sessions::Sessions;
use authgate::store::MemoryStore;
use authgate::{
    ConfigProblem, CurrentUser, Gate, Identity, Rejection, Router, public, require_auth,
    require_role, require_scope, routing::get, routing::post,
};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use support::*;

// ---------------------------------------------------------------------------------------------
// Handlers

#[require_auth]
async fn me(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.subject().to_owned()
}

#[require_role("admin")]
async fn admin(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    format!("admin {}", user.subject())
}

#[require_scope("invoices:write")]
async fn write_invoices(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.scopes().join(",")
}

#[public(reason = "load-balancer health check")]
async fn health(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "ok"
}

#[public(reason = "greets anyone, by name when known")]
async fn hello(State(hits): State<Hits>, user: Option<CurrentUser>) -> String {
    hits.hit();
    match user {
        Some(user) => format!("hello {}", user.subject()),
        None => "hello stranger".to_owned(),
    }
}

/// `CurrentUser` in a `#[public]` handler does not compile (tests/ui/public/fail/); through a
/// type parameter set at the route it escapes that check, and the run-time check answers 500.
#[public(reason = "misuse on purpose: CurrentUser in a public handler, via a type parameter")]
async fn public_with_current_user<U>(State(hits): State<Hits>, user: U) -> String {
    hits.hit();
    drop(user);
    "unreachable".to_owned()
}

/// No guard at all: only routable through plain axum.
async fn unguarded(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.subject().to_owned()
}

#[derive(Deserialize)]
struct TenantClaims {
    sub: String,
    tenant: String,
    #[serde(default)]
    plan: Option<String>,
}

#[require_auth]
async fn tenant(State(hits): State<Hits>, user: CurrentUser<TenantClaims>) -> String {
    hits.hit();
    format!(
        "{} of {} on {} ({})",
        user.sub,
        user.tenant,
        user.plan.as_deref().unwrap_or("free"),
        user.subject()
    )
}

#[require_auth(redirect = "/login")]
async fn dashboard(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "dashboard"
}

#[require_role("admin", redirect = "/login")]
async fn admin_page(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "admin page"
}

#[require_auth]
async fn create_item(State(hits): State<Hits>, Json(body): Json<Value>) -> Json<Value> {
    hits.hit();
    Json(json!({ "created": body }))
}

#[require_role("admin")]
async fn admin_create_item(State(hits): State<Hits>, Json(body): Json<Value>) -> Json<Value> {
    hits.hit();
    Json(json!({ "created": body }))
}

#[require_auth]
async fn item(State(hits): State<Hits>, Path(id): Path<u32>) -> String {
    hits.hit();
    format!("item {id}")
}

#[require_auth]
async fn fallback_handler(State(hits): State<Hits>, user: CurrentUser) -> Response {
    hits.hit();
    (
        StatusCode::NOT_FOUND,
        format!("no such page, {}", user.subject()),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Apps

/// The main app: every attribute form on its own route.
fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/hello", get(hello))
        .route("/me", get(me))
        .route("/admin", get(admin))
        .route("/admin-or-billing", get(admin_or_billing))
        .route("/staff-and-billing", get(staff_and_billing))
        .route("/invoices", post(write_invoices))
        .route("/invoices/all", get(read_write_invoices))
        .route("/users", post(admin_write_users))
        .route(
            "/public-current-user",
            get(public_with_current_user::<CurrentUser>),
        )
        .route("/tenant", get(tenant))
        .route("/dashboard", get(dashboard))
        .route("/admin-page", get(admin_page))
        .route("/items", post(create_item))
        .route("/admin/items", post(admin_create_item))
        .route("/items/{id}", get(item))
}

fn app_with(gate: Gate) -> (TestClient, Hits) {
    let state = AppState::new(gate);
    let hits = state.hits.clone();
    (client(routes().with_state(state).into_axum()), hits)
}

fn app() -> (TestClient, Hits) {
    app_with(gate())
}

/// Who sends a request, for the tests that send the same request as each caller.
enum Credential {
    Anonymous,
    Bearer(String),
}

impl Credential {
    fn on(&self, request: TestRequest) -> TestRequest {
        match self {
            Credential::Anonymous => request,
            Credential::Bearer(token) => request.bearer(token),
        }
    }
}

/// The main app on the default Gate, counting into `hits`, for the raw request builder.
fn router(hits: &Hits) -> axum::Router {
    let state = AppState {
        gate: gate(),
        hits: hits.clone(),
    };
    routes().with_state(state).into_axum()
}

// ---------------------------------------------------------------------------------------------
// 1. The rejection table

#[tokio::test]
async fn no_credentials_is_401_with_a_bare_challenge() {
    let (app, hits) = app();
    for uri in [
        "/me",
        "/admin",
        "/admin-or-billing",
        "/invoices/all",
        "/tenant",
    ] {
        let reply = app.get(uri).send().await;
        assert_unauthenticated(&reply);
    }
    let reply = app.post("/invoices").send().await;
    assert_unauthenticated(&reply);
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn valid_token_reaches_the_handler() {
    let (app, hits) = app();
    let reply = app.get("/me").bearer(&token("alice", &[])).send().await;
    assert_ok(&reply, "alice");
    assert_eq!(single_header(&reply, "cache-control"), None);
    assert_eq!(hits.count(), 1);
}

#[tokio::test]
async fn invalid_token_is_401_invalid_token() {
    let (app, hits) = app();
    let forged = sign(
        Algorithm::HS256,
        &jsonwebtoken::EncodingKey::from_secret(b"another secret of at least 32 bytes!!"),
        None,
        &claims("alice"),
    );
    let reply = app.get("/me").bearer(&forged).send().await;
    assert_invalid_token(&reply);
    let reply = app.get("/me").bearer("not-a-jwt").send().await;
    assert_invalid_token(&reply);
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn missing_role_is_403_insufficient_scope_without_scope_hint() {
    let (app, hits) = app();
    let reply = app
        .get("/admin")
        .bearer(&token("alice", &["staff"]))
        .send()
        .await;
    assert_forbidden(&reply, None);
    let reply = app.get("/admin").bearer(&token("alice", &[])).send().await;
    assert_forbidden(&reply, None);
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn missing_scope_is_403_with_the_scope_hint() {
    let (app, hits) = app();
    let t = hs256(&with(claims("alice"), "scope", json!("invoices:read")));
    let reply = app.post("/invoices").bearer(&t).send().await;
    assert_forbidden(&reply, Some("invoices:write"));
    // No scope claim at all.
    let reply = app
        .post("/invoices")
        .bearer(&token("alice", &[]))
        .send()
        .await;
    assert_forbidden(&reply, Some("invoices:write"));
    // all(..): every name in the hint.
    let reply = app.get("/invoices/all").bearer(&t).send().await;
    assert_forbidden(&reply, Some("invoices:read invoices:write"));
    assert_eq!(hits.count(), 0);
}

/// An issuer whose keys cannot be had (its JWKS endpoint refuses connections): a presented
/// token answers 503, never 401 or 200, whether it is good or forged; anonymous callers and
/// public routes need no keys. (Keys that come back after an outage: `tests/identity.rs`.)
#[tokio::test]
async fn unavailable_keys_are_503_never_401_or_200() {
    let t = token("alice", &["admin"]);
    // The control: the same token on the default Gate, whose keys are at hand.
    let (up, up_hits) = app();
    assert_ok(&up.get("/me").bearer(&t).send().await, "alice");
    assert_eq!(up_hits.count(), 1);

    let (app, hits) = app_with(unavailable_keys_gate());
    for uri in ["/me", "/admin"] {
        let reply = app.get(uri).bearer(&t).send().await;
        assert_rejection(&reply, 503, "unavailable", None);
    }
    // A forged token cannot be told from a good one while the keys are unknown: 503 too.
    let forged = format!("{}x", t);
    let reply = app.get("/me").bearer(&forged).send().await;
    assert_rejection(&reply, 503, "unavailable", None);
    // Option<CurrentUser> on a public route: the presented token cannot be checked either.
    let reply = app.get("/hello").bearer(&t).send().await;
    assert_rejection(&reply, 503, "unavailable", None);
    // What any keys would refuse is refused without them, as a Gate with several issuers
    // does: a token that does not parse, and one that names another issuer.
    for refused in [
        "not.a.jwt".to_owned(),
        hs256(&with(
            claims("alice"),
            "iss",
            json!("https://other.example"),
        )),
        hs256(&without(claims("alice"), "iss")),
    ] {
        assert_invalid_token(&app.get("/me").bearer(&refused).send().await);
    }
    assert_eq!(hits.count(), 0);

    // Anonymous callers need no keys: still 401, and public routes still work.
    assert_unauthenticated(&app.get("/me").send().await);
    assert_ok(&app.get("/health").send().await, "ok");
    assert_ok(&app.get("/hello").send().await, "hello stranger");
    assert_eq!(hits.count(), 2);
}

#[tokio::test]
async fn current_user_without_a_guard_is_500() {
    let state = AppState::new(gate());
    let hits = state.hits.clone();
    let app = client(
        axum::Router::new()
            .route("/unguarded", axum::routing::get(unguarded))
            .with_state(state),
    );
    for t in [
        Credential::Anonymous,
        Credential::Bearer(token("alice", &["admin"])),
    ] {
        let reply = t.on(app.get("/unguarded")).send().await;
        assert_rejection(&reply, 500, "internal_error", None);
    }
    assert_eq!(hits.count(), 0);
}

/// The app's own extractor, which reads the caller inside: the guard cannot see that from
/// the name, so it must leave the caller in the request.
struct Admin(String);

impl axum::extract::FromRequestParts<AppState> for Admin {
    type Rejection = axum::response::Response;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = <CurrentUser as axum::extract::FromRequestParts<AppState>>::from_request_parts(
            parts, state,
        )
        .await?;
        Ok(Admin(user.subject().to_owned()))
    }
}

type User = CurrentUser;

#[require_auth]
async fn via_own_extractor(State(hits): State<Hits>, Admin(who): Admin) -> String {
    hits.hit();
    who
}

#[require_auth]
async fn via_alias(State(hits): State<Hits>, user: User) -> String {
    hits.hit();
    user.subject().to_owned()
}

#[require_auth]
async fn via_request(State(state): State<AppState>, req: axum::extract::Request) -> String {
    let (mut parts, _) = req.into_parts();
    let user = <CurrentUser as axum::extract::FromRequestParts<AppState>>::from_request_parts(
        &mut parts, &state,
    )
    .await
    .map(|u| u.subject().to_owned())
    .unwrap_or_else(|_| "not found".to_owned());
    state.hits.hit();
    user
}

#[require_auth]
async fn axum_extractors_only(State(hits): State<Hits>, Path(id): Path<u32>) -> String {
    hits.hit();
    id.to_string()
}

/// An extractor of the app's own that happens to be called `Json`, and reads the caller.
mod own {
    use super::*;

    pub struct Json(pub String);

    impl axum::extract::FromRequestParts<AppState> for Json {
        type Rejection = axum::response::Response;
        async fn from_request_parts(
            parts: &mut axum::http::request::Parts,
            state: &AppState,
        ) -> Result<Self, Self::Rejection> {
            let user = Admin::from_request_parts(parts, state).await?;
            Ok(Json(user.0))
        }
    }
}

#[require_auth]
async fn via_own_json_with_path(State(hits): State<Hits>, own::Json(who): own::Json) -> String {
    hits.hit();
    who
}

/// The same extractor imported by its bare name, like axum's `Json`.
mod bare_name {
    use super::own::Json;
    use super::*;

    #[require_auth]
    pub async fn handler(State(hits): State<Hits>, Json(who): Json) -> String {
        hits.hit();
        who
    }
}

/// An extractor of the app's own that reads the caller finds it whatever its name: written
/// with its module path or imported by a bare name that axum also uses (`Json`). The guard
/// always leaves the caller; no name decides it.
#[tokio::test]
async fn an_own_extractor_named_like_axums_reads_the_caller_whatever_its_name() {
    let state = AppState::new(gate());
    let hits = state.hits.clone();
    let app = client(
        Router::new()
            .route("/json", get(via_own_json_with_path))
            .route("/bare", get(bare_name::handler))
            .with_state(state)
            .into_axum(),
    );
    let t = token("alice", &[]);
    assert_ok(&app.get("/json").bearer(&t).send().await, "alice");
    assert_eq!(hits.count(), 1);
    assert_ok(&app.get("/bare").bearer(&t).send().await, "alice");
    assert_eq!(hits.count(), 2);
    assert_unauthenticated(&app.get("/bare").send().await);
    assert_eq!(hits.count(), 2);
}

/// A malformed `Authorization` header is refused before the issuer's keys are looked for: keys
/// that cannot be had never delay or change the answer to garbage (a well-formed token on the
/// same Gate answers 503, so a 401 means the keys were not needed).
#[tokio::test]
async fn a_malformed_header_never_asks_for_the_issuers_keys() {
    let (app, hits) = app_with(unavailable_keys_gate());
    for value in ["Basic abc", "Bearer a b", "Bearer", "Bearer \"x\""] {
        let started = std::time::Instant::now();
        let reply = app.get("/me").header("authorization", value).send().await;
        assert_invalid_request(&reply);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{value:?} waited for the keys"
        );
    }
    let t = token("alice", &["admin"]);
    assert_rejection(
        &app.get("/me").bearer(&t).send().await,
        503,
        "unavailable",
        None,
    );
    assert_eq!(hits.count(), 0);
}

/// A warm token cache answers every spelling of the `Authorization` header exactly as a Gate
/// without a cache does: the cache is asked with the raw bytes first, and must never accept
/// what the strict parse refuses.
#[tokio::test]
async fn a_warm_cache_answers_every_header_spelling_like_no_cache() {
    let t = token("alice", &["admin"]);
    let (cached, _) = app_with(gate());
    let (uncached, _) = app_with(gate_builder().token_cache(0).build().unwrap());
    assert_ok(&cached.get("/me").bearer(&t).send().await, "alice");
    let schemes = ["Bearer", "bearer", "BEARER", "Basic", "Bearerx", ""];
    let separators = ["", " ", "  ", "\t", ",", ": "];
    let affixes = ["", " ", "\t", "=", "==", ",", "x", " x", "\"", ";"];
    let mut compared = 0;
    for scheme in schemes {
        for sep in separators {
            for before in affixes {
                for after in affixes {
                    let value = format!("{scheme}{sep}{before}{t}{after}");
                    if HeaderValue::from_str(&value).is_err() {
                        continue;
                    }
                    let (a, b) = (
                        cached
                            .get("/me")
                            .header("authorization", &value)
                            .send()
                            .await,
                        uncached
                            .get("/me")
                            .header("authorization", &value)
                            .send()
                            .await,
                    );
                    assert_eq!((a.status, &a.body), (b.status, &b.body), "{value:?}");
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 3000, "{compared}");
}

/// The caller reaches every reader: an extractor of the app's own, an alias, the whole
/// request; and a handler of only axum's extractors still runs the guard.
#[tokio::test]
async fn the_caller_reaches_every_reader() {
    let state = AppState::new(gate());
    let hits = state.hits.clone();
    let app = client(
        Router::new()
            .route("/own", get(via_own_extractor))
            .route("/alias", get(via_alias))
            .route("/request", get(via_request))
            .route("/plain/{id}", get(axum_extractors_only))
            .with_state(state)
            .into_axum(),
    );
    let t = token("alice", &[]);
    for uri in ["/own", "/alias", "/request"] {
        assert_ok(&app.get(uri).bearer(&t).send().await, "alice");
        assert_unauthenticated(&app.get(uri).send().await);
    }
    assert_ok(&app.get("/plain/7").bearer(&t).send().await, "7");
    assert_unauthenticated(&app.get("/plain/7").send().await);
    assert_eq!(hits.count(), 4);
}

#[tokio::test]
async fn current_user_in_a_public_handler_is_500() {
    let (app, hits) = app();
    for t in [
        Credential::Anonymous,
        Credential::Bearer(token("alice", &["admin"])),
    ] {
        let reply = t.on(app.get("/public-current-user")).send().await;
        assert_rejection(&reply, 500, "internal_error", None);
    }
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn anonymous_page_visit_redirects_to_login_with_encoded_next() {
    let (app, hits) = app();
    let reply = app.get("/dashboard?a=1").send().await;
    assert_redirect(&reply, "/login?next=%2Fdashboard%3Fa%3D1");

    // Everything outside the RFC 3986 unreserved set is encoded, so the query of the page
    // cannot leak into the login URL's own query.
    let reply = app.get("/dashboard?x=a%20b&y=2#frag").send().await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        single_header(&reply, "location"),
        Some("/login?next=%2Fdashboard%3Fx%3Da%2520b%26y%3D2")
    );

    // No query: just the path.
    let reply = app.get("/dashboard").send().await;
    assert_eq!(
        single_header(&reply, "location"),
        Some("/login?next=%2Fdashboard")
    );

    // The role page also redirects anonymous visitors.
    let reply = app.get("/admin-page").send().await;
    assert_redirect(&reply, "/login?next=%2Fadmin-page");
    assert_eq!(hits.count(), 0);

    // A logged-in visitor passes.
    let reply = app
        .get("/dashboard")
        .bearer(&token("alice", &[]))
        .send()
        .await;
    assert_ok(&reply, "dashboard");
    assert_eq!(hits.count(), 1);
}

#[tokio::test]
async fn logged_in_user_lacking_the_role_on_a_redirect_route_gets_403() {
    let (app, hits) = app();
    let reply = app
        .get("/admin-page")
        .bearer(&token("alice", &["staff"]))
        .send()
        .await;
    // A page: the refusal is an HTML page a browser shows, with the protocol headers.
    assert_page_rejection(&reply, 403, "forbidden", Some(&www_insufficient(None)));
    assert_eq!(single_header(&reply, "location"), None);
    assert_eq!(hits.count(), 0);
    let reply = app
        .get("/admin-page")
        .bearer(&token("root", &["admin"]))
        .send()
        .await;
    assert_ok(&reply, "admin page");
    assert_eq!(hits.count(), 1);
}

#[tokio::test]
async fn redirect_from_a_nested_route_keeps_the_full_path() {
    let state = AppState::new(gate());
    let hits = state.hits.clone();
    let app = client(
        Router::new()
            .nest("/app", Router::new().route("/dashboard", get(dashboard)))
            .with_state(state)
            .into_axum(),
    );
    let reply = app.get("/app/dashboard?a=1").send().await;
    // After logging in, the user must come back to /app/dashboard, not /dashboard.
    assert_redirect(&reply, "/login?next=%2Fapp%2Fdashboard%3Fa%3D1");
    assert_eq!(hits.count(), 0);
}

// ---------------------------------------------------------------------------------------------
// 2. Every attribute form

#[tokio::test]
async fn require_auth_accepts_any_valid_token() {
    let (app, hits) = app();
    for (sub, roles) in [("alice", &[][..]), ("bob", &["staff"][..])] {
        let reply = app.get("/me").bearer(&token(sub, roles)).send().await;
        assert_ok(&reply, sub);
    }
    assert_eq!(hits.count(), 2);
}

#[tokio::test]
async fn require_role_single() {
    let (app, hits) = app();
    let reply = app
        .get("/admin")
        .bearer(&token("root", &["staff", "admin"]))
        .send()
        .await;
    assert_ok(&reply, "admin root");
    // A single string in the roles claim is one role.
    let t = hs256(&with(claims("root"), "roles", json!("admin")));
    assert_ok(&app.get("/admin").bearer(&t).send().await, "admin root");
    assert_eq!(hits.count(), 2);
}

#[tokio::test]
async fn role_names_are_case_sensitive() {
    let (app, hits) = app();
    for roles in [&["Admin"][..], &["ADMIN"], &["admin "], &[" admin"]] {
        let reply = app
            .get("/admin")
            .bearer(&token("mallory", roles))
            .send()
            .await;
        assert_forbidden(&reply, None);
    }
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn require_role_any() {
    let (app, hits) = app();
    for roles in [&["admin"][..], &["billing"], &["staff", "billing"]] {
        let reply = app
            .get("/admin-or-billing")
            .bearer(&token("u", roles))
            .send()
            .await;
        assert_ok(&reply, "admin or billing");
    }
    assert_eq!(hits.count(), 3);
    for roles in [&[][..], &["staff"], &["Billing"]] {
        let reply = app
            .get("/admin-or-billing")
            .bearer(&token("u", roles))
            .send()
            .await;
        assert_forbidden(&reply, None);
    }
    assert_eq!(hits.count(), 3);
}

#[tokio::test]
async fn require_role_all() {
    let (app, hits) = app();
    for roles in [&["staff", "billing"][..], &["billing", "admin", "staff"]] {
        let reply = app
            .get("/staff-and-billing")
            .bearer(&token("u", roles))
            .send()
            .await;
        assert_ok(&reply, "staff and billing");
    }
    assert_eq!(hits.count(), 2);
    for roles in [&["staff"][..], &["billing"], &["admin"], &[]] {
        let reply = app
            .get("/staff-and-billing")
            .bearer(&token("u", roles))
            .send()
            .await;
        assert_forbidden(&reply, None);
    }
    assert_eq!(hits.count(), 2);
}

#[tokio::test]
async fn require_scope_from_space_delimited_scope() {
    let (app, hits) = app();
    let t = hs256(&with(
        claims("alice"),
        "scope",
        json!("invoices:read invoices:write"),
    ));
    let reply = app.post("/invoices").bearer(&t).send().await;
    assert_ok(&reply, "invoices:read,invoices:write");
    assert_ok(
        &app.get("/invoices/all").bearer(&t).send().await,
        "read and write",
    );
    assert_eq!(hits.count(), 2);
    // A scope is one space-delimited word: "invoices:write-all" is not "invoices:write".
    let t = hs256(&with(claims("alice"), "scope", json!("invoices:write-all")));
    let reply = app.post("/invoices").bearer(&t).send().await;
    assert_forbidden(&reply, Some("invoices:write"));
    assert_eq!(hits.count(), 2);
}

#[tokio::test]
async fn require_scope_from_scp_array() {
    let (app, hits) = app();
    let t = hs256(&with(
        claims("alice"),
        "scp",
        json!(["invoices:write", "profile"]),
    ));
    let reply = app.post("/invoices").bearer(&t).send().await;
    assert_ok(&reply, "invoices:write,profile");
    assert_eq!(hits.count(), 1);
    let t = hs256(&with(claims("alice"), "scp", json!(["invoices:read"])));
    let reply = app.post("/invoices").bearer(&t).send().await;
    assert_forbidden(&reply, Some("invoices:write"));
    assert_eq!(hits.count(), 1);
}

#[tokio::test]
async fn stacked_role_and_scope_both_must_hold() {
    let (app, hits) = app();
    let both = hs256(&with(
        claims_with_roles("root", &["admin"]),
        "scope",
        json!("users:write"),
    ));
    let reply = app.post("/users").bearer(&both).send().await;
    assert_ok(&reply, "admin + users:write");
    assert_eq!(hits.count(), 1);

    let role_only = token("root", &["admin"]);
    let reply = app.post("/users").bearer(&role_only).send().await;
    assert_forbidden(&reply, Some("users:write"));

    let scope_only = hs256(&with(claims("eve"), "scope", json!("users:write")));
    let reply = app.post("/users").bearer(&scope_only).send().await;
    assert_forbidden(&reply, None);

    assert_unauthenticated(&app.post("/users").send().await);
    assert_eq!(hits.count(), 1);
}

#[tokio::test]
async fn public_route_is_open() {
    let (app, hits) = app();
    let reply = app.get("/health").send().await;
    assert_ok(&reply, "ok");
    assert_eq!(hits.count(), 1);
}

#[tokio::test]
async fn optional_current_user_on_a_public_route() {
    let (app, hits) = app();
    assert_ok(&app.get("/hello").send().await, "hello stranger");
    let reply = app.get("/hello").bearer(&token("alice", &[])).send().await;
    assert_ok(&reply, "hello alice");
    assert_eq!(hits.count(), 2);

    // Presented but invalid: 401, never silently anonymous.
    let expired = hs256(&with(claims("alice"), "exp", json!(NOW - 3600)));
    assert_invalid_token(&app.get("/hello").bearer(&expired).send().await);
    let basic = app
        .get("/hello")
        .header("authorization", "Basic YWxpY2U6c2VjcmV0");
    assert_invalid_request(&basic.send().await);
    assert_eq!(hits.count(), 2);
}

#[tokio::test]
async fn custom_claims_struct() {
    let (app, hits) = app();
    let t = hs256(&with(
        with(claims("alice"), "tenant", json!("acme")),
        "plan",
        json!("pro"),
    ));
    let reply = app.get("/tenant").bearer(&t).send().await;
    assert_ok(&reply, "alice of acme on pro (alice)");
    assert_eq!(hits.count(), 1);

    // Verified, but without the claims the app's type requires: not a usable credential here.
    let reply = app.get("/tenant").bearer(&token("alice", &[])).send().await;
    assert_invalid_token(&reply);
    assert_eq!(hits.count(), 1);
}

#[tokio::test]
async fn nested_roles_path() {
    let gate = keyless_gate_builder()
        .issuer(test_issuer().roles_claim("/realm_access/roles"))
        .build()
        .unwrap();
    let (app, hits) = app_with(gate);
    let t = hs256(&with(
        claims("root"),
        "realm_access",
        json!({ "roles": ["admin"] }),
    ));
    assert_ok(&app.get("/admin").bearer(&t).send().await, "admin root");
    assert_eq!(hits.count(), 1);

    // The top-level `roles` claim is no longer read.
    let reply = app
        .get("/admin")
        .bearer(&token("root", &["admin"]))
        .send()
        .await;
    assert_forbidden(&reply, None);
    let t = hs256(&with(
        claims("root"),
        "realm_access",
        json!({ "roles": ["staff"] }),
    ));
    assert_forbidden(&app.get("/admin").bearer(&t).send().await, None);
    assert_eq!(hits.count(), 1);
}

#[tokio::test]
async fn namespaced_roles_claim() {
    let gate = keyless_gate_builder()
        .issuer(test_issuer().roles_claim("https://example.com/claims/roles"))
        .build()
        .unwrap();
    let (app, hits) = app_with(gate);
    let t = hs256(&with(
        claims("root"),
        "https://example.com/claims/roles",
        json!(["admin"]),
    ));
    assert_ok(&app.get("/admin").bearer(&t).send().await, "admin root");
    assert_eq!(hits.count(), 1);

    // Taken whole: no path splitting on '/' or '.'.
    let t = hs256(&with(
        claims("root"),
        "https:",
        json!({ "example.com": { "claims": { "roles": ["admin"] } } }),
    ));
    assert_forbidden(&app.get("/admin").bearer(&t).send().await, None);
    assert_forbidden(
        &app.get("/admin")
            .bearer(&token("root", &["admin"]))
            .send()
            .await,
        None,
    );
    assert_eq!(hits.count(), 1);
}

// ---------------------------------------------------------------------------------------------
// 3. Ordering: the guard runs before any extractor, and before the body is read

/// `POST uri` with a probed body (only the raw builder can send one) and an optional bearer
/// token; the request and the flag that tells whether anything read the body.
fn post_json(
    uri: &str,
    content_type: &str,
    body: &'static [u8],
    token: Option<&str>,
) -> (Request<Body>, Arc<AtomicBool>) {
    let mut req = raw::post(uri).probed_body(content_type, body);
    if let Some(token) = token {
        req = req.bearer(token);
    }
    let (req, read) = req.build();
    (req, read.expect("a probed body"))
}

/// The main app on the default Gate, for the raw requests of this section.
fn raw_app() -> (axum::Router, Hits) {
    let hits = Hits::default();
    (router(&hits), hits)
}

#[tokio::test]
async fn body_probe_detects_reads() {
    // The probe itself: an authorized request with a malformed body is read and refused by Json.
    let (app, hits) = raw_app();
    let t = token("alice", &[]);
    let (req, read) = post_json("/items", "application/json", b"{not json", Some(&t));
    let reply = send_raw(&app, req).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(read.load(Ordering::SeqCst), "Json must have read the body");
    let (req, read) = post_json("/items", "application/json", br#"{"a":1}"#, Some(&t));
    let reply = send_raw(&app, req).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({ "created": { "a": 1 } }));
    assert!(read.load(Ordering::SeqCst));
    assert_eq!(hits.count(), 1);
}

#[tokio::test]
async fn anonymous_post_with_malformed_json_is_401_and_body_unread() {
    let (app, hits) = raw_app();
    let (req, read) = post_json("/items", "application/json", b"{not json", None);
    assert_unauthenticated(&send_raw(&app, req).await);
    assert!(
        !read.load(Ordering::SeqCst),
        "the body was read before the guard refused"
    );
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn anonymous_post_with_wrong_content_type_is_401_and_body_unread() {
    let (app, hits) = raw_app();
    let (req, read) = post_json("/items", "text/plain", b"hello", None);
    assert_unauthenticated(&send_raw(&app, req).await);
    assert!(!read.load(Ordering::SeqCst));
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn invalid_token_post_with_malformed_json_is_401_and_body_unread() {
    let (app, hits) = raw_app();
    let (req, read) = post_json("/items", "application/json", b"[[[", Some("a.b.c"));
    assert_invalid_token(&send_raw(&app, req).await);
    assert!(!read.load(Ordering::SeqCst));
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn anonymous_unparsable_path_parameter_is_401() {
    let (app, hits) = app();
    let reply = app.get("/items/abc").send().await;
    assert_unauthenticated(&reply);
    assert_eq!(hits.count(), 0);
    // Authenticated, the same path is the Path extractor's 400.
    let reply = app
        .get("/items/abc")
        .bearer(&token("alice", &[]))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(hits.count(), 0);
    let reply = app
        .get("/items/7")
        .bearer(&token("alice", &[]))
        .send()
        .await;
    assert_ok(&reply, "item 7");
    assert_eq!(hits.count(), 1);
}

#[tokio::test]
async fn forbidden_user_with_malformed_body_is_403_not_422() {
    let (app, hits) = raw_app();
    let t = token("alice", &["staff"]);
    for (content_type, body) in [
        ("application/json", &b"{not json"[..]),
        ("application/json", br#"["valid json, wrong shape?"]"#),
        ("text/plain", b"hello"),
    ] {
        let body: &'static [u8] = body;
        let (req, read) = post_json("/admin/items", content_type, body, Some(&t));
        assert_forbidden(&send_raw(&app, req).await, None);
        assert!(!read.load(Ordering::SeqCst), "{content_type}: body read");
    }
    assert_eq!(hits.count(), 0);
}

// ---------------------------------------------------------------------------------------------
// 6. GateBuilder refusals

#[test]
fn gate_refuses_a_31_byte_hmac_secret() {
    let err = keyless_gate_builder()
        .issuer(Issuer::new(ISS).secret([7u8; 31]))
        .build()
        .unwrap_err();
    assert_eq!(
        err.problems(),
        [ConfigProblem::WeakSecret {
            algorithm: Algorithm::HS256,
            len: 31,
            min: 32
        }]
    );
    let msg = err.to_string();
    assert!(msg.contains("31 bytes"), "{msg}");
    assert!(msg.contains("at least 32 bytes"), "{msg}");
    // 32 bytes is enough.
    keyless_gate_builder()
        .issuer(Issuer::new(ISS).secret([7u8; 32]))
        .build()
        .unwrap();
    // HS384 and HS512 need 48 and 64.
    let err = Key::hmac(Algorithm::HS512, [7u8; 63]).unwrap_err();
    assert_eq!(
        err.problems(),
        [ConfigProblem::WeakSecret {
            algorithm: Algorithm::HS512,
            len: 63,
            min: 64
        }]
    );
    assert!(err.to_string().contains("at least 64 bytes"), "{err}");
}

/// An issuer needs keys (given, or a place to fetch them), and a Gate needs an issuer or
/// sessions: otherwise it would accept no credential.
#[test]
fn gate_refuses_no_key() {
    let err = Gate::builder()
        .issuer(Issuer::new(ISS).audience(AUD))
        .build()
        .unwrap_err();
    assert_eq!(
        err.problems(),
        [ConfigProblem::NoKeys {
            issuer: ISS.to_owned()
        }]
    );
    let msg = err.to_string();
    assert!(msg.contains("has no keys"), "{msg}");
    assert!(msg.contains(".secret(..)"), "{msg}");
    assert!(msg.contains("Issuer::discover"), "{msg}");
    let err = Gate::builder().realm(REALM).build().unwrap_err();
    assert_eq!(err.problems(), [ConfigProblem::NothingAccepted]);
    let msg = err.to_string();
    assert!(msg.contains(".issuer(Issuer::new(..))"), "{msg}");
    assert!(msg.contains(".sessions(..)"), "{msg}");
}

/// One issuer's keys are of one family; two issuers may each have their own family.
#[test]
fn gate_refuses_hmac_mixed_with_rsa() {
    let rsa = Key::from_pem(Algorithm::RS256, pem("rsa_public.pem")).unwrap();
    for issuer in [
        Issuer::new(ISS).secret(SECRET).key(rsa.clone()),
        Issuer::new(ISS).key(rsa.clone()).secret(SECRET),
        // kids do not make it acceptable.
        Issuer::new(ISS)
            .key(rsa.clone().with_kid("r"))
            .key(Key::hmac(Algorithm::HS256, SECRET).unwrap().with_kid("h")),
    ] {
        let err = keyless_gate_builder().issuer(issuer).build().unwrap_err();
        assert_eq!(
            err.problems(),
            [ConfigProblem::MixedFamilies {
                issuer: ISS.to_owned()
            }]
        );
        let msg = err.to_string();
        assert!(
            msg.contains("never mix HMAC secrets with public keys"),
            "{msg}"
        );
    }
    keyless_gate_builder()
        .issuer(test_issuer())
        .issuer(Issuer::new("https://rsa.example.test").key(rsa))
        .build()
        .expect("an HMAC issuer and an RSA issuer");
}

#[test]
fn gate_refuses_a_leeway_over_five_minutes() {
    let err = gate_builder()
        .leeway(Duration::from_secs(301))
        .build()
        .unwrap_err();
    assert_eq!(
        err.problems(),
        [ConfigProblem::LeewayTooLong {
            leeway: Duration::from_secs(301)
        }]
    );
    let msg = err.to_string();
    assert!(msg.contains("use at most 5 minutes"), "{msg}");
    gate_builder()
        .leeway(Duration::from_secs(300))
        .build()
        .unwrap();
}

/// `build` reports every problem at once, as one flat list in the order they were met (the
/// setters' own as they were called, then the issuers'), and its message numbers them.
#[test]
fn gate_reports_every_problem_at_once_as_a_flat_list() {
    const B: &str = "https://b.example.test";
    let err = keyless_gate_builder()
        .issuer(Issuer::new(ISS).secret([7u8; 31]))
        .issuer(Issuer::new(B))
        .issuer(Issuer::new(B).secret(SECRET))
        .leeway(Duration::from_secs(301))
        .max_token_bytes(0)
        .build()
        .unwrap_err();
    assert_eq!(
        err.problems(),
        [
            ConfigProblem::WeakSecret {
                algorithm: Algorithm::HS256,
                len: 31,
                min: 32
            },
            ConfigProblem::LeewayTooLong {
                leeway: Duration::from_secs(301)
            },
            ConfigProblem::ZeroLimit {
                setting: "max_token_bytes"
            },
            ConfigProblem::NoKeys {
                issuer: B.to_owned()
            },
            ConfigProblem::DuplicateIssuer {
                issuer: B.to_owned()
            },
        ]
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("5 configuration problems: (1) the HS256 secret is 31 bytes"),
        "{msg}"
    );
    assert!(
        msg.contains(r#" (5) the issuer "https://b.example.test" is configured twice"#),
        "{msg}"
    );
}

/// A Gate may take session cookies only, with no issuer: a login's cookie reaches the
/// handlers, and any bearer token is refused (401), since no issuer accepts tokens; it issues
/// none either.
#[tokio::test]
async fn a_gate_with_sessions_and_no_issuer_accepts_cookies_only() {
    let gate = keyless_gate_builder()
        .sessions(Sessions::server_side(COOKIE, MemoryStore::new()))
        .build()
        .expect("a cookie-only Gate");
    let cookie = login_cookie(&gate, Identity::new("carol").roles(["admin"])).await;
    let (app, hits) = app_with(gate.clone());
    assert_ok(&app.get("/me").cookie(&cookie).send().await, "carol");
    assert_ok(
        &app.get("/admin").cookie(&cookie).send().await,
        "admin carol",
    );
    assert_eq!(hits.count(), 2);
    // A token signed with the default test secret, and one that is no JWT.
    for t in [token("alice", &["admin"]), "not-a-jwt".to_owned()] {
        assert_invalid_token(&app.get("/me").bearer(&t).send().await);
    }
    assert_unauthenticated(&app.get("/me").send().await);
    assert_eq!(hits.count(), 2);
    let err = gate.issue(&Identity::new("carol")).await.unwrap_err();
    assert_eq!(err.kind(), &authgate::RejectionKind::Misconfigured);
}

// ---------------------------------------------------------------------------------------------
// 7. Router

#[require_role("admin")]
async fn api_admin(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "api admin"
}

#[require_auth]
async fn api_me(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.subject().to_owned()
}

#[require_scope("reports:write")]
async fn api_write_report(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "written"
}

fn static_js() -> impl tower::Service<
    Request<Body>,
    Response = &'static str,
    Error = Infallible,
    Future = std::future::Ready<Result<&'static str, Infallible>>,
> + Clone
+ Send
+ Sync
+ 'static {
    tower::service_fn(|_req: Request<Body>| {
        std::future::ready(Ok::<_, Infallible>("console.log(1)"))
    })
}

fn full_router() -> Router<AppState> {
    let api = Router::new()
        .route("/admin", get(api_admin))
        .route("/me", get(api_me).post(api_write_report));
    let extra = Router::new().route("/status", get(health));
    Router::new()
        .route("/health", get(health))
        .nest("/api/v1", api)
        .merge(extra)
        .public_service("/static/app.js", "static assets", static_js())
}

#[test]
fn the_audit_lists_every_route() {
    let router = full_router().fallback(fallback_handler);
    let lines: Vec<String> = router.audit().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "GET /health public: load-balancer health check",
            "GET /api/v1/admin require_role(admin)",
            "GET /api/v1/me require_auth",
            "POST /api/v1/me require_scope(reports:write)",
            "GET /status public: load-balancer health check",
            "* /static/app.js public: static assets",
            "* * require_auth [origin checked on every method]",
        ]
    );
    let handlers: Vec<&str> = router.audit().iter().map(|p| p.handler()).collect();
    assert_eq!(
        handlers,
        [
            "health",
            "api_admin",
            "api_me",
            "api_write_report",
            "health",
            "service",
            "fallback_handler"
        ]
    );

    // Every attribute form, as the audit shows it.
    let lines: Vec<String> = routes().audit().iter().map(ToString::to_string).collect();
    for expected in [
        "GET /admin-or-billing require_role(any(admin, billing))",
        "GET /staff-and-billing require_role(all(staff, billing))",
        "POST /invoices require_scope(invoices:write)",
        "GET /invoices/all require_scope(all(invoices:read, invoices:write))",
        "POST /users require_role(admin) + require_scope(users:write)",
        "GET /dashboard require_auth [redirect: /login]",
        "GET /admin-page require_role(admin) [redirect: /login]",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected} in {lines:#?}"
        );
    }

    // A nested router's fallback shows under its prefix.
    let nested = Router::<AppState>::new().nest(
        "/api",
        Router::new()
            .route("/me", get(api_me))
            .fallback(fallback_handler),
    );
    let lines: Vec<String> = nested.audit().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "GET /api/me require_auth",
            "* /api/* require_auth [origin checked on every method]"
        ]
    );
}

#[tokio::test]
async fn unknown_route_is_404_not_401() {
    let state = AppState::new(gate());
    let hits = state.hits.clone();
    let app = client(full_router().with_state(state).into_axum());
    for t in [
        Credential::Anonymous,
        Credential::Bearer(token("alice", &[])),
    ] {
        let reply = t.on(app.get("/nope")).send().await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(single_header(&reply, "www-authenticate"), None);
        let reply = t.on(app.get("/api/v1/nope")).send().await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn nested_and_merged_routes_are_reachable_and_guarded() {
    let state = AppState::new(gate());
    let hits = state.hits.clone();
    let app = client(full_router().with_state(state).into_axum());

    assert_unauthenticated(&app.get("/api/v1/admin").send().await);
    assert_forbidden(
        &app.get("/api/v1/admin")
            .bearer(&token("a", &["staff"]))
            .send()
            .await,
        None,
    );
    let t = hs256(&with(claims("a"), "scope", json!("reports:read")));
    assert_forbidden(
        &app.post("/api/v1/me").bearer(&t).send().await,
        Some("reports:write"),
    );
    assert_eq!(hits.count(), 0);

    assert_ok(
        &app.get("/api/v1/admin")
            .bearer(&token("a", &["admin"]))
            .send()
            .await,
        "api admin",
    );
    assert_ok(
        &app.get("/api/v1/me").bearer(&token("a", &[])).send().await,
        "a",
    );
    assert_ok(&app.get("/status").send().await, "ok");
    assert_ok(&app.get("/health").send().await, "ok");
    assert_eq!(hits.count(), 4);
    // The public service answers anonymous callers.
    assert_ok(&app.get("/static/app.js").send().await, "console.log(1)");
}

#[tokio::test]
async fn guarded_fallback_answers_401_to_anonymous_callers() {
    let state = AppState::new(gate());
    let hits = state.hits.clone();
    let app = client(
        full_router()
            .fallback(fallback_handler)
            .with_state(state)
            .into_axum(),
    );
    for uri in ["/nope", "/api/v1/nope", "/deep/er/path?x=1"] {
        assert_unauthenticated(&app.get(uri).send().await);
    }
    assert_invalid_token(&app.get("/nope").bearer("x.y.z").send().await);
    assert_eq!(hits.count(), 0);
    let reply = app.get("/nope").bearer(&token("alice", &[])).send().await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.text(), "no such page, alice");
    assert_eq!(hits.count(), 1);
    // Known routes are unaffected by the fallback.
    assert_ok(&app.get("/health").send().await, "ok");
}

// ---------------------------------------------------------------------------------------------
// 8. Custom rejection renderer

fn problem_gate() -> Gate {
    gate_builder()
        .render_rejection(|r: &Rejection| {
            let body = json!({
                "type": format!("https://errors.example.test/{}", r.code()),
                "title": r.message(),
                "status": r.status().as_u16(),
            });
            // Deliberately wrong status: authgate must put the right one back.
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/problem+json")],
                body.to_string(),
            )
                .into_response()
        })
        .build()
        .unwrap()
}

#[track_caller]
fn assert_problem(reply: &TestResponse, status: u16, code: &str, www: Option<&str>) {
    assert_eq!(reply.status.as_u16(), status);
    assert_eq!(single_header(reply, "www-authenticate"), www);
    assert_eq!(single_header(reply, "cache-control"), Some("no-store"));
    assert_eq!(
        single_header(reply, "content-type"),
        Some("application/problem+json")
    );
    assert_eq!(
        reply.json(),
        json!({
            "type": format!("https://errors.example.test/{code}"),
            "title": message_of(code),
            "status": status,
        })
    );
}

/// A hook renders pages and API answers apart, as the default does: `is_page` says which.
#[tokio::test]
async fn a_custom_renderer_tells_pages_from_api_routes() {
    let gate = gate_builder()
        .render_rejection(|r: &Rejection| match r.is_page() {
            true => axum::response::Html(format!("<p>{}</p>", r.message())).into_response(),
            false => Json(json!({ "problem": r.code() })).into_response(),
        })
        .build()
        .unwrap();
    let (app, hits) = app_with(gate);
    let user = token("alice", &[]);
    let page = app.get("/admin-page").bearer(&user).send().await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(
        single_header(&page, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.text(), format!("<p>{}</p>", message_of("forbidden")));
    let api = app.get("/admin").bearer(&user).send().await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert_eq!(api.json(), json!({ "problem": "forbidden" }));
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn custom_renderer_keeps_status_and_protocol_headers() {
    let (app, hits) = app_with(problem_gate());
    let reply = app.get("/me").send().await;
    assert_problem(&reply, 401, "unauthenticated", Some(&www_missing()));

    let reply = app.get("/me").bearer("a.b.c").send().await;
    assert_problem(&reply, 401, "invalid_token", Some(&www_invalid_token()));

    let reply = app
        .get("/me")
        .header("authorization", "Basic YWxpY2U6c2VjcmV0")
        .send()
        .await;
    assert_problem(&reply, 401, "invalid_token", Some(&www_invalid_request()));

    let reply = app.get("/admin").bearer(&token("a", &[])).send().await;
    assert_problem(&reply, 403, "forbidden", Some(&www_insufficient(None)));

    let reply = app.post("/invoices").bearer(&token("a", &[])).send().await;
    assert_problem(
        &reply,
        403,
        "forbidden",
        Some(&www_insufficient(Some("invoices:write"))),
    );

    let reply = app.get("/dashboard?a=1").send().await;
    assert_problem(&reply, 303, "redirect", None);
    assert_eq!(
        single_header(&reply, "location"),
        Some("/login?next=%2Fdashboard%3Fa%3D1")
    );

    let reply = app.get("/public-current-user").send().await;
    assert_problem(&reply, 500, "internal_error", None);
    assert_eq!(hits.count(), 0);
}

// ---------------------------------------------------------------------------------------------
// 9. Logging hygiene

/// A fallback has no route template; the concrete path may carry a secret (an invite code),
/// so the decision names `<fallback>` and never the path.
#[tokio::test]
async fn fallback_decisions_never_log_the_concrete_path() {
    let (logs, _guard) = capture_logs();
    let state = AppState::new(gate());
    let app = client(
        full_router()
            .fallback(fallback_handler)
            .with_state(state)
            .into_axum(),
    );
    assert_unauthenticated(&app.get("/invite/s3cr3t-invite-code").send().await);
    let out = logs.contents();
    assert_logged(
        &out,
        &[
            "access decision",
            "route=<fallback>",
            r#"outcome="unauthenticated""#,
        ],
    );
    assert!(!out.contains("s3cr3t-invite-code"), "path logged:\n{out}");
}

#[tokio::test]
async fn unavailable_keys_are_logged_as_an_error_without_the_token() {
    let (logs, _guard) = capture_logs();
    let (app, hits) = app_with(unavailable_keys_gate());
    let t = token("alice", &[]);
    let reply = app.get("/me").bearer(&t).send().await;
    assert_rejection(&reply, 503, "unavailable", None);
    assert_eq!(hits.count(), 0);
    let out = logs.contents();
    // The error names the issuer whose keys are missing, for the operator.
    assert_logged(
        &out,
        &[
            "ERROR",
            "credential verification unavailable",
            "route=/me",
            &format!("keys of {ISS:?} not fetched"),
        ],
    );
    assert_logged(
        &out,
        &["access decision", "route=/me", r#"outcome="unavailable""#],
    );
    let (_, payload, sig) = parts(&t);
    assert!(!out.contains(payload) && !out.contains(sig), "{out}");
}
