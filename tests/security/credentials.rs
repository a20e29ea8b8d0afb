//! Credential kinds: a route that accepts only session cookies (`credentials = "cookie"` or a
//! `Router::accepting` router) is no way in for a bearer token, which skips the origin check;
//! one that accepts only bearer tokens gives a browser's cookie no identity. A kind a route does
//! not accept is not examined at all, as if the request did not carry it: it can neither let a
//! caller in nor break a request that also carries an accepted credential.
//!
//! - OWASP ASVS 5.0.0: V3.5.1 (cross-origin requests to sensitive functionality are checked:
//!   a page route cannot be reached with a credential that skips the check), V8.3.1
//!   (authorization decided at the server, on the route's declared rule), V8.1.1 (the accepted
//!   kinds are declared on the handler or router and shown in the route audit).
//! - OWASP API Security Top 10 2023: API2 (Broken Authentication), API5 (Broken Function Level
//!   Authorization).

use std::time::Duration;

use authgate::sessions::Sessions;
use authgate::store::MemoryStore;
use authgate::{CredentialKind, CurrentUser, Identity, Router, require_auth, routing};
use axum::extract::State;

use crate::harness::{Case, Expect, Req, get, post, run};
use crate::support::*;

#[require_auth(credentials = "cookie")]
async fn cookie_only(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.subject().to_owned()
}

#[require_auth(redirect = "/login", credentials = "cookie")]
async fn page(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.subject().to_owned()
}

#[require_auth(credentials = "bearer")]
async fn bearer_only(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.subject().to_owned()
}

#[require_auth]
async fn either(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.subject().to_owned()
}

struct App {
    app: axum::Router,
    hits: Hits,
    cookie: String,
}

async fn app() -> App {
    let gate = gate_builder()
        .sessions(
            Sessions::server_side(COOKIE, MemoryStore::new())
                .idle_timeout(Duration::from_secs(600)),
        )
        .build()
        .expect("gate");
    let cookie = login_cookie(&gate, Identity::new("alice")).await;
    let state = AppState::new(gate);
    let hits = state.hits.clone();
    let both = || routing::get(either).post(either);
    let app = Router::new()
        .route("/cookie", routing::get(cookie_only).post(cookie_only))
        .route("/page", routing::get(page))
        .route("/bearer", routing::get(bearer_only).post(bearer_only))
        .route("/either", both())
        .nest(
            "/pages",
            Router::accepting(&[CredentialKind::Cookie]).route("/either", both()),
        )
        .nest(
            "/api",
            Router::accepting(&[CredentialKind::Bearer]).route("/either", both()),
        )
        .nest("/nothing", Router::accepting(&[]).route("/either", both()))
        .merge(Router::accepting(&[CredentialKind::Bearer]).nest(
            "/narrower",
            Router::accepting(&[CredentialKind::Cookie]).route("/either", both()),
        ))
        .with_state(state)
        .into_axum();
    App { app, hits, cookie }
}

fn browser(r: Req, cookie: &str) -> Req {
    r.header("host", HOST).cookie(cookie)
}

#[tokio::test]
async fn routes_examine_only_the_kinds_they_accept() {
    let App { app, hits, cookie } = app().await;
    let alice = token("alice", &[]);
    let mallory = token("mallory", &[]);
    let mut cases = Vec::new();
    for path in ["/cookie", "/pages/either"] {
        cases.extend([
            Case::new(format!("control: the session cookie on {path}"), browser(get(path), &cookie), Expect::allowed().body("alice")),
            Case::new(format!("a valid bearer token on {path}: not examined"), get(path).bearer(&alice), Expect::unauthenticated()),
            Case::new(
                format!("a cross-site POST with a valid bearer token on {path}: no way around the origin check"),
                post(path).header("host", HOST).header("sec-fetch-site", "cross-site").bearer(&alice),
                Expect::unauthenticated(),
            ),
            Case::new(
                format!("control: another user's bearer token and the cookie on {path}: the cookie decides"),
                browser(get(path), &cookie).bearer(&mallory),
                Expect::allowed().body("alice"),
            ),
            Case::new(
                format!("a garbage bearer token and the cookie on {path}: the token is not looked at"),
                browser(get(path), &cookie).bearer("not.a.token"),
                Expect::allowed().body("alice"),
            ),
            Case::new(
                format!("the cookie on a cross-site POST to {path}, with a bearer token too: origin checked"),
                browser(post(path), &cookie).header("sec-fetch-site", "cross-site").bearer(&alice),
                Expect::forbidden(),
            ),
        ]);
    }
    cases.push(Case::new(
        "a valid bearer token on a cookie-only page: to the login page",
        get("/page").bearer(&alice),
        Expect::redirect("/login?next=%2Fpage"),
    ));
    for path in ["/bearer", "/api/either"] {
        cases.extend([
            Case::new(format!("control: a bearer token on {path}"), get(path).bearer(&alice), Expect::allowed().body("alice")),
            Case::new(format!("the session cookie on {path}: not examined"), browser(get(path), &cookie), Expect::unauthenticated()),
            Case::new(
                format!("control: a cross-site POST with the bearer token and the cookie on {path}: no origin check"),
                browser(post(path), &cookie).header("sec-fetch-site", "cross-site").bearer(&alice),
                Expect::allowed().body("alice"),
            ),
            Case::new(
                format!("a forged session cookie and no token on {path}: not examined, so anonymous"),
                browser(get(path), &format!("{COOKIE}={}", "A".repeat(43))),
                Expect::unauthenticated(),
            ),
        ]);
    }
    for path in ["/nothing/either", "/narrower/either"] {
        cases.extend([
            Case::new(
                format!("a bearer token on {path} (accepts nothing)"),
                get(path).bearer(&alice),
                Expect::unauthenticated(),
            ),
            Case::new(
                format!("the session cookie on {path} (accepts nothing)"),
                browser(get(path), &cookie),
                Expect::unauthenticated(),
            ),
        ]);
    }
    cases.extend([
        Case::new(
            "control: a bearer token where every kind is accepted",
            get("/either").bearer(&alice),
            Expect::allowed().body("alice"),
        ),
        Case::new(
            "control: the cookie where every kind is accepted",
            browser(get("/either"), &cookie),
            Expect::allowed().body("alice"),
        ),
        Case::new(
            "where every kind is accepted, the bearer token still wins over the cookie",
            browser(get("/either"), &cookie).bearer("not.a.token"),
            Expect::invalid_token(),
        ),
    ]);
    run(
        "credentials/kinds a route accepts",
        &app,
        || hits.count(),
        cases,
    )
    .await;
}

#[test]
fn the_audit_shows_the_kinds_of_each_route() {
    let both = || routing::get(either);
    let router: Router<AppState> = Router::new()
        .route("/cookie", routing::get(cookie_only))
        .route("/either", both())
        .nest(
            "/api",
            Router::accepting(&[CredentialKind::Bearer])
                .route("/either", both())
                .route("/cookie", routing::get(cookie_only)),
        );
    let lines: Vec<String> = router.audit().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "GET /cookie require_auth [credentials: cookie]",
            "GET /either require_auth",
            "GET /api/either require_auth [credentials: bearer]",
            "GET /api/cookie require_auth [credentials: none]",
        ]
    );
}
