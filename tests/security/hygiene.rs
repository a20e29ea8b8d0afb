//! Failing closed and hygiene.
//!
//! - An issuer whose keys cannot be fetched (its JWKS endpoint is down), a session store or a
//!   resource loader that is down answers 503 `unavailable`: never 401 (which would log users
//!   out), never 200, never the error text. Checks that need no store still run first (a
//!   malformed header is 401, a forged cross-site request 403).
//! - Rejection responses of one class are byte-identical whatever the reason: status, every
//!   header, body. An expired token, a bad signature and an unknown `kid` look the same.
//! - Captured `tracing` output (every level, through the fmt formatter) never contains a token
//!   or any part of one, a cookie value, a session id, a Basic credential, a password, or the
//!   HMAC secret, while it does record every decision.
//! - `Debug` output of the configuration types never shows key material.
//!
//! - OWASP ASVS 5.0.0: V16.5.1 (generic message, no tokens or internals), V16.5.2 (continues
//!   securely when an external resource fails), V16.5.3 (fails closed, no fail-open path),
//!   V16.2.5 (credentials and session tokens are not logged), V16.3.1 / V16.3.2 (every
//!   authentication and authorization decision is logged), V16.3.4 (security control failures
//!   logged as errors), V6.3.8 (failures do not tell which check failed), V14.2.2 (every
//!   rejection is `Cache-Control: no-store`).
//! - OWASP API Security Top 10 2023: API8 (Security Misconfiguration: verbose errors, leaking
//!   logs), API2 (Broken Authentication: fail-open on outages), API1 (identical 404s, see
//!   ownership.rs).

use std::time::Duration;

use authgate::issuers::Issuer;
use authgate::keys::{Algorithm, Key, SigningKey};
use authgate::resource::Resource;
use authgate::sessions::Sessions;
use authgate::store::{MemoryStore, StoreError};
use authgate::{
    CurrentUser, Gate, Identity, Load, Router, public, require_auth, require_role, routing,
};
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;

use crate::harness::{Case, Expect, Req, body_of, get, post, run};
use crate::support::*;

#[require_auth]
async fn me(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.subject().to_owned()
}

#[require_role("admin")]
async fn admin(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "admin"
}

#[require_auth(redirect = "/login")]
async fn page(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "page"
}

#[require_role("admin", redirect = "/login")]
async fn admin_page(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "admin page"
}

#[require_auth]
async fn logout(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "logged out"
}

#[derive(Deserialize)]
struct TypedClaims {
    #[allow(dead_code)]
    tenant: String,
}

#[require_auth]
async fn typed(State(hits): State<Hits>, _user: CurrentUser<TypedClaims>) -> &'static str {
    hits.hit();
    "typed"
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    #[allow(dead_code)]
    password: String,
}

#[public(reason = "login form")]
async fn login(
    State(gate): State<Gate>,
    attempt: authgate::LoginAttempt,
    Form(form): Form<LoginForm>,
) -> axum::response::Response {
    match gate
        .login(&attempt, Identity::new(form.username).roles(["user"]))
        .await
    {
        Ok(cookie) => (cookie, StatusCode::NO_CONTENT).into_response(),
        Err(e) => e.into_response(),
    }
}

/// A resource whose store is down.
struct Report;

impl Resource<AppState> for Report {
    type Id = u32;
    async fn load(_id: u32, _state: &AppState) -> Result<Option<Self>, StoreError> {
        Err(StoreError::unavailable(
            "reports database: connection refused",
        ))
    }
}

#[require_auth]
async fn report(State(hits): State<Hits>, Load(_report): Load<Report>) -> &'static str {
    hits.hit();
    "report"
}

fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", routing::get(me).post(me))
        .route("/admin", routing::get(admin))
        .route("/page", routing::get(page))
        .route("/admin-page", routing::get(admin_page))
        .route("/logout", routing::post(logout))
        .route("/typed", routing::get(typed))
        .route("/login", routing::post(login))
        .route("/reports/{id}", routing::get(report))
}

fn make_app(gate: Gate) -> (axum::Router, Hits) {
    let state = AppState::new(gate);
    let hits = state.hits.clone();
    (routes().with_state(state).into_axum(), hits)
}

fn cookie(id: &str) -> String {
    format!("{COOKIE}={id}")
}

/// `method path` from a same-origin page with this cookie.
fn same_origin(method: &str, path: &str, cookie: &str) -> Req {
    crate::harness::req(method, path)
        .header("host", HOST)
        .header("sec-fetch-site", "same-origin")
        .cookie(cookie)
}

#[tokio::test]
async fn session_store_down_is_503_after_the_checks_that_need_no_store() {
    let lookups = DownStore::default();
    let gate = gate_builder()
        .sessions(Sessions::server_side(COOKIE, lookups.clone()))
        .build()
        .unwrap();
    let (app, hits) = make_app(gate);
    let id = cookie(&"A".repeat(43));
    run(
        "hygiene/session store down",
        &app,
        || hits.count(),
        vec![
            Case::new(
                "GET with a session cookie",
                get("/me").cookie(&id),
                Expect::unavailable(),
            ),
            Case::new(
                "same-origin POST with a session cookie",
                same_origin("POST", "/me", &id),
                Expect::unavailable(),
            ),
            Case::new(
                "a role route",
                get("/admin").cookie(&id),
                Expect::unavailable(),
            ),
            Case::new(
                "POST with neither Sec-Fetch-Site nor Origin (passes CSRF)",
                crate::harness::req("POST", "/me")
                    .header("host", HOST)
                    .cookie(&id),
                Expect::unavailable(),
            ),
            Case::new(
                "a page route: 503, not a redirect to login",
                get("/page").cookie(&id),
                Expect::unavailable().page(),
            ),
            Case::new(
                "a role page route: 503, not a redirect to login",
                get("/admin-page").cookie(&id),
                Expect::unavailable().page(),
            ),
            Case::new(
                "logout while the store is down",
                crate::harness::req("POST", "/logout")
                    .header("host", HOST)
                    .cookie(&id),
                Expect::unavailable(),
            ),
            Case::new(
                "login while the store is down",
                post("/login").body(
                    "application/x-www-form-urlencoded",
                    b"username=alice&password=hunter2",
                ),
                Expect::unavailable(),
            ),
        ],
    )
    .await;
    let before = lookups.lookups();
    run(
        "hygiene/session store down (no lookup needed)",
        &app,
        || hits.count(),
        vec![
            Case::new(
                "anonymous: 401, the store is not asked",
                get("/me"),
                Expect::unauthenticated(),
            ),
            Case::new(
                "a cookie that is not a session id: 401 without a lookup",
                get("/me").cookie(&cookie("short")),
                Expect::invalid_token(),
            ),
            Case::new(
                "GET with the session cookie (the one lookup of this table)",
                get("/me").cookie(&id),
                Expect::unavailable(),
            ),
            Case::new(
                "forged cross-site POST: 403, no lookup",
                crate::harness::req("POST", "/me")
                    .header("host", HOST)
                    .header("sec-fetch-site", "cross-site")
                    .cookie(&id),
                Expect::forbidden(),
            ),
            Case::new(
                "Basic credentials: 401, no lookup",
                get("/me")
                    .cookie(&id)
                    .authorization("Basic YWxpY2U6aHVudGVyMg=="),
                Expect::invalid_request(),
            ),
            Case::new(
                "control: a bearer token needs no store",
                get("/me").bearer(&token("alice", &[])),
                Expect::allowed(),
            ),
        ],
    )
    .await;
    assert_eq!(
        lookups.lookups(),
        before + 1,
        "only the one GET with a session cookie may reach the store"
    );
    for (name, store) in [
        (
            "a store that cannot write last-seen",
            ReadOnlyStore { expired: false },
        ),
        (
            "a store that cannot delete an expired session",
            ReadOnlyStore { expired: true },
        ),
    ] {
        let gate = gate_builder()
            .sessions(Sessions::server_side(COOKIE, store))
            .build()
            .unwrap();
        let (app, hits) = make_app(gate);
        run(
            "hygiene/session store half down",
            &app,
            || hits.count(),
            vec![Case::new(
                name,
                get("/me").cookie(&id),
                Expect::unavailable(),
            )],
        )
        .await;
    }
}

/// The `kid` of the test RSA key in the JWKS of [`key_source_down_is_503_and_recovers`].
const JWKS_KID: &str = "rsa-2026";

/// An RS256 token of `claims`, signed with the test RSA key under [`JWKS_KID`].
fn rs256(claims: &serde_json::Value) -> String {
    sign(Algorithm::RS256, &rsa_signing_key(), Some(JWKS_KID), claims)
}

/// The key source of a Gate is now its issuer's JWKS endpoint: down from the start (no key was
/// ever fetched), then back. While it is down the issuer's tokens answer 503 whatever they
/// are, and once it is back they are judged.
#[tokio::test]
async fn key_source_down_is_503_and_recovers() {
    let provider = Provider::start(vec![jwk(&rsa_signing_key(), Algorithm::RS256, JWKS_KID)]).await;
    provider.set_mode(Mode::Down);
    let gate = keyless_gate_builder()
        .issuer(Issuer::jwks(ISS, provider.jwks_url()).audience(AUD))
        .sessions(Sessions::stateless(
            COOKIE,
            SigningKey::hmac(Algorithm::HS256, SECRET).unwrap(),
        ))
        .build()
        .unwrap();
    let stateless = login_cookie(&gate, Identity::new("alice")).await;
    let (app, hits) = make_app(gate.clone());
    let valid = rs256(&claims_with_roles("alice", &["admin"]));
    let expired = rs256(&with(claims("alice"), "exp", json!(NOW - 3600)));
    run(
        "hygiene/key source down",
        &app,
        || hits.count(),
        vec![
            Case::new(
                "a valid token",
                get("/me").bearer(&valid),
                Expect::unavailable(),
            ),
            Case::new(
                "a valid admin token on a role route",
                get("/admin").bearer(&valid),
                Expect::unavailable(),
            ),
            Case::new(
                "an expired token (no key, no verdict)",
                get("/me").bearer(&expired),
                Expect::unavailable(),
            ),
            // What any keys would refuse needs none: 401, as with several issuers.
            Case::new(
                "a malformed token",
                get("/me").bearer("x.y.z"),
                Expect::invalid_token(),
            ),
            Case::new(
                "a token naming another issuer",
                get("/me").bearer(&rs256(&with(
                    claims("alice"),
                    "iss",
                    json!("https://other.example"),
                ))),
                Expect::invalid_token(),
            ),
            Case::new(
                "a page route: 503, not a redirect",
                get("/page").bearer(&valid),
                Expect::unavailable().page(),
            ),
            // Stateless cookies are verified with their own key only: the issuer's outage
            // neither opens nor closes them.
            Case::new(
                "control: a stateless session cookie (its own key, not the issuer's)",
                get("/me").cookie(&stateless),
                Expect::allowed().body("alice"),
            ),
            Case::new(
                "a tampered stateless session cookie",
                get("/me").cookie(&format!("{COOKIE}={}", flip_last(cookie_value(&stateless)))),
                Expect::invalid_token(),
            ),
            Case::new(
                "Basic credentials: the header check needs no key",
                get("/me").authorization("Basic YWxpY2U6aHVudGVyMg=="),
                Expect::invalid_request(),
            ),
            Case::new(
                "anonymous: nothing to verify",
                get("/me"),
                Expect::unauthenticated(),
            ),
        ],
    )
    .await;
    provider.set_mode(Mode::Up);
    assert!(
        gate.ready(Duration::from_secs(20)).await,
        "the keys were not fetched once the endpoint was back"
    );
    run(
        "hygiene/key source back",
        &app,
        || hits.count(),
        vec![
            Case::new(
                "control: the same valid token",
                get("/me").bearer(&valid),
                Expect::allowed(),
            ),
            Case::new(
                "the expired token is now judged",
                get("/me").bearer(&expired),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn resource_store_down_is_503_and_never_reached_anonymously() {
    let (app, hits) = make_app(gate());
    run(
        "hygiene/resource store down",
        &app,
        || hits.count(),
        vec![
            Case::new(
                "an authenticated read",
                get("/reports/1").bearer(&token("alice", &[])),
                Expect::unavailable(),
            ),
            Case::new(
                "anonymous: 401 before the loader",
                get("/reports/1"),
                Expect::unauthenticated(),
            ),
        ],
    )
    .await;
}

/// Sends every request and asserts the replies are identical: status, every header, body.
async fn assert_identical(class: &str, app: &axum::Router, requests: Vec<(&str, Req)>) {
    let mut replies = Vec::new();
    for (name, r) in requests {
        replies.push((name, send_raw(app, r.build().0).await));
    }
    let (first_name, first) = &replies[0];
    let mut differences = Vec::new();
    for (name, reply) in &replies[1..] {
        if reply.status != first.status
            || reply.headers != first.headers
            || reply.body != first.body
        {
            differences.push(format!(
                "  {name}: {} {:?} {:?}\n  vs {first_name}: {} {:?} {:?}",
                reply.status, reply.headers, reply.body, first.status, first.headers, first.body
            ));
        }
    }
    println!(
        "[security] hygiene/identical {class}: {} reasons",
        replies.len()
    );
    assert!(
        differences.is_empty(),
        "{class} replies differ:\n{}",
        differences.join("\n")
    );
}

#[tokio::test]
async fn rejections_of_one_class_are_byte_identical() {
    let gate = gate_builder()
        .sessions(
            Sessions::server_side(COOKIE, MemoryStore::new())
                .idle_timeout(Duration::from_secs(600)),
        )
        .build()
        .unwrap();
    let session = login_cookie(&gate, Identity::new("alice")).await;
    let (app, _hits) = make_app(gate);
    let hs = |claims: serde_json::Value| hs256(&claims);
    let raw = |header: &str, payload: &str| {
        sign_raw(
            header,
            payload.as_bytes(),
            Algorithm::HS256,
            &hs_signing_key(),
        )
    };
    let good = token("alice", &[]);
    let (h, p, _) = parts(&good);
    let bad_sig = format!("{h}.{p}.{}", b64url(&[7u8; 32]));
    let me = |t: &str| get("/me").bearer(t);
    assert_identical(
        "invalid_token",
        &app,
        vec![
            (
                "expired",
                me(&hs(with(claims("alice"), "exp", json!(NOW - 3600)))),
            ),
            ("bad signature", me(&bad_sig)),
            (
                "unknown kid",
                me(&raw(
                    r#"{"alg":"HS256","kid":"nope"}"#,
                    &claims("alice").to_string(),
                )),
            ),
            (
                "alg none",
                me(&format!("{}.{p}.", b64url(br#"{"alg":"none"}"#))),
            ),
            (
                "crit",
                me(&raw(
                    r#"{"alg":"HS256","crit":["exp"]}"#,
                    &claims("alice").to_string(),
                )),
            ),
            (
                "wrong issuer",
                me(&hs(with(
                    claims("alice"),
                    "iss",
                    json!("https://evil.example"),
                ))),
            ),
            (
                "wrong audience",
                me(&hs(with(claims("alice"), "aud", json!("other")))),
            ),
            ("missing exp", me(&hs(without(claims("alice"), "exp")))),
            (
                "not yet valid",
                me(&hs(with(claims("alice"), "nbf", json!(NOW + 3600)))),
            ),
            (
                "lifetime too long",
                me(&hs(with(
                    without(claims("alice"), "iat"),
                    "exp",
                    json!(NOW + 400 * 24 * 3600),
                ))),
            ),
            (
                "sub of the wrong type",
                me(&hs(with(claims("alice"), "sub", json!(7)))),
            ),
            (
                "duplicate claims",
                me(&raw(
                    r#"{"alg":"HS256"}"#,
                    &format!(
                        r#"{{"sub":"a","sub":"b","iss":"{ISS}","aud":"{AUD}","exp":{}}}"#,
                        NOW + 60
                    ),
                )),
            ),
            ("not base64", me(&format!("{h}.~~~~.{}", "A".repeat(43)))),
            ("typed claims that do not fit", get("/typed").bearer(&good)),
            (
                "unknown session id",
                get("/me").cookie(&cookie(&"A".repeat(43))),
            ),
            (
                "malformed session id",
                get("/me").cookie(&cookie("../../etc/passwd")),
            ),
            (
                "two different session cookies",
                get("/me").cookie(&format!("{session}; {}", cookie(&"B".repeat(43)))),
            ),
        ],
    )
    .await;
    assert_identical(
        "invalid_request",
        &app,
        vec![
            (
                "Basic",
                get("/me").authorization("Basic YWxpY2U6aHVudGVyMg=="),
            ),
            ("two headers", get("/me").bearer(&good).bearer(&good)),
            (
                "non-ASCII",
                get("/me").authorization(format!("Bearer {good}é")),
            ),
            (
                "oversized",
                get("/me").authorization(format!("Bearer {}", "a".repeat(9000))),
            ),
            ("scheme only", get("/me").authorization("Bearer")),
            (
                "tab separator",
                get("/me").authorization(format!("Bearer\t{good}")),
            ),
        ],
    )
    .await;
    assert_identical(
        "unauthenticated",
        &app,
        vec![
            ("nothing", get("/me")),
            (
                "token in the query",
                get(&format!("/me?access_token={good}")),
            ),
            (
                "cookie under another name",
                get("/me").cookie(&format!("session={}", "A".repeat(43))),
            ),
            ("X-User-Id", get("/me").header("x-user-id", "alice")),
        ],
    )
    .await;
    assert_identical(
        "forbidden (bearer, role)",
        &app,
        vec![
            ("no roles", get("/admin").bearer(&good)),
            (
                "other roles",
                get("/admin").bearer(&token("alice", &["user", "Admin"])),
            ),
            (
                "admin in a header",
                get("/admin").bearer(&good).header("x-roles", "admin"),
            ),
        ],
    )
    .await;
    assert_identical(
        "forbidden (cookie)",
        &app,
        vec![
            ("role missing", get("/admin").cookie(&session)),
            (
                "cross-site POST",
                crate::harness::req("POST", "/me")
                    .header("host", HOST)
                    .header("sec-fetch-site", "cross-site")
                    .cookie(&session),
            ),
            (
                "evil Origin",
                crate::harness::req("POST", "/me")
                    .header("host", HOST)
                    .header("origin", "https://evil.example")
                    .cookie(&session),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn unavailable_bodies_are_identical_whatever_is_down() {
    let down = gate_builder()
        .sessions(Sessions::server_side(COOKIE, DownStore::default()))
        .build()
        .unwrap();
    let (store_app, _) = make_app(down);
    let (key_app, _) = make_app(unavailable_keys_gate());
    let (load_app, _) = make_app(gate());
    let replies = [
        send_raw(
            &store_app,
            get("/me").cookie(&cookie(&"A".repeat(43))).build().0,
        )
        .await,
        send_raw(
            &store_app,
            post("/login")
                .body(
                    "application/x-www-form-urlencoded",
                    b"username=a&password=b",
                )
                .build()
                .0,
        )
        .await,
        send_raw(&key_app, get("/me").bearer(&token("alice", &[])).build().0).await,
        send_raw(
            &load_app,
            get("/reports/1").bearer(&token("alice", &[])).build().0,
        )
        .await,
    ];
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reply.body, body_of("unavailable").as_bytes());
        assert_eq!(reply.headers, replies[0].headers, "headers differ");
        let text = reply.text();
        assert!(
            !text.contains("connection refused")
                && !text.contains("hunter2")
                && !text.contains("JWKS"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn logs_never_carry_tokens_cookies_or_passwords() {
    let (logs, _guard) = capture_logs();
    let store = MemoryStore::new();
    let server = gate_builder()
        .sessions(
            Sessions::server_side(COOKIE, store.clone()).idle_timeout(Duration::from_secs(600)),
        )
        .build()
        .unwrap();
    let stateless = gate_builder()
        .sessions(Sessions::stateless(
            "__Host-sl",
            SigningKey::hmac(Algorithm::HS256, SECRET).unwrap(),
        ))
        .build()
        .unwrap();
    let (app, _hits) = make_app(server);
    let (sl_app, _) = make_app(stateless);

    let password = "Tr0ub4dor&3-hunter2";
    let form = format!("username=alice&password={}", password.replace('&', "%26"));
    let form: &'static [u8] = Box::leak(form.into_bytes().into_boxed_slice());
    let login = send_raw(
        &app,
        post("/login")
            .body("application/x-www-form-urlencoded", form)
            .build()
            .0,
    )
    .await;
    assert_eq!(login.status, StatusCode::NO_CONTENT);
    let session = cookie_pair(&login);
    let session_id = session.split_once('=').unwrap().1.to_owned();
    let sl_login = send_raw(
        &sl_app,
        post("/login")
            .body(
                "application/x-www-form-urlencoded",
                b"username=bob&password=x",
            )
            .build()
            .0,
    )
    .await;
    let sl_cookie = cookie_pair(&sl_login);
    let sl_jwt = sl_cookie.split_once('=').unwrap().1.to_owned();

    let good = token("alice", &["user"]);
    let expired = hs256(&with(claims("alice"), "exp", json!(NOW - 3600)));
    let forged = format!(
        "{}.{}.{}",
        parts(&good).0,
        b64url(
            claims_with_roles("alice", &["admin"])
                .to_string()
                .as_bytes()
        ),
        parts(&good).2
    );
    // The good token's header and signature over a changed payload (admin, one extra claim).
    let tampered = format!(
        "{}.{}.{}",
        parts(&good).0,
        b64url(
            with(claims_with_roles("alice", &["admin"]), "x", json!(1))
                .to_string()
                .as_bytes()
        ),
        parts(&good).2
    );
    let basic = "YWxpY2U6c2VjcmV0LXBhc3N3b3Jk"; // alice:secret-password
    let short_basic = "YWxpY2U6c2VjcmV0"; // alice:secret
    let api_key = "sk_live_0123456789abcdef";
    let requests = [
        get("/me").bearer(&good),
        get("/me").bearer(&expired),
        get("/admin").bearer(&forged),
        get("/admin").bearer(&tampered),
        get("/admin").bearer(&good),
        get("/me").authorization(format!("Basic {basic}")),
        get("/me").authorization(format!("Basic {short_basic}")),
        get("/me").authorization(format!("Bearer {good} trailing-junk")),
        get("/me").bearer(&good).bearer(&expired),
        get(&format!("/me?access_token={good}&password={password}")),
        get("/me").header("x-api-key", api_key),
        get("/me").cookie(&session),
        get("/admin").cookie(&session),
        crate::harness::req("POST", "/me")
            .header("host", HOST)
            .header("sec-fetch-site", "cross-site")
            .cookie(&session),
        get("/me").cookie(&format!("{COOKIE}={}", flip_last(&session_id))),
        get("/page").cookie(&format!("{COOKIE}={}", flip_last(&session_id))),
        get("/typed").bearer(&good),
    ];
    for r in requests {
        send_raw(&app, r.build().0).await;
    }
    send_raw(&sl_app, get("/me").cookie(&sl_cookie).build().0).await;
    send_raw(
        &sl_app,
        get("/me")
            .cookie(&format!("__Host-sl={}", flip_last(&sl_jwt)))
            .build()
            .0,
    )
    .await;
    send_raw(&sl_app, get("/me").bearer(&sl_jwt).build().0).await;

    let out = logs.contents();
    // The capture is not vacuous: decisions are there.
    assert_decisions(
        &out,
        &[
            ("/me", "allowed", "ok"),
            ("/me", "invalid_token", "expired"),
            ("/admin", "invalid_token", "bad_signature"),
            ("/admin", "forbidden", "missing_role"),
            ("/me", "invalid_token", "unsupported_scheme"),
            ("/me", "unauthenticated", "no_credentials"),
            ("/me", "forbidden", "csrf_sec_fetch_site"),
            ("/me", "invalid_token", "unknown_session"),
        ],
    );
    let mut secrets: Vec<(&str, String)> = vec![
        ("bearer token", good.clone()),
        ("expired token", expired.clone()),
        ("forged token", forged.clone()),
        ("tampered token", tampered.clone()),
        ("short Basic credential", short_basic.to_owned()),
        ("Basic credential", basic.to_owned()),
        ("Basic password", "secret-password".to_owned()),
        ("login password", password.to_owned()),
        ("API key", api_key.to_owned()),
        ("session id", session_id.clone()),
        ("stateless cookie", sl_jwt.clone()),
        ("HMAC secret", String::from_utf8(SECRET.to_vec()).unwrap()),
        ("query string", "access_token".to_owned()),
    ];
    for (name, token) in [
        ("bearer", &good),
        ("expired", &expired),
        ("forged", &forged),
        ("tampered", &tampered),
        ("stateless", &sl_jwt),
    ] {
        let (_, payload, signature) = parts(token);
        secrets.push((name, payload.to_owned()));
        secrets.push((name, signature.to_owned()));
    }
    for (what, secret) in secrets {
        assert!(
            !out.contains(&secret),
            "{what} ({secret}) is in the logs:\n{out}"
        );
    }
    assert!(store.logins().len() == 1, "one session");
}

/// What a login returns holds the session's credential: its `Debug` (a log line, a panic
/// message) must not show it, for server-side ids and stateless tokens alike.
#[tokio::test]
async fn debug_output_never_shows_a_session_cookie() {
    let stateless = gate_builder()
        .sessions(Sessions::stateless(
            COOKIE,
            SigningKey::hmac(Algorithm::HS256, SECRET).unwrap(),
        ))
        .build()
        .unwrap();
    let server_side = gate_builder()
        .sessions(Sessions::server_side(COOKIE, MemoryStore::new()))
        .build()
        .unwrap();
    for gate in [stateless, server_side] {
        let cookie = gate.login_unchecked(Identity::new("alice")).await.unwrap();
        let header = cookie.header_value().unwrap().to_str().unwrap();
        let value = header
            .split(';')
            .next()
            .and_then(|pair| pair.split_once('='))
            .map(|(_, value)| value)
            .unwrap();
        assert!(value.len() > 20, "{header}");
        for dump in [format!("{cookie:?}"), format!("{cookie:#?}")] {
            assert!(!dump.contains(value), "cookie value in {dump}");
        }
    }
}

#[test]
fn debug_output_never_shows_key_material() {
    let secret = String::from_utf8(SECRET.to_vec()).unwrap();
    let gate = gate_builder()
        .sessions(Sessions::stateless(
            COOKIE,
            SigningKey::hmac(Algorithm::HS256, SECRET).unwrap(),
        ))
        .build()
        .unwrap();
    let rsa_pem = String::from_utf8(pem("rsa_private.pem")).unwrap();
    let signing = SigningKey::from_pem(Algorithm::RS256, rsa_pem.as_bytes()).unwrap();
    let key = Key::hmac(Algorithm::HS256, SECRET).unwrap().with_kid("k1");
    let sessions = Sessions::stateless(COOKIE, SigningKey::hmac(Algorithm::HS256, SECRET).unwrap());
    let dumps = [
        format!("{gate:?}"),
        format!("{gate:#?}"),
        format!("{signing:?}"),
        format!("{key:?}"),
        format!("{sessions:?}"),
        // The issuer holds verifying keys and its signing secret together (what `KeySet` held).
        format!("{:?}", Issuer::new(ISS).key(key.clone()).secret(SECRET)),
        format!("{:#?}", Issuer::new(ISS).signing_key(signing.clone())),
    ];
    let rsa_body: String = rsa_pem.lines().nth(1).unwrap().to_owned();
    for dump in dumps {
        assert!(!dump.contains(&secret), "secret in {dump}");
        assert!(!dump.contains(&b64url(SECRET)), "secret (base64) in {dump}");
        assert!(!dump.contains(&rsa_body), "private key in {dump}");
        assert!(!dump.contains("[48, 49, 50"), "secret bytes in {dump}");
    }
}
