//! Probes: every route against its declared policy, and one user's resources against another.

use http::{Method, StatusCode};

use super::client::TestRequest;
use super::{Minter, TestClient};
use crate::identity::Identity;
use crate::policy::Requirement;
use crate::router::{RouteAudit, RoutePolicy, Router};

/// What a probe found: one line per route that falls short, `GET /path: what is wrong`.
fn outcome(findings: Vec<String>) -> Result<(), Vec<String>> {
    match findings.is_empty() {
        true => Ok(()),
        false => Err(findings),
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
    /// Public paths that check a credential of their own and answer 401 without it.
    own_credential: Vec<String>,
    expected_roles: Vec<(String, Vec<String>)>,
}

impl<'a> RouteProbe<'a> {
    /// A probe of `router` (its audit and the app it serves), minting with `minter`.
    pub fn new(router: &Router, minter: &'a Minter) -> Self {
        RouteProbe::from_parts(&router.audit(), router.clone_axum(), minter)
    }

    /// A probe from an audit and an app built separately (for example an app with layers
    /// added after `into_axum`).
    pub fn from_parts(audit: &RouteAudit, app: axum::Router, minter: &'a Minter) -> Self {
        RouteProbe {
            routes: audit.iter().cloned().collect::<Vec<RoutePolicy>>(),
            app,
            minter,
            placeholders: Vec::new(),
            public: None,
            own_credential: Vec::new(),
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

    /// These public paths check a credential of their own, so their 401 to an anonymous
    /// caller is by design, not a finding: a refresh endpoint, whose credential is the refresh
    /// token in the body ([`Gate::refresh`](crate::Gate::refresh)).
    pub fn own_credential<I: IntoIterator<Item = T>, T: Into<String>>(mut self, paths: I) -> Self {
        self.own_credential
            .extend(paths.into_iter().map(Into::into));
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

    /// Runs the probe; `Err` lists every route that falls short, `GET /path: what is wrong`.
    pub async fn run(self) -> Result<(), Vec<String>> {
        let client = TestClient::new(self.app.clone());
        let mut findings = Vec::new();
        // A caller with no roles and no scopes: a bearer token, or on a Gate that has only
        // sessions, a session cookie.
        let nobody = Identity::new("authgate-probe");
        let no_roles = match self.minter.signs_tokens() {
            true => Credential::Bearer(self.minter.token(&nobody)),
            false => match self.minter.cookie(&nobody).await {
                Ok(cookie) => Credential::Cookie(cookie),
                Err(refused) => return Err(vec![format!("the probe could not log in: {refused}")]),
            },
        };
        for route in &self.routes {
            if route.path().contains('*') && route.method() == "*" {
                continue; // fallbacks and nested services: no single path to visit
            }
            let method = match route.method() {
                "ANY" | "*" => Method::GET,
                other => Method::from_bytes(other.as_bytes()).unwrap_or(Method::GET),
            };
            let path = self.concrete_path(route.path());
            let policy = route.policy();
            let mut finding = |problem: String| {
                findings.push(format!("{} {}: {problem}", route.method(), route.path()));
            };
            let anonymous = client.request(method.clone(), &path).send().await;
            let public = policy.is_public();
            if public {
                if anonymous.status == StatusCode::UNAUTHORIZED
                    && !self.own_credential.iter().any(|p| p == route.path())
                {
                    finding("declared public but answers 401 to anonymous callers".into());
                }
                if let Some(allowed) = &self.public
                    && !allowed.iter().any(|p| p == route.path())
                {
                    finding(format!(
                        "is public ({policy}) but not in the list of allowed public routes"
                    ));
                }
            } else {
                match policy.redirect() {
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
                .filter(|(prefix, _)| route.path().starts_with(prefix.as_str()))
                .flat_map(|(_, roles)| roles)
                .collect();
            for role in &expected {
                // Required means: a single-name requirement, or an `all(..)` that lists it.
                let required = policy.roles().iter().any(|r| match r {
                    Requirement::Any(names) => *names == [role.as_str()],
                    Requirement::All(names) => names.contains(&role.as_str()),
                });
                if !required {
                    finding(format!("does not require role {role} (policy: {policy})"));
                }
            }
            let declares_more = !policy.roles().is_empty() || !policy.scopes().is_empty();
            if !public && (declares_more || !expected.is_empty()) {
                let reply = no_roles
                    .on(client.request(method.clone(), &path))
                    .send()
                    .await;
                if reply.status != StatusCode::FORBIDDEN {
                    finding(format!(
                        "answers {} to a user without the roles and scopes; expected 403",
                        reply.status.as_u16()
                    ));
                }
            }
        }
        outcome(findings)
    }

    /// Runs the probe and panics with every finding.
    #[track_caller]
    pub fn assert(self) -> impl std::future::Future<Output = ()> {
        let caller = std::panic::Location::caller();
        async move {
            if let Err(findings) = self.run().await {
                panic!(
                    "authgate route probe ({caller}):\n  {}",
                    findings.join("\n  ")
                );
            }
        }
    }
}

/// Checks with two accounts that one user cannot read, change or delete another's resource.
///
/// ```no_run
/// # use authgate::testing::{OwnershipProbe, TestClient};
/// # async fn demo(client: TestClient, alice: String, bob: String) {
/// OwnershipProbe::bearer(client, &alice, &bob)
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

/// How one account of the probe authenticates.
#[derive(Clone, Debug)]
enum Credential {
    Bearer(String),
    Cookie(String),
}

impl Credential {
    fn on(&self, request: TestRequest) -> TestRequest {
        match self {
            Credential::Bearer(token) => request.bearer(token),
            Credential::Cookie(cookie) => request.cookie(cookie),
        }
    }
}

impl OwnershipProbe {
    /// A probe where the owner of the bearer token `owner` creates a resource and the owner
    /// of `other` tries to use it.
    pub fn bearer(client: TestClient, owner: &str, other: &str) -> Self {
        OwnershipProbe::new(
            client,
            Credential::Bearer(owner.to_owned()),
            Credential::Bearer(other.to_owned()),
        )
    }

    /// A probe where the holder of the session cookie `owner` (`name=value`) creates a
    /// resource and the holder of `other` tries to use it.
    pub fn cookies(client: TestClient, owner: &str, other: &str) -> Self {
        OwnershipProbe::new(
            client,
            Credential::Cookie(owner.to_owned()),
            Credential::Cookie(other.to_owned()),
        )
    }

    fn new(client: TestClient, owner: Credential, other: Credential) -> Self {
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
    /// the owner that the resource is unchanged. `Err` lists every access that falls short.
    pub async fn run(self) -> Result<(), Vec<String>> {
        let mut findings = Vec::new();
        let mut finding = |method: &str, path: &str, problem: String| {
            findings.push(format!("{method} {path}: {problem}"));
        };
        let Some((create_uri, body)) = &self.create else {
            finding("POST", "?", "no create request given".into());
            return outcome(findings);
        };
        let created = self
            .owner
            .on(self.client.post(create_uri))
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
            return outcome(findings);
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
                return outcome(findings);
            }
        };
        let before = match &self.read {
            Some(read) => Some(
                self.owner
                    .on(self.client.get(&read.replace("{id}", &id)))
                    .send()
                    .await,
            ),
            None => None,
        };
        let mut attempts: Vec<(Method, String, Option<serde_json::Value>)> = Vec::new();
        if let Some(read) = &self.read {
            attempts.push((Method::GET, read.clone(), None));
        }
        attempts.extend(self.writes.iter().cloned());
        for (method, template, body) in attempts {
            let uri = template.replace("{id}", &id);
            let mut request = self.other.on(self.client.request(method.clone(), &uri));
            if let Some(body) = &body {
                request = request.json(body);
            }
            let reply = request.send().await;
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
                .owner
                .on(self.client.get(&read.replace("{id}", &id)))
                .send()
                .await;
            if after.status != before.status || after.body != before.body {
                finding(
                    "GET",
                    read,
                    "the owner's resource changed after the other user's attempts".into(),
                );
            }
        }
        outcome(findings)
    }

    /// Runs the probe and panics with every finding.
    #[track_caller]
    pub fn assert(self) -> impl std::future::Future<Output = ()> {
        let caller = std::panic::Location::caller();
        async move {
            if let Err(findings) = self.run().await {
                panic!(
                    "authgate ownership probe ({caller}):\n  {}",
                    findings.join("\n  ")
                );
            }
        }
    }
}
