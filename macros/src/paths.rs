//! Every path the generated code names, in one place. Generated code reaches the runtime only
//! through `::authgate::__private`, so users need no `axum` or `serde` under a given name.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

pub(crate) fn guard() -> TokenStream {
    quote!(::authgate::__private::Guard)
}

pub(crate) fn policy_trait() -> TokenStream {
    quote!(::authgate::__private::Policy)
}

pub(crate) fn policy_spec() -> TokenStream {
    quote!(::authgate::__private::PolicySpec)
}

pub(crate) fn spec_builder() -> TokenStream {
    quote!(::authgate::__private::SpecBuilder)
}

pub(crate) fn requirement() -> TokenStream {
    quote!(::authgate::__private::Requirement)
}

pub(crate) fn credential_kind() -> TokenStream {
    quote!(::authgate::__private::CredentialKind)
}

pub(crate) fn option() -> TokenStream {
    quote!(::core::option::Option)
}

pub(crate) fn ownership() -> TokenStream {
    quote!(::authgate::__private::Ownership)
}

pub(crate) fn owned() -> TokenStream {
    quote!(::authgate::__private::Owned)
}

/// Spanned at `span` (the argument's type), so that a failed check underlines that type.
pub(crate) fn public_arg(span: Span) -> TokenStream {
    quote_spanned!(span=> ::authgate::__private::PublicArg)
}

pub(crate) fn public_arg_ok() -> TokenStream {
    quote!(::authgate::__private::PublicArgOk)
}
