//! What one policy means for the callers of one operation: the credentials that pass, the
//! refusals it can answer with, and the sentence a reader sees. Independent of any OpenAPI
//! library, so the document writer only translates.

use crate::credentials::CredentialKind;
use crate::gate::Gate;
use crate::policy::{PolicySpec, Requirement};
use crate::reject::{Rejection, RejectionKind};
use crate::sessions::SessionKind;

/// The name of the bearer-token security scheme in `components.securitySchemes`.
pub(crate) const BEARER_SCHEME: &str = "bearerAuth";
/// The name of the session-cookie security scheme in `components.securitySchemes`.
pub(crate) const COOKIE_SCHEME: &str = "sessionCookie";
/// The name of the rejection body's schema in `components.schemas`.
pub(crate) const REJECTION_SCHEMA: &str = "AuthgateRejection";
/// The name of the `openIdConnect` security scheme of the Gate's first issuer configured with
/// `oidc_issuer`; the others are `openIdConnect2`, `openIdConnect3`, ..
pub(crate) const OIDC_SCHEME: &str = "openIdConnect";

/// The name of the `openIdConnect` security scheme of the `index`th (from 0) issuer with
/// discovery.
pub(crate) fn oidc_scheme(index: usize) -> String {
    match index {
        0 => OIDC_SCHEME.to_owned(),
        n => format!("{OIDC_SCHEME}{}", n + 1),
    }
}

/// Every `error` code a rejection body can carry (`Rejection::code`).
pub(crate) const REJECTION_CODES: &[&str] = &[
    "unauthenticated",
    "invalid_token",
    "forbidden",
    "not_found",
    "redirect",
    "unavailable",
    "internal_error",
];

/// What the Gate accepts and what it depends on: the facts the document needs from it.
#[derive(Clone, Debug)]
pub(crate) struct GateFacts {
    pub(crate) realm: String,
    /// Bearer tokens, when the Gate has an issuer (without one, every token is refused).
    pub(crate) bearer: bool,
    /// The session cookie's name, when the Gate accepts one.
    pub(crate) cookie: Option<String>,
    /// Server-side sessions (a store that can be down), as opposed to stateless cookies.
    pub(crate) session_store: bool,
    /// Keys fetched from an issuer (which can be down).
    pub(crate) key_source: bool,
    /// Revocations (whose view can be stale: bearer tokens and stateless cookies get 503).
    pub(crate) revocations: bool,
    /// The OpenID Connect Discovery URLs of the issuers configured with `Issuer::discover`.
    pub(crate) discovery: Vec<String>,
}

impl GateFacts {
    pub(crate) fn of(gate: &Gate) -> Self {
        let sessions = gate.session_settings();
        let issuers = gate.issuers();
        GateFacts {
            realm: gate.realm().to_owned(),
            bearer: issuers.iter().next().is_some(),
            cookie: sessions.map(|s| s.cookie.clone()),
            session_store: sessions.is_some_and(|s| matches!(s.kind, SessionKind::Server(_))),
            key_source: issuers.any_fetched(),
            revocations: gate.has_revocations(),
            discovery: issuers
                .iter()
                .filter_map(|entry| entry.discovery_url().map(str::to_owned))
                .collect(),
        }
    }

    /// What a route with this policy can meet of the Gate: the credential kinds it does not
    /// accept are as if the Gate had none (no scheme, no refusal of theirs).
    pub(crate) fn for_route(&self, spec: &PolicySpec) -> GateFacts {
        let bearer = spec.accepts(CredentialKind::Bearer);
        let cookie = spec.accepts(CredentialKind::Cookie);
        GateFacts {
            realm: self.realm.clone(),
            bearer: self.bearer && bearer,
            cookie: self.cookie.clone().filter(|_| cookie),
            session_store: self.session_store && cookie,
            key_source: self.key_source && bearer,
            revocations: self.revocations && (bearer || cookie),
            discovery: if bearer {
                self.discovery.clone()
            } else {
                Vec::new()
            },
        }
    }

    /// Whether a guarded route can answer 503 because a dependency of authentication is down.
    fn can_be_unavailable(&self) -> bool {
        self.key_source || self.session_store || self.revocations
    }

    /// The discovery URLs of the identity providers the Gate verifies tokens for, each
    /// written as an `openIdConnect` security scheme (see [`oidc_scheme`] for the names).
    pub(crate) fn openid_connect_urls(&self) -> &[String] {
        &self.discovery
    }
}

/// A header a refusal carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefusalHeader {
    /// `WWW-Authenticate: Bearer realm="..."`; `always` is false where only bearer callers
    /// get it (403 `insufficient_scope`).
    WwwAuthenticate { always: bool },
    /// `Location` of a login redirect.
    Location,
    /// `Cache-Control: no-store`, on every rejection.
    CacheControl,
}

/// One refusal an operation can answer with: its status, why, and what it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) description: String,
    /// The rejection of the body's example.
    pub(crate) example: RejectionKind,
    pub(crate) headers: Vec<RefusalHeader>,
}

impl Refusal {
    /// The body authgate sends (by default), as the response's example.
    pub(crate) fn example_body(&self) -> serde_json::Value {
        let rejection = Rejection::new(self.example.clone(), "");
        serde_json::json!({ "error": rejection.code(), "message": rejection.message() })
    }
}

/// Whether the guard checks the origin of a cookie-authenticated request of this method
/// (`ANY`: a `routing::any` route, checked on every method).
fn state_changing(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// The refusals the guard of `spec` can answer a `method` request with, by status.
///
/// Only what authgate itself answers: the app documents its own answers (a 404 of its own, a
/// 409, a 503 of its database) on the operation, and they are kept.
pub(crate) fn refusals(spec: &PolicySpec, method: &str, gate: &GateFacts) -> Vec<Refusal> {
    use RefusalHeader::{CacheControl, Location, WwwAuthenticate};
    if !spec.requires_authentication() {
        return Vec::new();
    }
    let mut out = Vec::new();
    match spec.redirect() {
        Some(login) => out.push(Refusal {
            status: 303,
            description: format!(
                "Not logged in (no credential, or an invalid or expired one): sent to the \
                 login page `{login}`, with the page to come back to in `next` (this one for `GET`, \
                 the page that sent a form for other methods)."
            ),
            example: RejectionKind::Redirect {
                location: login.to_owned(),
            },
            headers: vec![Location, CacheControl],
        }),
        None => out.push(Refusal {
            status: 401,
            description: "No credential, or an invalid or expired one.".to_owned(),
            example: RejectionKind::Unauthenticated,
            headers: vec![WwwAuthenticate { always: true }, CacheControl],
        }),
    }
    let mut forbidden = Vec::new();
    if !spec.roles().is_empty() || !spec.scopes().is_empty() {
        forbidden.push("the caller lacks a required role or scope");
    }
    if gate.cookie.is_some() && state_changing(method) {
        forbidden.push("a session-cookie request from another origin (CSRF)");
    }
    if spec.owner_status() == Some(403) {
        forbidden.push("the caller does not own the resource");
    }
    if !forbidden.is_empty() {
        let mut description = forbidden.join("; ");
        capitalize(&mut description);
        description.push('.');
        let roles_or_scopes = !spec.roles().is_empty() || !spec.scopes().is_empty();
        let mut headers = vec![CacheControl];
        if roles_or_scopes && gate.bearer {
            headers.insert(0, WwwAuthenticate { always: false });
        }
        out.push(Refusal {
            status: 403,
            description,
            example: RejectionKind::Forbidden {
                bearer: false,
                scopes: None,
            },
            headers,
        });
    }
    if spec.owner_status() == Some(404) {
        out.push(Refusal {
            status: 404,
            description: "The resource does not exist or belongs to someone else (one answer \
                          for both)."
                .to_owned(),
            example: RejectionKind::NotFound,
            headers: vec![CacheControl],
        });
    }
    if gate.can_be_unavailable() {
        let parts = [
            (gate.key_source, "the key source"),
            (gate.session_store, "the session store"),
            (gate.revocations, "the revocation store"),
        ];
        let names: Vec<&str> = parts
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| *n)
            .collect();
        let what = match names.as_slice() {
            [one] => (*one).to_owned(),
            [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
            [] => "a dependency of authentication".to_owned(),
        };
        let mut what = what;
        if let Some(first) = what.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        out.push(Refusal {
            status: 503,
            description: format!("{what} is unavailable; try again later."),
            example: RejectionKind::Unavailable,
            headers: vec![CacheControl],
        });
    }
    out
}

fn capitalize(text: &mut String) {
    if let Some(first) = text.get(..1) {
        let upper = first.to_ascii_uppercase();
        text.replace_range(..1, &upper);
    }
}

/// The security requirements of `spec`: the alternatives, any one of which lets a caller in.
/// Each alternative is one scheme with the scopes the token must carry. Empty for `#[public]`
/// (OpenAPI's `security: []`, which overrides a document-wide requirement).
///
/// `any(a, b)` becomes one alternative per name; stacked requirements all hold, so their
/// alternatives multiply: `any(a, b)` + `c` is `[a, c]` or `[b, c]`.
pub(crate) fn requirements(spec: &PolicySpec, gate: &GateFacts) -> Vec<(String, Vec<String>)> {
    if !spec.requires_authentication() {
        return Vec::new();
    }
    let alternatives = expand(spec.scopes());
    let mut schemes = Vec::new();
    if gate.bearer {
        schemes.push(BEARER_SCHEME.to_owned());
    }
    if gate.cookie.is_some() {
        schemes.push(COOKIE_SCHEME.to_owned());
    }
    schemes.extend((0..gate.openid_connect_urls().len()).map(oidc_scheme));
    schemes
        .into_iter()
        .flat_map(|scheme| {
            alternatives
                .iter()
                .map(move |scopes| (scheme.clone(), scopes.clone()))
        })
        .collect()
}

/// Every set of names that satisfies all of `requirements`, each sorted, without repeats.
fn expand(requirements: &[Requirement]) -> Vec<Vec<String>> {
    let mut alternatives: Vec<Vec<String>> = vec![Vec::new()];
    for requirement in requirements {
        alternatives = match requirement {
            Requirement::All(names) => alternatives
                .into_iter()
                .map(|mut alt| {
                    alt.extend(names.iter().map(|n| (*n).to_owned()));
                    alt
                })
                .collect(),
            Requirement::Any(names) => alternatives
                .iter()
                .flat_map(|alt| {
                    names.iter().map(move |name| {
                        let mut alt = alt.clone();
                        alt.push((*name).to_owned());
                        alt
                    })
                })
                .collect(),
        };
    }
    for alt in &mut alternatives {
        alt.sort();
        alt.dedup();
    }
    alternatives.sort();
    alternatives.dedup();
    alternatives
}

/// The roles as JSON for `x-authgate-roles`: one object per requirement, every one must hold:
/// `[{"any": ["staff", "billing"]}, {"all": ["a", "b"]}]`.
pub(crate) fn roles_json(requirements: &[Requirement]) -> serde_json::Value {
    requirements
        .iter()
        .map(|r| {
            let mode = match r {
                Requirement::Any(_) => "any",
                Requirement::All(_) => "all",
            };
            serde_json::json!({ mode: r.names() })
        })
        .collect()
}

/// The access rule in words, for the operation's description: ``Access: a valid credential
/// with role `admin`. authgate policy: `require_role(admin)`.`` or `Public: health check.`
pub(crate) fn sentence(spec: &PolicySpec) -> String {
    if let Some(reason) = spec.public_reason() {
        return format!("Public: {reason}.");
    }
    let mut text = "Access: a valid credential".to_owned();
    let mut clauses = Vec::new();
    clauses.extend(spec.roles().iter().map(|r| words("role", r)));
    clauses.extend(spec.scopes().iter().map(|r| words("scope", r)));
    if !clauses.is_empty() {
        text.push_str(" with ");
        text.push_str(&clauses.join(" and "));
    }
    if let Some(path) = spec.owner() {
        text.push_str(&format!("; only the owner (`{path}`)"));
        if let Some(bypass) = spec.owner_bypass() {
            text.push_str(&format!(" or a caller with {}", words("role", bypass)));
        }
    }
    if let Some(login) = spec.redirect() {
        text.push_str(&format!("; anonymous visitors are sent to `{login}`"));
    }
    text.push_str(&format!(". authgate policy: `{spec}`."));
    text
}

/// `role admin`, `any of the roles staff, billing`, `all of the scopes a, b`.
fn words(kind: &str, requirement: &Requirement) -> String {
    let quoted: Vec<String> = requirement
        .names()
        .iter()
        .map(|n| format!("`{n}`"))
        .collect();
    match (requirement, quoted.as_slice()) {
        (_, [one]) => format!("{kind} {one}"),
        (Requirement::Any(_), _) => format!("any of the {kind}s {}", quoted.join(", ")),
        (Requirement::All(_), _) => format!("all of the {kind}s {}", quoted.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::spec::{Ownership, SpecBuilder};

    fn gate(cookie: bool, store: bool, key_source: bool) -> GateFacts {
        GateFacts {
            realm: "api".to_owned(),
            bearer: true,
            cookie: cookie.then(|| "session".to_owned()),
            session_store: store,
            key_source,
            revocations: false,
            discovery: Vec::new(),
        }
    }

    fn statuses(spec: &PolicySpec, method: &str, facts: &GateFacts) -> Vec<u16> {
        refusals(spec, method, facts)
            .iter()
            .map(|r| r.status)
            .collect()
    }

    #[test]
    fn the_schema_lists_every_code_a_rejection_can_carry() {
        let kinds = [
            RejectionKind::Unauthenticated,
            RejectionKind::InvalidToken,
            RejectionKind::InvalidRequest,
            RejectionKind::Forbidden {
                bearer: true,
                scopes: None,
            },
            RejectionKind::CrossOrigin,
            RejectionKind::NotFound,
            RejectionKind::Redirect {
                location: "/".to_owned(),
            },
            RejectionKind::Unavailable,
            RejectionKind::Misconfigured,
        ];
        let codes: std::collections::BTreeSet<&str> = kinds
            .into_iter()
            .map(|kind| Rejection::new(kind, "r").code())
            .collect();
        let listed: std::collections::BTreeSet<&str> = REJECTION_CODES.iter().copied().collect();
        assert_eq!(codes, listed);
    }

    #[test]
    fn refusals_follow_the_policy_and_the_gate() {
        let auth = PolicySpec::authenticated();
        let bearer_only = gate(false, false, false);
        assert_eq!(statuses(&auth, "GET", &bearer_only), [401]);
        assert_eq!(statuses(&auth, "POST", &bearer_only), [401]);
        // A cookie makes state changes subject to the origin check; a store can be down.
        let sessions = gate(true, true, false);
        assert_eq!(statuses(&auth, "GET", &sessions), [401, 503]);
        assert_eq!(statuses(&auth, "DELETE", &sessions), [401, 403, 503]);
        // Every method of a `routing::any` route, GET included.
        assert_eq!(statuses(&auth, "ANY", &sessions), [401, 403, 503]);
        assert_eq!(
            statuses(&auth, "GET", &gate(false, false, true)),
            [401, 503]
        );
        // Stateless cookies ask no store.
        assert_eq!(statuses(&auth, "GET", &gate(true, false, false)), [401]);
        // A revocation view can be stale.
        let revocable = GateFacts {
            revocations: true,
            ..gate(false, false, false)
        };
        assert_eq!(statuses(&auth, "GET", &revocable), [401, 503]);
        let all = GateFacts {
            revocations: true,
            ..gate(true, true, true)
        };
        let unavailable = refusals(&auth, "GET", &all).pop().expect("a 503");
        assert_eq!(
            unavailable.description,
            "The key source, the session store or the revocation store is unavailable; try again later."
        );

        const ADMIN: PolicySpec = SpecBuilder::authenticated()
            .with_roles(&[Requirement::Any(&["admin"])])
            .build();
        assert_eq!(statuses(&ADMIN, "GET", &bearer_only), [401, 403]);
        const OWNED: PolicySpec = SpecBuilder::authenticated()
            .with_ownership(Ownership {
                path: "invoice.user_id",
                status: 404,
                bypass: None,
            })
            .build();
        assert_eq!(statuses(&OWNED, "GET", &bearer_only), [401, 404]);
        const OWNED_403: PolicySpec = SpecBuilder::authenticated()
            .with_ownership(Ownership {
                path: "id",
                status: 403,
                bypass: None,
            })
            .build();
        assert_eq!(statuses(&OWNED_403, "GET", &bearer_only), [401, 403]);
        const PAGE: PolicySpec = SpecBuilder::authenticated().with_redirect("/login").build();
        assert_eq!(statuses(&PAGE, "GET", &bearer_only), [303]);
        assert!(refusals(&PolicySpec::public("health"), "POST", &sessions).is_empty());
    }

    #[test]
    fn the_challenge_is_certain_on_401_and_bearer_only_on_403() {
        let facts = gate(true, false, false);
        const SCOPED: PolicySpec = SpecBuilder::authenticated()
            .with_scopes(&[Requirement::Any(&["a:b"])])
            .build();
        let all = refusals(&SCOPED, "POST", &facts);
        assert_eq!(
            all[0].headers,
            [
                RefusalHeader::WwwAuthenticate { always: true },
                RefusalHeader::CacheControl
            ]
        );
        assert_eq!(
            all[1].headers[0],
            RefusalHeader::WwwAuthenticate { always: false }
        );
        // A CSRF refusal alone carries no challenge.
        let csrf = refusals(&PolicySpec::authenticated(), "POST", &facts);
        assert_eq!(csrf[1].headers, [RefusalHeader::CacheControl]);
    }

    #[test]
    fn scope_alternatives_multiply() {
        const SPEC: PolicySpec = SpecBuilder::authenticated()
            .with_scopes(&[Requirement::Any(&["a", "b"]), Requirement::All(&["d", "c"])])
            .build();
        let facts = gate(true, false, false);
        let reqs = requirements(&SPEC, &facts);
        let expected = |s: &str| {
            [
                (s.to_owned(), vec!["a".to_owned(), "c".into(), "d".into()]),
                (s.to_owned(), vec!["b".to_owned(), "c".into(), "d".into()]),
            ]
        };
        let mut all = expected(BEARER_SCHEME).to_vec();
        all.extend(expected(COOKIE_SCHEME));
        assert_eq!(reqs, all);
        assert!(requirements(&PolicySpec::public("x"), &facts).is_empty());
        assert_eq!(
            requirements(&PolicySpec::authenticated(), &gate(false, false, false)),
            [(BEARER_SCHEME.to_owned(), vec![])]
        );
        // One alternative more per identity provider with discovery.
        let providers = GateFacts {
            discovery: vec!["https://a/.well-known/openid-configuration".into(); 2],
            ..gate(false, false, false)
        };
        let names: Vec<String> = requirements(&PolicySpec::authenticated(), &providers)
            .into_iter()
            .map(|(scheme, _)| scheme)
            .collect();
        assert_eq!(names, [BEARER_SCHEME, OIDC_SCHEME, "openIdConnect2"]);
    }

    #[test]
    fn sentences_name_every_rule() {
        const SPEC: PolicySpec = SpecBuilder::authenticated()
            .with_roles(&[Requirement::Any(&["staff", "billing"])])
            .with_scopes(&[Requirement::Any(&["invoices:write"])])
            .with_ownership(Ownership {
                path: "invoice.user_id",
                status: 404,
                bypass: Some(Requirement::Any(&["admin"])),
            })
            .build();
        assert_eq!(
            sentence(&SPEC),
            "Access: a valid credential with any of the roles `staff`, `billing` and scope \
             `invoices:write`; only the owner (`invoice.user_id`) or a caller with role \
             `admin`. authgate policy: `require_role(any(staff, billing)) + \
             require_scope(invoices:write) + owned_by(invoice.user_id, or_role = admin)`."
        );
        assert_eq!(
            sentence(&PolicySpec::public("health check")),
            "Public: health check."
        );
        assert_eq!(
            roles_json(&[Requirement::Any(&["a"]), Requirement::All(&["b", "c"])]),
            serde_json::json!([{"any": ["a"]}, {"all": ["b", "c"]}])
        );
    }
}
