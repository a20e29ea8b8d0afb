//! The policy data, and how the macros build it in a `const`.

use std::fmt;

use crate::credentials::{CredentialKind, Kinds};

/// The access policy of one handler, as its attributes declared it: read it in the route
/// audit, or on a route of [`Router::audit`](crate::Router::audit).
///
/// Its `Display` is the audit's form: `public: <reason>`, or the attributes joined by ` + `,
/// for example `require_role(admin) + require_scope(invoices:write) + owned_by(invoice.user_id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicySpec {
    access: Access,
    roles: &'static [Requirement],
    scopes: &'static [Requirement],
    ownership: Option<Ownership>,
    redirect: Option<&'static str>,
    /// The credential kinds the handler accepts (`credentials = ".."`); every kind unless
    /// narrowed.
    credentials: Kinds,
}

/// Whether a handler needs a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// `#[public(reason = "...")]`: anyone may call it; the reason shows in the audit.
    Public {
        /// Why this handler is open to anonymous callers.
        reason: &'static str,
    },
    /// A valid credential is required.
    Authenticated,
}

/// One role or scope requirement: any of the names, or all of them.
///
/// Names compare exactly (case-sensitive), as they appear in the verified credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Requirement {
    /// At least one of the names must be held. `require_role("admin")` is `Any(&["admin"])`.
    Any(&'static [&'static str]),
    /// Every one of the names must be held.
    All(&'static [&'static str]),
}

/// The ownership rule of `#[owned_by(...)]`, as the macro writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ownership {
    /// The argument or field path compared with the caller's subject, as written.
    pub path: &'static str,
    /// The status of a mismatch: 404 (default: do not reveal that the resource exists) or 403.
    pub status: u16,
    /// Roles that may act without owning the resource.
    pub bypass: Option<Requirement>,
}

/// Builds a [`PolicySpec`] in a `const`: what the attribute macros write.
#[derive(Clone, Copy, Debug)]
pub struct SpecBuilder(PolicySpec);

impl SpecBuilder {
    /// A policy that needs any valid credential and nothing else (`#[require_auth]`).
    pub const fn authenticated() -> Self {
        SpecBuilder(PolicySpec::authenticated())
    }

    /// A policy open to anonymous callers (`#[public(reason = "...")]`).
    pub const fn public(reason: &'static str) -> Self {
        SpecBuilder(PolicySpec::public(reason))
    }

    /// The same policy with these role requirements.
    pub const fn with_roles(self, roles: &'static [Requirement]) -> Self {
        SpecBuilder(PolicySpec { roles, ..self.0 })
    }

    /// The same policy with these scope requirements.
    pub const fn with_scopes(self, scopes: &'static [Requirement]) -> Self {
        SpecBuilder(PolicySpec { scopes, ..self.0 })
    }

    /// The same policy with an ownership rule.
    pub const fn with_ownership(self, ownership: Ownership) -> Self {
        SpecBuilder(PolicySpec {
            ownership: Some(ownership),
            ..self.0
        })
    }

    /// The same policy, redirecting anonymous visitors to `login` instead of answering 401.
    pub const fn with_redirect(self, login: &'static str) -> Self {
        SpecBuilder(PolicySpec {
            redirect: Some(login),
            ..self.0
        })
    }

    /// The same policy, accepting only these credential kinds (`credentials = "cookie"`): a
    /// credential of another kind is not examined, as if the request did not carry it.
    pub const fn with_credentials(self, kinds: &'static [CredentialKind]) -> Self {
        SpecBuilder(PolicySpec {
            credentials: Kinds::of(kinds),
            ..self.0
        })
    }

    /// The policy.
    pub const fn build(self) -> PolicySpec {
        self.0
    }
}

impl PolicySpec {
    /// A policy that needs any valid credential and nothing else (`#[require_auth]`).
    pub(crate) const fn authenticated() -> Self {
        PolicySpec {
            access: Access::Authenticated,
            roles: &[],
            scopes: &[],
            ownership: None,
            redirect: None,
            credentials: Kinds::ALL,
        }
    }

    /// A policy open to anonymous callers (`#[public(reason = "...")]`).
    pub(crate) const fn public(reason: &'static str) -> Self {
        PolicySpec {
            access: Access::Public { reason },
            ..Self::authenticated()
        }
    }

    /// Whether the policy is `#[public]`: anyone may call the handler.
    pub const fn is_public(&self) -> bool {
        matches!(self.access, Access::Public { .. })
    }

    /// The reason given by `#[public(reason = "...")]`, if the policy is public.
    pub const fn public_reason(&self) -> Option<&'static str> {
        match self.access {
            Access::Public { reason } => Some(reason),
            Access::Authenticated => None,
        }
    }

    /// The role requirements (`#[require_role]`); every one must hold.
    pub const fn roles(&self) -> &'static [Requirement] {
        self.roles
    }

    /// The scope requirements (`#[require_scope]`); every one must hold.
    pub const fn scopes(&self) -> &'static [Requirement] {
        self.scopes
    }

    /// The argument or field path `#[owned_by]` compares with the caller's subject, as
    /// written (`invoice.user_id`), when the handler has one.
    pub const fn owner(&self) -> Option<&'static str> {
        match &self.ownership {
            Some(own) => Some(own.path),
            None => None,
        }
    }

    /// The roles that may act without owning the resource (`or_role = ".."`).
    pub const fn owner_bypass(&self) -> Option<&Requirement> {
        match &self.ownership {
            Some(Ownership {
                bypass: Some(roles),
                ..
            }) => Some(roles),
            _ => None,
        }
    }

    /// The status a caller who is not the owner gets: 404 (the default: the resource's
    /// existence is not revealed) or 403.
    pub const fn owner_status(&self) -> Option<u16> {
        match &self.ownership {
            Some(own) => Some(own.status),
            None => None,
        }
    }

    /// Where a page handler sends an anonymous visitor (`redirect = "/login"`), instead of
    /// answering 401.
    pub const fn redirect(&self) -> Option<&'static str> {
        self.redirect
    }

    /// Whether the handler accepts a credential of this kind (every kind unless its attribute
    /// says `credentials = ".."`; a router can narrow them further).
    ///
    /// ```
    /// use authgate::{CredentialKind, Gate, Router, require_auth, routing::get};
    ///
    /// #[require_auth(credentials = "cookie")]
    /// async fn page() -> &'static str { "<h1>Hello</h1>" }
    ///
    /// let app: Router<Gate> = Router::new().route("/", get(page));
    /// for route in app.audit().iter() {
    ///     assert!(route.policy().accepts(CredentialKind::Cookie));
    ///     assert!(!route.policy().accepts(CredentialKind::Bearer));
    /// }
    /// ```
    pub const fn accepts(&self, kind: CredentialKind) -> bool {
        self.credentials.contains(kind)
    }

    /// The kinds the handler accepts.
    pub(crate) const fn credentials(&self) -> Kinds {
        self.credentials
    }

    /// The same policy, accepting only what `kinds` accepts too: a route of a narrowed router.
    pub(crate) const fn narrowed(self, kinds: Kinds) -> PolicySpec {
        PolicySpec {
            credentials: self.credentials.and(kinds),
            ..self
        }
    }

    /// The ownership rule, for the check.
    pub(crate) const fn ownership(&self) -> Option<Ownership> {
        self.ownership
    }

    /// True unless the policy is `#[public]`.
    pub(crate) const fn requires_authentication(&self) -> bool {
        !self.is_public()
    }
}

impl Requirement {
    /// The names this requirement lists.
    pub const fn names(&self) -> &'static [&'static str] {
        match self {
            Requirement::Any(names) | Requirement::All(names) => names,
        }
    }

    /// Whether `held` (the names a credential carries) satisfies this requirement.
    ///
    /// ```
    /// use authgate::policy::Requirement;
    /// let held = ["staff", "billing"];
    /// assert!(Requirement::Any(&["admin", "billing"]).is_met_by(&held));
    /// assert!(!Requirement::All(&["staff", "admin"]).is_met_by(&held));
    /// assert!(!Requirement::Any(&["Billing"]).is_met_by(&held)); // exact, case-sensitive
    /// ```
    pub fn is_met_by<H: AsRef<str>>(&self, held: &[H]) -> bool {
        let has = |name: &&str| held.iter().any(|h| h.as_ref() == *name);
        match self {
            Requirement::Any(names) => names.iter().any(has),
            Requirement::All(names) => names.iter().all(has),
        }
    }
}

/// Whether every requirement in `requirements` holds for `held`.
pub(crate) fn all_met<H: AsRef<str>>(requirements: &[Requirement], held: &[H]) -> bool {
    requirements.iter().all(|r| r.is_met_by(held))
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mode, names) = match self {
            Requirement::Any([one]) => return f.write_str(one),
            Requirement::Any(names) => ("any", names),
            Requirement::All(names) => ("all", names),
        };
        write!(f, "{mode}({})", names.join(", "))
    }
}

/// The audit form.
impl fmt::Display for PolicySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Access::Public { reason } = self.access {
            return write!(f, "public: {reason}");
        }
        let mut parts: Vec<String> = Vec::new();
        parts.extend(self.roles.iter().map(|r| format!("require_role({r})")));
        parts.extend(self.scopes.iter().map(|r| format!("require_scope({r})")));
        if parts.is_empty() {
            parts.push("require_auth".to_owned());
        }
        if let Some(own) = &self.ownership {
            let mut rule = format!("owned_by({}", own.path);
            if let Some(bypass) = &own.bypass {
                rule.push_str(&format!(", or_role = {bypass}"));
            }
            if own.status != 404 {
                rule.push_str(&format!(", status = {}", own.status));
            }
            rule.push(')');
            parts.push(rule);
        }
        f.write_str(&parts.join(" + "))?;
        if let Some(login) = self.redirect {
            write!(f, " [redirect: {login}]")?;
        }
        if !self.credentials.is_all() {
            let names: Vec<&str> = self.credentials.iter().map(CredentialKind::name).collect();
            match names.is_empty() {
                true => f.write_str(" [credentials: none]")?,
                false => write!(f, " [credentials: {}]", names.join(", "))?,
            }
        }
        Ok(())
    }
}

/// A per-handler marker type carrying its policy: the attribute macros implement it on the
/// hidden struct they emit next to each guarded handler.
pub trait Policy: Send + Sync + 'static {
    /// The policy itself.
    const SPEC: &'static PolicySpec;
    /// The handler's name, for logs and the audit.
    const HANDLER: &'static str;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_of_combined_policy() {
        const SPEC: PolicySpec = SpecBuilder::authenticated()
            .with_roles(&[
                Requirement::Any(&["staff", "billing"]),
                Requirement::All(&["a", "b"]),
            ])
            .with_scopes(&[Requirement::Any(&["invoices:write"])])
            .with_ownership(Ownership {
                path: "invoice.user_id",
                status: 404,
                bypass: Some(Requirement::Any(&["admin"])),
            })
            .build();
        assert_eq!(
            SPEC.to_string(),
            "require_role(any(staff, billing)) + require_role(all(a, b)) + \
             require_scope(invoices:write) + owned_by(invoice.user_id, or_role = admin)"
        );
    }

    #[test]
    fn display_of_public_and_redirect() {
        assert_eq!(PolicySpec::public("health").to_string(), "public: health");
        assert_eq!(
            SpecBuilder::authenticated()
                .with_redirect("/login")
                .build()
                .to_string(),
            "require_auth [redirect: /login]"
        );
        assert_eq!(
            SpecBuilder::authenticated()
                .with_redirect("/login")
                .with_credentials(&[CredentialKind::Cookie])
                .build()
                .to_string(),
            "require_auth [redirect: /login] [credentials: cookie]"
        );
        assert_eq!(
            SpecBuilder::authenticated()
                .with_credentials(&[CredentialKind::Cookie, CredentialKind::Bearer])
                .build()
                .to_string(),
            "require_auth"
        );
        assert_eq!(
            SpecBuilder::authenticated()
                .build()
                .narrowed(Kinds::of(&[CredentialKind::Bearer]))
                .to_string(),
            "require_auth [credentials: bearer]"
        );
    }

    #[test]
    fn requirements_are_exact() {
        assert!(all_met(&[Requirement::All(&["a", "b"])], &["b", "a"]));
        assert!(!all_met(
            &[Requirement::Any(&["a"]), Requirement::Any(&["c"])],
            &["a"]
        ));
        assert!(all_met::<&str>(&[], &[]));
        assert!(!Requirement::Any(&["admin"]).is_met_by(&["ADMIN", "admin "]));
    }
}
