//! The login extractor: [`LoginAttempt`], the proof a login handler needs to start a browser
//! session, obtained only by passing the Gate's origin check.
//!
//! Login CSRF: a page of another site posts the attacker's credentials to the app's login
//! form, and the victim's browser ends up logged in as the attacker (and types its secrets
//! into the attacker's account). A `#[public]` login has no guard to check the origin, so the
//! check lives where it cannot be skipped: [`Gate::login`] takes a `LoginAttempt`, and the only
//! way to get one is this extractor, which applies the Gate's own [`Csrf`](crate::Csrf)
//! settings (declared origins, trusted origins, `require_origin`) to every method. A flag on
//! `#[public]` would be one more thing to forget; a missing argument does not compile.
//!
//! It also remembers the session cookie the browser presented, so that the login ends that
//! session rather than leaving two.

use axum::extract::{FromRef, FromRequestParts};
use axum::response::Response;
use http::request::Parts;

use super::{Failure, Gate};
use crate::credentials::cookie;
use crate::policy::PolicySpec;

/// A login request from the app's own origin: what [`Gate::login`] needs to start a session.
///
/// As an extractor it runs the Gate's origin check (the CSRF check of cookie-authenticated
/// state changes, applied to every method) before any body extractor: a cross-site form or
/// JSON post is refused with 403 `forbidden` and the handler does not run. It never reads the
/// body, so put it before `Form` or `Json`.
///
/// ```
/// use authgate::{Gate, LoginAttempt, MemoryStore, SessionError, SessionUser, Sessions, public};
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
/// ) -> Result<Response, SessionError> {
///     let Some(user_id) = check_password(&form) else {
///         return Ok(Redirect::to("/login?failed").into_response());
///     };
///     let cookie = gate.login(&attempt, SessionUser::new(user_id)).await?;
///     Ok((cookie, Redirect::to("/")).into_response())
/// }
/// # let gate = Gate::builder().hs256("an HMAC secret of at least 32 bytes!!")
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
            .session_cookie_name()
            .and_then(|name| cookie::value(&parts.headers, name).ok().flatten())
            .map(Into::into);
        Ok(LoginAttempt { presented })
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
