//! The verified caller: the [`Principal`] authentication yields, and [`CurrentUser`], the
//! typed view of it a handler reads.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::clock::time;
use crate::policy::PolicySpec;
use crate::resource::{InvalidId, OwnerId};
use crate::store::IdHash;

pub use crate::credentials::CredentialKind;

/// A caller whose credential verified. Read it through
/// [`CurrentUser`](crate::CurrentUser).
#[derive(Clone, Debug)]
pub(crate) struct Principal {
    pub(crate) subject: String,
    pub(crate) roles: Vec<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) expires_at: u64,
    pub(crate) issued_at: Option<u64>,
    /// The token's id (`jti`), by which it can be revoked.
    pub(crate) token_id: Option<String>,
    /// The login the token belongs to (its `sid`): every token of one refresh family carries
    /// the same, by which a logout ends them all.
    pub(crate) login_id: Option<String>,
    /// The OAuth client the token was issued to (`client_id`, or where the issuer says).
    pub(crate) client_id: Option<String>,
    pub(crate) credential: CredentialKind,
    /// The verified claims as JSON, for typed claims structs.
    pub(crate) claims: String,
    /// The server-side session's key in its store, for logout (the id itself is not kept).
    pub(crate) session_key: Option<IdHash>,
    /// The server-side session's record data as the guard loaded it: what
    /// [`SessionData`](crate::sessions::SessionData) reads, and the value its first write
    /// expects to replace.
    pub(crate) session_data: Option<String>,
}

/// What the guard leaves in the request's extensions when the caller passed the handler's
/// policy: the verified principal, shared with the token cache, and the policy it passed.
///
/// The policy travels with the caller so that every later refusal of the same route (`Load`'s
/// 404 and 503, a claims type that does not fit) renders the way the guard's own refusals do:
/// as a page on a page route, as JSON on an API route. One rendering per route is what keeps
/// "not yours" and "missing" byte-identical.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub(crate) principal: Arc<Principal>,
    pub(crate) spec: &'static PolicySpec,
}

/// What the guard leaves in the request's extensions on a `#[public]` handler, where no
/// credential was examined. Zero-sized: storing it allocates nothing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PublicRoute;

/// The verified caller of a guarded handler, with its claims typed as `C`.
///
/// Subject, roles and scopes come from the verified credential only, never from the body,
/// the query or a header the client controls. `C` is any `Deserialize` struct of your claims,
/// deserialized once per request; by default every claim, as a JSON object. `CurrentUser`
/// dereferences to `C`.
///
/// ```
/// use authgate::{CurrentUser, require_auth};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct MyClaims {
///     sub: String,
///     tenant: String,
/// }
///
/// #[require_auth]
/// async fn whoami(user: CurrentUser<MyClaims>) -> String {
///     format!("{} of {} (roles: {:?})", user.subject(), user.tenant, user.roles())
/// }
/// ```
///
/// In a handler without a guard it answers 500 and logs the configuration error: it never
/// yields an anonymous user. On `#[public]` routes use `Option<CurrentUser>`, which is `None`
/// for anonymous callers and still answers 401 to a presented but invalid credential; plain
/// `CurrentUser` in a `#[public]` handler does not compile.
pub struct CurrentUser<C = Map<String, Value>> {
    pub(crate) principal: Arc<Principal>,
    pub(crate) claims: C,
}

impl<C> CurrentUser<C> {
    /// The verified subject (`sub`).
    pub fn subject(&self) -> &str {
        &self.principal.subject
    }

    /// The subject parsed as the app's id type, for scoping queries to the caller. Only the
    /// id's one canonical spelling is read, the one [`#[owned_by]`](crate::owned_by) compares
    /// ([`OwnerId::is_subject`]): for integers the plain decimal form, so `"+2"`, `"02"` and
    /// `" 2"` are not user 2; for `Uuid` (feature `uuid`) the lower-case hyphenated form. A
    /// subject that is not such an id is an error, never a default id: the same caller is
    /// never one user here and another to `#[owned_by]`.
    ///
    /// ```
    /// use authgate::resource::OwnerId;
    /// use authgate::{CurrentUser, require_auth};
    /// use axum::http::StatusCode;
    ///
    /// #[require_auth]
    /// async fn my_invoices(user: CurrentUser) -> Result<String, StatusCode> {
    ///     let id: i64 = user.id().map_err(|_| StatusCode::FORBIDDEN)?;
    ///     Ok(format!("the invoices of user {id}"))
    /// }
    ///
    /// // The rule `id` applies: the subject parses and is the id's canonical spelling.
    /// let canonical = |subject: &str| subject.parse::<i64>().is_ok_and(|id| id.is_subject(subject));
    /// assert!(canonical("2"));
    /// assert!(!canonical("+2") && !canonical("02") && !canonical(" 2"));
    /// ```
    pub fn id<T>(&self) -> Result<T, InvalidId>
    where
        T: std::str::FromStr + OwnerId,
    {
        let subject = &self.principal.subject;
        match subject.parse::<T>() {
            Ok(id) if id.is_subject(subject) => Ok(id),
            _ => Err(InvalidId),
        }
    }

    /// The verified roles, exactly as the credential carries them.
    pub fn roles(&self) -> &[String] {
        &self.principal.roles
    }

    /// The verified scopes.
    pub fn scopes(&self) -> &[String] {
        &self.principal.scopes
    }

    /// Whether the caller holds this role (exact, case-sensitive).
    pub fn has_role(&self, role: &str) -> bool {
        self.principal.roles.iter().any(|r| r == role)
    }

    /// Whether the caller holds this scope (exact, case-sensitive).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.principal.scopes.iter().any(|s| s == scope)
    }

    /// When the credential expires.
    pub fn expires_at(&self) -> SystemTime {
        time(self.principal.expires_at)
    }

    /// When the credential was issued, if it says (`iat`; a session's login time).
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.principal.issued_at.map(time)
    }

    /// The token's id (`jti`), if it has one: what [`Gate::logout`](crate::Gate::logout) and
    /// [`Gate::revoke_token_id`](crate::Gate::revoke_token_id) revoke. `None` for server-side
    /// sessions.
    pub fn token_id(&self) -> Option<&str> {
        self.principal.token_id.as_deref()
    }

    /// The OAuth client the access token was issued to: RFC 9068's `client_id` claim, or the
    /// claim the issuer's settings name
    /// ([`Issuer::client_id_claim`](crate::issuers::Issuer::client_id_claim), a
    /// [`Provider`](crate::issuers::Provider) preset). `None` when the token has none, and for
    /// session cookies.
    ///
    /// ```
    /// use authgate::{CurrentUser, require_auth};
    ///
    /// #[require_auth]
    /// async fn whoami(user: CurrentUser) -> String {
    ///     match user.client_id() {
    ///         Some(client) => format!("{} via {client}", user.subject()),
    ///         None => user.subject().to_owned(),
    ///     }
    /// }
    /// ```
    pub fn client_id(&self) -> Option<&str> {
        self.principal.client_id.as_deref()
    }

    /// Where the credential came from.
    pub fn credential(&self) -> CredentialKind {
        self.principal.credential
    }

    /// The typed claims.
    pub fn claims(&self) -> &C {
        &self.claims
    }

    /// The typed claims, by value.
    pub fn into_claims(self) -> C {
        self.claims
    }
}

impl<C> Deref for CurrentUser<C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.claims
    }
}

impl<C> fmt::Debug for CurrentUser<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Claims may hold personal data: print what identifies the caller and nothing more.
        f.debug_struct("CurrentUser")
            .field("subject", &self.principal.subject)
            .field("roles", &self.principal.roles)
            .field("scopes", &self.principal.scopes)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(subject: &str) -> CurrentUser {
        CurrentUser {
            principal: Arc::new(Principal {
                subject: subject.to_owned(),
                roles: Vec::new(),
                scopes: Vec::new(),
                expires_at: 2000,
                issued_at: None,
                token_id: None,
                login_id: None,
                client_id: None,
                credential: CredentialKind::Bearer,
                claims: "{}".to_owned(),
                session_key: None,
                session_data: None,
            }),
            claims: Map::new(),
        }
    }

    /// `id` reads only the spelling `#[owned_by]` compares: another spelling of the same
    /// number is not that user.
    #[test]
    fn id_reads_the_canonical_spelling_only() {
        assert_eq!(user("2").id::<i64>(), Ok(2));
        assert_eq!(user("2").id::<u8>(), Ok(2));
        assert_eq!(user("-2").id::<i32>(), Ok(-2));
        for other in ["+2", "02", " 2", "2 ", "", "two", "-0"] {
            assert_eq!(user(other).id::<i64>(), Err(InvalidId), "{other:?}");
        }
        assert_eq!(user("300").id::<u8>(), Err(InvalidId));
        assert_eq!(user(" alice").id::<String>().as_deref(), Ok(" alice"));
    }

    #[cfg(feature = "uuid")]
    #[test]
    fn uuid_ids_are_lower_case_hyphenated() {
        let id = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        assert_eq!(user(id).id::<uuid::Uuid>().unwrap().to_string(), id);
        for other in [
            "67E55044-10B1-426F-9247-BB680E5FE0C8",
            "67e5504410b1426f9247bb680e5fe0c8",
            "{67e55044-10b1-426f-9247-bb680e5fe0c8}",
            "urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8",
        ] {
            assert_eq!(user(other).id::<uuid::Uuid>(), Err(InvalidId), "{other}");
        }
    }
}
