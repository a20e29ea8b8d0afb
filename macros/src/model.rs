//! The parsed model and its validation: all authgate attributes of one handler combine into one
//! [`Policy`]; every problem is reported at once (`syn::Error::combine`), and codegen cannot
//! fail.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
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
    pub(crate) reason: Option<LitStr>,
    pub(crate) owner: Option<OwnerArg>,
}

/// The arguments of `#[owned_by(invoice.user_id, or_role = "admin", status = 403)]`.
pub(crate) struct OwnerArg {
    /// `invoice.user_id`: a binding of the handler's arguments, then fields.
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
    pub(crate) owner: Option<OwnerRule>,
}

impl Policy {
    /// A fail-closed stand-in used when the attributes have errors, so that one mistake gives
    /// one message instead of a cascade of "not an access guard" errors.
    pub(crate) fn fallback() -> Policy {
        Policy {
            public_reason: None,
            roles: Vec::new(),
            scopes: Vec::new(),
            redirect: None,
            owner: None,
        }
    }

    /// Combines the attributes of one handler, reporting every problem.
    pub(crate) fn build(attrs: &[PolicyAttr]) -> Result<Policy, syn::Error> {
        let mut errors = Errors::default();
        let mut policy = Policy::fallback();
        let mut public: Option<(usize, &PolicyAttr)> = None;
        let mut guarded: Option<(usize, &PolicyAttr)> = None;
        let mut auth_seen = false;
        let mut redirect: Option<&LitStr> = None;

        for (index, attr) in attrs.iter().enumerate() {
            match attr.kind {
                Kind::Public => {
                    if public.is_some() {
                        errors.push(attr.span, "duplicate #[public] attribute".to_owned());
                    }
                    public = Some((index, attr));
                    match &attr.reason {
                        None => errors.push(
                            attr.span,
                            "#[public] needs a reason, shown in the route audit: \
                             `#[public(reason = \"load-balancer health check\")]`"
                                .to_owned(),
                        ),
                        Some(reason) if reason.value().trim().is_empty() => errors.push(
                            reason.span(),
                            "the reason of #[public] cannot be empty: say why anonymous callers \
                             may use this handler"
                                .to_owned(),
                        ),
                        Some(reason) => policy.public_reason = Some(reason.value()),
                    }
                }
                Kind::Auth => {
                    if auth_seen {
                        errors.push(attr.span, "duplicate #[require_auth] attribute".to_owned());
                    }
                    auth_seen = true;
                    guarded = guarded.or(Some((index, attr)));
                }
                Kind::OwnedBy => {
                    guarded = guarded.or(Some((index, attr)));
                    if policy.owner.is_some() {
                        errors.push(
                            attr.span,
                            "#[owned_by] is given twice; one handler has one owner check"
                                .to_owned(),
                        );
                    }
                    if let Some(arg) = &attr.owner {
                        policy.owner = Some(check_owner(arg, &mut errors));
                    }
                }
                Kind::Role | Kind::Scope => {
                    guarded = guarded.or(Some((index, attr)));
                    let noun = attr.kind.noun().unwrap_or("name");
                    match &attr.names {
                        None => errors.push(
                            attr.span,
                            format!(
                                "#[{}] needs a {noun}: `#[{0}(\"{}\")]`, `#[{0}(any(\"a\", \"b\"))]` \
                                 or `#[{0}(all(\"a\", \"b\"))]`",
                                attr.kind.name(),
                                attr.kind.example()
                            ),
                        ),
                        Some(list) => {
                            let names = check_names(list, attr.kind, &mut errors);
                            let slot = if attr.kind == Kind::Role { &mut policy.roles } else { &mut policy.scopes };
                            slot.push((list.mode, names));
                        }
                    }
                }
            }
            if let Some(url) = &attr.redirect {
                if redirect.is_some() {
                    errors.push(
                        url.span(),
                        "`redirect` is given twice; give it once".to_owned(),
                    );
                } else if !is_local_path(&url.value()) {
                    errors.push(
                        url.span(),
                        "`redirect` must be a path on this site starting with a single `/`, \
                         like `redirect = \"/login\"`"
                            .to_owned(),
                    );
                }
                redirect = redirect.or(Some(url));
            }
        }
        if let (Some((p, public)), Some((g, guarded))) = (public, guarded) {
            let later = if p > g { public } else { guarded };
            errors.push(
                later.span,
                format!(
                    "#[public] cannot be combined with #[{}]: a handler is either public or \
                     guarded; remove one of them",
                    guarded.kind.name()
                ),
            );
        }
        policy.redirect = redirect.map(LitStr::value);
        errors.finish(policy)
    }
}

fn check_owner(arg: &OwnerArg, errors: &mut Errors) -> OwnerRule {
    let status = match &arg.status {
        None => 404,
        Some(lit) => match lit.base10_parse::<u16>() {
            Ok(code @ (403 | 404)) => code,
            _ => {
                errors.push(
                    lit.span(),
                    "`status` is 404 (the default: do not reveal that the resource exists) or 403"
                        .to_owned(),
                );
                404
            }
        },
    };
    let bypass = arg
        .or_role
        .as_ref()
        .map(|list| (list.mode, check_names(list, Kind::Role, errors)));
    OwnerRule {
        root: arg.root.clone(),
        expr: arg.expr.to_token_stream(),
        text: arg.text.clone(),
        status,
        bypass,
    }
}

fn check_names(list: &NameList, kind: Kind, errors: &mut Errors) -> Vec<String> {
    let noun = kind.noun().unwrap_or("name");
    let mut names = Vec::new();
    for lit in &list.names {
        let name = lit.value();
        if name.is_empty() {
            errors.push(lit.span(), format!("a {noun} name cannot be empty"));
        } else if name.trim() != name || name.chars().any(char::is_control) {
            errors.push(
                lit.span(),
                format!(
                    "a {noun} name cannot start or end with white space or hold control characters"
                ),
            );
        } else if kind == Kind::Scope && name.contains(' ') {
            errors.push(
                lit.span(),
                "a scope cannot contain spaces (scopes are space-delimited); list several with \
                 `all(\"a\", \"b\")`"
                    .to_owned(),
            );
        } else if names.contains(&name) {
            errors.push(lit.span(), format!("the {noun} `{name}` is listed twice"));
        } else {
            names.push(name);
        }
    }
    names
}

/// A same-site path: `/login`, never `//host` or `/\host`, which browsers treat as another host.
fn is_local_path(url: &str) -> bool {
    url.starts_with('/')
        && !url.starts_with("//")
        && !url.starts_with("/\\")
        && !url.chars().any(|c| c.is_control() || c.is_whitespace())
}

#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, span: Span, message: String) {
        let error = syn::Error::new(span, message);
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn finish<T>(self, value: T) -> Result<T, syn::Error> {
        match self.0 {
            Some(e) => Err(e),
            None => Ok(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::policy_attr;
    use quote::quote;

    fn attr(kind: Kind, args: proc_macro2::TokenStream) -> PolicyAttr {
        policy_attr(kind, Span::call_site(), args).unwrap()
    }

    #[test]
    fn stacked_attributes_combine() {
        let p = Policy::build(&[
            attr(Kind::Role, quote!("admin")),
            attr(Kind::Scope, quote!(all("a:r", "a:w"))),
            attr(Kind::Role, quote!(any("x", "y"), redirect = "/login")),
        ])
        .unwrap();
        assert_eq!(
            p.roles,
            vec![
                (Mode::Any, vec!["admin".into()]),
                (Mode::Any, vec!["x".into(), "y".into()])
            ]
        );
        assert_eq!(
            p.scopes,
            vec![(Mode::All, vec!["a:r".into(), "a:w".into()])]
        );
        assert_eq!(p.redirect.as_deref(), Some("/login"));
        assert!(p.public_reason.is_none());
    }

    #[test]
    fn invalid_combinations() {
        let cases = [
            (
                vec![
                    attr(Kind::Public, quote!(reason = "x")),
                    attr(Kind::Auth, quote!()),
                ],
                "cannot be combined",
            ),
            (vec![attr(Kind::Public, quote!())], "needs a reason"),
            (
                vec![attr(Kind::Public, quote!(reason = "  "))],
                "cannot be empty",
            ),
            (
                vec![attr(Kind::Role, quote!())],
                "#[require_role] needs a role",
            ),
            (vec![attr(Kind::Role, quote!(""))], "cannot be empty"),
            (
                vec![attr(Kind::Role, quote!(any("a", "a")))],
                "listed twice",
            ),
            (
                vec![attr(Kind::Scope, quote!("a b"))],
                "cannot contain spaces",
            ),
            (
                vec![attr(Kind::Auth, quote!()), attr(Kind::Auth, quote!())],
                "duplicate #[require_auth]",
            ),
            (
                vec![attr(Kind::Auth, quote!(redirect = "//evil.example"))],
                "single `/`",
            ),
            (
                vec![attr(Kind::Auth, quote!(redirect = "https://x"))],
                "single `/`",
            ),
        ];
        for (attrs, want) in cases {
            let err = Policy::build(&attrs).err().expect(want).to_string();
            assert!(err.contains(want), "{err}");
        }
    }
}
