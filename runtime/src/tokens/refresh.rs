//! Refresh tokens: for clients that cannot keep a browser session (mobile apps, command-line
//! tools, a single-page app behind its own backend), an opaque, long-lived credential that is
//! exchanged for a new access token and a new refresh token (rotation).
//!
//! A login starts a **family**: a [`LoginRecord`] in a [`LoginStore`] holding who the user is
//! and the SHA-256 of the one refresh token in force (the token itself never reaches the
//! store). Each exchange replaces that hash with the next token's, in one conditional update,
//! so of two uses of the same token at most one succeeds. Presenting a token of the family
//! that is no
//! longer the one in force (it was used before: stolen and replayed, or replayed by a
//! thief's victim after the thief used it) ends the family and every access token of the
//! subject issued up to now (a subject revocation, on every instance), as the OAuth 2.0
//! Security BCP (RFC 9700, section 4.14.2) recommends; it is logged, never with a token.
//!
//! A family ends after its absolute lifetime, or when unused for its idle timeout, at a
//! logout with one of its access tokens ([`Gate::logout`](crate::Gate::logout)), and with
//! [`Gate::revoke_user`](crate::Gate::revoke_user). An exchange that loaded a family a logout
//! then deleted is refused as unknown, not taken for a reuse. A token is `<family id>.<secret>`
//! (128 and 256 random bits, base64url): the family id finds the record without a scan.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::clock::{Clock, seconds, time};
use crate::identity::Identity;
use crate::store::{
    IdHash, LoginData, LoginRecord, LoginStore, Logins, PurgeLog, SessionValues, StoreError,
    random_id, spawn_purge,
};

/// What a refresh family's store is called in refusals and logs.
pub(crate) const REFRESH_STORE: &str = "refresh token store";

/// Refresh token settings, for [`GateBuilder::refresh_tokens`](crate::GateBuilder::refresh_tokens):
/// where the families live and how long. The Gate must issue its own tokens (an issuer with a
/// signing key) and have [`Revocations`](crate::revocation::Revocations), which a reused
/// token needs.
///
/// ```
/// use std::time::Duration;
/// use authgate::store::MemoryStore;
/// use authgate::tokens::RefreshTokens;
///
/// let refresh = RefreshTokens::new(MemoryStore::new())
///     .absolute_lifetime(Duration::from_secs(30 * 24 * 3600))
///     .idle_timeout(Duration::from_secs(7 * 24 * 3600));
/// ```
#[derive(Clone)]
pub struct RefreshTokens {
    pub(crate) store: Logins,
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
    pub fn new(store: impl LoginStore) -> Self {
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

/// Lengths of a token's parts: 16 and 32 bytes, base64url.
const FAMILY_LEN: usize = 22;
const SECRET_LEN: usize = 43;

/// A new family for `user` at `now`, and its first token.
pub(crate) fn new_family(
    settings: &RefreshTokens,
    user: &Identity,
    now: u64,
) -> Result<(LoginRecord, String), StoreError> {
    let family = random_id(16)?;
    let token = token_of(&family)?;
    let data = LoginData {
        roles: user.roles.clone(),
        scopes: user.scopes.clone(),
        claims: Value::Object(user.claims.clone()).to_string(),
        created_at: now,
        session: SessionValues::default(),
    };
    let record = LoginRecord {
        key: IdHash::of(&family).as_str().to_owned(),
        subject: user.subject.clone(),
        current: Some(IdHash::of(&token).as_str().to_owned()),
        last_used: time(now),
        expires_at: time(now.saturating_add(settings.absolute_lifetime)),
        data: data.encode(),
    };
    Ok((record, token))
}

/// A new token of the family `family`.
fn token_of(family: &str) -> Result<String, StoreError> {
    let secret = random_id(32)?;
    Ok(format!("{family}.{secret}"))
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
    /// The token was the one in force: the family (stored under `login`) now holds `next`.
    Rotated {
        user: Identity,
        login: IdHash,
        next: String,
    },
    /// Unknown, malformed or expired: the reason, for the logs.
    Refused(&'static str),
    /// A token of the family that was no longer in force: the subject's access tokens must
    /// be revoked, and then the family ended.
    Reused { subject: String, family: IdHash },
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
    let key = IdHash::of(family);
    // A session under this key is not a family (a session id never has a family id's shape).
    let loaded = store.load(key.as_str()).await?;
    let Some(record) = loaded.filter(|record| record.current.is_some()) else {
        return Ok(Exchange::Refused("unknown_refresh_token"));
    };
    let idle_end = seconds(record.last_used).saturating_add(settings.idle_timeout);
    if now >= seconds(record.expires_at) || now >= idle_end {
        store.delete(key.as_str()).await?;
        return Ok(Exchange::Refused("refresh_family_expired"));
    }
    let data = LoginData::decode(&record.data)?;
    let presented = IdHash::of(presented);
    let next = token_of(family)?;
    let in_force = record.current.as_deref() == Some(presented.as_str());
    let rotated = in_force
        && store
            .rotate(
                key.as_str(),
                presented.as_str(),
                IdHash::of(&next).as_str(),
                time(now),
            )
            .await?;
    // The family ended between the load and the rotation (a logout, a revocation): nothing
    // was reused, and nothing is left to end (a concurrent use of the same token leaves the
    // family in place, and is a reuse).
    if in_force && !rotated && store.load(key.as_str()).await?.is_none() {
        return Ok(Exchange::Refused("unknown_refresh_token"));
    }
    if !rotated {
        // The Gate revokes the subject first and then ends the family: a failed revocation
        // leaves the family, so the next presentation is caught as a reuse again.
        return Ok(Exchange::Reused {
            subject: record.subject,
            family: key,
        });
    }
    let claims = serde_json::from_str(&data.claims).map_err(StoreError::corrupt)?;
    let user = Identity {
        subject: record.subject,
        roles: data.roles,
        scopes: data.scopes,
        claims,
    };
    Ok(Exchange::Rotated {
        user,
        login: key,
        next,
    })
}

/// Starts the background purge of expired families, once per `RefreshTokens` (as sessions'
/// purge does: bounded, logged, ending with the store).
pub(crate) fn start_purge(settings: &RefreshTokens, clock: &Clock) {
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
            clock.clone(),
            log,
            |store, now| store.purge_expired(now),
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
        assert_eq!(family_of(&token), Some(family.as_str()));
        assert_eq!(token.len(), FAMILY_LEN + 1 + SECRET_LEN);
        let secret = &token[FAMILY_LEN + 1..];
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
    }
}
