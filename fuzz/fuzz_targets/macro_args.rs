//! The attribute-argument parser of the macros (`parse::policy_attr`, `validate::policy`)
//! and the whole expansion (`expand::expand`), compiled here from the macros crate's own source
//! files: a proc-macro crate cannot export functions to link against.
//!
//! Input: lines; the first byte of each picks the attribute (`a`uth, `r`ole, `s`cope,
//! `p`ublic, `o`wned_by, else by value), the rest are its arguments as Rust tokens. Lines that
//! do not lex are skipped, as rustc would refuse them before any macro runs.
//!
//! Invariants: never panics; a policy that builds is well-formed (a public handler has a
//! non-blank reason and no guard; names are non-empty, trimmed, without control characters,
//! unique per list, scopes without spaces; a redirect is a same-site path; an owner status is
//! 403 or 404); every expansion, error or not, is valid Rust items.
#![no_main]
#![allow(dead_code)]

#[path = "../../macros/src/expand.rs"]
mod expand;
#[path = "../../macros/src/model.rs"]
mod model;
#[path = "../../macros/src/parse.rs"]
mod parse;
#[path = "../../macros/src/paths.rs"]
mod paths;
#[path = "../../macros/src/validate.rs"]
mod validate;

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use model::{Kind, Policy};
use proc_macro2::{Span, TokenStream};

/// syn and proc-macro2 recurse once per nesting level and do not bound it (rustc grows its
/// stack for them); deeper inputs would only find stack overflows in those crates.
const MAX_DEPTH: usize = 64;

fn kind(first: char) -> Kind {
    match first {
        'a' => Kind::Auth,
        'r' => Kind::Role,
        's' => Kind::Scope,
        'p' => Kind::Public,
        'o' => Kind::OwnedBy,
        other => [
            Kind::Auth,
            Kind::Role,
            Kind::Scope,
            Kind::Public,
            Kind::OwnedBy,
        ][other as usize % 5],
    }
}

fn too_deep(text: &str) -> bool {
    let mut depth = 0usize;
    for b in text.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return true;
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn check_names(list: &[String], scope: bool) {
    for (i, name) in list.iter().enumerate() {
        assert!(!name.is_empty(), "empty name");
        assert_eq!(name.trim(), name, "untrimmed name {name:?}");
        assert!(
            !name.chars().any(char::is_control),
            "control character in {name:?}"
        );
        assert!(!(scope && name.contains(' ')), "space in scope {name:?}");
        assert!(!list[..i].contains(name), "{name:?} twice");
    }
}

fn check_policy(policy: &Policy, kinds: &[Kind]) {
    if let Some(reason) = &policy.public_reason {
        assert!(!reason.trim().is_empty(), "blank public reason");
        assert!(
            kinds.iter().all(|k| *k == Kind::Public),
            "public and guarded: {kinds:?}"
        );
        assert!(policy.roles.is_empty() && policy.scopes.is_empty() && policy.owner.is_none());
    } else {
        assert!(
            !kinds.contains(&Kind::Public),
            "a public attribute without a reason built"
        );
    }
    for (_, names) in &policy.roles {
        assert!(!names.is_empty(), "empty role list");
        check_names(names, false);
    }
    for (_, names) in &policy.scopes {
        assert!(!names.is_empty(), "empty scope list");
        check_names(names, true);
    }
    if let Some(url) = &policy.redirect {
        assert!(url.starts_with('/'), "redirect {url:?}");
        assert!(
            !url.starts_with("//") && !url.starts_with("/\\"),
            "redirect {url:?}"
        );
        assert!(
            !url.chars().any(|c| c.is_control() || c.is_whitespace()),
            "redirect {url:?}"
        );
    }
    if let Some(owner) = &policy.owner {
        assert!(matches!(owner.status, 403 | 404), "status {}", owner.status);
        if let Some((_, names)) = &owner.bypass {
            check_names(names, false);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if too_deep(text) {
        return;
    }
    let mut lines: Vec<(Kind, &str, TokenStream)> = Vec::new();
    for line in text.lines().take(8) {
        let mut chars = line.chars();
        let Some(first) = chars.next() else {
            continue;
        };
        let args = chars.as_str();
        let Ok(tokens) = TokenStream::from_str(args) else {
            continue;
        };
        lines.push((kind(first), args, tokens));
    }
    if lines.is_empty() {
        return;
    }

    // The argument parser and the model, attribute by attribute, then all together.
    let mut attrs = Vec::new();
    let mut kinds = Vec::new();
    for (kind, _, tokens) in &lines {
        if let Ok(attr) = parse::policy_attr(*kind, Span::call_site(), tokens.clone()) {
            if let Ok(policy) = validate::policy(std::slice::from_ref(&attr)) {
                check_policy(&policy, &[*kind]);
            }
            kinds.push(*kind);
            attrs.push(attr);
        }
    }
    if let Ok(policy) = validate::policy(&attrs) {
        check_policy(&policy, &kinds);
    }

    // The whole expansion: the first line is the attribute being expanded, the others are
    // stacked below it on a handler.
    let mut item = String::new();
    for (kind, args, _) in &lines[1..] {
        item.push_str(&format!("#[{}({args})]\n", kind.name()));
    }
    item.push_str("pub async fn handler(id: u32, body: String) -> String { body }");
    let Ok(item) = TokenStream::from_str(&item) else {
        return;
    };
    let (kind, _, args) = &lines[0];
    let output = expand::expand(*kind, args.clone(), item);
    if let Err(e) = syn::parse2::<syn::File>(output.clone()) {
        panic!("the expansion is not valid Rust ({e}):\n{output}");
    }
});
