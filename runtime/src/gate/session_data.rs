//! [`SessionData`] as an extractor: the values of the session the guard verified.
//!
//! It reads only what the guard left (the verified caller, with the session's record data as
//! loaded), so it never authenticates on its own: a handler without a guard, or a `#[public]`
//! one, would let a cross-site form write to the session, since only the guard runs the
//! cross-site request forgery check.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use super::{Gate, route};
use crate::principal::{Caller, PublicRoute};
use crate::reject::RejectionKind;
use crate::sessions::{SessionData, SessionKind};

impl Gate {
    /// The session data of `caller`: `Ok(None)` for a caller without a server-side session
    /// (a bearer token); a 500 for a Gate without server-side sessions.
    #[allow(clippy::result_large_err)] // the refusal is the extractor's own rejection type
    fn session_data(
        &self,
        parts: &Parts,
        caller: &Caller,
    ) -> Result<Option<SessionData>, Response> {
        let principal = &caller.principal;
        let store = match self
            .inner
            .sessions
            .as_ref()
            .map(|s| (&s.kind, s.data_limit))
        {
            Some((SessionKind::Server(store), limit)) => (store, limit),
            Some((SessionKind::Stateless(_), _)) => {
                return Err(self.misconfigured(
                    parts,
                    "SessionData needs server-side sessions: a stateless cookie has no record to \
                     keep values in, and an older cookie would bring back older values",
                ));
            }
            None => {
                return Err(self.misconfigured(
                    parts,
                    "SessionData on a Gate without sessions: call GateBuilder::sessions with \
                     Sessions::server_side",
                ));
            }
        };
        let (Some(key), Some(stored)) = (&principal.session_key, &principal.session_data) else {
            return Ok(None);
        };
        let (store, limit) = store;
        SessionData::new(
            Arc::clone(store),
            *key,
            stored.clone(),
            limit,
            self.inner.render.clone(),
            caller.spec.redirect().is_some(),
        )
        .map(Some)
        .map_err(IntoResponse::into_response)
    }

    /// The verified caller the guard left, or the 500 of a handler without one.
    #[allow(clippy::result_large_err)] // as in session_data
    fn guarded_caller(&self, parts: &Parts) -> Result<Caller, Response> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        Err(match parts.extensions.get::<PublicRoute>() {
            Some(PublicRoute) => self.misconfigured(
                parts,
                "SessionData in a #[public] handler: its writes would skip the guard's \
                 cross-site request forgery check; use it in a guarded handler",
            ),
            None => self.misconfigured(
                parts,
                "SessionData found no verified caller: the handler has no authgate guard (add \
                 #[require_auth] or another policy attribute)",
            ),
        })
    }
}

impl<S> FromRequestParts<S> for SessionData
where
    Gate: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let gate = Gate::from_ref(state);
        let caller = gate.guarded_caller(parts)?;
        match gate.session_data(parts, &caller)? {
            Some(data) => Ok(data),
            None => {
                tracing::info!(target: "authgate", route = %route(parts),
                    reason = "no_session",
                    "SessionData refused: the caller came with a bearer token, not a session \
                     cookie (use Option<SessionData> where both are accepted)");
                Err(gate.rejection_for(
                    caller.spec,
                    RejectionKind::Forbidden {
                        bearer: false,
                        scopes: None,
                    },
                ))
            }
        }
    }
}

/// `None` for a caller without a server-side session (a bearer token); the same refusals as
/// `SessionData` otherwise.
impl<S> OptionalFromRequestParts<S> for SessionData
where
    Gate: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Response> {
        let gate = Gate::from_ref(state);
        let caller = gate.guarded_caller(parts)?;
        gate.session_data(parts, &caller)
    }
}
