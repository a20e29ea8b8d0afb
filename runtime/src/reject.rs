//! Rejections: one type, one rendering, the right status for every failure.
//!
//! | case | status | extras |
//! |---|---|---|
//! | no credentials | 401 | `WWW-Authenticate: Bearer realm="..."` |
//! | malformed / invalid / expired credentials | 401 | `WWW-Authenticate: Bearer realm="...", error="invalid_token"` |
//! | authenticated, role or scope missing | 403 | bearer: `error="insufficient_scope"` |
//! | cross-origin state change with a cookie credential | 403 | |
//! | resource owned by someone else, or missing | 404 | same body for both |
//! | page handler with `redirect`, not logged in | 303 | `Location: /login?next=...` |
//! | key source or session store unavailable | 503 | never 401, never 200 |
//! | `CurrentUser` without a guard (a configuration bug) | 500 | |
//!
//! Bodies are `{"error": "<code>", "message": "<generic text>"}` with `Cache-Control: no-store`;
//! on page routes (`redirect = "/login"`) a small HTML page with the same status and message,
//! and a redirect has no body at all.
//! Messages are fixed per code, so a client cannot tell "unknown key" from "bad signature" or
//! "expired": the precise reason goes to the `tracing` event only.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::store::StoreError;

/// A refusal: of a request by a guard or an extractor, or of something a handler asked the
/// Gate to do ([`Gate::login`](crate::Gate::login), [`Gate::issue`](crate::Gate::issue),
/// [`Gate::revoke_user`](crate::Gate::revoke_user), ...), with everything needed to answer
/// it.
///
/// As a response it renders through the Gate's hook
/// ([`GateBuilder::render_rejection`](crate::GateBuilder::render_rejection)) or, by default,
/// as JSON, so every refusal of an app looks the same; a handler returns it with `?`. Its
/// [`kind`](Self::kind) says what happened; a failed store is its
/// [`source`](std::error::Error::source), and [`Display`](fmt::Display) says what a
/// developer needs to know (never a credential).
///
/// ```
/// use authgate::{Rejection, RejectionKind};
/// use axum::response::IntoResponse;
///
/// let response = Rejection::new(RejectionKind::Unauthenticated, "api").into_response();
/// assert_eq!(response.status(), 401);
/// assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="api""#);
/// assert_eq!(response.headers()["cache-control"], "no-store");
/// ```
pub struct Rejection {
    kind: RejectionKind,
    render: Render,
    detail: Option<Detail>,
    /// Refuses a page route (`redirect = "/login"`), which a browser shows.
    page: bool,
}

/// What a developer needs to know about a refusal the client is not told.
enum Detail {
    /// A store failed.
    Store(&'static str, StoreError),
    /// The app asked for something its Gate is not configured for, or a signing failed.
    Message(Cow<'static, str>),
}

impl Clone for Rejection {
    fn clone(&self) -> Self {
        Rejection {
            kind: self.kind.clone(),
            render: self.render.clone(),
            // A store error is not `Clone`; its text is what a clone keeps.
            detail: self.detail.as_ref().map(|detail| match detail {
                Detail::Store(what, error) => Detail::Message(format!("{what}: {error}").into()),
                Detail::Message(message) => Detail::Message(message.clone()),
            }),
            page: self.page,
        }
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("kind", &self.kind)
            .field("realm", &self.render.realm())
            .field("detail", &self.detail_text())
            .finish()
    }
}

/// The class of a rejection. Each class has one status, one code and one message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No credential was presented: 401.
    Unauthenticated,
    /// A credential was presented but is malformed, invalid or expired: 401 `invalid_token`.
    InvalidToken,
    /// The `Authorization` header itself is malformed (two headers, an unusable scheme, bytes
    /// that are not a token): 401, `WWW-Authenticate` with `error="invalid_request"`.
    InvalidRequest,
    /// The caller is known but lacks a role or scope: 403.
    Forbidden {
        /// The caller authenticated with a bearer token (adds `error="insufficient_scope"`).
        bearer: bool,
        /// The scopes the route needs, when a scope check failed (the RFC 6750 `scope` hint).
        scopes: Option<String>,
    },
    /// A cookie-authenticated state change from another origin: 403.
    CrossOrigin,
    /// The resource does not exist or belongs to someone else: 404, one body for both.
    NotFound,
    /// A page handler's anonymous visitor is sent to the login page: 303.
    Redirect {
        /// The `Location` header, already validated and encoded.
        location: String,
    },
    /// A store or an issuer's keys could not answer: 503.
    Unavailable,
    /// The app is wired wrongly (`CurrentUser` in a handler with no guard, a login on a Gate
    /// without sessions): 500.
    Misconfigured,
}

impl Rejection {
    /// A rejection of `kind`, rendered as JSON; `realm` goes into `WWW-Authenticate`.
    pub fn new(kind: RejectionKind, realm: &str) -> Self {
        Rejection {
            kind,
            render: Render::new(realm, None),
            detail: None,
            page: false,
        }
    }

    /// A refusal because a store failed (503); rendered by the Gate that returns it.
    pub(crate) fn store(what: &'static str, error: StoreError) -> Self {
        Rejection {
            kind: RejectionKind::Unavailable,
            render: Render::default(),
            detail: Some(Detail::Store(what, error)),
            page: false,
        }
    }

    /// A refusal because the app asked for what its Gate cannot do (500).
    pub(crate) fn misconfigured(message: impl Into<Cow<'static, str>>) -> Self {
        Rejection {
            kind: RejectionKind::Misconfigured,
            render: Render::default(),
            detail: Some(Detail::Message(message.into())),
            page: false,
        }
    }

    /// A refusal of this kind, with no more to say.
    pub(crate) fn of(kind: RejectionKind) -> Self {
        Rejection {
            kind,
            render: Render::default(),
            detail: None,
            page: false,
        }
    }

    /// The same refusal, of a page route.
    pub(crate) fn for_page(mut self) -> Self {
        self.page = true;
        self
    }

    /// The same refusal, rendered as `render` says.
    pub(crate) fn rendered_by(mut self, render: &Render) -> Self {
        self.render = render.clone();
        self
    }

    /// What a developer is told and the client is not.
    fn detail_text(&self) -> Option<String> {
        self.detail.as_ref().map(|detail| match detail {
            Detail::Store(what, error) => format!("{what}: {error}"),
            Detail::Message(message) => message.to_string(),
        })
    }

    /// The realm named in `WWW-Authenticate`.
    pub fn realm(&self) -> &str {
        self.render.realm()
    }

    /// Whether the refused route is a page (`redirect = "/login"` on its handler), which a
    /// browser shows: authgate renders those as HTML by default, the rest as JSON. A
    /// [`render_rejection`](crate::GateBuilder::render_rejection) hook reads it to do the
    /// same.
    ///
    /// ```
    /// use authgate::{Rejection, RejectionKind};
    ///
    /// assert!(!Rejection::new(RejectionKind::NotFound, "api").is_page());
    /// ```
    pub fn is_page(&self) -> bool {
        self.page
    }

    /// The class of this rejection.
    pub fn kind(&self) -> &RejectionKind {
        &self.kind
    }

    /// The HTTP status this rejection answers with.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            RejectionKind::Unauthenticated
            | RejectionKind::InvalidToken
            | RejectionKind::InvalidRequest => StatusCode::UNAUTHORIZED,
            RejectionKind::Forbidden { .. } | RejectionKind::CrossOrigin => StatusCode::FORBIDDEN,
            RejectionKind::NotFound => StatusCode::NOT_FOUND,
            RejectionKind::Redirect { .. } => StatusCode::SEE_OTHER,
            RejectionKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            RejectionKind::Misconfigured => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable code of the JSON body: `unauthenticated`, `invalid_token`,
    /// `forbidden`, `not_found`, `unavailable`, `redirect` or `internal_error`.
    pub fn code(&self) -> &'static str {
        match self.kind {
            RejectionKind::Unauthenticated => "unauthenticated",
            RejectionKind::InvalidToken | RejectionKind::InvalidRequest => "invalid_token",
            RejectionKind::Forbidden { .. } | RejectionKind::CrossOrigin => "forbidden",
            RejectionKind::NotFound => "not_found",
            RejectionKind::Redirect { .. } => "redirect",
            RejectionKind::Unavailable => "unavailable",
            RejectionKind::Misconfigured => "internal_error",
        }
    }

    /// The human-readable message: fixed per code, so it never tells an attacker which check
    /// failed.
    pub fn message(&self) -> &'static str {
        match self.kind {
            RejectionKind::Unauthenticated => "authentication is required",
            RejectionKind::InvalidToken | RejectionKind::InvalidRequest => {
                "the credential is invalid or expired"
            }
            RejectionKind::Forbidden { .. } | RejectionKind::CrossOrigin => {
                "you do not have access to this resource"
            }
            RejectionKind::NotFound => "not found",
            RejectionKind::Redirect { .. } => "authentication is required",
            RejectionKind::Unavailable => "authentication is temporarily unavailable",
            RejectionKind::Misconfigured => "internal server error",
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 section 3) this rejection carries, if any.
    pub fn www_authenticate(&self) -> Option<String> {
        let realm = quote_param(self.render.realm());
        match &self.kind {
            RejectionKind::Unauthenticated => Some(format!("Bearer realm={realm}")),
            RejectionKind::InvalidToken => {
                Some(format!("Bearer realm={realm}, error=\"invalid_token\""))
            }
            RejectionKind::InvalidRequest => {
                Some(format!("Bearer realm={realm}, error=\"invalid_request\""))
            }
            RejectionKind::Forbidden {
                bearer: true,
                scopes,
            } => {
                let mut value = format!("Bearer realm={realm}, error=\"insufficient_scope\"");
                if let Some(scopes) = scopes {
                    value.push_str(&format!(", scope={}", quote_param(scopes)));
                }
                Some(value)
            }
            _ => None,
        }
    }

    /// The default rendering for APIs: `{"error": "<code>", "message": "<text>"}` as
    /// `application/json`. A redirect has no body (its `Location` is the answer). A custom
    /// renderer can start from it.
    pub fn json_response(&self) -> Response {
        if matches!(self.kind, RejectionKind::Redirect { .. }) {
            return self.empty_response();
        }
        let body = format!(
            r#"{{"error":"{}","message":"{}"}}"#,
            self.code(),
            self.message()
        );
        self.with_body("application/json", body)
    }

    /// The default rendering for pages (handlers with `redirect = "/login"`): a small HTML
    /// document with the status and the message, which a browser shows as a page rather than
    /// raw JSON. A redirect has no body.
    ///
    /// ```
    /// use authgate::{Rejection, RejectionKind};
    ///
    /// let page = Rejection::new(RejectionKind::CrossOrigin, "app").html_response();
    /// assert_eq!(page.status(), 403);
    /// assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    /// ```
    pub fn html_response(&self) -> Response {
        if matches!(self.kind, RejectionKind::Redirect { .. }) {
            return self.empty_response();
        }
        let status = self.status();
        let title = format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Error")
        );
        let body = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\
             <body><h1>{title}</h1><p>{}</p></body></html>\n",
            self.message()
        );
        self.with_body("text/html; charset=utf-8", body)
    }

    fn with_body(&self, content_type: &'static str, body: String) -> Response {
        let mut response = (self.status(), body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        self.add_protocol_headers(&mut response);
        response
    }

    fn empty_response(&self) -> Response {
        let mut response = self.status().into_response();
        self.add_protocol_headers(&mut response);
        response
    }

    /// Adds the headers every rejection must carry, whoever rendered the body:
    /// `WWW-Authenticate`, `Location` for redirects, and `Cache-Control: no-store`.
    pub(crate) fn add_protocol_headers(&self, response: &mut Response) {
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        if let Some(value) = self
            .www_authenticate()
            .and_then(|v| HeaderValue::try_from(v).ok())
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let RejectionKind::Redirect { location } = &self.kind
            && let Ok(value) = HeaderValue::try_from(location.as_str())
        {
            headers.insert(header::LOCATION, value);
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// How one Gate renders its rejections: its realm, and the app's hook
/// ([`GateBuilder::render_rejection`](crate::GateBuilder::render_rejection)) or the default
/// JSON. Cheap to clone; every [`Rejection`] carries one, so that every refusal of an app
/// looks the same.
#[derive(Clone)]
pub(crate) struct Render {
    realm: Arc<str>,
    hook: Option<Hook>,
}

impl Default for Render {
    /// Realm `api`, JSON.
    fn default() -> Self {
        Render::new("api", None)
    }
}

/// The app's rendering hook.
pub(crate) type Hook = Arc<dyn Fn(&Rejection) -> Response + Send + Sync>;

impl Render {
    pub(crate) fn new(realm: &str, hook: Option<Hook>) -> Self {
        Render {
            realm: realm.into(),
            hook,
        }
    }

    /// The realm named in `WWW-Authenticate`.
    pub(crate) fn realm(&self) -> &str {
        &self.realm
    }

    /// A rejection of this kind, rendered here.
    pub(crate) fn rejection(&self, kind: RejectionKind) -> Rejection {
        Rejection::of(kind).rendered_by(self)
    }

    /// Renders through the hook (or as JSON), then makes sure the protocol headers are there
    /// whatever the hook did.
    pub(crate) fn render(&self, rejection: &Rejection) -> Response {
        self.render_as(rejection, Rejection::json_response)
    }

    /// [`render`](Self::render) for a page route: the hook, or a small HTML page.
    pub(crate) fn render_page(&self, rejection: &Rejection) -> Response {
        self.render_as(rejection, Rejection::html_response)
    }

    fn render_as(&self, rejection: &Rejection, default: fn(&Rejection) -> Response) -> Response {
        let mut response = match &self.hook {
            Some(hook) => hook(rejection),
            None => default(rejection),
        };
        rejection.add_protocol_headers(&mut response);
        response
    }

    /// Renders a rejection of this kind.
    pub(crate) fn kind(&self, kind: RejectionKind) -> Response {
        self.render(&self.rejection(kind))
    }
}

/// An RFC 7230 quoted-string, dropping what cannot be quoted (control characters).
fn quote_param(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Rendered through the Gate's hook (or as JSON). A refusal with a detail the client is not
/// told (a failed store, a Gate not configured for what was asked) logs it here, once, as an
/// error.
impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        if let Some(detail) = self.detail_text() {
            tracing::error!(target: "authgate", status = self.status().as_u16(),
                code = self.code(), %detail, "request refused");
        }
        self.render.clone().render(&self)
    }
}

/// `<status> <code>`, and the detail a developer needs when there is one:
/// `503 unavailable: session store: store unavailable: connection refused`.
impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status().as_u16(), self.code())?;
        if let Some(detail) = self.detail_text() {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Rejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.detail {
            Some(Detail::Store(_, error)) => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_is_quoted_safely() {
        let r = Rejection::new(RejectionKind::InvalidToken, "a \"b\" \\ c\r\n");
        assert_eq!(
            r.www_authenticate().as_deref(),
            Some(r#"Bearer realm="a \"b\" \\ c", error="invalid_token""#)
        );
    }

    #[test]
    fn forbidden_challenge_only_for_bearer() {
        let cookie = Rejection::new(
            RejectionKind::Forbidden {
                bearer: false,
                scopes: None,
            },
            "r",
        );
        assert_eq!(cookie.www_authenticate(), None);
        let bearer = Rejection::new(
            RejectionKind::Forbidden {
                bearer: true,
                scopes: Some("a:b c".into()),
            },
            "r",
        );
        assert_eq!(
            bearer.www_authenticate().as_deref(),
            Some(r#"Bearer realm="r", error="insufficient_scope", scope="a:b c""#)
        );
    }

    #[test]
    fn statuses_and_codes() {
        let cases = [
            (RejectionKind::Unauthenticated, 401, "unauthenticated"),
            (RejectionKind::InvalidToken, 401, "invalid_token"),
            (RejectionKind::InvalidRequest, 401, "invalid_token"),
            (
                RejectionKind::Forbidden {
                    bearer: false,
                    scopes: None,
                },
                403,
                "forbidden",
            ),
            (RejectionKind::CrossOrigin, 403, "forbidden"),
            (RejectionKind::NotFound, 404, "not_found"),
            (RejectionKind::Unavailable, 503, "unavailable"),
            (RejectionKind::Misconfigured, 500, "internal_error"),
        ];
        for (kind, status, code) in cases {
            let r = Rejection::new(kind, "r");
            assert_eq!((r.status().as_u16(), r.code()), (status, code));
            let resp = r.json_response();
            assert_eq!(resp.status().as_u16(), status);
            assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
        }
    }
}
