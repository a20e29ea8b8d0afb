//! [`OwnershipProbe`]: two accounts, one resource, every way the other account could reach it.

use http::{Method, StatusCode};

use super::TestClient;
use super::client::{TestRequest, TestResponse};
use super::probe::{Credential, cross_site, outcome, panic_on};

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
        async move { panic_on("ownership probe", caller, self.run().await) }
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
