//! Verification keys: a [`Key`] is bound to one algorithm and, optionally, one `kid`.

use std::fmt;
use std::sync::Arc;

use jsonwebtoken::DecodingKey;

use super::PROVIDER;
use crate::algorithm::{Algorithm, Family};
use crate::error::{ConfigError, ConfigProblem};

/// A key that verifies token signatures: an HMAC secret or a public key, bound to exactly one
/// [`Algorithm`] (so an RSA public key can never be used as an HMAC secret) and, with
/// [`with_kid`](Key::with_kid), to one `kid`. Give it to an
/// [`Issuer`](crate::issuers::Issuer).
///
/// ```
/// use authgate::keys::{Algorithm, Key};
///
/// let key = Key::hmac(Algorithm::HS256, b"an HMAC secret of at least 32 bytes!!")?.with_kid("2026-11");
/// assert_eq!(key.algorithm(), Algorithm::HS256);
/// assert_eq!(key.kid(), Some("2026-11"));
///
/// // Short secrets are refused with an error that says what to change.
/// let err = Key::hmac(Algorithm::HS256, b"short").unwrap_err();
/// assert!(err.to_string().contains("at least 32 bytes"));
/// # Ok::<(), authgate::ConfigError>(())
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
        if decoding.family() != algorithm.jwa().family() {
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
        if decoding.family() != algorithm.jwa().family() {
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
    pub fn hmac(algorithm: Algorithm, secret: impl AsRef<[u8]>) -> Result<Key, ConfigError> {
        let secret = secret.as_ref();
        check_hmac_secret(algorithm, secret)?;
        Key::new(algorithm, DecodingKey::from_secret(secret))
    }

    /// A public key in PEM form (`-----BEGIN PUBLIC KEY-----` or an RSA public key) for the RSA,
    /// PSS, ECDSA or EdDSA algorithm given.
    ///
    /// ```
    /// use authgate::keys::{Algorithm, Key};
    ///
    /// let err = Key::from_pem(Algorithm::RS256, "-----BEGIN PUBLIC KEY-----\nnot a key").unwrap_err();
    /// assert!(err.to_string().contains("does not parse"));
    /// ```
    pub fn from_pem(algorithm: Algorithm, pem: impl AsRef<[u8]>) -> Result<Key, ConfigError> {
        let pem = pem.as_ref();
        let decoding = match algorithm.family() {
            Family::Rsa => DecodingKey::from_rsa_pem(pem),
            Family::Ec => DecodingKey::from_ec_pem(pem),
            Family::Ed => DecodingKey::from_ed_pem(pem),
            Family::Hmac => {
                return Err(wrong_type(algorithm, "a PEM public key"));
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
    /// use authgate::keys::{Algorithm, Key};
    ///
    /// assert!(Key::from_der(Algorithm::RS256, b"not DER").is_err());
    /// assert!(Key::from_der(Algorithm::EdDSA, [0u8; 5]).is_err());
    /// ```
    pub fn from_der(algorithm: Algorithm, der: impl AsRef<[u8]>) -> Result<Key, ConfigError> {
        let der = der.as_ref();
        let decoding = match algorithm.family() {
            Family::Rsa => DecodingKey::from_rsa_der(der),
            Family::Ec => DecodingKey::from_ec_der(der),
            Family::Ed => DecodingKey::from_ed_der(der),
            Family::Hmac => {
                return Err(wrong_type(algorithm, "a DER public key"));
            }
        };
        Key::new(algorithm, decoding)
    }

    /// The key, prepared for verification; refused when its bytes are not a key of the
    /// algorithm's kind.
    pub(crate) fn new(algorithm: Algorithm, decoding: DecodingKey) -> Result<Key, ConfigError> {
        if algorithm.family() == Family::Rsa
            && let Ok(der) = decoding.try_get_as_bytes()
        {
            check_rsa_size(der).map_err(|detail| invalid_key(algorithm, detail))?;
        }
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
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
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
        match (PROVIDER.verifier_factory)(&self.algorithm.jwa(), &self.decoding) {
            Ok(verifier) => verifier.verify(message, &signature.to_vec()).is_ok(),
            Err(_) => false,
        }
    }
}

/// The length rule of HMAC secrets (RFC 7518 section 3.2): at least the hash's size.
pub(crate) fn check_hmac_secret(algorithm: Algorithm, secret: &[u8]) -> Result<(), ConfigError> {
    let min = match algorithm {
        Algorithm::HS256 => 32,
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        other => return Err(wrong_type(other, "an HMAC secret")),
    };
    if secret.len() < min {
        return Err(ConfigProblem::WeakSecret {
            algorithm,
            len: secret.len(),
            min,
        }
        .into());
    }
    Ok(())
}

/// The smallest and largest RSA modulus accepted, in bits: the range aws-lc-rs verifies
/// (`RSA_PKCS1_2048_8192_*`), checked when a key is made, whatever the backend, so that a weak
/// key is refused at once (a PEM or DER key, a key of a fetched set) instead of failing every
/// token it is asked to verify, or, with a backend without that floor, verifying them.
pub(crate) const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

/// Refuses a PKCS#1 `RSAPublicKey` whose modulus is outside [`RSA_BITS`]; bytes that are not
/// such a structure are left to the backend's parser, which refuses them.
pub(crate) fn check_rsa_size(der: &[u8]) -> Result<(), String> {
    match rsa_modulus_bits(der) {
        Some(bits) if !RSA_BITS.contains(&bits) => Err(format!(
            "an RSA key of {bits} bits; RSA keys need {} to {} bits",
            RSA_BITS.start(),
            RSA_BITS.end()
        )),
        _ => Ok(()),
    }
}

/// The size in bits of the modulus of a DER `RSAPublicKey ::= SEQUENCE { modulus INTEGER,
/// publicExponent INTEGER }`; `None` when the bytes do not start that way.
fn rsa_modulus_bits(der: &[u8]) -> Option<usize> {
    /// One DER tag-length header: the content's length and the bytes after the header.
    fn header(bytes: &[u8], tag: u8) -> Option<(usize, &[u8])> {
        let (&first, rest) = bytes.split_first()?;
        if first != tag {
            return None;
        }
        let (&len, rest) = rest.split_first()?;
        if len < 0x80 {
            return Some((usize::from(len), rest));
        }
        let count = usize::from(len & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        Some((len, &rest[count..]))
    }
    let (_, body) = header(der, 0x30)?;
    let (len, rest) = header(body, 0x02)?;
    let modulus = rest.get(..len)?;
    let modulus = &modulus[modulus.iter().take_while(|&&b| b == 0).count()..];
    let top = modulus.first()?;
    Some((modulus.len() - 1) * 8 + (8 - top.leading_zeros() as usize))
}

pub(crate) fn invalid_key(algorithm: Algorithm, detail: String) -> ConfigError {
    ConfigProblem::InvalidKey { algorithm, detail }.into()
}

pub(crate) fn wrong_type(algorithm: Algorithm, given: &'static str) -> ConfigError {
    ConfigProblem::WrongKeyType { algorithm, given }.into()
}

impl Key {
    /// The key's bytes as the crypto crate holds them (a public key's DER form), for tests.
    #[cfg(test)]
    pub(crate) fn der(&self) -> &[u8] {
        self.decoding.try_get_as_bytes().unwrap_or_default()
    }
}

/// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` in DER, from
/// the big-endian modulus and exponent: the form [`Key::from_der`] reads (and size-checks).
pub(crate) fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn length(out: &mut Vec<u8>, len: usize) {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            out.push(0x80 | (bytes.len() - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
    }
    fn integer(out: &mut Vec<u8>, value: &[u8]) {
        let value = &value[value.iter().take_while(|&&b| b == 0).count()..];
        // A leading zero keeps a value with its top bit set positive.
        let pad = value.first().is_none_or(|&b| b & 0x80 != 0);
        out.push(0x02);
        length(out, value.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(value);
    }
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    integer(&mut body, n);
    integer(&mut body, e);
    let mut der = vec![0x30];
    length(&mut der, body.len());
    der.extend_from_slice(&body);
    der
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SigningKey;
    use crate::keys::set::KeySet;

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
            let signer = (PROVIDER.signer_factory)(&alg.jwa(), &signing.key).unwrap();
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
            let der = pem.der().to_vec();
            let key = Key::from_der(alg, &der).unwrap();
            let signing = SigningKey::from_pem(alg, file(private)).unwrap();
            let message = b"eyJhbGciOiJub25lIn0.eyJzdWIiOiI3In0";
            let signer = (PROVIDER.signer_factory)(&alg.jwa(), &signing.key).unwrap();
            assert!(
                key.verifies(message, &signer.try_sign(message).unwrap()),
                "{alg:?}"
            );
            for bad in [&b""[..], b"not DER", &der[..der.len() / 2], &[0u8; 32][..]] {
                if alg == Algorithm::EdDSA && bad.len() == 32 {
                    continue; // any 32 bytes may be an Ed25519 point encoding
                }
                assert!(
                    matches!(Key::from_der(alg, bad), Err(e) if matches!(e.problems(), [ConfigProblem::InvalidKey { .. }])),
                    "{alg:?} accepted {} bytes",
                    bad.len()
                );
            }
        }
        let problem = |result: Result<Key, ConfigError>| result.unwrap_err().problems()[0].clone();
        assert!(matches!(
            problem(Key::from_der(Algorithm::HS256, [0u8; 32])),
            ConfigProblem::WrongKeyType { .. }
        ));
        assert!(matches!(
            problem(Key::from_pem(Algorithm::RS256, file("ec256_public.pem"))),
            ConfigProblem::InvalidKey { .. }
        ));
    }

    /// An RSA key outside 2048 to 8192 bits is refused when it is made, from PEM or DER, for
    /// verifying or (through its public half) signing, whatever the backend; the error names the size, not the key.
    #[test]
    fn weak_rsa_keys_refused() {
        let file = |name: &str| {
            std::fs::read(format!(
                "{}/../tests/keys/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        let good = Key::from_pem(Algorithm::RS256, file("rsa_public.pem")).unwrap();
        assert_eq!(rsa_modulus_bits(good.der()), Some(2048));
        let refused = |result: Result<Key, ConfigError>| match result {
            Err(e) => match e.problems() {
                [ConfigProblem::InvalidKey { detail, .. }] => detail.clone(),
                other => panic!("{other:?}"),
            },
            Ok(_) => panic!("a 1024-bit RSA key was accepted"),
        };
        let detail = refused(Key::from_pem(Algorithm::PS256, file("rsa1024_public.pem")));
        assert_eq!(
            detail,
            "an RSA key of 1024 bits; RSA keys need 2048 to 8192 bits"
        );
        // The same modulus in DER (PKCS#1), as a fetched JWK arrives.
        let der = DecodingKey::from_rsa_pem(&file("rsa1024_public.pem")).unwrap();
        let der = der.try_get_as_bytes().unwrap();
        assert_eq!(rsa_modulus_bits(der), Some(1024));
        refused(Key::from_der(Algorithm::RS256, der));
        // A weak signing key: its public half is refused (when the Gate is built).
        let signing = SigningKey::from_pem(Algorithm::RS256, file("rsa1024_private.pem")).unwrap();
        refused(signing.verification_key());
        // Over 8192 bits: a modulus of 8200 bits.
        let mut n = vec![0xffu8; 1025];
        n[0] = 0x01;
        let big = rsa_public_key_der(&n, &[1, 0, 1]);
        assert_eq!(rsa_modulus_bits(&big), Some(8193));
        refused(Key::from_der(Algorithm::RS256, &big));
        assert_eq!(rsa_modulus_bits(b"not DER"), None);
    }

    #[test]
    fn mixed_families_refused() {
        let h = Key::hmac(Algorithm::HS256, [0u8; 32]).unwrap();
        assert!(matches!(
            KeySet::new("i", vec![]),
            Err(ConfigProblem::NoKeys { .. })
        ));
        let dup = vec![h.clone().with_kid("a"), h.clone().with_kid("a")];
        assert!(matches!(
            KeySet::new("i", dup),
            Err(ConfigProblem::DuplicateKid { kid, .. }) if kid == "a"
        ));
        let rsa = Key::from_pem(
            Algorithm::RS256,
            include_bytes!("../../../tests/keys/rsa_public.pem"),
        )
        .unwrap();
        assert!(matches!(
            KeySet::new("i", vec![h.clone(), rsa]),
            Err(ConfigProblem::MixedFamilies { .. })
        ));
        assert!(matches!(
            Key::hmac(Algorithm::RS256, [0u8; 32])
                .unwrap_err()
                .problems(),
            [ConfigProblem::WrongKeyType { .. }]
        ));
    }
}
