//! The route audit: every route's method, full path, policy and handler, as a table and as
//! JSON.

use std::fmt;

use serde::Serialize;

use crate::policy::PolicySpec;

/// One line of the route audit: a method and full path, the policy that guards it, and the
/// handler.
///
/// ```
/// use authgate::{Gate, Router, public, require_role, routing::get};
///
/// #[public(reason = "load-balancer health check")]
/// async fn health() -> &'static str { "ok" }
///
/// #[require_role("admin")]
/// async fn users() -> &'static str { "[]" }
///
/// let app: Router<Gate> = Router::new()
///     .route("/health", get(health))
///     .nest("/api", Router::new().route("/admin/users", get(users)));
/// let lines: Vec<String> = app.audit().iter().map(|route| route.to_string()).collect();
/// assert_eq!(lines, [
///     "GET /health public: load-balancer health check",
///     "GET /api/admin/users require_role(admin)",
/// ]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoutePolicy {
    method: &'static str,
    path: String,
    #[serde(serialize_with = "display")]
    policy: PolicySpec,
    handler: &'static str,
}

fn display<S: serde::Serializer>(policy: &PolicySpec, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(policy)
}

impl RoutePolicy {
    pub(crate) fn new(
        method: &'static str,
        path: String,
        policy: PolicySpec,
        handler: &'static str,
    ) -> Self {
        RoutePolicy {
            method,
            path,
            policy,
            handler,
        }
    }

    /// The same route, accepting only the credential kinds `kinds` allows too.
    pub(crate) fn narrowed(mut self, kinds: crate::credentials::Kinds) -> Self {
        self.policy = self.policy.narrowed(kinds);
        self
    }

    /// `GET`, `POST`, ..., `ANY` for every method, or `*` for a fallback or a service.
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The full path template, with the prefixes of every `nest`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The policy.
    pub fn policy(&self) -> &PolicySpec {
        &self.policy
    }

    /// The handler's name (`users`), or `service` for a service.
    pub fn handler(&self) -> &'static str {
        self.handler
    }

    /// The path, under a prefix (`nest`).
    pub(crate) fn nested(mut self, prefix: &str) -> Self {
        self.path = match self.path.as_str() {
            "/" => prefix.to_owned(),
            "*" => format!("{prefix}/*"),
            path => format!("{prefix}{path}"),
        };
        self
    }

    /// The policy as the audit shows it: for a guarded `ANY` route or fallback, with the note
    /// that cookie credentials are origin-checked on every method there, `GET` included.
    fn policy_cell(&self) -> String {
        let every_method = matches!(self.method, "ANY" | "*");
        if every_method && self.policy.requires_authentication() {
            format!("{} [origin checked on every method]", self.policy)
        } else {
            self.policy.to_string()
        }
    }
}

impl fmt::Display for RoutePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.method, self.path, self.policy_cell())
    }
}

/// The route audit: every route's method, full path, policy and handler, from
/// [`Router::audit`](crate::Router::audit). As a table (`Display`) and as JSON
/// ([`to_json`](Self::to_json)), for a CI step that diffs it so a reviewer sees every new
/// public route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RouteAudit(Vec<RoutePolicy>);

impl RouteAudit {
    pub(crate) fn new(routes: Vec<RoutePolicy>) -> Self {
        RouteAudit(routes)
    }

    /// Every route, in the order they were added.
    pub fn iter(&self) -> std::slice::Iter<'_, RoutePolicy> {
        self.0.iter()
    }

    /// Pretty JSON: an array of `{"method", "path", "policy", "handler"}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.0).unwrap_or_else(|_| "[]".to_owned())
    }
}

impl<'a> IntoIterator for &'a RouteAudit {
    type Item = &'a RoutePolicy;
    type IntoIter = std::slice::Iter<'a, RoutePolicy>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// An aligned table with a header row, one line per route.
impl fmt::Display for RouteAudit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<[String; 4]> = self
            .0
            .iter()
            .map(|r| {
                [
                    r.method.to_owned(),
                    r.path.clone(),
                    r.policy_cell(),
                    r.handler.to_owned(),
                ]
            })
            .collect();
        let header = ["METHOD", "PATH", "POLICY", "HANDLER"].map(str::to_owned);
        let mut widths = [0usize; 3];
        for row in std::iter::once(&header).chain(&rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            for (cell, width) in row.iter().zip(widths) {
                write!(f, "{cell:<width$}  ")?;
            }
            writeln!(f, "{}", row[3])?;
        }
        Ok(())
    }
}
