//! Probes: every route against its declared policy, and one user's resources against another.

use http::{Method, StatusCode};

use super::client::TestRequest;
use super::{Minter, TestClient};
use crate::credentials::CredentialKind;
use crate::identity::Identity;
use crate::policy::Requirement;
use crate::router::{RouteAudit, RoutePolicy, Router};

/// What a probe found: one line per route that falls short, `GET /path: what is wrong`.
pub(super) fn outcome(findings: Vec<String>) -> Result<(), Vec<String>> {
    match findings.is_empty() {
        true => Ok(()),
        false => Err(findings),
    }
}

/// The panic of a probe's `assert` (called at `caller`) when it found anything.
pub(super) fn panic_on(
    probe: &str,
    caller: &std::panic::Location<'_>,
    outcome: Result<(), Vec<String>>,
) {
    if let Err(findings) = outcome {
        panic!("authgate {probe} ({caller}):\n  {}", findings.join("\n  "));
    }
}

/// Whether a route's method (as the audit names it) can change state, so a cookie-authenticated
/// request to it must pass the origin check: `ANY` routes are checked on every method.
pub(super) fn changes_state(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH" | "DELETE" | "ANY")
}

/// Every name a route's role or scope requirements mention: a user holding them all meets any
/// `Any` and every `All`.
fn names(requirements: &[Requirement]) -> Vec<&'static str> {
    requirements
        .iter()
        .flat_map(Requirement::names)
        .copied()
        .collect()
}

/// The site a forged request comes from in the probes.
pub(super) const ATTACKER: &str = "https://evil.example";

/// `request` with the session `cookie`, as a form on another site makes the browser send it.
pub(super) fn cross_site(request: TestRequest, cookie: &str) -> TestRequest {
    request
        .header("cookie", cookie)
        .header("sec-fetch-site", "cross-site")
        .header("origin", ATTACKER)
}

/// Visits every route of an [`authgate::Router`](crate::Router) with every method it serves and
/// checks that the declared policy is what callers get.
///
/// - anonymous requests to non-public routes get 401 (or the declared 303 to the login page);
/// - an authenticated user lacking the declared roles or scopes gets 403;
/// - public routes do not answer 401, and (with [`allow_public`](Self::allow_public)) only
///   the listed paths are public;
/// - (with [`expect_roles`](Self::expect_roles)) routes under a prefix declare and enforce the
///   roles you expect there;
/// - on a Gate with sessions, every non-public route that accepts session cookies and can
///   change state (`POST`, `PUT`, `PATCH`, `DELETE`, `ANY`) gets 403 for a valid session
///   cookie sent from another site (`Sec-Fetch-Site: cross-site`,
///   `Origin: https://evil.example`), as a forged form would send it. The cookie's user holds
///   the route's roles and scopes, so only the origin check can refuse it. The guard refuses
///   before the handler runs; any other answer means the forged request reached the handler.
///
/// The role and scope check uses a bearer token where the route accepts one (and the Gate
/// issues them), else a session cookie.
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
        // A caller with no roles and no scopes, as each kind of credential the Gate takes: a
        // route gets the bearer token where it accepts one, else the session cookie.
        let nobody = Identity::new("authgate-probe");
        let bearer = self
            .minter
            .signs_tokens()
            .then(|| Credential::Bearer(self.minter.token(&nobody)));
        let cookie = match self.minter.has_sessions() {
            true => match self.minter.cookie(&nobody).await {
                Ok(cookie) => Some(Credential::Cookie(cookie)),
                Err(refused) => return Err(vec![format!("the probe could not log in: {refused}")]),
            },
            false => None,
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
            let takes_cookies =
                self.minter.has_sessions() && policy.accepts(CredentialKind::Cookie);
            if !public && takes_cookies && changes_state(route.method()) {
                let method = match route.method() {
                    "ANY" => Method::POST,
                    _ => method.clone(),
                };
                let user = Identity::new("authgate-probe")
                    .roles(names(policy.roles()))
                    .scopes(names(policy.scopes()));
                match self.minter.cookie(&user).await {
                    Ok(cookie) => {
                        // An empty form, as a forged `<form method="post">` sends.
                        let forged = cross_site(client.request(method, &path), &cookie);
                        let reply = forged.form("").send().await;
                        if reply.status != StatusCode::FORBIDDEN {
                            finding(format!(
                                "answers {} to a valid session cookie sent from another site; \
                                 expected 403 (cross-site request forgery)",
                                reply.status.as_u16()
                            ));
                        }
                    }
                    Err(refused) => finding(format!("the probe could not log in: {refused}")),
                }
            }
            let declares_more = !policy.roles().is_empty() || !policy.scopes().is_empty();
            let no_roles = match policy.accepts(CredentialKind::Bearer) {
                true => bearer.as_ref(),
                false => None,
            };
            let no_roles = no_roles.or(cookie.as_ref().filter(|_| takes_cookies));
            if !public
                && (declares_more || !expected.is_empty())
                && let Some(no_roles) = no_roles
            {
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
        async move { panic_on("route probe", caller, self.run().await) }
    }
}

/// How one account of the probe authenticates.
#[derive(Clone, Debug)]
pub(super) enum Credential {
    Bearer(String),
    Cookie(String),
}

impl Credential {
    pub(super) fn on(&self, request: TestRequest) -> TestRequest {
        match self {
            Credential::Bearer(token) => request.bearer(token),
            Credential::Cookie(cookie) => request.cookie(cookie),
        }
    }
}
