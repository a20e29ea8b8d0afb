//! [`Identity`]: who a login or an issued token is for.

use serde_json::{Map, Value};

/// Who a session or an issued token is for: the subject, its roles and scopes, and any extra
/// claims. What [`Gate::login`](crate::Gate::login) and [`Gate::issue`](crate::Gate::issue)
/// take, and what the test kit mints credentials for.
///
/// The roles and scopes are put where the Gate reads them, so the credential's
/// [`CurrentUser`](crate::CurrentUser) has exactly these; an extra claim reaches a typed
/// `CurrentUser<C>`, but never replaces `sub`, the roles or the scopes.
///
/// ```
/// use authgate::Identity;
///
/// let alice = Identity::new("42")
///     .roles(["user"])
///     .scopes(["invoices:read"])
///     .claim("email", "alice@example.com");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Identity {
    pub(crate) subject: String,
    pub(crate) roles: Vec<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) claims: Map<String, Value>,
}

impl Identity {
    /// A user with this subject: what [`CurrentUser::subject`](crate::CurrentUser::subject)
    /// will return.
    pub fn new(subject: impl Into<String>) -> Self {
        Identity {
            subject: subject.into(),
            ..Default::default()
        }
    }

    /// The user's roles.
    pub fn roles<I: IntoIterator<Item = T>, T: Into<String>>(mut self, roles: I) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// The user's scopes.
    pub fn scopes<I: IntoIterator<Item = T>, T: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// An extra claim, readable through a typed `CurrentUser<C>`.
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.claims.insert(name.into(), value.into());
        self
    }
}
