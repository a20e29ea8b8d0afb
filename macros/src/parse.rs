//! Parsing: the handler (signature parsed, body kept as tokens) and each attribute's arguments.
//!
//! Argument grammar: one parser for the attributes that take names or keys, one for
//! `owned_by`, which starts with a path:
//!
//! ```text
//! args  := item ("," item)* ","?
//! item  := "name"                      require_role / require_scope: one name
//!        | any("a", "b") | all("a", "b")
//!        | key = "value"               redirect (guards), reason (public)
//!        | credentials = kinds         guards: "bearer", "cookie" or any("bearer", "cookie")
//!
//! owned_by := path ("," key = value)* ","?
//! path     := binding ("." field)*          the binding is one of the handler's arguments
//! value    := "role" | any(..) | all(..)    or_role
//!           | 403 | 404                     status
//! ```
//!
//! Errors name the fix and point at the offending token; duplicates are reported at the second
//! occurrence; unknown keys list the valid ones.

use proc_macro2::{Delimiter, Group, Spacing, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Ident, LitStr, Signature, Token, Visibility};

use crate::model::{Kind, Mode, NameList, OwnerArg, PolicyAttr};

/// A handler as the attribute receives it. The body stays tokens: it is never parsed (nor
/// walked), so a body with a syntax error still gets its signature rewritten and
/// rust-analyzer keeps working.
pub(crate) struct HandlerFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    /// The signature as written, which the expansion reprints with the guard spliced in, so
    /// every token keeps its original span.
    pub(crate) sig_tokens: Vec<TokenTree>,
    pub(crate) body: Group,
}

impl HandlerFn {
    /// Splits the item at the top level (attributes and visibility, signature, body) and
    /// parses the first two parts. The body is never handed to syn, which would copy every one
    /// of its tokens into a parse buffer only to pass them through.
    pub(crate) fn parse(item: TokenStream) -> syn::Result<HandlerFn> {
        let mut tokens: Vec<TokenTree> = item.into_iter().collect();
        let body = match tokens.pop() {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => g,
            Some(other) => return Err(syn::Error::new(other.span(), "expected a function body")),
            None => return Err(syn::Error::new(Span::call_site(), "expected a function")),
        };
        // Attributes are `#` and a bracketed group, the visibility is `pub` and maybe a
        // parenthesized group: the signature starts at the first other identifier.
        let sig_start = tokens
            .iter()
            .position(|tt| matches!(tt, TokenTree::Ident(i) if i != "pub"))
            .unwrap_or(tokens.len());
        let sig_tokens = tokens.split_off(sig_start);
        let parser = |input: ParseStream| {
            let attrs = input.call(Attribute::parse_outer)?;
            let vis: Visibility = input.parse()?;
            if !input.is_empty() {
                return Err(input.error("expected a function"));
            }
            Ok((attrs, vis))
        };
        let (attrs, vis) = if tokens.is_empty() {
            (Vec::new(), Visibility::Inherited)
        } else {
            parser.parse2(tokens.into_iter().collect())?
        };
        let sig: Signature = syn::parse2(sig_tokens.iter().cloned().collect())?;
        Ok(HandlerFn {
            attrs,
            vis,
            sig,
            sig_tokens,
            body,
        })
    }
}

/// Where the parameter list is in a signature's tokens: the first parenthesized group after
/// `fn` that is not inside the generics (`fn h<F: Fn(u8) -> u8>(f: F)`).
pub(crate) fn params_index(sig: &[TokenTree]) -> Option<usize> {
    let start = sig
        .iter()
        .position(|tt| matches!(tt, TokenTree::Ident(i) if i == "fn"))?;
    let mut depth = 0usize;
    let mut after_minus = false;
    for (i, tt) in sig.iter().enumerate().skip(start + 1) {
        match tt {
            TokenTree::Punct(p) if p.as_char() == '<' => depth += 1,
            // `->` inside the generics is not a closing bracket.
            TokenTree::Punct(p) if p.as_char() == '>' && !after_minus => {
                depth = depth.saturating_sub(1);
            }
            TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis && depth == 0 => {
                return Some(i);
            }
            _ => {}
        }
        after_minus = matches!(tt, TokenTree::Punct(p) if p.as_char() == '-' && p.spacing() == Spacing::Joint);
    }
    None
}

/// The span of the first token after the attributes and visibility of a non-fn item (`struct`,
/// `impl`, ...), for the "applies to async fn" error.
pub(crate) fn item_keyword_span(item: TokenStream) -> Span {
    let parser = |input: ParseStream| {
        input.call(Attribute::parse_outer)?;
        input.parse::<Visibility>()?;
        let span = input.cursor().token_tree().map(|(tt, _)| tt.span());
        input.parse::<TokenStream>()?;
        Ok(span)
    };
    parser
        .parse2(item)
        .ok()
        .flatten()
        .unwrap_or_else(Span::call_site)
}

/// Which authgate attribute, if any, an attribute path names: `require_role` or
/// `authgate::require_role` (the re-export the docs show).
pub(crate) fn authgate_kind(attr: &Attribute) -> Option<Kind> {
    let path = attr.path();
    let segments: Vec<&Ident> = path.segments.iter().map(|s| &s.ident).collect();
    let name = match segments.as_slice() {
        [name] if path.leading_colon.is_none() => name,
        [krate, name] if *krate == "authgate" => name,
        _ => return None,
    };
    Kind::from_name(&name.to_string())
}

/// The arguments of a sibling attribute found on the handler.
pub(crate) fn sibling_args(attr: &Attribute) -> syn::Result<TokenStream> {
    match &attr.meta {
        syn::Meta::Path(_) => Ok(TokenStream::new()),
        syn::Meta::List(list) => Ok(list.tokens.clone()),
        syn::Meta::NameValue(nv) => Err(syn::Error::new(
            nv.eq_token.spans[0],
            "authgate attributes take arguments in parentheses, like `#[require_role(\"admin\")]`",
        )),
    }
}

/// Parses one attribute's arguments into what it asks for.
pub(crate) fn policy_attr(kind: Kind, span: Span, args: TokenStream) -> syn::Result<PolicyAttr> {
    if kind == Kind::OwnedBy {
        let parser = |input: ParseStream| parse_owner(span, input);
        return parser.parse2(args);
    }
    let parser = |input: ParseStream| parse_items(kind, span, input);
    parser.parse2(args)
}

/// `owned_by(path.to.id, or_role = "admin" | any(..) | all(..), status = 403)`.
fn parse_owner(span: Span, input: ParseStream) -> syn::Result<PolicyAttr> {
    let mut attr = PolicyAttr {
        kind: Kind::OwnedBy,
        span,
        names: None,
        redirect: None,
        credentials: None,
        reason: None,
        owner: None,
    };
    if input.is_empty() {
        return Err(syn::Error::new(
            span,
            "#[owned_by] needs the owner id to compare with the caller: \
             `#[owned_by(user_id)]` or `#[owned_by(invoice.user_id)]`",
        ));
    }
    let expr: syn::Expr = input.parse()?;
    let root = owner_root(&expr)?;
    let text = owner_text(&expr);
    let (mut status, mut or_role) = (None, None);
    while !input.is_empty() {
        input.parse::<Token![,]>()?;
        if input.is_empty() {
            break;
        }
        let key: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        match key.to_string().as_str() {
            "status" if status.is_none() => status = Some(input.parse::<syn::LitInt>()?),
            "or_role" if or_role.is_none() => {
                or_role = Some(if input.peek(LitStr) {
                    let lit: LitStr = input.parse()?;
                    NameList {
                        mode: Mode::Any,
                        span: lit.span(),
                        names: vec![lit],
                    }
                } else {
                    let ident: Ident = input.parse()?;
                    let mode = match ident.to_string().as_str() {
                        "any" => Mode::Any,
                        "all" => Mode::All,
                        _ => {
                            return Err(syn::Error::new(
                                ident.span(),
                                "`or_role` takes a role in quotes, `any(\"a\", \"b\")` or `all(..)`",
                            ));
                        }
                    };
                    let content;
                    syn::parenthesized!(content in input);
                    let mut names = Vec::new();
                    while !content.is_empty() {
                        names.push(name_lit(&content, "role")?);
                        if !content.is_empty() {
                            content.parse::<Token![,]>()?;
                        }
                    }
                    NameList {
                        mode,
                        names,
                        span: ident.span(),
                    }
                });
            }
            "status" | "or_role" => {
                return Err(syn::Error::new(
                    key.span(),
                    format!("duplicate `{key}` argument"),
                ));
            }
            _ => {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown argument `{key}` for #[owned_by]; expected `or_role = \"...\"` or `status = 403`"
                    ),
                ));
            }
        }
    }
    attr.owner = Some(OwnerArg {
        root,
        expr,
        text,
        status,
        or_role,
    });
    Ok(attr)
}

/// The binding an owner path starts from: `invoice` in `invoice.user_id`.
fn owner_root(expr: &syn::Expr) -> syn::Result<Ident> {
    match expr {
        syn::Expr::Path(p)
            if p.qself.is_none() && p.path.segments.len() == 1 && p.attrs.is_empty() =>
        {
            Ok(p.path.segments[0].ident.clone())
        }
        syn::Expr::Field(f) => owner_root(&f.base),
        _ => Err(syn::Error::new_spanned(
            expr,
            "#[owned_by] takes an argument name or a field path, like `user_id` or \
             `invoice.user_id`",
        )),
    }
}

fn owner_text(expr: &syn::Expr) -> String {
    match expr {
        syn::Expr::Field(f) => {
            let member = match &f.member {
                syn::Member::Named(ident) => ident.to_string(),
                syn::Member::Unnamed(index) => index.index.to_string(),
            };
            format!("{}.{member}", owner_text(&f.base))
        }
        other => other.to_token_stream().to_string(),
    }
}

fn parse_items(kind: Kind, span: Span, input: ParseStream) -> syn::Result<PolicyAttr> {
    let mut attr = PolicyAttr {
        kind,
        span,
        names: None,
        redirect: None,
        credentials: None,
        reason: None,
        owner: None,
    };
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    while !input.is_empty() {
        if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            let list = NameList {
                mode: Mode::Any,
                span: lit.span(),
                names: vec![lit],
            };
            set_names(kind, &mut attr, list, &mut push);
        } else if input.peek(Ident) && input.peek2(syn::token::Paren) {
            let ident: Ident = input.parse()?;
            let content;
            syn::parenthesized!(content in input);
            let mode = match ident.to_string().as_str() {
                "any" => Some(Mode::Any),
                "all" => Some(Mode::All),
                _ => None,
            };
            match (mode, kind.noun()) {
                (Some(mode), Some(noun)) => {
                    let mut names: Vec<LitStr> = Vec::new();
                    while !content.is_empty() {
                        names.push(name_lit(&content, noun)?);
                        if !content.is_empty() {
                            content.parse::<Token![,]>()?;
                        }
                    }
                    if names.is_empty() {
                        push(syn::Error::new(
                            ident.span(),
                            format!(
                                "`{ident}(..)` needs at least one {noun}: `{ident}(\"a\", \"b\")`"
                            ),
                        ));
                    }
                    set_names(
                        kind,
                        &mut attr,
                        NameList {
                            mode,
                            names,
                            span: ident.span(),
                        },
                        &mut push,
                    );
                }
                _ => {
                    content.parse::<TokenStream>()?;
                    push(unknown_argument(kind, &ident));
                }
            }
        } else if input.peek(Ident) && input.peek2(Token![=]) {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            if key == "credentials" && kind != Kind::Public {
                match credential_kinds(&key, input)? {
                    _ if attr.credentials.is_some() => push(syn::Error::new(
                        key.span(),
                        "duplicate `credentials` argument",
                    )),
                    Ok(list) => attr.credentials = Some(list),
                    Err(e) => push(e),
                }
                if !input.is_empty() {
                    input.parse::<Token![,]>()?;
                }
                continue;
            }
            let value = input.parse::<syn::Lit>()?;
            let slot = match key.to_string().as_str() {
                "redirect" if kind != Kind::Public => &mut attr.redirect,
                "reason" if kind == Kind::Public => &mut attr.reason,
                _ => {
                    push(unknown_argument(kind, &key));
                    if !input.is_empty() {
                        input.parse::<Token![,]>()?;
                    }
                    continue;
                }
            };
            match value {
                syn::Lit::Str(s) if slot.is_none() => *slot = Some(s),
                syn::Lit::Str(_) => push(syn::Error::new(
                    key.span(),
                    format!("duplicate `{key}` argument"),
                )),
                other => push(syn::Error::new(
                    other.span(),
                    format!("`{key}` takes a string literal: `{key} = \"...\"`"),
                )),
            }
        } else {
            let tt: TokenTree = input.parse()?;
            push(match kind.noun() {
                Some(noun) => syn::Error::new(
                    tt.span(),
                    format!(
                        "expected a {noun} name in quotes, like `\"{}\"`, or `any(..)` / `all(..)`",
                        kind.example()
                    ),
                ),
                None => unknown_argument_span(kind, tt.span(), &tt.to_string()),
            });
            input.parse::<TokenStream>()?;
            break;
        }
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(attr),
    }
}

/// The value of `credentials = ..`: one kind in quotes, or `any(..)` of several. The outer
/// `Result` is a parse failure; the inner one a mistake reported with the others.
fn credential_kinds(key: &Ident, input: ParseStream) -> syn::Result<Result<NameList, syn::Error>> {
    const FORMS: &str = "`credentials = \"cookie\"`, `credentials = \"bearer\"` or \
                         `credentials = any(\"bearer\", \"cookie\")`";
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        return Ok(Ok(NameList {
            mode: Mode::Any,
            span: lit.span(),
            names: vec![lit],
        }));
    }
    if input.peek(Ident) && input.peek2(syn::token::Paren) {
        let ident: Ident = input.parse()?;
        let content;
        syn::parenthesized!(content in input);
        let mut names: Vec<LitStr> = Vec::new();
        while !content.is_empty() {
            names.push(name_lit(&content, "credential kind")?);
            if !content.is_empty() {
                content.parse::<Token![,]>()?;
            }
        }
        return Ok(match ident.to_string().as_str() {
            "any" if !names.is_empty() => Ok(NameList {
                mode: Mode::Any,
                span: ident.span(),
                names,
            }),
            "any" => Err(syn::Error::new(
                ident.span(),
                format!("`any()` needs at least one credential kind: {FORMS}"),
            )),
            _ => Err(syn::Error::new(
                ident.span(),
                format!(
                    "a request presents one credential, so `credentials` takes one kind or \
                     `any(..)` of several: {FORMS}"
                ),
            )),
        });
    }
    let tt: TokenTree = input.parse()?;
    let _ = input.parse::<TokenStream>()?;
    Ok(Err(syn::Error::new(
        tt.span(),
        format!("`{key}` takes credential kinds: {FORMS}"),
    )))
}

fn name_lit(input: ParseStream, noun: &str) -> syn::Result<LitStr> {
    if input.peek(LitStr) {
        return input.parse();
    }
    let tt: TokenTree = input.parse()?;
    Err(syn::Error::new(
        tt.span(),
        format!("expected a {noun} name in quotes, like `\"{tt}\"`"),
    ))
}

fn set_names(kind: Kind, attr: &mut PolicyAttr, list: NameList, push: &mut impl FnMut(syn::Error)) {
    match kind.noun() {
        // `#[public("health check")]`: a reason written without its key.
        None if kind == Kind::Public => push(syn::Error::new(
            list.span,
            format!(
                "#[public] takes its reason as `reason = \"...\"`: write `#[public(reason = {})]`",
                list.names
                    .first()
                    .map_or_else(|| "\"...\"".to_owned(), |text| text.token().to_string())
            ),
        )),
        None => push(syn::Error::new(
            list.span,
            format!(
                "#[{}] takes no role or scope; use `#[require_role(\"...\")]` or \
                 `#[require_scope(\"...\")]` instead",
                kind.name()
            ),
        )),
        Some(noun) if attr.names.is_some() => push(syn::Error::new(
            list.span,
            format!(
                "one {noun} requirement per attribute: write `any(\"a\", \"b\")` for either, \
                 `all(\"a\", \"b\")` for both"
            ),
        )),
        Some(_) => attr.names = Some(list),
    }
}

fn unknown_argument(kind: Kind, key: &Ident) -> syn::Error {
    unknown_argument_span(kind, key.span(), &key.to_string())
}

fn unknown_argument_span(kind: Kind, span: Span, key: &str) -> syn::Error {
    let valid = match kind {
        Kind::Public => "`reason = \"...\"`",
        Kind::Auth => "`redirect = \"/login\"` and `credentials = \"..\"`",
        Kind::Role | Kind::Scope => {
            "a name in quotes, `any(..)`, `all(..)`, `redirect = \"/login\"` and \
             `credentials = \"..\"`"
        }
        Kind::OwnedBy => "`or_role = \"...\"` and `status = 403`",
    };
    syn::Error::new(
        span,
        format!(
            "unknown argument `{key}` for #[{}]; expected {valid}",
            kind.name()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(kind: Kind, args: TokenStream) -> Result<PolicyAttr, String> {
        policy_attr(kind, Span::call_site(), args).map_err(|e| e.to_string())
    }

    #[test]
    fn role_forms() {
        let one = parse(Kind::Role, quote!("admin")).unwrap();
        let names = one.names.unwrap();
        assert_eq!(names.mode, Mode::Any);
        assert_eq!(names.names[0].value(), "admin");
        let all = parse(Kind::Role, quote!(all("a", "b",), redirect = "/login")).unwrap();
        assert_eq!(all.names.unwrap().mode, Mode::All);
        assert_eq!(all.redirect.unwrap().value(), "/login");
    }

    #[test]
    fn argument_errors_name_the_fix() {
        let cases = [
            (Kind::Role, quote!(admin), "expected a role name in quotes"),
            (Kind::Role, quote!(42), "expected a role name in quotes"),
            (
                Kind::Role,
                quote!("a", "b"),
                "one role requirement per attribute",
            ),
            (Kind::Role, quote!(some("a")), "unknown argument `some`"),
            (Kind::Role, quote!(any()), "needs at least one role"),
            (
                Kind::Scope,
                quote!(any(x)),
                "expected a scope name in quotes",
            ),
            (
                Kind::Public,
                quote!(reason = "a", reason = "b"),
                "duplicate `reason` argument",
            ),
            (
                Kind::Public,
                quote!(why = "a"),
                "unknown argument `why` for #[public]",
            ),
            (
                Kind::Public,
                quote!(reason = 1),
                "`reason` takes a string literal",
            ),
            (
                Kind::Auth,
                quote!("admin"),
                "#[require_auth] takes no role or scope",
            ),
            (
                Kind::Public,
                quote!("health check"),
                "write `#[public(reason = \"health check\")]`",
            ),
        ];
        for (kind, args, want) in cases {
            let Err(err) = parse(kind, args.clone()) else {
                panic!("{args} parsed")
            };
            assert!(err.contains(want), "{args}: {err}");
        }
    }

    #[test]
    fn params_are_found_past_generics() {
        let sig: Vec<TokenTree> =
            quote!(async fn h<F: Fn(u8) -> u8, T: Into<Vec<u8>>>(f: F, t: T) -> u8)
                .into_iter()
                .collect();
        let i = params_index(&sig).unwrap();
        assert_eq!(sig[i].to_string(), "(f : F , t : T)");
    }

    #[test]
    fn handler_body_is_not_parsed() {
        let f = HandlerFn::parse(quote!(pub async fn h() { this is not rust })).unwrap();
        assert_eq!(f.sig.ident, "h");
        assert!(f.body.to_string().contains("not rust"));
    }
}
