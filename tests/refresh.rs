//! Refresh tokens over HTTP (issue 17): a login's token pair, rotation at the refresh
//! endpoint (a `#[public]` handler that calls `Gate::refresh`), reuse detection (the family
//! and the subject's access tokens end), absolute and idle expiry, `revoke_user`, a logout with
//! a bearer token ending its login (issue 26) also while a refresh of it runs, and what the
//! builder refuses. The store contract is in `tests/sessions.rs`, two instances in
//! `tests/instances.rs`.

mod support;

use std::time::Duration;

use authgate::issuers::Issuer;
use authgate::keys::{Algorithm, Key};
use authgate::revocation::Revocations;
use authgate::store::{LoginRecord, LoginStore, MemoryStore, StoreError};
use authgate::tokens::{RefreshTokens, Tokens};
use authgate::{
    ConfigProblem, CurrentUser, Gate, Identity, Rejection, RejectionKind, Router, public,
    require_auth,
    routing::{get, post},
};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::json;

use support::*;

#[require_auth]
async fn me(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.subject().to_owned()
}

/// The body of a refresh request.
#[derive(Deserialize)]
struct RefreshRequest {
    refresh_token: String,
}

/// The refresh endpoint: `{"refresh_token": ..}` in, the next pair out (RFC 6749 JSON). A
/// body that is not such an object presents no token, which the Gate refuses like any
/// malformed one (401 `invalid_token`). `hits` counts the exchanges that handed out tokens.
#[public(reason = "token refresh: the refresh token is the credential")]
async fn refresh(
    State(gate): State<Gate>,
    State(hits): State<Hits>,
    body: String,
) -> Result<Json<Tokens>, Rejection> {
    let presented = serde_json::from_str::<RefreshRequest>(&body)
        .map(|request| request.refresh_token)
        .unwrap_or_default();
    let tokens = gate.refresh(&presented).await?;
    hits.hit();
    Ok(Json(tokens))
}

struct App {
    gate: Gate,
    /// The refresh families.
    store: MemoryStore,
    /// The revocations: a store of their own, so that one can fail while the other works.
    revocations: MemoryStore,
    clock: Clock,
    hits: Hits,
    client: TestClient,
}

/// An app with `/me`, `/token/refresh` and `/logout`: families live 1 day, idle 1 hour.
async fn app() -> App {
    let store = MemoryStore::new();
    app_on(store.clone(), store).await
}

/// [`app`] with its families in `logins`, which keeps them in `store`.
async fn app_on(store: MemoryStore, logins: impl LoginStore) -> App {
    let clock = Clock::new();
    let revocations = MemoryStore::new();
    let gate = gate_builder()
        .clock(clock.reader())
        .revocations(Revocations::new(revocations.clone()))
        .refresh_tokens(
            RefreshTokens::new(logins)
                .absolute_lifetime(Duration::from_secs(24 * 3600))
                .idle_timeout(Duration::from_secs(3600)),
        )
        .build()
        .expect("a refreshing Gate");
    assert!(gate.ready(Duration::from_secs(5)).await);
    let state = AppState::new(gate.clone());
    let hits = state.hits.clone();
    let client = client(
        Router::new()
            .route("/me", get(me))
            .route("/token/refresh", post(refresh))
            .route("/logout", post(logout))
            .with_state(state)
            .into_axum(),
    );
    App {
        gate,
        store,
        revocations,
        clock,
        hits,
        client,
    }
}

impl App {
    async fn exchange(&self, refresh_token: &str) -> TestResponse {
        self.client
            .post("/token/refresh")
            .json(&json!({ "refresh_token": refresh_token }))
            .send()
            .await
    }

    async fn me(&self, token: &str) -> TestResponse {
        self.client.get("/me").bearer(token).send().await
    }

    async fn logout(&self, token: &str) -> TestResponse {
        self.client.post("/logout").bearer(token).send().await
    }

    /// A refused exchange: 401 `invalid_token`, and no tokens handed out.
    #[track_caller]
    fn assert_refused(&self, reply: &TestResponse, before: usize) {
        assert_invalid_token(reply);
        assert!(reply.header("set-cookie").is_none());
        assert_eq!(
            self.hits.count(),
            before,
            "the refresh handler issued tokens"
        );
    }

    /// The refresh families in the store.
    fn families(&self) -> usize {
        let logins = self.store.logins();
        assert!(
            logins.iter().all(|login| login.current.is_some()),
            "only refresh families in the store"
        );
        logins.len()
    }
}

fn alice() -> Identity {
    Identity::new("alice")
        .roles(["user"])
        .claim("email", "alice@example.com")
}

#[tokio::test]
async fn a_refresh_token_is_exchanged_once_for_a_new_pair() {
    let app = app().await;
    let first = app.gate.issue(&alice()).await.unwrap();
    assert_eq!(first.expires_in(), Duration::from_secs(15 * 60));
    let reply = app.exchange(first.refresh_token().unwrap()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    keys.sort();
    // An OAuth token response (RFC 6749 section 5.1).
    assert_eq!(
        keys,
        ["access_token", "expires_in", "refresh_token", "token_type"]
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 15 * 60);
    let token = body["access_token"].as_str().unwrap();
    let next = body["refresh_token"].as_str().unwrap();
    assert_ne!(next, first.refresh_token().unwrap(), "rotated");
    assert_eq!(next.len(), 66);
    assert_eq!(
        next.split('.').next(),
        first.refresh_token().unwrap().split('.').next(),
        "the same family"
    );
    // The new access token carries the login's identity.
    assert_ok(&app.me(token).await, "alice");
    let claims = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(token)
        .unwrap()
        .claims;
    assert_eq!(claims["roles"], json!(["user"]));
    assert_eq!(claims["email"], "alice@example.com");
    // The new refresh token works too, once; the store holds one family throughout.
    let reply = app.exchange(next).await;
    assert_eq!(reply.status, 200);
    assert_eq!(app.families(), 1);
}

#[tokio::test]
async fn a_reused_refresh_token_ends_the_family_and_the_access_tokens() {
    let app = app().await;
    let (logs, _guard) = capture_logs();
    let first = app.gate.issue(&alice()).await.unwrap();
    let second: serde_json::Value = app.exchange(first.refresh_token().unwrap()).await.json();
    let second_token = second["access_token"].as_str().unwrap().to_owned();
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ok(&app.me(&second_token).await, "alice");
    // Another login of the same user (another device) started before the reuse.
    let other_device = app.gate.issue(&alice()).await.unwrap();

    // The first token again (a thief's copy, or the owner after the thief refreshed).
    let before = app.hits.count();
    let reply = app.exchange(first.refresh_token().unwrap()).await;
    app.assert_refused(&reply, before);
    // The family is gone: its newest token is refused too.
    let reply = app.exchange(&second_refresh).await;
    app.assert_refused(&reply, before);
    // Every access token of the subject issued up to now is revoked.
    let before_me = app.hits.count();
    assert_invalid_token(&app.me(&second_token).await);
    assert_invalid_token(&app.me(other_device.access_token()).await);
    assert_eq!(app.hits.count(), before_me);
    // The other device's family stays: it gets a new access token, which works. (A refresh
    // is stamped with its own second, which the revocation covers: the next second.)
    app.clock.advance(1);
    let reply = app.exchange(other_device.refresh_token().unwrap()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_ok(
        &app.me(reply.json()["access_token"].as_str().unwrap()).await,
        "alice",
    );

    let logs = logs.contents();
    assert_logged(&logs, &["refresh_token_reused", "alice", "WARN"]);
    for secret in [
        first.refresh_token().unwrap(),
        second_refresh.as_str(),
        second_token.as_str(),
        first.refresh_token().unwrap().split('.').next().unwrap(),
    ] {
        assert!(!logs.contains(secret), "a token in the logs:\n{logs}");
    }
}

/// A reuse whose revocation cannot be written answers 503 and keeps the family, so the next
/// presentation is caught as a reuse again (not taken for an unknown token, which would leave
/// the subject's access tokens working). A token the thief got from the family is refused
/// once the revocation is written.
#[tokio::test]
async fn a_reuse_whose_revocation_fails_is_caught_again() {
    let app = app().await;
    let first = app.gate.issue(&alice()).await.unwrap();
    let second: serde_json::Value = app.exchange(first.refresh_token().unwrap()).await.json();
    let thiefs_token = second["access_token"].as_str().unwrap().to_owned();
    assert_ok(&app.me(&thiefs_token).await, "alice");

    app.revocations.set_down(true);
    let before = app.hits.count();
    let reply = app.exchange(first.refresh_token().unwrap()).await;
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(reply.json()["error"], "unavailable");
    assert!(reply.header("www-authenticate").is_none());
    assert_eq!(app.hits.count(), before, "the refresh handler ran");
    assert_eq!(app.families(), 1, "the family is kept");

    app.revocations.set_down(false);
    assert!(app.gate.ready(Duration::from_secs(5)).await);
    let reply = app.exchange(first.refresh_token().unwrap()).await;
    app.assert_refused(&reply, before);
    assert_eq!(app.families(), 0, "the family is ended");
    assert_invalid_token(&app.me(&thiefs_token).await);
    assert_eq!(app.hits.count(), before);
}

#[tokio::test]
async fn expired_and_idle_families_are_refused() {
    let app = app().await;
    // Idle: an hour without an exchange.
    let idle = app.gate.issue(&alice()).await.unwrap();
    app.clock.advance(3600);
    let before = app.hits.count();
    let reply = app.exchange(idle.refresh_token().unwrap()).await;
    app.assert_refused(&reply, before);
    assert_eq!(app.families(), 0, "the expired family is deleted");

    // Absolute: refreshed every 50 minutes, it still ends a day after the login.
    let kept = app.gate.issue(&alice()).await.unwrap();
    let mut refresh = kept.refresh_token().unwrap().to_owned();
    for _ in 0..28 {
        app.clock.advance(50 * 60);
        let reply = app.exchange(&refresh).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        refresh = reply.json()["refresh_token"].as_str().unwrap().to_owned();
    }
    app.clock.advance(50 * 60); // 29 * 50 min > 24 h
    let before = app.hits.count();
    let reply = app.exchange(&refresh).await;
    app.assert_refused(&reply, before);
}

#[tokio::test]
async fn unknown_and_malformed_refresh_requests_are_refused_without_tokens() {
    let app = app().await;
    let issued = app.gate.issue(&alice()).await.unwrap();
    let real = issued.refresh_token().unwrap();
    let unknown = format!("{}.{}", &real[..22], "A".repeat(43));
    let other_family = format!("{}.{}", "B".repeat(22), &real[23..]);
    let before = app.hits.count();
    for token in [
        "",
        "not a token",
        &real[1..],
        &format!("{real}A"),
        &other_family,
        issued.access_token(),
    ] {
        let reply = app.exchange(token).await;
        app.assert_refused(&reply, before);
    }
    for body in ["", "{}", "[]", r#"{"refresh_token": 5}"#, "refresh_token=x"] {
        let reply = app
            .client
            .post("/token/refresh")
            .body("application/json", body.to_owned())
            .send()
            .await;
        app.assert_refused(&reply, before);
    }
    // None of those ended the family (a made-up secret of a known family would: see the
    // reuse test). The real token still works.
    assert_eq!(app.exchange(real).await.status, 200);
    // A secret of the right shape for the real family, never issued: treated as a reuse.
    let before = app.hits.count();
    let reply = app.exchange(&unknown).await;
    app.assert_refused(&reply, before);
    assert_eq!(app.families(), 0);
}

#[tokio::test]
async fn revoking_a_user_ends_their_refresh_families() {
    let app = app().await;
    let alice_tokens = app.gate.issue(&alice()).await.unwrap();
    let bob = app.gate.issue(&Identity::new("bob")).await.unwrap();
    app.gate.revoke_user("alice").await.unwrap();
    let before = app.hits.count();
    app.assert_refused(
        &app.exchange(alice_tokens.refresh_token().unwrap()).await,
        before,
    );
    assert_eq!(app.exchange(bob.refresh_token().unwrap()).await.status, 200);
    // A login right after the revocation (a password change) works at once.
    let again = app.gate.issue(&alice()).await.unwrap();
    assert_ok(&app.me(again.access_token()).await, "alice");
    assert_eq!(
        app.exchange(again.refresh_token().unwrap()).await.status,
        200
    );
}

#[tokio::test]
async fn refresh_tokens_need_revocations_and_a_gate_that_issues() {
    let error = gate_builder()
        .refresh_tokens(RefreshTokens::new(MemoryStore::new()))
        .build()
        .unwrap_err();
    assert!(
        matches!(
            error.problems(),
            [ConfigProblem::Missing { setting, needed_by: "refresh tokens" }]
                if setting.contains("revocations")
        ),
        "{error}"
    );
    let error = keyless_gate_builder()
        .issuer(
            Issuer::new(ISS).key(Key::from_pem(Algorithm::RS256, pem("rsa_public.pem")).unwrap()),
        )
        .revocations(Revocations::new(MemoryStore::new()))
        .refresh_tokens(RefreshTokens::new(MemoryStore::new()))
        .build()
        .unwrap_err();
    assert!(
        matches!(
            error.problems(),
            [ConfigProblem::Missing { setting, needed_by: "refresh tokens" }]
                if setting.contains("signing key")
        ),
        "{error}"
    );
    // Without refresh tokens configured, `issue` gives an access token alone, which
    // serializes without `refresh_token`; `refresh` says the Gate is not configured for it.
    let gate = gate();
    let tokens = gate.issue(&alice()).await.unwrap();
    assert_eq!(tokens.refresh_token(), None);
    assert_eq!(
        serde_json::to_value(&tokens).unwrap(),
        json!({
            "access_token": tokens.access_token(),
            "token_type": "Bearer",
            "expires_in": 15 * 60,
        })
    );
    let error = gate.refresh("x").await.unwrap_err();
    assert_eq!(error.kind(), &RejectionKind::Misconfigured, "{error:?}");
    assert!(error.to_string().contains("refresh_tokens"), "{error}");
    // Tokens never show in Debug output.
    let app = app().await;
    let tokens = app.gate.issue(&alice()).await.unwrap();
    let debug = format!("{tokens:?}");
    assert!(!debug.contains(tokens.refresh_token().unwrap()), "{debug}");
    assert!(!debug.contains(tokens.access_token()), "{debug}");
}

/// The claims of a JWT, unverified.
fn claims_of(token: &str) -> serde_json::Value {
    jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(token)
        .expect("a JWT")
        .claims
}

/// Logging out with a bearer token ends its login (issue 26, finding 2): the refresh family
/// is deleted, and every access token of the login is refused, the ones earlier refreshes
/// handed out included. The user's other login stays, and nothing is logged as a reuse.
#[tokio::test]
async fn logging_out_with_a_bearer_token_ends_its_login() {
    let app = app().await;
    let (logs, _guard) = capture_logs();
    let first = app.gate.issue(&alice()).await.unwrap();
    let other_device = app.gate.issue(&alice()).await.unwrap();
    let reply = app.exchange(first.refresh_token().unwrap()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let refreshed = reply.json()["access_token"].as_str().unwrap().to_owned();
    let next_refresh = reply.json()["refresh_token"].as_str().unwrap().to_owned();
    // Every token of a login names it; another login has another name.
    let sid = claims_of(first.access_token())["sid"].clone();
    assert_eq!(claims_of(&refreshed)["sid"], sid);
    assert_ne!(claims_of(other_device.access_token())["sid"], sid);
    // The family's key in the store: 64 hex digits, neither the family id nor in a token.
    let sid = sid.as_str().expect("a string `sid`").to_owned();
    assert!(
        sid.len() == 64 && sid.bytes().all(|b| b.is_ascii_hexdigit()),
        "{sid}"
    );
    for refresh in [first.refresh_token().unwrap(), &next_refresh] {
        assert!(!refresh.contains(&sid) && !sid.contains(refresh.split('.').next().unwrap()));
    }
    assert_eq!(app.families(), 2);

    // Logged out with the login's first access token.
    let reply = app.logout(first.access_token()).await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    assert!(reply.header("set-cookie").is_none());
    assert_eq!(app.families(), 1, "the login's family is deleted");
    let before = app.hits.count();
    app.assert_refused(&app.exchange(&next_refresh).await, before);
    for token in [first.access_token(), refreshed.as_str()] {
        assert_invalid_token(&app.me(token).await);
    }
    assert_eq!(app.hits.count(), before, "a handler ran for an ended login");
    // The other device is untouched.
    assert_ok(&app.me(other_device.access_token()).await, "alice");
    let reply = app.exchange(other_device.refresh_token().unwrap()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_ok(
        &app.me(reply.json()["access_token"].as_str().unwrap()).await,
        "alice",
    );
    // A logout with a logged-out token is refused like any revoked token.
    assert_invalid_token(&app.logout(&refreshed).await);

    let logs = logs.contents();
    assert!(!logs.contains("refresh_token_reused"), "{logs}");
    for secret in [first.refresh_token().unwrap(), &next_refresh, &refreshed] {
        assert!(!logs.contains(secret), "a token in the logs:\n{logs}");
    }
}

/// `sid` is the Gate's: a token issued without a family carries none, even when the
/// identity has a claim of that name (an app value shared by several users would otherwise
/// be revoked as one login).
#[tokio::test]
async fn a_sid_claim_of_the_app_is_never_issued() {
    let identity = Identity::new("alice").claim("sid", "shared-by-everyone");
    let alone = gate().issue(&identity).await.unwrap();
    assert_eq!(claims_of(alone.access_token()).get("sid"), None);
    let app = app().await;
    let with_family = app.gate.issue(&identity).await.unwrap();
    let sid = claims_of(with_family.access_token())["sid"].clone();
    assert!(sid.as_str().is_some_and(|sid| sid.len() == 64), "{sid}");
}

/// Which call of a [`HeldStore`] waits, and whether before or after it reached the store.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum At {
    Before(&'static str),
    After(&'static str),
}

/// A family store whose next call of one kind waits, before or after it ran, until the test
/// releases it: the interleavings of a refresh and a logout, made certain.
#[derive(Clone)]
struct HeldStore {
    inner: MemoryStore,
    hold: std::sync::Arc<std::sync::Mutex<Option<Hold>>>,
}

struct Hold {
    at: At,
    reached: tokio::sync::oneshot::Sender<()>,
    release: tokio::sync::oneshot::Receiver<()>,
}

/// The test's side of a hold: when the call waits, and letting it go on.
struct Held {
    reached: tokio::sync::oneshot::Receiver<()>,
    release: tokio::sync::oneshot::Sender<()>,
}

impl HeldStore {
    /// The next call at `at` waits until released.
    fn hold(&self, at: At) -> Held {
        let (reached, reached_rx) = tokio::sync::oneshot::channel();
        let (release_tx, release) = tokio::sync::oneshot::channel();
        *self.hold.lock().unwrap() = Some(Hold {
            at,
            reached,
            release,
        });
        Held {
            reached: reached_rx,
            release: release_tx,
        }
    }

    async fn pause(&self, at: At) {
        let hold = {
            let mut slot = self.hold.lock().unwrap();
            match slot.as_ref() {
                Some(hold) if hold.at == at => slot.take(),
                _ => None,
            }
        };
        if let Some(hold) = hold {
            let _ = hold.reached.send(());
            let _ = hold.release.await;
        }
    }

    async fn around<T>(&self, method: &'static str, call: impl Future<Output = T>) -> T {
        self.pause(At::Before(method)).await;
        let result = call.await;
        self.pause(At::After(method)).await;
        result
    }
}

impl LoginStore for HeldStore {
    async fn create(&self, record: &LoginRecord) -> Result<(), StoreError> {
        self.around("create", self.inner.create(record)).await
    }
    async fn load(&self, key: &str) -> Result<Option<LoginRecord>, StoreError> {
        self.around("load", self.inner.load(key)).await
    }
    async fn touch(&self, key: &str, at: std::time::SystemTime) -> Result<bool, StoreError> {
        self.around("touch", self.inner.touch(key, at)).await
    }
    async fn rotate(
        &self,
        key: &str,
        presented: &str,
        next: &str,
        now: std::time::SystemTime,
    ) -> Result<bool, StoreError> {
        let call = self.inner.rotate(key, presented, next, now);
        self.around("rotate", call).await
    }
    async fn replace_data(
        &self,
        key: &str,
        expected: &str,
        data: &str,
    ) -> Result<bool, StoreError> {
        let call = self.inner.replace_data(key, expected, data);
        self.around("replace_data", call).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.around("delete", self.inner.delete(key)).await
    }
    async fn delete_user(&self, subject: &str) -> Result<u64, StoreError> {
        self.around("delete_user", self.inner.delete_user(subject))
            .await
    }
    async fn purge_expired(&self, now: std::time::SystemTime) -> Result<u64, StoreError> {
        self.around("purge_expired", self.inner.purge_expired(now))
            .await
    }
}

/// An app on a [`HeldStore`], and the store.
async fn held_app() -> (App, HeldStore) {
    let store = MemoryStore::new();
    let held = HeldStore {
        inner: store.clone(),
        hold: Default::default(),
    };
    (app_on(store, held.clone()).await, held)
}

/// A refresh and a logout of the same login at once, in each order that matters: however
/// they interleave, no family is left and no access token of the login works, while the
/// user's other login is untouched (the race is not taken for a reuse).
#[tokio::test]
async fn a_refresh_racing_a_logout_leaves_nothing_of_the_login() {
    // The logout runs while the refresh waits: after its load and before its rotation
    // (the family is gone when it rotates), and after its rotation (it signs after the
    // logout, a token of the ended login).
    for at in [At::Before("rotate"), At::After("rotate")] {
        let (app, store) = held_app().await;
        let login = app.gate.issue(&alice()).await.unwrap();
        let other_device = app.gate.issue(&alice()).await.unwrap();
        let held = store.hold(at);
        let refresh_token = login.refresh_token().unwrap().to_owned();
        let gate = app.gate.clone();
        let refresh = tokio::spawn(async move { gate.refresh(&refresh_token).await });
        held.reached.await.expect("the refresh reached the store");
        assert_eq!(app.logout(login.access_token()).await.status, 204, "{at:?}");
        let _ = held.release.send(());
        match refresh.await.expect("the refresh ran") {
            Ok(tokens) => {
                assert_eq!(
                    at,
                    At::After("rotate"),
                    "only a rotation before it succeeds"
                );
                assert_invalid_token(&app.me(tokens.access_token()).await);
                let before = app.hits.count();
                let reply = app.exchange(tokens.refresh_token().unwrap()).await;
                app.assert_refused(&reply, before);
            }
            Err(refused) => assert_eq!(refused.kind(), &RejectionKind::InvalidToken, "{at:?}"),
        }
        assert_eq!(
            app.families(),
            1,
            "{at:?}: only the other login's family is left"
        );
        assert_invalid_token(&app.me(login.access_token()).await);
        assert_ok(&app.me(other_device.access_token()).await, "alice");
    }

    // The reverse: the refresh runs while the logout waits between finding the family and
    // deleting it. The refresh's tokens are of the login the logout then ends.
    let (app, store) = held_app().await;
    let login = app.gate.issue(&alice()).await.unwrap();
    let other_device = app.gate.issue(&alice()).await.unwrap();
    let held = store.hold(At::Before("delete"));
    let client = app.client.clone();
    let token = login.access_token().to_owned();
    let logout = tokio::spawn(async move { client.post("/logout").bearer(&token).send().await });
    held.reached.await.expect("the logout reached the store");
    let reply = app.exchange(login.refresh_token().unwrap()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let refreshed = reply.json();
    let _ = held.release.send(());
    assert_eq!(logout.await.expect("the logout ran").status, 204);
    assert_eq!(app.families(), 1, "only the other login's family is left");
    let refreshed_token = refreshed["access_token"].as_str().unwrap();
    assert_invalid_token(&app.me(refreshed_token).await);
    let before = app.hits.count();
    let next = refreshed["refresh_token"].as_str().unwrap();
    app.assert_refused(&app.exchange(next).await, before);
    assert_ok(&app.me(other_device.access_token()).await, "alice");
}
