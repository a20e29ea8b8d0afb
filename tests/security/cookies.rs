//! Session cookies: tampered, moved to another cookie name, duplicated, expired on the Gate's
//! clock, revoked, and fixation attempts, for server-side and stateless sessions; and the
//! `Authorization` header winning over a cookie without ever falling back to it.
//!
//! - OWASP ASVS 5.0.0: V7.2.1 (session tokens verified by the backend), V7.2.3 / V11.5.1
//!   (reference tokens of 256 bits from the CSPRNG), V7.2.4 (a new token at every login: fixation),
//!   V7.3.1 / V7.3.2 (idle timeout and absolute lifetime), V7.4.1 (logout and expiry end the
//!   session), V7.4.2 / V7.4.5 (all of a user's sessions can be ended), V3.3.1 / V3.3.3 /
//!   V3.3.4 (`Secure`, `__Host-`, `HttpOnly` cookies), V3.3.2 (`SameSite`), V9.1.1 (stateless
//!   cookies verified like any token), V6.3.4 (the bearer header and the cookie never mix).
//! - OWASP API Security Top 10 2023: API2 (Broken Authentication).

use std::time::Duration;

use authgate::keys::{Algorithm, SigningKey};
use authgate::revocation::Revocations;
use authgate::sessions::Sessions;
use authgate::store::MemoryStore;
use authgate::{CurrentUser, Gate, RejectionKind, Router, public, require_auth, routing};
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{Case, Expect, Req, get, post, run};
use crate::support::*;

#[require_auth]
async fn me(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.subject().to_owned()
}

/// A public page that greets a signed-in visitor and welcomes anyone else.
#[public(reason = "the home page")]
async fn home(State(hits): State<Hits>, user: Option<CurrentUser>) -> String {
    hits.hit();
    user.map_or_else(
        || "welcome".to_owned(),
        |u| format!("hello {}", u.subject()),
    )
}

/// The default test Gate with these sessions (idle timeout 10 minutes, absolute lifetime 1
/// hour) on this clock.
fn sessions_gate(sessions: Sessions, clock: &Clock) -> Gate {
    gate_with(
        sessions
            .idle_timeout(Duration::from_secs(600))
            .absolute_lifetime(Duration::from_secs(3600)),
        clock,
    )
}

struct App {
    app: axum::Router,
    hits: Hits,
    gate: Gate,
}

impl App {
    fn new(gate: Gate) -> Self {
        let state = AppState::new(gate.clone());
        let hits = state.hits.clone();
        let app = Router::new()
            .route("/me", routing::get(me).post(me))
            .route("/", routing::get(home).post(home))
            .route("/login", routing::post(login))
            .route("/logout", routing::post(logout))
            .with_state(state)
            .into_axum();
        App { app, hits, gate }
    }

    fn server(clock: &Clock) -> (Self, MemoryStore) {
        let store = MemoryStore::new();
        (
            App::new(sessions_gate(
                Sessions::server_side(COOKIE, store.clone()),
                clock,
            )),
            store,
        )
    }

    fn stateless(clock: &Clock) -> Self {
        App::new(sessions_gate(
            Sessions::stateless(COOKIE, SigningKey::hmac(Algorithm::HS256, SECRET).unwrap()),
            clock,
        ))
    }

    /// Logs `who` in (optionally presenting a cookie) and returns the new `name=value`.
    async fn log_in(&self, who: &'static str, presenting: Option<&str>) -> String {
        let mut req = post("/login").body("text/plain", who.as_bytes());
        if let Some(cookie) = presenting {
            req = req.cookie(cookie);
        }
        let reply = send_raw(&self.app, req.build().0).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "login of {who}");
        cookie_pair(&reply)
    }

    async fn table(&self, name: &str, cases: Vec<Case>) {
        run(name, &self.app, || self.hits.count(), cases).await;
    }
}

fn value(pair: &str) -> &str {
    cookie_value(pair)
}

fn with_cookie(pair: &str) -> Req {
    get("/me").cookie(pair)
}

#[tokio::test]
async fn server_side_tampered_moved_and_duplicated() {
    let clock = Clock::new();
    let (app, _store) = App::server(&clock);
    let alice = app.log_in("alice", None).await;
    let bob = app.log_in("bob", None).await;
    let a = value(&alice);
    let c = |v: &str| with_cookie(&format!("{COOKIE}={v}"));
    let mut first_changed = a.to_owned();
    first_changed.replace_range(0..1, if a.starts_with('A') { "B" } else { "A" });
    app.table(
        "cookies/server-side tampering",
        vec![
            Case::new(
                "control: alice's cookie",
                with_cookie(&alice),
                Expect::allowed(),
            ),
            Case::new(
                "last character changed",
                c(&flip_last(a)),
                Expect::invalid_token(),
            ),
            Case::new(
                "first character changed",
                c(&first_changed),
                Expect::invalid_token(),
            ),
            Case::new(
                "truncated to 42 characters",
                c(&a[..42]),
                Expect::invalid_token(),
            ),
            Case::new(
                "one character appended",
                c(&format!("{a}A")),
                Expect::invalid_token(),
            ),
            Case::new(
                "a character outside base64url",
                c(&format!("+{}", &a[1..])),
                Expect::invalid_token(),
            ),
            Case::new("empty value", c(""), Expect::invalid_token()),
            Case::new(
                "a made-up id of the right shape",
                c(&"A".repeat(43)),
                Expect::invalid_token(),
            ),
            Case::new(
                "path traversal as the id",
                c("../../etc/passwd"),
                Expect::invalid_token(),
            ),
            Case::new(
                "SQL injection as the id",
                c("x' OR '1'='1"),
                Expect::invalid_token(),
            ),
            Case::new(
                "a 4 KiB value",
                c(&"A".repeat(4096)),
                Expect::invalid_token(),
            ),
            Case::new(
                "the id as a bearer token",
                get("/me").bearer(a),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
    app.table(
        "cookies/server-side moved",
        vec![
            Case::new(
                "moved to `session`",
                with_cookie(&format!("session={a}")),
                Expect::unauthenticated(),
            ),
            Case::new(
                "moved to `other-session`",
                with_cookie(&format!("other-session={a}")),
                Expect::unauthenticated(),
            ),
            Case::new(
                "moved to `__Host-Session` (other case)",
                with_cookie(&format!("__Host-Session={a}")),
                Expect::unauthenticated(),
            ),
            Case::new(
                "moved to `__Secure-session`",
                with_cookie(&format!("__Secure-session={a}")),
                Expect::unauthenticated(),
            ),
            Case::new(
                "moved to `__Host-session2`",
                with_cookie(&format!("__Host-session2={a}")),
                Expect::unauthenticated(),
            ),
            Case::new(
                "name with a space before `=`",
                with_cookie(&format!("{COOKIE} ={a}")),
                Expect::unauthenticated(),
            ),
            Case::new(
                "moved into another cookie's value",
                with_cookie(&format!("theme={COOKIE}={a}")),
                Expect::unauthenticated(),
            ),
        ],
    )
    .await;
    let b = value(&bob);
    app.table(
        "cookies/server-side duplicated",
        vec![
            Case::new(
                "control: the same cookie twice",
                with_cookie(&format!("{alice}; {alice}")),
                Expect::allowed(),
            ),
            Case::new(
                "control: among other cookies",
                with_cookie(&format!("theme=dark; {alice}; lang=en")),
                Expect::allowed(),
            ),
            Case::new(
                "valid, then tampered",
                with_cookie(&format!("{alice}; {COOKIE}={}", flip_last(a))),
                Expect::invalid_token(),
            ),
            Case::new(
                "tampered, then valid",
                with_cookie(&format!("{COOKIE}={}; {alice}", flip_last(a))),
                Expect::invalid_token(),
            ),
            Case::new(
                "alice's, then bob's",
                with_cookie(&format!("{alice}; {bob}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "in two Cookie headers (alice, bob)",
                with_cookie(&alice).cookie(&bob),
                Expect::invalid_token(),
            ),
            Case::new(
                "valid, then empty",
                with_cookie(&format!("{alice}; {COOKIE}=")),
                Expect::invalid_token(),
            ),
            Case::new(
                "two values comma-joined",
                with_cookie(&format!("{COOKIE}={a}, {COOKIE}={b}")),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn authorization_header_wins_over_a_valid_cookie() {
    let clock = Clock::new();
    let (app, _store) = App::server(&clock);
    let alice = app.log_in("alice", None).await;
    let expired = hs256(&with(claims("alice"), "exp", json!(NOW - 3600)));
    app.table(
        "cookies/bearer wins",
        vec![
            Case::new(
                "expired bearer with a valid cookie",
                with_cookie(&alice).bearer(&expired),
                Expect::invalid_token(),
            ),
            Case::new(
                "garbage bearer with a valid cookie",
                with_cookie(&alice).bearer("not.a.jwt"),
                Expect::invalid_token(),
            ),
            Case::new(
                "Basic with a valid cookie",
                with_cookie(&alice).authorization("Basic YWxpY2U6aHVudGVyMg=="),
                Expect::invalid_request(),
            ),
            Case::new(
                "empty Bearer with a valid cookie",
                with_cookie(&alice).authorization("Bearer"),
                Expect::invalid_request(),
            ),
            Case::new(
                "empty Authorization with a valid cookie",
                with_cookie(&alice).authorization(""),
                Expect::invalid_request(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn server_side_expiry_on_the_gate_clock() {
    let clock = Clock::new();
    let (app, store) = App::server(&clock);
    let idle = app.log_in("alice", None).await;
    clock.advance(599);
    app.table(
        "cookies/idle (before the timeout)",
        vec![Case::new(
            "control: 599 s idle",
            with_cookie(&idle),
            Expect::allowed(),
        )],
    )
    .await;
    clock.advance(601);
    app.table(
        "cookies/idle timeout",
        vec![Case::new(
            "idle for 601 s (timeout 600 s)",
            with_cookie(&idle),
            Expect::invalid_token(),
        )],
    )
    .await;
    assert!(
        store.logins().is_empty(),
        "the idle-expired session was not deleted"
    );
    // Active every 500 s: the idle timeout never fires, the absolute lifetime (3600 s) does.
    let active = app.log_in("bob", None).await;
    for _ in 0..7 {
        clock.advance(500);
        app.table(
            "cookies/active session",
            vec![Case::new(
                "control: used every 500 s",
                with_cookie(&active),
                Expect::allowed(),
            )],
        )
        .await;
    }
    clock.advance(101);
    app.table(
        "cookies/absolute lifetime",
        vec![Case::new(
            "active, but 3601 s after login (lifetime 3600 s)",
            with_cookie(&active),
            Expect::invalid_token(),
        )],
    )
    .await;
}

#[tokio::test]
async fn revoked_sessions() {
    let clock = Clock::new();
    let (app, store) = App::server(&clock);
    let alice = app.log_in("alice", None).await;
    let bob1 = app.log_in("bob", None).await;
    let bob2 = app.log_in("bob", None).await;
    let carol = app.log_in("carol", None).await;
    let out = send_raw(
        &app.app,
        post("/logout")
            .cookie(&alice)
            .header("sec-fetch-site", "same-origin")
            .build()
            .0,
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(app.gate.revoke_user("bob").await.unwrap(), 2);
    assert_eq!(store.logins().len(), 1, "only carol's session may survive");
    app.table(
        "cookies/revoked",
        vec![
            Case::new(
                "alice's cookie after logout",
                with_cookie(&alice),
                Expect::invalid_token(),
            ),
            Case::new(
                "alice's cookie after logout, on POST",
                post("/me")
                    .cookie(&alice)
                    .header("sec-fetch-site", "same-origin"),
                Expect::invalid_token(),
            ),
            Case::new(
                "bob's first cookie after revoke_user",
                with_cookie(&bob1),
                Expect::invalid_token(),
            ),
            Case::new(
                "bob's second cookie after revoke_user",
                with_cookie(&bob2),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
    let again = app.log_in("bob", None).await;
    app.table(
        "cookies/after revocation",
        vec![
            Case::new(
                "control: a fresh login works",
                with_cookie(&again),
                Expect::allowed(),
            ),
            Case::new(
                "control: another user's session survives revoke_user(bob)",
                with_cookie(&carol),
                Expect::allowed().body("carol"),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn fixation_a_planted_cookie_is_never_adopted() {
    let clock = Clock::new();
    let (app, store) = App::server(&clock);
    // 1. An id the attacker made up and planted in the victim's browser.
    let planted = format!("{COOKIE}={}", "Fixated-by-the-attacker-0123456789abcdefghi");
    assert_eq!(value(&planted).len(), 43);
    let issued = app.log_in("victim", Some(&planted)).await;
    assert_ne!(
        value(&issued),
        value(&planted),
        "the planted id was adopted"
    );
    // 2. The attacker's own valid session, planted in the victim's browser.
    let mallory = app.log_in("mallory", None).await;
    let victim = app.log_in("victim", Some(&mallory)).await;
    assert_ne!(
        value(&victim),
        value(&mallory),
        "the attacker's session id was reused"
    );
    // The login ended the session the browser presented (mallory's): one record per browser,
    // none for the planted id.
    assert_eq!(
        store.logins().len(),
        2,
        "one record per browser, none for the planted id"
    );
    app.table(
        "cookies/fixation",
        vec![
            Case::new(
                "the made-up planted id after the victim's login",
                with_cookie(&planted),
                Expect::invalid_token(),
            ),
            Case::new(
                "control: the victim's new cookie",
                with_cookie(&victim),
                Expect::allowed(),
            ),
        ],
    )
    .await;
    // The attacker's cookie never names the victim: the victim's login ended that session.
    let reply = send_raw(&app.app, with_cookie(&mallory).build().0).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());
}

#[tokio::test]
async fn stateless_tampered_expired_and_oversized() {
    let clock = Clock::new();
    let app = App::stateless(&clock);
    let alice = app.log_in("alice", None).await;
    let jwt = value(&alice).to_owned();
    let (h, p, s) = parts(&jwt);
    let c = |v: &str| with_cookie(&format!("{COOKIE}={v}"));
    let admin_payload = {
        let mut claims = claims_with_roles("alice", &["admin"]);
        claims["auth_time"] = json!(NOW);
        b64url(claims.to_string().as_bytes())
    };
    let none_header = b64url(br#"{"alg":"none","typ":"JWT"}"#);
    let other_key = {
        let claims = with(claims("alice"), "roles", json!(["admin"]));
        sign(
            Algorithm::HS256,
            &jsonwebtoken::EncodingKey::from_secret(b"a different secret of 32 bytes!!"),
            None,
            &claims,
        )
    };
    let huge = format!("{jwt}{}", "A".repeat(9000));
    app.table(
        "cookies/stateless tampering",
        vec![
            Case::new(
                "control: the issued cookie",
                with_cookie(&alice),
                Expect::allowed(),
            ),
            Case::new(
                "admin payload under the issued signature",
                c(&format!("{h}.{admin_payload}.{s}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "signature's last character changed",
                c(&format!("{h}.{p}.{}", flip_last(s))),
                Expect::invalid_token(),
            ),
            Case::new(
                "signature stripped",
                c(&format!("{h}.{p}.")),
                Expect::invalid_token(),
            ),
            Case::new(
                "alg none",
                c(&format!("{none_header}.{p}.")),
                Expect::invalid_token(),
            ),
            Case::new(
                "signed with another secret",
                c(&other_key),
                Expect::invalid_token(),
            ),
            Case::new("over 8 KiB", c(&huge), Expect::invalid_token()),
            Case::new(
                "moved to `session`",
                with_cookie(&format!("session={jwt}")),
                Expect::unauthenticated(),
            ),
            Case::new(
                "moved to `other-session`",
                with_cookie(&format!("other-session={jwt}")),
                Expect::unauthenticated(),
            ),
            Case::new(
                "control: the same cookie twice",
                with_cookie(&format!("{alice}; {alice}")),
                Expect::allowed(),
            ),
            Case::new(
                "valid, then with its last character changed",
                with_cookie(&format!("{alice}; {COOKIE}={}", flip_last(&jwt))),
                Expect::invalid_token(),
            ),
            Case::new(
                "path traversal as the value",
                c("../../etc/passwd"),
                Expect::invalid_token(),
            ),
            Case::new(
                "duplicated with a tampered copy",
                with_cookie(&format!("{alice}; {COOKIE}={h}.{admin_payload}.{s}")),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
    clock.advance(600 + 30);
    app.table(
        "cookies/stateless expiry",
        vec![Case::new(
            "past its 600 s lifetime and the leeway",
            with_cookie(&alice),
            Expect::invalid_token(),
        )],
    )
    .await;
}

/// The documented limit of stateless cookies: without revocations they cannot be revoked
/// before they expire.
#[tokio::test]
async fn stateless_cookies_cannot_be_revoked_documented_limit() {
    let clock = Clock::new();
    let app = App::stateless(&clock);
    let alice = app.log_in("alice", None).await;
    // Without revocations there is nothing to revoke a stateless cookie with: the Gate says
    // so (500, a wiring error) instead of pretending the user's sessions ended.
    let refused = app.gate.revoke_user("alice").await.unwrap_err();
    assert_eq!(refused.kind(), &RejectionKind::Misconfigured, "{refused}");
    assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let out = send_raw(
        &app.app,
        post("/logout")
            .cookie(&alice)
            .header("sec-fetch-site", "same-origin")
            .build()
            .0,
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    // Logout only tells the browser to drop the cookie; a copy still works until `exp`.
    app.table(
        "cookies/stateless after logout (documented limit)",
        vec![Case::new(
            "control: a copy replayed after logout still works until exp",
            with_cookie(&alice),
            Expect::allowed(),
        )],
    )
    .await;
    // The limit is lifted by revocations: then logout and `revoke_user` end every copy.
    let revocable = App::new(
        gate_builder()
            .sessions(
                Sessions::stateless(COOKIE, SigningKey::hmac(Algorithm::HS256, SECRET).unwrap())
                    .idle_timeout(Duration::from_secs(600))
                    .absolute_lifetime(Duration::from_secs(3600)),
            )
            .revocations(Revocations::new(MemoryStore::new()))
            .clock(clock.reader())
            .build()
            .expect("gate with revocations"),
    );
    assert!(revocable.gate.ready(Duration::from_secs(5)).await);
    let alice = revocable.log_in("alice", None).await;
    let bob = revocable.log_in("bob", None).await;
    let carol = revocable.log_in("carol", None).await;
    let out = send_raw(
        &revocable.app,
        post("/logout")
            .cookie(&alice)
            .header("sec-fetch-site", "same-origin")
            .build()
            .0,
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(revocable.gate.revoke_user("bob").await.unwrap(), 0);
    revocable
        .table(
            "cookies/stateless with revocations",
            vec![
                Case::new(
                    "a copy replayed after logout",
                    with_cookie(&alice),
                    Expect::invalid_token(),
                ),
                Case::new(
                    "a copy replayed after revoke_user",
                    with_cookie(&bob),
                    Expect::invalid_token(),
                ),
                Case::new(
                    "control: another user's cookie survives",
                    with_cookie(&carol),
                    Expect::allowed().body("carol"),
                ),
            ],
        )
        .await;
}

#[tokio::test]
async fn issued_cookies_are_host_only_secure_httponly_samesite_and_random() {
    let clock = Clock::new();
    let (app, _store) = App::server(&clock);
    let reply = send_raw(
        &app.app,
        post("/login").body("text/plain", b"alice").build().0,
    )
    .await;
    let set = reply.header("set-cookie").expect("Set-Cookie").to_owned();
    assert!(set.starts_with("__Host-session="), "{set}");
    for attribute in ["Path=/", "HttpOnly", "Secure", "SameSite=Lax"] {
        assert!(
            set.split("; ").any(|a| a == attribute),
            "{attribute} missing: {set}"
        );
    }
    assert!(
        !set.contains("Domain="),
        "a __Host- cookie must not name a domain: {set}"
    );
    let mut seen = std::collections::HashSet::new();
    for _ in 0..64 {
        let pair = app.log_in("alice", None).await;
        let id = value(&pair).to_owned();
        assert_eq!(id.len(), 43, "256 bits in base64url");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert!(seen.insert(id), "a session id repeated");
    }
}

/// Finding F1 (fixed; SECURITY.md, "Known gaps"): a token is accepted only for its purpose
/// (ASVS V9.2.2). Session cookies carry `typ: authgate-session+jwt`; that JWT is refused as a
/// bearer token, and any other JWT (a long-lived API token, say) is refused as the session
/// cookie, so the session's idle timeout and absolute lifetime always bound a cookie.
#[tokio::test]
async fn finding_session_cookies_and_bearer_tokens_are_not_interchangeable() {
    let clock = Clock::new();
    let app = App::stateless(&clock);
    let cookie = app.log_in("alice", None).await;
    let session_jwt = value(&cookie).to_owned();
    let api_token = hs256(&with(claims("alice"), "exp", json!(NOW + 20 * 3600)));
    app.table(
        "cookies/token purpose (finding F1)",
        vec![
            Case::new(
                "the session cookie's JWT as a bearer token",
                get("/me").bearer(&session_jwt),
                Expect::invalid_token(),
            ),
            Case::new(
                "a 20-hour API token as the session cookie (session lifetime 600 s)",
                with_cookie(&format!("{COOKIE}={api_token}")),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
    // Stateless cookies are verified with their own key only, and bearer tokens only with an
    // issuer's keys: a session key that no issuer holds signs nothing a bearer header may
    // carry, not even a token with the issuer's exact claims.
    let own_key = App::new(sessions_gate(
        Sessions::stateless(
            COOKIE,
            SigningKey::hmac(Algorithm::HS256, SESSION_SECRET).unwrap(),
        ),
        &clock,
    ));
    let cookie = own_key.log_in("alice", None).await;
    let by_session_key = sign(
        Algorithm::HS256,
        &jsonwebtoken::EncodingKey::from_secret(SESSION_SECRET),
        None,
        &claims("alice"),
    );
    own_key
        .table(
            "cookies/session key is not an issuer key (finding F1)",
            vec![
                Case::new(
                    "control: the session cookie",
                    with_cookie(&cookie),
                    Expect::allowed().body("alice"),
                ),
                Case::new(
                    "control: a bearer token of the issuer",
                    get("/me").bearer(&token("alice", &[])),
                    Expect::allowed().body("alice"),
                ),
                Case::new(
                    "the session cookie's JWT (signed with the session key) as a bearer token",
                    get("/me").bearer(cookie_value(&cookie)),
                    Expect::invalid_token(),
                ),
                Case::new(
                    "a bearer token with the issuer's claims, signed with the session key",
                    get("/me").bearer(&by_session_key),
                    Expect::invalid_token(),
                ),
            ],
        )
        .await;
}

/// The key of the stateless sessions that no issuer holds.
const SESSION_SECRET: &[u8] = b"the stateless session key, 32 bytes long";

/// A stateless cookie the token cache knows skips the cookie parse (the cache is asked with
/// the bytes after `name=` first). Everything the strict parse refuses must still be refused
/// once the cookie is cached, and the CSRF check must still run.
#[tokio::test]
async fn a_cached_stateless_cookie_is_still_parsed_strictly_and_csrf_checked() {
    let clock = Clock::new();
    let app = App::stateless(&clock);
    let alice = app.log_in("alice", None).await;
    let other = app.log_in("bob", None).await;
    let (v, o) = (value(&alice).to_owned(), value(&other).to_owned());
    app.table(
        "cookies/stateless (warming the cache)",
        vec![Case::new(
            "control: alice's cookie",
            with_cookie(&alice),
            Expect::allowed().body("alice"),
        )],
    )
    .await;
    assert_eq!(app.gate.cached_tokens(), 1, "the cookie is cached");
    let c = |pair: String| with_cookie(&pair);
    app.table(
        "cookies/stateless, cached",
        vec![
            Case::new(
                "control: the same value twice is one cookie",
                c(format!("{COOKIE}={v}; {COOKIE}={v}")),
                Expect::allowed(),
            ),
            Case::new(
                "the cached value, then another session",
                c(format!("{COOKIE}={v}; {COOKIE}={o}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "the cached value, then another session, no space",
                c(format!("{COOKIE}={v};{COOKIE}={o}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "the cached value with a character appended",
                c(format!("{COOKIE}={v}x")),
                Expect::invalid_token(),
            ),
            Case::new(
                "control: among other cookies",
                c(format!("{COOKIE}={v}; other=1")),
                Expect::allowed(),
            ),
            Case::new(
                "control: the value quoted",
                c(format!("{COOKIE}=\"{v}\"")),
                Expect::allowed(),
            ),
            Case::new(
                "control: a trailing space",
                c(format!("{COOKIE}={v} ")),
                Expect::allowed(),
            ),
            Case::new(
                "the cached value under a longer name",
                c(format!("{COOKIE}x={v}")),
                Expect::unauthenticated(),
            ),
            Case::new(
                "two Cookie headers: the cached value, then another session",
                with_cookie(&alice).cookie(&other),
                Expect::invalid_token(),
            ),
            Case::new(
                "a cross-site POST with the cached cookie",
                post("/me")
                    .header("host", HOST)
                    .cookie(&alice)
                    .header("sec-fetch-site", "cross-site")
                    .header("origin", "https://evil.example"),
                Expect::forbidden(),
            ),
            Case::new(
                "control: a same-origin POST with the cached cookie",
                post("/me")
                    .header("host", HOST)
                    .cookie(&alice)
                    .header("sec-fetch-site", "same-origin")
                    .header("origin", SAME_ORIGIN),
                Expect::allowed(),
            ),
        ],
    )
    .await;
}

/// The `Set-Cookie` values of a reply.
fn set_cookies(reply: &authgate::testing::TestResponse) -> Vec<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ASCII cookie").to_owned())
        .collect()
}

/// A browser that still holds a dead session cookie (logged out elsewhere, idle, the store
/// flushed, a key rotated) gets the public home page as an anonymous visitor, and the cookie
/// is cleared so the next page does not pay for it again. A presented bearer token that fails
/// still answers 401: an API client must learn that its token is bad.
#[tokio::test]
async fn a_dead_cookie_on_a_public_page_is_anonymous_and_cleared() {
    let clock = Clock::new();
    let (server, store) = App::server(&clock);
    let stateless = App::stateless(&clock);
    for (kind, app) in [("server-side", &server), ("stateless", &stateless)] {
        let live = app.log_in("alice", None).await;
        // Without revocations a stateless cookie outlives its logout (`stateless_cookies_cannot_
        // be_revoked_documented_limit`); a server-side one does not.
        let logged_out = match kind {
            "server-side" => {
                let cookie = app.log_in("bob", None).await;
                let reply = send_raw(&app.app, post("/logout").cookie(&cookie).build().0).await;
                assert_eq!(reply.status, StatusCode::NO_CONTENT, "{kind}: logout");
                cookie
            }
            _ => format!("{COOKIE}=eyJhbGciOiJIUzI1NiJ9.e30.{}", "A".repeat(43)),
        };
        let forged = format!("{COOKIE}={}", "A".repeat(43));
        let cleared = format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax");
        for (what, cookie) in [
            ("a dead session", &logged_out),
            ("an unknown session", &forged),
        ] {
            let hits = app.hits.count();
            let reply = send_raw(&app.app, get("/").cookie(cookie).build().0).await;
            assert_eq!(reply.status, StatusCode::OK, "{kind}, {what}");
            assert_eq!(reply.text(), "welcome", "{kind}, {what}: anonymous");
            assert_eq!(
                set_cookies(&reply),
                std::slice::from_ref(&cleared),
                "{kind}, {what}: cleared"
            );
            assert_eq!(
                app.hits.count(),
                hits + 1,
                "{kind}, {what}: the page ran once"
            );
        }
        // A live cookie is the visitor, and is left alone.
        let reply = send_raw(&app.app, get("/").cookie(&live).build().0).await;
        assert_eq!(reply.text(), "hello alice", "{kind}");
        assert!(
            set_cookies(&reply).is_empty(),
            "{kind}: a live cookie is not cleared"
        );
        // A guarded route still refuses the dead cookie (401), and does not clear it.
        app.table(
            &format!("cookies/dead cookie on public and guarded routes ({kind})"),
            vec![
                Case::new(
                    "a guarded route with a logged-out cookie",
                    with_cookie(&logged_out),
                    Expect::invalid_token(),
                ),
                Case::new(
                    "a bad bearer token on the public page",
                    get("/").bearer("not.a.token"),
                    Expect::invalid_token(),
                ),
                Case::new(
                    "a bad bearer token and a live cookie on the public page",
                    get("/").bearer("not.a.token").cookie(&live),
                    Expect::invalid_token(),
                ),
                Case::new(
                    "a dead cookie on a cross-site POST to the public page (origin checked first)",
                    post("/")
                        .cookie(&logged_out)
                        .header("host", HOST)
                        .header("sec-fetch-site", "cross-site"),
                    Expect::forbidden(),
                ),
            ],
        )
        .await;
    }
    // Sessions that expired on the Gate's clock, and one whose store record was purged.
    let idle = server.log_in("carol", None).await;
    let stateless_idle = stateless.log_in("erin", None).await;
    let purged = server.log_in("dave", None).await;
    // The store lost dave's record (a flush, a restore from an older backup).
    let record = store
        .logins()
        .into_iter()
        .find(|r| r.subject == "dave")
        .expect("dave's session");
    authgate::store::LoginStore::delete(&store, &record.key)
        .await
        .expect("delete");
    clock.advance(700); // past the idle timeout (600 s) and the leeway (30 s)
    for (what, app, cookie) in [
        ("an idle-expired session", &server, &idle),
        ("a purged session", &server, &purged),
        ("an expired stateless cookie", &stateless, &stateless_idle),
    ] {
        let reply = send_raw(&app.app, get("/").cookie(cookie).build().0).await;
        assert_eq!(
            (reply.status, reply.text()),
            (StatusCode::OK, "welcome".to_owned()),
            "{what}"
        );
        assert_eq!(set_cookies(&reply).len(), 1, "{what}: cleared");
    }
}
