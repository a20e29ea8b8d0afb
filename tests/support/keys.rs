//! The keys of `tests/keys/`, and a key source that can be switched off.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use authgate::{Algorithm, BoxFuture, Gate, Key, KeySet, KeySource, KeySourceError};
use jsonwebtoken::EncodingKey;

use super::gate::{SECRET, keyless_gate_builder};

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

/// A Gate that trusts only the test RSA public key, for RS256.
pub fn rs256_gate() -> Gate {
    keyless_gate_builder()
        .key(Key::from_pem(Algorithm::RS256, pem("rsa_public.pem")).unwrap())
        .build()
        .unwrap()
}

/// A key source serving the default HS256 secret that the test can switch off (it then
/// fails with "JWKS endpoint timed out"), and that counts how often it is asked.
#[derive(Clone)]
pub struct SwitchableSource {
    up: Arc<AtomicBool>,
    asked: Arc<AtomicUsize>,
    keys: Arc<KeySet>,
}

impl SwitchableSource {
    /// Up, serving the default secret.
    pub fn hs256() -> Self {
        let keys = KeySet::new(vec![Key::hmac(Algorithm::HS256, SECRET).unwrap()]).unwrap();
        SwitchableSource {
            up: Arc::new(AtomicBool::new(true)),
            asked: Arc::default(),
            keys: Arc::new(keys),
        }
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    /// How many times a Gate asked for the keys.
    pub fn asked(&self) -> usize {
        self.asked.load(Ordering::SeqCst)
    }
}

impl KeySource for SwitchableSource {
    fn keys(&self) -> BoxFuture<'_, Result<Arc<KeySet>, KeySourceError>> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            if self.up.load(Ordering::SeqCst) {
                Ok(self.keys.clone())
            } else {
                Err(KeySourceError("JWKS endpoint timed out".to_owned()))
            }
        })
    }
}

/// The default Gate's settings, its keys from a [`SwitchableSource`] (up).
pub fn switchable_gate() -> (Gate, SwitchableSource) {
    let source = SwitchableSource::hs256();
    let gate = keyless_gate_builder()
        .key_source(source.clone())
        .build()
        .expect("gate with a key source");
    (gate, source)
}
