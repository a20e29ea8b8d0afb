//! Access policies as data.
//!
//! Every guarded handler carries one [`PolicySpec`], written by the attribute macros into a
//! `const`. The same value drives the check at request time, the route audit
//! ([`Router::policies`](crate::Router::policies)) and test probes, so what the audit shows is
//! exactly what runs.

use std::fmt;

/// The access policy of one handler, as the attributes declared it.
///
/// You rarely build one by hand: `#[require_auth]`, `#[require_role]`, `#[require_scope]`,
/// `#[owned_by]` and `#[public]` write it for you. It is public so that audits and tests can
/// read it.
///
/// ```
/// use authgate::{PolicySpec, Requirement};
///
/// const ADMIN: PolicySpec = PolicySpec::authenticated().with_roles(&[Requirement::Any(&["admin"])]);
/// assert_eq!(ADMIN.to_string(), "require_role(admin)");
/// assert!(ADMIN.requires_authentication());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicySpec {
    /// Whether a credential is needed at all.
    pub access: Access,
    /// Role requirements; every one of them must hold.
    pub roles: &'static [Requirement],
    /// Scope requirements; every one of them must hold.
    pub scopes: &'static [Requirement],
    /// The ownership rule of `#[owned_by]`, checked at the top of the handler body.
    pub ownership: Option<Ownership>,
    /// Where a page handler sends an anonymous visitor (`redirect = "/login"`), instead of 401.
    pub redirect: Option<&'static str>,
}

/// Whether a handler needs a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
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
pub enum Requirement {
    /// At least one of the names must be held. `require_role("admin")` is `Any(&["admin"])`.
    Any(&'static [&'static str]),
    /// Every one of the names must be held.
    All(&'static [&'static str]),
}

/// The ownership rule of `#[owned_by(...)]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ownership {
    /// The argument or field path compared with the caller's subject, as written.
    pub path: &'static str,
    /// The status of a mismatch: 404 (default: do not reveal that the resource exists) or 403.
    pub status: u16,
    /// Roles that may act without owning the resource.
    pub bypass: Option<Requirement>,
}

impl PolicySpec {
    /// A policy that needs any valid credential and nothing else (`#[require_auth]`).
    pub const fn authenticated() -> Self {
        PolicySpec {
            access: Access::Authenticated,
            roles: &[],
            scopes: &[],
            ownership: None,
            redirect: None,
        }
    }

    /// A policy open to anonymous callers (`#[public(reason = "...")]`).
    pub const fn public(reason: &'static str) -> Self {
        PolicySpec {
            access: Access::Public { reason },
            ..Self::authenticated()
        }
    }

    /// The same policy with these role requirements.
    pub const fn with_roles(self, roles: &'static [Requirement]) -> Self {
        PolicySpec { roles, ..self }
    }

    /// The same policy with these scope requirements.
    pub const fn with_scopes(self, scopes: &'static [Requirement]) -> Self {
        PolicySpec { scopes, ..self }
    }

    /// The same policy with an ownership rule.
    pub const fn with_ownership(self, ownership: Ownership) -> Self {
        PolicySpec {
            ownership: Some(ownership),
            ..self
        }
    }

    /// The same policy, redirecting anonymous visitors to `login` instead of answering 401.
    pub const fn with_redirect(self, login: &'static str) -> Self {
        PolicySpec {
            redirect: Some(login),
            ..self
        }
    }

    /// True unless the policy is `#[public]`.
    pub const fn requires_authentication(&self) -> bool {
        matches!(self.access, Access::Authenticated)
    }

    /// The reason given by `#[public(reason = "...")]`, if the policy is public.
    pub const fn public_reason(&self) -> Option<&'static str> {
        match self.access {
            Access::Public { reason } => Some(reason),
            Access::Authenticated => None,
        }
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
    /// use authgate::Requirement;
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

/// The audit form: `public: <reason>`, or the attributes joined by ` + `, for example
/// `require_role(admin) + require_scope(invoices:write) + owned_by(invoice.user_id)`.
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
        Ok(())
    }
}

/// A per-handler marker type carrying its policy; the attribute macros implement it.
///
/// Implemented by hidden structs the macros emit next to each guarded handler. Implement it by
/// hand only for a guard you write yourself, such as a hand-written [`Guard`](crate::Guard)
/// argument.
///
/// ```
/// use authgate::{Policy, PolicySpec};
///
/// struct Staff;
/// impl Policy for Staff {
///     const SPEC: &'static PolicySpec =
///         &PolicySpec::authenticated().with_roles(&[authgate::Requirement::Any(&["staff"])]);
///     const HANDLER: &'static str = "staff_only";
/// }
/// ```
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
        const SPEC: PolicySpec = PolicySpec::authenticated()
            .with_roles(&[
                Requirement::Any(&["staff", "billing"]),
                Requirement::All(&["a", "b"]),
            ])
            .with_scopes(&[Requirement::Any(&["invoices:write"])])
            .with_ownership(Ownership {
                path: "invoice.user_id",
                status: 404,
                bypass: Some(Requirement::Any(&["admin"])),
            });
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
            PolicySpec::authenticated()
                .with_redirect("/login")
                .to_string(),
            "require_auth [redirect: /login]"
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
