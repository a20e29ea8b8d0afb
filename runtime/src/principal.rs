//! The verified caller: what a guard found, stored in the request for `CurrentUser`.

use std::sync::Arc;

/// Where a verified credential came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialKind {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// A session cookie.
    Cookie,
}

/// A caller whose credential verified. Read it through
/// [`CurrentUser`](crate::CurrentUser).
#[derive(Clone, Debug)]
pub struct Principal {
    pub(crate) subject: String,
    pub(crate) roles: Vec<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) expires_at: u64,
    pub(crate) issued_at: Option<u64>,
    pub(crate) credential: CredentialKind,
    /// The verified claims as JSON, for typed claims structs.
    pub(crate) claims: String,
    /// The server-side session id, for logout.
    pub(crate) session_id: Option<String>,
}

/// What the guard left in the request's extensions.
#[derive(Clone, Debug)]
pub(crate) enum AuthState {
    /// The handler is `#[public]`: no credential was examined.
    Public,
    /// The caller passed the handler's policy.
    User(Arc<Principal>),
}
