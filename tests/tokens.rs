//! The token matrix, through HTTP: every bad token is a 401 `invalid_token` (never a 400, a
//! 500 or an `invalid_request`) and the handler does not run; every supported algorithm
//! verifies; keys are chosen by `kid`.

mod support;

use std::time::Duration;

use authgate::{Algorithm, CurrentUser, Gate, Key, Router, require_auth, routing::get};
use axum::extract::State;
use jsonwebtoken::EncodingKey;
use serde_json::{Value, json};

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

/// A Gate that trusts only the test RSA public key, for RS256.
fn rs256_gate() -> Gate {
    keyless_gate_builder()
        .key(Key::from_pem(Algorithm::RS256, pem("rsa_public.pem")).unwrap())
        .build()
        .unwrap()
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

/// One `#[tokio::test]` per bad token: `name: gate => token;`.
macro_rules! refused {
    ($($name:ident: $gate:expr => $token:expr;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let token: String = $token;
                assert_refused($gate, &token).await;
            }
        )*
    };
}

/// The default claims for alice with `key` set to `value`, as an HS256 token.
fn hs_with(key: &str, value: Value) -> String {
    hs256(&with(claims("alice"), key, value))
}

/// The default claims for alice without `key`, as an HS256 token.
fn hs_without(key: &str) -> String {
    hs256(&without(claims("alice"), key))
}

/// `{"alg": alg}` and valid claims, with this signature part.
fn alg_header_token(alg: &str, signature: &str) -> String {
    let header = b64url(json!({ "alg": alg, "typ": "JWT" }).to_string().as_bytes());
    let payload = b64url(
        claims_with_roles("alice", &["admin"])
            .to_string()
            .as_bytes(),
    );
    format!("{header}.{payload}.{signature}")
}

/// A correctly signed HS256 token with a hand-written payload.
fn hs_raw_payload(payload: &[u8]) -> String {
    sign_raw(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        payload,
        Algorithm::HS256,
        &hs_signing_key(),
    )
}

/// A good token with its payload replaced, signature kept.
fn tampered(payload: &Value) -> String {
    let good = token("alice", &["staff"]);
    let (header, _, signature) = parts(&good);
    format!(
        "{header}.{}.{signature}",
        b64url(payload.to_string().as_bytes())
    )
}

fn rsa_token(alg: Algorithm) -> String {
    sign(alg, &rsa_signing_key(), None, &claims("alice"))
}

// ---------------------------------------------------------------------------------------------
// Positive controls: the matrix below fails for the reason its name says, not for another.

#[tokio::test]
async fn control_valid_hs256_token_is_accepted() {
    assert_accepted(gate(), &token("alice", &[]), "alice").await;
}

#[tokio::test]
async fn control_valid_rs256_token_is_accepted() {
    assert_accepted(rs256_gate(), &rsa_token(Algorithm::RS256), "alice").await;
}

#[tokio::test]
async fn control_times_within_the_leeway_are_accepted() {
    // Default leeway 30 s.
    assert_accepted(gate(), &hs_with("exp", json!(NOW - 10)), "alice").await;
    assert_accepted(gate(), &hs_with("nbf", json!(NOW + 10)), "alice").await;
    assert_accepted(gate(), &hs_with("iat", json!(NOW + 10)), "alice").await;
    // Exactly the maximum lifetime (24 h) is allowed.
    let max = with(
        with(claims("alice"), "iat", json!(NOW)),
        "exp",
        json!(NOW + 24 * 3600),
    );
    assert_accepted(gate(), &hs256(&max), "alice").await;
}

#[tokio::test]
async fn control_several_audiences_one_of_them_ours() {
    assert_accepted(gate(), &hs_with("aud", json!(["other", AUD])), "alice").await;
}

#[tokio::test]
async fn control_hand_signed_payload_is_accepted() {
    let payload = claims("alice").to_string();
    assert_accepted(gate(), &hs_raw_payload(payload.as_bytes()), "alice").await;
}

// ---------------------------------------------------------------------------------------------
// 4. Bad tokens

refused! {
    // Time.
    expired: gate() => hs256(&with(with(claims("alice"), "iat", json!(NOW - 660)), "exp", json!(NOW - 60)));
    expired_long_ago: gate() => hs256(&with(with(claims("alice"), "iat", json!(1_000)), "exp", json!(2_000)));
    not_yet_valid_nbf: gate() => hs_with("nbf", json!(NOW + 120));
    issued_in_the_future: gate() => hs_with("iat", json!(NOW + 120));
    nbf_as_string: gate() => hs_with("nbf", json!(NOW.to_string()));
    missing_exp: gate() => hs_without("exp");
    null_exp: gate() => hs_with("exp", Value::Null);
    exp_as_string: gate() => hs_with("exp", json!((NOW + 600).to_string()));
    exp_as_bool: gate() => hs_with("exp", json!(true));
    exp_negative: gate() => hs_with("exp", json!(-1));
    far_future_exp_beyond_max_lifetime: gate() => hs256(&without(with(claims("alice"), "exp", json!(NOW + 2 * 24 * 3600)), "iat"));
    lifetime_from_iat_beyond_max_lifetime: gate() => hs256(&with(claims("alice"), "iat", json!(NOW - 2 * 24 * 3600)));
    exp_beyond_configured_max_lifetime: gate_builder().max_lifetime(Duration::from_secs(3600)).build().unwrap()
        => hs_with("exp", json!(NOW + 2 * 3600));

    // Issuer and audience.
    wrong_issuer: gate() => hs_with("iss", json!("https://evil.example.test"));
    issuer_differs_by_trailing_slash: gate() => hs_with("iss", json!(format!("{ISS}/")));
    missing_issuer: gate() => hs_without("iss");
    issuer_as_array: gate() => hs_with("iss", json!([ISS]));
    wrong_audience: gate() => hs_with("aud", json!("other-api"));
    wrong_audience_array: gate() => hs_with("aud", json!(["other-api", "third-api"]));
    missing_audience: gate() => hs_without("aud");
    empty_audience_array: gate() => hs_with("aud", json!([]));

    // Subject and claim types.
    missing_subject: gate() => hs_without("sub");
    empty_subject: gate() => hs_with("sub", json!(""));
    numeric_subject: gate() => hs_with("sub", json!(42));
    roles_of_wrong_type: gate() => hs_with("roles", json!([1, 2]));

    // `alg: none` in every spelling, with and without a signature part.
    alg_none: gate() => alg_header_token("none", "");
    alg_none_capitalized: gate() => alg_header_token("None", "");
    alg_none_upper: gate() => alg_header_token("NONE", "");
    alg_none_mixed_case: gate() => alg_header_token("nOnE", "");
    alg_none_with_a_signature: gate() => {
        let good = token("alice", &[]);
        let (_, _, signature) = parts(&good);
        alg_header_token("none", signature)
    };
    alg_unknown: gate() => alg_header_token("HS1024", "");
    alg_lowercase_hs256: gate() => {
        // "hs256" is not an algorithm name; a lenient parser would accept it.
        let header = r#"{"alg":"hs256","typ":"JWT"}"#;
        sign_raw(header, claims("alice").to_string().as_bytes(), Algorithm::HS256, &hs_signing_key())
    };

    // Algorithm confusion: the RSA public key (public knowledge) as an HMAC secret.
    hs256_signed_with_rsa_public_pem: rs256_gate() =>
        sign(Algorithm::HS256, &EncodingKey::from_secret(&pem("rsa_public.pem")), None, &claims("alice"));
    hs256_signed_with_trimmed_rsa_public_pem: rs256_gate() => {
        let pem = pem("rsa_public.pem");
        let trimmed = std::str::from_utf8(&pem).unwrap().trim().as_bytes().to_vec();
        sign(Algorithm::HS256, &EncodingKey::from_secret(&trimmed), None, &claims("alice"))
    };
    hs512_signed_with_rsa_public_pem: rs256_gate() =>
        sign(Algorithm::HS512, &EncodingKey::from_secret(&pem("rsa_public.pem")), None, &claims("alice"));

    // Algorithm swapped: an RS256 key, a token of another RSA algorithm.
    rs512_token_for_rs256_key: rs256_gate() => rsa_token(Algorithm::RS512);
    rs384_token_for_rs256_key: rs256_gate() => rsa_token(Algorithm::RS384);
    ps256_token_for_rs256_key: rs256_gate() => rsa_token(Algorithm::PS256);
    header_says_rs256_signed_with_rs512: rs256_gate() =>
        sign_raw(r#"{"alg":"RS256"}"#, claims("alice").to_string().as_bytes(), Algorithm::RS512, &rsa_signing_key());
    header_says_rs512_signed_with_rs256: rs256_gate() =>
        sign_raw(r#"{"alg":"RS512"}"#, claims("alice").to_string().as_bytes(), Algorithm::RS256, &rsa_signing_key());
    es256_token_for_rs256_key: rs256_gate() => sign(Algorithm::ES256, &ec256_signing_key(), None, &claims("alice"));

    // Signature damage.
    tampered_payload_escalates_roles: gate() => tampered(&claims_with_roles("alice", &["admin"]));
    tampered_payload_changes_subject: gate() => tampered(&claims_with_roles("root", &["staff"]));
    tampered_header: gate() => {
        let good = token("alice", &[]);
        let (_, payload, signature) = parts(&good);
        format!("{}.{payload}.{signature}", b64url(br#"{"alg":"HS256","typ":"JWT","kid":"x"}"#))
    };
    stripped_signature: gate() => {
        let good = token("alice", &[]);
        let (header, payload, _) = parts(&good);
        format!("{header}.{payload}.")
    };
    truncated_signature_by_four: gate() => {
        let good = token("alice", &[]);
        good[..good.len() - 4].to_owned()
    };
    truncated_signature_by_one: gate() => {
        let good = token("alice", &[]);
        good[..good.len() - 1].to_owned()
    };
    signature_of_another_token: gate() => {
        let a = token("alice", &[]);
        let b = token("root", &["admin"]);
        let (header, payload, _) = parts(&b);
        let (_, _, signature) = parts(&a);
        format!("{header}.{payload}.{signature}")
    };
    signed_with_another_secret: gate() =>
        sign(Algorithm::HS256, &EncodingKey::from_secret(b"some other secret, 32 bytes long!!"), None, &claims("alice"));

    // Keys.
    unknown_kid: gate() => sign(Algorithm::HS256, &hs_signing_key(), Some("nope"), &claims("alice"));
    unknown_kid_rsa: rs256_gate() => sign(Algorithm::RS256, &rsa_signing_key(), Some("2026-11"), &claims("alice"));

    // Structure.
    duplicate_subject_claim: gate() => hs_raw_payload(
        format!(r#"{{"sub":"alice","sub":"root","iss":"{ISS}","aud":"{AUD}","exp":{}}}"#, NOW + 600).as_bytes());
    duplicate_roles_claim: gate() => hs_raw_payload(
        format!(r#"{{"sub":"alice","roles":[],"roles":["admin"],"iss":"{ISS}","aud":"{AUD}","exp":{}}}"#, NOW + 600).as_bytes());
    duplicate_exp_claim: gate() => hs_raw_payload(
        format!(r#"{{"sub":"alice","iss":"{ISS}","aud":"{AUD}","exp":1,"exp":{}}}"#, NOW + 600).as_bytes());
    crit_header: gate() => sign_raw(r#"{"alg":"HS256","typ":"JWT","crit":["exp"],"exp":1}"#,
        claims("alice").to_string().as_bytes(), Algorithm::HS256, &hs_signing_key());
    // `crit` present as null is still a `crit` member (RFC 7515 section 4.1.11: when present,
    // a non-empty array); serde reads `Option<_>` null as absent, so it must be refused
    // explicitly.
    crit_header_null: gate() => sign_raw(r#"{"alg":"HS256","crit":null}"#,
        claims("alice").to_string().as_bytes(), Algorithm::HS256, &hs_signing_key());
    crit_header_empty: gate() => sign_raw(r#"{"alg":"HS256","crit":[]}"#,
        claims("alice").to_string().as_bytes(), Algorithm::HS256, &hs_signing_key());
    jwe_like_five_parts: gate() => {
        let header = b64url(br#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#);
        format!("{header}.{}.{}.{}.{}", b64url(b"encrypted key"), b64url(b"iv"), b64url(b"ciphertext"), b64url(b"tag"))
    };
    five_parts_with_a_valid_jws_inside: gate() => format!("{}.{}", token("alice", &[]), b64url(b"extra.part"));
    four_parts: gate() => format!("{}.{}", token("alice", &[]), "AAAA");
    two_parts: gate() => {
        let good = token("alice", &[]);
        let (header, payload, _) = parts(&good);
        format!("{header}.{payload}")
    };
    one_part: gate() => b64url(claims("alice").to_string().as_bytes());
    empty_parts: gate() => "..".to_owned();
    invalid_base64_standard_alphabet: gate() => {
        // '+' and '/' are token68 characters (the header parser lets them through) but not
        // base64url: the token is refused as a token.
        let good = token("alice", &[]);
        let (header, payload, signature) = parts(&good);
        format!("{header}.{payload}+/.{signature}")
    };
    invalid_base64_padding: gate() => format!("{}=", token("alice", &[]));
    invalid_base64_length: gate() => {
        let good = token("alice", &[]);
        let (_, payload, signature) = parts(&good);
        format!("e.{payload}.{signature}")
    };
    header_not_json: gate() => sign_raw("not json", claims("alice").to_string().as_bytes(), Algorithm::HS256, &hs_signing_key());
    // RFC 7515 section 4: the JOSE header is a JSON object. serde's derived struct
    // deserializer also accepts a JSON array (fields by position), so `["HS256"]` must be
    // refused explicitly.
    header_not_an_object: gate() => sign_raw(r#"["HS256"]"#, claims("alice").to_string().as_bytes(), Algorithm::HS256, &hs_signing_key());
    header_without_alg: gate() => sign_raw(r#"{"typ":"JWT"}"#, claims("alice").to_string().as_bytes(), Algorithm::HS256, &hs_signing_key());
    payload_not_utf8: gate() => hs_raw_payload(b"{\"sub\":\"\xff\xfe\"}");
    payload_not_json: gate() => hs_raw_payload(b"alice");
    payload_not_an_object: gate() => hs_raw_payload(br#"["sub","alice"]"#);
    payload_with_trailing_garbage: gate() => hs_raw_payload(format!("{}x", claims("alice")).as_bytes());
}

// ---------------------------------------------------------------------------------------------
// 5. Every algorithm verifies

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

#[tokio::test]
async fn a_key_verifies_only_its_own_algorithm() {
    // ES256 key, ES384 token (and the reverse): refused, not verified on the wrong curve.
    let es256 = keyless_gate_builder()
        .key(Key::from_pem(Algorithm::ES256, pem("ec256_public.pem")).unwrap())
        .build()
        .unwrap();
    let t = sign(
        Algorithm::ES384,
        &ec384_signing_key(),
        None,
        &claims("alice"),
    );
    assert_refused(es256, &t).await;
    let es384 = keyless_gate_builder()
        .key(Key::from_pem(Algorithm::ES384, pem("ec384_public.pem")).unwrap())
        .build()
        .unwrap();
    let t = sign(
        Algorithm::ES256,
        &ec256_signing_key(),
        None,
        &claims("alice"),
    );
    assert_refused(es384, &t).await;
    // HS384 key, HS256 token signed with the same bytes.
    let secret = [0x44u8; 48];
    let hs384 = keyless_gate_builder()
        .key(Key::hmac(Algorithm::HS384, secret).unwrap())
        .build()
        .unwrap();
    let t = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(&secret),
        None,
        &claims("alice"),
    );
    assert_refused(hs384, &t).await;
}

// ---------------------------------------------------------------------------------------------
// Keys selected by `kid`

const SECRET_A: &[u8] = b"secret A: at least thirty-two bytes long";
const SECRET_B: &[u8] = b"secret B: at least thirty-two bytes long";

fn two_kid_gate() -> Gate {
    keyless_gate_builder()
        .key(Key::hmac(Algorithm::HS256, SECRET_A).unwrap().with_kid("a"))
        .key(Key::hmac(Algorithm::HS256, SECRET_B).unwrap().with_kid("b"))
        .build()
        .unwrap()
}

fn kid_token(kid: &str, secret: &[u8]) -> String {
    sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(secret),
        Some(kid),
        &claims("alice"),
    )
}

#[tokio::test]
async fn kid_selects_the_key() {
    assert_accepted(two_kid_gate(), &kid_token("a", SECRET_A), "alice").await;
    assert_accepted(two_kid_gate(), &kid_token("b", SECRET_B), "alice").await;
}

#[tokio::test]
async fn kid_b_verifies_with_key_b_only() {
    // Signed with A but labelled b: key b is the only candidate, and it does not verify.
    assert_refused(two_kid_gate(), &kid_token("b", SECRET_A)).await;
    assert_refused(two_kid_gate(), &kid_token("a", SECRET_B)).await;
    assert_refused(two_kid_gate(), &kid_token("c", SECRET_A)).await;
}

#[tokio::test]
async fn kids_select_across_key_families() {
    let gate = keyless_gate_builder()
        .key(
            Key::from_pem(Algorithm::RS256, pem("rsa_public.pem"))
                .unwrap()
                .with_kid("rsa"),
        )
        .key(
            Key::from_pem(Algorithm::ES256, pem("ec256_public.pem"))
                .unwrap()
                .with_kid("ec"),
        )
        .key(
            Key::from_pem(Algorithm::EdDSA, pem("ed25519_public.pem"))
                .unwrap()
                .with_kid("ed"),
        )
        .build()
        .unwrap();
    let rsa = sign(
        Algorithm::RS256,
        &rsa_signing_key(),
        Some("rsa"),
        &claims("r"),
    );
    let ec = sign(
        Algorithm::ES256,
        &ec256_signing_key(),
        Some("ec"),
        &claims("e"),
    );
    let ed = sign(
        Algorithm::EdDSA,
        &ed25519_signing_key(),
        Some("ed"),
        &claims("d"),
    );
    assert_accepted(gate.clone(), &rsa, "r").await;
    assert_accepted(gate.clone(), &ec, "e").await;
    assert_accepted(gate.clone(), &ed, "d").await;
    // A valid ES256 token pointing at the RSA kid.
    let wrong = sign(
        Algorithm::ES256,
        &ec256_signing_key(),
        Some("rsa"),
        &claims("e"),
    );
    assert_refused(gate, &wrong).await;
}
