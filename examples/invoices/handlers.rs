//! The JSON API and the login endpoints. Each handler is a few lines: the attribute decides
//! who gets in, before any of the handler's own extractors run.

use authgate::resource::Resource;
use authgate::sessions::safe_next;
use authgate::store::StoreError;
use authgate::tokens::Tokens;
use authgate::{
    CurrentUser, Gate, Identity, Load, LoginAttempt, owned_by, public, require_auth, require_role,
};
use axum::body::Body;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::AppState;
use crate::db::{Db, Invoice, NewInvoice, User};
use crate::error::{ApiError, FieldErrors, Invalid};
use crate::limits::ClientAddress;
use crate::openapi::{ErrorBody, NewInvoiceBody};
use crate::pages;

#[utoipa::path(get, path = "/health", tag = "meta", responses(
    (status = 200, description = "The server is up", body = String, content_type = "text/plain"),
))]
#[public(reason = "load-balancer health check")]
pub async fn health() -> &'static str {
    "ok\n"
}

#[public(reason = "unknown paths answer 404")]
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// `POST /login`, JSON or form: checks the password within the login limits (see `limits`).
/// A form login (a browser) starts a session and sets its cookie; a JSON login (an API
/// client) gets a bearer token and a refresh token, and no session, which no such client
/// would present. Either kind from another site is refused first (login CSRF: `LoginAttempt`
/// applies the Gate's origin check), before the body is read or the attempt counted.
#[utoipa::path(post, path = "/login", tag = "auth",
    request_body(description = "JSON for a bearer token; the login form for a redirect", content(
        (LoginJson = "application/json"), (LoginForm = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "An OAuth token response (RFC 6749 section 5.1: a bearer \
            token for 15 minutes, a refresh token for `POST /token/refresh`), the bearer token \
            again as `token`, and the user; no session", body = LoginReply),
        (status = 303, description = "A form login: to `next` (a same-site path) or /dashboard, \
            with the session cookie", headers(("Location" = String))),
        (status = 400, description = "The body is not the JSON or form this route takes",
            body = ErrorBody),
        (status = 401, description = "Wrong email or password, one answer for both: JSON, or \
            the form again", content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 403, description = "A form or JSON post from another site (login CSRF)", body = ErrorBody),
        (status = 415, description = "Neither JSON nor a form", body = ErrorBody),
        (status = 422, description = "JSON without a string email and password", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address or for this account: \
            JSON, or the form again", headers(("Retry-After" = u64, description = "Seconds")),
            content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 503, description = "The database is unavailable, or every password check is \
            busy (then with `Retry-After: 1`)", headers(("Retry-After" = u64)),
            content((ErrorBody = "application/json"), (String = "text/html"))),
))]
#[public(reason = "login: checks the password")]
pub async fn login(
    State(app): State<AppState>,
    ClientAddress(address): ClientAddress,
    attempt: LoginAttempt,
    input: LoginInput,
) -> Result<Response, ApiError> {
    if let Err(refused) = app.limits.attempt(address, &input.email) {
        return Ok(input.refused(refused));
    }
    let checked = app
        .auth
        .check_password(&app.db, &input.email, &input.password)
        .await;
    let user = match checked {
        Err(ApiError::Busy) => return Ok(input.refused(ApiError::Busy)),
        checked => checked?,
    };
    let Some(user) = user else {
        return Ok(input.failed());
    };
    match input.next {
        Some(next) => {
            let cookie = app.gate.login(&attempt, identity(&user)).await?;
            Ok((cookie, Redirect::to(safe_next(Some(&next), "/dashboard"))).into_response())
        }
        None => {
            let tokens = app.gate.issue(&identity(&user)).await?;
            let body = LoginReply {
                tokens: RefreshReply::new(tokens),
                user,
            };
            Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
        }
    }
}

/// `POST /token/refresh`: a refresh token from a JSON login for a new bearer token and a new
/// refresh token; the one presented is used up. An unknown, expired (30 days from the login,
/// or 7 days unused) or already used one is 401 (a used one also ends its family and every
/// bearer token of the user), and so is a body that is not `{"refresh_token": ".."}`.
#[utoipa::path(post, path = "/token/refresh", tag = "auth",
    request_body(content = RefreshJson, content_type = "application/json"),
    responses(
        (status = 200, description = "An OAuth token response (RFC 6749 section 5.1): a new \
            bearer token (15 minutes) and a new refresh token; the bearer token again as \
            `token`", body = RefreshReply),
        (status = 401, description = "The refresh token is unknown, expired or was used before \
            (`invalid_token`)", body = ErrorBody, headers(("WWW-Authenticate" = String))),
        (status = 503, description = "The session store is unavailable", body = ErrorBody),
))]
#[public(reason = "token refresh: the refresh token is the credential")]
pub async fn refresh_token(State(gate): State<Gate>, body: Body) -> Result<Response, ApiError> {
    // A body over the limit, not JSON, or without a refresh token presents none: the Gate
    // refuses the empty token as malformed, 401 `invalid_token` like an unknown one.
    let presented = axum::body::to_bytes(body, MAX_REFRESH_BODY)
        .await
        .ok()
        .and_then(|bytes| serde_json::from_slice::<RefreshJson>(&bytes).ok())
        .map(|json| json.refresh_token)
        .unwrap_or_default();
    let tokens = gate.refresh(&presented).await?;
    let body = Json(RefreshReply::new(tokens));
    Ok(([(header::CACHE_CONTROL, "no-store")], body).into_response())
}

/// The largest refresh request body read (as before): a refresh token is a few dozen bytes.
const MAX_REFRESH_BODY: usize = 4 * 1024;

/// `POST /logout`: ends the caller's credential on every instance (`Gate::logout`): a
/// session is deleted server-side and its cookie cleared; a bearer token ends its login (the
/// refresh token of that login is refused from then on, and every access token of it). A form
/// post (the dashboard's button) is sent back to the login page with 303; anything else gets
/// 204.
#[utoipa::path(post, path = "/logout", tag = "auth", responses(
    (status = 204, description = "Logged out: the session ended and the cookie cleared, or the bearer token's login ended (its refresh token and access tokens)"),
    (status = 303, description = "A form post: back to the login page", headers(("Location" = String))),
))]
#[require_auth]
pub async fn logout(
    State(gate): State<Gate>,
    user: CurrentUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // A bearer logout clears no cookie: `cookie` is then empty.
    let cookie = gate.logout(&user).await?;
    if is_form(&headers) {
        return Ok((cookie, Redirect::to("/login")).into_response());
    }
    Ok((cookie, StatusCode::NO_CONTENT).into_response())
}

#[utoipa::path(get, path = "/api/me", tag = "auth", responses(
    (status = 200, description = "The caller", body = User),
))]
#[require_auth]
pub async fn me(State(db): State<Db>, user: CurrentUser) -> Result<Json<User>, ApiError> {
    let me = db
        .user(caller(&user)?)
        .await?
        .ok_or(ApiError::AccountGone)?;
    Ok(Json(me))
}

#[utoipa::path(get, path = "/api/invoices", tag = "invoices", responses(
    (status = 200, description = "The caller's invoices", body = Vec<Invoice>),
))]
#[require_auth]
pub async fn list_invoices(
    State(db): State<Db>,
    user: CurrentUser,
) -> Result<Json<Vec<Invoice>>, ApiError> {
    Ok(Json(db.invoices_of(caller(&user)?).await?))
}

/// `POST /api/invoices`: the owner is the caller, whatever the body says.
#[utoipa::path(post, path = "/api/invoices", tag = "invoices", request_body = NewInvoiceBody,
    responses(
        (status = 201, description = "Created, owned by the caller", body = Invoice,
            headers(("Location" = String, description = "The new invoice"))),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 415, description = "Not `Content-Type: application/json`", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = Invalid),
))]
#[require_auth]
pub async fn create_invoice(
    State(app): State<AppState>,
    user: CurrentUser,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let new = NewInvoice::from_json(&body?.0)?;
    let invoice = app
        .db
        .create_invoice(caller(&user)?, &new, app.gate.now())
        .await?;
    let invoice = invoice.ok_or(ApiError::AccountGone)?;
    app.feed.publish(&invoice);
    let location = format!("/api/invoices/{}", invoice.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(invoice),
    )
        .into_response())
}

/// Loads `{id}` for `Load<Invoice>`; a missing invoice and another user's answer the same 404,
/// a database that fails authgate's 503.
impl Resource<AppState> for Invoice {
    type Id = i64;
    async fn load(id: i64, state: &AppState) -> Result<Option<Self>, StoreError> {
        state.db.invoice(id).await.map_err(StoreError::unavailable)
    }
}

#[utoipa::path(get, path = "/api/invoices/{id}", tag = "invoices",
    params(("id" = i64, Path, description = "The invoice id")),
    responses((status = 200, description = "The invoice", body = Invoice)),
)]
#[require_auth]
#[owned_by(invoice.user_id)]
pub async fn show_invoice(Load(invoice): Load<Invoice>) -> Json<Invoice> {
    Json(invoice)
}

#[utoipa::path(delete, path = "/api/invoices/{id}", tag = "invoices",
    params(("id" = i64, Path, description = "The invoice id")),
    responses((status = 204, description = "Deleted")),
)]
#[require_auth]
#[owned_by(invoice.user_id)]
pub async fn delete_invoice(
    State(db): State<Db>,
    Load(invoice): Load<Invoice>,
) -> Result<StatusCode, ApiError> {
    db.delete_invoice(invoice.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/admin/users", tag = "admin", responses(
    (status = 200, description = "Every user (never password data)", body = Vec<User>),
))]
#[require_role("admin")]
pub async fn list_users(State(db): State<Db>) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(db.users().await?))
}

/// `DELETE /api/admin/users/{id}`: the user, their invoices and all their sessions.
#[utoipa::path(delete, path = "/api/admin/users/{id}", tag = "admin",
    params(("id" = i64, Path, description = "The user id")),
    responses(
        (status = 204, description = "The user, their invoices and their sessions are gone"),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "Admins cannot delete their own account", body = ErrorBody),
))]
#[require_role("admin")]
pub async fn delete_user(
    State(app): State<AppState>,
    admin: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id?;
    if caller(&admin)? == id {
        return Err(ApiError::Conflict("cannot delete your own account"));
    }
    let existed = app.db.delete_user(id).await?;
    // After the delete, so that a token issued by a login still in flight is revoked too;
    // also for an id already gone, so that a retry after a failed revocation finishes it.
    // Ends the user's sessions and bearer tokens on every instance: a deleted admin loses
    // admin access at once.
    app.gate.revoke_user(&id.to_string()).await?;
    if !existed {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's user id: the verified subject, never anything from the request.
pub fn caller(user: &CurrentUser) -> Result<i64, ApiError> {
    user.id().map_err(|_| ApiError::AccountGone)
}

/// Who a login is for: the user id as the subject, and the user's roles.
fn identity(user: &User) -> Identity {
    Identity::new(user.id.to_string()).roles(user.roles.iter().cloned())
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

impl NewInvoice {
    /// `{"amount_cents": positive integer, "description": 1 to 200 characters}`; other
    /// fields (such as `user_id`) are ignored.
    pub fn from_json(body: &Value) -> Result<NewInvoice, ApiError> {
        let amount = body.get("amount_cents").and_then(whole_number);
        let description = body.get("description").and_then(Value::as_str);
        NewInvoice::validate(amount, description).map_err(ApiError::Invalid)
    }

    /// The same rules for the dashboard's form, whose fields arrive as text.
    pub fn validate(
        amount: Option<i64>,
        description: Option<&str>,
    ) -> Result<NewInvoice, FieldErrors> {
        let mut errors = FieldErrors::new();
        let amount = amount.filter(|a| *a > 0);
        if amount.is_none() {
            errors.insert("amount_cents", "must be a positive integer");
        }
        // At most 200 characters as sent (what the schema's maxLength counts), not blank.
        let description = description
            .filter(|d| d.chars().count() <= 200)
            .map(str::trim)
            .filter(|d| !d.is_empty());
        if description.is_none() {
            errors.insert("description", "must be 1 to 200 characters");
        }
        match (amount, description) {
            (Some(amount_cents), Some(description)) => Ok(NewInvoice {
                amount_cents,
                description: description.to_owned(),
            }),
            _ => Err(errors),
        }
    }
}

/// A JSON integer, also when written with a zero fraction (`4200.0`), which JSON Schema's
/// `integer` includes.
fn whole_number(value: &Value) -> Option<i64> {
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    value.as_i64().or_else(|| {
        let float = value.as_f64()?;
        // `as` is exact here: a whole number strictly inside the i64 range.
        (float.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&float)).then_some(float as i64)
    })
}

/// The body of `POST /login`: JSON `{email, password}` (answered with tokens and the user),
/// or a form `email, password, next` (answered with a redirect).
pub struct LoginInput {
    email: String,
    password: String,
    /// `Some` for a form login: where to go after it (validated by `safe_next`).
    next: Option<String>,
}

/// The answer to a JSON login: the tokens, and the user.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginReply {
    #[serde(flatten)]
    tokens: RefreshReply,
    user: User,
}

/// The body of `POST /token/refresh`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshJson {
    refresh_token: String,
}

/// The tokens of a login or a refresh: authgate's OAuth token response (RFC 6749 section
/// 5.1), and beside its `access_token` the same token as `token`, the field this API answered
/// with before that, so that its existing clients keep working.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RefreshReply {
    #[serde(flatten)]
    #[schema(value_type = TokenResponse)]
    tokens: Tokens,
    /// The bearer token again: the same value as `access_token`.
    token: String,
}

impl RefreshReply {
    fn new(tokens: Tokens) -> RefreshReply {
        RefreshReply {
            token: tokens.access_token().to_owned(),
            tokens,
        }
    }
}

/// An OAuth token response (RFC 6749 section 5.1), as authgate's `Tokens` serializes it: this
/// type only documents it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // never built: its fields are read by the schema derive only
pub struct TokenResponse {
    /// A bearer token, for `Authorization: Bearer`.
    access_token: String,
    /// `Bearer`.
    token_type: String,
    /// Seconds until the bearer token expires.
    expires_in: u64,
    /// For `POST /token/refresh`, once (the one presented is used up).
    refresh_token: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginJson {
    email: String,
    password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

impl LoginInput {
    /// The answer to a wrong password or an unknown email: the same bytes for both.
    fn failed(&self) -> Response {
        match &self.next {
            Some(next) => pages::login_failed(next),
            None => ApiError::BadCredentials.into_response(),
        }
    }

    /// The answer to a login the limits refused (429 or 503 with `Retry-After`): the login
    /// form with a note for a browser, JSON for an API client.
    fn refused(&self, error: ApiError) -> Response {
        let response = error.into_response();
        match &self.next {
            Some(next) => pages::login_refused(next, response),
            None => response,
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for LoginInput {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_form(req.headers()) {
            let Json(login) = Json::<LoginJson>::from_request(req, state).await?;
            return Ok(LoginInput {
                email: login.email,
                password: login.password,
                next: None,
            });
        }
        // The origin was checked before: `LoginAttempt` comes first in the handler.
        let Form(login) = Form::<LoginForm>::from_request(req, state)
            .await
            .map_err(|_| ApiError::BadBody(StatusCode::BAD_REQUEST, "send email and password"))?;
        Ok(LoginInput {
            email: login.email,
            password: login.password,
            next: Some(login.next),
        })
    }
}
