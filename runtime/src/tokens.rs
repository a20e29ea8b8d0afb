//! Issuing: the access tokens a Gate signs for its own users, with its own key and claim
//! rules, so that what it issues is exactly what it accepts.
//!
//! An issued token carries `iss` and `aud` (the Gate's first accepted ones), `sub`, the roles
//! and scopes where the Gate reads them, `iat`, `exp` (the Gate's token lifetime, never more
//! than its `max_lifetime`), a random `jti` (so it can be revoked alone) and the header
//! `typ: at+jwt` (RFC 9068): a session cookie's JWT has another `typ`, so neither is taken
//! for the other.

use std::fmt;

use serde::ser::SerializeStruct as _;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::session::refresh::RefreshToken;
use crate::session::{SessionUser, random_id};
use crate::verify::{Rules, SigningKey, sign_access_jwt};

/// An access token a Gate issued ([`Gate::issue`](crate::Gate::issue)): a JWT this Gate, and
/// every Gate with the same keys and rules, accepts as `Authorization: Bearer`.
///
/// Its `Debug` output never shows the token; it serializes as the token text, so it can go
/// into a JSON reply as is.
///
/// ```
/// use authgate::{Gate, SessionUser};
///
/// let gate = Gate::builder().hs256("an HMAC secret of at least 32 bytes!!").build()?;
/// let token = gate.issue(&SessionUser::new("42").roles(["user"]))?;
/// assert_eq!(token.as_str().split('.').count(), 3);
/// assert_eq!(token.expires_at(), gate.now() + 15 * 60);
/// assert!(!format!("{token:?}").contains(token.as_str()));
/// assert_eq!(serde_json::to_value(&token)?, token.as_str());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    token: String,
    id: String,
    issued_at: u64,
    expires_at: u64,
}

impl AccessToken {
    /// The token, for the `Authorization: Bearer` header.
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// The token, owned.
    pub fn into_string(self) -> String {
        self.token
    }

    /// Its `jti`: 128 random bits, by which it can be revoked alone
    /// ([`Gate::revoke_token_id`](crate::Gate::revoke_token_id)).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its `iat`, in seconds since the Unix epoch.
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }

    /// Its `exp`, in seconds since the Unix epoch.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("id", &self.id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Serialize for AccessToken {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.token)
    }
}

/// What signs a Gate's access tokens, and for how long they live.
#[derive(Clone, Debug)]
pub(crate) struct Signer {
    pub(crate) key: SigningKey,
    /// Seconds; at most the Gate's `max_lifetime`.
    pub(crate) lifetime: u64,
}

/// The access token's claims for `user`: the user's own claims, then the identity claims where
/// `rules` read them (they win over a user claim of the same name), `iat`, `exp` and `jti`.
pub(crate) fn access_claims(
    rules: &Rules,
    user: &SessionUser,
    iat: u64,
    exp: u64,
    jti: &str,
) -> Map<String, Value> {
    let mut claims = user.claims.clone();
    rules.identity_claims(&mut claims, &user.subject, &user.roles, &user.scopes);
    claims.insert("iat".into(), iat.into());
    claims.insert("exp".into(), exp.into());
    claims.insert("jti".into(), jti.into());
    claims
}

/// Signs an access token for `user`, issued at `iat` and expiring at `exp`.
pub(crate) fn sign(
    key: &SigningKey,
    rules: &Rules,
    user: &SessionUser,
    iat: u64,
    exp: u64,
    shape: impl FnOnce(&mut Map<String, Value>),
) -> Result<AccessToken, String> {
    let id = random_id(16)?;
    let mut claims = access_claims(rules, user, iat, exp, &id);
    shape(&mut claims);
    let token = sign_access_jwt(key, &claims)?;
    Ok(AccessToken {
        token,
        id,
        issued_at: iat,
        expires_at: exp,
    })
}

/// An access token and the refresh token that replaces it: what
/// [`Gate::issue_tokens`](crate::Gate::issue_tokens) and
/// [`Gate::refresh`](crate::Gate::refresh) return. Serializes as
/// `{"token", "refresh_token", "token_type": "Bearer", "expires_in"}`.
#[derive(Clone, Debug)]
pub struct Tokens {
    /// The access token.
    pub token: AccessToken,
    /// The refresh token that gets the next one (once).
    pub refresh_token: RefreshToken,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

impl Serialize for Tokens {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Tokens", 4)?;
        s.serialize_field("token", &self.token)?;
        s.serialize_field("refresh_token", &self.refresh_token)?;
        s.serialize_field("token_type", "Bearer")?;
        s.serialize_field("expires_in", &self.expires_in)?;
        s.end()
    }
}
