//! Tokens and keys: the hardened JWT front end.
//!
//! jsonwebtoken does the cryptography; authgate does everything around it, because its
//! `decode` alone is not strict enough for an authorization gate and parses the payload twice:
//!
//! 1. the token is bounded in size and must be three base64url parts (a JWE is refused);
//! 2. the header is parsed once: `alg: none` in any spelling, unknown algorithms and a `crit`
//!    header are refused; `jku`, `x5u`, `jwk` and `x5c` are never fetched or trusted;
//! 3. the key is chosen by `kid` (unknown `kid`: refused) and must be bound to exactly the
//!    token's algorithm, so an RSA public key can never be used as an HMAC secret;
//! 4. after the signature verifies, the payload is parsed once: duplicate claim names are
//!    refused, `exp` is required, `exp`/`nbf`/`iat` must be JSON numbers, configured `iss` and
//!    `aud` must be present and match, and a lifetime beyond the configured maximum is refused.
//!
//! Every failure is one [`Invalid`] reason for the logs; the client only ever sees
//! `invalid_token`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::GateError;
use crate::principal::{CredentialKind, Principal};

#[cfg(all(feature = "aws-lc-rs", feature = "rust-crypto"))]
compile_error!("authgate: enable exactly one of the features `aws-lc-rs` and `rust-crypto`");
#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!(
    "authgate needs a crypto backend: enable the feature `aws-lc-rs` (the default, fastest) or \
     `rust-crypto` (pure Rust)"
);

/// The backend chosen by our features, named directly: jsonwebtoken's process default panics
/// on first use when another crate enables both of its backends.
#[cfg(feature = "aws-lc-rs")]
static PROVIDER: &jsonwebtoken::crypto::CryptoProvider =
    &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
static PROVIDER: &jsonwebtoken::crypto::CryptoProvider =
    &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;

/// Signs a JWT with our backend (not jsonwebtoken's process default, which panics when another
/// crate enables both of its backends).
pub(crate) fn sign_jwt(
    key: &crate::session::SigningKey,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, String> {
    let mut header = serde_json::json!({ "alg": format!("{:?}", key.algorithm), "typ": "JWT" });
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

/// One verification key, bound to exactly one algorithm and optionally to a `kid`.
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
        Ok(Key::new(algorithm, DecodingKey::from_secret(secret)))
    }

    /// A public key in PEM form (`-----BEGIN PUBLIC KEY-----` or an RSA public key) for the RSA,
    /// PSS, ECDSA or EdDSA algorithm given.
    pub fn from_pem(algorithm: Algorithm, pem: impl AsRef<[u8]>) -> Result<Key, GateError> {
        let pem = pem.as_ref();
        let decoding = match algorithm.family() {
            AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(pem),
            AlgorithmFamily::Ec => DecodingKey::from_ec_pem(pem),
            AlgorithmFamily::Ed => DecodingKey::from_ed_pem(pem),
            _ => {
                return Err(GateError::WrongKeyType {
                    algorithm,
                    given: "a PEM public key",
                });
            }
        }
        .map_err(|e| GateError::InvalidKey {
            algorithm,
            detail: e.to_string(),
        })?;
        Ok(Key::new(algorithm, decoding))
    }

    /// A public key in DER form for the RSA (PKCS#1), ECDSA or EdDSA algorithm given.
    pub fn from_der(algorithm: Algorithm, der: impl AsRef<[u8]>) -> Result<Key, GateError> {
        let der = der.as_ref();
        if der.is_empty() {
            return Err(GateError::InvalidKey {
                algorithm,
                detail: "empty DER".into(),
            });
        }
        let decoding = match algorithm.family() {
            AlgorithmFamily::Rsa => DecodingKey::from_rsa_der(der),
            AlgorithmFamily::Ec => DecodingKey::from_ec_der(der),
            AlgorithmFamily::Ed => DecodingKey::from_ed_der(der),
            _ => {
                return Err(GateError::WrongKeyType {
                    algorithm,
                    given: "a DER public key",
                });
            }
        };
        Ok(Key::new(algorithm, decoding))
    }

    fn new(algorithm: Algorithm, decoding: DecodingKey) -> Key {
        Key {
            algorithm,
            kid: None,
            decoding,
        }
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

    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match (PROVIDER.verifier_factory)(&self.algorithm, &self.decoding) {
            Ok(verifier) => verifier.verify(message, &signature.to_vec()).is_ok(),
            Err(_) => false,
        }
    }
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

    /// The keys a token with this header may be verified with.
    fn candidates<'a>(
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

/// Why a token was refused. For logs only: clients always see `invalid_token`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Invalid {
    /// Longer than the configured maximum.
    TooLarge,
    /// Not three base64url parts of valid JSON.
    Malformed,
    /// `alg` is `none`, unknown, or not the algorithm of any configured key.
    Algorithm,
    /// The header has a `crit` member.
    Crit,
    /// The header names a `kid` that is not configured.
    UnknownKid,
    /// The signature does not verify.
    Signature,
    /// A claim has the wrong JSON type, or a claim name appears twice.
    ClaimType,
    /// `exp` is missing.
    MissingExp,
    /// `exp` has passed.
    Expired,
    /// `nbf` or `iat` is in the future.
    NotYetValid,
    /// `exp` is further away than the maximum lifetime.
    LifetimeTooLong,
    /// `iss` is missing or not an accepted issuer.
    Issuer,
    /// `aud` is missing or names none of the accepted audiences.
    Audience,
    /// `sub` is missing or empty.
    Subject,
    /// Two session cookies with different values, or a value that is not a session id.
    SessionCookie,
    /// The session id is not in the store (logged out, revoked, or made up).
    UnknownSession,
    /// The session passed its idle timeout or absolute lifetime.
    SessionExpired,
}

impl Invalid {
    /// A short name for logs and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            Invalid::TooLarge => "token_too_large",
            Invalid::Malformed => "malformed_token",
            Invalid::Algorithm => "algorithm_not_allowed",
            Invalid::Crit => "crit_header",
            Invalid::UnknownKid => "unknown_kid",
            Invalid::Signature => "bad_signature",
            Invalid::ClaimType => "claim_type",
            Invalid::MissingExp => "missing_exp",
            Invalid::Expired => "expired",
            Invalid::NotYetValid => "not_yet_valid",
            Invalid::LifetimeTooLong => "lifetime_too_long",
            Invalid::Issuer => "issuer",
            Invalid::Audience => "audience",
            Invalid::Subject => "subject",
            Invalid::SessionCookie => "bad_session_cookie",
            Invalid::UnknownSession => "unknown_session",
            Invalid::SessionExpired => "session_expired",
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the claims a list of names (roles, scopes) lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClaimPath(pub(crate) Vec<String>);

/// The claim rules of a Gate: everything but the keys.
#[derive(Clone, Debug)]
pub(crate) struct Rules {
    pub(crate) issuers: Vec<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) leeway: u64,
    pub(crate) max_lifetime: u64,
    pub(crate) max_token_bytes: usize,
    pub(crate) roles: ClaimPath,
    pub(crate) scopes: Vec<ClaimPath>,
}

/// Verifies `token` against `keys` and `rules` at time `now` (seconds since the epoch).
pub(crate) fn verify_token(
    token: &str,
    keys: &KeySet,
    rules: &Rules,
    now: u64,
    credential: CredentialKind,
) -> Result<Principal, Invalid> {
    if token.len() > rules.max_token_bytes {
        return Err(Invalid::TooLarge);
    }
    let (message, signature) = token.rsplit_once('.').ok_or(Invalid::Malformed)?;
    let (header_b64, payload_b64) = message.split_once('.').ok_or(Invalid::Malformed)?;
    if payload_b64.contains('.') {
        return Err(Invalid::Malformed);
    }
    let header_json = String::from_utf8(b64(header_b64)?).map_err(|_| Invalid::Malformed)?;
    // The header must be a JSON object (RFC 7515 section 4) without duplicate names; any
    // `crit` member, even `null`, is refused: we understand no extension.
    let header = Object::parse(&header_json)?;
    if header.raw("crit").is_some() {
        return Err(Invalid::Crit);
    }
    let alg: Cow<'_, str> = header.get("alg")?.ok_or(Invalid::Algorithm)?;
    let alg: Algorithm = alg.parse().map_err(|_| Invalid::Algorithm)?;
    let kid: Option<Cow<'_, str>> = header.get("kid")?;
    let signature = b64(signature)?;
    let mut any_key = false;
    let mut verified = false;
    for key in keys.candidates(alg, kid.as_deref())? {
        any_key = true;
        if key.verifies(message.as_bytes(), &signature) {
            verified = true;
            break;
        }
    }
    match (any_key, verified) {
        (false, _) => return Err(Invalid::Algorithm),
        (true, false) => return Err(Invalid::Signature),
        (true, true) => {}
    }
    let payload = String::from_utf8(b64(payload_b64)?).map_err(|_| Invalid::Malformed)?;
    check_claims(payload, rules, now, credential)
}

fn b64(part: &str) -> Result<Vec<u8>, Invalid> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| Invalid::Malformed)
}

/// Checks the registered claims of a verified payload and extracts the principal.
pub(crate) fn check_claims(
    payload: String,
    rules: &Rules,
    now: u64,
    credential: CredentialKind,
) -> Result<Principal, Invalid> {
    let claims = Object::parse(&payload)?;
    let exp = claims.number("exp")?.ok_or(Invalid::MissingExp)?;
    let now_f = now as f64;
    let leeway = rules.leeway as f64;
    if exp + leeway <= now_f {
        return Err(Invalid::Expired);
    }
    if exp - now_f > (rules.max_lifetime + rules.leeway) as f64 {
        return Err(Invalid::LifetimeTooLong);
    }
    if let Some(nbf) = claims.number("nbf")?
        && nbf > now_f + leeway
    {
        return Err(Invalid::NotYetValid);
    }
    let iat = claims.number("iat")?;
    if let Some(iat) = iat {
        if iat > now_f + leeway {
            return Err(Invalid::NotYetValid);
        }
        if exp - iat > (rules.max_lifetime + rules.leeway) as f64 {
            return Err(Invalid::LifetimeTooLong);
        }
    }
    if !rules.issuers.is_empty() {
        let iss: Option<Cow<'_, str>> = claims.get("iss")?;
        if !iss.is_some_and(|iss| rules.issuers.iter().any(|ok| *ok == iss)) {
            return Err(Invalid::Issuer);
        }
    }
    if !rules.audiences.is_empty() {
        let aud: Option<Names<'_>> = claims.get("aud")?;
        let aud = aud.ok_or(Invalid::Audience)?;
        if !aud
            .0
            .iter()
            .any(|a| rules.audiences.iter().any(|ok| ok == a))
        {
            return Err(Invalid::Audience);
        }
    }
    let subject: Option<Cow<'_, str>> = claims.get("sub")?;
    let subject = subject
        .filter(|s| !s.is_empty())
        .ok_or(Invalid::Subject)?
        .into_owned();
    let roles = claims.names_at(&rules.roles)?;
    let mut scopes = Vec::new();
    for path in &rules.scopes {
        if let Some(found) = claims.scopes_at(path)? {
            scopes = found;
            break;
        }
    }
    Ok(Principal {
        subject,
        roles,
        scopes,
        expires_at: exp as u64,
        issued_at: iat.map(|t| t as u64),
        credential,
        claims: payload,
        session_id: None,
    })
}

/// A JSON object's members as raw values, refusing duplicate names (RFC 7519 section 4 lets a
/// parser refuse them, and accepting them lets two parsers disagree on who the user is).
struct Object<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'a> Object<'a> {
    fn parse(json: &'a str) -> Result<Self, Invalid> {
        serde_json::from_str(json).map_err(|_| Invalid::Malformed)
    }

    fn raw(&self, name: &str) -> Option<&'a RawValue> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }

    fn get<T: Deserialize<'a>>(&self, name: &str) -> Result<Option<T>, Invalid> {
        match self.raw(name) {
            None => Ok(None),
            Some(raw) if raw.get() == "null" => Ok(None),
            Some(raw) => serde_json::from_str(raw.get())
                .map(Some)
                .map_err(|_| Invalid::ClaimType),
        }
    }

    /// A NumericDate: a finite, non-negative JSON number (RFC 7519 section 2).
    fn number(&self, name: &str) -> Result<Option<f64>, Invalid> {
        match self.get::<f64>(name)? {
            Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
            Some(_) => Err(Invalid::ClaimType),
            None => Ok(None),
        }
    }

    /// The value at a claim path, walking nested objects.
    fn at(&self, path: &ClaimPath) -> Result<Option<&'a RawValue>, Invalid> {
        let Some((first, rest)) = path.0.split_first() else {
            return Ok(None);
        };
        let mut value = match self.raw(first) {
            Some(v) => v,
            None => return Ok(None),
        };
        for segment in rest {
            let nested = Object::parse(value.get()).map_err(|_| Invalid::ClaimType)?;
            value = match nested.raw(segment) {
                Some(v) => v,
                None => return Ok(None),
            };
        }
        Ok(Some(value))
    }

    /// Role names: an array of strings, or a single string.
    fn names_at(&self, path: &ClaimPath) -> Result<Vec<String>, Invalid> {
        match self.at(path)? {
            None => Ok(Vec::new()),
            Some(raw) if raw.get() == "null" => Ok(Vec::new()),
            Some(raw) => {
                let names: Names<'_> =
                    serde_json::from_str(raw.get()).map_err(|_| Invalid::ClaimType)?;
                Ok(names.0.into_iter().map(Cow::into_owned).collect())
            }
        }
    }

    /// Scopes: a space-delimited string (RFC 8693 `scope`) or an array of strings (`scp`).
    fn scopes_at(&self, path: &ClaimPath) -> Result<Option<Vec<String>>, Invalid> {
        match self.at(path)? {
            None => Ok(None),
            Some(raw) if raw.get() == "null" => Ok(None),
            Some(raw) => {
                let names: Names<'_> =
                    serde_json::from_str(raw.get()).map_err(|_| Invalid::ClaimType)?;
                Ok(Some(
                    names
                        .0
                        .iter()
                        .flat_map(|s| s.split(' '))
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                ))
            }
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Object<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for ObjectVisitor<'a> {
            type Value = Object<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Object<'a>, M::Error> {
                let mut members: Vec<(Cow<'a, str>, &'a RawValue)> = Vec::new();
                while let Some(name) = map.next_key::<Cow<'a, str>>()? {
                    if members.iter().any(|(k, _)| *k == name) {
                        return Err(de::Error::custom("duplicate claim"));
                    }
                    let value: &'a RawValue = map.next_value()?;
                    members.push((name, value));
                }
                Ok(Object(members))
            }
        }
        deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
    }
}

/// One name or an array of names.
struct Names<'a>(Vec<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Names<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany<'a> {
            #[serde(borrow)]
            One(Cow<'a, str>),
            #[serde(borrow)]
            Many(Vec<Cow<'a, str>>),
        }
        Ok(match OneOrMany::deserialize(deserializer)? {
            OneOrMany::One(one) => Names(vec![one]),
            OneOrMany::Many(many) => Names(many),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules {
            issuers: vec!["iss".into()],
            audiences: vec!["aud".into()],
            leeway: 0,
            max_lifetime: 3600,
            max_token_bytes: 8192,
            roles: ClaimPath(vec!["roles".into()]),
            scopes: vec![
                ClaimPath(vec!["scope".into()]),
                ClaimPath(vec!["scp".into()]),
            ],
        }
    }

    fn check(json: &str) -> Result<Principal, Invalid> {
        check_claims(json.to_owned(), &rules(), 1000, CredentialKind::Bearer)
    }

    #[test]
    fn accepts_well_formed_claims() {
        let p = check(
            r#"{"sub":"7","iss":"iss","aud":["x","aud"],"exp":2000,"roles":["a"],"scope":"r w"}"#,
        )
        .unwrap();
        assert_eq!(p.subject, "7");
        assert_eq!(p.roles, ["a"]);
        assert_eq!(p.scopes, ["r", "w"]);
        assert_eq!(p.expires_at, 2000);
    }

    #[test]
    fn refuses_each_bad_claim() {
        let cases = [
            (
                r#"{"sub":"7","iss":"iss","aud":"aud"}"#,
                Invalid::MissingExp,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":"2000"}"#,
                Invalid::ClaimType,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":true}"#,
                Invalid::ClaimType,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":-5}"#,
                Invalid::ClaimType,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":1000}"#,
                Invalid::Expired,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":99999}"#,
                Invalid::LifetimeTooLong,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":2000,"nbf":1500}"#,
                Invalid::NotYetValid,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":2000,"nbf":"1"}"#,
                Invalid::ClaimType,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":2000,"iat":1500}"#,
                Invalid::NotYetValid,
            ),
            (r#"{"sub":"7","aud":"aud","exp":2000}"#, Invalid::Issuer),
            (
                r#"{"sub":"7","iss":"other","aud":"aud","exp":2000}"#,
                Invalid::Issuer,
            ),
            (r#"{"sub":"7","iss":"iss","exp":2000}"#, Invalid::Audience),
            (
                r#"{"sub":"7","iss":"iss","aud":["x"],"exp":2000}"#,
                Invalid::Audience,
            ),
            (r#"{"iss":"iss","aud":"aud","exp":2000}"#, Invalid::Subject),
            (
                r#"{"sub":"","iss":"iss","aud":"aud","exp":2000}"#,
                Invalid::Subject,
            ),
            (
                r#"{"sub":7,"iss":"iss","aud":"aud","exp":2000}"#,
                Invalid::ClaimType,
            ),
            (
                r#"{"sub":"7","sub":"8","iss":"iss","aud":"aud","exp":2000}"#,
                Invalid::Malformed,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":2000,"roles":[1]}"#,
                Invalid::ClaimType,
            ),
            (r#"["sub"]"#, Invalid::Malformed),
        ];
        for (json, want) in cases {
            assert_eq!(check(json).err(), Some(want), "{json}");
        }
    }

    #[test]
    fn nested_role_path() {
        let mut r = rules();
        r.roles = ClaimPath(vec!["realm_access".into(), "roles".into()]);
        let p = check_claims(
            r#"{"sub":"7","iss":"iss","aud":"aud","exp":2000,"realm_access":{"roles":["admin"]}}"#
                .into(),
            &r,
            1000,
            CredentialKind::Bearer,
        )
        .unwrap();
        assert_eq!(p.roles, ["admin"]);
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

#[cfg(feature = "testing")]
impl KeySet {
    /// The first HMAC secret, so `authgate::testing` can mint tokens the Gate accepts.
    pub(crate) fn hmac_secret(&self) -> Option<(Algorithm, Option<String>, Vec<u8>)> {
        self.keys.iter().find_map(|key| {
            let bytes = key.decoding.try_get_as_bytes().ok()?;
            (key.algorithm.family() == AlgorithmFamily::Hmac)
                .then(|| (key.algorithm, key.kid.clone(), bytes.to_vec()))
        })
    }
}
