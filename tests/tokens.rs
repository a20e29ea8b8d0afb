//! Every supported algorithm verifies, through HTTP, and the same token with one byte of its
//! signature changed does not; the tokens a Gate issues itself round-trip through each. Every refused token (and its control) lives in the security
//! suite, `tests/security/jwt.rs`.

mod support;

use std::time::Duration;

use authgate::issuers::Issuer;
use authgate::keys::{Algorithm, Key, SigningKey};
use authgate::revocation::Revocations;
use authgate::store::MemoryStore;
use authgate::{
    ConfigProblem, CurrentUser, Gate, Identity, RejectionKind, Router, require_auth, routing::get,
};
use axum::extract::State;
use axum::response::IntoResponse;
use jsonwebtoken::EncodingKey;
use serde_json::json;

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

/// A Gate whose one issuer is the test issuer (`ISS`, audience `AUD`) verifying with `key`.
fn verifying_gate(key: Key) -> Gate {
    keyless_gate_builder()
        .issuer(Issuer::new(ISS).key(key).audience(AUD))
        .build()
        .unwrap()
}

async fn assert_algorithm(alg: Algorithm, key: Key, signing: EncodingKey) {
    let gate = verifying_gate(key);
    let t = sign(alg, &signing, None, &claims("alice"));
    assert_eq!(
        jsonwebtoken::decode_header(&t).unwrap().alg,
        jwa(alg),
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

// ---------------------------------------------------------------------------------------------
// Issuing (issue 17): tokens the Gate signs itself, from the key it verifies with

/// The test issuer (`ISS`, audience `AUD`) signing with `key` (and verifying with its public
/// half, which `signing_key` adds), its roles at `realm_access.roles`.
fn issuing_issuer(key: SigningKey) -> Issuer {
    Issuer::new(ISS)
        .signing_key(key)
        .audience(AUD)
        .roles_claim("/realm_access/roles")
}

/// A Gate of the test issuer and audience that issues with `key`.
fn issuing_gate(key: SigningKey) -> Gate {
    keyless_gate_builder()
        .issuer(issuing_issuer(key))
        .build()
        .expect("an issuing Gate")
}

/// The decoded JSON of a token's part.
fn decoded(part: &str) -> serde_json::Value {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// `gate` issues a token for alice that it accepts over HTTP, with the claims at the Gate's
/// places; one byte of its signature changed, it is refused.
async fn assert_issues(gate: Gate, alg: Algorithm) {
    let user = Identity::new("alice")
        .roles(["admin", "staff"])
        .scopes(["notes:read"])
        .claim("email", "alice@example.com");
    let tokens = gate.issue(&user).await.expect("issued");
    let token = tokens.access_token();
    let (header, payload, signature) = parts(token);
    let header = decoded(header);
    assert_eq!(header["alg"], format!("{alg:?}"));
    assert_eq!(header["typ"], "at+jwt");
    let claims = decoded(payload);
    assert_eq!(claims["iss"], ISS);
    assert_eq!(claims["aud"], AUD);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["realm_access"]["roles"], json!(["admin", "staff"]));
    assert_eq!(claims["scope"], "notes:read");
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["iat"], NOW);
    assert_eq!(claims["exp"], NOW + 15 * 60);
    assert_eq!(claims["jti"], tokens.token_id());
    assert_eq!(tokens.token_id().len(), 22, "128 random bits");
    assert_eq!(tokens.issued_at(), at(NOW));
    assert_eq!(tokens.expires_at(), at(NOW + 15 * 60));
    assert_eq!(tokens.expires_in(), Duration::from_secs(15 * 60));
    assert_eq!(tokens.refresh_token(), None, "no refresh tokens configured");
    assert_ne!(
        gate.issue(&user).await.unwrap().token_id(),
        tokens.token_id(),
        "a random jti"
    );
    assert_accepted(gate.clone(), token, "alice").await;
    let mut sig = signature.as_bytes().to_vec();
    sig[3] = if sig[3] == b'A' { b'B' } else { b'A' };
    let (h, p, _) = parts(token);
    let bad = format!("{h}.{p}.{}", String::from_utf8(sig).unwrap());
    assert_refused(gate, &bad).await;
}

#[tokio::test]
async fn issued_tokens_round_trip_through_every_algorithm_family() {
    // An HS256 issuer's `secret` both signs and verifies: no separate signing key.
    let gate = keyless_gate_builder()
        .issuer(
            Issuer::new(ISS)
                .secret([0x11u8; 32])
                .audience(AUD)
                .roles_claim("/realm_access/roles"),
        )
        .build()
        .unwrap();
    assert_issues(gate, Algorithm::HS256).await;
    for (alg, secret) in [
        (Algorithm::HS256, vec![0x11u8; 32]),
        (Algorithm::HS384, vec![0x22; 48]),
        (Algorithm::HS512, vec![0x33; 64]),
    ] {
        let explicit = SigningKey::hmac(alg, &secret).unwrap();
        assert_issues(issuing_gate(explicit.clone()), alg).await;
        // The same secret also given as a verification key under the signing key's kid: one
        // key, which signs and verifies.
        let gate = keyless_gate_builder()
            .issuer(
                issuing_issuer(explicit.with_kid("h1"))
                    .key(Key::hmac(alg, &secret).unwrap().with_kid("h1")),
            )
            .build()
            .unwrap();
        assert_issues(gate, alg).await;
    }
    for alg in [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ] {
        let key = SigningKey::from_pem(alg, pem("rsa_private.pem")).unwrap();
        assert_issues(issuing_gate(key), alg).await;
    }
    for (alg, file) in [
        (Algorithm::ES256, "ec256_private.pk8.pem"),
        (Algorithm::ES384, "ec384_private.pem"),
        (Algorithm::EdDSA, "ed25519_private.pem"),
    ] {
        let key = SigningKey::from_pem(alg, pem(file)).unwrap();
        assert_issues(issuing_gate(key.clone()), alg).await;
        // With a kid, and the public key given too under that kid: one key, not two.
        let public = match alg {
            Algorithm::ES256 => "ec256_public.pem",
            Algorithm::ES384 => "ec384_public.pem",
            _ => "ed25519_public.pem",
        };
        let gate = keyless_gate_builder()
            .issuer(
                issuing_issuer(key.with_kid("k1"))
                    .key(Key::from_pem(alg, pem(public)).unwrap().with_kid("k1")),
            )
            .build()
            .unwrap();
        let tokens = gate.issue(&Identity::new("alice")).await.unwrap();
        assert_eq!(decoded(parts(tokens.access_token()).0)["kid"], "k1");
        assert_issues(gate, alg).await;
    }
}

#[tokio::test]
async fn a_token_issued_by_one_gate_is_refused_by_a_gate_of_another_key_issuer_or_audience() {
    let a = gate();
    let tokens = a.issue(&Identity::new("alice")).await.unwrap();
    let token = tokens.access_token();
    assert_eq!(
        decoded(parts(token).1)["iss"],
        ISS,
        "iss is the issuer's name"
    );
    assert_accepted(a, token, "alice").await;
    let other_key = keyless_gate_builder()
        .issuer(Issuer::new(ISS).secret([0x44u8; 32]).audience(AUD))
        .build()
        .unwrap();
    assert_refused(other_key, token).await;
    let other_audience = keyless_gate_builder()
        .issuer(Issuer::new(ISS).secret(SECRET).audience("another-api"))
        .build()
        .unwrap();
    assert_refused(other_audience, token).await;
    // The same secret under another issuer name: a token must carry `iss` = the name of the
    // issuer whose keys verify it.
    let other_issuer = keyless_gate_builder()
        .issuer(
            Issuer::new("https://other.example.test")
                .secret(SECRET)
                .audience(AUD),
        )
        .build()
        .unwrap();
    assert_refused(other_issuer, token).await;
    let rsa = issuing_gate(SigningKey::from_pem(Algorithm::RS256, pem("rsa_private.pem")).unwrap());
    let tokens = rsa.issue(&Identity::new("alice")).await.unwrap();
    let attacker = issuing_gate(
        SigningKey::from_pem(Algorithm::RS256, pem("attacker_rsa_private.pem")).unwrap(),
    );
    assert_refused(attacker, tokens.access_token()).await;
}

#[tokio::test]
async fn a_gate_of_public_keys_only_cannot_issue_and_says_so() {
    let gate = rs256_gate();
    let error = gate.issue(&Identity::new("alice")).await.unwrap_err();
    assert_eq!(error.kind(), &RejectionKind::Misconfigured, "{error:?}");
    let text = error.to_string();
    assert!(text.starts_with("500 internal_error: "), "{text}");
    assert!(text.contains("Issuer::signing_key"), "{text}");
    let reply = error.into_response();
    assert_eq!(reply.status(), 500);
    let error = authgate::testing::Minter::new(&gate)
        .err()
        .expect("no minter");
    assert!(
        matches!(
            error.problems(),
            [ConfigProblem::Missing {
                needed_by: "Minter::new",
                ..
            }]
        ),
        "{error}"
    );
    // An HMAC secret given as a verification key (`Issuer::key`) only verifies: the Gate
    // issues with `Issuer::secret` or `Issuer::signing_key`, never with a `Key`.
    let verifying_only = verifying_gate(Key::hmac(Algorithm::HS256, SECRET).unwrap());
    let error = verifying_only
        .issue(&Identity::new("alice"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), &RejectionKind::Misconfigured, "{error:?}");
    // A signing key that is not the private half of the key of its kid is refused at build.
    let error = keyless_gate_builder()
        .issuer(
            Issuer::new(ISS)
                .key(
                    Key::from_pem(Algorithm::RS256, pem("rsa_public.pem"))
                        .unwrap()
                        .with_kid("k1"),
                )
                .signing_key(
                    SigningKey::from_pem(Algorithm::RS256, pem("attacker_rsa_private.pem"))
                        .unwrap()
                        .with_kid("k1"),
                ),
        )
        .build()
        .unwrap_err();
    assert_eq!(
        error.problems(),
        [ConfigProblem::SigningKeyMismatch {
            issuer: ISS.to_owned()
        }],
        "{error}"
    );
    // A token lifetime the Gate itself would refuse is refused at build.
    let error = gate_builder()
        .max_lifetime(Duration::from_secs(600))
        .token_lifetime(Duration::from_secs(601))
        .build()
        .unwrap_err();
    assert_eq!(
        error.problems(),
        [ConfigProblem::TokenLifetimeTooLong {
            lifetime: Duration::from_secs(601),
            max_lifetime: Duration::from_secs(600),
        }],
        "{error}"
    );
    assert!(error.to_string().contains("max_lifetime"), "{error}");
}

/// `revoke_user` refuses what was issued up to the end of its second; a login right after it
/// (a password change, then a new token) gets a token the Gate accepts, on the same clock.
#[tokio::test]
async fn a_token_issued_right_after_revoking_its_subject_is_accepted() {
    let gate = gate_builder()
        .revocations(Revocations::new(MemoryStore::new()))
        .build()
        .unwrap();
    assert!(gate.ready(Duration::from_secs(5)).await);
    let before = gate.issue(&Identity::new("alice")).await.unwrap();
    gate.revoke_user("alice").await.unwrap();
    let after = gate.issue(&Identity::new("alice")).await.unwrap();
    assert_eq!(before.issued_at(), at(NOW));
    assert_eq!(after.issued_at(), at(NOW + 1), "stamped with the cutoff");
    assert_eq!(
        after.expires_at(),
        at(NOW + 15 * 60),
        "no longer than its lifetime from now"
    );
    assert_refused(gate.clone(), before.access_token()).await;
    assert_accepted(gate.clone(), after.access_token(), "alice").await;
    // Other subjects are not moved.
    assert_eq!(
        gate.issue(&Identity::new("bob")).await.unwrap().issued_at(),
        at(NOW)
    );
    // Revoking again in the same second ends the token issued since, stamped with the first
    // cutoff, and the next one is stamped past the second.
    gate.revoke_user("alice").await.unwrap();
    assert_refused(gate.clone(), after.access_token()).await;
    let again = gate.issue(&Identity::new("alice")).await.unwrap();
    assert_eq!(again.issued_at(), at(NOW + 2));
    assert_accepted(gate.clone(), again.access_token(), "alice").await;
}
