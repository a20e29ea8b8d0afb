//! Codegen: one policy marker and one injected guard per handler.

use proc_macro2::{Delimiter, Group, Spacing, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::Ident;

use crate::model::{CREDENTIAL_KINDS, Kind, Mode, Policy};
use crate::parse::{self, HandlerFn};
use crate::paths;
use crate::validate;

/// Expands the outermost authgate attribute of a handler, together with every authgate
/// attribute below it.
///
/// Input:
///
/// ```text
/// #[require_role("admin")]
/// #[require_scope("users:read")]
/// pub async fn list_users(State(db): State<Db>) -> Json<Vec<User>> { body }
/// ```
///
/// Output:
///
/// ```text
/// #[doc(hidden)] pub struct __authgate_policy_list_users;
/// impl Policy for __authgate_policy_list_users {
///     const SPEC: &'static PolicySpec = &SpecBuilder::authenticated()
///         .with_roles(&[Any(&["admin"])]).with_scopes(&[Any(&["users:read"])]).build();
///     const HANDLER: &'static str = "list_users";
/// }
/// pub async fn list_users(
///     __authgate_guard: Guard<__authgate_policy_list_users>,   // mixed-site: invisible to body
///     State(db): State<Db>,
/// ) -> Json<Vec<User>> { body }                                // body untouched
/// ```
///
/// On any error the handler is still emitted, followed by every error, so one mistake gives
/// one message and the IDE keeps working. A free function keeps a fail-closed guard; a method
/// (it takes `self`) is emitted as written.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    if is_stacked_marker(&args) {
        return stacked(kind, item);
    }
    if has_injected_guard(&item) {
        return renamed_sibling(kind, item);
    }
    let output = match HandlerFn::parse(item.clone()) {
        Ok(handler) => expand_handler(kind, args, handler),
        Err(_) => {
            let span = parse::item_keyword_span(item.clone());
            let error = syn::Error::new(
                span,
                format!(
                    "#[{}] applies to async fn handlers: put it on an `async fn` that axum routes to",
                    kind.name()
                ),
            );
            let error = error.into_compile_error();
            quote!(#item #error)
        }
    };
    if std::env::var_os("AUTHGATE_DEBUG").is_some_and(|v| v != "0") {
        eprintln!("authgate: #[{}] expanded to:\n{output}\n", kind.name());
    }
    output
}

/// `__authgate_stacked`: this attribute was already expanded by the one above it.
fn is_stacked_marker(args: &TokenStream) -> bool {
    let mut tokens = args.clone().into_iter();
    matches!(
        (tokens.next(), tokens.next()),
        (Some(proc_macro2::TokenTree::Ident(ident)), None) if ident == "__authgate_stacked"
    )
}

/// A stacked attribute's remains: the item passes through, but only if the attribute above
/// really injected a guard. A hand-written `#[require_role(__authgate_stacked)]` on a handler
/// without one is an error, never a silently unguarded handler.
fn stacked(kind: Kind, item: TokenStream) -> TokenStream {
    if has_injected_guard(&item) {
        return item;
    }
    let error = syn::Error::new(
        Span::call_site(),
        format!(
            "`__authgate_stacked` is internal to authgate; give #[{}] its arguments instead",
            kind.name()
        ),
    )
    .into_compile_error();
    quote!(#item #error)
}

/// Whether the item's first parameter is the guard an authgate attribute injected. A look at
/// the tokens is enough.
fn has_injected_guard(item: &TokenStream) -> bool {
    let tokens: Vec<TokenTree> = item.clone().into_iter().collect();
    parse::params_index(&tokens).is_some_and(|i| {
        let TokenTree::Group(params) = &tokens[i] else {
            return false;
        };
        let mut params = params.stream().into_iter();
        matches!(
            (params.next(), params.next()),
            (Some(TokenTree::Ident(name)), Some(TokenTree::Punct(colon)))
                if name == "__authgate_guard" && colon.as_char() == ':'
        )
    })
}

/// An authgate attribute on a handler that an attribute above already guarded: that one
/// gathers its siblings by their names, so this one was written under another name
/// (`use authgate::require_role as admin_only`). The handler passes through with the guard it
/// has, and the error says how to stack attributes.
///
/// Input: `#[require_auth] #[admin_only("admin")] async fn f() {}`, after `require_auth`
/// expanded: `#[admin_only("admin")] async fn f(__authgate_guard: Guard<..>) {}`.
/// Output: that function, unchanged, and one error at `#[admin_only]`.
fn renamed_sibling(kind: Kind, item: TokenStream) -> TokenStream {
    let error = syn::Error::new(
        Span::call_site(),
        format!(
            "this handler already has an authgate guard from an attribute above: authgate \
             attributes stacked on one handler combine into one policy only under their own \
             names; write #[{name}(..)] (`use authgate::{name};`), not a renamed import",
            name = kind.name()
        ),
    )
    .into_compile_error();
    quote!(#item #error)
}

fn expand_handler(kind: Kind, args: TokenStream, mut handler: HandlerFn) -> TokenStream {
    let mut errors: Vec<syn::Error> = Vec::new();
    let mut attrs = Vec::new();
    match parse::policy_attr(kind, Span::call_site(), args) {
        Ok(attr) => attrs.push(attr),
        Err(e) => errors.push(e),
    }
    // Gather the authgate attributes below this one: they are expanded here, once. Each stays
    // on the handler as `#[require_scope(__authgate_stacked)]`, which expands to nothing, so
    // the user's `use authgate::require_scope` counts as used.
    let mut kept = Vec::with_capacity(handler.attrs.len());
    for mut attr in handler.attrs.drain(..) {
        let Some(sibling) = parse::authgate_kind(&attr) else {
            kept.push(attr);
            continue;
        };
        // Errors about this attribute underline its name: stable Rust cannot join the spans of
        // `#[...]` into one.
        let span = attr
            .path()
            .segments
            .last()
            .map_or_else(Span::call_site, |s| s.ident.span());
        match parse::sibling_args(&attr).and_then(|args| parse::policy_attr(sibling, span, args)) {
            Ok(parsed) => attrs.push(parsed),
            Err(e) => errors.push(e),
        }
        let path = attr.path();
        attr.meta = syn::parse_quote!(#path(__authgate_stacked));
        kept.push(attr);
    }
    handler.attrs = kept;
    errors.extend(validate::check_signature(kind, &handler));
    make_async(&mut handler);
    if handler.sig.receiver().is_some() {
        // A method in an impl block: no marker struct can go there, so emit the function as it
        // was (minus our attributes) with just our error.
        handler
            .attrs
            .retain(|attr| parse::authgate_kind(attr).is_none());
        if let Err(e) = validate::policy(&attrs) {
            errors.push(e);
        }
        let HandlerFn {
            attrs,
            vis,
            sig,
            body,
            ..
        } = &handler;
        let mut output = quote!(#(#attrs)* #vis #sig #body);
        for error in errors {
            output.extend(error.into_compile_error());
        }
        return output;
    }

    let policy = match validate::policy(&attrs) {
        Ok(policy) if errors.is_empty() => match validate::check_owner_binding(&handler, &policy) {
            Ok(()) => policy,
            Err(e) => {
                errors.push(e);
                Policy::fallback()
            }
        },
        Ok(_) => Policy::fallback(),
        Err(e) => {
            errors.push(e);
            Policy::fallback()
        }
    };
    let mut output = emit(&handler, &policy);
    for error in errors {
        output.extend(error.into_compile_error());
    }
    output
}

/// Emits a handler written without `async` as an `async fn`, after `check_signature` has
/// reported it: with our error the handler is then still an axum `Handler`, so routing it adds
/// no second, unrelated "`Handler` is not implemented" error.
///
/// Input: `fn health() -> &'static str { "ok" }`; output: `async fn health() -> &'static str
/// { "ok" }` (and the error asking for `async fn`). A `const fn` stays as written, since it
/// cannot be async.
fn make_async(handler: &mut HandlerFn) {
    let sig = &handler.sig;
    if sig.asyncness.is_some() || sig.constness.is_some() {
        return;
    }
    // `async` goes before `unsafe`, `extern` and `fn`, whichever comes first.
    let Some(at) = handler.sig_tokens.iter().position(
        |tt| matches!(tt, TokenTree::Ident(i) if i == "unsafe" || i == "extern" || i == "fn"),
    ) else {
        return;
    };
    let keyword = Ident::new("async", handler.sig_tokens[at].span());
    handler.sig_tokens.insert(at, TokenTree::Ident(keyword));
}

/// The marker type, its `Policy` impl, and the handler with the guard as first argument.
///
/// The signature is reprinted from its original tokens with the guard spliced into the
/// parameter list, so every token keeps the user's span and an error in the signature
/// underlines what the user wrote.
fn emit(handler: &HandlerFn, policy: &Policy) -> TokenStream {
    let HandlerFn {
        attrs,
        vis,
        sig,
        sig_tokens,
        body,
    } = handler;
    let name = &sig.ident;
    let unraw = syn::ext::IdentExt::unraw(name).to_string();
    let marker = Ident::new(&format!("__authgate_policy_{unraw}"), Span::call_site());
    let spec = spec_tokens(policy);
    let (policy_trait, policy_spec) = (paths::policy_trait(), paths::policy_spec());
    let mut output = quote_spanned! {name.span()=>
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code, unreachable_pub)]
        #vis struct #marker;

        impl #policy_trait for #marker {
            const SPEC: &'static #policy_spec = &#spec;
            const HANDLER: &'static str = #unraw;
        }
    };
    if policy.public_reason.is_some() {
        output.extend(public_args_check(&marker, sig));
    }
    for attr in attrs {
        attr.to_tokens(&mut output);
    }
    vis.to_tokens(&mut output);

    // Mixed-site hygiene: the body cannot name the guard binding, and no user binding can
    // shadow it. The leading underscore keeps `unused_variables` quiet.
    let guard_ident = Ident::new("__authgate_guard", Span::mixed_site());
    let guard = paths::guard();
    let guard_arg = quote_spanned!(name.span()=> #guard_ident: #guard<#marker>);
    let Some(params) = parse::params_index(sig_tokens) else {
        // Unreachable: `sig` parsed from these tokens. Fail the build rather than emit the
        // handler without its guard.
        output.extend(sig_tokens.iter().cloned());
        body.to_tokens(&mut output);
        output.extend(
            syn::Error::new(name.span(), "authgate: could not find the parameter list")
                .into_compile_error(),
        );
        return output;
    };
    output.extend(sig_tokens[..params].iter().cloned());
    if let TokenTree::Group(group) = &sig_tokens[params] {
        let mut inner = guard_arg;
        if !group.stream().is_empty() {
            inner.extend(quote!(,));
            inner.extend(group.stream());
        }
        let mut spliced = Group::new(Delimiter::Parenthesis, inner);
        spliced.set_span(group.span());
        output.extend([TokenTree::Group(spliced)]);
    }
    let rest = &sig_tokens[params + 1..];
    match &policy.owner {
        Some(owner) => {
            let (ret, rest) = split_return_type(rest);
            let (ret, body) = owner_check(ret, body, &guard_ident, &owner.expr);
            output.extend(ret);
            output.extend(rest.iter().cloned());
            output.extend(body);
        }
        None => {
            output.extend(rest.iter().cloned());
            body.to_tokens(&mut output);
        }
    }
    output
}

/// The compile-time check that a `#[public]` handler takes no `CurrentUser`, which needs a
/// verified caller that a public handler never has (`Option<CurrentUser>` is the public form).
/// Each argument type goes through `PublicArg`, whose `check` fails to compile for
/// `CurrentUser` (see the runtime's `guard::PublicArg`); the handler itself is untouched.
///
/// Input:  `async fn home<S>(State(s): State<S>, user: CurrentUser) where S: Clone`
///
/// Output:
///
/// ```text
/// impl __authgate_policy_home {
///     fn __authgate_public_args<S>() where S: Clone {
///         PublicArg::<State<S>>::new().check();
///         PublicArg::<CurrentUser>::new().check();   // error: write `Option<CurrentUser>`
///     }
/// }
/// ```
fn public_args_check(marker: &Ident, sig: &syn::Signature) -> TokenStream {
    let public_arg_ok = paths::public_arg_ok();
    let checks = sig.inputs.iter().filter_map(|arg| match arg {
        // `impl Trait` cannot be named outside the handler's own signature.
        syn::FnArg::Typed(typed) if !mentions_impl(typed.ty.to_token_stream()) => {
            let ty = &typed.ty;
            // Spanned at the argument's type, so the error underlines `CurrentUser`.
            let span = syn::spanned::Spanned::span(ty);
            let public_arg = paths::public_arg(span);
            Some(quote_spanned!(span=> #public_arg::<#ty>::new().check();))
        }
        _ => None,
    });
    let generics = &sig.generics;
    let where_clause = &sig.generics.where_clause;
    let name = Ident::new("__authgate_public_args", Span::mixed_site());
    quote! {
        impl #marker {
            #[allow(dead_code, clippy::extra_unused_type_parameters)]
            fn #name #generics () #where_clause {
                use #public_arg_ok as _;
                #(#checks)*
            }
        }
    }
}

/// Splits the tokens after the parameter list into the return type (without `->`, `None`
/// for `()`) and the rest (the `where` clause).
fn split_return_type(after_params: &[TokenTree]) -> (Option<&[TokenTree]>, &[TokenTree]) {
    let is_arrow = matches!(
        after_params,
        [TokenTree::Punct(minus), TokenTree::Punct(gt), ..]
            if minus.as_char() == '-' && minus.spacing() == Spacing::Joint && gt.as_char() == '>'
    );
    if !is_arrow {
        return (None, after_params);
    }
    let ty = &after_params[2..];
    let end = ty
        .iter()
        .position(|tt| matches!(tt, TokenTree::Ident(i) if i == "where"))
        .unwrap_or(ty.len());
    (Some(&ty[..end]), &ty[end..])
}

/// Puts the ownership check before the first statement of the body.
///
/// Input:  `async fn show(Load(invoice): Load<Invoice>) -> Json<Invoice> { body }`
///
/// Output:
///
/// ```text
/// async fn show(guard, Load(invoice): Load<Invoice>) -> Owned<Json<Invoice>> {
///     if let Err(rejection) = guard.check_owner(&(invoice.user_id)) {
///         return Owned::Rejected(rejection);
///     }
///     Owned::Handler(async move { body }.await)   // `return` in body still returns the handler's type
/// }
/// ```
///
/// Returns the new return type (with its `->`) and the new body.
fn owner_check(
    ret: Option<&[TokenTree]>,
    body: &Group,
    guard: &Ident,
    expr: &TokenStream,
) -> (TokenStream, TokenStream) {
    let owned = paths::owned();
    let original = match ret {
        Some(ty) => ty.iter().cloned().collect(),
        None => quote!(()),
    };
    // Pins the async block's output to the declared type, so `?` in the body infers as in the
    // handler as written (tracing-attributes' technique). `impl Trait` cannot be written in a
    // `let`, so it is left to inference there.
    let fake_return = if mentions_impl(original.clone()) {
        quote!()
    } else {
        quote! {
            #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::empty_loop,
                clippy::let_unit_value, clippy::needless_return)]
            if false {
                let __authgate_fake_return: #original = loop {};
                return __authgate_fake_return;
            }
        }
    };
    let ret = quote!(-> #owned<#original>);
    let inner = body.stream();
    let rejection = Ident::new("__authgate_rejection", Span::mixed_site());
    // Spanned at the user's expression, so "cannot be compared" underlines `invoice.user_id`.
    let check = quote_spanned!(syn::spanned::Spanned::span(expr)=> #guard.check_owner(&(#expr)));
    let body = quote! {{
        if let ::core::result::Result::Err(#rejection) = #check {
            return #owned::Rejected(#rejection);
        }
        #owned::Handler(async move { #fake_return #inner }.await)
    }};
    (ret, body)
}

/// Whether a type mentions `impl Trait` anywhere.
fn mentions_impl(ty: TokenStream) -> bool {
    ty.into_iter().any(|tt| match tt {
        TokenTree::Ident(ident) => ident == "impl",
        TokenTree::Group(group) => mentions_impl(group.stream()),
        _ => false,
    })
}

/// The policy as a `PolicySpec` built with `SpecBuilder`'s `const fn`s, so the output names
/// only what the policy asks for: a plain guard is `SpecBuilder::authenticated().build()`.
fn spec_tokens(policy: &Policy) -> TokenStream {
    let spec = paths::spec_builder();
    let mut tokens = match &policy.public_reason {
        Some(reason) => quote!(#spec::public(#reason)),
        None => quote!(#spec::authenticated()),
    };
    if !policy.roles.is_empty() {
        let roles = requirements(&policy.roles);
        tokens.extend(quote!(.with_roles(&[#(#roles),*])));
    }
    if !policy.scopes.is_empty() {
        let scopes = requirements(&policy.scopes);
        tokens.extend(quote!(.with_scopes(&[#(#scopes),*])));
    }
    if let Some(owner) = &policy.owner {
        let (own, option) = (paths::ownership(), paths::option());
        let (path, status) = (&owner.text, owner.status);
        let bypass = match &owner.bypass {
            Some(bypass) => {
                let req = requirements(std::slice::from_ref(bypass));
                quote!(#option::Some(#(#req)*))
            }
            None => quote!(#option::None),
        };
        tokens.extend(
            quote!(.with_ownership(#own { path: #path, status: #status, bypass: #bypass })),
        );
    }
    if let Some(url) = &policy.redirect {
        tokens.extend(quote!(.with_redirect(#url)));
    }
    if !policy.credentials.is_empty() {
        let kind = paths::credential_kind();
        let variants = policy.credentials.iter().filter_map(|name| {
            CREDENTIAL_KINDS
                .iter()
                .find(|(known, _)| known == name)
                .map(|(_, variant)| syn::Ident::new(variant, proc_macro2::Span::call_site()))
        });
        tokens.extend(quote!(.with_credentials(&[#(#kind::#variants),*])));
    }
    tokens.extend(quote!(.build()));
    tokens
}

fn requirements(list: &[(Mode, Vec<String>)]) -> Vec<TokenStream> {
    let requirement = paths::requirement();
    list.iter()
        .map(|(mode, names)| match mode {
            Mode::Any => quote!(#requirement::Any(&[#(#names),*])),
            Mode::All => quote!(#requirement::All(&[#(#names),*])),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(kind: Kind, args: TokenStream, item: TokenStream) -> String {
        expand(kind, args, item).to_string()
    }

    #[test]
    fn injects_guard_first_and_keeps_body() {
        let out = expand_str(
            Kind::Role,
            quote!("admin"),
            quote! {
                /// Docs stay.
                pub(crate) async fn list(State(db): State<Db>) -> String { db.name() }
            },
        );
        assert!(
            out.contains("pub (crate) struct __authgate_policy_list"),
            "{out}"
        );
        assert!(
            out.contains(
                "pub (crate) async fn list (__authgate_guard : :: authgate :: __private :: Guard < __authgate_policy_list > , State (db) : State < Db >)"
            ),
            "{out}"
        );
        assert!(out.contains("{ db . name () }"), "{out}");
        // The `Policy` impl holds `SPEC` and `HANDLER`, nothing else.
        assert_eq!(out.matches("const ").count(), 2, "{out}");
        assert!(out.contains("Requirement :: Any (& [\"admin\"])"), "{out}");
        assert!(out.contains("doc = r\" Docs stay.\""), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn gathers_stacked_attributes_once() {
        let out = expand_str(
            Kind::Role,
            quote!("admin"),
            quote! {
                #[authgate::require_scope(all("a", "b"))]
                #[tracing::instrument]
                #[require_auth(redirect = "/login")]
                async fn h() {}
            },
        );
        assert_eq!(out.matches("__authgate_guard").count(), 1, "{out}");
        assert!(
            out.contains("# [authgate :: require_scope (__authgate_stacked)]"),
            "{out}"
        );
        assert!(
            out.contains("# [require_auth (__authgate_stacked)]"),
            "{out}"
        );
        assert!(
            out.contains(
                "with_scopes (& [:: authgate :: __private :: Requirement :: All (& [\"a\" , \"b\"])])"
            ),
            "{out}"
        );
        assert!(out.contains("# [tracing :: instrument]"), "{out}");
        assert!(!out.contains("\"a\" , \"b\")]\n"), "{out}");
        assert!(out.contains("with_redirect (\"/login\")"), "{out}");
    }

    #[test]
    fn owned_by_wraps_the_return_type_before_the_where_clause() {
        let out = expand_str(
            Kind::OwnedBy,
            quote!(id),
            quote! {
                async fn h<T>(Path(id): Path<T>) -> Json<Simple> where T: Send { body() }
            },
        );
        assert!(
            out.contains(
                "-> :: authgate :: __private :: Owned < Json < Simple > > where T : Send {"
            ),
            "{out}"
        );
        // Only `impl Trait` skips the fake return; `Simple` merely contains the letters.
        assert!(
            out.contains("__authgate_fake_return : Json < Simple >"),
            "{out}"
        );
        let unit = expand_str(
            Kind::OwnedBy,
            quote!(id),
            quote!(
                async fn h(id: u64) {}
            ),
        );
        assert!(
            unit.contains("-> :: authgate :: __private :: Owned < () > {"),
            "{unit}"
        );
    }

    #[test]
    fn stacked_marker_expands_to_the_item() {
        let item = quote!(
            async fn h(__authgate_guard: G) {}
        );
        assert_eq!(
            expand(Kind::Scope, quote!(__authgate_stacked), item.clone()).to_string(),
            item.to_string()
        );
    }

    #[test]
    fn forged_stacked_marker_is_an_error() {
        let out = expand_str(
            Kind::Role,
            quote!(__authgate_stacked),
            quote!(
                async fn h() {}
            ),
        );
        assert!(out.contains("internal to authgate"), "{out}");
    }

    #[test]
    fn raw_identifiers_are_unraw_in_the_audit() {
        let out = expand_str(
            Kind::Auth,
            quote!(),
            quote!(
                async fn r#type() {}
            ),
        );
        assert!(out.contains("HANDLER : & 'static str = \"type\""), "{out}");
    }

    #[test]
    fn public_policy() {
        let out = expand_str(
            Kind::Public,
            quote!(reason = "health"),
            quote!(
                async fn health() {}
            ),
        );
        assert!(
            out.contains("SpecBuilder :: public (\"health\") . build ()"),
            "{out}"
        );
    }

    #[test]
    fn errors_still_emit_the_handler() {
        let out = expand_str(
            Kind::Role,
            quote!(),
            quote!(
                fn sync_handler(&self) {}
            ),
        );
        assert!(out.contains("fn sync_handler"), "{out}");
        assert!(out.contains("needs a role"), "{out}");
        assert!(out.contains("make this an `async fn`"), "{out}");
        assert!(out.contains("take no `self`"), "{out}");
        // In an impl block no marker struct can be emitted: the method stays as it was.
        assert!(!out.contains("struct"), "{out}");
        assert!(out.contains("fn sync_handler (& self) { }"), "{out}");
    }

    #[test]
    fn public_handlers_check_their_argument_types() {
        let out = expand_str(
            Kind::Public,
            quote!(reason = "home page"),
            quote!(
                async fn home<S>(State(s): State<S>, user: CurrentUser, f: impl Sized)
                where
                    S: Clone,
                {
                }
            ),
        );
        assert!(
            out.contains("fn __authgate_public_args < S > () where S : Clone"),
            "{out}"
        );
        assert!(
            out.contains(
                ":: authgate :: __private :: PublicArg :: < CurrentUser > :: new () . check () ;"
            ),
            "{out}"
        );
        assert!(out.contains("PublicArg :: < State < S > >"), "{out}");
        // `impl Trait` cannot be named outside the signature; it is left out.
        assert!(!out.contains("PublicArg :: < impl"), "{out}");
        // Guarded handlers may take `CurrentUser`: no check there.
        let guarded = expand_str(
            Kind::Auth,
            quote!(),
            quote!(
                async fn me(user: CurrentUser) {}
            ),
        );
        assert!(!guarded.contains("PublicArg"), "{guarded}");
    }

    #[test]
    fn a_handler_without_async_is_emitted_async() {
        let out = expand_str(
            Kind::Auth,
            quote!(),
            quote!(
                pub fn health() -> &'static str {
                    "ok"
                }
            ),
        );
        assert!(out.contains("make this an `async fn`"), "{out}");
        assert!(
            out.contains("pub async fn health (__authgate_guard"),
            "{out}"
        );
        let unsafe_fn = expand_str(
            Kind::Auth,
            quote!(),
            quote!(
                unsafe fn h() {}
            ),
        );
        assert!(unsafe_fn.contains("async unsafe fn h"), "{unsafe_fn}");
    }

    #[test]
    fn free_fn_errors_keep_a_fail_closed_guard() {
        let out = expand_str(
            Kind::Role,
            quote!(),
            quote!(
                fn sync_handler() {}
            ),
        );
        assert!(out.contains("needs a role"), "{out}");
        // A fail-closed guard is still injected, so no cascade of "not an access guard".
        assert!(
            out.contains("SpecBuilder :: authenticated () . build ()"),
            "{out}"
        );
    }

    #[test]
    fn non_fn_items_get_one_error() {
        let out = expand_str(
            Kind::Auth,
            quote!(),
            quote!(
                pub struct S;
            ),
        );
        assert!(out.contains("pub struct S ;"), "{out}");
        assert!(out.contains("applies to async fn handlers"), "{out}");
    }
}
