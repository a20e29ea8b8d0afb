//! The model: what `parse` reads from each authgate attribute ([`PolicyAttr`]) and what
//! `validate` combines them into for codegen ([`Policy`]). Data only; it depends on no other
//! module of the crate.

use proc_macro2::{Span, TokenStream};
use syn::LitStr;

/// Which attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Auth,
    Role,
    Scope,
    Public,
    OwnedBy,
}

impl Kind {
    pub(crate) fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "require_auth" => Kind::Auth,
            "require_role" => Kind::Role,
            "require_scope" => Kind::Scope,
            "public" => Kind::Public,
            "owned_by" => Kind::OwnedBy,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Auth => "require_auth",
            Kind::Role => "require_role",
            Kind::Scope => "require_scope",
            Kind::Public => "public",
            Kind::OwnedBy => "owned_by",
        }
    }

    /// What the attribute's names are, if it takes names.
    pub(crate) fn noun(self) -> Option<&'static str> {
        match self {
            Kind::Role => Some("role"),
            Kind::Scope => Some("scope"),
            Kind::Auth | Kind::Public | Kind::OwnedBy => None,
        }
    }

    pub(crate) fn example(self) -> &'static str {
        match self {
            Kind::Scope => "invoices:write",
            _ => "admin",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Any,
    All,
}

/// `"admin"`, `any("a", "b")` or `all("a", "b")`, with the original literals for spans.
pub(crate) struct NameList {
    pub(crate) mode: Mode,
    pub(crate) names: Vec<LitStr>,
    pub(crate) span: Span,
}

/// One attribute as written.
pub(crate) struct PolicyAttr {
    pub(crate) kind: Kind,
    pub(crate) span: Span,
    pub(crate) names: Option<NameList>,
    pub(crate) redirect: Option<LitStr>,
    /// `credentials = "cookie"` or `credentials = any("bearer", "cookie")`.
    pub(crate) credentials: Option<NameList>,
    pub(crate) reason: Option<LitStr>,
    pub(crate) owner: Option<OwnerArg>,
}

/// The arguments of `#[owned_by(invoice.user_id, or_role = "admin", status = 403)]`.
pub(crate) struct OwnerArg {
    /// The binding the path starts from (`invoice` in `invoice.user_id`); it must be bound by
    /// one of the handler's arguments.
    pub(crate) root: syn::Ident,
    pub(crate) expr: syn::Expr,
    /// The path as written, for the audit.
    pub(crate) text: String,
    pub(crate) status: Option<syn::LitInt>,
    pub(crate) or_role: Option<NameList>,
}

/// The ownership rule, checked.
pub(crate) struct OwnerRule {
    pub(crate) root: syn::Ident,
    pub(crate) expr: TokenStream,
    pub(crate) text: String,
    pub(crate) status: u16,
    pub(crate) bypass: Option<(Mode, Vec<String>)>,
}

/// Everything the handler's attributes ask for together.
pub(crate) struct Policy {
    pub(crate) public_reason: Option<String>,
    pub(crate) roles: Vec<(Mode, Vec<String>)>,
    pub(crate) scopes: Vec<(Mode, Vec<String>)>,
    pub(crate) redirect: Option<String>,
    /// The credential kinds accepted (`bearer`, `cookie`); empty: every kind.
    pub(crate) credentials: Vec<String>,
    pub(crate) owner: Option<OwnerRule>,
}

/// The credential kinds `credentials = ".."` may name, as the runtime's `CredentialKind`
/// variants are named in the audit.
pub(crate) const CREDENTIAL_KINDS: [(&str, &str); 2] = [("bearer", "Bearer"), ("cookie", "Cookie")];

impl Policy {
    /// A fail-closed stand-in used when the attributes have errors, so that one mistake gives
    /// one message instead of a cascade of "not an access guard" errors.
    pub(crate) fn fallback() -> Policy {
        Policy {
            public_reason: None,
            roles: Vec::new(),
            scopes: Vec::new(),
            redirect: None,
            credentials: Vec::new(),
            owner: None,
        }
    }
}
