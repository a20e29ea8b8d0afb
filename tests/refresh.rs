//! Refresh tokens over HTTP (issue 17): a login's token pair, rotation at the refresh
//! endpoint (a `#[public]` handler that calls `Gate::refresh`), reuse detection (the family
//! and the subject's access tokens end), absolute and idle expiry, `revoke_user`, and what the
//! builder refuses. The store contract is in `tests/sessions.rs`, two instances in
//! `tests/instances.rs`.

mod support;

use std::time::Duration;

use authgate::issuers::Issuer;
use authgate::keys::{Algorithm, Key};
use authgate::revocation::Revocations;
use authgate::store::MemoryStore;
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

/// An app with `/me` and `/token/refresh`: families live 1 day, idle 1 hour.
async fn app() -> App {
    let store = MemoryStore::new();
    let clock = Clock::new();
    let revocations = MemoryStore::new();
    let gate = gate_builder()
        .clock(clock.reader())
        .revocations(Revocations::new(revocations.clone()))
        .refresh_tokens(
            RefreshTokens::new(store.clone())
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
