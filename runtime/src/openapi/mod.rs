//! OpenAPI (feature `utoipa`): every route's security and refusals, written into the app's
//! utoipa document from the same policies the guards enforce, and the drift between the
//! document and the router.
//!
//! One call after the app built its document (with `#[derive(OpenApi)]`, utoipa-axum's
//! `OpenApiRouter`, or by hand):
//!
//! ```
//! use authgate::{CurrentUser, Gate, Router, public, require_auth, require_role, routing::get};
//! use utoipa::openapi::{HttpMethod, OpenApiBuilder, PathItem, PathsBuilder};
//! use utoipa::openapi::path::OperationBuilder;
//!
//! #[public(reason = "load-balancer health check")]
//! async fn health() -> &'static str { "ok" }
//! #[require_role("admin")]
//! async fn users() -> &'static str { "[]" }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let gate = Gate::builder()
//!     .issuer(authgate::issuers::Issuer::new("https://api.example.com").secret("an HMAC secret of at least 32 bytes!!"))
//!     .build()?;
//! let app: Router<Gate> = Router::new()
//!     .route("/health", get(health))
//!     .route("/admin/users", get(users));
//!
//! // The app's own document (here by hand; usually `#[derive(OpenApi)]`).
//! let op = || OperationBuilder::new().response("200", utoipa::openapi::Response::new("ok"));
//! let mut doc = OpenApiBuilder::new()
//!     .paths(PathsBuilder::new()
//!         .path("/health", PathItem::new(HttpMethod::Get, op()))
//!         .path("/admin/users", PathItem::new(HttpMethod::Get, op())))
//!     .build();
//!
//! let drift = authgate::openapi::apply(&mut doc, &app.audit(), &gate);
//! assert!(drift.is_empty(), "{drift}"); // a CI test fails on a route without documentation
//!
//! let json: serde_json::Value = serde_json::from_str(&doc.to_json()?)?;
//! let users = &json["paths"]["/admin/users"]["get"];
//! assert_eq!(users["security"], serde_json::json!([{"bearerAuth": []}]));
//! assert_eq!(users["x-authgate-roles"], serde_json::json!([{"any": ["admin"]}]));
//! assert!(users["responses"]["401"]["headers"]["WWW-Authenticate"].is_object());
//! assert!(users["responses"]["403"].is_object());
//! assert_eq!(json["paths"]["/health"]["get"]["security"], serde_json::json!([]));
//! # Ok(()) }
//! ```
//!
//! What is written to each operation that a route serves (matched by method and path
//! template; an `any` route matches every method the document lists at its path):
//!
//! - `security`: one requirement per way in. `bearerAuth` (when the Gate has an issuer)
//!   with the scopes the policy requires, and `sessionCookie` with the same scopes when the Gate accepts a session
//!   cookie. `any(a, b)` is one requirement per name. `#[public]` gets `security: []`, the
//!   reason in `x-authgate-public` and in the description.
//! - the refusals authgate answers with, each with the `AuthgateRejection` body and
//!   `Cache-Control`: 401 with `WWW-Authenticate` (or 303 with `Location` for
//!   `redirect = ".."`), 403 where roles, scopes, the cookie origin check (state-changing
//!   methods) or `#[owned_by(.., status = 403)]` apply, 404 where `#[owned_by]` applies, 503
//!   where the Gate depends on fetched keys, a session store or revocations. A status the app already
//!   documents keeps its description and bodies; authgate's case is added to the description,
//!   its headers where missing, and its `application/json` body next to the bodies the app
//!   describes (not to an answer without a body: OpenAPI cannot mark a body optional).
//! - roles, which OpenAPI has no field for: `x-authgate-roles`
//!   (`[{"any": ["admin"]}]`, every entry must hold) and the description; the audit form of
//!   the whole policy in `x-authgate-policy`.
//!
//! `components.securitySchemes` gets `bearerAuth` (`http`, `bearer`, `bearerFormat: JWT`)
//! when the Gate has an issuer (a Gate of session cookies only refuses every bearer token);
//! with sessions, `sessionCookie` (`apiKey` in `cookie`, named as the Gate's cookie); and for
//! each issuer configured with [`Issuer::discover`](crate::issuers::Issuer::discover) (feature
//! `oidc`), an `openIdConnect` scheme with its discovery URL (`openIdConnect`,
//! `openIdConnect2`, ..), which every guarded operation lists as one more way in, with the
//! same scopes. `components.schemas` gets `AuthgateRejection` unless the app defines it: an
//! app whose Gate renders rejections its own way (`render_rejection`) describes its body
//! there.
//!
//! # Serving it, and keeping it true
//!
//! Apply the policies once at start, from the router's audit before the state is given, and
//! serve the JSON from a `#[public]` handler; the
//! [API quick start](crate::guide::api_behind_an_identity_provider) shows the route. Then a
//! test that fails on drift keeps the document and the router together:
//!
//! ```
//! # use authgate::{Gate, Router, public, routing::get};
//! # use utoipa::openapi::{HttpMethod, OpenApiBuilder, PathItem, PathsBuilder};
//! # use utoipa::openapi::path::OperationBuilder;
//! # #[public(reason = "load-balancer health check")]
//! # async fn health() -> &'static str { "ok" }
//! # fn routes() -> Router<Gate> { Router::new().route("/health", get(health)) }
//! # fn api_doc() -> utoipa::openapi::OpenApi {
//! #     let op = OperationBuilder::new().response("200", utoipa::openapi::Response::new("ok"));
//! #     OpenApiBuilder::new().paths(PathsBuilder::new().path("/health", PathItem::new(HttpMethod::Get, op))).build()
//! # }
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let gate = Gate::builder()
//! #     .issuer(authgate::issuers::Issuer::new("https://api.example.com").secret("an HMAC secret of at least 32 bytes!!"))
//! #     .build()?;
//! // In a test: every route documented, every documented operation routed.
//! let mut doc = api_doc(); // `ApiDoc::openapi()` with utoipa's derive
//! let drift = authgate::openapi::apply(&mut doc, &routes().audit(), &gate);
//! assert!(drift.is_empty(), "{drift}");
//! # Ok(()) }
//! ```
//!
//! Scopes in the requirement arrays: OpenAPI 3.1 lets the array of a non-OAuth scheme list
//! "role names"; authgate lists the scopes a token must carry there, because they are what a
//! client must ask its token issuer for, and keeps roles (which an `any`/`all` list cannot
//! say in an array) in `x-authgate-roles`.

mod model;

use std::collections::BTreeSet;
use std::fmt;

use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, OpenIdConnect, SecurityRequirement,
    SecurityScheme,
};
use utoipa::openapi::{Components, ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

use crate::gate::Gate;
use crate::router::{RouteAudit, RoutePolicy};

use model::{BEARER_SCHEME, COOKIE_SCHEME, GateFacts, REJECTION_SCHEMA, RefusalHeader};

/// Writes every route's security and refusals into `doc`, and returns the drift: routes the
/// document does not describe, and operations no route serves.
///
/// Applying twice gives the same document. See the [module](self) documentation for what is
/// written and an example.
///
/// ```
/// use authgate::{Gate, Router, require_auth, routing::{get, post}};
/// use authgate::issuers::Issuer;
/// use utoipa::openapi::{HttpMethod, OpenApiBuilder, PathItem, PathsBuilder, Response};
/// use utoipa::openapi::path::OperationBuilder;
///
/// #[require_auth]
/// async fn list() -> &'static str { "[]" }
/// #[require_auth]
/// async fn create() -> &'static str { "{}" }
///
/// # fn main() -> Result<(), authgate::ConfigError> {
/// let gate = Gate::builder()
///     .issuer(Issuer::new("https://api.example.com").secret("an HMAC secret of at least 32 bytes!!"))
///     .build()?;
/// let app: Router<Gate> = Router::new().route("/items", get(list).post(create));
/// let mut doc = OpenApiBuilder::new()
///     .paths(PathsBuilder::new().path(
///         "/items",
///         PathItem::new(HttpMethod::Get, OperationBuilder::new().response("200", Response::new("the items"))),
///     ))
///     .build();
/// let drift = authgate::openapi::apply(&mut doc, &app.audit(), &gate);
/// assert_eq!(drift.to_string(), "route without documentation: POST /items require_auth\n");
/// # Ok(()) }
/// ```
pub fn apply(doc: &mut OpenApi, audit: &RouteAudit, gate: &Gate) -> Drift {
    let facts = GateFacts::of(gate);
    add_components(doc, &facts);
    let policies: Vec<&RoutePolicy> = audit.iter().collect();
    walk(doc, &policies, |operation, route, method| {
        document(operation, route, method, &facts);
    })
}

/// Calls `visit` with every operation of `doc` that a route serves, and returns the drift.
fn walk(
    doc: &mut OpenApi,
    policies: &[&RoutePolicy],
    mut visit: impl FnMut(&mut Operation, &RoutePolicy, &'static str),
) -> Drift {
    let mut drift = Drift::default();
    let mut served = BTreeSet::new();
    for route in policies.iter().filter(|r| is_operation(r)) {
        let mut matched = false;
        for (path, item) in doc.paths.paths.iter_mut() {
            if !path_matches(route.path(), path) {
                continue;
            }
            for (method, operation) in operations_mut(item) {
                if route.method() == "ANY" || route.method() == "*" || route.method() == method {
                    visit(operation, route, method);
                    served.insert((method, path.clone()));
                    matched = true;
                }
            }
        }
        if !matched {
            drift.undocumented.push((*route).clone());
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, _) in operations_mut(item) {
            if !served.contains(&(method, path.clone())) {
                drift.unrouted.push((method.to_owned(), path.clone()));
            }
        }
    }
    drift
}

/// The difference between a router and its OpenAPI document, for a CI test that fails when
/// they drift apart (`assert!(drift.is_empty(), "{drift}")`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Drift {
    /// Routes of the router that no operation of the document describes. The fallback is not
    /// an operation and never shows here.
    pub undocumented: Vec<RoutePolicy>,
    /// Operations of the document (`METHOD`, path) that no route of the router serves.
    pub unrouted: Vec<(String, String)>,
}

impl Drift {
    /// True when the document describes exactly the router's routes.
    pub fn is_empty(&self) -> bool {
        self.undocumented.is_empty() && self.unrouted.is_empty()
    }
}

/// One line per mismatch: `route without documentation: POST /items require_auth`, or
/// `operation without a route: GET /old`.
impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for route in &self.undocumented {
            writeln!(f, "route without documentation: {route}")?;
        }
        for (method, path) in &self.unrouted {
            writeln!(f, "operation without a route: {method} {path}")?;
        }
        Ok(())
    }
}

/// The fallback (`*` at `*`) answers paths that are not routes: it is not an operation.
fn is_operation(route: &RoutePolicy) -> bool {
    route.path() != "*"
}

/// Whether the router's path template `route` is the document's `path`. axum writes a
/// wildcard `{*rest}` where OpenAPI writes `{rest}`; a nested service (`/assets/*`) matches
/// every path under its prefix.
fn path_matches(route: &str, path: &str) -> bool {
    if let Some(prefix) = route.strip_suffix("/*") {
        return path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    }
    route.replace("{*", "{") == path
}

/// The operations of a path item, with their methods as the router labels them.
fn operations_mut(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("GET", &mut item.get),
        ("PUT", &mut item.put),
        ("POST", &mut item.post),
        ("DELETE", &mut item.delete),
        ("OPTIONS", &mut item.options),
        ("HEAD", &mut item.head),
        ("PATCH", &mut item.patch),
        ("TRACE", &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_mut().map(|op| (method, op)))
    .collect()
}

/// Writes one route's policy into one operation.
fn document(operation: &mut Operation, route: &RoutePolicy, method: &str, gate: &GateFacts) {
    let spec = route.policy();
    let gate = &gate.for_route(spec);
    let security = model::requirements(spec, gate)
        .into_iter()
        .map(|(scheme, scopes)| SecurityRequirement::new(scheme, scopes))
        .collect();
    operation.security = Some(security);

    let extensions = operation.extensions.get_or_insert_with(Extensions::default);
    extensions.insert("x-authgate-policy".to_owned(), spec.to_string().into());
    match spec.public_reason() {
        Some(reason) => {
            extensions.insert("x-authgate-public".to_owned(), reason.into());
        }
        None if !spec.roles().is_empty() => {
            extensions.insert(
                "x-authgate-roles".to_owned(),
                model::roles_json(spec.roles()),
            );
        }
        None => {}
    }

    let sentence = model::sentence(spec);
    match &mut operation.description {
        Some(text) if text.contains(&sentence) => {}
        Some(text) if !text.is_empty() => text.push_str(&format!("\n\n{sentence}")),
        other => *other = Some(sentence),
    }

    // A `routing::any` route's handler cannot tell a safe method from a state change: the
    // guard checks a cookie's origin on every method there.
    let method = if route.method() == "ANY" {
        "ANY"
    } else {
        method
    };
    for refusal in model::refusals(spec, method, gate) {
        let status = refusal.status.to_string();
        // The body authgate renders by default: none for a redirect (its `Location` is the
        // answer), a small HTML page for the other refusals of a page route, JSON otherwise.
        let body = match (refusal.status, spec.redirect()) {
            (303, _) => None,
            (_, Some(_)) => Some((
                "text/html; charset=utf-8",
                ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
                    .build(),
            )),
            (_, None) => Some((
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(REJECTION_SCHEMA)))
                    .example(Some(refusal.example_body()))
                    .build(),
            )),
        };
        match operation.responses.responses.get_mut(&status) {
            // The app documents this status too (a 303 of its own, its own 401): keep its
            // words and bodies, and add authgate's case, headers and JSON body where missing.
            Some(RefOr::T(response)) => {
                if !response.description.contains(&refusal.description) {
                    response.description = match response.description.trim() {
                        "" => refusal.description.clone(),
                        own => format!("{own} Or: {}", refusal.description),
                    };
                }
                for header in &refusal.headers {
                    let (name, value) = header_doc(*header, gate);
                    response
                        .headers
                        .entry(name.to_owned())
                        .or_insert(RefOr::T(value));
                }
                // Only next to bodies the app describes: OpenAPI cannot mark a body optional,
                // so a body added to an empty answer (a plain redirect) would be required.
                if let (false, Some((media_type, content))) = (response.content.is_empty(), body) {
                    response
                        .content
                        .entry(media_type.to_owned())
                        .or_insert(RefOr::T(content));
                }
            }
            // A shared response of the app's components: its to describe.
            Some(RefOr::Ref(_)) => {}
            None => {
                let mut response = ResponseBuilder::new().description(refusal.description.clone());
                if let Some((media_type, content)) = body {
                    response = response.content(media_type, content);
                }
                for header in &refusal.headers {
                    let (name, value) = header_doc(*header, gate);
                    response = response.header(name, value);
                }
                operation
                    .responses
                    .responses
                    .insert(status, RefOr::T(response.build()));
            }
        }
    }
}

/// A refusal header's name and description.
fn header_doc(header: RefusalHeader, gate: &GateFacts) -> (&'static str, Header) {
    let string = || ObjectBuilder::new().schema_type(Type::String).build();
    let (name, description, example) = match header {
        RefusalHeader::WwwAuthenticate { always } => (
            "WWW-Authenticate",
            if always {
                "The RFC 6750 challenge; `error=\"invalid_token\"` when a credential was \
                 presented but refused."
            } else {
                "For a bearer-token caller: the RFC 6750 challenge with \
                 `error=\"insufficient_scope\"` (and the needed `scope`)."
            },
            {
                let realm = gate.realm.replace(['"', '\\'], "");
                match always {
                    true => format!("Bearer realm=\"{realm}\""),
                    false => format!("Bearer realm=\"{realm}\", error=\"insufficient_scope\""),
                }
            },
        ),
        RefusalHeader::Location => (
            "Location",
            "The login page, with the requested path and query in `next`.",
            "/login?next=%2Fdashboard".to_owned(),
        ),
        RefusalHeader::CacheControl => (
            "Cache-Control",
            "Refusals are never cached.",
            "no-store".to_owned(),
        ),
    };
    let header = HeaderBuilder::new()
        .schema(Some(string()))
        .description(Some(description))
        .example(Some(example.into()))
        .build();
    (name, header)
}

/// `bearerAuth` when the Gate has an issuer, `sessionCookie` when it has sessions, and the
/// rejection body's schema.
fn add_components(doc: &mut OpenApi, gate: &GateFacts) {
    let components = doc.components.get_or_insert_with(Components::default);
    if gate.bearer {
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(format!(
                "`Authorization: Bearer <JWT>` (realm `{}`). A token that is presented but \
                 invalid is refused; it never falls back to the session cookie.",
                gate.realm
            )))
            .build();
        components.add_security_scheme(BEARER_SCHEME, SecurityScheme::Http(bearer));
    }
    if let Some(cookie) = &gate.cookie {
        let kind = if gate.session_store {
            "an opaque id of a server-side session"
        } else {
            "a signed session token"
        };
        let scheme = ApiKeyValue::with_description(
            cookie.clone(),
            format!(
                "The session cookie: {kind}. Used only without an `Authorization` header. \
                 A state-changing request (not GET, HEAD or OPTIONS) with it must come from \
                 this site (`Sec-Fetch-Site` or `Origin`), or it is refused with 403."
            ),
        );
        components.add_security_scheme(
            COOKIE_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(scheme)),
        );
    }
    for (index, url) in gate.openid_connect_urls().iter().enumerate() {
        let scheme = OpenIdConnect::with_description(
            url.as_str(),
            "Access tokens of this OpenID Provider, sent as `Authorization: Bearer <JWT>`; \
             their `iss` must be the provider's issuer.",
        );
        components.add_security_scheme(
            model::oidc_scheme(index),
            SecurityScheme::OpenIdConnect(scheme),
        );
    }
    components
        .schemas
        .entry(REJECTION_SCHEMA.to_owned())
        .or_insert_with(|| rejection_schema().into());
}

/// `{"error": "<code>", "message": "<text>"}`, as `Rejection::json_response` writes it.
fn rejection_schema() -> utoipa::openapi::schema::Schema {
    let code = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(model::REJECTION_CODES.iter().copied()))
        .description(Some("What was refused; one code per class of refusal."));
    let message = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "A fixed, generic text per code; never the precise reason.",
        ));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("An authgate refusal."))
        .property("error", code)
        .property("message", message)
        .required("error")
        .required("message")
        .build()
        .into()
}
