//! Probes: every route against its declared policy, and one user's resources against another.

use http::{Method, StatusCode};

use super::client::{TestRequest, TestResponse};
use super::{Minter, TestClient};
use crate::credentials::CredentialKind;
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

/// Whether a route's method (as the audit names it) can change state, so a cookie-authenticated
/// request to it must pass the origin check: `ANY` routes are checked on every method.
fn changes_state(method: &str) -> bool {
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
const ATTACKER: &str = "https://evil.example";

/// `request` with the session `cookie`, as a form on another site makes the browser send it.
fn cross_site(request: TestRequest, cookie: &str) -> TestRequest {
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
/// An API, with bearer tokens and JSON:
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
///
/// A page app, with session cookies and forms: the note is created by a form post whose
/// `303` points to the new note, and deleted by a form post too (HTML forms only `GET` and
/// `POST`). With cookies, the probe also sends each write as the owner from another site,
/// which must get 403 and leave the note as it was (cross-site request forgery).
///
/// ```no_run
/// # use authgate::testing::{OwnershipProbe, TestClient};
/// # async fn demo(client: TestClient, alice: String, bob: String) {
/// OwnershipProbe::cookies(client, &alice, &bob)
///     .create_form("/notes", "text=buy+milk")
///     .id_from_location("/notes/{id}") // `Location: /notes/3`: the id is 3
///     .read("/notes/{id}")
///     .post_form("/notes/{id}/delete", "")
///     .assert()
///     .await;
/// # }
/// ```
#[must_use]
pub struct OwnershipProbe {
    client: TestClient,
    owner: Credential,
    other: Credential,
    create: Option<(String, Body)>,
    id: IdSource,
    read: Option<String>,
    writes: Vec<(Method, String, Option<Body>)>,
    expected: StatusCode,
}

/// A request body of the probe.
#[derive(Clone)]
enum Body {
    Json(serde_json::Value),
    /// `application/x-www-form-urlencoded`; `{id}` is replaced in it.
    Form(String),
}

/// Where the probe finds the id of the resource it created.
enum IdSource {
    /// A JSON pointer into the response body.
    Pointer(String),
    /// A path template with `{id}`, matched against the `Location` header.
    Location(String),
    /// The test's own function of the response.
    With(Box<FindId>),
}

/// The test's function from the creation response to the id.
type FindId = dyn Fn(&TestResponse) -> Option<String> + Send + Sync;

impl IdSource {
    /// The id in `reply`, or what was looked for, for the finding.
    fn find(&self, reply: &TestResponse) -> Result<String, String> {
        match self {
            IdSource::Pointer(pointer) => match reply.json().pointer(pointer) {
                Some(serde_json::Value::String(s)) => Ok(s.clone()),
                Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
                _ => Err(format!(
                    "no id at {pointer} in the response (a form app: id_from_location or id_with)"
                )),
            },
            IdSource::Location(template) => {
                let location = reply.header("location");
                location
                    .and_then(|location| id_in(template, location))
                    .ok_or_else(|| {
                        format!(
                            "no id in the Location header ({}) for the template {template}",
                            location.unwrap_or("none")
                        )
                    })
            }
            IdSource::With(find) => find(reply).ok_or_else(|| "id_with found no id".to_owned()),
        }
    }
}

/// The `{id}` of `template` in `location`, a path (`/notes/3`) or an absolute URL
/// (`http://host/notes/3`): what stands in its place, up to what follows `{id}` in the
/// template, or, at the template's end, up to a `/`, `?`, `#` or `&`.
fn id_in(template: &str, location: &str) -> Option<String> {
    let path = match location.split_once("://") {
        Some((_, rest)) => &rest[rest.find('/')?..],
        None => location,
    };
    let (before, after) = template.split_once("{id}")?;
    let rest = path.strip_prefix(before)?;
    let end = match after.is_empty() {
        true => rest.find(['/', '?', '#', '&']).unwrap_or(rest.len()),
        false => rest.find(after)?,
    };
    let id = &rest[..end];
    (!id.is_empty() && !id.contains(['/', '?', '#'])).then(|| id.to_owned())
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
    /// resource and the holder of `other` tries to use it. The owner also sends each write
    /// from another site, which must be refused with 403 (cross-site request forgery).
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
            id: IdSource::Pointer("/id".to_owned()),
            read: None,
            writes: Vec::new(),
            expected: StatusCode::NOT_FOUND,
        }
    }

    /// The owner creates the resource with a JSON POST; its id is read from the response
    /// (at `/id`, or see [`id_at`](Self::id_at)).
    pub fn create(mut self, uri: &str, body: serde_json::Value) -> Self {
        self.create = Some((uri.to_owned(), Body::Json(body)));
        self
    }

    /// The owner creates the resource with a form POST (`text=buy+milk`,
    /// `application/x-www-form-urlencoded`), as a page's form does. A success or a redirect
    /// (`303 See Other`) is a creation; say where its id is with
    /// [`id_from_location`](Self::id_from_location) or [`id_with`](Self::id_with).
    pub fn create_form(mut self, uri: &str, body: &str) -> Self {
        self.create = Some((uri.to_owned(), Body::Form(body.to_owned())));
        self
    }

    /// Where the id is in the creation response (a JSON pointer; default `/id`).
    pub fn id_at(mut self, pointer: &str) -> Self {
        self.id = IdSource::Pointer(pointer.to_owned());
        self
    }

    /// The id is in the creation response's `Location` header, where `{id}` stands in
    /// `template`: with `/notes/{id}`, `Location: /notes/3` gives `3` (an absolute URL's
    /// path is matched the same way).
    pub fn id_from_location(mut self, template: &str) -> Self {
        self.id = IdSource::Location(template.to_owned());
        self
    }

    /// The id is what `find` returns for the creation response (`None`: no id, a finding).
    ///
    /// ```no_run
    /// # use authgate::testing::{OwnershipProbe, TestClient};
    /// # async fn demo(client: TestClient, alice: String, bob: String) {
    /// // `Location: /notes#note-3`
    /// OwnershipProbe::cookies(client, &alice, &bob)
    ///     .create_form("/notes", "text=buy+milk")
    ///     .id_with(|reply| Some(reply.header("location")?.strip_prefix("/notes#note-")?.to_owned()))
    ///     .post_form("/notes/{id}/delete", "")
    ///     .assert()
    ///     .await;
    /// # }
    /// ```
    pub fn id_with<F>(mut self, find: F) -> Self
    where
        F: Fn(&TestResponse) -> Option<String> + Send + Sync + 'static,
    {
        self.id = IdSource::With(Box::new(find));
        self
    }

    /// The read URI, with `{id}` for the id.
    pub fn read(mut self, uri: &str) -> Self {
        self.read = Some(uri.to_owned());
        self
    }

    /// An update the other user must be refused (`{id}` for the id).
    pub fn update(mut self, method: Method, uri: &str, body: serde_json::Value) -> Self {
        self.writes
            .push((method, uri.to_owned(), Some(Body::Json(body))));
        self
    }

    /// A form POST the other user must be refused: a page's edit or delete form (`{id}` for
    /// the id, in `uri` and in `body`).
    pub fn post_form(mut self, uri: &str, body: &str) -> Self {
        let body = Body::Form(body.to_owned());
        self.writes.push((Method::POST, uri.to_owned(), Some(body)));
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

    /// `request` with `body`, `{id}` replaced by `id` in a form.
    fn with_body(request: TestRequest, body: Option<&Body>, id: &str) -> TestRequest {
        match body {
            None => request,
            Some(Body::Json(value)) => request.json(value),
            Some(Body::Form(form)) => request.form(&form.replace("{id}", id)),
        }
    }

    /// The owner's read of the resource, if a read URI was given.
    async fn owner_read(&self, id: &str) -> Option<TestResponse> {
        let read = self.read.as_ref()?;
        let request = self.client.get(&read.replace("{id}", id));
        Some(self.owner.on(request).send().await)
    }

    /// Runs the probe: create as the owner, try every access as the other user, then check as
    /// the owner that the resource is unchanged. With cookies, the owner's writes from another
    /// site follow, and the resource must still be unchanged. `Err` lists every access that
    /// falls short.
    pub async fn run(self) -> Result<(), Vec<String>> {
        let mut findings = Vec::new();
        let mut finding = |method: &str, path: &str, problem: String| {
            findings.push(format!("{method} {path}: {problem}"));
        };
        let Some((create_uri, body)) = &self.create else {
            finding("POST", "?", "no create request given".into());
            return outcome(findings);
        };
        let request = self.owner.on(self.client.post(create_uri));
        let created = OwnershipProbe::with_body(request, Some(body), "")
            .send()
            .await;
        if !created.status.is_success() && !created.status.is_redirection() {
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
        let id = match self.id.find(&created) {
            Ok(id) => id,
            Err(problem) => {
                finding("POST", create_uri, problem);
                return outcome(findings);
            }
        };
        let before = self.owner_read(&id).await;
        let mut attempts: Vec<(Method, String, Option<Body>)> = Vec::new();
        if let Some(read) = &self.read {
            attempts.push((Method::GET, read.clone(), None));
        }
        attempts.extend(self.writes.iter().cloned());
        for (method, template, body) in attempts {
            let uri = template.replace("{id}", &id);
            let request = self.other.on(self.client.request(method.clone(), &uri));
            let reply = OwnershipProbe::with_body(request, body.as_ref(), &id)
                .send()
                .await;
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
        // Each phase is judged against the read before it: a change by the other user is
        // reported once, not again after the requests from another site.
        let same =
            |before: &Option<TestResponse>, after: &Option<TestResponse>| match (before, after) {
                (Some(before), Some(after)) => {
                    after.status == before.status && after.body == before.body
                }
                _ => true,
            };
        let read = self.read.as_deref().unwrap_or_default();
        let after_other = self.owner_read(&id).await;
        if !same(&before, &after_other) {
            finding(
                "GET",
                read,
                "the owner's resource changed after the other user's attempts".into(),
            );
        }
        let Credential::Cookie(cookie) = &self.owner else {
            return outcome(findings);
        };
        for (method, template, body) in &self.writes {
            let uri = template.replace("{id}", &id);
            let request = cross_site(self.client.request(method.clone(), &uri), cookie);
            let reply = OwnershipProbe::with_body(request, body.as_ref(), &id)
                .send()
                .await;
            if reply.status != StatusCode::FORBIDDEN {
                finding(
                    method.as_str(),
                    template,
                    format!(
                        "the owner's own cookie sent from another site got {}; expected 403 \
                         (cross-site request forgery)",
                        reply.status.as_u16()
                    ),
                );
            }
        }
        if !self.writes.is_empty() && !same(&after_other, &self.owner_read(&id).await) {
            finding(
                "GET",
                read,
                "the owner's resource changed after the requests from another site".into(),
            );
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

#[cfg(test)]
mod tests {
    use super::id_in;

    #[test]
    fn ids_in_location_headers() {
        let id = |template, location| id_in(template, location);
        assert_eq!(id("/notes/{id}", "/notes/3").as_deref(), Some("3"));
        assert_eq!(id("/notes/{id}", "/notes/3?saved").as_deref(), Some("3"));
        assert_eq!(
            id("/notes/{id}", "http://127.0.0.1:8080/notes/3").as_deref(),
            Some("3")
        );
        assert_eq!(
            id("/notes/{id}/edit", "/notes/a-b/edit").as_deref(),
            Some("a-b")
        );
        assert_eq!(
            id("/notes#note-{id}", "/notes#note-12").as_deref(),
            Some("12")
        );
        assert_eq!(id("/notes/{id}", "/login?next=%2Fnotes"), None);
        assert_eq!(id("/notes/{id}", "/notes/"), None);
        assert_eq!(id("/notes/{id}/edit", "/notes/3/4/edit"), None);
        assert_eq!(id("/notes", "/notes"), None, "a template without {{id}}");
    }
}
