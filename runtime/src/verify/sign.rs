//! JWS signing: access tokens and stateless session cookies, with the same crypto backend
//! that verifies them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::PROVIDER;
use crate::keys::SigningKey;

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
    let mut header = serde_json::json!({ "alg": key.algorithm.as_str(), "typ": typ });
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
    let signer =
        (PROVIDER.signer_factory)(&key.algorithm.jwa(), &key.key).map_err(|e| e.to_string())?;
    let signature = signer
        .try_sign(message.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
}
