//! Handlers that several test binaries route: the role and scope forms the core tests and the
//! authorization attacks share, and a session login and logout.

use authgate::{
    CurrentUser, Gate, Identity, LoginAttempt, public, require_auth, require_role, require_scope,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::gate::Hits;

#[require_role(any("admin", "billing"))]
pub async fn admin_or_billing(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "admin or billing"
}

#[require_role(all("staff", "billing"))]
pub async fn staff_and_billing(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "staff and billing"
}

#[require_scope(all("invoices:read", "invoices:write"))]
pub async fn read_write_invoices(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "read and write"
}

#[require_role("admin")]
#[require_scope("users:write")]
pub async fn admin_write_users(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "admin + users:write"
}

/// Logs in the subject named by the body (tests only): role `admin` for the body `admin`,
/// else role `user`. 204 with the session cookie.
#[public(reason = "login: the body is the subject (tests only)")]
pub async fn login(State(gate): State<Gate>, attempt: LoginAttempt, body: String) -> Response {
    let roles: Vec<&str> = if body == "admin" {
        vec!["admin"]
    } else {
        vec!["user"]
    };
    match gate.login(&attempt, Identity::new(body).roles(roles)).await {
        Ok(cookie) => (cookie, StatusCode::NO_CONTENT).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Ends the caller's session: 204 with a clearing cookie.
#[require_auth]
pub async fn logout(State(gate): State<Gate>, user: CurrentUser) -> Response {
    match gate.logout(&user).await {
        Ok(cookie) => (cookie, StatusCode::NO_CONTENT).into_response(),
        Err(e) => e.into_response(),
    }
}
