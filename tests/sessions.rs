//! Browser sessions over HTTP, the working paths: login, access, logout, rolling renewal,
//! redirects to the login page, `next` validation, builder refusals, and the SQLite store on a
//! real file. Every attack on a session (tampered, moved, duplicated, expired, revoked or
//! fixated cookies, CSRF, a failing store) lives in the security suite.

mod support;

use authgate::{
    CurrentUser, Gate, MemoryStore, Router, SessionStore, Sessions, SigningKey, SqliteStore,
    require_auth, require_role, routing::get, routing::post,
};
use axum::http::{Method, StatusCode, header};

use support::*;

// Each #[tokio::test] runs its handlers on its own thread (current-thread runtime), so a
// thread-local counter sees only that test's handler runs.
thread_local! {
    static RUNS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn ran() {
    RUNS.with(|r| r.set(r.get() + 1));
}

fn handler_runs() -> usize {
    RUNS.with(|r| r.get())
}

#[require_auth]
async fn me(user: CurrentUser) -> String {
    ran();
    user.subject().to_owned()
}

#[require_auth(redirect = "/login")]
async fn dashboard(user: CurrentUser) -> String {
    ran();
    format!("dashboard of {}", user.subject())
}

#[require_role("admin", redirect = "/login")]
async fn admin_page() -> &'static str {
    ran();
    "admin"
}

fn app(gate: Gate) -> TestClient {
    client(
        Router::new()
            .route("/me", get(me))
            .route("/dashboard", get(dashboard))
            .route("/admin", get(admin_page))
            .route("/login", post(login))
            .route("/logout", post(logout))
            .layer(gate.session_layer())
            .with_state(gate)
            .into_axum(),
    )
}

/// Logs in (the body is the subject) and returns the reply.
async fn login_reply(app: &TestClient, who: &str) -> TestResponse {
    app.post("/login")
        .header("host", HOST)
        .form(who)
        .send()
        .await
}

/// Logs in and returns the cookie pair `name=value` to send back.
async fn log_in(app: &TestClient, who: &str) -> String {
    let reply = login_reply(app, who).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    cookie_pair(&reply)
}

/// `method uri` from the site with this cookie, without `Sec-Fetch-Site`.
fn with_cookie(app: &TestClient, method: Method, uri: &str, cookie: &str) -> TestRequest {
    app.request(method, uri)
        .header("host", HOST)
        .header("cookie", cookie)
}

/// Idle timeout 10 minutes, absolute lifetime 1 hour.
fn timeouts(sessions: Sessions) -> Sessions {
    sessions
        .idle_timeout(std::time::Duration::from_secs(600))
        .absolute_lifetime(std::time::Duration::from_secs(3600))
}

fn server() -> (Gate, MemoryStore, Clock) {
    let store = MemoryStore::new();
    let clock = Clock::new();
    let gate = gate_with(
        timeouts(Sessions::server_side(COOKIE, store.clone())),
        &clock,
    );
    (gate, store, clock)
}

fn stateless(clock: &Clock) -> Gate {
    gate_with(
        timeouts(Sessions::stateless(
            COOKIE,
            SigningKey::hmac(authgate::Algorithm::HS256, SECRET).unwrap(),
        )),
        clock,
    )
}

#[tokio::test]
async fn server_side_login_access_logout_rejected() {
    let (gate, store, _clock) = server();
    let app = app(gate);
    let reply = login_reply(&app, "7").await;
    let set = reply.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with(&format!("{COOKIE}=")), "{set}");
    for attribute in [
        "Path=/",
        "Max-Age=3600",
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
    ] {
        assert!(
            set.split("; ").any(|a| a == attribute),
            "{attribute} missing in {set}"
        );
    }
    let cookie = set.split(';').next().unwrap().to_owned();
    let id = cookie.split_once('=').unwrap().1;
    assert_eq!(id.len(), 43, "256-bit base64url id");
    assert_eq!(store.len(), 1);

    let ok = with_cookie(&app, Method::GET, "/me", &cookie).send().await;
    assert_eq!((ok.status, ok.text().as_str()), (StatusCode::OK, "7"));

    let out = with_cookie(&app, Method::POST, "/logout", &cookie)
        .send()
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let cleared = out.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with(&format!("{COOKIE}=;")) && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert!(store.is_empty(), "logout left the session in the store");

    let runs = handler_runs();
    let after = with_cookie(&app, Method::GET, "/me", &cookie).send().await;
    assert_invalid_token(&after);
    assert_eq!(handler_runs(), runs);
}

#[tokio::test]
async fn stateless_login_access_logout() {
    let clock = Clock::new();
    let app = app(stateless(&clock));
    let cookie = log_in(&app, "9").await;
    let value = cookie.split_once('=').unwrap().1;
    assert_eq!(value.split('.').count(), 3, "a JWT");
    let ok = with_cookie(&app, Method::GET, "/me", &cookie).send().await;
    assert_eq!((ok.status, ok.text().as_str()), (StatusCode::OK, "9"));
    let out = with_cookie(&app, Method::POST, "/logout", &cookie)
        .send()
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(
        out.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // Expired after its lifetime, whatever the browser kept.
    clock.advance(601 + 30);
    assert_eq!(
        with_cookie(&app, Method::GET, "/me", &cookie)
            .send()
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn pages_redirect_to_login_and_apis_do_not() {
    let (gate, _store, _clock) = server();
    let app = app(gate);
    let reply = app.get("/dashboard?tab=open&x=a%20b").send().await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        reply.headers[header::LOCATION],
        "/login?next=%2Fdashboard%3Ftab%3Dopen%26x%3Da%2520b"
    );
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    // An API route answers 401, never a redirect.
    assert_eq!(app.get("/me").send().await.status, StatusCode::UNAUTHORIZED);
    // A logged-in user without the role gets 403, not a redirect.
    let cookie = log_in(&app, "7").await;
    let reply = with_cookie(&app, Method::GET, "/admin", &cookie)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.headers.get(header::LOCATION).is_none());
    let admin = log_in(&app, "admin").await;
    assert_eq!(
        with_cookie(&app, Method::GET, "/admin", &admin)
            .send()
            .await
            .status,
        StatusCode::OK
    );
}

#[test]
fn next_validation_for_login_handlers() {
    let cases = [
        ("/dashboard", "/dashboard"),
        ("/invoices?page=2", "/invoices?page=2"),
        ("//evil.example", "/home"),
        ("/\\evil.example", "/home"),
        ("https://evil.example/", "/home"),
        ("javascript:alert(1)", "/home"),
        ("/%2F%2Fevil.example", "/home"),
        ("/%5Cevil.example", "/home"),
        ("%2F%2Fevil.example", "/home"),
        ("/ok\r\nLocation: //evil", "/home"),
        ("/%0d%0aSet-Cookie:x", "/home"),
        ("", "/home"),
    ];
    for (next, want) in cases {
        assert_eq!(authgate::safe_next(Some(next), "/home"), want, "{next:?}");
    }
}

#[tokio::test]
async fn stateless_cookies_roll_before_expiry_but_not_past_the_absolute_lifetime() {
    let clock = Clock::new();
    let app = app(stateless(&clock));
    let cookie = log_in(&app, "7").await;
    clock.advance(200);
    let early = with_cookie(&app, Method::GET, "/me", &cookie).send().await;
    assert!(
        early.headers.get(header::SET_COOKIE).is_none(),
        "renewed too early"
    );
    clock.advance(200);
    let due = with_cookie(&app, Method::GET, "/me", &cookie).send().await;
    assert_eq!(due.status, StatusCode::OK);
    let renewed = due.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        renewed.contains("Max-Age=600") && renewed.contains("HttpOnly"),
        "{renewed}"
    );
    let mut cookie = renewed.split(';').next().unwrap().to_owned();
    // Keep rolling: the session still ends at the absolute lifetime (3600 s).
    let mut last_ok = 400;
    for _ in 0..20 {
        clock.advance(400);
        let reply = with_cookie(&app, Method::GET, "/me", &cookie).send().await;
        if reply.status != StatusCode::OK {
            break;
        }
        last_ok += 400;
        if let Some(set) = reply.headers.get(header::SET_COOKIE) {
            cookie = set.to_str().unwrap().split(';').next().unwrap().to_owned();
        }
    }
    assert!(
        (3200..=3600 + 30).contains(&last_ok),
        "session lasted {last_ok} s"
    );
}

#[test]
fn insecure_cookies_are_refused_with_host_prefix() {
    let err = Gate::builder()
        .hs256(SECRET)
        .sessions(
            Sessions::server_side("__Host-s", MemoryStore::new()).insecure_for_local_development(),
        )
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("needs `Secure`"), "{err}");
    let err = Gate::builder()
        .hs256(SECRET)
        .sessions(Sessions::stateless(
            "s",
            SigningKey::hmac(
                authgate::Algorithm::HS256,
                b"another secret of 32 bytes......",
            )
            .unwrap(),
        ))
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("does not match any verification key"),
        "{err}"
    );
    let ok = Gate::builder()
        .hs256(SECRET)
        .sessions(
            Sessions::server_side("dev-session", MemoryStore::new())
                .insecure_for_local_development(),
        )
        .build();
    assert!(ok.is_ok());
}

#[tokio::test]
async fn sqlite_store_persists_across_restarts() {
    let path = std::env::temp_dir().join(format!("authgate-sessions-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let clock = Clock::new();
    let cookie = {
        let store = SqliteStore::open(&path).await.unwrap();
        let app = app(gate_with(Sessions::server_side(COOKIE, store), &clock));
        let cookie = log_in(&app, "7").await;
        log_in(&app, "7").await;
        assert_eq!(
            with_cookie(&app, Method::GET, "/me", &cookie)
                .send()
                .await
                .status,
            StatusCode::OK
        );
        cookie
    };
    // A new store on the same file: the "restarted" server still knows the session.
    let store = SqliteStore::open(&path).await.unwrap();
    let gate = gate_with(Sessions::server_side(COOKIE, store.clone()), &clock);
    let app = app(gate.clone());
    let reply = with_cookie(&app, Method::GET, "/me", &cookie).send().await;
    assert_eq!((reply.status, reply.text().as_str()), (StatusCode::OK, "7"));
    assert_eq!(gate.revoke_user("7").await.unwrap(), 2);
    assert_eq!(
        with_cookie(&app, Method::GET, "/me", &cookie)
            .send()
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let cookie = log_in(&app, "8").await;
    assert_eq!(
        with_cookie(&app, Method::POST, "/logout", &cookie)
            .send()
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert!(
        store
            .load(cookie.split_once('=').unwrap().1)
            .await
            .unwrap()
            .is_none()
    );
    let _ = std::fs::remove_file(&path);
}
