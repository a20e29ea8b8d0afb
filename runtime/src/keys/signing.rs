//! Signing keys: the private half (or the HMAC secret) that signs what a Gate issues.

use std::fmt;

use jsonwebtoken::EncodingKey;
use jsonwebtoken::jwk::EllipticCurve;

use super::PROVIDER;
use super::key::{Key, check_hmac_secret, invalid_key, rsa_public_key_der, wrong_type};
use crate::algorithm::{Algorithm, Family};
use crate::error::ConfigError;

/// A key that signs tokens: the access tokens a Gate issues as its
/// [`Issuer`](crate::issuers::Issuer) ([`Issuer::signing_key`](crate::issuers::Issuer::signing_key)),
/// stateless session cookies ([`Sessions::stateless`](crate::sessions::Sessions::stateless)),
/// and the tokens `authgate::testing` mints. What it signs is verified with its public half
/// (or the same secret), which authgate derives from it.
///
/// ```
/// use authgate::keys::{Algorithm, SigningKey};
///
/// let key = SigningKey::hmac(Algorithm::HS256, "an HMAC secret of at least 32 bytes!!")?;
/// // The same rules as a verification key: short secrets are refused.
/// assert!(SigningKey::hmac(Algorithm::HS256, "short").is_err());
/// // PEM text is a private key, never an HMAC secret.
/// assert!(SigningKey::from_pem(Algorithm::HS256, "-----BEGIN PRIVATE KEY-----").is_err());
/// # Ok::<(), authgate::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct SigningKey {
    pub(crate) algorithm: Algorithm,
    pub(crate) kid: Option<String>,
    pub(crate) key: EncodingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish()
    }
}

impl SigningKey {
    /// An HMAC secret for HS256, HS384 or HS512 (the same one the Gate verifies with), at
    /// least as long as the hash: the same check as [`Key::hmac`].
    pub fn hmac(algorithm: Algorithm, secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let secret = secret.as_ref();
        check_hmac_secret(algorithm, secret)?;
        Ok(SigningKey {
            algorithm,
            kid: None,
            key: EncodingKey::from_secret(secret),
        })
    }

    /// A private key in PEM form for an RSA, PSS, ECDSA (PKCS#8) or EdDSA algorithm. An HMAC
    /// algorithm is refused: an HMAC secret is not PEM text (use [`SigningKey::hmac`]).
    pub fn from_pem(algorithm: Algorithm, pem: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let pem = pem.as_ref();
        let key = match algorithm.family() {
            Family::Rsa => EncodingKey::from_rsa_pem(pem),
            Family::Ec => EncodingKey::from_ec_pem(pem),
            Family::Ed => EncodingKey::from_ed_pem(pem),
            Family::Hmac => return Err(wrong_type(algorithm, "a PEM private key")),
        }
        .map_err(|e| invalid_key(algorithm, e.to_string()))?;
        Ok(SigningKey {
            algorithm,
            kid: None,
            key,
        })
    }

    /// Names the `kid` put in the token header.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Whether `key` verifies what this key signs: the public half of this private key, or the
    /// same secret.
    pub(crate) fn pairs_with(&self, key: &Key) -> bool {
        let message = b"authgate: does this key verify what that key signs?";
        let Ok(signer) = (PROVIDER.signer_factory)(&self.algorithm.jwa(), &self.key) else {
            return false;
        };
        signer
            .try_sign(message)
            .is_ok_and(|signature| key.verifies(message, &signature))
    }

    /// The key that verifies what this key signs, with the same `kid`: the HMAC secret
    /// itself, or the public half of a private key (derived by the crypto backend).
    pub(crate) fn verification_key(&self) -> Result<Key, ConfigError> {
        let algorithm = self.algorithm;
        let invalid = |e: jsonwebtoken::errors::Error| invalid_key(algorithm, e.to_string());
        let der = self.key.as_bytes();
        let utils = &PROVIDER.key_utils;
        // The public halves in the binary forms `Key::from_der` reads (and checks).
        let key = match algorithm.family() {
            Family::Hmac => Key::hmac(algorithm, der)?,
            Family::Rsa => {
                let (n, e) = (utils.rsa_pub_components_from_private_key)(der).map_err(invalid)?;
                Key::from_der(algorithm, rsa_public_key_der(&n, &e))?
            }
            Family::Ec => {
                let (_, x, y) = (utils.ec_pub_components_from_private_key)(der, algorithm.jwa())
                    .map_err(invalid)?;
                Key::from_der(algorithm, [&[0x04][..], &x, &y].concat())?
            }
            Family::Ed => {
                let x = (utils.ed_pub_components_from_private_key)(der, &EllipticCurve::Ed25519)
                    .map_err(invalid)?;
                Key::from_der(algorithm, x)?
            }
        };
        Ok(match &self.kid {
            Some(kid) => key.with_kid(kid.clone()),
            None => key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signing keys follow the rules of verification keys: HMAC secrets at least as long as
    /// their hash, and PEM text only for the public-key families.
    #[test]
    fn signing_keys_are_checked_like_verification_keys() {
        for (alg, min) in [
            (Algorithm::HS256, 32),
            (Algorithm::HS384, 48),
            (Algorithm::HS512, 64),
        ] {
            assert!(SigningKey::hmac(alg, vec![1u8; min]).is_ok(), "{alg:?}");
            assert_eq!(
                SigningKey::hmac(alg, vec![1u8; min - 1]).unwrap_err(),
                crate::error::ConfigProblem::WeakSecret {
                    algorithm: alg,
                    len: min - 1,
                    min
                }
                .into()
            );
            let pem = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
            assert!(matches!(
                SigningKey::from_pem(alg, pem),
                Err(e) if matches!(e.problems(), [crate::error::ConfigProblem::WrongKeyType { .. }])
            ));
        }
        assert!(matches!(
            SigningKey::hmac(Algorithm::RS256, [1u8; 64]),
            Err(e) if matches!(e.problems(), [crate::error::ConfigProblem::WrongKeyType { .. }])
        ));
        assert!(matches!(
            SigningKey::from_pem(Algorithm::RS256, b"not pem"),
            Err(e) if matches!(e.problems(), [crate::error::ConfigProblem::InvalidKey { .. }])
        ));
    }
}
