//! JSON Web Key Sets (RFC 7517) read into a [`KeySet`]: RSA, EC P-256 and P-384, and OKP
//! Ed25519 signature keys, each bound to one algorithm.
//!
//! A key set published by an identity provider is untrusted input: it is bounded in size and
//! in keys, must be JSON, and a key authgate cannot use (another `use`, an unknown `kty` or
//! curve, an algorithm the issuer does not allow, an RSA key outside the 2048 to 8192 bits
//! every [`Key`] is held to) is skipped rather than failing the set, so that a provider adding
//! an encryption key does not take the API down. A set left with no usable key is refused
//! whole: a fetch of it fails, and the keys in force stay. A key's `alg`, when
//! present, binds it; without `alg`, its type decides (EC: the curve's algorithm, OKP Ed25519:
//! EdDSA, RSA: the first RSA algorithm allowed), within the allowed algorithms.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::key::{Key, check_rsa_size, rsa_public_key_der};
use super::set::KeySet;
use crate::algorithm::{Algorithm, Family};

/// The largest key set document read, in bytes.
pub(crate) const MAX_JWKS_BYTES: usize = 64 * 1024;
/// The most keys a key set may hold.
pub(crate) const MAX_JWKS_KEYS: usize = 100;

#[derive(Deserialize)]
struct Document<'a> {
    #[serde(borrow)]
    keys: Vec<&'a RawValue>,
}

/// Reads a JWKS document into a key set of the keys usable with `allowed`, beside the keys
/// `pinned` in the issuer's settings; `Err` says why the whole document is refused (too large,
/// not JSON, too many keys, no usable key, two keys with one `kid`). The reasons of skipped
/// keys are logged (never the key material).
pub(crate) fn parse_jwks(
    issuer: &str,
    document: &[u8],
    allowed: &[Algorithm],
    pinned: &[Key],
) -> Result<KeySet, String> {
    if document.len() > MAX_JWKS_BYTES {
        return Err(format!("the key set is larger than {MAX_JWKS_BYTES} bytes"));
    }
    let text = std::str::from_utf8(document).map_err(|_| "the key set is not UTF-8".to_owned())?;
    let document: Document<'_> = serde_json::from_str(text)
        .map_err(|_| "the key set is not a JWKS JSON object".to_owned())?;
    if document.keys.len() > MAX_JWKS_KEYS {
        return Err(format!("the key set has more than {MAX_JWKS_KEYS} keys"));
    }
    let mut keys = Vec::new();
    for raw in document.keys {
        match serde_json::from_str::<Jwk>(raw.get()) {
            Ok(jwk) => match key_of(&jwk, allowed) {
                Ok(key) => keys.push(key),
                Err(why) => tracing::info!(target: "authgate",
                    kid = jwk.common.key_id.as_deref().unwrap_or(""), why,
                    "JWKS key skipped"),
            },
            Err(_) => {
                tracing::info!(target: "authgate", "JWKS key skipped: not a JWK this parser reads")
            }
        }
    }
    if keys.is_empty() {
        return Err("the key set has no signature key usable with the allowed algorithms".into());
    }
    keys.extend_from_slice(pinned);
    KeySet::new(issuer, keys).map_err(|e| e.to_string())
}

/// One JWK as a [`Key`], or why it is skipped.
fn key_of(jwk: &Jwk, allowed: &[Algorithm]) -> Result<Key, &'static str> {
    let common = &jwk.common;
    match &common.public_key_use {
        None | Some(PublicKeyUse::Signature) => {}
        Some(_) => return Err("use is not sig"),
    }
    if let Some(ops) = &common.key_operations
        && !ops.iter().any(|op| matches!(op, KeyOperations::Verify))
    {
        return Err("key_ops does not include verify");
    }
    let bound = match common.key_algorithm {
        None => None,
        Some(alg) => {
            Some(algorithm_of(alg).ok_or("alg is not a signature algorithm authgate supports")?)
        }
    };
    let (family, curve_alg) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Family::Rsa, None),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => (Family::Ec, Some(Algorithm::ES256)),
            EllipticCurve::P384 => (Family::Ec, Some(Algorithm::ES384)),
            _ => return Err("an EC curve other than P-256 and P-384"),
        },
        AlgorithmParameters::OctetKeyPair(okp) => match okp.curve {
            EllipticCurve::Ed25519 => (Family::Ed, Some(Algorithm::EdDSA)),
            _ => return Err("an OKP curve other than Ed25519"),
        },
        // A symmetric key in a published key set would be a secret made public.
        AlgorithmParameters::OctetKey(_) => return Err("a symmetric (oct) key"),
        _ => return Err("an unknown key type"),
    };
    let algorithm = match (bound, curve_alg) {
        (Some(alg), _) if alg.family() != family => return Err("alg does not fit the key type"),
        (Some(alg), Some(curve)) if alg != curve => return Err("alg does not fit the curve"),
        (Some(alg), _) => alg,
        (None, Some(curve)) => curve,
        (None, None) => *allowed
            .iter()
            .find(|alg| alg.family() == Family::Rsa)
            .ok_or("an RSA key without alg, and no RSA algorithm allowed")?,
    };
    if !allowed.contains(&algorithm) {
        return Err("its algorithm is not allowed for this issuer");
    }
    let b64 = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| "a member is not base64url")
    };
    let key = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let der = rsa_public_key_der(&b64(&rsa.n)?, &b64(&rsa.e)?);
            // The size rule of every RSA key (`Key::from_der` applies it too), checked here to
            // log the precise reason.
            check_rsa_size(&der).map_err(|_| "an RSA key under 2048 or over 8192 bits")?;
            Key::from_der(algorithm, der)
        }
        AlgorithmParameters::EllipticCurve(ec) => {
            let (x, y) = (b64(&ec.x)?, b64(&ec.y)?);
            let size = if algorithm == Algorithm::ES256 {
                32
            } else {
                48
            };
            if x.len() != size || y.len() != size {
                return Err("EC coordinates of the wrong size");
            }
            let mut point = Vec::with_capacity(1 + 2 * size);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            Key::from_der(algorithm, point)
        }
        AlgorithmParameters::OctetKeyPair(okp) => Key::from_der(algorithm, b64(&okp.x)?),
        _ => return Err("an unknown key type"),
    }
    .map_err(|_| "the key material does not parse")?;
    Ok(match &common.key_id {
        Some(kid) => key.with_kid(kid.clone()),
        None => key,
    })
}

/// The signature algorithm a JWK's `alg` names; `None` for encryption and unknown ones.
fn algorithm_of(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        // HMAC in a published set is a public secret; the rest encrypt.
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::EncodingKey;

    fn file(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../tests/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn jwk(alg: Algorithm, private: &str) -> serde_json::Value {
        let key = match alg.family() {
            Family::Rsa => EncodingKey::from_rsa_pem(&file(private)),
            Family::Ec => EncodingKey::from_ec_pem(&file(private)),
            _ => EncodingKey::from_ed_pem(&file(private)),
        }
        .unwrap();
        serde_json::to_value(Jwk::from_encoding_key(&key, alg.jwa()).unwrap()).unwrap()
    }

    const ALL: &[Algorithm] = &[
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];

    fn set(keys: Vec<serde_json::Value>) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({ "keys": keys })).unwrap()
    }

    /// Each supported key type is read and bound to its algorithm; `alg` binds; keys for
    /// other uses, symmetric keys and unknown types are skipped, not fatal.
    #[test]
    fn key_types_and_bindings() {
        let mut rsa = jwk(Algorithm::RS256, "rsa_private.pem");
        rsa["kid"] = "r".into();
        let mut rsa_no_alg = rsa.clone();
        rsa_no_alg.as_object_mut().unwrap().remove("alg");
        rsa_no_alg["kid"] = "r2".into();
        let mut ec = jwk(Algorithm::ES256, "ec256_private.pk8.pem");
        ec["kid"] = "e".into();
        let mut ec384 = jwk(Algorithm::ES384, "ec384_private.pem");
        ec384["kid"] = "e384".into();
        let mut ed = jwk(Algorithm::EdDSA, "ed25519_private.pem");
        ed["kid"] = "d".into();
        let mut enc = rsa.clone();
        enc["kid"] = "enc".into();
        enc["use"] = "enc".into();
        let oct = serde_json::json!({"kty": "oct", "k": "c2VjcmV0", "kid": "o"});
        let odd = serde_json::json!({"kty": "XYZ", "kid": "x"});
        let doc = set(vec![rsa, rsa_no_alg, ec, ec384, ed, enc, oct, odd]);
        let keys = parse_jwks("i", &doc, ALL, &[]).unwrap();
        assert_eq!(keys.len(), 5);
        let alg_of = |kid: &str| keys.by_kid(kid).map(|k| k.algorithm());
        assert_eq!(alg_of("r"), Some(Algorithm::RS256));
        assert_eq!(alg_of("r2"), Some(Algorithm::RS256));
        assert_eq!(alg_of("e"), Some(Algorithm::ES256));
        assert_eq!(alg_of("e384"), Some(Algorithm::ES384));
        assert_eq!(alg_of("d"), Some(Algorithm::EdDSA));
        assert_eq!(alg_of("enc"), None);
    }

    /// An RSA key under 2048 bits is held to the rule of PEM and DER keys: skipped in a set
    /// beside good keys, and a set holding only weak keys is refused whole (so a refresh that
    /// fetches it fails and the keys in force stay).
    #[test]
    fn weak_rsa_keys_skipped() {
        let mut good = jwk(Algorithm::RS256, "rsa_private.pem");
        good["kid"] = "good".into();
        // The public half of a 1024-bit key (the crypto backend will not derive it).
        let mut weak: serde_json::Value =
            serde_json::from_slice(&file("rsa1024_private.jwk.json")).unwrap();
        weak.as_object_mut().unwrap().remove("d");
        weak["kid"] = "weak".into();
        weak["alg"] = "RS256".into();
        let keys = parse_jwks("i", &set(vec![good, weak.clone()]), ALL, &[]).unwrap();
        assert_eq!(keys.len(), 1);
        assert!(keys.by_kid("good").is_some());
        assert!(keys.by_kid("weak").is_none());
        let err = parse_jwks("i", &set(vec![weak.clone()]), ALL, &[]).unwrap_err();
        assert!(err.contains("no signature key usable"), "{err}");
        // Pinned keys do not make a set of weak keys acceptable.
        let pinned = Key::from_pem(Algorithm::ES256, file("ec256_public.pem")).unwrap();
        assert!(parse_jwks("i", &set(vec![weak]), ALL, &[pinned]).is_err());
    }

    /// Too large, not JSON, too many keys, nothing usable: the whole set is refused.
    #[test]
    fn bad_documents_refused() {
        let rsa = jwk(Algorithm::RS256, "rsa_private.pem");
        assert!(parse_jwks("i", b"not json", ALL, &[]).is_err());
        assert!(parse_jwks("i", b"{\"keys\": 3}", ALL, &[]).is_err());
        assert!(parse_jwks("i", &vec![b' '; MAX_JWKS_BYTES + 1], ALL, &[]).is_err());
        let many: Vec<_> = (0..=MAX_JWKS_KEYS)
            .map(|i| serde_json::json!({"kty": "XYZ", "kid": i.to_string()}))
            .collect();
        assert!(parse_jwks("i", &set(many), ALL, &[]).is_err());
        // An RS256 key when only ES256 is allowed: nothing usable.
        assert!(parse_jwks("i", &set(vec![rsa.clone()]), &[Algorithm::ES256], &[]).is_err());
        // `alg` that does not fit the key type.
        let mut wrong = rsa;
        wrong["alg"] = "ES256".into();
        assert!(parse_jwks("i", &set(vec![wrong]), ALL, &[]).is_err());
    }
}
