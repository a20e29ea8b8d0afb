//! The OpenAPI document authgate writes from the route policies (feature `utoipa`): the
//! invoices example's document operation by operation, the drift check, and what `apply`
//! writes for each kind of policy and Gate.
//!
//! The document's validity against the OpenAPI 3.1 schema and its contract with the running
//! server are checked by independent tools in `scripts/openapi_checks.sh` (run by `.ci/run`).

mod support;

include!("invoices_app/modules.rs");

use std::collections::BTreeSet;

use authgate::issuers::Issuer;
use authgate::keys::{Algorithm, Key};
use authgate::routing::RoutePolicy;
use authgate::sessions::Sessions;
use authgate::store::MemoryStore;
use authgate::testing::TestClient;
use authgate::{
    CredentialKind, Gate, Router, owned_by, public, require_auth, require_role, require_scope,
    routing,
};
use axum::extract::Path;
use serde_json::{Value, json};
use utoipa::OpenApi as _;
use utoipa::openapi::path::{Operation, OperationBuilder};
use utoipa::openapi::{
    HttpMethod, OpenApi, OpenApiBuilder, PathItem, PathsBuilder, Response, ResponseBuilder,
};

const REJECTION: &str = "#/components/schemas/AuthgateRejection";

/// The invoices app on a fresh in-memory database.
async fn invoices_app() -> app::App {
    let settings = app::Settings {
        database: db::Database::Sqlite(":memory:".to_owned()),
        redis: None,
        jwt_secret: b"openapi-tests-secret-5e1d7c3b9a0f2e4d6c8b".to_vec(),
        secure_cookies: false,
        seed_demo: true,
        login_rates: limits::Rates::default(),
    };
    app::build(&settings).await.expect("the app builds")
}

/// The invoices app's route policies and the document it serves at `/openapi.json`.
async fn invoices() -> (Vec<RoutePolicy>, Value) {
    let app = invoices_app().await;
    let policies: Vec<RoutePolicy> = app.router.audit().iter().cloned().collect();
    let reply = TestClient::new(app.router.into_axum())
        .get("/openapi.json")
        .send()
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers["content-type"], "application/json");
    (policies, reply.json())
}

/// What each invoices operation must show: the statuses authgate answers with (bodies of the
/// rejection schema) and the roles. Public operations have no refusals and `security: []`.
struct Expected {
    method: &'static str,
    path: &'static str,
    public: bool,
    refusals: &'static [u16],
    roles: Option<Value>,
}

fn row(method: &'static str, path: &'static str, refusals: &'static [u16]) -> Expected {
    Expected {
        method,
        path,
        public: false,
        refusals,
        roles: None,
    }
}

fn public_row(method: &'static str, path: &'static str) -> Expected {
    Expected {
        public: true,
        ..row(method, path, &[])
    }
}

#[tokio::test]
async fn each_invoices_operation_shows_the_security_and_refusals_of_its_policy() {
    let admin = || Some(json!([{"any": ["admin"]}]));
    // The Gate takes bearer tokens and the session cookie (server-side, in SQLite): every
    // guarded route can answer 503, and state changes by cookie are origin-checked (403).
    let table = [
        public_row("GET", "/health"),
        public_row("GET", "/openapi.json"),
        public_row("GET", "/login"),
        public_row("POST", "/login"),
        public_row("POST", "/token/refresh"),
        row("POST", "/logout", &[401, 403, 503]),
        row("GET", "/api/me", &[401, 503]),
        row("GET", "/api/invoices", &[401, 503]),
        row("POST", "/api/invoices", &[401, 403, 503]),
        row("GET", "/api/invoices/{id}", &[401, 404, 503]),
        row("DELETE", "/api/invoices/{id}", &[401, 403, 404, 503]),
        Expected {
            roles: admin(),
            ..row("GET", "/api/admin/users", &[401, 403, 503])
        },
        Expected {
            roles: admin(),
            ..row("DELETE", "/api/admin/users/{id}", &[401, 403, 503])
        },
        row("GET", "/dashboard", &[303, 503]),
        row("POST", "/dashboard/invoices", &[303, 403, 503]),
        // A WebSocket handshake: authgate's refusals as for any GET (the app documents the
        // origin check of a cookie handshake, a 403, itself).
        row("GET", "/api/invoices/feed", &[401, 503]),
        public_row("GET", "/static/feed.js"),
    ];
    let (policies, doc) = invoices().await;

    let routed: BTreeSet<(&str, &str)> = policies
        .iter()
        .filter(|p| p.path() != "*")
        .map(|p| (p.method(), p.path()))
        .collect();
    let listed: BTreeSet<(&str, &str)> = table.iter().map(|e| (e.method, e.path)).collect();
    assert_eq!(routed, listed, "the table lists every route");

    for expected in &table {
        let name = format!("{} {}", expected.method, expected.path);
        let op = &doc["paths"][expected.path][expected.method.to_lowercase()];
        assert!(op.is_object(), "{name} is documented");
        let policy = policies
            .iter()
            .find(|p| p.method() == expected.method && p.path() == expected.path)
            .expect("routed");
        assert_eq!(
            op["x-authgate-policy"],
            policy.policy().to_string(),
            "{name}"
        );

        if expected.public {
            assert_eq!(op["security"], json!([]), "{name}");
            let reason = policy.policy().public_reason().expect("public");
            assert_eq!(op["x-authgate-public"], reason, "{name}");
            assert!(
                op["description"]
                    .as_str()
                    .is_some_and(|d| d.contains(reason)),
                "{name}: the reason is in the description"
            );
        } else {
            assert_eq!(
                op["security"],
                json!([{"bearerAuth": []}, {"sessionCookie": []}]),
                "{name}"
            );
        }
        assert_eq!(
            op.get("x-authgate-roles").cloned(),
            expected.roles,
            "{name}"
        );

        // authgate's refusals: every response it wrote or added its case to carries its
        // `Cache-Control: no-store`.
        let responses = op["responses"].as_object().expect("responses");
        let refusals: Vec<u16> = responses
            .iter()
            .filter(|(_, r)| r["headers"]["Cache-Control"].is_object())
            .map(|(status, _)| status.parse().expect("a status"))
            .collect();
        assert_eq!(refusals, expected.refusals, "{name}: authgate's refusals");
        // Their bodies as authgate renders them: none for the 303 to the login page, a page
        // for a page route's other refusals, the rejection JSON for the API's.
        let page = policy.policy().redirect().is_some();
        for status in expected.refusals {
            let response = &responses[&status.to_string()];
            let content = &response["content"];
            match (status, page) {
                (303, _) => assert!(
                    content.is_null()
                        || content
                            .as_object()
                            .is_some_and(|c| !c.contains_key("application/json")),
                    "{name} 303 has no JSON body"
                ),
                (_, true) => assert!(
                    content["text/html; charset=utf-8"].is_object(),
                    "{name} {status}: a page"
                ),
                (_, false) => assert_eq!(
                    content["application/json"]["schema"]["$ref"], REJECTION,
                    "{name} {status}: the rejection JSON"
                ),
            }
        }
        for status in expected.refusals {
            let headers = &responses[&status.to_string()]["headers"];
            assert!(headers["Cache-Control"].is_object(), "{name} {status}");
            match status {
                401 => assert!(headers["WWW-Authenticate"].is_object(), "{name} 401"),
                303 => assert!(headers["Location"].is_object(), "{name} 303"),
                _ => {}
            }
        }
        // The app's own answers are kept as it wrote them (a WebSocket answers 101).
        assert!(
            responses
                .keys()
                .any(|s| s.starts_with('2') || s == "303" || s == "101"),
            "{name}"
        );
    }

    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["bearerAuth"]["type"]
            .as_str()
            .zip(schemes["bearerAuth"]["scheme"].as_str()),
        Some(("http", "bearer"))
    );
    assert_eq!(schemes["bearerAuth"]["bearerFormat"], "JWT");
    assert_eq!(schemes["sessionCookie"]["type"], "apiKey");
    assert_eq!(schemes["sessionCookie"]["in"], "cookie");
    assert_eq!(schemes["sessionCookie"]["name"], app::LOCAL_COOKIE);
    assert_eq!(doc["openapi"], "3.1.0");
}

#[require_auth]
async fn undocumented() -> &'static str {
    "new"
}

/// The drift `apply` returns, for `doc` (a copy: `apply` writes into the document) and
/// `routes`; the Gate decides what is written, never the drift.
fn drift_of<S: Clone + Send + Sync + 'static>(
    doc: &OpenApi,
    routes: &Router<S>,
) -> authgate::openapi::Drift {
    authgate::openapi::apply(&mut doc.clone(), &routes.audit(), &support::gate())
}

#[test]
fn a_route_added_without_documentation_is_drift() {
    let doc = openapi::ApiDoc::openapi();
    let drift = drift_of(&doc, &app::routes());
    assert!(
        drift.is_empty(),
        "the example documents every route:\n{drift}"
    );

    let routes = app::routes().route("/api/reports", routing::get(undocumented));
    let drift = drift_of(&doc, &routes);
    assert_eq!(
        drift.to_string(),
        "route without documentation: GET /api/reports require_auth\n"
    );
    assert!(drift.unrouted.is_empty());

    // The reverse: an operation that no route serves.
    let mut stale = doc.clone();
    stale
        .paths
        .add_path_operation("/api/old", vec![HttpMethod::Get], Operation::new());
    let drift = drift_of(&stale, &app::routes());
    assert_eq!(drift.unrouted, [("GET".to_owned(), "/api/old".to_owned())]);
    assert!(drift.undocumented.is_empty());
}

// -------------------------------------------------------------------------------------------
// What Schemathesis found in the example: requests the document allows, answered as it says.

/// The invoices app, and alice's bearer token from a JSON login.
async fn as_alice() -> (TestClient, String) {
    let client = TestClient::new(invoices_app().await.router.into_axum());
    let login = json!({"email": "alice@example.com", "password": "alice-password"});
    let reply = client.post("/login").json(&login).send().await;
    assert_eq!(reply.status, 200);
    let token = reply.json()["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    (client, token)
}

#[tokio::test]
async fn an_amount_written_with_a_zero_fraction_is_an_integer() {
    let (client, alice) = as_alice().await;
    let body = json!({"amount_cents": 4200.0, "description": "Consulting"});
    let reply = client
        .post("/api/invoices")
        .bearer(&alice)
        .json(&body)
        .send()
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["amount_cents"], 4200);
    let body = json!({"amount_cents": 42.5, "description": "Consulting"});
    let reply = client
        .post("/api/invoices")
        .bearer(&alice)
        .json(&body)
        .send()
        .await;
    assert_eq!(reply.status, 422);
}

#[tokio::test]
async fn a_description_over_200_characters_is_refused_even_with_padding() {
    let (client, alice) = as_alice().await;
    let padded = format!(" {}", "x".repeat(200)); // 201 as sent, 200 trimmed
    let body = json!({"amount_cents": 100, "description": padded});
    let reply = client
        .post("/api/invoices")
        .bearer(&alice)
        .json(&body)
        .send()
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.json()["fields"]["description"],
        "must be 1 to 200 characters"
    );
}

#[tokio::test]
async fn the_dashboard_answers_an_unreadable_form_with_a_page() {
    let (client, alice) = as_alice().await;
    let reply = client
        .post("/dashboard/invoices")
        .bearer(&alice)
        .body("text/plain", "amount_cents=1")
        .send()
        .await;
    assert_eq!(reply.status, 415);
    assert!(
        reply.headers["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/html")),
        "documented as text/html"
    );
}

// -------------------------------------------------------------------------------------------
// What `apply` writes, by policy and by Gate.

#[public(reason = "health check")]
async fn health() -> &'static str {
    "ok"
}

#[require_auth]
async fn me() -> &'static str {
    "me"
}

#[require_scope(any("invoices:read", "invoices:admin"))]
#[require_scope("reports:read")]
async fn report() -> &'static str {
    "report"
}

#[require_role(all("staff", "billing"))]
async fn billing() -> &'static str {
    "billing"
}

#[require_auth]
#[owned_by(name, status = 403)]
async fn profile(Path(name): Path<String>) -> String {
    name
}

#[require_auth]
async fn anything() -> &'static str {
    "any"
}

#[require_auth]
async fn file(Path(rest): Path<String>) -> String {
    rest
}

fn ok() -> Response {
    Response::new("ok")
}

fn op() -> OperationBuilder {
    OperationBuilder::new().response("200", ok())
}

/// A document that describes every route of [`app`].
fn doc() -> OpenApi {
    OpenApiBuilder::new()
        .paths(
            PathsBuilder::new()
                .path("/health", PathItem::new(HttpMethod::Get, op()))
                .path("/me", PathItem::new(HttpMethod::Get, op()))
                .path("/report", PathItem::new(HttpMethod::Get, op()))
                .path("/billing", PathItem::new(HttpMethod::Post, op()))
                .path("/profiles/{name}", PathItem::new(HttpMethod::Get, op()))
                .path(
                    "/any",
                    PathItem::from_http_methods([HttpMethod::Get, HttpMethod::Post], op()),
                )
                .path("/files/{rest}", PathItem::new(HttpMethod::Get, op())),
        )
        .build()
}

fn app() -> Router<Gate> {
    Router::new()
        .route("/health", routing::get(health))
        .route("/me", routing::get(me))
        .route("/report", routing::get(report))
        .route("/billing", routing::post(billing))
        .route("/profiles/{name}", routing::get(profile))
        .route("/any", routing::any(anything))
        .route("/files/{*rest}", routing::get(file))
        .fallback(health)
}

fn bearer_only() -> Gate {
    support::gate()
}

fn with_sessions() -> Gate {
    support::gate_builder()
        .sessions(Sessions::server_side("__Host-s", MemoryStore::new()))
        .build()
        .expect("gate")
}

/// `apply` on a fresh [`doc`], as JSON; the drift must be empty.
fn applied(gate: &Gate) -> Value {
    let mut doc = doc();
    let drift = authgate::openapi::apply(&mut doc, &app().audit(), gate);
    assert!(drift.is_empty(), "{drift}");
    serde_json::from_str(&doc.to_json().expect("json")).expect("json")
}

fn statuses(op: &Value) -> Vec<String> {
    op["responses"]
        .as_object()
        .expect("responses")
        .keys()
        .cloned()
        .collect()
}

#[test]
fn a_bearer_only_gate_documents_bearer_tokens_and_no_cookie() {
    let doc = applied(&bearer_only());
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("schemes");
    assert_eq!(schemes.keys().collect::<Vec<_>>(), ["bearerAuth"]);
    let me = &doc["paths"]["/me"]["get"];
    assert_eq!(me["security"], json!([{"bearerAuth": []}]));
    assert_eq!(statuses(me), ["200", "401"]);
    assert_eq!(
        me["responses"]["401"]["headers"]["WWW-Authenticate"]["example"],
        r#"Bearer realm="tests""#
    );
    assert_eq!(
        me["description"],
        "Access: a valid credential. authgate policy: `require_auth`."
    );
    // No cookie, no origin check: a POST refuses with 403 only for its roles.
    let billing = &doc["paths"]["/billing"]["post"];
    assert_eq!(statuses(billing), ["200", "401", "403"]);
    assert_eq!(
        billing["x-authgate-roles"],
        json!([{"all": ["staff", "billing"]}])
    );
    let health = &doc["paths"]["/health"]["get"];
    assert_eq!(health["security"], json!([]));
    assert_eq!(statuses(health), ["200"]);
    assert_eq!(health["x-authgate-public"], "health check");
}

#[test]
fn sessions_add_the_cookie_scheme_the_origin_check_and_the_store() {
    let doc = applied(&with_sessions());
    let cookie = &doc["components"]["securitySchemes"]["sessionCookie"];
    assert_eq!(cookie["name"], "__Host-s");
    assert_eq!(cookie["in"], "cookie");
    let me = &doc["paths"]["/me"]["get"];
    assert_eq!(
        me["security"],
        json!([{"bearerAuth": []}, {"sessionCookie": []}])
    );
    assert_eq!(statuses(me), ["200", "401", "503"]);
    // `any` serves every method, and the guard origin-checks a cookie on every one of them
    // there, GET included: its handler cannot tell a safe method from a state change.
    assert_eq!(
        statuses(&doc["paths"]["/any"]["get"]),
        ["200", "401", "403", "503"]
    );
    assert_eq!(
        statuses(&doc["paths"]["/any"]["post"]),
        ["200", "401", "403", "503"]
    );
    assert!(
        doc["paths"]["/any"]["post"]["responses"]["403"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("CSRF"))
    );
}

/// A Gate with sessions and no issuer refuses every bearer token, so its document offers the
/// cookie only: no `bearerAuth` scheme, no bearer-only challenge on 403.
#[test]
fn a_cookie_only_gate_documents_no_bearer_scheme() {
    let gate = support::keyless_gate_builder()
        .sessions(Sessions::server_side("__Host-s", MemoryStore::new()))
        .build()
        .expect("gate");
    let doc = applied(&gate);
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    assert_eq!(schemes.keys().collect::<Vec<_>>(), ["sessionCookie"]);
    let me = &doc["paths"]["/me"]["get"];
    assert_eq!(me["security"], json!([{"sessionCookie": []}]));
    let billing = &doc["paths"]["/billing"]["post"];
    assert_eq!(billing["security"], json!([{"sessionCookie": []}]));
    let forbidden = billing["responses"]["403"]["headers"]
        .as_object()
        .expect("403 headers");
    assert_eq!(forbidden.keys().collect::<Vec<_>>(), ["Cache-Control"]);
    // A 401 still carries the challenge: every 401 does, whatever the Gate accepts.
    assert!(
        me["responses"]["401"]["headers"]
            .as_object()
            .is_some_and(|h| h.contains_key("WWW-Authenticate"))
    );
}

/// A route that narrows its credential kinds documents only those: a cookie-only route has no
/// `bearerAuth` requirement, a bearer-only route no `sessionCookie` and no origin check, and
/// the policy text names the kinds.
#[test]
fn narrowed_routes_document_only_their_credential_kinds() {
    let app: Router<Gate> = Router::new()
        .route("/me", routing::get(cookie_me))
        .route("/plain", routing::get(me))
        .nest(
            "/api",
            Router::accepting(&[CredentialKind::Bearer]).route("/billing", routing::post(billing)),
        );
    let mut doc = OpenApiBuilder::new()
        .paths(
            PathsBuilder::new()
                .path("/me", PathItem::new(HttpMethod::Get, op()))
                .path("/plain", PathItem::new(HttpMethod::Get, op()))
                .path("/api/billing", PathItem::new(HttpMethod::Post, op())),
        )
        .build();
    let drift = authgate::openapi::apply(&mut doc, &app.audit(), &with_sessions());
    assert!(drift.is_empty(), "{drift}");
    let doc: Value = serde_json::from_str(&doc.to_json().expect("json")).expect("json");
    let me = &doc["paths"]["/me"]["get"];
    assert_eq!(me["security"], json!([{"sessionCookie": []}]));
    assert_eq!(
        me["x-authgate-policy"],
        "require_auth [credentials: cookie]"
    );
    let billing = &doc["paths"]["/api/billing"]["post"];
    assert_eq!(billing["security"], json!([{"bearerAuth": []}]));
    // No cookie, no origin check and no session store: 403 for the roles only, no 503.
    assert_eq!(statuses(billing), ["200", "401", "403"]);
    assert!(
        billing["responses"]["403"]["description"]
            .as_str()
            .is_some_and(|d| !d.contains("CSRF"))
    );
    assert_eq!(
        doc["paths"]["/plain"]["get"]["security"],
        json!([{"bearerAuth": []}, {"sessionCookie": []}]),
        "an unnarrowed route keeps both schemes"
    );
}

#[require_auth(credentials = "cookie")]
async fn cookie_me() -> &'static str {
    "me"
}

/// An issuer whose keys are fetched (here from an endpoint that is down) can leave the Gate
/// without keys: 503.
#[test]
fn fetched_keys_can_be_down() {
    let doc = applied(&support::unavailable_keys_gate());
    let me = &doc["paths"]["/me"]["get"];
    assert_eq!(statuses(me), ["200", "401", "503"]);
    assert_eq!(
        me["responses"]["503"]["description"],
        "The key source is unavailable; try again later."
    );
    assert_eq!(
        me["responses"]["503"]["content"]["application/json"]["example"],
        json!({"error": "unavailable", "message": "authentication is temporarily unavailable"})
    );
}

#[test]
fn scopes_become_requirements_one_per_way_in() {
    let doc = applied(&with_sessions());
    let report = &doc["paths"]["/report"]["get"];
    let alternatives = |scheme: &str| {
        [
            json!({ scheme: ["invoices:admin", "reports:read"] }),
            json!({ scheme: ["invoices:read", "reports:read"] }),
        ]
    };
    let mut expected = alternatives("bearerAuth").to_vec();
    expected.extend(alternatives("sessionCookie"));
    assert_eq!(report["security"], Value::Array(expected));
    assert_eq!(statuses(report), ["200", "401", "403", "503"]);
    assert_eq!(
        report["responses"]["403"]["headers"]["WWW-Authenticate"]["example"],
        r#"Bearer realm="tests", error="insufficient_scope""#
    );
}

#[test]
fn ownership_answers_its_own_status() {
    let doc = applied(&bearer_only());
    let profile = &doc["paths"]["/profiles/{name}"]["get"];
    assert_eq!(statuses(profile), ["200", "401", "403"]);
    assert!(
        profile["responses"]["403"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("does not own"))
    );
    // A wildcard route `{*rest}` is the document's `{rest}`.
    assert_eq!(
        doc["paths"]["/files/{rest}"]["get"]["x-authgate-policy"],
        "require_auth"
    );
}

/// A Gate with `Issuer::discover` documents each provider as an `openIdConnect` scheme with its
/// discovery URL, as one more way in with the same scopes; an issuer with a JWKS URL or
/// static keys has no discovery document, so no scheme. Its keys can be down: 503.
#[test]
fn an_oidc_issuer_is_an_open_id_connect_scheme_with_its_discovery_url() {
    let rsa = || Key::from_pem(Algorithm::RS256, support::pem("rsa_public.pem")).expect("key");
    let gate = Gate::builder()
        .realm("tests")
        .issuer(Issuer::discover("https://login.example.test/realms/acme").audience("api"))
        .issuer(Issuer::discover("https://other.example.test/").audience("x"))
        .issuer(
            Issuer::jwks(
                "https://keys.example.test",
                "https://keys.example.test/jwks.json",
            )
            .audience("api"),
        )
        .issuer(
            Issuer::new("https://static.example.test")
                .key(rsa())
                .audience("api"),
        )
        .build()
        .expect("gate");
    let doc = applied(&gate);
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes
            .as_object()
            .expect("schemes")
            .keys()
            .collect::<Vec<_>>(),
        ["bearerAuth", "openIdConnect", "openIdConnect2"]
    );
    assert_eq!(schemes["openIdConnect"]["type"], "openIdConnect");
    assert_eq!(
        schemes["openIdConnect"]["openIdConnectUrl"],
        "https://login.example.test/realms/acme/.well-known/openid-configuration"
    );
    assert_eq!(
        schemes["openIdConnect2"]["openIdConnectUrl"],
        "https://other.example.test/.well-known/openid-configuration"
    );
    let report = &doc["paths"]["/report"]["get"];
    let scopes = [
        json!(["invoices:admin", "reports:read"]),
        json!(["invoices:read", "reports:read"]),
    ];
    let expected: Vec<Value> = ["bearerAuth", "openIdConnect", "openIdConnect2"]
        .iter()
        .flat_map(|scheme| scopes.iter().map(move |s| json!({ *scheme: s })))
        .collect();
    assert_eq!(report["security"], Value::Array(expected));
    assert_eq!(statuses(report), ["200", "401", "403", "503"]);
    assert_eq!(doc["paths"]["/health"]["get"]["security"], json!([]));
    // Static issuer keys only: nothing to discover, nothing that can be down.
    let static_only = Gate::builder()
        .issuer(Issuer::new("https://static.example.test").key(rsa()))
        .build()
        .expect("gate");
    let doc = applied(&static_only);
    assert_eq!(
        doc["components"]["securitySchemes"]
            .as_object()
            .expect("schemes")
            .keys()
            .collect::<Vec<_>>(),
        ["bearerAuth"]
    );
    assert_eq!(statuses(&doc["paths"]["/me"]["get"]), ["200", "401"]);
}

#[test]
fn what_the_app_documents_is_kept_and_applying_twice_changes_nothing() {
    let mut doc = doc();
    let own_401 = ResponseBuilder::new()
        .description("The app's own words")
        .build();
    doc.paths
        .paths
        .get_mut("/me")
        .and_then(|item| item.get.as_mut())
        .expect("GET /me")
        .responses
        .responses
        .insert("401".to_owned(), own_401.into());
    let html_403 = ResponseBuilder::new()
        .description("A page")
        .content(
            "text/html",
            utoipa::openapi::Content::new(None::<utoipa::openapi::Ref>),
        )
        .build();
    doc.paths
        .paths
        .get_mut("/billing")
        .and_then(|item| item.post.as_mut())
        .expect("POST /billing")
        .responses
        .responses
        .insert("403".to_owned(), html_403.into());
    let custom = utoipa::openapi::schema::ObjectBuilder::new()
        .description(Some("An HTML page"))
        .build();
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .insert("AuthgateRejection".to_owned(), custom.into());
    let mut with_description = doc.clone();
    if let Some(op) = with_description
        .paths
        .paths
        .get_mut("/me")
        .and_then(|item| item.get.as_mut())
    {
        op.description = Some("Who am I.".to_owned());
    }

    let gate = bearer_only();
    authgate::openapi::apply(&mut with_description, &app().audit(), &gate);
    let once = with_description.to_json().expect("json");
    authgate::openapi::apply(&mut with_description, &app().audit(), &gate);
    assert_eq!(with_description.to_json().expect("json"), once);

    let json: Value = serde_json::from_str(&once).expect("json");
    let me = &json["paths"]["/me"]["get"];
    let own = &me["responses"]["401"];
    assert_eq!(
        own["description"],
        "The app's own words Or: No credential, or an invalid or expired one."
    );
    assert!(own["headers"]["WWW-Authenticate"].is_object());
    assert!(
        own.get("content").is_none(),
        "no body is added to a bodiless answer"
    );
    let html = &json["paths"]["/billing"]["post"]["responses"]["403"]["content"];
    assert!(html["text/html"].is_object());
    assert_eq!(html["application/json"]["schema"]["$ref"], REJECTION);
    assert_eq!(
        me["description"],
        "Who am I.\n\nAccess: a valid credential. authgate policy: `require_auth`."
    );
    assert_eq!(
        json["components"]["schemas"]["AuthgateRejection"]["description"],
        "An HTML page"
    );
}

#[test]
fn the_fallback_is_not_an_operation_and_an_unserved_operation_is_reported() {
    let mut doc = doc();
    doc.paths
        .add_path_operation("/gone", vec![HttpMethod::Delete], Operation::new());
    let drift = authgate::openapi::apply(&mut doc, &app().audit(), &bearer_only());
    assert!(drift.undocumented.is_empty(), "{drift}");
    assert_eq!(
        drift.to_string(),
        "operation without a route: DELETE /gone\n"
    );
    // Nothing is written to an operation no route serves.
    let json: Value = serde_json::from_str(&doc.to_json().expect("json")).expect("json");
    assert!(json["paths"]["/gone"]["delete"].get("security").is_none());
}
