//! Test kit (feature `testing`): mint credentials from the app's own Gate, send requests with
//! `oneshot`, and prove in one test that every route is protected.
//!
//! ```
//! use authgate::testing::{Minter, RouteProbe, TestClient};
//! use authgate::{CurrentUser, Gate, Router, public, require_auth, require_role, routing::get};
//!
//! #[public(reason = "health check")]
//! async fn health() -> &'static str { "ok" }
//! #[require_auth]
//! async fn me(user: CurrentUser) -> String { user.subject().to_owned() }
//! #[require_role("admin")]
//! async fn users() -> &'static str { "[]" }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let gate = Gate::builder().hs256("an HMAC secret of at least 32 bytes!!").build().unwrap();
//! let router = Router::new()
//!     .route("/health", get(health))
//!     .route("/me", get(me))
//!     .route("/admin/users", get(users))
//!     .with_state(gate.clone());
//! let minter = Minter::new(&gate).unwrap();
//!
//! // One line: every route refuses anonymous callers and users without the declared roles.
//! RouteProbe::new(&router, &minter).allow_public(["/health"]).assert().await;
//!
//! // Requests read well.
//! let client = TestClient::new(router.into_axum());
//! let alice = minter.user("alice").token();
//! let reply = client.get("/me").bearer(&alice).send().await;
//! assert_eq!(reply.status, 200);
//! assert_eq!(reply.text(), "alice");
//! # }
//! ```
//!
//! Limits of the probe: it cannot know your ids, so it fills path parameters with
//! placeholders (`1` unless told otherwise) and only sends requests that a correct app must
//! refuse (anonymous, or authenticated without the declared roles and scopes). It never sends
//! a request that should succeed, so it does not test ownership: use [`OwnershipProbe`] with
//! two accounts for that.

use std::fmt;
use std::time::Duration;

use axum::body::{Body, Bytes};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use tower::ServiceExt;

use crate::policy::Access;
use crate::router::{RoutePolicy, Router};
use crate::session::{SessionUser, SigningKey};
use crate::{Algorithm, Gate, SessionError};

/// What the kit reads from a Gate (see `Gate::testing_view`).
#[doc(hidden)]
pub struct GateView {
    pub(crate) hmac: Option<(Algorithm, Option<String>, Vec<u8>)>,
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Option<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) now: u64,
    pub(crate) has_sessions: bool,
}

/// Mints credentials the app's own Gate accepts, for made-up users.
pub struct Minter {
    gate: Gate,
    key: SigningKey,
}

/// The Gate cannot mint: it verifies with public keys only, and no private key was given.
#[derive(Debug)]
pub struct NoSigningKey;

impl fmt::Display for NoSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "this Gate has no HMAC secret to mint with; use Minter::with_key and the private key \
             matching one of its public keys",
        )
    }
}

impl std::error::Error for NoSigningKey {}

impl Minter {
    /// A minter for a Gate with an HMAC secret.
    pub fn new(gate: &Gate) -> Result<Minter, NoSigningKey> {
        let (algorithm, kid, secret) = gate.testing_view().hmac.ok_or(NoSigningKey)?;
        let mut key = SigningKey::hmac(algorithm, secret);
        if let Some(kid) = kid {
            key = key.with_kid(kid);
        }
        Ok(Minter {
            gate: gate.clone(),
            key,
        })
    }

    /// A minter signing with `key` (the private half of one of the Gate's public keys).
    pub fn with_key(gate: &Gate, key: SigningKey) -> Minter {
        Minter {
            gate: gate.clone(),
            key,
        }
    }

    /// A made-up user: subject `subject`, no roles, no scopes, a 10-minute credential.
    pub fn user(&self, subject: impl Into<String>) -> TestUser<'_> {
        TestUser {
            minter: self,
            user: SessionUser::new(subject),
            lifetime: Duration::from_secs(600),
        }
    }
}

/// A made-up user, ready to become a bearer token or a session cookie. Who the user is lives
/// in a [`SessionUser`], the same value a login handler gives `Gate::login`.
#[derive(Clone)]
pub struct TestUser<'a> {
    minter: &'a Minter,
    user: SessionUser,
    lifetime: Duration,
}

impl TestUser<'_> {
    /// The user's roles.
    pub fn roles<I: IntoIterator<Item = T>, T: Into<String>>(mut self, roles: I) -> Self {
        self.user = self.user.roles(roles);
        self
    }

    /// The user's scopes.
    pub fn scopes<I: IntoIterator<Item = T>, T: Into<String>>(mut self, scopes: I) -> Self {
        self.user = self.user.scopes(scopes);
        self
    }

    /// How long the credential lives (default 10 minutes).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// An extra claim.
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.user = self.user.claim(name, value);
        self
    }

    fn claims_at(&self, now: u64, lifetime: u64) -> serde_json::Map<String, serde_json::Value> {
        let view = self.minter.gate.testing_view();
        let user = &self.user;
        let mut claims = user.claims.clone();
        claims.insert("sub".into(), user.subject.clone().into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), now.saturating_add(lifetime).into());
        if let Some(iss) = view.issuer {
            claims.insert("iss".into(), iss.into());
        }
        if let Some(aud) = view.audience {
            claims.insert("aud".into(), aud.into());
        }
        if !user.scopes.is_empty() {
            claims.insert("scope".into(), user.scopes.join(" ").into());
        }
        // Roles go where the Gate reads them, nested objects included.
        let mut value = serde_json::Value::from(user.roles.clone());
        for segment in view.roles.iter().skip(1).rev() {
            let mut object = serde_json::Map::new();
            object.insert(segment.clone(), value);
            value = object.into();
        }
        if let Some(first) = view.roles.first() {
            claims.insert(first.clone(), value);
        }
        claims
    }

    fn sign(
        &self,
        key: &SigningKey,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> String {
        // Signing with a key the caller gave us cannot fail for well-formed claims; a test
        // with a broken key should fail loudly.
        crate::verify::sign_jwt(key, claims).unwrap_or_else(|e| panic!("minting failed: {e}"))
    }

    /// A valid token.
    pub fn token(&self) -> String {
        let now = self.minter.gate.now();
        self.sign(
            &self.minter.key,
            &self.claims_at(now, self.lifetime.as_secs()),
        )
    }

    /// `Bearer <token>`, for the `Authorization` header.
    pub fn bearer(&self) -> HeaderValue {
        bearer_value(&self.token())
    }

    /// A token that expired an hour ago (well past any leeway).
    pub fn expired(&self) -> String {
        let now = self.minter.gate.now();
        self.sign(
            &self.minter.key,
            &self.claims_at(now.saturating_sub(7200), 3600),
        )
    }

    /// A token signed with another secret: the signature does not verify.
    pub fn wrongly_signed(&self) -> String {
        let now = self.minter.gate.now();
        let mut key =
            SigningKey::hmac(Algorithm::HS256, b"not the secret this Gate verifies with!");
        key.algorithm = self.minter.key.algorithm;
        if !matches!(
            key.algorithm,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            key.algorithm = Algorithm::HS256;
        }
        key.kid = self.minter.key.kid.clone();
        self.sign(&key, &self.claims_at(now, self.lifetime.as_secs()))
    }

    /// A session cookie (`name=value`, for the `Cookie` header), through the Gate's own login.
    pub async fn cookie(&self) -> Result<String, SessionError> {
        let set = self.minter.gate.login(self.user.clone()).await?;
        let text = set.header_value().to_str().unwrap_or_default();
        Ok(text.split(';').next().unwrap_or_default().to_owned())
    }
}

fn bearer_value(token: &str) -> HeaderValue {
    HeaderValue::try_from(format!("Bearer {token}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid"))
}

/// Sends requests to an `axum::Router` in-process, with `tower::ServiceExt::oneshot`.
#[derive(Clone)]
pub struct TestClient {
    app: axum::Router,
}

impl TestClient {
    /// A client for `app`.
    pub fn new(app: axum::Router) -> Self {
        TestClient { app }
    }

    /// A request with any method.
    pub fn request(&self, method: Method, uri: &str) -> TestRequest {
        TestRequest {
            app: self.app.clone(),
            method,
            uri: uri.to_owned(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// A GET request.
    pub fn get(&self, uri: &str) -> TestRequest {
        self.request(Method::GET, uri)
    }

    /// A POST request.
    pub fn post(&self, uri: &str) -> TestRequest {
        self.request(Method::POST, uri)
    }

    /// A PUT request.
    pub fn put(&self, uri: &str) -> TestRequest {
        self.request(Method::PUT, uri)
    }

    /// A PATCH request.
    pub fn patch(&self, uri: &str) -> TestRequest {
        self.request(Method::PATCH, uri)
    }

    /// A DELETE request.
    pub fn delete(&self, uri: &str) -> TestRequest {
        self.request(Method::DELETE, uri)
    }
}

/// A request being built; [`send`](TestRequest::send) it.
pub struct TestRequest {
    app: axum::Router,
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: Bytes,
}

impl TestRequest {
    /// Adds a header. Invalid names or values are a test bug and panic.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name =
            HeaderName::try_from(name).unwrap_or_else(|e| panic!("header name {name:?}: {e}"));
        let value =
            HeaderValue::try_from(value).unwrap_or_else(|e| panic!("header value for {name}: {e}"));
        self.headers.append(name, value);
        self
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(mut self, token: &str) -> Self {
        self.headers
            .insert(header::AUTHORIZATION, bearer_value(token));
        self
    }

    /// `Cookie: <cookie>`, plus `Sec-Fetch-Site: same-origin` as a browser on the same site
    /// would send, so state-changing requests pass the CSRF check.
    pub fn cookie(self, cookie: &str) -> Self {
        self.header("cookie", cookie)
            .header("sec-fetch-site", "same-origin")
    }

    /// Sends a credential.
    pub fn credential(self, credential: &Credential) -> Self {
        match credential {
            Credential::Bearer(token) => self.bearer(token),
            Credential::Cookie(cookie) => self.cookie(cookie),
            Credential::Anonymous => self,
        }
    }

    /// A JSON body.
    pub fn json(mut self, value: &serde_json::Value) -> Self {
        self.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self.body = Bytes::from(value.to_string());
        self
    }

    /// A form body (`a=1&b=2`).
    pub fn form(mut self, body: &str) -> Self {
        self.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        self.body = Bytes::from(body.to_owned());
        self
    }

    /// Sends the request and reads the whole response.
    pub async fn send(self) -> TestResponse {
        let mut request = Request::builder()
            .method(self.method)
            .uri(&self.uri)
            .body(Body::from(self.body))
            .unwrap_or_else(|e| panic!("bad request URI {:?}: {e}", self.uri));
        *request.headers_mut() = self.headers;
        let response = match self.app.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

/// A whole response.
#[derive(Clone, Debug)]
pub struct TestResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl TestResponse {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// How a request authenticates.
#[derive(Clone, Debug)]
pub enum Credential {
    /// No credential.
    Anonymous,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Cookie: <name=value>`.
    Cookie(String),
}

/// One route that falls short.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The method probed.
    pub method: String,
    /// The path template.
    pub path: String,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.method, self.path, self.problem)
    }
}

/// What a probe found.
#[derive(Clone, Debug, Default)]
pub struct ProbeReport {
    /// How many requests were sent.
    pub requests: usize,
    /// Every route that falls short; empty when all is well.
    pub findings: Vec<Finding>,
}

impl ProbeReport {
    /// True when no route falls short.
    pub fn is_ok(&self) -> bool {
        self.findings.is_empty()
    }

    /// Panics with every finding, one per line.
    #[track_caller]
    pub fn assert_ok(&self) {
        assert!(self.is_ok(), "authgate route probe: {self}");
    }
}

impl fmt::Display for ProbeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.findings.is_empty() {
            return write!(f, "all routes protected ({} requests)", self.requests);
        }
        writeln!(
            f,
            "{} finding(s) in {} requests:",
            self.findings.len(),
            self.requests
        )?;
        for finding in &self.findings {
            writeln!(f, "  {finding}")?;
        }
        Ok(())
    }
}

/// Visits every route of an [`authgate::Router`](crate::Router) with every method it serves and
/// checks that the declared policy is what callers get.
///
/// - anonymous requests to non-public routes get 401 (or the declared 303 to the login page);
/// - an authenticated user lacking the declared roles or scopes gets 403;
/// - public routes do not answer 401, and (with [`allow_public`](Self::allow_public)) only
///   the listed paths are public;
/// - (with [`expect_roles`](Self::expect_roles)) routes under a prefix declare and enforce the
///   roles you expect there.
#[must_use]
pub struct RouteProbe<'a> {
    routes: Vec<RoutePolicy>,
    app: axum::Router,
    minter: &'a Minter,
    placeholders: Vec<(String, String)>,
    public: Option<Vec<String>>,
    expected_roles: Vec<(String, Vec<String>)>,
}

impl<'a> RouteProbe<'a> {
    /// A probe of `router` (its audit and the app it serves), minting with `minter`.
    pub fn new(router: &Router, minter: &'a Minter) -> Self {
        RouteProbe::from_parts(router.policies().to_vec(), router.clone_axum(), minter)
    }

    /// A probe from an audit and an app built separately (for example an app with layers
    /// added after `into_axum`).
    pub fn from_parts(routes: Vec<RoutePolicy>, app: axum::Router, minter: &'a Minter) -> Self {
        RouteProbe {
            routes,
            app,
            minter,
            placeholders: Vec::new(),
            public: None,
            expected_roles: Vec::new(),
        }
    }

    /// Fills the path parameter `name` with `value` (default `1`).
    pub fn placeholder(mut self, name: &str, value: &str) -> Self {
        self.placeholders.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Only these paths may be public; any other public route is a finding.
    pub fn allow_public<I: IntoIterator<Item = T>, T: Into<String>>(mut self, paths: I) -> Self {
        self.public = Some(paths.into_iter().map(Into::into).collect());
        self
    }

    /// Every route whose path starts with `prefix` must require all of `roles`, and a user
    /// without them must get 403.
    pub fn expect_roles<I: IntoIterator<Item = T>, T: Into<String>>(
        mut self,
        prefix: &str,
        roles: I,
    ) -> Self {
        self.expected_roles.push((
            prefix.to_owned(),
            roles.into_iter().map(Into::into).collect(),
        ));
        self
    }

    fn concrete_path(&self, template: &str) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find('}') else {
                break;
            };
            let name = rest[start + 1..start + end].trim_start_matches('*');
            let value = self
                .placeholders
                .iter()
                .find(|(n, _)| n == name)
                .map_or("1", |(_, v)| v.as_str());
            out.push_str(value);
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// Runs the probe.
    pub async fn run(self) -> ProbeReport {
        let client = TestClient::new(self.app.clone());
        let mut report = ProbeReport::default();
        let no_roles = self.minter.user("authgate-probe").token();
        for route in &self.routes {
            if route.path.contains('*') && route.method == "*" {
                continue; // fallbacks and nested services: no single path to visit
            }
            let method = match route.method {
                "ANY" | "*" => Method::GET,
                other => Method::from_bytes(other.as_bytes()).unwrap_or(Method::GET),
            };
            let path = self.concrete_path(&route.path);
            let mut finding = |problem: String| {
                report.findings.push(Finding {
                    method: route.method.to_owned(),
                    path: route.path.clone(),
                    problem,
                })
            };
            let anonymous = client.request(method.clone(), &path).send().await;
            report.requests += 1;
            let public = matches!(route.policy.access, Access::Public { .. });
            if public {
                if anonymous.status == StatusCode::UNAUTHORIZED {
                    finding("declared public but answers 401 to anonymous callers".into());
                }
                if let Some(allowed) = &self.public
                    && !allowed.contains(&route.path)
                {
                    finding(format!(
                        "is public ({}) but not in the list of allowed public routes",
                        route.policy
                    ));
                }
            } else {
                match route.policy.redirect {
                    Some(login) => {
                        let to_login = anonymous
                            .header("location")
                            .is_some_and(|l| l.starts_with(login));
                        if anonymous.status != StatusCode::SEE_OTHER || !to_login {
                            finding(format!(
                                "answers {} to anonymous callers; expected 303 to {login}",
                                anonymous.status.as_u16()
                            ));
                        }
                    }
                    None if anonymous.status != StatusCode::UNAUTHORIZED
                        || anonymous.header("www-authenticate").is_none() =>
                    {
                        finding(format!(
                            "answers {} to anonymous callers; expected 401 with WWW-Authenticate",
                            anonymous.status.as_u16()
                        ));
                    }
                    None => {}
                }
            }
            let expected: Vec<&String> = self
                .expected_roles
                .iter()
                .filter(|(prefix, _)| route.path.starts_with(prefix.as_str()))
                .flat_map(|(_, roles)| roles)
                .collect();
            for role in &expected {
                // Required means: a single-name requirement, or an `all(..)` that lists it.
                let required = route.policy.roles.iter().any(|r| match r {
                    crate::Requirement::Any(names) => *names == [role.as_str()],
                    crate::Requirement::All(names) => names.contains(&role.as_str()),
                });
                if !required {
                    finding(format!(
                        "does not require role {role} (policy: {})",
                        route.policy
                    ));
                }
            }
            let declares_more = !route.policy.roles.is_empty() || !route.policy.scopes.is_empty();
            if !public && (declares_more || !expected.is_empty()) {
                let reply = client
                    .request(method.clone(), &path)
                    .bearer(&no_roles)
                    .send()
                    .await;
                report.requests += 1;
                if reply.status != StatusCode::FORBIDDEN {
                    finding(format!(
                        "answers {} to a user without the roles and scopes; expected 403",
                        reply.status.as_u16()
                    ));
                }
            }
        }
        report
    }

    /// Runs the probe and panics with every finding.
    #[track_caller]
    pub fn assert(self) -> impl std::future::Future<Output = ()> {
        let caller = std::panic::Location::caller();
        async move {
            let report = self.run().await;
            assert!(report.is_ok(), "authgate route probe ({caller}): {report}");
        }
    }
}

/// Checks with two accounts that one user cannot read, change or delete another's resource.
///
/// ```no_run
/// # use authgate::testing::{Credential, OwnershipProbe, TestClient};
/// # async fn demo(client: TestClient, alice: String, bob: String) {
/// OwnershipProbe::new(client, Credential::Bearer(alice), Credential::Bearer(bob))
///     .create("/api/invoices", serde_json::json!({"amount_cents": 100, "description": "x"}))
///     .read("/api/invoices/{id}")
///     .delete("/api/invoices/{id}")
///     .assert()
///     .await;
/// # }
/// ```
#[must_use]
pub struct OwnershipProbe {
    client: TestClient,
    owner: Credential,
    other: Credential,
    create: Option<(String, serde_json::Value)>,
    id_pointer: String,
    read: Option<String>,
    writes: Vec<(Method, String, Option<serde_json::Value>)>,
    expected: StatusCode,
}

impl OwnershipProbe {
    /// A probe where `owner` creates a resource and `other` tries to use it.
    pub fn new(client: TestClient, owner: Credential, other: Credential) -> Self {
        OwnershipProbe {
            client,
            owner,
            other,
            create: None,
            id_pointer: "/id".to_owned(),
            read: None,
            writes: Vec::new(),
            expected: StatusCode::NOT_FOUND,
        }
    }

    /// The owner creates the resource with a JSON POST; its id is read from the response.
    pub fn create(mut self, uri: &str, body: serde_json::Value) -> Self {
        self.create = Some((uri.to_owned(), body));
        self
    }

    /// Where the id is in the creation response (a JSON pointer; default `/id`).
    pub fn id_at(mut self, pointer: &str) -> Self {
        self.id_pointer = pointer.to_owned();
        self
    }

    /// The read URI, with `{id}` for the id.
    pub fn read(mut self, uri: &str) -> Self {
        self.read = Some(uri.to_owned());
        self
    }

    /// An update the other user must be refused (`{id}` for the id).
    pub fn update(mut self, method: Method, uri: &str, body: serde_json::Value) -> Self {
        self.writes.push((method, uri.to_owned(), Some(body)));
        self
    }

    /// A delete the other user must be refused (`{id}` for the id).
    pub fn delete(mut self, uri: &str) -> Self {
        self.writes.push((Method::DELETE, uri.to_owned(), None));
        self
    }

    /// The status the other user must get (default 404; 403 for `status = 403` handlers).
    pub fn expect_status(mut self, status: StatusCode) -> Self {
        self.expected = status;
        self
    }

    /// Runs the probe: create as the owner, try every access as the other user, then check as
    /// the owner that the resource is unchanged.
    pub async fn run(self) -> ProbeReport {
        let mut report = ProbeReport::default();
        let mut finding = |method: &str, path: &str, problem: String| {
            report.findings.push(Finding {
                method: method.to_owned(),
                path: path.to_owned(),
                problem,
            })
        };
        let Some((create_uri, body)) = &self.create else {
            finding("POST", "?", "no create request given".into());
            return report;
        };
        let created = self
            .client
            .post(create_uri)
            .credential(&self.owner)
            .json(body)
            .send()
            .await;
        if !created.status.is_success() {
            finding(
                "POST",
                create_uri,
                format!(
                    "the owner could not create the resource ({})",
                    created.status
                ),
            );
            return report;
        }
        let id = match created.json().pointer(&self.id_pointer) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => {
                finding(
                    "POST",
                    create_uri,
                    format!("no id at {} in the response", self.id_pointer),
                );
                return report;
            }
        };
        let before = match &self.read {
            Some(read) => Some(
                self.client
                    .get(&read.replace("{id}", &id))
                    .credential(&self.owner)
                    .send()
                    .await,
            ),
            None => None,
        };
        let mut requests = 2;
        let mut attempts: Vec<(Method, String, Option<serde_json::Value>)> = Vec::new();
        if let Some(read) = &self.read {
            attempts.push((Method::GET, read.clone(), None));
        }
        attempts.extend(self.writes.iter().cloned());
        for (method, template, body) in attempts {
            let uri = template.replace("{id}", &id);
            let mut request = self
                .client
                .request(method.clone(), &uri)
                .credential(&self.other);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let reply = request.send().await;
            requests += 1;
            if reply.status != self.expected {
                finding(
                    method.as_str(),
                    &template,
                    format!(
                        "another user got {} for the owner's resource; expected {}",
                        reply.status.as_u16(),
                        self.expected.as_u16()
                    ),
                );
            }
        }
        if let (Some(read), Some(before)) = (&self.read, before) {
            let after = self
                .client
                .get(&read.replace("{id}", &id))
                .credential(&self.owner)
                .send()
                .await;
            requests += 1;
            if after.status != before.status || after.body != before.body {
                finding(
                    "GET",
                    read,
                    "the owner's resource changed after the other user's attempts".into(),
                );
            }
        }
        report.requests = requests;
        report
    }

    /// Runs the probe and panics with every finding.
    #[track_caller]
    pub fn assert(self) -> impl std::future::Future<Output = ()> {
        let caller = std::panic::Location::caller();
        async move {
            let report = self.run().await;
            assert!(
                report.is_ok(),
                "authgate ownership probe ({caller}): {report}"
            );
        }
    }
}

/// Whether a Gate can start sessions (for kits that want both credential kinds).
pub fn has_sessions(gate: &Gate) -> bool {
    gate.testing_view().has_sessions
}

/// The Gate's clock, for building expectations.
pub fn now(gate: &Gate) -> u64 {
    gate.testing_view().now
}
