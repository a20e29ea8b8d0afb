//! Every supported algorithm verifies, through HTTP, and the same token with one byte of its
//! signature changed does not. Every refused token (and its control) lives in the security
//! suite, `tests/security/jwt.rs`.

mod support;

use authgate::{Algorithm, CurrentUser, Gate, Key, Router, require_auth, routing::get};
use axum::extract::State;
use jsonwebtoken::EncodingKey;

use support::*;

#[require_auth]
async fn me(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.subject().to_owned()
}

fn app_with(gate: Gate) -> (TestClient, Hits) {
    let state = AppState::new(gate);
    let hits = state.hits.clone();
    let app = Router::new()
        .route("/me", get(me))
        .with_state(state)
        .into_axum();
    (client(app), hits)
}

/// Sends `token` to a guarded route and asserts 401 `invalid_token` (the token-level
/// challenge, not the header-level `invalid_request`) with the handler not run.
async fn assert_refused(gate: Gate, token: &str) {
    let (app, hits) = app_with(gate);
    let reply = app.get("/me").bearer(token).send().await;
    assert_invalid_token(&reply);
    assert_eq!(hits.count(), 0, "the handler ran for {token}");
}

/// Sends `token` and asserts the handler answered with `sub`.
async fn assert_accepted(gate: Gate, token: &str, sub: &str) {
    let (app, hits) = app_with(gate);
    let reply = app.get("/me").bearer(token).send().await;
    assert_ok(&reply, sub);
    assert_eq!(hits.count(), 1);
}

// ---------------------------------------------------------------------------------------------
// Every algorithm verifies

async fn assert_algorithm(alg: Algorithm, key: Key, signing: EncodingKey) {
    let gate = keyless_gate_builder().key(key).build().unwrap();
    let t = sign(alg, &signing, None, &claims("alice"));
    assert_eq!(
        jsonwebtoken::decode_header(&t).unwrap().alg,
        alg,
        "minted with the wrong algorithm"
    );
    assert_accepted(gate.clone(), &t, "alice").await;
    // The same claims with one byte of the signature flipped do not.
    let (header, payload, signature) = parts(&t);
    let mut sig = signature.as_bytes().to_vec();
    sig[3] = if sig[3] == b'A' { b'B' } else { b'A' };
    let bad = format!("{header}.{payload}.{}", String::from_utf8(sig).unwrap());
    assert_refused(gate, &bad).await;
}

#[tokio::test]
async fn hs256_verifies() {
    let secret = [0x11u8; 32];
    let key = Key::hmac(Algorithm::HS256, secret).unwrap();
    assert_algorithm(Algorithm::HS256, key, EncodingKey::from_secret(&secret)).await;
}

#[tokio::test]
async fn hs384_verifies() {
    let secret = [0x22u8; 48];
    let key = Key::hmac(Algorithm::HS384, secret).unwrap();
    assert_algorithm(Algorithm::HS384, key, EncodingKey::from_secret(&secret)).await;
}

#[tokio::test]
async fn hs512_verifies() {
    let secret = [0x33u8; 64];
    let key = Key::hmac(Algorithm::HS512, secret).unwrap();
    assert_algorithm(Algorithm::HS512, key, EncodingKey::from_secret(&secret)).await;
}

#[tokio::test]
async fn rsa_algorithms_verify() {
    for alg in [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ] {
        let key = Key::from_pem(alg, pem("rsa_public.pem")).unwrap();
        assert_algorithm(alg, key, rsa_signing_key()).await;
    }
}

#[tokio::test]
async fn es256_verifies() {
    let key = Key::from_pem(Algorithm::ES256, pem("ec256_public.pem")).unwrap();
    assert_algorithm(Algorithm::ES256, key, ec256_signing_key()).await;
}

#[tokio::test]
async fn es384_verifies() {
    let key = Key::from_pem(Algorithm::ES384, pem("ec384_public.pem")).unwrap();
    assert_algorithm(Algorithm::ES384, key, ec384_signing_key()).await;
}

#[tokio::test]
async fn eddsa_verifies() {
    let key = Key::from_pem(Algorithm::EdDSA, pem("ed25519_public.pem")).unwrap();
    assert_algorithm(Algorithm::EdDSA, key, ed25519_signing_key()).await;
}
