//! Validation: the checks between parsing and codegen. The attributes of one handler combine
//! into one [`Policy`] and the handler's signature must suit a guard; every problem is reported
//! at once (`syn::Error::combine`), so codegen cannot fail.

use proc_macro2::Span;
use quote::ToTokens;
use syn::{FnArg, Ident, LitStr};

use crate::model::{CREDENTIAL_KINDS, Kind, NameList, OwnerArg, OwnerRule, Policy, PolicyAttr};
use crate::parse::HandlerFn;

/// Combines the attributes of one handler into its [`Policy`], reporting every problem.
pub(crate) fn policy(attrs: &[PolicyAttr]) -> Result<Policy, syn::Error> {
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
                        "#[owned_by] is given twice; one handler has one owner check".to_owned(),
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
                        let slot = if attr.kind == Kind::Role {
                            &mut policy.roles
                        } else {
                            &mut policy.scopes
                        };
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
    let mut credentials: Option<&NameList> = None;
    for list in attrs.iter().filter_map(|attr| attr.credentials.as_ref()) {
        if credentials.is_some() {
            errors.push(
                list.span,
                "`credentials` is given twice; give it once, on one of the attributes".to_owned(),
            );
            continue;
        }
        credentials = Some(list);
        policy.credentials = check_credentials(list, &mut errors);
    }
    errors.finish(policy)
}

/// The kinds of `credentials = ..`, each one that exists, once; an empty list when any is
/// wrong (the errors say which), so the handler stays fail-closed on the other checks.
fn check_credentials(list: &NameList, errors: &mut Errors) -> Vec<String> {
    let mut kinds: Vec<String> = Vec::new();
    for lit in &list.names {
        let kind = lit.value();
        if !CREDENTIAL_KINDS.iter().any(|(name, _)| *name == kind) {
            let known: Vec<String> = CREDENTIAL_KINDS
                .iter()
                .map(|(name, _)| format!("\"{name}\""))
                .collect();
            errors.push(
                lit.span(),
                format!(
                    "unknown credential kind {:?}; the kinds are {}",
                    kind,
                    known.join(" and ")
                ),
            );
        } else if kinds.contains(&kind) {
            errors.push(
                lit.span(),
                format!("credential kind {kind:?} is listed twice"),
            );
        } else {
            kinds.push(kind);
        }
    }
    kinds
}

/// The checks on the function itself: async, free (no `self`).
pub(crate) fn check_signature(kind: Kind, handler: &HandlerFn) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    let sig = &handler.sig;
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            sig.fn_token.span,
            format!(
                "#[{}] goes on async axum handlers: make this an `async fn`",
                kind.name()
            ),
        ));
    }
    if let Some(receiver) = sig.receiver() {
        errors.push(syn::Error::new_spanned(
            receiver,
            format!(
                "#[{}] goes on free `async fn` handlers; axum handlers take no `self`: move this \
                 function out of the impl block",
                kind.name()
            ),
        ));
    }
    errors
}

/// `#[owned_by(invoice.user_id)]` must start from a binding of the handler's arguments.
pub(crate) fn check_owner_binding(handler: &HandlerFn, policy: &Policy) -> syn::Result<()> {
    let Some(owner) = &policy.owner else {
        return Ok(());
    };
    let mut bindings = Vec::new();
    for arg in &handler.sig.inputs {
        if let FnArg::Typed(typed) = arg {
            collect_bindings(&typed.pat, &mut bindings);
        }
    }
    if bindings.contains(&owner.root) {
        return Ok(());
    }
    let message = if bindings.is_empty() {
        format!(
            "#[owned_by({})]: this handler has no arguments; extract the id or the resource \
             first, for example `Path(user_id): Path<u64>` or `Load(invoice): Load<Invoice>`",
            owner.text
        )
    } else {
        let names: Vec<String> = bindings.iter().map(|b| format!("`{b}`")).collect();
        format!(
            "#[owned_by]: no argument of this handler binds `{}`; the arguments bind {}",
            owner.root,
            names.join(", ")
        )
    };
    Err(syn::Error::new(owner.root.span(), message))
}

fn collect_bindings(pat: &syn::Pat, out: &mut Vec<Ident>) {
    match pat {
        syn::Pat::Ident(p) => {
            out.push(p.ident.clone());
            if let Some((_, sub)) = &p.subpat {
                collect_bindings(sub, out);
            }
        }
        syn::Pat::TupleStruct(p) => p.elems.iter().for_each(|e| collect_bindings(e, out)),
        syn::Pat::Tuple(p) => p.elems.iter().for_each(|e| collect_bindings(e, out)),
        syn::Pat::Struct(p) => p.fields.iter().for_each(|f| collect_bindings(&f.pat, out)),
        syn::Pat::Slice(p) => p.elems.iter().for_each(|e| collect_bindings(e, out)),
        syn::Pat::Reference(p) => collect_bindings(&p.pat, out),
        syn::Pat::Paren(p) => collect_bindings(&p.pat, out),
        syn::Pat::Type(p) => collect_bindings(&p.pat, out),
        _ => {}
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
    use crate::model::Mode;
    use crate::parse::policy_attr;
    use quote::quote;

    fn attr(kind: Kind, args: proc_macro2::TokenStream) -> PolicyAttr {
        policy_attr(kind, Span::call_site(), args).unwrap()
    }

    #[test]
    fn stacked_attributes_combine() {
        let p = policy(&[
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
            let err = policy(&attrs).err().expect(want).to_string();
            assert!(err.contains(want), "{err}");
        }
    }
}
