//! Session data over HTTP: a flash message set by a POST and shown once by the next GET, a
//! cart kept across requests, the size limit, a logout that no write undoes, and the callers
//! and Gates it refuses. The store-level guarantees (compare-and-set, concurrency) are the
//! conformance suite's, run on every store.

mod support;

use std::time::SystemTime;

use authgate::keys::{Algorithm, SigningKey};
use authgate::routing::{get, post};
use authgate::sessions::{SessionData, Sessions};
use authgate::store::{LoginRecord, LoginStore, MemoryStore, StoreError};
use authgate::testing::Conformance;
use authgate::{ConfigProblem, CurrentUser, Gate, Rejection, Router, require_auth};
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use support::*;

/// Adds the body's item to the cart and flashes a notice for the page it redirects to.
#[require_auth(redirect = "/login")]
async fn add_to_cart(mut data: SessionData, item: String) -> Result<Redirect, Rejection> {
    let item: u32 = item.parse().unwrap_or(0);
    data.update("cart", |cart: Option<Vec<u32>>| {
        let mut cart = cart.unwrap_or_default();
        cart.push(item);
        Some(cart)
    })
    .await?;
    data.flash("notice", &format!("added {item}")).await?;
    Ok(Redirect::to("/cart"))
}

/// `notice|cart`: the flash message (taken, so shown once) and the cart.
#[require_auth(redirect = "/login")]
async fn cart(mut data: SessionData) -> Result<String, Rejection> {
    let notice: Option<String> = data.take_flash("notice").await?;
    let cart: Vec<u32> = data.get("cart")?.unwrap_or_default();
    Ok(format!("{}|{cart:?}", notice.unwrap_or_default()))
}

/// Keeps the body as a note: 413 when it is over the session's limit.
#[require_auth]
async fn note(mut data: SessionData, note: String) -> Response {
    match data.insert("note", &note).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) if e.is_too_large() => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        Err(e) => e.into_response(),
    }
}

/// The same, with `?`: the error as authgate answers it.
#[require_auth]
async fn note_or_refusal(mut data: SessionData, note: String) -> Result<(), Rejection> {
    Ok(data.insert("note", &note).await?)
}

/// Logs out, then writes to the session it just ended: `ended` when the write refused.
#[require_auth]
async fn logout_then_write(
    State(gate): State<Gate>,
    user: CurrentUser,
    mut data: SessionData,
) -> Response {
    if let Err(e) = gate.logout(&user).await {
        return e.into_response();
    }
    match data.insert("after", &1).await {
        Err(e) if e.is_ended() => "ended".into_response(),
        Err(e) => e.into_response(),
        Ok(()) => "written".into_response(),
    }
}

/// Served to browsers and API clients alike.
#[require_auth]
async fn either(data: Option<SessionData>) -> &'static str {
    match data {
        Some(_) => "session",
        None => "no session",
    }
}

fn app(gate: Gate) -> TestClient {
    client(
        Router::new()
            .route("/cart", get(cart).post(add_to_cart))
            .route("/note", post(note))
            .route("/note-or-refusal", post(note_or_refusal))
            .route("/logout-then-write", post(logout_then_write))
            .route("/either", get(either))
            .route("/login", post(login))
            .route("/logout", post(logout))
            .with_state(gate)
            .into_axum(),
    )
}

fn server(sessions: impl FnOnce(Sessions) -> Sessions) -> (TestClient, MemoryStore) {
    let store = MemoryStore::new();
    let gate = gate_with(
        sessions(Sessions::server_side(COOKIE, store.clone())),
        &Clock::new(),
    );
    (app(gate), store)
}

async fn log_in(app: &TestClient, who: &str) -> String {
    let reply = app
        .post("/login")
        .header("host", HOST)
        .form(who)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    cookie_pair(&reply)
}

async fn send(
    app: &TestClient,
    method: Method,
    uri: &str,
    cookie: &str,
    body: &str,
) -> TestResponse {
    app.request(method, uri)
        .header("host", HOST)
        .header("cookie", cookie)
        .header("sec-fetch-site", "same-origin")
        .body("text/plain", body.to_owned())
        .send()
        .await
}

#[tokio::test]
async fn a_flash_is_shown_once_and_the_cart_is_kept() {
    let (app, store) = server(|s| s);
    let cookie = log_in(&app, "alice").await;

    let added = send(&app, Method::POST, "/cart", &cookie, "7").await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    let page = send(&app, Method::GET, "/cart", &cookie, "").await;
    assert_eq!(page.text(), "added 7|[7]");
    let again = send(&app, Method::GET, "/cart", &cookie, "").await;
    assert_eq!(again.text(), "|[7]", "a flash message is shown once");

    send(&app, Method::POST, "/cart", &cookie, "9").await;
    let page = send(&app, Method::GET, "/cart", &cookie, "").await;
    assert_eq!(page.text(), "added 9|[7, 9]");

    // Another user's session has its own values; the store holds them with the session.
    let bob = log_in(&app, "bob").await;
    assert_eq!(
        send(&app, Method::GET, "/cart", &bob, "").await.text(),
        "|[]"
    );
    let logins = store.logins();
    let alice = logins.iter().find(|r| r.subject == "alice").unwrap();
    assert!(
        alice.data.contains(r#""values":{"cart":[7,9]}"#),
        "{}",
        alice.data
    );
}

#[tokio::test]
async fn reads_and_unchanged_values_write_nothing() {
    let (app, store) = server(|s| s);
    let cookie = log_in(&app, "alice").await;
    send(&app, Method::POST, "/note", &cookie, "hello").await;
    let before = store.logins();
    // A page without a flash to take, and the same note again: no change, no write.
    send(&app, Method::GET, "/cart", &cookie, "").await;
    let same = send(&app, Method::POST, "/note", &cookie, "hello").await;
    assert_eq!(same.status, StatusCode::NO_CONTENT);
    assert_eq!(store.logins(), before);
}

#[tokio::test]
async fn values_over_the_limit_are_refused_and_nothing_is_written() {
    let (app, store) = server(|s| s.data_limit(64));
    let cookie = log_in(&app, "alice").await;
    let small = send(&app, Method::POST, "/note", &cookie, "short").await;
    assert_eq!(small.status, StatusCode::NO_CONTENT);
    let before = store.logins();

    let big = "x".repeat(100);
    let refused = send(&app, Method::POST, "/note", &cookie, &big).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Through `?`, authgate's answer: 500, the reason logged, no value in the body.
    let (logs, _guard) = capture_logs();
    let refused = send(&app, Method::POST, "/note-or-refusal", &cookie, &big).await;
    assert_eq!(refused.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!refused.text().contains("xxx"));
    assert!(
        logs.contents().contains("over its limit of 64 bytes"),
        "{}",
        logs.contents()
    );
    assert_eq!(store.logins(), before, "a refused change writes nothing");
}

#[tokio::test]
async fn a_write_after_logout_does_not_bring_the_session_back() {
    let (app, store) = server(|s| s);
    let cookie = log_in(&app, "alice").await;
    send(&app, Method::POST, "/cart", &cookie, "7").await;
    let reply = send(&app, Method::POST, "/logout-then-write", &cookie, "").await;
    assert_eq!(reply.text(), "ended");
    assert!(store.logins().is_empty(), "the session stays deleted");
    let after = send(&app, Method::GET, "/cart", &cookie, "").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "logged out");

    // A new login starts with no values.
    let cookie = log_in(&app, "alice").await;
    assert_eq!(
        send(&app, Method::GET, "/cart", &cookie, "").await.text(),
        "|[]"
    );
}

#[tokio::test]
async fn a_bearer_caller_has_no_session_data() {
    let store = MemoryStore::new();
    let gate = gate_builder()
        .sessions(Sessions::server_side(COOKIE, store))
        .build()
        .unwrap();
    let app = app(gate);
    let token = token("alice", &["user"]);
    let either = app.get("/either").bearer(&token).send().await;
    assert_eq!(either.text(), "no session");
    let refused = app.post("/note").bearer(&token).form("x").send().await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let cookie = log_in(&app, "alice").await;
    assert_eq!(
        send(&app, Method::GET, "/either", &cookie, "").await.text(),
        "session"
    );
}

#[tokio::test]
async fn stateless_sessions_refuse_session_data() {
    let key = || SigningKey::hmac(Algorithm::HS256, SECRET).unwrap();
    let refused = gate_builder()
        .sessions(Sessions::stateless(COOKIE, key()).data_limit(1024))
        .build()
        .unwrap_err();
    let problems = refused.problems();
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, ConfigProblem::Missing { needed_by, .. } if needed_by.contains("session data"))),
        "{problems:?}"
    );

    let gate = gate_with(Sessions::stateless(COOKIE, key()), &Clock::new());
    let app = app(gate);
    let cookie = log_in(&app, "alice").await;
    let (logs, _guard) = capture_logs();
    let refused = send(&app, Method::POST, "/note", &cookie, "x").await;
    assert_eq!(refused.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        logs.contents()
            .contains("SessionData needs server-side sessions"),
        "{}",
        logs.contents()
    );
    assert!(
        !logs.contents().contains(cookie_value(&cookie)),
        "no cookie in the log"
    );
}

/// The suite fails a store whose `replace_data` is a read then an unconditional write:
/// it brings a logged-out session back, and concurrent writes both win.
#[tokio::test]
async fn the_contract_catches_a_data_write_that_is_not_a_compare_and_set() {
    #[derive(Clone, Default)]
    struct Overwriting(MemoryStore);
    impl LoginStore for Overwriting {
        async fn create(&self, r: &LoginRecord) -> Result<(), StoreError> {
            self.0.create(r).await
        }
        async fn load(&self, k: &str) -> Result<Option<LoginRecord>, StoreError> {
            self.0.load(k).await
        }
        async fn touch(&self, k: &str, at: SystemTime) -> Result<bool, StoreError> {
            self.0.touch(k, at).await
        }
        async fn rotate(
            &self,
            k: &str,
            p: &str,
            n: &str,
            at: SystemTime,
        ) -> Result<bool, StoreError> {
            self.0.rotate(k, p, n, at).await
        }
        async fn replace_data(&self, k: &str, _old: &str, new: &str) -> Result<bool, StoreError> {
            let Some(mut record) = self.0.load(k).await? else {
                return Ok(false);
            };
            tokio::task::yield_now().await; // a round trip between the read and the write
            record.data = new.to_owned();
            self.0.create(&record).await?;
            Ok(true)
        }
        async fn delete(&self, k: &str) -> Result<(), StoreError> {
            self.0.delete(k).await
        }
        async fn delete_user(&self, s: &str) -> Result<u64, StoreError> {
            self.0.delete_user(s).await
        }
        async fn purge_expired(&self, now: SystemTime) -> Result<u64, StoreError> {
            self.0.purge_expired(now).await
        }
    }
    let failures = Conformance::logins(Overwriting::default())
        .run()
        .await
        .unwrap_err();
    let text = failures.join("\n");
    assert!(
        text.contains("replace_data over data no longer held"),
        "{text}"
    );
    assert!(
        text.contains("exactly one of two concurrent data replacements"),
        "{text}"
    );
}
