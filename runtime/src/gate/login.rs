//! Logins and logouts: [`Gate::login`], [`Gate::logout`], and the login extractor
//! [`LoginAttempt`], the proof a login handler needs to start a browser session, obtained only
//! by passing the Gate's origin check.
//!
//! Login CSRF: a page of another site posts the attacker's credentials to the app's login
//! form, and the victim's browser ends up logged in as the attacker (and types its secrets
//! into the attacker's account). A `#[public]` login has no guard to check the origin, so the
//! check lives where it cannot be skipped: [`Gate::login`] takes a `LoginAttempt`, and the only
//! way to get one is this extractor, which applies the Gate's own CSRF settings (declared
//! origins, trusted origins, `require_origin`; see [`Sessions`](crate::sessions::Sessions))
//! to every method. A flag on
//! `#[public]` would be one more thing to forget; a missing argument does not compile.
//!
//! It also remembers the session cookie the browser presented, so that the login ends that
//! session rather than leaving two.

use axum::extract::{FromRef, FromRequestParts};
use axum::response::Response;
use http::request::Parts;

use super::{Failure, Gate};
use crate::credentials::cookie;
use crate::identity::Identity;
use crate::policy::PolicySpec;
use crate::principal::{CredentialKind, CurrentUser};
use crate::reject::Rejection;
use crate::sessions::{self, SessionCookie, SessionKind, Sessions};
use crate::store::IdHash;
use crate::verify;

/// A login request from the app's own origin: what [`Gate::login`] needs to start a session.
///
/// As an extractor it runs the Gate's origin check (the CSRF check of cookie-authenticated
/// state changes, applied to every method) before any body extractor: a cross-site form or
/// JSON post is refused with 403 `forbidden` and the handler does not run. It never reads the
/// body, so put it before `Form` or `Json`.
///
/// ```
/// use authgate::{Gate, Identity, LoginAttempt, Rejection, public};
/// use authgate::sessions::Sessions;
/// use authgate::store::MemoryStore;
/// use axum::extract::State;
/// use axum::response::{IntoResponse, Redirect, Response};
///
/// /// Yours: look the user up and verify a password hash (argon2id).
/// fn check_password(form: &str) -> Option<String> {
///     (form == "user=alice&password=correct+horse").then(|| "alice".to_owned())
/// }
///
/// #[public(reason = "login form")]
/// async fn login(
///     State(gate): State<Gate>,
///     attempt: LoginAttempt,
///     form: String, // or axum's `Form<T>`, after the attempt
/// ) -> Result<Response, Rejection> {
///     let Some(user_id) = check_password(&form) else {
///         return Ok(Redirect::to("/login?failed").into_response());
///     };
///     let cookie = gate.login(&attempt, Identity::new(user_id)).await?;
///     Ok((cookie, Redirect::to("/")).into_response())
/// }
/// # let gate = Gate::builder()
/// #     .sessions(Sessions::server_side("__Host-session", MemoryStore::new())).build().unwrap();
/// # let _: authgate::Router = authgate::Router::new().route("/login", authgate::routing::post(login)).with_state(gate);
/// ```
pub struct LoginAttempt {
    /// The session cookie's value the request carried, when it carried exactly one.
    pub(crate) presented: Option<Box<str>>,
}

impl std::fmt::Debug for LoginAttempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Whether a session came along, never its cookie.
        f.debug_struct("LoginAttempt")
            .field("session_presented", &self.presented.is_some())
            .finish()
    }
}

/// How a refused login is logged (the route and this policy, never the body).
const LOGIN: PolicySpec = PolicySpec::public("login");

impl<S> FromRequestParts<S> for LoginAttempt
where
    Gate: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let gate = Gate::from_ref(state);
        gate.login_attempt(parts)
            .map_err(|failure| gate.deny(parts, &LOGIN, "LoginAttempt", failure))
    }
}

impl Gate {
    /// The origin check of a login, and the session cookie it presented.
    pub(crate) fn login_attempt(&self, parts: &Parts) -> Result<LoginAttempt, Failure> {
        self.csrf().check_origin(parts).map_err(Failure::Csrf)?;
        let presented = self
            .inner
            .sessions
            .as_ref()
            .and_then(|s| cookie::value(&parts.headers, &s.cookie).ok().flatten())
            .map(Into::into);
        Ok(LoginAttempt { presented })
    }

    /// Starts a browser session for `user` with a fresh id (never an id the request brought),
    /// and returns the cookie to send. `attempt` is the proof that the login request passed
    /// the Gate's origin check (login CSRF); the session the browser presented, if any, is
    /// ended first (deleted from the store, or, with revocations, a stateless cookie
    /// revoked), so a login never leaves two.
    ///
    /// Refused with 503 when the store fails, 500 when the Gate has no sessions.
    ///
    /// ```
    /// use authgate::{Gate, Identity, LoginAttempt, Rejection, public};
    /// use axum::extract::State;
    /// use axum::response::{IntoResponse, Response};
    ///
    /// #[public(reason = "login")]
    /// async fn login(State(gate): State<Gate>, attempt: LoginAttempt) -> Result<Response, Rejection> {
    ///     // (check the password first)
    ///     let cookie = gate.login(&attempt, Identity::new("42").roles(["user"])).await?;
    ///     Ok((cookie, "welcome").into_response())
    /// }
    /// ```
    pub async fn login(
        &self,
        attempt: &LoginAttempt,
        user: Identity,
    ) -> Result<SessionCookie, Rejection> {
        let sessions = self.sessions()?;
        if let Some(presented) = &attempt.presented {
            self.end_presented(sessions, presented).await?;
        }
        self.login_unchecked(user).await
    }

    /// Starts a session for `user` without a request: no origin check, and no session of the
    /// browser's is ended. Only for logins whose CSRF protection is elsewhere (an OAuth or
    /// OpenID Connect callback arrives from the provider's site by design; its `state`
    /// parameter is its protection) and for tests; a login form or API uses
    /// [`login`](Self::login).
    ///
    /// ```
    /// use authgate::{Gate, Identity};
    /// use authgate::sessions::Sessions;
    /// use authgate::store::MemoryStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let gate = Gate::builder()
    ///     .sessions(Sessions::server_side("__Host-session", MemoryStore::new()))
    ///     .build()?;
    /// let cookie = gate.login_unchecked(Identity::new("42").roles(["user"])).await?;
    /// assert!(cookie.header_value().unwrap().to_str()?.starts_with("__Host-session="));
    /// # Ok(()) }
    /// ```
    pub async fn login_unchecked(&self, user: Identity) -> Result<SessionCookie, Rejection> {
        let sessions = self.sessions()?;
        sessions::login(sessions, self.now_secs(), user)
            .await
            .map_err(|e| self.fail(e))
    }

    /// Ends the session a login request presented: a server-side one is deleted; a stateless
    /// one that verifies is revoked by its `jti` when revocations are configured (without
    /// them it cannot be ended, and the new cookie replaces it in the browser).
    async fn end_presented(&self, sessions: &Sessions, value: &str) -> Result<(), Rejection> {
        match &sessions.kind {
            SessionKind::Server(store) => store
                .delete(IdHash::of(value).as_str())
                .await
                .map_err(|e| self.fail(Rejection::store(sessions::SESSION_STORE, e))),
            SessionKind::Stateless(key) => {
                let (Some(_), Ok(keys)) = (&self.inner.revocations, &key.verifying) else {
                    return Ok(());
                };
                let now = self.now_secs();
                let rules = &self.inner.cookie_rules;
                let Ok(principal) =
                    verify::verify_token(value, keys, rules, now, CredentialKind::Cookie)
                else {
                    return Ok(()); // not a session of ours: nothing to end
                };
                match &principal.token_id {
                    // Re-issued with the same `jti` up to the absolute lifetime.
                    Some(jti) => {
                        let until = now.saturating_add(sessions.absolute_lifetime);
                        self.revoke_id(jti, principal.expires_at.max(until)).await
                    }
                    None => Ok(()),
                }
            }
        }
    }

    /// Ends the caller's credential on every instance, and returns the cookie that clears a
    /// session cookie in the browser (a bearer logout clears none):
    ///
    /// - a server-side session is deleted from its store;
    /// - a bearer token that names its login (`sid`: every token a Gate issues with a refresh
    ///   family does) ends that login: its refresh family is deleted, and every access token
    ///   of the login is revoked, those of earlier refreshes included, and one a refresh
    ///   running at the same time is still signing;
    /// - any other bearer token, or a stateless cookie, is revoked by its `jti`.
    ///
    /// Revoking needs [`Revocations`](crate::revocation::Revocations); without them a
    /// stateless cookie is only cleared in this browser, and a bearer token cannot be logged
    /// out (500). A store that fails answers 503; the logout can be retried, and what
    /// succeeded stays done. Other logins of the same user (another device) stay; to end
    /// them all, [`revoke_user`](Self::revoke_user).
    ///
    /// ```
    /// use authgate::{CurrentUser, Gate, Rejection, require_auth};
    /// use axum::extract::State;
    /// use axum::http::StatusCode;
    /// use axum::response::IntoResponse;
    ///
    /// #[require_auth]
    /// async fn logout(user: CurrentUser, State(gate): State<Gate>) -> Result<impl IntoResponse, Rejection> {
    ///     let cookie = gate.logout(&user).await?;
    ///     Ok((cookie, StatusCode::NO_CONTENT))
    /// }
    /// ```
    pub async fn logout<C>(&self, user: &CurrentUser<C>) -> Result<SessionCookie, Rejection> {
        let principal = &user.principal;
        let bearer = principal.credential == CredentialKind::Bearer;
        let stateless_cookie =
            principal.credential == CredentialKind::Cookie && principal.session_key.is_none();
        if let (true, Some(login)) = (bearer, &principal.login_id) {
            self.end_login(&principal.subject, login).await?;
        } else if bearer || (stateless_cookie && self.inner.revocations.is_some()) {
            let Some(jti) = &principal.token_id else {
                return Err(self.fail(Rejection::misconfigured(
                    "the credential has no jti, so it cannot be revoked alone: revoke its \
                     subject with Gate::revoke_user",
                )));
            };
            let mut expires_at = principal.expires_at;
            if let (true, Some(sessions)) = (stateless_cookie, &self.inner.sessions) {
                // A stateless cookie is re-issued with the same `jti` up to its absolute
                // lifetime.
                let until = self.now_secs().saturating_add(sessions.absolute_lifetime);
                expires_at = expires_at.max(until);
            }
            self.revoke_id(jti, expires_at).await?;
        }
        match (principal.credential, &self.inner.sessions) {
            (CredentialKind::Cookie, Some(sessions)) => sessions::logout(sessions, principal)
                .await
                .map_err(|e| self.fail(e)),
            _ => Ok(SessionCookie(None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_presented_cookie() {
        let attempt = LoginAttempt {
            presented: Some("the-session-id-of-the-browser".into()),
        };
        let debug = format!("{attempt:?}");
        assert_eq!(debug, "LoginAttempt { session_presented: true }");
    }
}
