//! Verification keys: one [`Key`] per algorithm and `kid`, a checked [`KeySet`], and the
//! [`KeySource`] trait for keys that live elsewhere.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};

use super::{Invalid, PROVIDER};
use crate::error::GateError;

///
/// ```
/// use authgate::{Algorithm, Key};
///
/// let key = Key::hmac(Algorithm::HS256, b"an HMAC secret of at least 32 bytes!!")?.with_kid("2026-11");
/// assert_eq!(key.algorithm(), Algorithm::HS256);
/// assert_eq!(key.kid(), Some("2026-11"));
///
/// // Short secrets are refused with an error that says what to change.
/// let err = Key::hmac(Algorithm::HS256, b"short").unwrap_err();
/// assert!(err.to_string().contains("at least 32 bytes"));
/// # Ok::<(), authgate::GateError>(())
/// ```
#[derive(Clone)]
pub struct Key {
    algorithm: Algorithm,
    kid: Option<String>,
    decoding: DecodingKey,
    /// The key prepared for verification once, here, rather than on every request.
    check: Arc<Check>,
}

/// How a [`Key`] checks a signature: with aws-lc-rs, the key parsed once for the primitive
/// jsonwebtoken's aws-lc-rs backend calls (same algorithms, same key bytes, HMAC compared in
/// constant time by `hmac::verify`); with the rust-crypto backend, through jsonwebtoken's
/// provider.
#[allow(clippy::large_enum_variant)] // one per key, behind an `Arc`
enum Check {
    #[cfg(feature = "aws-lc-rs")]
    Hmac(aws_lc_rs::hmac::Key),
    #[cfg(feature = "aws-lc-rs")]
    Public(aws_lc_rs::signature::ParsedPublicKey),
    /// jsonwebtoken's provider, per call (the rust-crypto backend).
    #[cfg(not(feature = "aws-lc-rs"))]
    Provider,
}

impl Check {
    /// Parses the key for its algorithm; `Err` says why it is not a key of that kind.
    #[cfg(feature = "aws-lc-rs")]
    fn prepare(algorithm: Algorithm, decoding: &DecodingKey) -> Result<Check, &'static str> {
        use aws_lc_rs::hmac;
        use aws_lc_rs::signature::{self as sig, ParsedPublicKey, VerificationAlgorithm};
        if decoding.family() != algorithm.family() {
            return Err("a key of another algorithm family");
        }
        let bytes = decoding.try_get_as_bytes().map_err(|_| "no key bytes")?;
        // The same table as jsonwebtoken's aws-lc-rs backend (crypto/aws_lc/*.rs).
        let public: &'static dyn VerificationAlgorithm = match algorithm {
            Algorithm::HS256 => return Ok(Check::Hmac(hmac::Key::new(hmac::HMAC_SHA256, bytes))),
            Algorithm::HS384 => return Ok(Check::Hmac(hmac::Key::new(hmac::HMAC_SHA384, bytes))),
            Algorithm::HS512 => return Ok(Check::Hmac(hmac::Key::new(hmac::HMAC_SHA512, bytes))),
            Algorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            Algorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
            Algorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
            Algorithm::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
            Algorithm::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
            Algorithm::ES256 => &sig::ECDSA_P256_SHA256_FIXED,
            Algorithm::ES384 => &sig::ECDSA_P384_SHA384_FIXED,
            Algorithm::EdDSA => &sig::ED25519,
            #[allow(unreachable_patterns)] // `Algorithm` may grow
            _ => return Err("an algorithm authgate does not support"),
        };
        ParsedPublicKey::new(public, bytes)
            .map(Check::Public)
            .map_err(|_| "not a public key of this algorithm (RSA keys need 2048 to 8192 bits)")
    }

    /// The rust-crypto backend parses keys per call; here the bytes are checked for the
    /// shape its parsers take: PKCS#1 DER (through jsonwebtoken's PEM reader), a SEC1 point
    /// of the curve's size, or 32 Ed25519 bytes.
    #[cfg(not(feature = "aws-lc-rs"))]
    fn prepare(algorithm: Algorithm, decoding: &DecodingKey) -> Result<Check, &'static str> {
        if decoding.family() != algorithm.family() {
            return Err("a key of another algorithm family");
        }
        let Ok(bytes) = decoding.try_get_as_bytes() else {
            // An RSA key read from PEM: modulus and exponent, parsed by jsonwebtoken.
            return Ok(Check::Provider);
        };
        let ok = match algorithm {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => true,
            Algorithm::ES256 => {
                matches!(bytes, [0x04, ..] if bytes.len() == 65)
                    || matches!(bytes, [0x02 | 0x03, ..] if bytes.len() == 33)
            }
            Algorithm::ES384 => {
                matches!(bytes, [0x04, ..] if bytes.len() == 97)
                    || matches!(bytes, [0x02 | 0x03, ..] if bytes.len() == 49)
            }
            Algorithm::EdDSA => bytes.len() == 32,
            _ => {
                use base64::Engine as _;
                let pem = format!(
                    "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                );
                DecodingKey::from_rsa_pem(pem.as_bytes()).is_ok()
            }
        };
        if ok {
            Ok(Check::Provider)
        } else {
            Err("not a public key of this algorithm")
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material, not even a public key: logs are not the place.
        f.debug_struct("Key")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish()
    }
}

impl Key {
    /// An HMAC secret for HS256, HS384 or HS512. The secret must be at least as long as the
    /// hash (32, 48 or 64 bytes; RFC 7518 section 3.2).
    pub fn hmac(algorithm: Algorithm, secret: impl AsRef<[u8]>) -> Result<Key, GateError> {
        let secret = secret.as_ref();
        check_hmac_secret(algorithm, secret)?;
        Key::new(algorithm, DecodingKey::from_secret(secret))
    }

    /// A public key in PEM form (`-----BEGIN PUBLIC KEY-----` or an RSA public key) for the RSA,
    /// PSS, ECDSA or EdDSA algorithm given.
    ///
    /// ```
    /// use authgate::{Algorithm, Key};
    ///
    /// let err = Key::from_pem(Algorithm::RS256, "-----BEGIN PUBLIC KEY-----\nnot a key").unwrap_err();
    /// assert!(err.to_string().contains("does not parse"));
    /// ```
    pub fn from_pem(algorithm: Algorithm, pem: impl AsRef<[u8]>) -> Result<Key, GateError> {
        let pem = pem.as_ref();
        let decoding = match algorithm.family() {
            AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(pem),
            AlgorithmFamily::Ec => DecodingKey::from_ec_pem(pem),
            AlgorithmFamily::Ed => DecodingKey::from_ed_pem(pem),
            AlgorithmFamily::Hmac => {
                return Err(GateError::WrongKeyType {
                    algorithm,
                    given: "a PEM public key",
                });
            }
        }
        .map_err(|e| invalid_key(algorithm, e.to_string()))?;
        Key::new(algorithm, decoding)
    }

    /// A public key in binary form for the algorithm given: an RSA `RSAPublicKey` (PKCS#1 DER),
    /// an EC point (SEC1), or an Ed25519 public key (32 bytes). Checked like
    /// [`from_pem`](Key::from_pem): bytes that are not such a key are refused here, not on the
    /// first request.
    ///
    /// ```
    /// use authgate::{Algorithm, Key};
    ///
    /// assert!(Key::from_der(Algorithm::RS256, b"not DER").is_err());
    /// assert!(Key::from_der(Algorithm::EdDSA, [0u8; 5]).is_err());
    /// ```
    pub fn from_der(algorithm: Algorithm, der: impl AsRef<[u8]>) -> Result<Key, GateError> {
        let der = der.as_ref();
        let decoding = match algorithm.family() {
            AlgorithmFamily::Rsa => DecodingKey::from_rsa_der(der),
            AlgorithmFamily::Ec => DecodingKey::from_ec_der(der),
            AlgorithmFamily::Ed => DecodingKey::from_ed_der(der),
            AlgorithmFamily::Hmac => {
                return Err(GateError::WrongKeyType {
                    algorithm,
                    given: "a DER public key",
                });
            }
        };
        Key::new(algorithm, decoding)
    }

    /// The key, prepared for verification; refused when its bytes are not a key of the
    /// algorithm's kind.
    pub(super) fn new(algorithm: Algorithm, decoding: DecodingKey) -> Result<Key, GateError> {
        let check = Check::prepare(algorithm, &decoding)
            .map_err(|detail| invalid_key(algorithm, detail.to_owned()))?;
        Ok(Key {
            algorithm,
            kid: None,
            check: Arc::new(check),
            decoding,
        })
    }

    /// Binds the key to a key id: tokens whose header names this `kid` use this key.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Key {
        self.kid = Some(kid.into());
        self
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    #[inline]
    pub(super) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match &*self.check {
            #[cfg(feature = "aws-lc-rs")]
            Check::Hmac(key) => aws_lc_rs::hmac::verify(key, message, signature).is_ok(),
            #[cfg(feature = "aws-lc-rs")]
            Check::Public(key) => key.verify_sig(message, signature).is_ok(),
            #[cfg(not(feature = "aws-lc-rs"))]
            Check::Provider => self.verifies_with_provider(message, signature),
        }
    }

    /// Verification through jsonwebtoken's provider, the key rebuilt for the call.
    #[cfg_attr(all(feature = "aws-lc-rs", not(test)), allow(dead_code))] // tests compare with it
    fn verifies_with_provider(&self, message: &[u8], signature: &[u8]) -> bool {
        match (PROVIDER.verifier_factory)(&self.algorithm, &self.decoding) {
            Ok(verifier) => verifier.verify(message, &signature.to_vec()).is_ok(),
            Err(_) => false,
        }
    }
}

/// The length rule of HMAC secrets (RFC 7518 section 3.2): at least the hash's size.
pub(super) fn check_hmac_secret(algorithm: Algorithm, secret: &[u8]) -> Result<(), GateError> {
    let min = match algorithm {
        Algorithm::HS256 => 32,
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        other => {
            return Err(GateError::WrongKeyType {
                algorithm: other,
                given: "an HMAC secret",
            });
        }
    };
    if secret.len() < min {
        return Err(GateError::WeakSecret {
            algorithm,
            len: secret.len(),
            min,
        });
    }
    Ok(())
}

fn invalid_key(algorithm: Algorithm, detail: String) -> GateError {
    GateError::InvalidKey { algorithm, detail }
}

/// The keys one Gate trusts, checked for consistency when built.
///
/// Refused: an empty set; HMAC secrets next to public keys (the classic algorithm-confusion
/// setup); public keys of several families without a `kid` on each; two keys with one `kid`.
///
/// ```
/// use authgate::{Algorithm, Key, KeySet};
///
/// let a = Key::hmac(Algorithm::HS256, [1u8; 32])?.with_kid("a");
/// let b = Key::hmac(Algorithm::HS512, [2u8; 64])?.with_kid("b");
/// let keys = KeySet::new(vec![a, b])?;
/// assert_eq!(keys.len(), 2);
/// # Ok::<(), authgate::GateError>(())
/// ```
#[derive(Clone, Debug)]
pub struct KeySet {
    keys: Vec<Key>,
    by_kid: HashMap<String, usize>,
}

impl KeySet {
    /// Checks and indexes `keys`.
    pub fn new(keys: Vec<Key>) -> Result<KeySet, GateError> {
        if keys.is_empty() {
            return Err(GateError::NoKey);
        }
        let hmac = keys
            .iter()
            .filter(|k| k.algorithm.family() == AlgorithmFamily::Hmac)
            .count();
        if hmac != 0 && hmac != keys.len() {
            return Err(GateError::MixedFamilies);
        }
        let families = |k: &Key| k.algorithm.family() as u8;
        let first = families(&keys[0]);
        if keys.iter().any(|k| families(k) != first) && keys.iter().any(|k| k.kid.is_none()) {
            return Err(GateError::MixedFamilies);
        }
        let mut by_kid = HashMap::new();
        for (i, key) in keys.iter().enumerate() {
            if let Some(kid) = &key.kid
                && by_kid.insert(kid.clone(), i).is_some()
            {
                return Err(GateError::DuplicateKid(kid.clone()));
            }
        }
        Ok(KeySet { keys, by_kid })
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: an empty set cannot be built.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key with this `kid`.
    #[cfg(all(test, feature = "oidc"))]
    pub(crate) fn by_kid(&self, kid: &str) -> Option<&Key> {
        self.by_kid.get(kid).map(|&i| &self.keys[i])
    }

    /// The keys a token with this header may be verified with.
    #[inline]
    pub(super) fn candidates<'a>(
        &'a self,
        alg: Algorithm,
        kid: Option<&str>,
    ) -> Result<impl Iterator<Item = &'a Key>, Invalid> {
        let by_kid = match kid {
            Some(kid) => Some(*self.by_kid.get(kid).ok_or(Invalid::UnknownKid)?),
            None => None,
        };
        let keys: &[Key] = match by_kid {
            Some(i) => std::slice::from_ref(&self.keys[i]),
            None => &self.keys,
        };
        Ok(keys.iter().filter(move |k| k.algorithm == alg))
    }
}

/// Which version of one issuer's key set is in use, and until when it may be used: what the
/// token cache checks an entry of that issuer against on every hit, so that new keys, or keys
/// that became too stale to trust, end the entries verified with the old ones.
#[derive(Debug)]
pub(crate) struct KeyEpoch {
    generation: AtomicU64,
    /// On the monotonic clock of [`monotonic_ms`]; `u64::MAX` for keys that never go stale.
    usable_until_ms: AtomicU64,
}

impl KeyEpoch {
    /// An epoch of keys that never change (static keys).
    pub(crate) fn fixed() -> KeyEpoch {
        KeyEpoch {
            generation: AtomicU64::new(next_generation()),
            usable_until_ms: AtomicU64::new(u64::MAX),
        }
    }

    /// The generation of the keys in use now.
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether an entry verified under `generation` may still answer.
    #[inline]
    pub(crate) fn allows(&self, generation: u64) -> bool {
        self.generation() == generation
            && monotonic_ms() < self.usable_until_ms.load(Ordering::Acquire)
    }

    /// Whether the keys in use now may be used.
    #[inline]
    #[cfg_attr(not(feature = "oidc"), allow(dead_code))]
    pub(crate) fn usable(&self) -> bool {
        monotonic_ms() < self.usable_until_ms.load(Ordering::Acquire)
    }

    /// New keys, or the same ones confirmed: `generation` (from [`next_generation`], or the
    /// current one) is in use until `usable_until_ms`.
    #[cfg_attr(not(any(feature = "oidc", test)), allow(dead_code))]
    pub(crate) fn set(&self, generation: u64, usable_until_ms: u64) {
        self.generation.store(generation, Ordering::Release);
        self.usable_until_ms
            .store(usable_until_ms, Ordering::Release);
    }
}

/// A generation number no key set had before (process-wide, never 0).
pub(crate) fn next_generation() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Milliseconds on a monotonic clock, never 0: the coarse clock on Linux (a few ms of
/// resolution, cheap enough for the cache-hit path), for the staleness deadlines of fetched
/// keys and of the revocation view. Unaffected by the Gate's own clock, which tests may fix.
pub(crate) fn monotonic_ms() -> u64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::time::{ClockId, DynamicClockId, clock_gettime_dynamic};
        if let Ok(t) = clock_gettime_dynamic(DynamicClockId::Known(ClockId::MonotonicCoarse)) {
            return (t.tv_sec as u64)
                .saturating_mul(1000)
                .saturating_add(t.tv_nsec as u64 / 1_000_000)
                .max(1);
        }
    }
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u64
        + 1
}

/// A source of verification keys that may be remote (a JWKS endpoint, a secrets manager).
///
/// When it fails, guarded routes answer 503, never 401 and never 200. Static keys given to the
/// [`GateBuilder`](crate::GateBuilder) need no source.
///
/// ```
/// use std::sync::Arc;
/// use authgate::{KeySet, KeySource, KeySourceError, BoxFuture};
///
/// struct Vault { current: Arc<KeySet> }
/// impl KeySource for Vault {
///     fn keys(&self) -> BoxFuture<'_, Result<Arc<KeySet>, KeySourceError>> {
///         Box::pin(async move { Ok(self.current.clone()) })
///     }
/// }
/// ```
pub trait KeySource: Send + Sync + 'static {
    /// The keys to verify with now.
    fn keys(&self) -> BoxFuture<'_, Result<Arc<KeySet>, KeySourceError>>;
}

/// A boxed, sendable future, as [`KeySource::keys`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A key source could not produce keys; guarded routes answer 503.
#[derive(Debug)]
pub struct KeySourceError(pub String);

impl fmt::Display for KeySourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key source unavailable: {}", self.0)
    }
}

impl std::error::Error for KeySourceError {}

impl KeySet {
    /// The first HMAC secret: what a Gate of HMAC keys issues its tokens with.
    pub(crate) fn hmac_secret(&self) -> Option<(Algorithm, Option<String>, Vec<u8>)> {
        self.keys.iter().find_map(|key| {
            let bytes = key.decoding.try_get_as_bytes().ok()?;
            (key.algorithm.family() == AlgorithmFamily::Hmac)
                .then(|| (key.algorithm, key.kid.clone(), bytes.to_vec()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::SigningKey;

    /// The keys prepared once (aws-lc-rs) accept and refuse exactly what jsonwebtoken's
    /// provider does, for every algorithm.
    #[test]
    fn prepared_keys_agree_with_the_provider() {
        let keys = |name: &str| {
            std::fs::read(format!(
                "{}/../tests/keys/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        let public = |alg, name: &str| Key::from_pem(alg, keys(name)).unwrap();
        let private = |alg, name: &str| SigningKey::from_pem(alg, keys(name)).unwrap();
        let secret = [7u8; 64];
        let mut cases = Vec::new();
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            cases.push((
                Key::hmac(alg, secret).unwrap(),
                SigningKey::hmac(alg, secret).unwrap(),
            ));
        }
        for alg in [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ] {
            cases.push((
                public(alg, "rsa_public.pem"),
                private(alg, "rsa_private.pem"),
            ));
        }
        cases.push((
            public(Algorithm::ES256, "ec256_public.pem"),
            private(Algorithm::ES256, "ec256_private.pk8.pem"),
        ));
        cases.push((
            public(Algorithm::ES384, "ec384_public.pem"),
            private(Algorithm::ES384, "ec384_private.pem"),
        ));
        cases.push((
            public(Algorithm::EdDSA, "ed25519_public.pem"),
            private(Algorithm::EdDSA, "ed25519_private.pem"),
        ));
        for (key, signing) in cases {
            let alg = key.algorithm();
            let message = b"eyJhbGciOiJub25lIn0.eyJzdWIiOiI3In0";
            let signer = (PROVIDER.signer_factory)(&alg, &signing.key).unwrap();
            let good = signer.try_sign(message).unwrap();
            let mut flipped = good.clone();
            flipped[good.len() / 2] ^= 1;
            let mut longer = good.clone();
            longer.push(0);
            let checks: [(&[u8], &[u8], bool); 6] = [
                (message, &good, true),
                (message, &flipped, false),
                (message, &good[..good.len() - 1], false),
                (message, &longer, false),
                (message, &[], false),
                (b"eyJhbGciOiJub25lIn0.eyJzdWIiOiI4In0", &good, false),
            ];
            for (i, (msg, sig, want)) in checks.into_iter().enumerate() {
                assert_eq!(key.verifies(msg, sig), want, "{alg:?} case {i}");
                assert_eq!(
                    key.verifies_with_provider(msg, sig),
                    want,
                    "{alg:?} case {i}"
                );
            }
        }
    }

    /// `from_der` takes the bytes `from_pem` reads out of a PEM file, and refuses what is not
    /// such a key, for every family, when the key is made (not on the first request).
    #[test]
    fn der_keys_are_checked_like_pem_keys() {
        let file = |name: &str| {
            std::fs::read(format!(
                "{}/../tests/keys/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        let cases = [
            (Algorithm::RS256, "rsa_public.pem", "rsa_private.pem"),
            (
                Algorithm::ES256,
                "ec256_public.pem",
                "ec256_private.pk8.pem",
            ),
            (Algorithm::ES384, "ec384_public.pem", "ec384_private.pem"),
            (
                Algorithm::EdDSA,
                "ed25519_public.pem",
                "ed25519_private.pem",
            ),
        ];
        for (alg, public, private) in cases {
            let pem = Key::from_pem(alg, file(public)).unwrap();
            let der = pem.decoding.try_get_as_bytes().unwrap().to_vec();
            let key = Key::from_der(alg, &der).unwrap();
            let signing = SigningKey::from_pem(alg, file(private)).unwrap();
            let message = b"eyJhbGciOiJub25lIn0.eyJzdWIiOiI3In0";
            let signer = (PROVIDER.signer_factory)(&alg, &signing.key).unwrap();
            assert!(
                key.verifies(message, &signer.try_sign(message).unwrap()),
                "{alg:?}"
            );
            for bad in [&b""[..], b"not DER", &der[..der.len() / 2], &[0u8; 32][..]] {
                if alg == Algorithm::EdDSA && bad.len() == 32 {
                    continue; // any 32 bytes may be an Ed25519 point encoding
                }
                assert!(
                    matches!(Key::from_der(alg, bad), Err(GateError::InvalidKey { .. })),
                    "{alg:?} accepted {} bytes",
                    bad.len()
                );
            }
        }
        assert!(matches!(
            Key::from_der(Algorithm::HS256, [0u8; 32]),
            Err(GateError::WrongKeyType { .. })
        ));
        assert!(matches!(
            Key::from_pem(Algorithm::RS256, file("ec256_public.pem")),
            Err(GateError::InvalidKey { .. })
        ));
    }

    #[test]
    fn mixed_families_refused() {
        let h = Key::hmac(Algorithm::HS256, [0u8; 32]).unwrap();
        assert!(matches!(KeySet::new(vec![]), Err(GateError::NoKey)));
        let dup = vec![h.clone().with_kid("a"), h.clone().with_kid("a")];
        assert!(matches!(KeySet::new(dup), Err(GateError::DuplicateKid(_))));
        assert!(matches!(
            Key::hmac(Algorithm::RS256, [0u8; 32]),
            Err(GateError::WrongKeyType { .. })
        ));
    }
}
