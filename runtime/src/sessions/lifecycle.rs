//! The session lifecycle: login starts a session, a request authenticates and touches it,
//! renewal re-issues a stateless cookie, logout and revocation end sessions.
//!
//! These are the parts the Gate calls with its own settings (clock); their refusals are
//! rendered by the Gate.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::renew::{can_renew, leave_renewed};
use super::{SessionCookie, SessionKind, Sessions};
use crate::clock::{Clock, seconds, time};
use crate::identity::Identity;
use crate::keys::SigningKey;
use crate::principal::{CredentialKind, Principal};
use crate::reject::Rejection;
use crate::store::{
    DynLoginStore, IdHash, LoginData, LoginRecord, Logins, PurgeLog, SessionValues, StoreError,
    random_id, spawn_purge,
};
use crate::verify::{Invalid, Rules, sign_session_jwt};

/// What a session store is called in refusals and logs.
pub(crate) const SESSION_STORE: &str = "session store";

/// Starts a session for `user` with a fresh id (never an id the request brought), and returns
/// the cookie to send. Roles and scopes go where a session's claims carry them (`roles`,
/// `scope`), so the session's principal has exactly the roles and scopes given.
pub(crate) async fn login(
    sessions: &Sessions,
    now: u64,
    user: Identity,
) -> Result<SessionCookie, Rejection> {
    let store_failed = |e: StoreError| Rejection::store(SESSION_STORE, e);
    let mut claims = user.claims;
    Rules::default().identity_claims(&mut claims, &user.subject, &user.roles, &user.scopes);
    match &sessions.kind {
        SessionKind::Server(store) => {
            let id = random_id(32).map_err(store_failed)?;
            let data = LoginData {
                roles: user.roles,
                scopes: user.scopes,
                claims: Value::Object(claims).to_string(),
                created_at: now,
                // A new login starts with no values, whatever the session it replaces held.
                session: SessionValues::default(),
            };
            let record = LoginRecord {
                key: IdHash::of(&id).as_str().to_owned(),
                subject: user.subject,
                current: None,
                last_used: time(now),
                expires_at: time(now.saturating_add(sessions.absolute_lifetime)),
                data: data.encode(),
            };
            store.create(&record).await.map_err(store_failed)?;
            let cookie = sessions.set_cookie(&id, sessions.absolute_lifetime);
            Ok(SessionCookie(Some(cookie)))
        }
        SessionKind::Stateless(key) => {
            let lifetime = sessions.idle_timeout.min(sessions.absolute_lifetime);
            claims.insert("iat".into(), now.into());
            claims.insert("auth_time".into(), now.into());
            claims.insert("exp".into(), now.saturating_add(lifetime).into());
            let jti = random_id(32).map_err(store_failed)?;
            claims.insert("jti".into(), jti.into());
            let token = sign_session_jwt(&key.signing, &claims).map_err(|e| {
                Rejection::misconfigured(format!("signing a stateless session cookie: {e}"))
            })?;
            Ok(SessionCookie(Some(sessions.set_cookie(&token, lifetime))))
        }
    }
}

/// Ends the session of `principal`: deletes it from the store (server-side) and returns the
/// cookie that clears it in the browser.
pub(crate) async fn logout(
    sessions: &Sessions,
    principal: &Principal,
) -> Result<SessionCookie, Rejection> {
    if let (SessionKind::Server(store), Some(key)) = (&sessions.kind, &principal.session_key) {
        store
            .delete(key.as_str())
            .await
            .map_err(|e| Rejection::store(SESSION_STORE, e))?;
    }
    Ok(SessionCookie(Some(sessions.set_cookie("", 0))))
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
    store: &dyn DynLoginStore,
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
    let key = IdHash::of(value);
    let loaded = store
        .load(key.as_str())
        .await
        .map_err(Refused::Unavailable)?;
    // A refresh family under this key is not a session (its id is never a cookie's value).
    let Some(record) = loaded.filter(|record| record.current.is_none()) else {
        return Err(Refused::Invalid(Invalid::UnknownSession));
    };
    let mut last_used = seconds(record.last_used);
    let expires_at = seconds(record.expires_at);
    let idle_end = last_used.saturating_add(sessions.idle_timeout);
    if now >= expires_at || now >= idle_end {
        store
            .delete(key.as_str())
            .await
            .map_err(Refused::Unavailable)?;
        return Err(Refused::Invalid(Invalid::SessionExpired));
    }
    let data = LoginData::decode(&record.data).map_err(Refused::Unavailable)?;
    // Last use is written at most once a minute (or per quarter of the idle timeout): the
    // idle clock stays accurate without a store write on every request. The write only
    // updates: a session deleted since the load (logout, revocation) is not written back.
    if now.saturating_sub(last_used) >= (sessions.idle_timeout / 4).min(60) {
        let touched = store
            .touch(key.as_str(), time(now))
            .await
            .map_err(Refused::Unavailable)?;
        if !touched {
            return Err(Refused::Invalid(Invalid::UnknownSession));
        }
        last_used = now;
    }
    let expires_at = expires_at.min(last_used.saturating_add(sessions.idle_timeout));
    Ok(Arc::new(Principal {
        subject: record.subject,
        roles: data.roles,
        scopes: data.scopes,
        expires_at,
        issued_at: Some(data.created_at),
        token_id: None,
        login_id: None,
        client_id: None,
        credential: CredentialKind::Cookie,
        claims: data.claims,
        session_key: Some(key),
        session_data: Some(record.data),
    }))
}

/// Re-issues a stateless cookie with less than half its lifetime left, through the
/// handler's response ([`Renew`](super::Renew)), never past the absolute lifetime
/// (`auth_time` + lifetime). Outside `Renew` (a guarded handler routed by a plain
/// `axum::Router`), nothing is done.
pub(crate) fn renew_if_due(sessions: &Sessions, key: &SigningKey, principal: &Principal, now: u64) {
    if !can_renew() {
        return;
    }
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
    if let Ok(token) = sign_session_jwt(key, &claims) {
        leave_renewed(sessions.set_cookie(&token, exp - now));
    }
}

/// A session cookie that stands for no session any more (logged out elsewhere, idle, purged),
/// presented where anonymous visitors are welcome: the response clears it, so the browser
/// stops sending it. Only inside [`Renew`](super::Renew), where a response can get it.
pub(crate) fn forget_dead_cookie(sessions: &Sessions) {
    if can_renew() {
        leave_renewed(sessions.set_cookie("", 0));
    }
}

/// Starts the background purge of expired sessions, once per `Sessions`: every
/// `sessions.purge_every`, `purge_expired` with the Gate's clock, bounded to 30 seconds and
/// logged (never a session key). It holds the store weakly, so it ends with the Gate.
/// Called from a request, so always inside a tokio runtime.
pub(crate) fn start_purge(sessions: &Sessions, store: &Logins, clock: &Clock) {
    sessions.purging.call_once(|| {
        let log = PurgeLog {
            purged: "expired sessions purged",
            failed: "purging expired sessions failed",
            slow: "purging expired sessions took over 30 s",
        };
        spawn_purge(
            store,
            sessions.purge_every,
            clock.clone(),
            log,
            |store, now| store.purge_expired(now),
        );
    });
}
