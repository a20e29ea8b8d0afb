//! What authgate leaves to the app: checking passwords (argon2id) and issuing bearer tokens.
//!
//! authgate verifies credentials; it does not check passwords or mint tokens. This module is
//! the small, careful part an app writes itself.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::db::{Db, User};
use crate::error::ApiError;

/// `iss` of the tokens this server issues (and the only one its Gate accepts).
pub const ISSUER: &str = "authgate-invoices";
/// `aud` of the tokens (the only one the Gate accepts).
pub const AUDIENCE: &str = "invoices-api";
/// How long a bearer token lives.
pub const TOKEN_LIFETIME_SECS: u64 = 15 * 60;

/// Password checking and token signing; cheap to clone.
#[derive(Clone)]
pub struct Auth {
    inner: Arc<Inner>,
}

struct Inner {
    signing_key: EncodingKey,
    /// A hash of a random password, verified against when the email is unknown, so that an
    /// unknown email costs the same argon2 work as a wrong password (no timing oracle).
    dummy_hash: String,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth { .. }") // never the key
    }
}

#[derive(Serialize)]
struct TokenClaims<'a> {
    sub: String,
    roles: &'a [String],
    iss: &'static str,
    aud: &'static str,
    iat: u64,
    exp: u64,
}

impl Auth {
    /// `secret` signs the HS256 tokens (the Gate verifies with the same bytes).
    pub async fn new(secret: &[u8]) -> Result<Auth, ApiError> {
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|_| ApiError::Internal("no OS randomness"))?;
        let dummy_hash = hash_password(hex(&random)).await?;
        Ok(Auth {
            inner: Arc::new(Inner {
                signing_key: EncodingKey::from_secret(secret),
                dummy_hash,
            }),
        })
    }

    /// The user with this email and password, or `None` for a wrong password or an unknown
    /// email alike, after the same amount of work.
    pub async fn check_password(
        &self,
        db: &Db,
        email: &str,
        password: &str,
    ) -> Result<Option<User>, ApiError> {
        let (user, hash) = match db.user_by_email(email).await? {
            Some((user, hash)) => (Some(user), hash),
            None => (None, self.inner.dummy_hash.clone()),
        };
        let ok = verify_password(password.to_owned(), hash).await?;
        Ok(user.filter(|_| ok))
    }

    /// A bearer token for `user`: HS256, `sub` = the id as decimal text, `roles`, `iss`, `aud`,
    /// `iat` = `now`, `exp` = 15 minutes later.
    pub fn issue_token(&self, user: &User, now: u64) -> Result<String, ApiError> {
        let claims = TokenClaims {
            sub: user.id.to_string(),
            roles: &user.roles,
            iss: ISSUER,
            aud: AUDIENCE,
            iat: now,
            exp: now + TOKEN_LIFETIME_SECS,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.inner.signing_key,
        )
        .map_err(|_| ApiError::Internal("signing a token failed"))
    }
}

/// An argon2id PHC string (default parameters: 19 MiB, 2 passes) with a random salt. Runs on
/// the blocking pool: it takes tens of milliseconds by design.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|_| ApiError::Internal("hashing a password failed"))
    })
    .await
    .map_err(|_| ApiError::Internal("the hashing task failed"))?
}

/// Whether `password` matches the PHC string `hash` (with the parameters the hash names).
async fn verify_password(password: String, hash: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        let hash = PasswordHash::new(&hash).map_err(|_| ApiError::Internal("a stored hash"))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok())
    })
    .await
    .map_err(|_| ApiError::Internal("the hashing task failed"))?
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
