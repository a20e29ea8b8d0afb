//! Signing: the [`SigningKey`] and the JWS signing of access tokens and stateless session
//! cookies, with the same crypto backend that verifies them.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::EllipticCurve;
use jsonwebtoken::{Algorithm, AlgorithmFamily, EncodingKey};

use super::{Key, PROVIDER};
use crate::error::GateError;

/// A private key that signs tokens: the access tokens a Gate issues
/// ([`GateBuilder::signing_key`](crate::GateBuilder::signing_key)), stateless session
/// cookies, and the tokens `authgate::testing` mints. The Gate verifies with its public half
/// ([`GateBuilder::signing_key`](crate::GateBuilder::signing_key) adds it);
/// [`GateBuilder::build`](crate::GateBuilder::build) checks that it does.
///
/// ```
/// use authgate::{Algorithm, SigningKey};
///
/// let key = SigningKey::hmac(Algorithm::HS256, "an HMAC secret of at least 32 bytes!!")?;
/// // The same rules as a verification key: short secrets are refused.
/// assert!(SigningKey::hmac(Algorithm::HS256, "short").is_err());
/// // PEM text is a private key, never an HMAC secret.
/// assert!(SigningKey::from_pem(Algorithm::HS256, "-----BEGIN PRIVATE KEY-----").is_err());
/// # Ok::<(), authgate::GateError>(())
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
    /// least as long as the hash: the same check as [`Key::hmac`](crate::Key::hmac).
    pub fn hmac(algorithm: Algorithm, secret: impl AsRef<[u8]>) -> Result<Self, GateError> {
        let secret = secret.as_ref();
        super::keys::check_hmac_secret(algorithm, secret)?;
        Ok(SigningKey {
            algorithm,
            kid: None,
            key: EncodingKey::from_secret(secret),
        })
    }

    /// A private key in PEM form for an RSA, PSS, ECDSA (PKCS#8) or EdDSA algorithm. An HMAC
    /// algorithm is refused: an HMAC secret is not PEM text (use [`SigningKey::hmac`]).
    pub fn from_pem(algorithm: Algorithm, pem: impl AsRef<[u8]>) -> Result<Self, GateError> {
        let pem = pem.as_ref();
        let key = match algorithm.family() {
            AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(pem),
            AlgorithmFamily::Ec => EncodingKey::from_ec_pem(pem),
            AlgorithmFamily::Ed => EncodingKey::from_ed_pem(pem),
            AlgorithmFamily::Hmac => {
                return Err(GateError::WrongKeyType {
                    algorithm,
                    given: "a PEM private key",
                });
            }
        }
        .map_err(|e| GateError::InvalidKey {
            algorithm,
            detail: e.to_string(),
        })?;
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

    /// The key that verifies what this key signs, with the same `kid`: the HMAC secret
    /// itself, or the public half of a private key (derived by the crypto backend).
    pub(crate) fn verification_key(&self) -> Result<Key, GateError> {
        let algorithm = self.algorithm;
        let invalid = |e: jsonwebtoken::errors::Error| GateError::InvalidKey {
            algorithm,
            detail: e.to_string(),
        };
        let der = self.key.as_bytes();
        let utils = &PROVIDER.key_utils;
        // The public halves in the binary forms `Key::from_der` reads (and checks).
        let key = match algorithm.family() {
            AlgorithmFamily::Hmac => Key::hmac(algorithm, der)?,
            AlgorithmFamily::Rsa => {
                let (n, e) = (utils.rsa_pub_components_from_private_key)(der).map_err(invalid)?;
                Key::from_der(algorithm, rsa_public_key_der(&n, &e))?
            }
            AlgorithmFamily::Ec => {
                let (_, x, y) =
                    (utils.ec_pub_components_from_private_key)(der, algorithm).map_err(invalid)?;
                Key::from_der(algorithm, [&[0x04][..], &x, &y].concat())?
            }
            AlgorithmFamily::Ed => {
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

/// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` in DER, from
/// the big-endian modulus and exponent.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
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

/// Signs an access token, `typ: at+jwt` (RFC 9068, section 2.1: a token issued for one
/// purpose is not taken for another; a session cookie's `typ` differs), with our backend (not jsonwebtoken's process default, which panics
/// when another crate enables both of its backends).
pub(crate) fn sign_access_jwt(
    key: &SigningKey,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, String> {
    sign_jwt_typed(key, claims, super::ACCESS_TOKEN_TYP)
}

/// The `typ` of stateless session cookies. A token is accepted only for its purpose
/// (ASVS V9.2.2): a session cookie's JWT is refused as a bearer token, and a bearer token
/// (perhaps long-lived, perhaps from an identity provider) is refused as a session cookie.
pub(crate) const SESSION_TYP: &str = "authgate-session+jwt";

/// Signs a stateless session cookie's JWT (`typ: authgate-session+jwt`).
pub(crate) fn sign_session_jwt(
    key: &SigningKey,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, String> {
    sign_jwt_typed(key, claims, SESSION_TYP)
}

/// Signs a JWT whose header carries this `typ`.
pub(crate) fn sign_jwt_typed(
    key: &SigningKey,
    claims: &serde_json::Map<String, serde_json::Value>,
    typ: &str,
) -> Result<String, String> {
    let mut header = serde_json::json!({ "alg": format!("{:?}", key.algorithm), "typ": typ });
    if let Some(kid) = &key.kid {
        header["kid"] = serde_json::Value::from(kid.as_str());
    }
    let header = serde_json::to_vec(&header).map_err(|e| e.to_string())?;
    let payload = serde_json::to_vec(claims).map_err(|e| e.to_string())?;
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signer = (PROVIDER.signer_factory)(&key.algorithm, &key.key).map_err(|e| e.to_string())?;
    let signature = signer
        .try_sign(message.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
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
                GateError::WeakSecret {
                    algorithm: alg,
                    len: min - 1,
                    min
                }
            );
            let pem = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
            assert!(matches!(
                SigningKey::from_pem(alg, pem),
                Err(GateError::WrongKeyType { .. })
            ));
        }
        assert!(matches!(
            SigningKey::hmac(Algorithm::RS256, [1u8; 64]),
            Err(GateError::WrongKeyType { .. })
        ));
        assert!(matches!(
            SigningKey::from_pem(Algorithm::RS256, b"not pem"),
            Err(GateError::InvalidKey { .. })
        ));
    }
}
