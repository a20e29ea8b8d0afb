//! Attribute macros of [authgate](https://docs.rs/authgate). Use them through the `authgate`
//! crate, which re-exports them and provides the runtime they expand to.
//!
//! Each entry point is one line; the work happens on `proc_macro2` tokens in `expand`, so it
//! can be unit-tested: parse the handler and every authgate attribute on it (`parse`, into the
//! data types of `model`), check them all and collect every error (`validate`), then emit one
//! guard (`expand`).

mod expand;
mod model;
mod parse;
mod paths;
mod validate;

use proc_macro::TokenStream;

/// Requires any valid credential. `#[require_auth(redirect = "/login")]` sends anonymous page
/// visitors to the login page (303) instead of answering 401.
///
/// `credentials = "cookie"` (or `"bearer"`, or `any("bearer", "cookie")`), on this attribute
/// or on `require_role`/`require_scope`, narrows the credential kinds the handler accepts: a
/// credential of another kind is not examined, as if the request did not carry it. A page
/// that takes only the session cookie cannot be reached with a bearer token, which skips the
/// origin check. The route audit and the OpenAPI document show the kinds.
#[proc_macro_attribute]
pub fn require_auth(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(model::Kind::Auth, args.into(), item.into()).into()
}

/// Requires a role: `#[require_role("admin")]`, `#[require_role(any("admin", "billing"))]`,
/// `#[require_role(all("staff", "billing"))]`. Implies authentication. Takes `redirect` and
/// `credentials` as `require_auth` does.
#[proc_macro_attribute]
pub fn require_role(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(model::Kind::Role, args.into(), item.into()).into()
}

/// Requires a scope: `#[require_scope("invoices:write")]`, with the same `any`/`all` forms as
/// `require_role`. Implies authentication.
#[proc_macro_attribute]
pub fn require_scope(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(model::Kind::Scope, args.into(), item.into()).into()
}

/// Opens a handler to anonymous callers: `#[public(reason = "load-balancer health check")]`.
/// The reason is required and shows in the route audit.
#[proc_macro_attribute]
pub fn public(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(model::Kind::Public, args.into(), item.into()).into()
}

/// Requires that the caller owns the resource: `#[owned_by(user_id)]` names an argument
/// binding, `#[owned_by(invoice.user_id)]` a field of one. A mismatch answers 404 with the
/// bytes of a missing resource (`status = 403` to say so instead); `or_role = "admin"` (or
/// `any(..)`/`all(..)`) lets those roles pass. Implies authentication; the check runs before
/// the first statement of the body.
#[proc_macro_attribute]
pub fn owned_by(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(model::Kind::OwnedBy, args.into(), item.into()).into()
}
