//! Every path the generated code names, in one place. Generated code reaches the runtime only
//! through `::authgate::__private`, so users need no `axum` or `serde` under a given name.

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn guard() -> TokenStream {
    quote!(::authgate::__private::Guard)
}

pub(crate) fn policy_trait() -> TokenStream {
    quote!(::authgate::__private::Policy)
}

pub(crate) fn policy_spec() -> TokenStream {
    quote!(::authgate::__private::PolicySpec)
}

pub(crate) fn requirement() -> TokenStream {
    quote!(::authgate::__private::Requirement)
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
