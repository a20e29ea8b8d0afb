//! Browser sessions over HTTP: login, access, logout, expiry, revocation, cookie tampering,
//! CSRF, redirects to the login page, a failing store, and the SQLite store on a real file.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use authgate::{
    BoxFuture, CurrentUser, Gate, MemoryStore, Router, SessionRecord, SessionStore, SessionUser,
    Sessions, SigningKey, SqliteStore, StoreError, public, require_auth, require_role,
    routing::get, routing::post,
};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::IntoResponse;
use http_body_util::BodyExt;
use tower::ServiceExt;

const SECRET: &[u8] = b"session-tests-secret-of-32-bytes!!!!";
const COOKIE: &str = "__Host-session";
const START: u64 = 1_800_000_000;

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

#[require_auth]
async fn change(user: CurrentUser) -> String {
    ran();
    format!("changed by {}", user.subject())
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

#[public(reason = "login")]
async fn login(State(gate): State<Gate>, body: String) -> impl IntoResponse {
    let roles: Vec<&str> = if body == "admin" {
        vec!["admin"]
    } else {
        vec!["user"]
    };
    match gate.login(SessionUser::new(body).roles(roles)).await {
        Ok(cookie) => (cookie, StatusCode::NO_CONTENT).into_response(),
        Err(e) => e.into_response(),
    }
}

#[require_auth]
async fn logout(State(gate): State<Gate>, user: CurrentUser) -> impl IntoResponse {
    match gate.logout(&user).await {
        Ok(cookie) => (cookie, StatusCode::NO_CONTENT).into_response(),
        Err(e) => e.into_response(),
    }
}

struct Clock(Arc<AtomicU64>);

impl Clock {
    fn new() -> Self {
        Clock(Arc::new(AtomicU64::new(START)))
    }
    fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

fn gate_with(sessions: Sessions, clock: &Clock) -> Gate {
    let now = clock.0.clone();
    Gate::builder()
        .hs256(SECRET)
        .sessions(sessions)
        .clock(move || now.load(Ordering::SeqCst))
        .build()
        .unwrap()
}

fn app(gate: Gate) -> axum::Router {
    Router::new()
        .route(
            "/me",
            get(me)
                .post(change)
                .delete(change)
                .put(change)
                .patch(change),
        )
        .route("/dashboard", get(dashboard))
        .route("/admin", get(admin_page))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .layer(gate.session_layer())
        .with_state(gate)
        .into_axum()
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn send(app: &axum::Router, req: axum::http::request::Builder, body: &str) -> Reply {
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

/// Logs in and returns the cookie pair `name=value` to send back.
async fn log_in(app: &axum::Router, who: &str) -> String {
    let reply = send(
        app,
        Request::post("/login").header("host", "app.example.com"),
        who,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let set = reply.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    set.split(';').next().unwrap().to_owned()
}

fn with_cookie(method: &str, uri: &str, cookie: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "app.example.com")
        .header(header::COOKIE, cookie)
}

fn server() -> (Gate, MemoryStore, Clock) {
    let store = MemoryStore::new();
    let clock = Clock::new();
    let gate = gate_with(
        Sessions::server_side(COOKIE, store.clone())
            .idle_timeout(std::time::Duration::from_secs(600))
            .absolute_lifetime(std::time::Duration::from_secs(3600)),
        &clock,
    );
    (gate, store, clock)
}

fn stateless(clock: &Clock) -> Gate {
    gate_with(
        Sessions::stateless(
            COOKIE,
            SigningKey::hmac(authgate::Algorithm::HS256, SECRET).unwrap(),
        )
        .idle_timeout(std::time::Duration::from_secs(600))
        .absolute_lifetime(std::time::Duration::from_secs(3600)),
        clock,
    )
}

#[tokio::test]
async fn server_side_login_access_logout_rejected() {
    let (gate, store, _clock) = server();
    let app = app(gate);
    let reply = send(
        &app,
        Request::post("/login").header("host", "app.example.com"),
        "7",
    )
    .await;
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

    let ok = send(&app, with_cookie("GET", "/me", &cookie), "").await;
    assert_eq!((ok.status, ok.body.as_str()), (StatusCode::OK, "7"));

    let out = send(&app, with_cookie("POST", "/logout", &cookie), "").await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let cleared = out.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with(&format!("{COOKIE}=;")) && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert!(store.is_empty(), "logout left the session in the store");

    let runs = handler_runs();
    let after = send(&app, with_cookie("GET", "/me", &cookie), "").await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        after.headers[header::WWW_AUTHENTICATE],
        r#"Bearer realm="api", error="invalid_token""#
    );
    assert_eq!(
        after.body,
        r#"{"error":"invalid_token","message":"the credential is invalid or expired"}"#
    );
    assert_eq!(handler_runs(), runs);
}

#[tokio::test]
async fn stateless_login_access_logout() {
    let clock = Clock::new();
    let app = app(stateless(&clock));
    let cookie = log_in(&app, "9").await;
    let value = cookie.split_once('=').unwrap().1;
    assert_eq!(value.split('.').count(), 3, "a JWT");
    let ok = send(&app, with_cookie("GET", "/me", &cookie), "").await;
    assert_eq!((ok.status, ok.body.as_str()), (StatusCode::OK, "9"));
    let out = send(&app, with_cookie("POST", "/logout", &cookie), "").await;
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
        send(&app, with_cookie("GET", "/me", &cookie), "")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn every_login_issues_a_fresh_id() {
    let (gate, store, _clock) = server();
    let app = app(gate);
    let first = log_in(&app, "7").await;
    // Logging in while presenting an (attacker-planted) cookie still yields a new id.
    let reply = send(&app, with_cookie("POST", "/login", &first), "7").await;
    let second = reply.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(first, second);
    assert_eq!(store.len(), 2);
}

#[tokio::test]
async fn idle_and_absolute_expiry() {
    let (gate, store, clock) = server();
    let app = app(gate);
    let cookie = log_in(&app, "7").await;
    clock.advance(599);
    assert_eq!(
        send(&app, with_cookie("GET", "/me", &cookie), "")
            .await
            .status,
        StatusCode::OK
    );
    clock.advance(601);
    let idle = send(&app, with_cookie("GET", "/me", &cookie), "").await;
    assert_eq!(idle.status, StatusCode::UNAUTHORIZED, "idle timeout passed");
    assert!(store.is_empty(), "expired session not deleted");

    // Active all along, but the absolute lifetime still ends it.
    let cookie = log_in(&app, "7").await;
    for _ in 0..6 {
        clock.advance(500);
        let reply = send(&app, with_cookie("GET", "/me", &cookie), "").await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    clock.advance(601);
    assert_eq!(
        send(&app, with_cookie("GET", "/me", &cookie), "")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn revoke_all_sessions_of_a_user() {
    let (gate, store, _clock) = server();
    let app = app(gate.clone());
    let a = log_in(&app, "7").await;
    let b = log_in(&app, "7").await;
    let other = log_in(&app, "8").await;
    assert_eq!(gate.revoke_user("7").await.unwrap(), 2);
    assert_eq!(store.len(), 1);
    for cookie in [&a, &b] {
        assert_eq!(
            send(&app, with_cookie("GET", "/me", cookie), "")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        send(&app, with_cookie("GET", "/me", &other), "")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn tampered_moved_and_duplicated_cookies() {
    for gate in [server().0, stateless(&Clock::new())] {
        let app = app(gate);
        let cookie = log_in(&app, "7").await;
        let (name, value) = cookie.split_once('=').unwrap();
        let mut tampered = value.to_owned();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        let cases = [
            (format!("{name}={tampered}"), StatusCode::UNAUTHORIZED),
            (format!("other-session={value}"), StatusCode::UNAUTHORIZED),
            (
                format!("{name}={value}; {name}={tampered}"),
                StatusCode::UNAUTHORIZED,
            ),
            (format!("{name}={value}; {name}={value}"), StatusCode::OK),
            (format!("{name}=../../etc/passwd"), StatusCode::UNAUTHORIZED),
        ];
        expect_cookie_cases(&app, cases).await;
    }
}

/// GET /me with each `Cookie` header: the expected status, and for a refusal that the handler
/// did not run and the answer is not cached.
async fn expect_cookie_cases(
    app: &axum::Router,
    cases: impl IntoIterator<Item = (String, StatusCode)>,
) {
    for (header_value, want) in cases {
        let runs = handler_runs();
        let reply = send(app, with_cookie("GET", "/me", &header_value), "").await;
        assert_eq!(reply.status, want, "{header_value}");
        if want != StatusCode::OK {
            assert_eq!(handler_runs(), runs, "handler ran for {header_value}");
            assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
        }
    }
}

/// A stateless cookie the token cache knows skips the cookie parse (the cache is asked with
/// the bytes after `name=` first). Everything the strict parse refuses must still be refused
/// once the cookie is cached, and the CSRF check must still run.
#[tokio::test]
async fn a_cached_stateless_cookie_is_still_parsed_strictly_and_csrf_checked() {
    let clock = Clock::new();
    let gate = stateless(&clock);
    let app = app(gate.clone());
    let cookie = log_in(&app, "7").await;
    let (name, value) = cookie.split_once('=').unwrap();
    let ok = send(&app, with_cookie("GET", "/me", &cookie), "").await;
    assert_eq!((ok.status, ok.body.as_str()), (StatusCode::OK, "7"));
    assert_eq!(gate.cached_tokens(), 1, "the cookie is cached");
    let other = log_in(&app, "8").await;
    let other = other.split_once('=').unwrap().1;
    let cases = [
        // Same value twice is one cookie; a second, different one is an attack.
        (format!("{name}={value}; {name}={value}"), StatusCode::OK),
        (
            format!("{name}={value}; {name}={other}"),
            StatusCode::UNAUTHORIZED,
        ),
        (
            format!("{name}={value};{name}={other}"),
            StatusCode::UNAUTHORIZED,
        ),
        (format!("{name}={value}x"), StatusCode::UNAUTHORIZED),
        (format!("{name}={value}; other=1"), StatusCode::OK),
        (format!("{name}=\"{value}\""), StatusCode::OK),
        (format!("{name}={value} "), StatusCode::OK),
        (format!("{name}x={value}"), StatusCode::UNAUTHORIZED),
    ];
    expect_cookie_cases(&app, cases).await;
    // Two Cookie headers: the cached value in the first, another session in the second.
    let runs = handler_runs();
    let req = with_cookie("GET", "/me", &cookie).header(header::COOKIE, format!("{name}={other}"));
    assert_eq!(send(&app, req, "").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(handler_runs(), runs);
    // A cross-site state change with the cached cookie: refused before the handler.
    let req = with_cookie("POST", "/me", &cookie)
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example");
    let reply = send(&app, req, "").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(
        handler_runs(),
        runs,
        "the handler ran for a cross-site POST"
    );
    // The same-origin one passes.
    let req = with_cookie("POST", "/me", &cookie)
        .header("sec-fetch-site", "same-origin")
        .header("origin", "https://app.example.com");
    assert_eq!(send(&app, req, "").await.status, StatusCode::OK);
}

#[tokio::test]
async fn authorization_header_wins_and_never_falls_back() {
    let (gate, _store, _clock) = server();
    let app = app(gate);
    let cookie = log_in(&app, "7").await;
    let req = with_cookie("GET", "/me", &cookie).header(header::AUTHORIZATION, "Bearer not.a.jwt");
    let reply = send(&app, req, "").await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "fell back to the cookie"
    );
    let req = with_cookie("GET", "/me", &cookie).header(header::AUTHORIZATION, "Basic dTpw");
    assert_eq!(send(&app, req, "").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn csrf_matrix() {
    let (gate, _store, _clock) = server();
    let app = app(gate);
    let cookie = log_in(&app, "7").await;
    let token = {
        use jsonwebtoken::{EncodingKey, Header, encode};
        let claims = serde_json::json!({ "sub": "7", "exp": START + 600 });
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    };
    // (method, sec-fetch-site, origin, cookie (true) or bearer (false), expected)
    type Case = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        bool,
        StatusCode,
    );
    let cases: &[Case] = &[
        (
            "GET",
            Some("cross-site"),
            Some("https://evil.example"),
            true,
            StatusCode::OK,
        ),
        (
            "POST",
            Some("same-origin"),
            Some("https://app.example.com"),
            true,
            StatusCode::OK,
        ),
        ("POST", Some("none"), None, true, StatusCode::OK),
        (
            "POST",
            Some("cross-site"),
            Some("https://evil.example"),
            true,
            StatusCode::FORBIDDEN,
        ),
        (
            "POST",
            Some("same-site"),
            Some("https://sub.example.com"),
            true,
            StatusCode::FORBIDDEN,
        ),
        (
            "DELETE",
            Some("cross-site"),
            None,
            true,
            StatusCode::FORBIDDEN,
        ),
        (
            "PUT",
            None,
            Some("https://evil.example"),
            true,
            StatusCode::FORBIDDEN,
        ),
        ("PATCH", None, Some("null"), true, StatusCode::FORBIDDEN),
        (
            "POST",
            None,
            Some("https://app.example.com"),
            true,
            StatusCode::OK,
        ),
        ("POST", None, None, true, StatusCode::OK),
        (
            "POST",
            None,
            Some("http://app.example.com.evil.io"),
            true,
            StatusCode::FORBIDDEN,
        ),
        (
            "POST",
            Some("cross-site"),
            Some("https://evil.example"),
            false,
            StatusCode::OK,
        ),
        ("DELETE", None, Some("null"), false, StatusCode::OK),
        ("HEAD", Some("cross-site"), None, true, StatusCode::OK),
    ];
    for (method, site, origin, by_cookie, want) in cases {
        let mut req = Request::builder()
            .method(*method)
            .uri("/me")
            .header("host", "app.example.com");
        req = if *by_cookie {
            req.header(header::COOKIE, &cookie)
        } else {
            req.header(header::AUTHORIZATION, format!("Bearer {token}"))
        };
        if let Some(site) = site {
            req = req.header("sec-fetch-site", *site);
        }
        if let Some(origin) = origin {
            req = req.header(header::ORIGIN, *origin);
        }
        let runs = handler_runs();
        let reply = send(&app, req, "").await;
        assert_eq!(
            reply.status, *want,
            "{method} {site:?} {origin:?} cookie={by_cookie}"
        );
        if *want == StatusCode::FORBIDDEN {
            assert_eq!(
                reply.body,
                r#"{"error":"forbidden","message":"you do not have access to this resource"}"#
            );
            assert!(reply.headers.get(header::WWW_AUTHENTICATE).is_none());
            assert_eq!(handler_runs(), runs, "handler ran on a forged request");
        }
    }
}

#[tokio::test]
async fn pages_redirect_to_login_and_apis_do_not() {
    let (gate, _store, _clock) = server();
    let app = app(gate);
    let reply = send(&app, Request::get("/dashboard?tab=open&x=a%20b"), "").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        reply.headers[header::LOCATION],
        "/login?next=%2Fdashboard%3Ftab%3Dopen%26x%3Da%2520b"
    );
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    // An API route answers 401, never a redirect.
    assert_eq!(
        send(&app, Request::get("/me"), "").await.status,
        StatusCode::UNAUTHORIZED
    );
    // A logged-in user without the role gets 403, not a redirect.
    let cookie = log_in(&app, "7").await;
    let reply = send(&app, with_cookie("GET", "/admin", &cookie), "").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.headers.get(header::LOCATION).is_none());
    let admin = log_in(&app, "admin").await;
    assert_eq!(
        send(&app, with_cookie("GET", "/admin", &admin), "")
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

/// A store that is down: every operation fails.
struct Down(Arc<AtomicUsize>);

impl SessionStore for Down {
    fn load(&self, _id: &str) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Err(StoreError::new("connection refused: password=hunter2")) })
    }
    fn save(&self, _record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Err(StoreError::new("down")) })
    }
    fn delete(&self, _id: &str) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Err(StoreError::new("down")) })
    }
    fn delete_user(&self, _subject: &str) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async { Err(StoreError::new("down")) })
    }
}

#[tokio::test]
async fn failing_store_is_503_and_csrf_runs_before_it() {
    let lookups = Arc::new(AtomicUsize::new(0));
    let gate = gate_with(
        Sessions::server_side(COOKIE, Down(lookups.clone())),
        &Clock::new(),
    );
    let app = app(gate);
    let cookie = format!("{COOKIE}={}", "A".repeat(43));
    let runs = handler_runs();
    for (method, uri) in [
        ("GET", "/me"),
        ("POST", "/me"),
        ("GET", "/dashboard"),
        ("GET", "/admin"),
        ("POST", "/logout"),
    ] {
        let reply = send(&app, with_cookie(method, uri, &cookie), "").await;
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{method} {uri}"
        );
        assert_eq!(
            reply.body,
            r#"{"error":"unavailable","message":"authentication is temporarily unavailable"}"#
        );
        assert!(reply.headers.get(header::WWW_AUTHENTICATE).is_none());
    }
    assert_eq!(
        handler_runs(),
        runs,
        "a handler ran while the store was down"
    );
    let before = lookups.load(Ordering::SeqCst);
    let forged = with_cookie("POST", "/me", &cookie).header("sec-fetch-site", "cross-site");
    assert_eq!(send(&app, forged, "").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        before,
        "the store was asked before the CSRF check"
    );
    // Login with a store that is down is 503 too.
    let reply = send(&app, Request::post("/login"), "7").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!reply.body.contains("hunter2"));
}

#[tokio::test]
async fn stateless_cookies_roll_before_expiry_but_not_past_the_absolute_lifetime() {
    let clock = Clock::new();
    let app = app(stateless(&clock));
    let cookie = log_in(&app, "7").await;
    clock.advance(200);
    let early = send(&app, with_cookie("GET", "/me", &cookie), "").await;
    assert!(
        early.headers.get(header::SET_COOKIE).is_none(),
        "renewed too early"
    );
    clock.advance(200);
    let due = send(&app, with_cookie("GET", "/me", &cookie), "").await;
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
        let reply = send(&app, with_cookie("GET", "/me", &cookie), "").await;
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
            send(&app, with_cookie("GET", "/me", &cookie), "")
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
    let reply = send(&app, with_cookie("GET", "/me", &cookie), "").await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "7"));
    assert_eq!(gate.revoke_user("7").await.unwrap(), 2);
    assert_eq!(
        send(&app, with_cookie("GET", "/me", &cookie), "")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let cookie = log_in(&app, "8").await;
    assert_eq!(
        send(&app, with_cookie("POST", "/logout", &cookie), "")
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
