//! The session lifecycle: login starts a session, a request authenticates and touches it,
//! renewal re-issues a stateless cookie, logout and revocation end sessions.
//!
//! These are the parts the Gate calls with its own settings (rules, clock); errors here are
//! bare [`SessionErrorKind`]s, which the Gate wraps with its rendering.

use std::sync::Arc;
use std::time::Duration;

use http::request::Parts;
use serde_json::{Map, Value};

use super::store::{SessionKey, SessionRecord, SessionStore, StoreError, new_session_id};
use super::{RenewSlot, SessionCookie, SessionErrorKind, SessionKind, SessionUser, Sessions};
use crate::principal::{CredentialKind, Principal};
use crate::verify::{BoxFuture, Invalid, Rules, SigningKey, sign_session_jwt};

/// Starts a session for `user` with a fresh id (never an id the request brought), and returns
/// the cookie to send. Roles and scopes go where `rules` read them, so the session's
/// principal has exactly the roles and scopes given.
pub(crate) async fn login(
    sessions: &Sessions,
    rules: &Rules,
    now: u64,
    user: SessionUser,
) -> Result<SessionCookie, SessionErrorKind> {
    let mut claims = user.claims;
    rules.identity_claims(&mut claims, &user.subject, &user.roles, &user.scopes);
    match &sessions.kind {
        SessionKind::Server(store) => {
            let id = new_session_id().map_err(SessionErrorKind::Store)?;
            let record = SessionRecord {
                key: SessionKey::of(&id),
                subject: user.subject,
                roles: user.roles,
                scopes: user.scopes,
                claims: Value::Object(claims).to_string(),
                created_at: now,
                last_seen: now,
                expires_at: now.saturating_add(sessions.absolute_lifetime),
            };
            store
                .create(&record)
                .await
                .map_err(SessionErrorKind::Store)?;
            Ok(SessionCookie(
                sessions.set_cookie(&id, sessions.absolute_lifetime),
            ))
        }
        SessionKind::Stateless(key) => {
            let lifetime = sessions.idle_timeout.min(sessions.absolute_lifetime);
            claims.insert("iat".into(), now.into());
            claims.insert("auth_time".into(), now.into());
            claims.insert("exp".into(), now.saturating_add(lifetime).into());
            let jti = new_session_id().map_err(SessionErrorKind::Store)?;
            claims.insert("jti".into(), jti.into());
            let token = sign_session_jwt(key, &claims).map_err(SessionErrorKind::Signing)?;
            Ok(SessionCookie(sessions.set_cookie(&token, lifetime)))
        }
    }
}

/// Ends the session of `principal`: deletes it from the store (server-side) and returns the
/// cookie that clears it in the browser.
pub(crate) async fn logout(
    sessions: &Sessions,
    principal: &Principal,
) -> Result<SessionCookie, SessionErrorKind> {
    if let (SessionKind::Server(store), Some(key)) = (&sessions.kind, &principal.session_key) {
        store.delete(key).await.map_err(SessionErrorKind::Store)?;
    }
    Ok(SessionCookie(sessions.set_cookie("", 0)))
}

/// Ends every server-side session of a user; returns how many were ended.
pub(crate) async fn revoke_user(
    sessions: &Sessions,
    subject: &str,
) -> Result<u64, SessionErrorKind> {
    match &sessions.kind {
        SessionKind::Stateless(_) => Err(SessionErrorKind::Stateless),
        SessionKind::Server(store) => store
            .delete_user(subject)
            .await
            .map_err(SessionErrorKind::Store),
    }
}

/// Why a server-side session cookie did not authenticate.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The cookie or the session is not valid: 401.
    Invalid(Invalid),
    /// The store failed: 503.
    Unavailable(StoreError),
}

/// A server-side session cookie's value to a principal: the id's shape, then the store (idle
/// and absolute expiry, last-seen written at most once a minute, with an update that never
/// brings back a session revoked in the meantime).
pub(crate) async fn authenticate_server(
    sessions: &Sessions,
    store: &dyn SessionStore,
    value: &str,
    now: u64,
) -> Result<Arc<Principal>, Refused> {
    if value.len() != 43
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Refused::Invalid(Invalid::SessionCookie));
    }
    let key = SessionKey::of(value);
    let loaded = store.load(&key).await.map_err(Refused::Unavailable)?;
    let Some(mut record) = loaded else {
        return Err(Refused::Invalid(Invalid::UnknownSession));
    };
    let idle_end = record.last_seen.saturating_add(sessions.idle_timeout);
    if now >= record.expires_at || now >= idle_end {
        store.delete(&key).await.map_err(Refused::Unavailable)?;
        return Err(Refused::Invalid(Invalid::SessionExpired));
    }
    // Last-seen is written at most once a minute (or per quarter of the idle timeout): the
    // idle clock stays accurate without a store write on every request. The write only
    // updates: a session deleted since the load (logout, revocation) is not written back.
    if now.saturating_sub(record.last_seen) >= (sessions.idle_timeout / 4).min(60) {
        let touched = store.touch(&key, now).await.map_err(Refused::Unavailable)?;
        if !touched {
            return Err(Refused::Invalid(Invalid::UnknownSession));
        }
        record.last_seen = now;
    }
    let expires_at = record
        .expires_at
        .min(record.last_seen.saturating_add(sessions.idle_timeout));
    Ok(Arc::new(Principal {
        subject: record.subject,
        roles: record.roles,
        scopes: record.scopes,
        expires_at,
        issued_at: Some(record.created_at),
        token_id: None,
        client_id: None,
        credential: CredentialKind::Cookie,
        claims: record.claims,
        session_key: Some(key),
    }))
}

/// Re-issues a stateless cookie with less than half its lifetime left, through the
/// [`SessionLayer`](super::SessionLayer), never past the absolute lifetime (`auth_time` +
/// lifetime). Without the layer in the request, nothing is done.
pub(crate) fn renew_if_due(
    parts: &Parts,
    sessions: &Sessions,
    key: &SigningKey,
    principal: &Principal,
    now: u64,
) {
    let Some(slot) = parts.extensions.get::<RenewSlot>() else {
        return;
    };
    if principal.expires_at.saturating_sub(now) > sessions.idle_timeout / 2 {
        return;
    }
    let Ok(mut claims) = serde_json::from_str::<Map<String, Value>>(&principal.claims) else {
        return;
    };
    let auth_time = claims.get("auth_time").and_then(Value::as_u64).unwrap_or(0);
    let end = auth_time.saturating_add(sessions.absolute_lifetime);
    if now >= end {
        return;
    }
    let exp = now.saturating_add(sessions.idle_timeout).min(end);
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), exp.into());
    if let Ok(token) = sign_session_jwt(key, &claims)
        && let Ok(mut slot) = slot.0.lock()
    {
        *slot = Some(sessions.set_cookie(&token, exp - now));
    }
}

/// Starts the background purge of expired sessions, once per `Sessions`: every
/// `sessions.purge_every`, `purge_expired` with the Gate's clock, bounded to 30 seconds and
/// logged (never a session key). It holds the store weakly, so it ends with the Gate.
/// Called from a request, so always inside a tokio runtime.
pub(crate) fn start_purge(
    sessions: &Sessions,
    store: &Arc<dyn SessionStore>,
    clock: Arc<dyn Fn() -> u64 + Send + Sync>,
) {
    sessions.purging.call_once(|| {
        let log = PurgeLog {
            purged: "expired sessions purged",
            failed: "purging expired sessions failed",
            slow: "purging expired sessions took over 30 s",
        };
        spawn_purge(store, sessions.purge_every, clock, log, |store, now| {
            store.purge_expired(now)
        });
    });
}

/// What a purge task logs: a purge that removed something, a failed one, one past 30 s.
pub(crate) struct PurgeLog {
    pub(crate) purged: &'static str,
    pub(crate) failed: &'static str,
    pub(crate) slow: &'static str,
}

/// The purge task of a store: every `every`, `purge` at the clock's now, bounded to 30
/// seconds and logged with `log`. It holds the store weakly, so it ends with the Gate.
pub(crate) fn spawn_purge<S, F>(
    store: &Arc<S>,
    every: Duration,
    clock: Arc<dyn Fn() -> u64 + Send + Sync>,
    log: PurgeLog,
    purge: F,
) where
    S: ?Sized + Send + Sync + 'static,
    F: for<'s> Fn(&'s S, u64) -> BoxFuture<'s, Result<u64, StoreError>> + Send + 'static,
{
    let store = Arc::downgrade(store);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let Some(store) = store.upgrade() else {
                return;
            };
            match tokio::time::timeout(Duration::from_secs(30), purge(&store, clock())).await {
                Ok(Ok(0)) => {}
                Ok(Ok(purged)) => tracing::debug!(target: "authgate", purged, "{}", log.purged),
                Ok(Err(error)) => tracing::warn!(target: "authgate", %error, "{}", log.failed),
                Err(_) => tracing::warn!(target: "authgate", "{}", log.slow),
            }
        }
    });
}
