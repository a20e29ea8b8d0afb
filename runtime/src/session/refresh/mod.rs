//! Refresh tokens: for clients that cannot keep a browser session (mobile apps, command-line
//! tools, a single-page app behind its own backend), an opaque, long-lived credential that is
//! exchanged for a new access token and a new refresh token (rotation).
//!
//! A login starts a **family**: a record in a [`RefreshStore`] holding who the user is and the
//! SHA-256 of the one refresh token in force (the token itself never reaches the store). Each
//! exchange replaces that hash with the next token's, in one conditional update, so of two
//! uses of the same token at most one succeeds. Presenting a token of the family that is no
//! longer the one in force (it was used before: stolen and replayed, or replayed by a
//! thief's victim after the thief used it) ends the family and every access token of the
//! subject issued up to now (a subject revocation, on every instance), as the OAuth 2.0
//! Security BCP (RFC 9700, section 4.14.2) recommends; it is logged, never with a token.
//!
//! A family ends after its absolute lifetime, or when unused for its idle timeout, and with
//! [`Gate::revoke_user`](crate::Gate::revoke_user). A token is `<family id>.<secret>`
//! (128 and 256 random bits, base64url): the family id finds the record without a scan.

mod memory;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::session::lifecycle::{PurgeLog, spawn_purge};
use crate::session::random_id;
use crate::session::{SessionKey, SessionUser, StoreError};
use crate::verify::BoxFuture;

/// Refresh token settings. Give them to
/// [`GateBuilder::refresh_tokens`](crate::GateBuilder::refresh_tokens); the Gate must issue
/// its own tokens (an HMAC secret or a signing key) and have
/// [`Revocations`](crate::Revocations), which a reused token needs.
///
/// ```
/// use std::time::Duration;
/// use authgate::{Gate, MemoryRevocations, MemoryStore, RefreshTokens, Revocations};
///
/// let gate = Gate::builder()
///     .hs256("an HMAC secret of at least 32 bytes!!")
///     .revocations(Revocations::new(MemoryRevocations::new()))
///     .refresh_tokens(
///         RefreshTokens::new(MemoryStore::new())
///             .absolute_lifetime(Duration::from_secs(30 * 24 * 3600))
///             .idle_timeout(Duration::from_secs(7 * 24 * 3600)),
///     )
///     .build()?;
/// # Ok::<(), authgate::GateError>(())
/// ```
#[derive(Clone)]
pub struct RefreshTokens {
    pub(crate) store: Arc<dyn RefreshStore>,
    pub(crate) absolute_lifetime: u64,
    pub(crate) idle_timeout: u64,
    pub(crate) purge_every: Duration,
    /// Whether the purge task runs (started by the first exchange).
    pub(crate) purging: Arc<std::sync::Once>,
}

impl fmt::Debug for RefreshTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokens")
            .field("absolute_lifetime", &self.absolute_lifetime)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl RefreshTokens {
    /// Families kept in `store`. Defaults: absolute lifetime 30 days, idle timeout 7 days,
    /// expired families purged every 10 minutes.
    pub fn new(store: impl RefreshStore) -> Self {
        RefreshTokens {
            store: Arc::new(store),
            absolute_lifetime: 30 * 24 * 3600,
            idle_timeout: 7 * 24 * 3600,
            purge_every: Duration::from_secs(10 * 60),
            purging: Arc::new(std::sync::Once::new()),
        }
    }

    /// How long a family lasts from login, however often it is refreshed.
    pub fn absolute_lifetime(mut self, lifetime: Duration) -> Self {
        self.absolute_lifetime = lifetime.as_secs();
        self
    }

    /// How long a family stays valid without an exchange.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout.as_secs();
        self
    }

    /// How often families past their absolute lifetime are deleted (default every 10
    /// minutes), in the background, started by the first exchange.
    pub fn purge_every(mut self, every: Duration) -> Self {
        self.purge_every = every.max(Duration::from_secs(1));
        self
    }
}

/// One refresh family, as a [`RefreshStore`] keeps it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefreshFamily {
    /// What the family is stored under: the SHA-256 of its id (never the id).
    pub key: SessionKey,
    /// The SHA-256 of the one refresh token in force (never the token).
    pub current: SessionKey,
    /// The user's subject.
    pub subject: String,
    /// The user's roles at login.
    pub roles: Vec<String>,
    /// The user's scopes at login.
    pub scopes: Vec<String>,
    /// Extra claims as a JSON object, put into every access token of the family.
    pub claims: String,
    /// When the family was started (seconds since the Unix epoch).
    pub created_at: u64,
    /// When a token of the family was last exchanged (or the login).
    pub last_used: u64,
    /// When the family ends whatever happens (absolute lifetime).
    pub expires_at: u64,
}

impl RefreshFamily {
    /// Who the family's access tokens are for.
    fn user(&self) -> SessionUser {
        let claims = serde_json::from_str(&self.claims).unwrap_or_default();
        SessionUser {
            subject: self.subject.clone(),
            roles: self.roles.clone(),
            scopes: self.scopes.clone(),
            claims,
        }
    }
}

/// Where refresh families live: every bundled session store ([`MemoryStore`](crate::MemoryStore),
/// and with their features `SqliteStore`, `PostgresStore`, `RedisStore`) is one. Errors answer
/// 503.
///
/// The contract every store meets (`authgate::testing::RefreshConformance` checks it):
///
/// - **hashes only**: a family is stored under its [`SessionKey`] and holds the hash of its
///   token in force; neither the family id nor any token reaches the store;
/// - **one winner**: [`rotate_family`](Self::rotate_family) replaces `current` only if it is still the
///   presented hash, in one atomic step (a conditional update, a transaction, a script), so
///   two concurrent exchanges of the same token cannot both succeed;
/// - [`delete_user_families`](Self::delete_user_families) removes every family of one subject and no other;
/// - [`purge_expired_families`](Self::purge_expired_families) removes families past their absolute lifetime;
/// - idle and absolute expiry are decided by the Gate from `last_used` and `expires_at`.
///
/// ```
/// use authgate::{BoxFuture, RefreshFamily, RefreshStore, SessionKey, StoreError};
///
/// struct Down;
/// fn down<T: Send>() -> BoxFuture<'static, Result<T, StoreError>> {
///     Box::pin(async { Err(StoreError::new("connection refused")) })
/// }
/// impl RefreshStore for Down {
///     fn create_family(&self, _: &RefreshFamily) -> BoxFuture<'_, Result<(), StoreError>> { down() }
///     fn load_family(&self, _: &SessionKey) -> BoxFuture<'_, Result<Option<RefreshFamily>, StoreError>> { down() }
///     fn rotate_family(&self, _: &SessionKey, _: &SessionKey, _: &SessionKey, _: u64)
///         -> BoxFuture<'_, Result<bool, StoreError>> { down() }
///     fn delete_family(&self, _: &SessionKey) -> BoxFuture<'_, Result<(), StoreError>> { down() }
///     fn delete_user_families(&self, _: &str) -> BoxFuture<'_, Result<u64, StoreError>> { down() }
///     fn purge_expired_families(&self, _: u64) -> BoxFuture<'_, Result<u64, StoreError>> { down() }
/// }
/// ```
pub trait RefreshStore: Send + Sync + 'static {
    /// Adds a new family (a login). Its key is new: ids are 128 random bits.
    fn create_family(&self, family: &RefreshFamily) -> BoxFuture<'_, Result<(), StoreError>>;
    /// The family stored under this key, if it exists.
    fn load_family(
        &self,
        key: &SessionKey,
    ) -> BoxFuture<'_, Result<Option<RefreshFamily>, StoreError>>;
    /// If the family exists and its `current` is `presented`, sets `current` to `next` and
    /// `last_used` to `now` and returns `true`; otherwise changes nothing and returns
    /// `false`. Atomic.
    fn rotate_family(
        &self,
        key: &SessionKey,
        presented: &SessionKey,
        next: &SessionKey,
        now: u64,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;
    /// Deletes one family. Deleting a missing one is not an error.
    fn delete_family(&self, key: &SessionKey) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Deletes every family of a user; returns how many there were.
    fn delete_user_families(&self, subject: &str) -> BoxFuture<'_, Result<u64, StoreError>>;
    /// Deletes the families whose absolute lifetime ended at or before `now`; returns how
    /// many.
    fn purge_expired_families(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>>;
}

/// A refresh token: opaque, for the client to keep and send back to the refresh endpoint.
/// Its `Debug` output never shows it; it serializes as its text.
///
/// ```
/// use authgate::{Gate, MemoryRevocations, MemoryStore, RefreshTokens, Revocations, SessionUser};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let gate = Gate::builder()
///     .hs256("an HMAC secret of at least 32 bytes!!")
///     .revocations(Revocations::new(MemoryRevocations::new()))
///     .refresh_tokens(RefreshTokens::new(MemoryStore::new()))
///     .build()?;
/// let tokens = gate.issue_tokens(&SessionUser::new("42")).await?;
/// assert_eq!(format!("{:?}", tokens.refresh_token), "RefreshToken(..)");
/// assert_eq!(serde_json::to_value(&tokens)?["refresh_token"], tokens.refresh_token.as_str());
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl RefreshToken {
    /// The token's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The token, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken(..)")
    }
}

impl Serialize for RefreshToken {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Lengths of a token's parts: 16 and 32 bytes, base64url.
const FAMILY_LEN: usize = 22;
const SECRET_LEN: usize = 43;

/// A new family for `user` at `now`, and its first token.
pub(crate) fn new_family(
    settings: &RefreshTokens,
    user: &SessionUser,
    now: u64,
) -> Result<(RefreshFamily, RefreshToken), StoreError> {
    let family = random_id(16).map_err(StoreError::new)?;
    let token = token_of(&family)?;
    let record = RefreshFamily {
        key: SessionKey::of(&family),
        current: SessionKey::of(token.as_str()),
        subject: user.subject.clone(),
        roles: user.roles.clone(),
        scopes: user.scopes.clone(),
        claims: serde_json::Value::Object(user.claims.clone()).to_string(),
        created_at: now,
        last_used: now,
        expires_at: now.saturating_add(settings.absolute_lifetime),
    };
    Ok((record, token))
}

/// A new token of the family `family`.
fn token_of(family: &str) -> Result<RefreshToken, StoreError> {
    let secret = random_id(32).map_err(StoreError::new)?;
    Ok(RefreshToken(format!("{family}.{secret}")))
}

/// The family id of a token of the right shape; `None` for anything else (never a store call).
fn family_of(token: &str) -> Option<&str> {
    let (family, secret) = token.split_once('.')?;
    let base64url = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (family.len() == FAMILY_LEN
        && secret.len() == SECRET_LEN
        && base64url(family)
        && base64url(secret))
    .then_some(family)
}

/// What an exchange came to.
pub(crate) enum Exchange {
    /// The token was the one in force: the family now holds `next`.
    Rotated {
        user: SessionUser,
        next: RefreshToken,
    },
    /// Unknown, malformed or expired: the reason, for the logs.
    Refused(&'static str),
    /// A token of the family that was no longer in force: the subject's access tokens must
    /// be revoked, and then the family ended.
    Reused { subject: String, family: SessionKey },
}

/// Exchanges `presented` at `now`: load, expiry, the hash in force, then the conditional
/// rotation (which a concurrent exchange of the same token loses).
pub(crate) async fn exchange(
    settings: &RefreshTokens,
    presented: &str,
    now: u64,
) -> Result<Exchange, StoreError> {
    let Some(family) = family_of(presented) else {
        return Ok(Exchange::Refused("malformed_refresh_token"));
    };
    let store = &*settings.store;
    let key = SessionKey::of(family);
    let Some(record) = store.load_family(&key).await? else {
        return Ok(Exchange::Refused("unknown_refresh_token"));
    };
    let idle_end = record.last_used.saturating_add(settings.idle_timeout);
    if now >= record.expires_at || now >= idle_end {
        store.delete_family(&key).await?;
        return Ok(Exchange::Refused("refresh_family_expired"));
    }
    let presented = SessionKey::of(presented);
    let next = token_of(family)?;
    let rotated = record.current == presented
        && store
            .rotate_family(&key, &presented, &SessionKey::of(next.as_str()), now)
            .await?;
    if !rotated {
        // The Gate revokes the subject first and then ends the family: a failed revocation
        // leaves the family, so the next presentation is caught as a reuse again.
        return Ok(Exchange::Reused {
            subject: record.subject,
            family: key,
        });
    }
    Ok(Exchange::Rotated {
        user: record.user(),
        next,
    })
}

/// Starts the background purge of expired families, once per `RefreshTokens` (as sessions'
/// purge does: bounded, logged, ending with the store).
pub(crate) fn start_purge(settings: &RefreshTokens, clock: Arc<dyn Fn() -> u64 + Send + Sync>) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    settings.purging.call_once(|| {
        let log = PurgeLog {
            purged: "expired refresh families purged",
            failed: "purging expired refresh families failed",
            slow: "purging expired refresh families took over 30 s",
        };
        spawn_purge(
            &settings.store,
            settings.purge_every,
            clock,
            log,
            |store, now| store.purge_expired_families(now),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tokens_of_the_issued_shape_reach_the_store() {
        let family = random_id(16).unwrap();
        let token = token_of(&family).unwrap();
        assert_eq!(family_of(token.as_str()), Some(family.as_str()));
        assert_eq!(token.as_str().len(), FAMILY_LEN + 1 + SECRET_LEN);
        let secret = &token.as_str()[FAMILY_LEN + 1..];
        for bad in [
            String::new(),
            ".".to_owned(),
            family.clone(),
            format!("{family}.{secret}x"),
            format!("{family}x.{secret}"),
            format!("{family}.{}", &secret[1..]),
            format!("{family}.{}+", &secret[1..]),
            format!("{family}.{secret}.{secret}"),
            format!(" {family}.{}", &secret[1..]),
            format!("{family}é.{}", &secret[2..]),
        ] {
            assert_eq!(family_of(&bad), None, "{bad:?}");
        }
        assert!(!format!("{token:?}").contains(secret));
    }
}
