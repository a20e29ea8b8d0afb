//! The verified caller: the [`Principal`] authentication yields, and [`CurrentUser`], the
//! typed view of it a handler reads.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::session_key::SessionKey;

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
    /// The token's id (`jti`), by which it can be revoked.
    pub(crate) token_id: Option<String>,
    /// The OAuth client the token was issued to (`client_id`, or where the issuer says).
    pub(crate) client_id: Option<String>,
    pub(crate) credential: CredentialKind,
    /// The verified claims as JSON, for typed claims structs.
    pub(crate) claims: String,
    /// The server-side session's key in its store, for logout (the id itself is not kept).
    pub(crate) session_key: Option<SessionKey>,
}

/// What the guard leaves in the request's extensions when the caller passed the handler's
/// policy: the verified principal, shared with the token cache.
#[derive(Clone, Debug)]
pub(crate) struct Caller(pub(crate) Arc<Principal>);

/// What the guard leaves in the request's extensions on a `#[public]` handler, where no
/// credential was examined. Zero-sized: storing it allocates nothing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PublicRoute;

/// The verified caller of a guarded handler, with its claims typed as `C`.
///
/// Subject, roles and scopes come from the verified credential only, never from the body,
/// the query or a header the client controls. `C` is any `Deserialize` struct of your claims;
/// it is deserialized once per request. `CurrentUser` dereferences to `C`.
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
pub struct CurrentUser<C = Claims> {
    pub(crate) principal: Arc<Principal>,
    pub(crate) claims: C,
}

impl<C> CurrentUser<C> {
    /// The verified subject (`sub`).
    pub fn subject(&self) -> &str {
        &self.principal.subject
    }

    /// The subject parsed as the app's id type, for scoping queries to the caller:
    /// `let id: i64 = user.id()?;`. A subject that does not parse is an error, never a
    /// default id.
    pub fn id<T: std::str::FromStr>(&self) -> Result<T, T::Err> {
        self.principal.subject.parse()
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
        UNIX_EPOCH + Duration::from_secs(self.principal.expires_at)
    }

    /// When the credential was issued, if it says (`iat`).
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.principal
            .issued_at
            .map(|t| UNIX_EPOCH + Duration::from_secs(t))
    }

    /// The token's id (`jti`), if it has one: what
    /// [`Gate::revoke_token`](crate::Gate::revoke_token) revokes. `None` for server-side
    /// sessions.
    pub fn token_id(&self) -> Option<&str> {
        self.principal.token_id.as_deref()
    }

    /// The OAuth client the access token was issued to: RFC 9068's `client_id` claim, or the
    /// claim the issuer's settings name ([`Issuer::client_id_claim`](crate::Issuer), a
    /// [`Provider`](crate::Provider) preset). `None` when the token has none, and for session
    /// cookies.
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

/// The default claims: the registered ones, and every other claim in `extra`.
///
/// Read from JSON as if `extra` were `#[serde(flatten)]`: `sub` must be a string, `iss` and
/// `jti` strings or null when present (each at most once), and every other member goes to
/// `extra`. Written with `extra`'s members beside the registered ones.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Claims {
    /// Subject.
    pub sub: String,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Every other claim (`aud`, `exp`, `roles`, custom ones).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// By hand rather than derived: serde's `flatten` buffers every member as serde's private
/// `Content` and then reads them a second time, which made parsing the default claims the
/// largest single cost of a `CurrentUser` on a session request. This reads each member once.
impl<'de> Deserialize<'de> for Claims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ClaimsVisitor)
    }
}

struct ClaimsVisitor;

/// A member name of [`Claims`]: a registered one, read without a copy, or any other.
enum Member {
    Sub,
    Iss,
    Jti,
    Other(String),
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = Member;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a claim name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Member, E> {
                Ok(match name {
                    "sub" => Member::Sub,
                    "iss" => Member::Iss,
                    "jti" => Member::Jti,
                    other => Member::Other(other.to_owned()),
                })
            }
            fn visit_string<E: de::Error>(self, name: String) -> Result<Member, E> {
                match name.as_str() {
                    "sub" | "iss" | "jti" => self.visit_str(&name),
                    _ => Ok(Member::Other(name)),
                }
            }
        }
        deserializer.deserialize_identifier(Name)
    }
}

impl<'de> Visitor<'de> for ClaimsVisitor {
    type Value = Claims;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Claims, A::Error> {
        let mut sub: Option<String> = None;
        let mut iss: Option<Option<String>> = None;
        let mut jti: Option<Option<String>> = None;
        let mut extra = serde_json::Map::new();
        while let Some(member) = members.next_key::<Member>()? {
            match member {
                Member::Sub if sub.is_some() => return Err(de::Error::duplicate_field("sub")),
                Member::Sub => sub = Some(members.next_value()?),
                Member::Iss if iss.is_some() => return Err(de::Error::duplicate_field("iss")),
                Member::Iss => iss = Some(members.next_value()?),
                Member::Jti if jti.is_some() => return Err(de::Error::duplicate_field("jti")),
                Member::Jti => jti = Some(members.next_value()?),
                Member::Other(name) => {
                    extra.insert(name, members.next_value()?);
                }
            }
        }
        Ok(Claims {
            sub: sub.ok_or_else(|| de::Error::missing_field("sub"))?,
            iss: iss.flatten(),
            jti: jti.flatten(),
            extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `Claims` derived `Deserialize` with `#[serde(flatten)]` as, for comparison.
    #[derive(Debug, Deserialize)]
    struct Flattened {
        sub: String,
        #[serde(default)]
        iss: Option<String>,
        #[serde(default)]
        jti: Option<String>,
        #[serde(flatten)]
        extra: serde_json::Map<String, serde_json::Value>,
    }

    #[test]
    fn claims_read_as_the_flattened_derive_reads_them() {
        let cases = [
            r#"{"sub":"u1"}"#,
            r#"{"sub":"u1","iss":"https://id","jti":"j","aud":["a","b"],"exp":5,"n":{"x":null}}"#,
            r#"{"exp":1,"sub":"u\"1","iss":null,"jti":null}"#,
            r#"{"su\u0062":"escaped name","x":1,"x":2}"#,
            r#"{"sub":"u1","roles":[],"scopes":[]}"#,
            r#"{}"#,
            r#"{"sub":1}"#,
            r#"{"sub":"u1","sub":"u2"}"#,
            r#"{"sub":"u1","iss":"a","iss":"b"}"#,
            r#"{"sub":"u1","jti":7}"#,
            r#"{"sub":"u1","iss":{}}"#,
            r#"["sub"]"#,
            r#""sub""#,
            r#"{"sub":"u1""#,
        ];
        for case in cases {
            let ours = serde_json::from_str::<Claims>(case);
            let derived = serde_json::from_str::<Flattened>(case);
            match (ours, derived) {
                (Ok(ours), Ok(derived)) => {
                    assert_eq!(ours.sub, derived.sub, "{case}");
                    assert_eq!(ours.iss, derived.iss, "{case}");
                    assert_eq!(ours.jti, derived.jti, "{case}");
                    assert_eq!(ours.extra, derived.extra, "{case}");
                }
                (Err(_), Err(_)) => {}
                (ours, derived) => panic!("{case}: ours {ours:?}, derived {derived:?}"),
            }
        }
    }

    #[test]
    fn claims_written_and_read_back_are_equal() {
        let claims: Claims =
            serde_json::from_str(r#"{"sub":"u1","jti":"j","tenant":"acme"}"#).expect("claims");
        let text = serde_json::to_string(&claims).expect("written");
        assert_eq!(serde_json::from_str::<Claims>(&text).expect("read"), claims);
        assert!(!text.contains("extra") && !text.contains("iss"), "{text}");
    }
}
