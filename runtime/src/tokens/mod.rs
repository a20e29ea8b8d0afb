//! Issuing: the access tokens a Gate signs for its own users, and the refresh tokens that
//! replace them, so that what a Gate issues is exactly what it accepts.
//!
//! # Access tokens
//!
//! A Gate issues as the one [`Issuer`](crate::issuers::Issuer) that has a signing key
//! ([`Issuer::secret`](crate::issuers::Issuer::secret),
//! [`Issuer::signing_key`](crate::issuers::Issuer::signing_key)). An issued token carries
//! that issuer's name as `iss` and its first audience as `aud`, `sub`, the roles and scopes
//! where that issuer's tokens carry them, `iat`, `exp` (the Gate's
//! [`token_lifetime`](crate::GateBuilder::token_lifetime), 15 minutes by default, never more
//! than its `max_lifetime`), a random `jti` (so it can be revoked alone) and the header
//! `typ: at+jwt` (RFC 9068): a session cookie's JWT has another `typ`, so neither is taken
//! for the other. Every instance with the same issuer settings accepts it without a store
//! lookup.
//!
//! # Refresh tokens
//!
//! For clients that hold no browser session (a mobile app, a command-line tool), with
//! [`RefreshTokens`] configured, [`Gate::issue`](crate::Gate::issue) also starts a refresh
//! **family** and returns its first refresh token; [`Gate::refresh`](crate::Gate::refresh)
//! exchanges it for a new pair (rotation).
//!
//! - A refresh token is opaque, `<family id>.<secret>` (128 and 256 random bits). The family
//!   is a [`LoginRecord`](crate::store::LoginRecord) in a [`LoginStore`](crate::store::LoginStore),
//!   which keeps the SHA-256 of the family id and of the one token in force, never a token.
//! - Each token is good for one exchange. The store replaces the hash in one conditional
//!   update, so of two concurrent uses of one token at most one succeeds.
//! - A token presented again after it was used (a stolen copy, used by the thief or by its
//!   owner after the thief) ends its family and every access token of the subject issued up
//!   to now, on every instance, as the OAuth 2.0 Security BCP (RFC 9700, 4.14.2) says; a
//!   warning is logged with the subject, never a token. That is why refresh tokens need
//!   [`Revocations`](crate::revocation::Revocations).
//! - A family ends after its absolute lifetime (30 days), when unused for its idle timeout
//!   (7 days), at a logout with one of its access tokens, and with
//!   [`Gate::revoke_user`](crate::Gate::revoke_user). Its access tokens
//!   carry the roles and scopes given at login.
//! - An unknown, expired, used or malformed refresh token is 401 `invalid_token`; a store
//!   that fails is 503.
//!
//! The refresh route is a `#[public]` handler (the refresh token is its credential) that
//! reads the token and calls `Gate::refresh`:
//!
//! ```
//! use authgate::{Gate, Identity, Rejection, public};
//! use authgate::issuers::Issuer;
//! use authgate::revocation::Revocations;
//! use authgate::store::MemoryStore;
//! use authgate::tokens::{RefreshTokens, Tokens};
//! use axum::Json;
//! use axum::extract::State;
//!
//! #[derive(serde::Deserialize)]
//! struct RefreshRequest { refresh_token: String }
//!
//! #[public(reason = "token refresh: the refresh token is the credential")]
//! async fn refresh(State(gate): State<Gate>, Json(body): Json<RefreshRequest>) -> Result<Json<Tokens>, Rejection> {
//!     Ok(Json(gate.refresh(&body.refresh_token).await?)) // 401 for a used or unknown one
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = MemoryStore::new();
//! let gate = Gate::builder()
//!     .issuer(Issuer::new("https://notes.example.com").secret("an HMAC secret of at least 32 bytes!!"))
//!     .revocations(Revocations::new(store.clone()))
//!     .refresh_tokens(RefreshTokens::new(store))
//!     .build()?;
//! let tokens = gate.issue(&Identity::new("42").roles(["user"])).await?;
//! // {"access_token": "eyJ..", "token_type": "Bearer", "expires_in": 900, "refresh_token": ".."}
//! let json = serde_json::to_value(&tokens)?;
//! assert_eq!(json["token_type"], "Bearer");
//! let next = gate.refresh(tokens.refresh_token().unwrap()).await?;
//! assert!(gate.refresh(tokens.refresh_token().unwrap()).await.is_err()); // used: refused
//! # Ok(()) }
//! ```
//!
//! Every access token of a family names it in its `sid` claim: the family's key in the store
//! (the SHA-256 of the family id), which is no credential: an exchange presents the refresh
//! token and hashes what it gets, so a `sid` presented anywhere finds nothing, and it reveals
//! neither the family id nor a token. [`Gate::logout`](crate::Gate::logout) with any access
//! token of a family ends that login: the family is deleted, and every access token naming it
//! is revoked on every instance, those of earlier refreshes included (see
//! [`revocation`](crate::revocation)). The claim is the Gate's: a token issued without a
//! family carries no `sid`, whatever the identity's claims say.
//! The [quick start of an app that issues its own tokens](crate::guide::app_that_issues_its_own_tokens)
//! has the login, refresh, logout and password change routes with their test.

mod refresh;

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::ser::SerializeStruct as _;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::clock::time;
use crate::identity::Identity;
use crate::keys::SigningKey;
use crate::store::random_id;
use crate::verify::{Rules, sign_access_jwt};

pub use refresh::RefreshTokens;
pub(crate) use refresh::{Exchange, REFRESH_STORE, exchange, new_family, start_purge};

/// The tokens a Gate issued ([`Gate::issue`](crate::Gate::issue),
/// [`Gate::refresh`](crate::Gate::refresh)): an access token this Gate (and every Gate with
/// the same issuer) accepts as `Authorization: Bearer`, and with [`RefreshTokens`] configured
/// the refresh token that gets the next one (once).
///
/// It serializes as an OAuth token response (RFC 6749 section 5.1): `access_token`,
/// `token_type` (`Bearer`), `expires_in` (seconds) and, when there is one, `refresh_token`.
/// Its `Debug` output never shows a token.
///
/// ```
/// use authgate::{Gate, Identity};
/// use authgate::issuers::Issuer;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let gate = Gate::builder()
///     .issuer(Issuer::new("https://notes.example.com").secret("an HMAC secret of at least 32 bytes!!"))
///     .build()?;
/// let tokens = gate.issue(&Identity::new("42").roles(["user"])).await?;
/// assert_eq!(tokens.access_token().split('.').count(), 3);
/// assert_eq!(tokens.expires_in().as_secs(), 15 * 60);
/// assert_eq!(tokens.refresh_token(), None); // no RefreshTokens configured
/// assert!(!format!("{tokens:?}").contains(tokens.access_token()));
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    access_token: String,
    token_id: String,
    issued_at: u64,
    expires_at: u64,
    expires_in: u64,
    refresh_token: Option<String>,
}

impl Tokens {
    /// The access token, for the `Authorization: Bearer` header.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// The refresh token that gets the next pair once, when refresh tokens are configured.
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref()
    }

    /// How long the access token lives from when it was issued.
    pub fn expires_in(&self) -> Duration {
        Duration::from_secs(self.expires_in)
    }

    /// When the access token expires (its `exp`).
    pub fn expires_at(&self) -> SystemTime {
        time(self.expires_at)
    }

    /// When the access token was issued (its `iat`).
    pub fn issued_at(&self) -> SystemTime {
        time(self.issued_at)
    }

    /// The access token's `jti`: 128 random bits, by which it can be revoked alone
    /// ([`Gate::revoke_token_id`](crate::Gate::revoke_token_id)).
    pub fn token_id(&self) -> &str {
        &self.token_id
    }

    /// The same tokens with the refresh token of a family.
    pub(crate) fn with_refresh_token(mut self, token: String) -> Self {
        self.refresh_token = Some(token);
        self
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("token_id", &self.token_id)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| ".."))
            .finish_non_exhaustive()
    }
}

impl Serialize for Tokens {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = 3 + usize::from(self.refresh_token.is_some());
        let mut s = serializer.serialize_struct("Tokens", fields)?;
        s.serialize_field("access_token", &self.access_token)?;
        s.serialize_field("token_type", "Bearer")?;
        s.serialize_field("expires_in", &self.expires_in)?;
        if let Some(refresh_token) = &self.refresh_token {
            s.serialize_field("refresh_token", refresh_token)?;
        }
        s.end()
    }
}

/// What signs a Gate's access tokens, with the rules of the issuer it signs as, and how long
/// the tokens live.
#[derive(Clone, Debug)]
pub(crate) struct Signer {
    pub(crate) key: SigningKey,
    pub(crate) rules: Rules,
    /// Seconds; at most the Gate's `max_lifetime`.
    pub(crate) lifetime: u64,
}

/// The access token's claims for `user`: the user's own claims, then the identity claims where
/// `rules` read them (they win over a user claim of the same name), `iat`, `exp` and `jti`.
pub(crate) fn access_claims(
    rules: &Rules,
    user: &Identity,
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

/// Signs an access token for `user` with `key` under `rules`, issued at `iat` and expiring at
/// `exp` (`now` is when, for `expires_in`); `shape` may add to the claims last (the test kit's
/// client id).
pub(crate) fn sign(
    key: &SigningKey,
    rules: &Rules,
    user: &Identity,
    (iat, exp, now): (u64, u64, u64),
    shape: impl FnOnce(&mut Map<String, Value>),
) -> Result<Tokens, String> {
    let id = random_id(16).map_err(|e| e.to_string())?;
    let mut claims = access_claims(rules, user, iat, exp, &id);
    shape(&mut claims);
    let token = sign_access_jwt(key, &claims)?;
    Ok(Tokens {
        access_token: token,
        token_id: id,
        issued_at: iat,
        expires_at: exp,
        expires_in: exp.saturating_sub(now),
        refresh_token: None,
    })
}
