//! The keys of `tests/keys/`, and a Gate whose issuer's keys cannot be had.

use authgate::Gate;
use authgate::issuers::Issuer;
use authgate::keys::{Algorithm, Key};
use jsonwebtoken::EncodingKey;

use super::gate::{AUD, ISS, SECRET, keyless_gate_builder};

/// The bytes of a file in `tests/keys/`.
pub fn pem(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

pub fn rsa_signing_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&pem("rsa_private.pem")).expect("RSA private key")
}

pub fn ec256_signing_key() -> EncodingKey {
    EncodingKey::from_ec_pem(&pem("ec256_private.pk8.pem")).expect("P-256 private key")
}

pub fn ec384_signing_key() -> EncodingKey {
    EncodingKey::from_ec_pem(&pem("ec384_private.pem")).expect("P-384 private key")
}

pub fn ed25519_signing_key() -> EncodingKey {
    EncodingKey::from_ed_pem(&pem("ed25519_private.pem")).expect("Ed25519 private key")
}

pub fn hs_signing_key() -> EncodingKey {
    EncodingKey::from_secret(SECRET)
}

/// A Gate that trusts only the test RSA public key, for RS256 (issuer `ISS`, audience `AUD`).
pub fn rs256_gate() -> Gate {
    keyless_gate_builder()
        .issuer(
            Issuer::new(ISS)
                .key(Key::from_pem(Algorithm::RS256, pem("rsa_public.pem")).unwrap())
                .audience(AUD),
        )
        .build()
        .unwrap()
}

/// The default Gate's settings, but its issuer's keys are fetched from a JWKS endpoint that
/// refuses every connection (the discard port on loopback): its tokens answer 503, never 401
/// and never 200.
pub fn unavailable_keys_gate() -> Gate {
    keyless_gate_builder()
        .issuer(Issuer::jwks(ISS, "http://127.0.0.1:9/jwks.json").audience(AUD))
        .build()
        .expect("gate with fetched keys")
}
