//! Claims and tokens: valid claims for the default Gate, HS256 and other signatures, raw JWS
//! building and base64url.

use authgate::keys::Algorithm;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use super::gate::{AUD, ISS, NOW};
use super::keys::hs_signing_key;

/// Valid claims for `sub` under the default Gate: issuer, audience, `iat` now, `exp` in 10 min.
pub fn claims(sub: &str) -> Value {
    json!({ "sub": sub, "iss": ISS, "aud": AUD, "iat": NOW, "exp": NOW + 600 })
}

/// `claims(sub)` with `roles` set.
pub fn claims_with_roles(sub: &str, roles: &[&str]) -> Value {
    with(claims(sub), "roles", json!(roles))
}

/// The claims with `key` set to `value`.
pub fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims
        .as_object_mut()
        .expect("claims are an object")
        .insert(key.to_owned(), value);
    claims
}

/// The claims without `key`.
pub fn without(mut claims: Value, key: &str) -> Value {
    claims
        .as_object_mut()
        .expect("claims are an object")
        .remove(key);
    claims
}

/// The crypto crate's name of `alg`, for signing with it.
pub fn jwa(alg: Algorithm) -> jsonwebtoken::Algorithm {
    alg.to_string().parse().expect("the same algorithm names")
}

/// A JWS of `claims` signed with `alg` and `key`, with an optional `kid` header.
pub fn sign(alg: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(jwa(alg));
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("encode token")
}

/// An HS256 token of `claims` signed with the default Gate's secret.
pub fn hs256(claims: &Value) -> String {
    sign(Algorithm::HS256, &hs_signing_key(), None, claims)
}

/// A valid HS256 token for `sub` with these roles.
pub fn token(sub: &str, roles: &[&str]) -> String {
    hs256(&claims_with_roles(sub, roles))
}

/// A JWS built from a hand-written header and raw payload bytes, correctly signed with
/// `alg`/`key`: for duplicate claims, `crit`, non-UTF-8 payloads and similar.
pub fn sign_raw(header_json: &str, payload: &[u8], alg: Algorithm, key: &EncodingKey) -> String {
    let message = format!("{}.{}", b64url(header_json.as_bytes()), b64url(payload));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, jwa(alg)).expect("sign");
    format!("{message}.{signature}")
}

/// Unpadded base64url (RFC 4648 section 5), written out to avoid a dependency.
pub fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The three parts of a compact JWS.
pub fn parts(token: &str) -> (&str, &str, &str) {
    let mut it = token.split('.');
    let parts = (
        it.next().expect("header"),
        it.next().expect("payload"),
        it.next().expect("signature"),
    );
    assert!(it.next().is_none(), "not a three-part token: {token}");
    parts
}
