//! Keys from identity providers (feature `oidc`), against a test identity provider inside
//! this binary (`support::provider`): an axum server on 127.0.0.1 serving discovery and a
//! JWKS, which the test rotates, slows down, takes down or makes serve garbage. Issuer-bound
//! static keys are tested here too, since the rule is the same: a token's `iss` selects its
//! keys.
//!
//! Refresh bounds, staleness and rate limits are set in milliseconds, so nothing sleeps long;
//! waits poll with a deadline.

mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use authgate::issuers::{Issuer, KeyRefresh};
use authgate::keys::{Algorithm, Key, SigningKey};
use authgate::sessions::Sessions;
use authgate::{ConfigProblem, CurrentUser, Gate, GateBuilder, Identity, Router, require_auth};
use axum::extract::State;
use axum::http::StatusCode;
use jsonwebtoken::EncodingKey;
use serde_json::json;

use support::*;

const AUDIENCE: &str = "identity-tests";

// ---------------------------------------------------------------------------------------------
// Keys and tokens.

/// The RSA test key (`rsa_private.pem`) and the second RSA key (`attacker_rsa_private.pem`,
/// here the key a provider rotates to).
fn rsa_a() -> EncodingKey {
    rsa_signing_key()
}

fn rsa_b() -> EncodingKey {
    EncodingKey::from_rsa_pem(&pem("attacker_rsa_private.pem")).unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A valid token for `sub` from `iss`, signed with `key` for `alg` under `kid`.
fn token(iss: &str, key: &EncodingKey, alg: Algorithm, kid: &str, sub: &str) -> String {
    let now = now();
    let claims = json!({ "sub": sub, "iss": iss, "aud": AUDIENCE, "iat": now, "exp": now + 600 });
    sign(alg, key, Some(kid), &claims)
}

/// Refresh settings in milliseconds: refresh every `refresh`, keys usable for `staleness`,
/// unknown `kid`s fetch at most every `kid_interval`, fetches cut at 300 ms.
fn fast(refresh: u64, staleness: u64, kid_interval: u64) -> KeyRefresh {
    let ms = Duration::from_millis;
    KeyRefresh::default()
        .between(ms(refresh), ms(refresh))
        .max_staleness(ms(staleness))
        .unknown_kid_interval(ms(kid_interval))
        .timeouts(ms(200), ms(300))
}

fn builder() -> GateBuilder {
    Gate::builder().realm(REALM)
}

/// The issuer of `provider`, its keys fetched from its JWKS, audience `AUDIENCE`.
fn jwks_issuer(provider: &Provider) -> Issuer {
    Issuer::jwks(provider.issuer(), provider.jwks_url()).audience(AUDIENCE)
}

/// A Gate with the keys of `provider`'s JWKS, refreshed as `refresh` says.
fn jwks_gate(provider: &Provider, refresh: KeyRefresh) -> Gate {
    builder()
        .issuer(jwks_issuer(provider))
        .key_refresh(refresh)
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The app.

#[require_auth]
async fn me(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.subject().to_owned()
}

fn app(gate: Gate) -> (TestClient, Hits) {
    let state = AppState::new(gate);
    let hits = state.hits.clone();
    let app = Router::new()
        .route("/me", authgate::routing::get(me))
        .with_state(state)
        .into_axum();
    (client(app), hits)
}

async fn get_me(app: &TestClient, token: &str) -> TestResponse {
    app.get("/me").bearer(token).send().await
}

/// `token` is refused with 401 `invalid_token`, the handler did not run, and nothing logged
/// carries the token.
async fn assert_refused(app: &TestClient, hits: &Hits, token: &str) {
    let before = hits.count();
    let (logs, _guard) = capture_logs();
    let reply = get_me(app, token).await;
    assert_invalid_token(&reply);
    assert_eq!(hits.count(), before, "the handler ran for a refused token");
    assert_not_logged(&logs.contents(), token);
}

/// 503 `unavailable` (no challenge), the handler did not run, nothing logged carries the token.
async fn assert_unavailable(app: &TestClient, hits: &Hits, token: &str) {
    let before = hits.count();
    let (logs, _guard) = capture_logs();
    let reply = get_me(app, token).await;
    assert_rejection(&reply, 503, "unavailable", None);
    assert_eq!(hits.count(), before, "the handler ran without keys");
    assert_not_logged(&logs.contents(), token);
}

async fn assert_accepted(app: &TestClient, token: &str, sub: &str) {
    let reply = get_me(app, token).await;
    assert_ok(&reply, sub);
}

#[track_caller]
fn assert_not_logged(logs: &str, token: &str) {
    let signature = token.rsplit('.').next().unwrap();
    assert!(!logs.contains(token), "the token was logged:\n{logs}");
    assert!(
        !logs.contains(signature),
        "the signature was logged:\n{logs}"
    );
}

/// Polls `check` every 10 ms until it holds, for at most `within`.
async fn eventually(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Rotation.

/// A new `kid` is accepted as soon as it is published (the unknown `kid` fetches once), and
/// the removed key is refused after the next refresh, cached token included.
#[tokio::test]
async fn rotation_is_followed_without_a_restart() {
    let provider = Provider::start(vec![jwk(&rsa_a(), Algorithm::RS256, "k1")]).await;
    let gate = jwks_gate(&provider, fast(100, 60_000, 60_000));
    assert!(gate.ready(Duration::from_secs(5)).await);
    let (app, hits) = app(gate);
    let old = token(&provider.issuer(), &rsa_a(), Algorithm::RS256, "k1", "old");
    assert_accepted(&app, &old, "old").await;
    assert_accepted(&app, &old, "old").await; // and from the cache

    provider.set_keys(vec![
        jwk(&rsa_a(), Algorithm::RS256, "k1"),
        jwk(&rsa_b(), Algorithm::RS256, "k2"),
    ]);
    let new = token(&provider.issuer(), &rsa_b(), Algorithm::RS256, "k2", "new");
    assert_accepted(&app, &new, "new").await;

    provider.set_keys(vec![jwk(&rsa_b(), Algorithm::RS256, "k2")]);
    let refused = eventually(Duration::from_secs(3), async || {
        get_me(&app, &old).await.status == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(refused, "the removed key still verifies");
    assert_refused(&app, &hits, &old).await;
    assert_accepted(&app, &new, "new").await;
}

/// A thousand concurrent requests with a `kid` the keys do not have yet cause exactly one
/// fetch, and all of them are answered with the new key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_kid_storm_fetches_once() {
    let provider = Provider::start(vec![jwk(&rsa_a(), Algorithm::RS256, "k1")]).await;
    let gate = jwks_gate(&provider, fast(60_000, 120_000, 60_000));
    assert!(gate.ready(Duration::from_secs(5)).await);
    let (app, hits) = app(gate);
    assert_eq!(provider.fetches(), 1);
    provider.set_keys(vec![
        jwk(&rsa_a(), Algorithm::RS256, "k1"),
        jwk(&rsa_b(), Algorithm::RS256, "k2"),
    ]);
    let new = token(
        &provider.issuer(),
        &rsa_b(),
        Algorithm::RS256,
        "k2",
        "storm",
    );
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let (app, new) = (app.clone(), new.clone());
        requests.spawn(async move { get_me(&app, &new).await.status });
    }
    let mut statuses = Vec::new();
    while let Some(status) = requests.join_next().await {
        statuses.push(status.unwrap());
    }
    assert_eq!(
        provider.fetches(),
        2,
        "one fetch at start, one for the storm"
    );
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(hits.count(), 1000);

    // Within the rate limit, another unknown `kid` is refused at once, without a fetch.
    let unknown = token(&provider.issuer(), &rsa_b(), Algorithm::RS256, "k3", "late");
    assert_refused(&app, &hits, &unknown).await;
    assert_eq!(provider.fetches(), 2);
}

// ---------------------------------------------------------------------------------------------
// The provider down, slow, or serving what is not a key set.

/// Down at start: the Gate builds and guarded routes answer 503 (never 401); once the provider
/// is up, 200, without a restart.
#[tokio::test]
async fn provider_down_at_start_answers_503_then_200() {
    let provider = Provider::start(vec![jwk(&rsa_a(), Algorithm::RS256, "k1")]).await;
    provider.set_mode(Mode::Down);
    let gate = jwks_gate(&provider, fast(50, 60_000, 60_000));
    assert!(!gate.ready(Duration::from_millis(200)).await);
    let (app, hits) = app(gate.clone());
    let valid = token(
        &provider.issuer(),
        &rsa_a(),
        Algorithm::RS256,
        "k1",
        "early",
    );
    assert_unavailable(&app, &hits, &valid).await;
    // A forged token is not told apart from a valid one before the keys are known.
    let forged = token(
        &provider.issuer(),
        &rsa_b(),
        Algorithm::RS256,
        "k1",
        "early",
    );
    assert_unavailable(&app, &hits, &forged).await;

    provider.set_mode(Mode::Up);
    assert!(gate.ready(Duration::from_secs(5)).await);
    assert_accepted(&app, &valid, "early").await;
    assert_refused(&app, &hits, &forged).await;
}

/// Down later: the last good keys stay in use (fresh and cached tokens alike) until the
/// staleness bound, then 503; back up, 200 again.
#[tokio::test]
async fn provider_down_later_keeps_keys_until_the_staleness_bound() {
    let provider = Provider::start(vec![jwk(&rsa_a(), Algorithm::RS256, "k1")]).await;
    let gate = jwks_gate(&provider, fast(50, 800, 60_000));
    assert!(gate.ready(Duration::from_secs(5)).await);
    let (app, hits) = app(gate.clone());
    let cached = token(
        &provider.issuer(),
        &rsa_a(),
        Algorithm::RS256,
        "k1",
        "cached",
    );
    assert_accepted(&app, &cached, "cached").await;

    provider.set_mode(Mode::Down);
    let down_at = Instant::now();
    let fetches = provider.fetches();
    assert!(
        eventually(Duration::from_secs(2), async || provider.fetches()
            > fetches)
        .await
    );
    let fresh = token(
        &provider.issuer(),
        &rsa_a(),
        Algorithm::RS256,
        "k1",
        "fresh",
    );
    assert_accepted(&app, &fresh, "fresh").await;
    assert_accepted(&app, &cached, "cached").await;

    let stale = eventually(Duration::from_secs(3), async || {
        get_me(&app, &cached).await.status == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    assert!(stale, "stale keys still in use");
    assert!(
        down_at.elapsed() >= Duration::from_millis(600),
        "503 before the staleness bound"
    );
    assert_unavailable(&app, &hits, &cached).await;
    assert_unavailable(&app, &hits, &fresh).await;

    provider.set_mode(Mode::Up);
    assert!(gate.ready(Duration::from_secs(5)).await);
    assert_accepted(&app, &cached, "cached").await;
}

/// A key set that is not JSON, or larger than 64 KiB, is refused and logged; the previous
/// keys stay in use.
#[tokio::test]
async fn invalid_and_oversized_key_sets_keep_the_previous_keys() {
    let provider = Provider::start(vec![jwk(&rsa_a(), Algorithm::RS256, "k1")]).await;
    let (logs, _guard) = capture_logs();
    let gate = jwks_gate(&provider, fast(30, 60_000, 60_000));
    assert!(gate.ready(Duration::from_secs(5)).await);
    let (app, _hits) = app(gate);
    let valid = token(&provider.issuer(), &rsa_a(), Algorithm::RS256, "k1", "kept");
    for mode in [Mode::Garbage, Mode::Oversized] {
        provider.set_mode(mode);
        let fetches = provider.fetches();
        assert!(
            eventually(Duration::from_secs(2), async || provider.fetches()
                >= fetches + 2)
            .await
        );
        assert_accepted(&app, &valid, "kept").await;
    }
    let logs = logs.contents();
    assert_logged(
        &logs,
        &["issuer keys not fetched", "not a JWKS JSON object"],
    );
    assert_logged(
        &logs,
        &["issuer keys not fetched", "larger than 65536 bytes"],
    );
}

/// A token for `sub` from `iss` signed with the 1024-bit RSA key of
/// `tests/keys/rsa1024_private.jwk.json` under `kid` "weak": RS256 written out (RFC 8017,
/// RSASSA-PKCS1-v1_5 over SHA-256), because aws-lc-rs will not sign with a key that small.
fn weak_token(iss: &str, sub: &str) -> String {
    use base64::Engine as _;
    use num_bigint::BigUint;
    let jwk: serde_json::Value = serde_json::from_slice(&pem("rsa1024_private.jwk.json")).unwrap();
    let int = |name: &str| {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwk[name].as_str().unwrap())
            .unwrap();
        BigUint::from_bytes_be(&bytes)
    };
    let (n, d) = (int("n"), int("d"));
    let now = now();
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": "weak" });
    let claims = json!({ "sub": sub, "iss": iss, "aud": AUDIENCE, "iat": now, "exp": now + 600 });
    let message = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    // EMSA-PKCS1-v1_5: 00 01 FF..FF 00, then SHA-256's DigestInfo prefix and the hash, as long
    // as the modulus.
    const SHA256_INFO: [u8; 19] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message.as_bytes());
    let size = n.to_bytes_be().len();
    let mut encoded = vec![0x00, 0x01];
    encoded.resize(size - SHA256_INFO.len() - hash.as_ref().len() - 1, 0xff);
    encoded.push(0x00);
    encoded.extend_from_slice(&SHA256_INFO);
    encoded.extend_from_slice(hash.as_ref());
    let raw = BigUint::from_bytes_be(&encoded)
        .modpow(&d, &n)
        .to_bytes_be();
    let mut signature = vec![0; size - raw.len()];
    signature.extend_from_slice(&raw);
    // The signature is genuine: aws-lc-rs's legacy 1024-bit verifier accepts it.
    let public = jsonwebtoken::DecodingKey::from_rsa_pem(&pem("rsa1024_public.pem")).unwrap();
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        public.try_get_as_bytes().unwrap(),
    )
    .verify(message.as_bytes(), &signature)
    .expect("the hand-made RS256 signature verifies");
    format!("{message}.{}", b64url(&signature))
}

/// The public JWK of the 1024-bit key, `kid` "weak", for RS256.
fn weak_jwk() -> serde_json::Value {
    let mut jwk: serde_json::Value =
        serde_json::from_slice(&pem("rsa1024_private.jwk.json")).unwrap();
    jwk.as_object_mut().unwrap().remove("d");
    jwk["kid"] = "weak".into();
    jwk["alg"] = "RS256".into();
    jwk["use"] = "sig".into();
    jwk
}

/// Fetched keys are held to the size rule of configured keys: an RSA key under 2048 bits is
/// skipped (logged, without its material), and a key set rotated to only such a key is a
/// failed refresh: the previous keys stay in force, and the weak key verifies nothing.
#[tokio::test]
async fn a_key_set_of_weak_keys_keeps_the_previous_keys() {
    let provider = Provider::start(vec![jwk(&rsa_a(), Algorithm::RS256, "k1")]).await;
    let gate = jwks_gate(&provider, fast(30, 60_000, 60_000));
    assert!(gate.ready(Duration::from_secs(5)).await);
    let (app, hits) = app(gate);
    let valid = token(&provider.issuer(), &rsa_a(), Algorithm::RS256, "k1", "kept");
    let weak = weak_token(&provider.issuer(), "weak");
    assert_accepted(&app, &valid, "kept").await;

    // Beside a good key, the weak one is skipped.
    provider.set_keys(vec![jwk(&rsa_a(), Algorithm::RS256, "k1"), weak_jwk()]);
    let fetches = provider.fetches();
    assert!(
        eventually(Duration::from_secs(2), async || provider.fetches()
            >= fetches + 2)
        .await
    );
    assert_accepted(&app, &valid, "kept").await;
    assert_refused(&app, &hits, &weak).await;

    // Only the weak key: the set is refused, the good key stays.
    let (logs, guard) = capture_logs();
    provider.set_keys(vec![weak_jwk()]);
    let fetches = provider.fetches();
    assert!(
        eventually(Duration::from_secs(2), async || provider.fetches()
            >= fetches + 2)
        .await
    );
    assert_accepted(&app, &valid, "kept").await;
    let logs = logs.contents();
    drop(guard);
    assert_logged(
        &logs,
        &["JWKS key skipped", "weak", "an RSA key under 2048"],
    );
    assert_logged(
        &logs,
        &["issuer keys not fetched", "no signature key usable"],
    );
    let modulus = weak_jwk()["n"].as_str().unwrap().to_owned();
    assert!(!logs.contains(&modulus[..40]), "key material logged");
    assert_refused(&app, &hits, &weak).await;
}

/// A provider slower than the timeout: each fetch is cut short (several attempts in the time
/// one slow answer would take), requests answer 503 at once instead of waiting for it.
#[tokio::test]
async fn a_slow_provider_times_out() {
    let provider = Provider::start(vec![jwk(&rsa_a(), Algorithm::RS256, "k1")]).await;
    provider.set_mode(Mode::Slow(Duration::from_secs(5)));
    let gate = jwks_gate(&provider, fast(50, 60_000, 60_000));
    let (app, hits) = app(gate.clone());
    let valid = token(&provider.issuer(), &rsa_a(), Algorithm::RS256, "k1", "slow");
    let started = Instant::now();
    assert_unavailable(&app, &hits, &valid).await;
    // The provider answers after 5 s: well under that proves no request waits for it.
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "a request waited for the provider"
    );
    assert!(eventually(Duration::from_secs(2), async || provider.fetches() >= 3).await);
    assert!(!gate.ready(Duration::from_millis(10)).await);
    provider.set_mode(Mode::Up);
    assert!(gate.ready(Duration::from_secs(5)).await);
    assert_accepted(&app, &valid, "slow").await;
}

// ---------------------------------------------------------------------------------------------
// Discovery.

/// OpenID Connect Discovery: the JWKS comes from the document's `jwks_uri`.
#[tokio::test]
async fn discovery_finds_the_key_set() {
    let provider = Provider::start(vec![jwk(&rsa_a(), Algorithm::RS256, "k1")]).await;
    let gate = builder()
        .issuer(Issuer::discover(provider.issuer()).audience(AUDIENCE))
        .key_refresh(fast(60_000, 120_000, 60_000))
        .build()
        .unwrap();
    assert!(gate.ready(Duration::from_secs(5)).await);
    let (app, _hits) = app(gate);
    let valid = token(
        &provider.issuer(),
        &rsa_a(),
        Algorithm::RS256,
        "k1",
        "found",
    );
    assert_accepted(&app, &valid, "found").await;
    assert_eq!(provider.discovery_fetches.load(Ordering::SeqCst), 1);
}

/// A discovery document that names another issuer is refused: its keys are never fetched,
/// and the issuer's tokens answer 503.
#[tokio::test]
async fn discovery_naming_another_issuer_is_refused() {
    let provider = Provider::start(vec![jwk(&rsa_a(), Algorithm::RS256, "k1")]).await;
    provider.state.lock().unwrap().discovery_issuer = Some(format!("{}/other", provider.issuer()));
    let (logs, _guard) = capture_logs();
    let gate = builder()
        .issuer(Issuer::discover(provider.issuer()).audience(AUDIENCE))
        .key_refresh(fast(30, 60_000, 60_000))
        .build()
        .unwrap();
    assert!(!gate.ready(Duration::from_millis(300)).await);
    assert!(provider.discovery_fetches.load(Ordering::SeqCst) >= 2);
    assert_eq!(
        provider.fetches(),
        0,
        "the JWKS of a mismatched document was fetched"
    );
    let (app, hits) = app(gate);
    let valid = token(&provider.issuer(), &rsa_a(), Algorithm::RS256, "k1", "x");
    assert_unavailable(&app, &hits, &valid).await;
    assert_logged(
        &logs.contents(),
        &["issuer keys not fetched", "names the issuer"],
    );
}

// ---------------------------------------------------------------------------------------------
// Keys bound to issuers and algorithms.

/// Issuer A's key never verifies a token claiming issuer B, with fetched and static keys
/// alike; an issuer that is not configured is refused.
#[tokio::test]
async fn a_key_of_one_issuer_never_verifies_another() {
    let provider = Provider::start(vec![jwk(&rsa_a(), Algorithm::RS256, "a1")]).await;
    let issuer_a = provider.issuer();
    let issuer_b = "https://tenant-b.example.test";
    let ec_public = Key::from_pem(Algorithm::ES256, pem("ec256_public.pem")).unwrap();
    let gate = builder()
        .issuer(jwks_issuer(&provider))
        .issuer(
            Issuer::new(issuer_b)
                .key(ec_public.with_kid("b1"))
                .audience(AUDIENCE),
        )
        .key_refresh(fast(60_000, 120_000, 60_000))
        .build()
        .unwrap();
    assert!(gate.ready(Duration::from_secs(5)).await);
    let (app, hits) = app(gate);
    let ec = ec256_signing_key();
    assert_accepted(
        &app,
        &token(&issuer_a, &rsa_a(), Algorithm::RS256, "a1", "a"),
        "a",
    )
    .await;
    assert_accepted(
        &app,
        &token(issuer_b, &ec, Algorithm::ES256, "b1", "b"),
        "b",
    )
    .await;
    // A's key claiming B, B's key claiming A, and either claiming an unknown issuer.
    for forged in [
        token(issuer_b, &rsa_a(), Algorithm::RS256, "a1", "b"),
        token(&issuer_a, &ec, Algorithm::ES256, "b1", "a"),
        token(
            "https://elsewhere.example.test",
            &rsa_a(),
            Algorithm::RS256,
            "a1",
            "a",
        ),
    ] {
        assert_refused(&app, &hits, &forged).await;
    }
    // No `iss` at all, and `iss` twice (the first for the key, the second for the claims).
    let now = now();
    let no_iss = json!({ "sub": "a", "aud": AUDIENCE, "iat": now, "exp": now + 600 });
    assert_refused(
        &app,
        &hits,
        &sign(Algorithm::RS256, &rsa_a(), Some("a1"), &no_iss),
    )
    .await;
    let twice = format!(
        r#"{{"sub":"a","iss":"{issuer_a}","iss":"{issuer_b}","aud":"{AUDIENCE}","exp":{}}}"#,
        now + 600
    );
    let header = r#"{"alg":"RS256","kid":"a1"}"#;
    let twice = sign_raw(header, twice.as_bytes(), Algorithm::RS256, &rsa_a());
    assert_refused(&app, &hits, &twice).await;
}

/// A JWK whose `alg` is PS256 does not verify an RS256 token under its `kid`, though the key
/// is the same.
#[tokio::test]
async fn the_jwk_alg_binds_the_key() {
    let provider = Provider::start(vec![jwk(&rsa_a(), Algorithm::PS256, "k1")]).await;
    let gate = jwks_gate(&provider, fast(60_000, 120_000, 60_000));
    assert!(gate.ready(Duration::from_secs(5)).await);
    let (app, hits) = app(gate);
    let ps = token(&provider.issuer(), &rsa_a(), Algorithm::PS256, "k1", "ps");
    assert_accepted(&app, &ps, "ps").await;
    let rs = token(&provider.issuer(), &rsa_a(), Algorithm::RS256, "k1", "rs");
    assert_refused(&app, &hits, &rs).await;
}

/// A stateless session cookie is verified with the session key alone: that key verifies no
/// bearer token, whatever issuer the token claims (a Gate with issuers and stateless cookies
/// builds), and an issuer's key verifies no cookie. Only an issuer given the same key accepts
/// bearer tokens signed with it, under its own name and rules.
#[tokio::test]
async fn a_stateless_session_key_verifies_only_session_cookies() {
    let provider = Provider::start(vec![jwk(&rsa_a(), Algorithm::RS256, "k1")]).await;
    let session_key = || SigningKey::hmac(Algorithm::HS256, SECRET).unwrap();
    let gate = builder()
        .issuer(jwks_issuer(&provider))
        .sessions(Sessions::stateless(COOKIE, session_key()))
        .key_refresh(fast(60_000, 120_000, 60_000))
        .build()
        .expect("issuers and stateless cookies together");
    assert!(gate.ready(Duration::from_secs(5)).await);
    let cookie = login_cookie(&gate, Identity::new("carol")).await;
    let (mixed, hits) = app(gate);
    let reply = mixed.get("/me").cookie(&cookie).send().await;
    assert_ok(&reply, "carol");
    assert_accepted(
        &mixed,
        &token(&provider.issuer(), &rsa_a(), Algorithm::RS256, "k1", "a"),
        "a",
    )
    .await;

    // Bearer tokens signed with the session key: claiming the configured issuer, another
    // one, or none.
    let session_signer = hs_signing_key();
    let now = now();
    let no_iss = json!({ "sub": "m", "aud": AUDIENCE, "iat": now, "exp": now + 600 });
    let claiming = |iss: &str| {
        let claims =
            json!({ "sub": "m", "iss": iss, "aud": AUDIENCE, "iat": now, "exp": now + 600 });
        sign(Algorithm::HS256, &session_signer, None, &claims)
    };
    for forged in [
        claiming(&provider.issuer()),
        token(
            &provider.issuer(),
            &session_signer,
            Algorithm::HS256,
            "k1",
            "m",
        ),
        claiming(ISS),
        sign(Algorithm::HS256, &session_signer, None, &no_iss),
        // The cookie's own JWT presented as a bearer token.
        cookie_value(&cookie).to_owned(),
    ] {
        assert_refused(&mixed, &hits, &forged).await;
    }
    // The issuer's key does not make a cookie: a bearer token of the issuer sent as the
    // cookie is refused.
    let issuer_token = token(&provider.issuer(), &rsa_a(), Algorithm::RS256, "k1", "a");
    let before = hits.count();
    let reply = mixed
        .get("/me")
        .cookie(&format!("{COOKIE}={issuer_token}"))
        .send()
        .await;
    assert_invalid_token(&reply);
    assert_eq!(hits.count(), before, "the handler ran for a forged cookie");

    // An issuer that has the session key as its secret accepts bearer tokens signed with it,
    // under its name only; the cookie still works.
    let gate = builder()
        .issuer(Issuer::new(ISS).secret(SECRET).audience(AUDIENCE))
        .sessions(Sessions::stateless(COOKIE, session_key()))
        .build()
        .unwrap();
    let cookie = login_cookie(&gate, Identity::new("carol")).await;
    let (shared, hits) = app(gate);
    assert_ok(&shared.get("/me").cookie(&cookie).send().await, "carol");
    assert_accepted(&shared, &claiming(ISS), "m").await;
    assert_refused(&shared, &hits, &claiming(&provider.issuer())).await;
}

/// What `build()` refuses, each problem in the flat list: plain HTTP to a non-loopback host,
/// an issuer with no keys at all (every key belongs to a named issuer), an HMAC secret next
/// to fetched public keys, one issuer configured twice (static and fetched keys).
#[test]
fn unsafe_configurations_are_refused() {
    let rsa = || Key::from_pem(Algorithm::RS256, pem("rsa_public.pem")).unwrap();
    let err = builder()
        .issuer(Issuer::jwks(
            "https://login.example.test",
            "http://login.example.test/jwks.json",
        ))
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err.problems(),
            [ConfigProblem::KeyUrl { url, .. }] if url == "http://login.example.test/jwks.json"
        ),
        "{err}"
    );
    assert!(err.to_string().contains("HTTPS"), "{err}");
    let err = builder()
        .issuer(Issuer::new("https://a.example.test").audience(AUDIENCE))
        .build()
        .unwrap_err();
    assert_eq!(
        err.problems(),
        [ConfigProblem::NoKeys {
            issuer: "https://a.example.test".into()
        }]
    );
    let err = builder()
        .issuer(
            Issuer::jwks("https://a.example.test", "https://a.example.test/jwks")
                .key(Key::hmac(Algorithm::HS256, SECRET).unwrap()),
        )
        .build()
        .unwrap_err();
    assert_eq!(
        err.problems(),
        [ConfigProblem::MixedFamilies {
            issuer: "https://a.example.test".into()
        }]
    );
    let err = builder()
        .issuer(Issuer::new("https://a.example.test").key(rsa()))
        .issuer(Issuer::jwks(
            "https://a.example.test",
            "https://a.example.test/jwks",
        ))
        .build()
        .unwrap_err();
    assert_eq!(
        err.problems(),
        [ConfigProblem::DuplicateIssuer {
            issuer: "https://a.example.test".into()
        }]
    );
    assert!(err.to_string().contains("configured twice"), "{err}");
}
