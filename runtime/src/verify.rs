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
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
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
pub(crate) static PROVIDER: &jsonwebtoken::crypto::CryptoProvider =
    &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
pub(crate) static PROVIDER: &jsonwebtoken::crypto::CryptoProvider =
    &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;

/// Signs a JWT with our backend (not jsonwebtoken's process default, which panics when another
/// crate enables both of its backends).
#[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))] // authgate::testing mints with it
pub(crate) fn sign_jwt(
    key: &crate::session::SigningKey,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, String> {
    sign_jwt_typed(key, claims, "JWT")
}

/// The `typ` of stateless session cookies. A token is accepted only for its purpose
/// (ASVS V9.2.2): a session cookie's JWT is refused as a bearer token, and a bearer token
/// (perhaps long-lived, perhaps from an identity provider) is refused as a session cookie.
pub(crate) const SESSION_TYP: &str = "authgate-session+jwt";

/// Signs a stateless session cookie's JWT (`typ: authgate-session+jwt`).
pub(crate) fn sign_session_jwt(
    key: &crate::session::SigningKey,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, String> {
    sign_jwt_typed(key, claims, SESSION_TYP)
}

fn sign_jwt_typed(
    key: &crate::session::SigningKey,
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
    /// The key prepared for verification once, here, rather than on every request.
    check: Arc<Check>,
}

/// How a [`Key`] checks a signature.
///
/// jsonwebtoken's verifiers rebuild the key for every call (an HMAC key schedule, or a DER parse
/// of the public key) and take the signature as a `Vec`. With aws-lc-rs we call the same
/// primitives jsonwebtoken's aws-lc-rs backend calls (same algorithms, same key bytes, HMAC
/// compared in constant time by `hmac::verify`), with the key prepared once. The rust-crypto
/// backend goes through jsonwebtoken's provider as before.
#[allow(clippy::large_enum_variant)] // one per key, behind an `Arc`
enum Check {
    #[cfg(feature = "aws-lc-rs")]
    Hmac(aws_lc_rs::hmac::Key),
    #[cfg(feature = "aws-lc-rs")]
    Public(aws_lc_rs::signature::ParsedPublicKey),
    /// jsonwebtoken's provider, per call: the rust-crypto backend, or a public key aws-lc-rs
    /// does not parse (which then fails every verification, as it always did).
    Provider,
}

impl Check {
    #[cfg(feature = "aws-lc-rs")]
    fn prepare(algorithm: Algorithm, decoding: &DecodingKey) -> Check {
        use aws_lc_rs::hmac;
        use aws_lc_rs::signature::{self as sig, ParsedPublicKey, VerificationAlgorithm};
        let Ok(bytes) = decoding.try_get_as_bytes() else {
            return Check::Provider;
        };
        if decoding.family() != algorithm.family() {
            return Check::Provider;
        }
        // The same table as jsonwebtoken's aws-lc-rs backend (crypto/aws_lc/*.rs).
        let public: &'static dyn VerificationAlgorithm = match algorithm {
            Algorithm::HS256 => return Check::Hmac(hmac::Key::new(hmac::HMAC_SHA256, bytes)),
            Algorithm::HS384 => return Check::Hmac(hmac::Key::new(hmac::HMAC_SHA384, bytes)),
            Algorithm::HS512 => return Check::Hmac(hmac::Key::new(hmac::HMAC_SHA512, bytes)),
            Algorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            Algorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
            Algorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
            Algorithm::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
            Algorithm::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
            Algorithm::ES256 => &sig::ECDSA_P256_SHA256_FIXED,
            Algorithm::ES384 => &sig::ECDSA_P384_SHA384_FIXED,
            Algorithm::EdDSA => &sig::ED25519,
            _ => return Check::Provider,
        };
        match ParsedPublicKey::new(public, bytes) {
            Ok(key) => Check::Public(key),
            Err(_) => Check::Provider,
        }
    }

    #[cfg(not(feature = "aws-lc-rs"))]
    fn prepare(_algorithm: Algorithm, _decoding: &DecodingKey) -> Check {
        Check::Provider
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
            check: Arc::new(Check::prepare(algorithm, &decoding)),
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
        match &*self.check {
            #[cfg(feature = "aws-lc-rs")]
            Check::Hmac(key) => aws_lc_rs::hmac::verify(key, message, signature).is_ok(),
            #[cfg(feature = "aws-lc-rs")]
            Check::Public(key) => key.verify_sig(message, signature).is_ok(),
            Check::Provider => self.verifies_with_provider(message, signature),
        }
    }

    /// Verification through jsonwebtoken's provider, the key rebuilt for the call.
    fn verifies_with_provider(&self, message: &[u8], signature: &[u8]) -> bool {
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
    /// A session cookie's JWT sent as a bearer token, or any other JWT sent as a session
    /// cookie (`typ` tells them apart).
    Purpose,
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
            Invalid::Purpose => "token_purpose",
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

/// A verified token: the principal, and the first time (seconds since the epoch) at which the
/// token counts as expired under the rules it was checked with.
pub(crate) struct Verified {
    /// Built in place on the heap: the guard shares it, and moving it by value costs more.
    pub(crate) principal: Arc<Principal>,
    pub(crate) expired_at: u64,
}

/// Verifies `token` against `keys` and `rules` at time `now` (seconds since the epoch).
pub(crate) fn verify_token(
    token: &str,
    keys: &KeySet,
    rules: &Rules,
    now: u64,
    credential: CredentialKind,
) -> Result<Principal, Invalid> {
    verify_token_until(token, keys, rules, now, credential)
        .map(|v| Arc::unwrap_or_clone(v.principal))
}

/// [`verify_token`], with the time at which the token expires (for the token cache).
///
/// The header and the signature are decoded into stack buffers (heap only for unusually large
/// ones), the payload once into the `String` the principal keeps.
pub(crate) fn verify_token_until(
    token: &str,
    keys: &KeySet,
    rules: &Rules,
    now: u64,
    credential: CredentialKind,
) -> Result<Verified, Invalid> {
    if token.len() > rules.max_token_bytes {
        return Err(Invalid::TooLarge);
    }
    let (message, signature) = token.rsplit_once('.').ok_or(Invalid::Malformed)?;
    let (header_b64, payload_b64) = message.split_once('.').ok_or(Invalid::Malformed)?;
    if payload_b64.contains('.') {
        return Err(Invalid::Malformed);
    }
    let (alg, kid, session) = header(header_b64)?;
    if session != (credential == CredentialKind::Cookie) {
        return Err(Invalid::Purpose);
    }
    // 512 bytes: an RSA-4096 signature (larger ones are decoded onto the heap).
    let mut signature_buf = [0u8; 512];
    let signature = b64_into(signature, &mut signature_buf)?;
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
    check_claims_until(payload, rules, now, credential)
}

/// A header this thread parsed successfully, and what it said.
struct ParsedHeader {
    text: Box<str>,
    alg: Algorithm,
    kid: Option<Rc<str>>,
    session: bool,
}

thread_local! {
    /// The last header parsed on this thread. The tokens an app sees share a handful of
    /// headers (one per issuer and key), and what a header says is a pure function of its
    /// text, so a token whose header is exactly the last one skips the decode and the parse.
    /// Only successful parses are kept; at most one small header per thread.
    static LAST_HEADER: RefCell<Option<ParsedHeader>> = const { RefCell::new(None) };
}

/// The header's `alg`, `kid` and whether `typ` marks a session cookie, after checking that it
/// is a JSON object without duplicate names and without `crit`.
fn header(header_b64: &str) -> Result<(Algorithm, Option<Rc<str>>, bool), Invalid> {
    let known = LAST_HEADER.with_borrow(|last| match last {
        Some(last) if *last.text == *header_b64 => Some((last.alg, last.kid.clone(), last.session)),
        _ => None,
    });
    if let Some(known) = known {
        return Ok(known);
    }
    let mut header_buf = [0u8; 256];
    let header_bytes = b64_into(header_b64, &mut header_buf)?;
    let header_json = std::str::from_utf8(&header_bytes).map_err(|_| Invalid::Malformed)?;
    // The header must be a JSON object (RFC 7515 section 4) without duplicate names; any
    // `crit` member, even `null`, is refused: we understand no extension.
    let mut header = Object::new();
    header.fill(header_json)?;
    if header.raw("crit").is_some() {
        return Err(Invalid::Crit);
    }
    let alg: Text<'_> = header.get("alg")?.ok_or(Invalid::Algorithm)?;
    let alg: Algorithm = alg.0.parse().map_err(|_| Invalid::Algorithm)?;
    let kid: Option<Text<'_>> = header.get("kid")?;
    let kid: Option<Rc<str>> = kid.map(|kid| Rc::from(&*kid.0));
    let typ: Option<Text<'_>> = header.get("typ")?;
    let session = typ.is_some_and(|typ| typ.0.eq_ignore_ascii_case(SESSION_TYP));
    if header_b64.len() <= 256 {
        LAST_HEADER.set(Some(ParsedHeader {
            text: header_b64.into(),
            alg,
            kid: kid.clone(),
            session,
        }));
    }
    Ok((alg, kid, session))
}

fn b64(part: &str) -> Result<Vec<u8>, Invalid> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| Invalid::Malformed)
}

/// Decodes `part` into `buf`, or onto the heap when it does not fit; the same engine and the
/// same errors as [`b64`].
fn b64_into<'b>(part: &str, buf: &'b mut [u8]) -> Result<Cow<'b, [u8]>, Invalid> {
    match URL_SAFE_NO_PAD.decode_slice(part, buf) {
        Ok(n) => Ok(Cow::Borrowed(&buf[..n])),
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => b64(part).map(Cow::Owned),
        Err(base64::DecodeSliceError::DecodeError(_)) => Err(Invalid::Malformed),
    }
}

/// Checks the registered claims of a verified payload and extracts the principal.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn check_claims(
    payload: String,
    rules: &Rules,
    now: u64,
    credential: CredentialKind,
) -> Result<Principal, Invalid> {
    check_claims_until(payload, rules, now, credential).map(|v| Arc::unwrap_or_clone(v.principal))
}

/// [`check_claims`], with the time at which the token expires under these rules.
fn check_claims_until(
    payload: String,
    rules: &Rules,
    now: u64,
    credential: CredentialKind,
) -> Result<Verified, Invalid> {
    let mut claims = Object::new();
    claims.fill(&payload)?;
    let registered = claims.registered();
    let exp = number(registered.exp)?.ok_or(Invalid::MissingExp)?;
    let now_f = now as f64;
    let leeway = rules.leeway as f64;
    if exp + leeway <= now_f {
        return Err(Invalid::Expired);
    }
    if exp - now_f > (rules.max_lifetime + rules.leeway) as f64 {
        return Err(Invalid::LifetimeTooLong);
    }
    if let Some(nbf) = number(registered.nbf)?
        && nbf > now_f + leeway
    {
        return Err(Invalid::NotYetValid);
    }
    let iat = number(registered.iat)?;
    if let Some(iat) = iat {
        if iat > now_f + leeway {
            return Err(Invalid::NotYetValid);
        }
        if exp - iat > (rules.max_lifetime + rules.leeway) as f64 {
            return Err(Invalid::LifetimeTooLong);
        }
    }
    if !rules.issuers.is_empty() {
        let iss = text(registered.iss)?;
        if !iss.is_some_and(|iss| rules.issuers.iter().any(|ok| *ok == iss.0)) {
            return Err(Invalid::Issuer);
        }
    }
    if !rules.audiences.is_empty() {
        let mut accepted = false;
        let found = for_each_name(registered.aud, |aud| {
            accepted |= rules.audiences.iter().any(|ok| ok == aud);
        })?;
        if !found || !accepted {
            return Err(Invalid::Audience);
        }
    }
    let subject = text(registered.sub)?;
    let subject = subject
        .filter(|s| !s.0.is_empty())
        .ok_or(Invalid::Subject)?
        .0
        .into_owned();
    let mut roles = Vec::new();
    claims.names_at(&rules.roles, &mut roles)?;
    let mut scopes = Vec::new();
    for path in &rules.scopes {
        if claims.scopes_at(path, &mut scopes)? {
            break;
        }
    }
    // `exp + leeway <= now` is the expiry test above; for an integer `now` it first holds at
    // the ceiling (a float-to-int `as` saturates, and `exp` is finite and non-negative).
    let expired_at = (exp + leeway).ceil() as u64;
    Ok(Verified {
        principal: Arc::new(Principal {
            subject,
            roles,
            scopes,
            expires_at: exp as u64,
            issued_at: iat.map(|t| t as u64),
            credential,
            claims: payload,
            session_id: None,
        }),
        expired_at,
    })
}

/// A JSON object's members as raw values, refusing duplicate names (RFC 7519 section 4 lets a
/// parser refuse them, and accepting them lets two parsers disagree on who the user is).
struct Object<'a>(Members<'a>);

/// A member whose name is borrowed from the input (no escapes): two words each, no drop.
type Member<'a> = (&'a str, &'a RawValue);

/// An object's members: the first 16 in place (a header or a typical payload allocates
/// nothing), any more on the heap.
struct Members<'a> {
    inline: [Member<'a>; 16],
    len: usize,
    heap: Vec<Member<'a>>,
    /// Members whose names had escapes, decoded (rare): kept apart so that the others stay
    /// plain borrowed pairs.
    escaped: Vec<(String, &'a RawValue)>,
    /// A one-word filter of the names present ([`name_bit`]): a name whose bit is clear is
    /// absent without a scan. Claim names rarely share a bit, so the duplicate check and the
    /// lookups of absent claims (`scope`, `nbf`, ..) mostly end here.
    names: u64,
}

/// The filter bit of a claim name: its length, first and last byte. The registered claim
/// names and the usual role and scope claims each get their own bit.
#[inline]
fn name_bit(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let (first, last) = match bytes {
        [] => (0, 0),
        [first, .., last] => (*first, *last),
        [only] => (*only, *only),
    };
    let h = bytes.len() * 7 + usize::from(first) * 3 + usize::from(last);
    1 << (h % 64)
}

impl<'a> Members<'a> {
    #[inline]
    fn new() -> Self {
        // Placeholders past `len`, never read: an `Option` per member made every scan test it.
        Members {
            inline: [("", RawValue::NULL); 16],
            len: 0,
            heap: Vec::new(),
            escaped: Vec::new(),
            names: 0,
        }
    }

    fn push(&mut self, name: Text<'a>, value: &'a RawValue) {
        self.names |= name_bit(&name.0);
        let name = match name.0 {
            Cow::Borrowed(name) => name,
            Cow::Owned(name) => return self.escaped.push((name, value)),
        };
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = (name, value),
            None => self.heap.push((name, value)),
        }
        self.len += 1;
    }

    /// Every member, in no particular order (names are unique).
    fn iter(&self) -> impl Iterator<Item = (&str, &'a RawValue)> {
        let plain = [&self.inline[..self.len.min(16)], &self.heap[..]];
        let escaped = self.escaped.iter().map(|(k, v)| (k.as_str(), *v));
        plain.into_iter().flatten().copied().chain(escaped)
    }

    /// Whether a member has this name.
    fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// The value of the member with this name.
    fn find(&self, name: &str) -> Option<&'a RawValue> {
        if self.names & name_bit(name) == 0 {
            return None;
        }
        let plain =
            |members: &[Member<'a>]| members.iter().find(|(k, _)| same(k, name)).map(|(_, v)| *v);
        plain(&self.inline[..self.len.min(16)])
            .or_else(|| plain(&self.heap))
            .or_else(|| {
                let mut escaped = self.escaped.iter();
                escaped.find(|(k, _)| same(k, name)).map(|(_, v)| *v)
            })
    }
}

/// The registered claims of a payload, found in one pass over its members.
#[derive(Default)]
struct Registered<'a> {
    exp: Option<&'a RawValue>,
    nbf: Option<&'a RawValue>,
    iat: Option<&'a RawValue>,
    iss: Option<&'a RawValue>,
    aud: Option<&'a RawValue>,
    sub: Option<&'a RawValue>,
}

/// A member's value as `T`; absent and `null` are `None`, another type is `ClaimType`.
fn typed<'a, T: Deserialize<'a>>(raw: Option<&'a RawValue>) -> Result<Option<T>, Invalid> {
    match raw {
        None => Ok(None),
        Some(raw) if raw.get() == "null" => Ok(None),
        Some(raw) => serde_json::from_str(raw.get())
            .map(Some)
            .map_err(|_| Invalid::ClaimType),
    }
}

/// A string member's text, borrowed from the payload: [`typed`] as `Text`, without a second
/// parse for a string with no escapes (most claims). A raw value is one valid JSON value with
/// no surrounding whitespace, so a string in it without `\\` is exactly its content.
fn text<'a>(raw: Option<&'a RawValue>) -> Result<Option<Text<'a>>, Invalid> {
    if let Some(plain) = raw.and_then(|raw| plain_string(raw.get())) {
        return Ok(Some(Text(Cow::Borrowed(plain))));
    }
    typed(raw)
}

/// The content of a JSON string token without escapes; `None` for anything else.
#[inline]
fn plain_string(json: &str) -> Option<&str> {
    let inner = json.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then_some(inner)
}

/// A NumericDate: a finite, non-negative JSON number (RFC 7519 section 2).
fn number(raw: Option<&RawValue>) -> Result<Option<f64>, Invalid> {
    // The common form, a plain integer of up to 15 digits, read directly: exactly what
    // serde_json makes of it (an integer below 2^53 converts to f64 without rounding).
    if let Some(digits) = raw.map(|raw| raw.get().as_bytes())
        && (1..=15).contains(&digits.len())
        && let Some(n) = digits.iter().try_fold(0u64, |n, &d| {
            let digit = d.wrapping_sub(b'0');
            (digit < 10).then_some(n * 10 + u64::from(digit))
        })
    {
        return Ok(Some(n as f64));
    }
    match typed::<f64>(raw)? {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
        Some(_) => Err(Invalid::ClaimType),
        None => Ok(None),
    }
}

impl<'a> Object<'a> {
    #[inline]
    fn new() -> Self {
        Object(Members::new())
    }

    /// Reads `json` (as `serde_json::from_str` would) into this empty object, in place: the
    /// members are too large to move through serde's return values cheaply.
    fn fill(&mut self, json: &'a str) -> Result<(), Invalid> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        de::DeserializeSeed::deserialize(Fill(&mut self.0), &mut deserializer)
            .and_then(|()| deserializer.end())
            .map_err(|_| Invalid::Malformed)
    }

    fn raw(&self, name: &str) -> Option<&'a RawValue> {
        self.0.find(name)
    }

    fn get<T: Deserialize<'a>>(&self, name: &str) -> Result<Option<T>, Invalid> {
        typed(self.raw(name))
    }

    /// What `raw` would find for each registered claim (names are unique: duplicates were
    /// refused by the parse).
    fn registered(&self) -> Registered<'a> {
        let mut found = Registered::default();
        for (name, value) in self.0.iter() {
            // Three bytes compared as one array: a `match` on `&str` arms calls `memcmp` per
            // arm and member.
            let &[a, b, c] = name.as_bytes() else {
                continue;
            };
            let slot = match [a, b, c] {
                [b'e', b'x', b'p'] => &mut found.exp,
                [b'n', b'b', b'f'] => &mut found.nbf,
                [b'i', b'a', b't'] => &mut found.iat,
                [b'i', b's', b's'] => &mut found.iss,
                [b'a', b'u', b'd'] => &mut found.aud,
                [b's', b'u', b'b'] => &mut found.sub,
                _ => continue,
            };
            *slot = Some(value);
        }
        found
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
            let mut nested = Object::new();
            nested.fill(value.get()).map_err(|_| Invalid::ClaimType)?;
            value = match nested.raw(segment) {
                Some(v) => v,
                None => return Ok(None),
            };
        }
        Ok(Some(value))
    }

    /// Role names: an array of strings, or a single string. (Filled in place, here and in
    /// `scopes_at`: returning a `Result<Vec<_>>` went through a stack slot that the caller read
    /// back with mismatched widths, a store-forwarding stall on every token.)
    fn names_at(&self, path: &ClaimPath, names: &mut Vec<String>) -> Result<(), Invalid> {
        for_each_name(self.at(path)?, |name| names.push(name.to_owned()))?;
        Ok(())
    }

    /// Scopes: a space-delimited string (RFC 8693 `scope`) or an array of strings (`scp`).
    /// `Ok(false)`: the claim is absent, and `scopes` untouched.
    fn scopes_at(&self, path: &ClaimPath, scopes: &mut Vec<String>) -> Result<bool, Invalid> {
        for_each_name(self.at(path)?, |names| {
            scopes.extend(
                names
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
        })
    }
}

/// `a == b`, deciding most unequal claim names (`sub`, `iss`, `aud`, `exp`, `iat`: same
/// length) on the first byte instead of a `memcmp` call.
#[inline]
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// Reads a JSON object's members into `Members`, refusing duplicate names.
struct Fill<'m, 'a>(&'m mut Members<'a>);

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for Fill<'_, 'a> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Fill<'_, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(name) = map.next_key::<Text<'a>>()? {
            if self.0.has(&name.0) {
                return Err(de::Error::custom("duplicate claim"));
            }
            let value: &'a RawValue = map.next_value()?;
            self.0.push(name, value);
        }
        Ok(())
    }
}

/// A JSON string, borrowed from the input unless it has escapes. (`Cow<str>`'s own
/// `Deserialize` always copies; this type accepts exactly the same JSON.)
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
    }
}

struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
    type Value = Text<'a>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(v)))
    }
}

/// Calls `each` with every name of a claim that holds one name or an array of names (and
/// nothing else: not `null` inside the array, not numbers), without collecting them first.
/// `Ok(false)`: the claim is absent or `null`; another shape is `ClaimType`.
fn for_each_name(raw: Option<&RawValue>, mut each: impl FnMut(&str)) -> Result<bool, Invalid> {
    if let Some(name) = raw.and_then(|raw| plain_string(raw.get())) {
        each(name);
        return Ok(true);
    }
    match raw {
        None => Ok(false),
        Some(raw) if raw.get() == "null" => Ok(false),
        Some(raw) => {
            let mut deserializer = serde_json::Deserializer::from_str(raw.get());
            de::Deserializer::deserialize_any(&mut deserializer, NamesVisitor(each))
                .and_then(|()| deserializer.end())
                .map_err(|_| Invalid::ClaimType)?;
            Ok(true)
        }
    }
}

struct NamesVisitor<F>(F);

impl<'de, F: FnMut(&str)> Visitor<'de> for NamesVisitor<F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }
    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<(), E> {
        (self.0)(v);
        Ok(())
    }
    fn visit_seq<A: de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(name) = seq.next_element::<Text<'de>>()? {
            (self.0)(&name.0);
        }
        Ok(())
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

    /// A claim name spelled with escapes is the same claim: it is checked, found and counted
    /// for duplicates like the plain spelling (escaped names are kept apart internally).
    #[test]
    fn escaped_claim_names_are_the_same_claims() {
        let expired = r#"{"sub":"7","iss":"iss","aud":"aud","\u0065xp":900}"#;
        assert_eq!(check(expired).unwrap_err(), Invalid::Expired);
        let wrong_issuer = r#"{"sub":"7","\u0069ss":"other","aud":"aud","exp":2000}"#;
        assert_eq!(check(wrong_issuer).unwrap_err(), Invalid::Issuer);
        let twice = r#"{"sub":"7","\u0073ub":"8","iss":"iss","aud":"aud","exp":2000}"#;
        assert_eq!(check(twice).unwrap_err(), Invalid::Malformed);
        let twice = r#"{"\u0073ub":"8","sub":"7","iss":"iss","aud":"aud","exp":2000}"#;
        assert_eq!(check(twice).unwrap_err(), Invalid::Malformed);
        let p = check(
            r#"{"\u0073ub":"7","iss":"iss","aud":"aud","exp":2000,"r\u006fles":["a"],"sc\u006fpe":"x y"}"#,
        )
        .unwrap();
        assert_eq!(
            (p.subject.as_str(), &p.roles[..]),
            ("7", &["a".to_owned()][..])
        );
        assert_eq!(p.scopes, ["x", "y"]);
    }

    /// Past the 16 members kept in place, on the heap: lookups, the registered claims and the
    /// duplicate check still see every member, and names sharing a filter bit are still told
    /// apart.
    #[test]
    fn many_members_and_filter_collisions() {
        let filler: String = (0..20).map(|i| format!(r#""c{i:02}":{i},"#)).collect();
        let base = r#""iss":"iss","aud":"aud","exp":2000"#;
        // `szb` shares `sub`'s filter bit (same length, first and last byte).
        assert_eq!(name_bit("szb"), name_bit("sub"));
        let p = check(&format!(
            r#"{{{filler}"szb":"x","sub":"7","roles":["a"],{base}}}"#
        ))
        .unwrap();
        assert_eq!(
            (p.subject.as_str(), &p.roles[..]),
            ("7", &["a".to_owned()][..])
        );
        let duplicate = format!(r#"{{{filler}"sub":"7","\u0073ub":"8",{base}}}"#);
        assert_eq!(check(&duplicate).unwrap_err(), Invalid::Malformed);
        let duplicate = format!(r#"{{"sub":"7",{filler}"sub":"8",{base}}}"#);
        assert_eq!(check(&duplicate).unwrap_err(), Invalid::Malformed);
        let expired = format!(r#"{{{filler}"sub":"7","iss":"iss","aud":"aud","exp":900}}"#);
        assert_eq!(check(&expired).unwrap_err(), Invalid::Expired);
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

    /// The keys prepared once (aws-lc-rs) accept and refuse exactly what jsonwebtoken's
    /// provider does, for every algorithm.
    #[test]
    fn prepared_keys_agree_with_the_provider() {
        use crate::session::SigningKey;
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
                SigningKey::hmac(alg, secret),
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
            #[cfg(feature = "aws-lc-rs")]
            assert!(
                !matches!(*key.check, Check::Provider),
                "{alg:?} not prepared"
            );
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

    /// The shortcuts for plain integers and strings without escapes answer what the general
    /// serde parse answers, for every JSON value.
    #[test]
    fn value_shortcuts_agree_with_serde() {
        let values = [
            "0",
            "7",
            "1700000000",
            "123456789012345",
            "1234567890123456",
            "9007199254740993",
            "1e3",
            "1.5",
            "-1",
            "-0",
            "1E400",
            "null",
            "true",
            "\"\"",
            "\"a\"",
            "\"1700000000\"",
            "\"a\\u0041\"",
            "\"\\\"\"",
            "\"é\"",
            "[\"a\"]",
            "{}",
            "[]",
            "\"a b\"",
        ];
        for json in values {
            let raw: &RawValue = serde_json::from_str(json).unwrap();
            let general = typed::<f64>(Some(raw)).and_then(|n| match n {
                Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
                Some(_) => Err(Invalid::ClaimType),
                None => Ok(None),
            });
            assert_eq!(number(Some(raw)), general, "number {json}");
            let general = typed::<Text<'_>>(Some(raw)).map(|t| t.map(|t| t.0.into_owned()));
            let short = text(Some(raw)).map(|t| t.map(|t| t.0.into_owned()));
            assert_eq!(short, general, "text {json}");
            let names = |raw| {
                let mut names = Vec::new();
                for_each_name(raw, |n| names.push(n.to_owned())).map(|found| (found, names))
            };
            let mut deserializer = serde_json::Deserializer::from_str(json);
            let general = <Option<either::Names>>::deserialize(&mut deserializer)
                .map(|n| n.map_or((false, vec![]), |n| (true, n.0)))
                .map_err(|_| Invalid::ClaimType);
            assert_eq!(names(Some(raw)), general, "names {json}");
        }
        assert_eq!(number(None), Ok(None));
        assert!(text(None).unwrap().is_none());
    }

    /// What `for_each_name` accepts, spelled out with serde: a string or an array of strings.
    mod either {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        pub(super) struct Names(pub(super) Vec<String>);
        impl<'de> serde::Deserialize<'de> for Names {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Names(match OneOrMany::deserialize(d)? {
                    OneOrMany::One(name) => vec![name],
                    OneOrMany::Many(names) => names,
                }))
            }
        }
    }

    /// The per-thread memo of the last header answers exactly what a parse answers, and
    /// never for another text.
    #[test]
    fn header_memo_is_exact() {
        let enc = |json: &str| URL_SAFE_NO_PAD.encode(json);
        let good = enc(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#);
        let other_kid = enc(r#"{"alg":"RS256","kid":"k2","typ":"JWT"}"#);
        type Said<'a> = Result<(Algorithm, Option<&'a str>), Invalid>;
        let cases: [(String, Said<'_>); 7] = [
            (good.clone(), Ok((Algorithm::RS256, Some("k1")))),
            (good.clone(), Ok((Algorithm::RS256, Some("k1")))),
            (other_kid, Ok((Algorithm::RS256, Some("k2")))),
            (
                enc(r#"{"alg":"RS256","kid":"k1","crit":["exp"]}"#),
                Err(Invalid::Crit),
            ),
            (
                enc(r#"{"alg":"RS256","alg":"HS256"}"#),
                Err(Invalid::Malformed),
            ),
            (enc(r#"{"alg":"none"}"#), Err(Invalid::Algorithm)),
            (good, Ok((Algorithm::RS256, Some("k1")))),
        ];
        for (text, want) in cases {
            let got = header(&text);
            let got = got.as_ref().map(|(alg, kid, _)| (*alg, kid.as_deref()));
            assert_eq!(got, want.as_ref().map(|(a, k)| (*a, *k)), "{text}");
        }
        let session = header(&enc(r#"{"alg":"HS256","typ":"Authgate-Session+JWT"}"#));
        assert!(matches!(session, Ok((Algorithm::HS256, None, true))));
        let bearer = header(&enc(r#"{"alg":"HS256","typ":"JWT"}"#));
        assert!(matches!(bearer, Ok((Algorithm::HS256, None, false))));
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
