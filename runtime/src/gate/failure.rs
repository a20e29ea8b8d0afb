//! [`Failure`]: why a request was not let through, before it becomes a rejection.

use crate::credentials::CredentialError;
use crate::verify::Invalid;

/// Why authentication or authorization failed; the reason goes to logs only.
#[derive(Debug)]
pub(crate) enum Failure {
    Missing,
    Header(CredentialError),
    Token(Invalid),
    Role { bearer: bool },
    Scope { bearer: bool },
    Csrf(&'static str),
    Unavailable(String),
}

impl Failure {
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            Failure::Missing => "no_credentials",
            Failure::Header(e) => e.as_str(),
            Failure::Token(e) => e.as_str(),
            Failure::Role { .. } => "missing_role",
            Failure::Scope { .. } => "missing_scope",
            Failure::Csrf(reason) => reason,
            Failure::Unavailable(_) => "credential_store_unavailable",
        }
    }
}
