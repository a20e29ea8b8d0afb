//! JWT attacks: every token here is refused with 401 `invalid_token` (or `invalid_request` when
//! the header grammar already fails), and the handler never runs.
//!
//! `alg: none` in its spellings; the RS256 public key reused as an HS256 secret; stripped,
//! truncated and re-encoded signatures; an all-zero ECDSA signature (CVE-2022-21449); `kid`
//! path traversal and unknown ids; `jku` / `x5u` / `jwk` / `x5c` pointing at the attacker
//! (never fetched: a local listener proves no connection is made); `crit`; expired,
//! not-yet-valid, far-future and missing `exp`; claims of the wrong JSON type; missing or wrong
//! `iss` / `aud`; duplicate claim names; invalid base64, UTF-8 and JSON; oversized tokens.
//!
//! - OWASP ASVS 5.0.0: V9.1.1 (signature verified before the contents are used), V9.1.2
//!   (algorithm allowlist, no `none`, no key confusion), V9.1.3 (keys only from pre-configured
//!   sources; `jku`, `x5u`, `jwk` ignored), V9.2.1 (`exp` / `nbf` enforced), V9.2.3 (`aud`
//!   allowlist), V10.3.3 (`iss` checked with `sub`), V6.8.2 (unsigned or badly signed
//!   assertions refused), V1.5.3 (one parse: duplicate names refused so that two parsers cannot
//!   disagree), V15.3.5 (strict types: no type juggling of claims), V16.5.1 (one generic body).
//! - OWASP API Security Top 10 2023: API2 (Broken Authentication), API7 (Server Side Request
//!   Forgery: key URLs in token headers are never fetched), API8 (Security Misconfiguration:
//!   weak algorithms and unchecked claims cannot be enabled by a token).

use std::net::TcpListener;
use std::time::Duration;

use authgate::issuers::Issuer;
use authgate::keys::{Algorithm, Key};
use authgate::{CurrentUser, Gate, Router, require_auth, routing};
use axum::extract::State;
use jsonwebtoken::EncodingKey;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::harness::{Case, Expect, Req, get, run};
use crate::support::*;

#[require_auth]
async fn me(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.subject().to_owned()
}

#[derive(Deserialize)]
struct TenantClaims {
    #[allow(dead_code)]
    sub: String,
    #[allow(dead_code)]
    tenant: String,
}

#[require_auth]
async fn tenant(State(hits): State<Hits>, _user: CurrentUser<TenantClaims>) -> &'static str {
    hits.hit();
    "tenant"
}

fn app(gate: Gate) -> (axum::Router, Hits) {
    let state = AppState::new(gate);
    let hits = state.hits.clone();
    let app = Router::new()
        .route("/me", routing::get(me))
        .route("/tenant", routing::get(tenant))
        .with_state(state)
        .into_axum();
    (app, hits)
}

async fn table(name: &str, gate: Gate, cases: Vec<Case>) {
    let (app, hits) = app(gate);
    run(name, &app, || hits.count(), cases).await;
}

/// A Gate whose one issuer (`ISS`, audience `AUD`) verifies with these keys only.
fn keyed_gate(keys: impl IntoIterator<Item = Key>) -> Gate {
    let issuer = keys
        .into_iter()
        .fold(Issuer::new(ISS).audience(AUD), Issuer::key);
    keyless_gate_builder().issuer(issuer).build().unwrap()
}

fn es256_gate() -> Gate {
    keyed_gate([Key::from_pem(Algorithm::ES256, pem("ec256_public.pem")).unwrap()])
}

const KID_A: &str = "2026-10";
const KID_B: &str = "2026-11";
const SECRET_A: &[u8] = b"rotation key A, at least 32 bytes long!!";
const SECRET_B: &[u8] = b"rotation key B, at least 32 bytes long!!";

fn two_kid_gate() -> Gate {
    keyed_gate([
        Key::hmac(Algorithm::HS256, SECRET_A)
            .unwrap()
            .with_kid(KID_A),
        Key::hmac(Algorithm::HS256, SECRET_B)
            .unwrap()
            .with_kid(KID_B),
    ])
}

fn attacker_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&pem("attacker_rsa_private.pem")).expect("attacker RSA key")
}

/// The attacker's public key as a JWK object, as it would be embedded in a `jwk` header.
fn attacker_jwk() -> Value {
    let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&attacker_key(), jwa(Algorithm::RS256))
        .expect("JWK of the attacker key");
    serde_json::to_value(jwk).expect("JWK as JSON")
}

/// The default valid claims for alice, as JSON text.
fn payload() -> String {
    claims("alice").to_string()
}

/// The default claims with `key` set to `value`, as JSON text.
fn payload_with(key: &str, value: Value) -> String {
    with(claims("alice"), key, value).to_string()
}

/// The default claims without `key`, as JSON text.
fn payload_without(key: &str) -> String {
    without(claims("alice"), key).to_string()
}

/// `message.signature` where the message is given as is (already encoded parts).
fn sign_message(message: &str, alg: Algorithm, key: &EncodingKey) -> String {
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, jwa(alg)).expect("sign");
    format!("{message}.{signature}")
}

/// A correctly HS256-signed token (with the default Gate's secret) of a hand-written header and
/// payload.
fn hs(header: &str, payload: &str) -> String {
    sign_raw(
        header,
        payload.as_bytes(),
        Algorithm::HS256,
        &hs_signing_key(),
    )
}

/// `{"alg":"HS256","typ":"JWT"}` plus `extra` members.
fn hs_header(extra: Value) -> String {
    let mut header = json!({ "alg": "HS256", "typ": "JWT" });
    for (k, v) in extra.as_object().expect("object") {
        header[k] = v.clone();
    }
    header.to_string()
}

/// A token with these encoded parts, unsigned by us.
fn parts3(header: &str, payload: &str, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64url(header.as_bytes()),
        b64url(payload.as_bytes())
    )
}

/// An HS256 token (the default secret) of alice's default claims with `key` set to `value`.
fn hs_with(key: &str, value: Value) -> String {
    hs256(&with(claims("alice"), key, value))
}

fn call(token: &str) -> Req {
    get("/me").bearer(token)
}

/// The three parts of a compact JWS, owned.
fn parts_owned(token: &str) -> (String, String, String) {
    let (h, p, s) = parts(token);
    (h.to_owned(), p.to_owned(), s.to_owned())
}

/// Decodes unpadded base64url (the tests' own, to take signatures apart).
fn b64url_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'-' => 62,
            b'_' => 63,
            _ => panic!("not base64url: {c}"),
        }
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        acc = (acc << 6) | value(c);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[tokio::test]
async fn alg_none_in_every_spelling() {
    let body = b64url(payload().as_bytes());
    let mut cases = Vec::new();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({ "alg": alg, "typ": "JWT" }).to_string();
        let unsigned = format!("{}.{body}.", b64url(header.as_bytes()));
        cases.push(Case::new(
            format!("alg {alg:?}, empty signature"),
            call(&unsigned),
            Expect::invalid_token(),
        ));
    }
    let none = json!({ "alg": "none" }).to_string();
    let message = format!("{}.{body}", b64url(none.as_bytes()));
    cases.push(Case::new(
        "alg none with a valid HS256 signature over the message",
        call(&sign_message(&message, Algorithm::HS256, &hs_signing_key())),
        Expect::invalid_token(),
    ));
    let (_, _, other_sig) = parts_owned(&token("alice", &[]));
    cases.push(Case::new(
        "alg none with the signature of another (valid) token",
        call(&format!("{message}.{other_sig}")),
        Expect::invalid_token(),
    ));
    cases.push(Case::new(
        "alg none without the trailing dot",
        call(&message),
        Expect::invalid_token(),
    ));
    for (name, alg) in [
        ("alg missing", None),
        ("alg empty", Some(json!(""))),
        ("alg null", Some(Value::Null)),
        ("alg a number", Some(json!(256))),
        ("alg an array", Some(json!(["HS256"]))),
        ("alg `HS1024` (no such algorithm)", Some(json!("HS1024"))),
        ("alg lower case `hs256`", Some(json!("hs256"))),
        ("alg with a trailing space", Some(json!("HS256 "))),
        ("alg with a NUL byte", Some(json!("HS256\u{0}"))),
    ] {
        let header = match alg {
            None => json!({ "typ": "JWT" }),
            Some(alg) => json!({ "alg": alg, "typ": "JWT" }),
        };
        cases.push(Case::new(
            format!("{name}, HS256-signed"),
            call(&hs(&header.to_string(), &payload())),
            Expect::invalid_token(),
        ));
    }
    let hs1024 = json!({ "alg": "HS1024", "typ": "JWT" }).to_string();
    cases.push(Case::new(
        "alg `HS1024`, empty signature",
        call(&format!("{}.{body}.", b64url(hs1024.as_bytes()))),
        Expect::invalid_token(),
    ));
    table("jwt/alg none", gate(), cases).await;
}

#[tokio::test]
async fn rs256_public_key_as_hmac_secret() {
    let public_pem = pem("rsa_public.pem");
    let trimmed = String::from_utf8(public_pem.clone())
        .unwrap()
        .trim_end()
        .to_owned();
    let crlf = String::from_utf8(public_pem.clone())
        .unwrap()
        .replace('\n', "\r\n");
    let confused = |alg: Algorithm, secret: &[u8]| {
        let header = json!({ "alg": format!("{alg:?}"), "typ": "JWT" }).to_string();
        sign_raw(
            &header,
            payload().as_bytes(),
            alg,
            &EncodingKey::from_secret(secret),
        )
    };
    let rsa = rsa_signing_key();
    let header_for = |alg: &str| json!({ "alg": alg, "typ": "JWT" }).to_string();
    table(
        "jwt/key confusion (RS256 gate)",
        rs256_gate(),
        vec![
            Case::new(
                "control: RS256 signed with the real private key",
                call(&sign(Algorithm::RS256, &rsa, None, &claims("alice"))),
                Expect::allowed(),
            ),
            Case::new(
                "HS256 keyed with the RS256 public key PEM",
                call(&confused(Algorithm::HS256, &public_pem)),
                Expect::invalid_token(),
            ),
            Case::new(
                "HS256 keyed with the PEM without its final newline",
                call(&confused(Algorithm::HS256, trimmed.as_bytes())),
                Expect::invalid_token(),
            ),
            Case::new(
                "HS256 keyed with the PEM with CRLF line ends",
                call(&confused(Algorithm::HS256, crlf.as_bytes())),
                Expect::invalid_token(),
            ),
            Case::new(
                "HS384 keyed with the public key PEM",
                call(&confused(Algorithm::HS384, &public_pem)),
                Expect::invalid_token(),
            ),
            Case::new(
                "HS512 keyed with the public key PEM",
                call(&confused(Algorithm::HS512, &public_pem)),
                Expect::invalid_token(),
            ),
            Case::new(
                "PS256 with the right RSA key (key bound to RS256)",
                call(&sign(Algorithm::PS256, &rsa, None, &claims("alice"))),
                Expect::invalid_token(),
            ),
            Case::new(
                "RS512 with the right RSA key (key bound to RS256)",
                call(&sign(Algorithm::RS512, &rsa, None, &claims("alice"))),
                Expect::invalid_token(),
            ),
            Case::new(
                "RS384 with the right RSA key (key bound to RS256)",
                call(&sign(Algorithm::RS384, &rsa, None, &claims("alice"))),
                Expect::invalid_token(),
            ),
            Case::new(
                "RS512 header over an RS256 signature",
                call(&sign_message(
                    &format!(
                        "{}.{}",
                        b64url(header_for("RS512").as_bytes()),
                        b64url(payload().as_bytes())
                    ),
                    Algorithm::RS256,
                    &rsa,
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "RS256 naming a kid the gate does not have",
                call(&sign(
                    Algorithm::RS256,
                    &rsa,
                    Some("2026-11"),
                    &claims("alice"),
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "RS256 header over an RS512 signature",
                call(&sign_message(
                    &format!(
                        "{}.{}",
                        b64url(header_for("RS256").as_bytes()),
                        b64url(payload().as_bytes())
                    ),
                    Algorithm::RS512,
                    &rsa,
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "ES256 token (other family)",
                call(&sign(
                    Algorithm::ES256,
                    &ec256_signing_key(),
                    None,
                    &claims("alice"),
                )),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
    // The same with a kid: the kid selects the RSA key, whose algorithm is not HS256.
    let kid_gate = keyed_gate([Key::from_pem(Algorithm::RS256, pem("rsa_public.pem"))
        .unwrap()
        .with_kid("rsa-1")]);
    let with_kid = |alg: Algorithm, key: &EncodingKey| {
        let header = json!({ "alg": format!("{alg:?}"), "kid": "rsa-1" }).to_string();
        sign_raw(&header, payload().as_bytes(), alg, key)
    };
    table(
        "jwt/key confusion (RS256 key with a kid)",
        kid_gate,
        vec![
            Case::new(
                "control: RS256 naming the kid",
                call(&with_kid(Algorithm::RS256, &rsa)),
                Expect::allowed(),
            ),
            Case::new(
                "HS256 keyed with the PEM, naming the RSA key's kid",
                call(&with_kid(
                    Algorithm::HS256,
                    &EncodingKey::from_secret(&public_pem),
                )),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
    let ec_public = pem("ec256_public.pem");
    table(
        "jwt/key confusion (ES256 gate)",
        es256_gate(),
        vec![
            Case::new(
                "HS256 keyed with the ES256 public key PEM",
                call(&confused(Algorithm::HS256, &ec_public)),
                Expect::invalid_token(),
            ),
            Case::new(
                "ES384 header, ES256 key",
                call(&sign(
                    Algorithm::ES384,
                    &ec384_signing_key(),
                    None,
                    &claims("alice"),
                )),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn stripped_truncated_and_reencoded_signatures() {
    let good = token("alice", &[]);
    let (h, p, s) = parts(&good);
    let other = token("mallory", &["admin"]);
    let (_, _, other_sig) = parts(&other);
    // The last character of a 32-byte signature carries 4 data bits and 2 zero bits; setting a
    // zero bit gives a non-canonical encoding of the same bytes.
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = s.as_bytes()[s.len() - 1];
    let index = alphabet.iter().position(|&c| c == last).unwrap();
    let non_canonical = format!("{}{}", &s[..s.len() - 1], alphabet[index ^ 1] as char);
    let flipped = format!("{}{}", &s[..s.len() - 1], alphabet[index ^ 4] as char);
    // Standard base64 ('+' and '/') and padding, correctly signed over what is sent.
    let std_header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
    let std_payload = b64url(payload_with("pad", json!("~~~~~~~~~")).as_bytes())
        .replace('-', "+")
        .replace('_', "/");
    assert!(std_payload.contains('+') || std_payload.contains('/'));
    let std_token = sign_message(
        &format!("{std_header}.{std_payload}"),
        Algorithm::HS256,
        &hs_signing_key(),
    );
    table(
        "jwt/signatures (HS256)",
        gate(),
        vec![
            Case::new(
                "control: the untouched token",
                call(&good),
                Expect::allowed(),
            ),
            Case::new(
                "signature stripped (`h.p.`)",
                call(&format!("{h}.{p}.")),
                Expect::invalid_token(),
            ),
            Case::new(
                "signature and its dot stripped (`h.p`)",
                call(&format!("{h}.{p}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "signature truncated by 4 characters",
                call(&format!("{h}.{p}.{}", &s[..s.len() - 4])),
                Expect::invalid_token(),
            ),
            Case::new(
                "signature truncated by 1 character",
                call(&format!("{h}.{p}.{}", &s[..s.len() - 1])),
                Expect::invalid_token(),
            ),
            Case::new(
                "signature truncated to half",
                call(&format!("{h}.{p}.{}", &s[..s.len() / 2])),
                Expect::invalid_token(),
            ),
            Case::new(
                "signature truncated to one character",
                call(&format!("{h}.{p}.{}", &s[..1])),
                Expect::invalid_token(),
            ),
            Case::new(
                "signature with one data bit flipped",
                call(&format!("{h}.{p}.{flipped}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "non-canonical base64 of the right signature bytes",
                call(&format!("{h}.{p}.{non_canonical}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "signature padded with `=`",
                call(&format!("{good}=")),
                Expect::invalid_token(),
            ),
            Case::new(
                "signature of another token (admin claims)",
                call(&format!("{h}.{p}.{other_sig}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "admin payload under alice's signature",
                call(&format!(
                    "{h}.{}.{s}",
                    b64url(
                        claims_with_roles("alice", &["admin"])
                            .to_string()
                            .as_bytes()
                    )
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "root's payload under alice's signature",
                call(&format!(
                    "{h}.{}.{s}",
                    b64url(claims_with_roles("root", &["staff"]).to_string().as_bytes())
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "header changed (a kid added), signature kept",
                call(&format!(
                    "{}.{p}.{s}",
                    b64url(br#"{"alg":"HS256","typ":"JWT","kid":"x"}"#)
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "signed with another secret",
                call(&sign(
                    Algorithm::HS256,
                    &EncodingKey::from_secret(b"some other secret, 32 bytes long!!"),
                    None,
                    &claims("alice"),
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "signature doubled",
                call(&format!("{good}{s}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "payload in standard base64 (`+`, `/`), signed as sent",
                call(&std_token),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn all_zero_and_malformed_ecdsa_signatures() {
    let good = sign(
        Algorithm::ES256,
        &ec256_signing_key(),
        None,
        &claims("alice"),
    );
    let (h, p, s) = parts(&good);
    let raw = b64url_decode(s);
    assert_eq!(raw.len(), 64, "ES256 signatures are r || s, 32 bytes each");
    let zero = b64url(&[0u8; 64]);
    let zero_r = b64url(&[&[0u8; 32][..], &raw[32..]].concat());
    let zero_s = b64url(&[&raw[..32], &[0u8; 32][..]].concat());
    let ones = b64url(&[0xFFu8; 64]);
    // The same r and s in ASN.1 DER (what OpenSSL emits), which JWS does not allow.
    let der_int = |bytes: &[u8]| {
        let mut v = bytes.to_vec();
        if v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        [vec![0x02, v.len() as u8], v].concat()
    };
    let body = [der_int(&raw[..32]), der_int(&raw[32..])].concat();
    let der = b64url(&[vec![0x30, body.len() as u8], body].concat());
    table(
        "jwt/ECDSA signatures (ES256 gate)",
        es256_gate(),
        vec![
            Case::new(
                "control: a valid ES256 token",
                call(&good),
                Expect::allowed(),
            ),
            Case::new(
                "all-zero 64-byte signature (r = s = 0)",
                call(&format!("{h}.{p}.{zero}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "r = 0 with the real s",
                call(&format!("{h}.{p}.{zero_r}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "the real r with s = 0",
                call(&format!("{h}.{p}.{zero_s}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "all-0xFF signature (r, s above the group order)",
                call(&format!("{h}.{p}.{ones}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "the real signature in ASN.1 DER form",
                call(&format!("{h}.{p}.{der}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "63-byte signature",
                call(&format!("{h}.{p}.{}", b64url(&raw[..63]))),
                Expect::invalid_token(),
            ),
            Case::new(
                "all-zero signature under an ES384 header",
                call(&format!(
                    "{}.{p}.{}",
                    b64url(br#"{"alg":"ES384"}"#),
                    b64url(&[0u8; 96])
                )),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn kid_traversal_and_unknown_ids() {
    let with_kid = |kid: Value, secret: &[u8]| {
        let header = json!({ "alg": "HS256", "typ": "JWT", "kid": kid }).to_string();
        sign_raw(
            &header,
            payload().as_bytes(),
            Algorithm::HS256,
            &EncodingKey::from_secret(secret),
        )
    };
    let passwd = b"root:x:0:0:root:/root:/bin/bash\n";
    let mut cases = vec![
        Case::new(
            "control: kid B with key B",
            call(&with_kid(json!(KID_B), SECRET_B)),
            Expect::allowed(),
        ),
        Case::new(
            "control: kid null is no kid (tries every key)",
            call(&with_kid(Value::Null, SECRET_A)),
            Expect::allowed(),
        ),
        Case::new(
            "control: kid A with key A",
            call(&with_kid(json!(KID_A), SECRET_A)),
            Expect::allowed(),
        ),
        Case::new(
            "kid A signed with key B",
            call(&with_kid(json!(KID_A), SECRET_B)),
            Expect::invalid_token(),
        ),
        Case::new(
            "kid B signed with key A",
            call(&with_kid(json!(KID_B), SECRET_A)),
            Expect::invalid_token(),
        ),
        Case::new(
            "kid `../../etc/passwd`, signed with key A",
            call(&with_kid(json!("../../etc/passwd"), SECRET_A)),
            Expect::invalid_token(),
        ),
        Case::new(
            "kid `../../etc/passwd`, signed with the file's likely content",
            call(&with_kid(json!("../../etc/passwd"), passwd)),
            Expect::invalid_token(),
        ),
        Case::new(
            "kid `/dev/null`, signed with an empty secret",
            call(&with_kid(json!("/dev/null"), b"")),
            Expect::invalid_token(),
        ),
        Case::new(
            "kid `../../../../../../dev/null`, empty secret",
            call(&with_kid(json!("../../../../../../dev/null"), b"")),
            Expect::invalid_token(),
        ),
        Case::new(
            "kid `2026-10/../2026-11`",
            call(&with_kid(json!("2026-10/../2026-11"), SECRET_B)),
            Expect::invalid_token(),
        ),
        Case::new(
            "kid with SQL injection",
            call(&with_kid(json!("x' UNION SELECT 'secret' --"), b"secret")),
            Expect::invalid_token(),
        ),
        Case::new(
            "kid with a NUL byte after a real id",
            call(&with_kid(json!("2026-10\u{0}"), SECRET_A)),
            Expect::invalid_token(),
        ),
        Case::new(
            "kid with a trailing space",
            call(&with_kid(json!("2026-10 "), SECRET_A)),
            Expect::invalid_token(),
        ),
        Case::new(
            "kid that is a prefix of a real id",
            call(&with_kid(json!("2026-1"), SECRET_A)),
            Expect::invalid_token(),
        ),
        Case::new(
            "kid with a suffix",
            call(&with_kid(json!("2026-10x"), SECRET_A)),
            Expect::invalid_token(),
        ),
        Case::new(
            "unknown kid",
            call(&with_kid(json!("2019-01"), SECRET_A)),
            Expect::invalid_token(),
        ),
        Case::new(
            "empty kid",
            call(&with_kid(json!(""), SECRET_A)),
            Expect::invalid_token(),
        ),
        Case::new(
            "kid a number",
            call(&with_kid(json!(202610), SECRET_A)),
            Expect::invalid_token(),
        ),
        Case::new(
            "kid an array of a real id",
            call(&with_kid(json!([KID_A]), SECRET_A)),
            Expect::invalid_token(),
        ),
        Case::new(
            "kid an object",
            call(&with_kid(json!({ "id": KID_A }), SECRET_A)),
            Expect::invalid_token(),
        ),
    ];
    // 2 MiB of kid would be refused by the size bound first; a long kid within the bound:
    cases.push(Case::new(
        "kid of 4000 characters",
        call(&with_kid(json!("k".repeat(4000)), SECRET_A)),
        Expect::invalid_token(),
    ));
    table("jwt/kid (two-kid gate)", two_kid_gate(), cases).await;
    let header = json!({ "alg": "HS256", "kid": "default" }).to_string();
    table(
        "jwt/kid (gate without kids)",
        gate(),
        vec![Case::new(
            "a kid the gate does not have, right secret",
            call(&hs(&header, &payload())),
            Expect::invalid_token(),
        )],
    )
    .await;
}

/// A key verifies only the algorithm it was configured for, and a `kid` naming a key of another
/// family is refused even when the token is validly signed by another configured key.
#[tokio::test]
async fn keys_verify_only_their_own_algorithm_and_family() {
    let es384 = keyed_gate([Key::from_pem(Algorithm::ES384, pem("ec384_public.pem")).unwrap()]);
    table(
        "jwt/key algorithm (ES384 gate)",
        es384,
        vec![Case::new(
            "ES256 token (other curve)",
            call(&sign(
                Algorithm::ES256,
                &ec256_signing_key(),
                None,
                &claims("alice"),
            )),
            Expect::invalid_token(),
        )],
    )
    .await;
    let secret = [0x44u8; 48];
    let hs384 = keyed_gate([Key::hmac(Algorithm::HS384, secret).unwrap()]);
    table(
        "jwt/key algorithm (HS384 gate)",
        hs384,
        vec![Case::new(
            "HS256 token signed with the same secret bytes",
            call(&sign(
                Algorithm::HS256,
                &EncodingKey::from_secret(&secret),
                None,
                &claims("alice"),
            )),
            Expect::invalid_token(),
        )],
    )
    .await;
    let families = keyed_gate([
        Key::from_pem(Algorithm::RS256, pem("rsa_public.pem"))
            .unwrap()
            .with_kid("rsa"),
        Key::from_pem(Algorithm::ES256, pem("ec256_public.pem"))
            .unwrap()
            .with_kid("ec"),
        Key::from_pem(Algorithm::EdDSA, pem("ed25519_public.pem"))
            .unwrap()
            .with_kid("ed"),
    ]);
    let by = |alg: Algorithm, key: &EncodingKey, kid: &str, sub: &str| {
        call(&sign(alg, key, Some(kid), &claims(sub)))
    };
    table(
        "jwt/kid (three key families)",
        families,
        vec![
            Case::new(
                "control: RS256 naming the RSA kid",
                by(Algorithm::RS256, &rsa_signing_key(), "rsa", "r"),
                Expect::allowed().body("r"),
            ),
            Case::new(
                "control: ES256 naming the EC kid",
                by(Algorithm::ES256, &ec256_signing_key(), "ec", "e"),
                Expect::allowed().body("e"),
            ),
            Case::new(
                "control: EdDSA naming the Ed25519 kid",
                by(Algorithm::EdDSA, &ed25519_signing_key(), "ed", "d"),
                Expect::allowed().body("d"),
            ),
            Case::new(
                "a valid ES256 token naming the RSA kid",
                by(Algorithm::ES256, &ec256_signing_key(), "rsa", "e"),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn jku_x5u_jwk_and_x5c_are_never_trusted_or_fetched() {
    // A listener the attacker's URLs point at: nothing may ever connect to it.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).unwrap();
    let trap = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let attacker = attacker_key();
    let jwk = attacker_jwk();
    let by_attacker = |extra: Value| {
        let mut header = json!({ "alg": "RS256", "typ": "JWT" });
        for (k, v) in extra.as_object().unwrap() {
            header[k] = v.clone();
        }
        sign_raw(
            &header.to_string(),
            payload().as_bytes(),
            Algorithm::RS256,
            &attacker,
        )
    };
    let by_us = |extra: Value| {
        let mut header = json!({ "alg": "RS256", "typ": "JWT" });
        for (k, v) in extra.as_object().unwrap() {
            header[k] = v.clone();
        }
        sign_raw(
            &header.to_string(),
            payload().as_bytes(),
            Algorithm::RS256,
            &rsa_signing_key(),
        )
    };
    let fake_cert = b64url(b"0\x82\x01\x0a not really a certificate");
    table(
        "jwt/jku, x5u, jwk, x5c (RS256 gate)",
        rs256_gate(),
        vec![
            Case::new(
                "attacker-signed, jwk header embeds the attacker's public key",
                call(&by_attacker(json!({ "jwk": jwk }))),
                Expect::invalid_token(),
            ),
            Case::new(
                "attacker-signed, jwk with a kid, kid header names it",
                call(&by_attacker(json!({ "jwk": jwk, "kid": "attacker" }))),
                Expect::invalid_token(),
            ),
            Case::new(
                "attacker-signed, jku at the attacker's JWKS",
                call(&by_attacker(
                    json!({ "jku": "https://attacker.example/jwks.json" }),
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "attacker-signed, jku at a local listener (SSRF)",
                call(&by_attacker(json!({ "jku": trap }))),
                Expect::invalid_token(),
            ),
            Case::new(
                "attacker-signed, jku at the cloud metadata address",
                call(&by_attacker(
                    json!({ "jku": "http://169.254.169.254/latest/meta-data/" }),
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "attacker-signed, x5u at a local listener",
                call(&by_attacker(json!({ "x5u": trap }))),
                Expect::invalid_token(),
            ),
            Case::new(
                "attacker-signed, x5c with the attacker's chain",
                call(&by_attacker(json!({ "x5c": [fake_cert] }))),
                Expect::invalid_token(),
            ),
            Case::new(
                "attacker-signed, every key header at once",
                call(&by_attacker(
                    json!({ "jwk": jwk, "jku": trap, "x5u": trap, "x5c": [fake_cert] }),
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "control: validly signed token carrying jku (judged by our keys only)",
                call(&by_us(json!({ "jku": trap }))),
                Expect::allowed(),
            ),
            Case::new(
                "control: validly signed token embedding the attacker's jwk",
                call(&by_us(json!({ "jwk": jwk }))),
                Expect::allowed(),
            ),
            Case::new(
                "control: validly signed token carrying x5u",
                call(&by_us(
                    json!({ "x5u": "https://attacker.example/cert.pem" }),
                )),
                Expect::allowed(),
            ),
        ],
    )
    .await;
    // An HMAC variant on the default Gate: the attacker's own secret, published in a `jwk`.
    let attacker_secret = b"the attacker's own secret, 32 bytes+";
    let header = hs_header(json!({ "jwk": { "kty": "oct", "k": b64url(attacker_secret) } }));
    table(
        "jwt/jwk oct (HS256 gate)",
        gate(),
        vec![Case::new(
            "HS256 signed with the attacker's secret, jwk oct carries it",
            call(&sign_raw(
                &header,
                payload().as_bytes(),
                Algorithm::HS256,
                &EncodingKey::from_secret(attacker_secret),
            )),
            Expect::invalid_token(),
        )],
    )
    .await;
    std::thread::sleep(Duration::from_millis(50));
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        Ok((_, peer)) => panic!("authgate connected to the URL of a token header (from {peer})"),
        Err(e) => panic!("accept: {e}"),
    }
}

#[tokio::test]
async fn crit_headers_are_refused() {
    let mut cases = Vec::new();
    for (name, extra) in [
        ("crit [\"exp\"]", json!({ "crit": ["exp"] })),
        ("crit []", json!({ "crit": [] })),
        ("crit null", json!({ "crit": null })),
        ("crit \"exp\" (a string)", json!({ "crit": "exp" })),
        (
            "crit [\"b64\"] with b64 false",
            json!({ "crit": ["b64"], "b64": false }),
        ),
        (
            "crit naming a private extension",
            json!({ "crit": ["https://example.test/ext"], "https://example.test/ext": true }),
        ),
    ] {
        cases.push(Case::new(
            name,
            call(&hs(&hs_header(extra), &payload())),
            Expect::invalid_token(),
        ));
    }
    table("jwt/crit", gate(), cases).await;
}

#[tokio::test]
async fn expiry_and_validity_times() {
    table(
        "jwt/time claims (max_lifetime 1 h)",
        gate_builder()
            .max_lifetime(Duration::from_secs(3600))
            .build()
            .unwrap(),
        vec![Case::new(
            "exp in 2 h (iat now)",
            call(&hs_with("exp", json!(NOW + 2 * 3600))),
            Expect::invalid_token(),
        )],
    )
    .await;
    let t = |key: &str, value: Value| hs(&hs_header(json!({})), &payload_with(key, value));
    let far = json!(NOW + 10 * 365 * 24 * 3600);
    table(
        "jwt/time claims",
        gate(),
        vec![
            Case::new(
                "control: exp 29 s ago (inside the 30 s leeway)",
                call(&t("exp", json!(NOW - 29))),
                Expect::allowed(),
            ),
            Case::new(
                "control: fractional exp",
                call(&t("exp", json!(NOW as f64 + 600.5))),
                Expect::allowed(),
            ),
            Case::new(
                "control: exp 10 s ago (inside the leeway)",
                call(&hs_with("exp", json!(NOW - 10))),
                Expect::allowed(),
            ),
            Case::new(
                "control: nbf 10 s ahead (inside the leeway)",
                call(&hs_with("nbf", json!(NOW + 10))),
                Expect::allowed(),
            ),
            Case::new(
                "control: iat 10 s ahead (inside the leeway)",
                call(&hs_with("iat", json!(NOW + 10))),
                Expect::allowed(),
            ),
            Case::new(
                "control: exactly the maximum lifetime (iat now, exp in 24 h)",
                call(&hs_with("exp", json!(NOW + 24 * 3600))),
                Expect::allowed(),
            ),
            Case::new(
                "expired a minute ago (iat 11 minutes ago)",
                call(&hs256(&with(
                    with(claims("alice"), "iat", json!(NOW - 660)),
                    "exp",
                    json!(NOW - 60),
                ))),
                Expect::invalid_token(),
            ),
            Case::new(
                "expired long ago (iat 1000, exp 2000)",
                call(&hs256(&with(
                    with(claims("alice"), "iat", json!(1_000)),
                    "exp",
                    json!(2_000),
                ))),
                Expect::invalid_token(),
            ),
            Case::new(
                "nbf two minutes ahead",
                call(&hs_with("nbf", json!(NOW + 120))),
                Expect::invalid_token(),
            ),
            Case::new(
                "iat two minutes ahead",
                call(&hs_with("iat", json!(NOW + 120))),
                Expect::invalid_token(),
            ),
            Case::new(
                "nbf a numeric string",
                call(&hs_with("nbf", json!(NOW.to_string()))),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp two days ahead, no iat",
                call(&hs256(&without(
                    with(claims("alice"), "exp", json!(NOW + 2 * 24 * 3600)),
                    "iat",
                ))),
                Expect::invalid_token(),
            ),
            Case::new(
                "expired an hour ago",
                call(&t("exp", json!(NOW - 3600))),
                Expect::invalid_token(),
            ),
            Case::new(
                "expired exactly at the end of the leeway",
                call(&t("exp", json!(NOW - 30))),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp 0 (the epoch)",
                call(&t("exp", json!(0))),
                Expect::invalid_token(),
            ),
            Case::new(
                "nbf an hour ahead",
                call(&t("nbf", json!(NOW + 3600))),
                Expect::invalid_token(),
            ),
            Case::new(
                "nbf 31 s ahead (past the leeway)",
                call(&t("nbf", json!(NOW + 31))),
                Expect::invalid_token(),
            ),
            Case::new(
                "iat an hour ahead",
                call(&t("iat", json!(NOW + 3600))),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp ten years ahead",
                call(&t("exp", far)),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp 24 h + leeway + 1 s ahead",
                call(&hs(
                    &hs_header(json!({})),
                    &without(
                        with(claims("alice"), "exp", json!(NOW + 24 * 3600 + 31)),
                        "iat",
                    )
                    .to_string(),
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp 1e300",
                call(&t("exp", json!(1e300))),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp u64::MAX",
                call(&t("exp", json!(u64::MAX))),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp 1e400 (overflows a double)",
                call(&hs(
                    &hs_header(json!({})),
                    &payload_without("exp").replacen('{', "{\"exp\":1e400,", 1),
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "iat two days ago, exp in 10 minutes (lifetime over 24 h)",
                call(&t("iat", json!(NOW - 2 * 24 * 3600))),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp missing",
                call(&hs(&hs_header(json!({})), &payload_without("exp"))),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp null",
                call(&t("exp", Value::Null)),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp a numeric string",
                call(&t("exp", json!((NOW + 600).to_string()))),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp true",
                call(&t("exp", json!(true))),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp negative",
                call(&t("exp", json!(-1))),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp an array",
                call(&t("exp", json!([NOW + 600]))),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp an object",
                call(&t("exp", json!({ "$date": NOW + 600 }))),
                Expect::invalid_token(),
            ),
            Case::new(
                "nbf a string",
                call(&t("nbf", json!("0"))),
                Expect::invalid_token(),
            ),
            Case::new(
                "iat a string",
                call(&t("iat", json!("now"))),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn claims_of_the_wrong_json_type() {
    let t = |key: &str, value: Value| call(&hs(&hs_header(json!({})), &payload_with(key, value)));
    let tenant = |value: Value| {
        get("/tenant").bearer(&hs(&hs_header(json!({})), &payload_with("tenant", value)))
    };
    table(
        "jwt/claim types",
        gate(),
        vec![
            Case::new(
                "control: typed claims that fit",
                tenant(json!("acme")),
                Expect::allowed(),
            ),
            Case::new("sub a number", t("sub", json!(7)), Expect::invalid_token()),
            Case::new(
                "sub an array",
                t("sub", json!(["alice"])),
                Expect::invalid_token(),
            ),
            Case::new(
                "sub an object",
                t("sub", json!({ "id": "alice" })),
                Expect::invalid_token(),
            ),
            Case::new("sub true", t("sub", json!(true)), Expect::invalid_token()),
            Case::new("sub empty", t("sub", json!("")), Expect::invalid_token()),
            Case::new("sub null", t("sub", Value::Null), Expect::invalid_token()),
            Case::new(
                "sub missing",
                call(&hs(&hs_header(json!({})), &payload_without("sub"))),
                Expect::invalid_token(),
            ),
            Case::new(
                "sub with a lone surrogate escape",
                call(&hs(
                    &hs_header(json!({})),
                    &payload_without("sub").replacen('{', r#"{"sub":"\ud800","#, 1),
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "roles a number",
                t("roles", json!(1)),
                Expect::invalid_token(),
            ),
            Case::new(
                "roles an object",
                t("roles", json!({ "admin": true })),
                Expect::invalid_token(),
            ),
            Case::new("roles [1]", t("roles", json!([1])), Expect::invalid_token()),
            Case::new(
                "roles nested arrays",
                t("roles", json!([["admin"]])),
                Expect::invalid_token(),
            ),
            Case::new(
                "roles [null]",
                t("roles", json!([null])),
                Expect::invalid_token(),
            ),
            Case::new(
                "scope a number",
                t("scope", json!(5)),
                Expect::invalid_token(),
            ),
            Case::new(
                "scp an object",
                t("scp", json!({ "invoices:write": true })),
                Expect::invalid_token(),
            ),
            Case::new("iss a number", t("iss", json!(1)), Expect::invalid_token()),
            Case::new(
                "iss an array holding the right issuer",
                t("iss", json!([ISS])),
                Expect::invalid_token(),
            ),
            Case::new("aud a number", t("aud", json!(1)), Expect::invalid_token()),
            Case::new("aud [1]", t("aud", json!([1])), Expect::invalid_token()),
            Case::new(
                "aud an object",
                t("aud", json!({ AUD: true })),
                Expect::invalid_token(),
            ),
            Case::new(
                "jti a number (does not fit the default claims)",
                t("jti", json!(5)),
                Expect::invalid_token(),
            ),
            Case::new(
                "typed claims: tenant a number",
                tenant(json!(42)),
                Expect::invalid_token(),
            ),
            Case::new(
                "typed claims: tenant missing",
                get("/tenant").bearer(&token("alice", &[])),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn issuer_and_audience() {
    let t = |key: &str, value: Value| call(&hs(&hs_header(json!({})), &payload_with(key, value)));
    let gone = |key: &str| call(&hs(&hs_header(json!({})), &payload_without(key)));
    table(
        "jwt/iss and aud",
        gate(),
        vec![
            Case::new(
                "control: aud lists another audience and ours",
                t("aud", json!(["other", AUD])),
                Expect::allowed(),
            ),
            Case::new("iss missing", gone("iss"), Expect::invalid_token()),
            Case::new("iss null", t("iss", Value::Null), Expect::invalid_token()),
            Case::new(
                "iss another issuer",
                t("iss", json!("https://evil.example")),
                Expect::invalid_token(),
            ),
            Case::new(
                "iss in upper case",
                t("iss", json!(ISS.to_uppercase())),
                Expect::invalid_token(),
            ),
            Case::new(
                "iss with a trailing slash",
                t("iss", json!(format!("{ISS}/"))),
                Expect::invalid_token(),
            ),
            Case::new(
                "iss with a suffix (lookalike host)",
                t("iss", json!(format!("{ISS}.evil.io"))),
                Expect::invalid_token(),
            ),
            Case::new(
                "iss with a trailing space",
                t("iss", json!(format!("{ISS} "))),
                Expect::invalid_token(),
            ),
            Case::new("iss empty", t("iss", json!("")), Expect::invalid_token()),
            Case::new("aud missing", gone("aud"), Expect::invalid_token()),
            Case::new("aud null", t("aud", Value::Null), Expect::invalid_token()),
            Case::new(
                "aud another audience",
                t("aud", json!("other-api")),
                Expect::invalid_token(),
            ),
            Case::new(
                "aud [\"other\"]",
                t("aud", json!(["other"])),
                Expect::invalid_token(),
            ),
            Case::new(
                "aud two other audiences",
                t("aud", json!(["other-api", "third-api"])),
                Expect::invalid_token(),
            ),
            Case::new("aud []", t("aud", json!([])), Expect::invalid_token()),
            Case::new(
                "aud empty string",
                t("aud", json!("")),
                Expect::invalid_token(),
            ),
            Case::new(
                "aud in upper case",
                t("aud", json!(AUD.to_uppercase())),
                Expect::invalid_token(),
            ),
            Case::new(
                "aud with a trailing space",
                t("aud", json!(format!("{AUD} "))),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
    // Every token names its issuer, and its `iss` picks the keys and rules it is judged by:
    // a token claiming one issuer is never verified with another issuer's keys.
    const RSA_ISS: &str = "https://rsa.example.test";
    let two_issuers = keyless_gate_builder()
        .issuer(test_issuer())
        .issuer(
            Issuer::new(RSA_ISS)
                .key(Key::from_pem(Algorithm::RS256, pem("rsa_public.pem")).unwrap())
                .audience(AUD),
        )
        .build()
        .unwrap();
    let claiming = |iss: Value| with(claims("alice"), "iss", iss);
    let rsa_signed = |claims: &Value| sign(Algorithm::RS256, &rsa_signing_key(), None, claims);
    table(
        "jwt/iss picks the keys (two issuers)",
        two_issuers,
        vec![
            Case::new(
                "control: the HMAC issuer's token",
                call(&token("alice", &[])),
                Expect::allowed(),
            ),
            Case::new(
                "control: the RSA issuer's token",
                call(&rsa_signed(&claiming(json!(RSA_ISS)))),
                Expect::allowed(),
            ),
            Case::new(
                "claims the RSA issuer, signed with the HMAC issuer's secret",
                call(&hs256(&claiming(json!(RSA_ISS)))),
                Expect::invalid_token(),
            ),
            Case::new(
                "claims the HMAC issuer, signed with the RSA issuer's key",
                call(&rsa_signed(&claims("alice"))),
                Expect::invalid_token(),
            ),
            Case::new(
                "claims the RSA issuer, HS256 keyed with its public key PEM",
                call(&sign(
                    Algorithm::HS256,
                    &EncodingKey::from_secret(&pem("rsa_public.pem")),
                    None,
                    &claiming(json!(RSA_ISS)),
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "claims neither issuer, signed with the HMAC secret",
                call(&hs256(&claiming(json!("https://evil.example")))),
                Expect::invalid_token(),
            ),
            Case::new(
                "iss missing, signed with the HMAC secret (no issuer is guessed)",
                call(&hs256(&without(claims("alice"), "iss"))),
                Expect::invalid_token(),
            ),
            Case::new(
                "iss an array of both issuers",
                call(&hs256(&claiming(json!([ISS, RSA_ISS])))),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn duplicate_claim_and_header_names() {
    let exp_ok = NOW + 600;
    let base = format!(r#""iss":"{ISS}","aud":"{AUD}","iat":{NOW},"exp":{exp_ok}"#);
    let dup = |json: &str| call(&hs(&hs_header(json!({})), json));
    let header = |json: &str| call(&hs(json, &payload()));
    table(
        "jwt/duplicate names",
        gate(),
        vec![
            Case::new(
                "sub twice (alice, then admin)",
                dup(&format!(r#"{{"sub":"alice","sub":"admin",{base}}}"#)),
                Expect::invalid_token(),
            ),
            Case::new(
                "sub twice, the second spelled with a \\u escape",
                dup(&format!(r#"{{"sub":"alice","\u0073ub":"admin",{base}}}"#)),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp twice (valid, then expired)",
                dup(&format!(r#"{{"sub":"alice",{base},"exp":1}}"#)),
                Expect::invalid_token(),
            ),
            Case::new(
                "exp twice (expired, then valid)",
                dup(&format!(
                    r#"{{"sub":"alice","iss":"{ISS}","aud":"{AUD}","exp":1,"exp":{exp_ok}}}"#
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "roles twice ([], then [\"admin\"])",
                dup(&format!(
                    r#"{{"sub":"alice","roles":[],"roles":["admin"],{base}}}"#
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "aud twice",
                dup(&format!(r#"{{"sub":"alice",{base},"aud":"other"}}"#)),
                Expect::invalid_token(),
            ),
            Case::new(
                "alg twice in the header (HS256, then none)",
                header(r#"{"alg":"HS256","alg":"none"}"#),
                Expect::invalid_token(),
            ),
            Case::new(
                "alg twice in the header (none, then HS256)",
                header(r#"{"alg":"none","alg":"HS256"}"#),
                Expect::invalid_token(),
            ),
            Case::new(
                "kid twice in the header",
                header(r#"{"alg":"HS256","kid":"a","kid":"b"}"#),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn invalid_base64_utf8_and_json() {
    let header = b64url(hs_header(json!({})).as_bytes());
    let signed_raw = |payload: &[u8]| {
        sign_raw(
            &hs_header(json!({})),
            payload,
            Algorithm::HS256,
            &hs_signing_key(),
        )
    };
    let signed_header = |header: &[u8]| {
        sign_message(
            &format!("{}.{}", b64url(header), b64url(payload().as_bytes())),
            Algorithm::HS256,
            &hs_signing_key(),
        )
    };
    let deep = format!("{}{}", "[".repeat(2000), "]".repeat(2000));
    table(
        "jwt/encoding",
        gate(),
        vec![
            Case::new(
                "payload of `~` (token68, not base64url)",
                call(&format!("{header}.~~~~.sig")),
                Expect::invalid_token(),
            ),
            Case::new(
                "control: a hand-signed payload of the default claims",
                call(&signed_raw(payload().as_bytes())),
                Expect::allowed(),
            ),
            Case::new(
                "header of impossible length (1 character)",
                call(&{
                    let good = token("alice", &[]);
                    let (_, p, s) = parts(&good);
                    format!("e.{p}.{s}")
                }),
                Expect::invalid_token(),
            ),
            Case::new(
                "payload with `+/` appended (standard alphabet, token68)",
                call(&{
                    let good = token("alice", &[]);
                    let (h, p, s) = parts(&good);
                    format!("{h}.{p}+/.{s}")
                }),
                Expect::invalid_token(),
            ),
            Case::new(
                "a claim string that is not UTF-8 (signed)",
                call(&signed_raw(b"{\"sub\":\"\xff\xfe\"}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "payload not JSON (signed)",
                call(&signed_raw(b"alice")),
                Expect::invalid_token(),
            ),
            Case::new(
                "a valid JWS plus a fourth part (base64url of `extra.part`)",
                call(&format!(
                    "{}.{}",
                    token("alice", &[]),
                    b64url(b"extra.part")
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "payload of impossible length (5 characters)",
                call(&sign_message(
                    &format!("{header}.AAAAA"),
                    Algorithm::HS256,
                    &hs_signing_key(),
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "payload with a character outside token68",
                call(&format!("{header}.e30*.sig")),
                Expect::invalid_request(),
            ),
            Case::new(
                "`=` padding inside the token",
                call(&format!("{header}=.e30.sig")),
                Expect::invalid_request(),
            ),
            Case::new(
                "payload bytes that are not UTF-8 (signed)",
                call(&signed_raw(
                    &[b"\xff\xfe".as_slice(), payload().as_bytes()].concat(),
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "overlong UTF-8 for a quote (signed)",
                call(&signed_raw(b"{\"sub\":\"alice\xc0\xa2}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "UTF-16 payload with a BOM (signed)",
                call(&signed_raw(&[0xFE, 0xFF, 0, b'{', 0, b'}'])),
                Expect::invalid_token(),
            ),
            Case::new(
                "UTF-8 BOM before the payload JSON (signed)",
                call(&signed_raw(
                    &[b"\xef\xbb\xbf".as_slice(), payload().as_bytes()].concat(),
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "header bytes that are not UTF-8",
                call(&signed_header(b"{\"alg\":\"HS256\xff\"}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "header a JSON array",
                call(&signed_header(b"[\"HS256\"]")),
                Expect::invalid_token(),
            ),
            Case::new(
                "header JSON null",
                call(&signed_header(b"null")),
                Expect::invalid_token(),
            ),
            Case::new(
                "header not JSON",
                call(&signed_header(b"{alg:HS256}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "header with trailing data",
                call(&signed_header(br#"{"alg":"HS256"}{"alg":"none"}"#)),
                Expect::invalid_token(),
            ),
            Case::new(
                "payload a JSON array (signed)",
                call(&signed_raw(b"[\"alice\"]")),
                Expect::invalid_token(),
            ),
            Case::new(
                "payload a JSON string (signed)",
                call(&signed_raw(b"\"alice\"")),
                Expect::invalid_token(),
            ),
            Case::new(
                "payload {} (signed)",
                call(&signed_raw(b"{}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "payload with trailing data (signed)",
                call(&signed_raw(format!("{}{{}}", payload()).as_bytes())),
                Expect::invalid_token(),
            ),
            Case::new(
                "payload with a comment (signed)",
                call(&signed_raw(format!("/*x*/{}", payload()).as_bytes())),
                Expect::invalid_token(),
            ),
            Case::new(
                "payload nested 2000 arrays deep (signed)",
                call(&signed_raw(
                    payload_with("deep", Value::Null)
                        .replace("null", &deep)
                        .as_bytes(),
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "one part",
                call("eyJhbGciOiJIUzI1NiJ9"),
                Expect::invalid_token(),
            ),
            Case::new(
                "two parts",
                call(&format!("{header}.e30")),
                Expect::invalid_token(),
            ),
            Case::new(
                "four parts",
                call(&format!("{}.x", token("alice", &[]))),
                Expect::invalid_token(),
            ),
            Case::new(
                "five parts (a JWE)",
                call(&format!(
                    "{}.{}.{}.{}.{}",
                    b64url(br#"{"alg":"dir","enc":"A256GCM"}"#),
                    "",
                    "aXY",
                    "Y2lwaGVy",
                    "dGFn"
                )),
                Expect::invalid_token(),
            ),
            Case::new(
                "empty header and payload",
                call(&parts3("", "", "c2ln")),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn oversized_tokens() {
    let padded = |bytes: usize| {
        let base = hs256(&claims("alice")).len();
        // Each padding byte of the claim adds 4/3 bytes of base64; aim a little under.
        let mut pad = (bytes.saturating_sub(base)) * 3 / 4;
        loop {
            let t = hs256(&with(claims("alice"), "pad", json!("p".repeat(pad))));
            if t.len() >= bytes {
                return t;
            }
            pad += 1;
        }
    };
    let big = padded(8193);
    let fits = padded(8000);
    assert!(
        big.len() > 8192 && fits.len() <= 8192,
        "{} {}",
        big.len(),
        fits.len()
    );
    table(
        "jwt/oversized (8 KiB default)",
        gate(),
        vec![
            Case::new(
                "control: a valid 8000-byte token",
                call(&fits),
                Expect::allowed(),
            ),
            Case::new(
                "a validly signed token over 8 KiB",
                call(&big),
                Expect::invalid_request(),
            ),
        ],
    )
    .await;
    let small = gate_builder().max_token_bytes(512).build().unwrap();
    table(
        "jwt/oversized (512-byte bound)",
        small,
        vec![
            Case::new(
                "control: a valid short token",
                call(&token("alice", &[])),
                Expect::allowed(),
            ),
            Case::new(
                "a validly signed token of 513+ bytes",
                call(&padded(513)),
                Expect::invalid_request(),
            ),
        ],
    )
    .await;
}
