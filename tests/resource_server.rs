//! The `resource_server` example's router (the very code `cargo run --example
//! resource_server` serves), against the test identity provider: it is built while the
//! provider is down and answers 503, then serves the provider's tokens once its keys are
//! fetched, route by route, with every refusal of the rejection table.

mod support;

#[path = "../examples/resource_server/app.rs"]
#[allow(dead_code)]
mod app;

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authgate::keys::Algorithm;
use serde_json::{Value, json};

use support::raw;
use support::*;

const AUDIENCE: &str = "invoices-api";

fn options(provider: &Provider, extra: &[&str]) -> app::Options {
    let mut args = vec![
        "--issuer".to_owned(),
        provider.issuer(),
        "--audience".to_owned(),
        AUDIENCE.to_owned(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    app::Options::parse(args).expect("options")
}

/// The example's Gate, with the realm the rejection assertions expect.
fn gate(options: &app::Options) -> authgate::Gate {
    app::gate_builder(options)
        .realm(REALM)
        .build()
        .expect("gate")
}

/// A token of `provider` for `aud` with these claims on top of `sub`, `iss`, `iat`, `exp`.
fn token(provider: &Provider, aud: &str, extra: Value) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut claims = json!({
        "sub": "alice", "iss": provider.issuer(), "aud": aud, "iat": now, "exp": now + 600,
    });
    for (name, value) in extra.as_object().unwrap() {
        claims[name] = value.clone();
    }
    sign(Algorithm::RS256, &rsa_signing_key(), Some("k1"), &claims)
}

/// `reply` is the rejection of `status` (401 `invalid_token`/`unauthenticated`, 403 with the
/// scope, 503), as the table says.
#[track_caller]
fn assert_refusal(reply: &TestResponse, status: u16, scope: Option<&str>) {
    match status {
        401 if scope == Some("missing") => assert_unauthenticated(reply),
        401 => assert_invalid_token(reply),
        403 => assert_forbidden(reply, scope),
        503 => assert_rejection(reply, 503, "unavailable", None),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn the_example_serves_a_providers_tokens_and_starts_while_it_is_down() {
    let provider = Provider::start(vec![jwk(&rsa_signing_key(), Algorithm::RS256, "k1")]).await;
    provider.set_mode(Mode::Down);
    let options = options(&provider, &[]);
    assert_eq!(options.addr, "127.0.0.1:3001".parse().unwrap());
    let gate = gate(&options);
    let router = app::router(gate.clone());

    // The audit it prints: every route with its policy, /health the only public one.
    let audit: Value = serde_json::from_str(&router.audit().to_json()).unwrap();
    let rows: Vec<(String, String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap().to_owned();
            (text("method"), text("path"), text("policy"))
        })
        .collect();
    let row = |m: &str, p: &str, policy: &str| (m.to_owned(), p.to_owned(), policy.to_owned());
    for expected in [
        row("GET", "/health", "public: load-balancer health check"),
        row("GET", "/api/me", "require_auth"),
        row("GET", "/api/invoices", "require_scope(invoices:read)"),
        row("POST", "/api/invoices", "require_scope(invoices:write)"),
        row("GET", "/api/admin", "require_role(admin)"),
    ] {
        assert!(rows.contains(&expected), "{expected:?} not in {rows:?}");
    }
    assert_eq!(rows.len(), 5, "{rows:?}");

    let app = client(router.into_axum());
    let reader = token(
        &provider,
        AUDIENCE,
        json!({"scope": "invoices:read", "client_id": "cli-7", "roles": ["admin"]}),
    );

    // Provider down: the Gate was built, /health answers, guarded routes 503 (never 401).
    assert!(!gate.ready(Duration::from_millis(200)).await);
    assert_ok(&app.get("/health").send().await, "ok\n");
    assert_refusal(&app.get("/api/me").bearer(&reader).send().await, 503, None);
    // Anonymous callers are told to authenticate whatever the keys' state.
    let anonymous = app.get("/api/me").send().await;
    assert_refusal(&anonymous, 401, Some("missing"));

    // Up: the keys are fetched in the background, without a restart.
    provider.set_mode(Mode::Up);
    assert!(gate.ready(Duration::from_secs(5)).await);
    assert!(provider.discovery_fetches.load(Ordering::SeqCst) >= 1);
    let me = app.get("/api/me").bearer(&reader).send().await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(
        me.json(),
        json!({"sub": "alice", "scopes": ["invoices:read"], "roles": ["admin"], "client_id": "cli-7"})
    );
    let list = app.get("/api/invoices").bearer(&reader).send().await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json()[0]["owner"], "alice");
    assert_eq!(
        app.get("/api/admin").bearer(&reader).send().await.text(),
        "admin area, alice\n"
    );

    // Writing needs `invoices:write`; without it the body is never read.
    let (request, read) = raw::post("/api/invoices")
        .bearer(&reader)
        .probed_body(
            "application/json",
            br#"{"amount_cents": 1, "description": "x"}"#,
        )
        .build();
    let refused = app.send(request).await;
    assert_refusal(&refused, 403, Some("invoices:write"));
    assert!(!read.unwrap().load(Ordering::SeqCst), "the body was read");
    let writer = token(&provider, AUDIENCE, json!({"scope": "invoices:write"}));
    let created = app
        .post("/api/invoices")
        .bearer(&writer)
        .json(&json!({"amount_cents": 990, "description": "Domains"}))
        .send()
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.json()["amount_cents"], 990);
    assert_refusal(
        &app.get("/api/invoices").bearer(&writer).send().await,
        403,
        Some("invoices:read"),
    );
    assert_refusal(
        &app.get("/api/admin").bearer(&writer).send().await,
        403,
        None,
    );
    assert_eq!(writer_me(&app, &writer).await, json!(null));

    // Another audience, another issuer, a key the provider does not publish: 401.
    let elsewhere = token(&provider, "another-api", json!({}));
    assert_refusal(
        &app.get("/api/me").bearer(&elsewhere).send().await,
        401,
        None,
    );
    let forged = sign(
        Algorithm::RS256,
        &jsonwebtoken::EncodingKey::from_rsa_pem(&pem("attacker_rsa_private.pem")).unwrap(),
        Some("k1"),
        &json!({"sub": "mallory", "iss": provider.issuer(), "aud": AUDIENCE, "exp": 4_000_000_000u64}),
    );
    assert_refusal(&app.get("/api/me").bearer(&forged).send().await, 401, None);
}

/// `client_id` of `/api/me` for this token.
async fn writer_me(app: &TestClient, token: &str) -> Value {
    let me = app.get("/api/me").bearer(token).send().await;
    assert_eq!(me.status, 200);
    me.json()["client_id"].clone()
}

/// `--roles-at` and `--provider` move where `/api/admin` reads roles: the top-level `roles`
/// then counts for nothing.
#[tokio::test]
async fn roles_are_read_where_the_flags_say() {
    let provider = Provider::start(vec![jwk(&rsa_signing_key(), Algorithm::RS256, "k1")]).await;
    let keycloak = json!({"realm_access": {"roles": ["admin"]}});
    let top_level = json!({"roles": ["admin"]});
    for flags in [
        &["--roles-at", "realm_access.roles"][..],
        &["--provider", "keycloak"][..],
    ] {
        let gate = gate(&options(&provider, flags));
        assert!(gate.ready(Duration::from_secs(5)).await);
        let app = client(app::router(gate).into_axum());
        let admin = token(&provider, AUDIENCE, keycloak.clone());
        let reply = app.get("/api/admin").bearer(&admin).send().await;
        assert_eq!(reply.status, 200, "{flags:?}");
        let not_admin = token(&provider, AUDIENCE, top_level.clone());
        let reply = app.get("/api/admin").bearer(&not_admin).send().await;
        assert_refusal(&reply, 403, None);
    }
}
