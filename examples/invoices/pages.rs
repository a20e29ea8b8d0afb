//! The HTML pages: the login form and the dashboard. Anonymous visitors of the dashboard are
//! sent to the login form (`redirect = "/login"`) instead of getting a 401.

use authgate::sessions::safe_next;
use authgate::{CurrentUser, public, require_auth};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::db::{Invoice, NewInvoice};
use crate::error::{ApiError, FieldErrors};
use crate::handlers::caller;

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /login?next=/dashboard`: the form, which posts back `next`.
#[utoipa::path(get, path = "/login", tag = "pages",
    params(("next" = Option<String>, Query, description = "Where to go after logging in")),
    responses((status = 200, description = "The login form", body = String, content_type = "text/html")),
)]
#[public(reason = "login form")]
pub async fn login_form(Query(query): Query<LoginQuery>) -> Response {
    page(
        StatusCode::OK,
        "Log in",
        &login_body(query.next.as_deref(), false),
    )
}

/// The form again after a wrong email or password. It never repeats the email, so an
/// unknown email and a wrong password answer the same bytes.
pub fn login_failed(next: &str) -> Response {
    let mut response = page(
        StatusCode::UNAUTHORIZED,
        "Log in",
        &login_body(Some(next), true),
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static(r#"Bearer realm="invoices""#),
    );
    response
}

/// The form again after the login limits refused an attempt, with that answer's status and
/// `Retry-After`.
pub fn login_refused(next: &str, refusal: Response) -> Response {
    let mut response = page(
        refusal.status(),
        "Log in",
        &login_body_with(Some(next), THROTTLED),
    );
    if let Some(retry) = refusal.headers().get(header::RETRY_AFTER) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry.clone());
    }
    response
}

const THROTTLED: &str = "<p class=\"error\">Too many attempts. Try again in a minute.</p>";

#[utoipa::path(get, path = "/dashboard", tag = "pages", responses(
    (status = 200, description = "The caller's invoices", body = String, content_type = "text/html"),
))]
#[require_auth(redirect = "/login")]
pub async fn dashboard(
    State(app): State<AppState>,
    user: CurrentUser,
) -> Result<Response, ApiError> {
    let id = caller(&user)?;
    let me = app.db.user(id).await?.ok_or(ApiError::AccountGone)?;
    let invoices = app.db.invoices_of(id).await?;
    Ok(page(
        StatusCode::OK,
        "Dashboard",
        &dashboard_body(&me.email, &invoices),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct InvoiceForm {
    /// A positive amount in cents (the form sends it as text).
    #[serde(default)]
    #[schema(value_type = i64, minimum = 1, required = true)]
    amount_cents: String,
    /// At most 200 characters, not only white space.
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"\S", required = true)]
    description: String,
}

/// `POST /dashboard/invoices`: a cookie-authenticated form post, so the guard checks that it
/// comes from this site (CSRF) before anything else.
#[utoipa::path(post, path = "/dashboard/invoices", tag = "pages", operation_id = "create_invoice_form",
    request_body(content = InvoiceForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Created: back to the dashboard", headers(("Location" = String))),
        (status = 400, description = "The body cannot be read", body = String,
            content_type = "text/html"),
        (status = 415, description = "Not a form", body = String, content_type = "text/html"),
        (status = 422, description = "A field is invalid: a page that says which",
            body = String, content_type = "text/html"),
))]
#[require_auth(redirect = "/login")]
pub async fn create_invoice(
    State(app): State<AppState>,
    user: CurrentUser,
    form: Result<Form<InvoiceForm>, FormRejection>,
) -> Result<Response, ApiError> {
    // A page, not axum's plain-text rejection: this route answers browsers.
    let Form(form) = match form {
        Ok(form) => form,
        Err(rejection) => return Ok(unreadable_form(rejection.status())),
    };
    let amount = form.amount_cents.trim().parse().ok();
    let new = match NewInvoice::validate(amount, Some(&form.description)) {
        Ok(new) => new,
        Err(errors) => return Ok(invalid_invoice(&errors)),
    };
    let created = app
        .db
        .create_invoice(caller(&user)?, &new, app.gate.now())
        .await?;
    let invoice = created.ok_or(ApiError::AccountGone)?;
    app.feed.publish(&invoice);
    Ok(Redirect::to("/dashboard").into_response())
}

fn unreadable_form(status: StatusCode) -> Response {
    let body = "<h1>The form could not be read</h1>\
         <p><a href=\"/dashboard\">Back to the dashboard</a></p>";
    page(status, "Invalid invoice", body)
}

fn invalid_invoice(errors: &FieldErrors) -> Response {
    let items: String = errors
        .iter()
        .map(|(field, message)| format!("<li>{field}: {message}</li>"))
        .collect();
    let body = format!(
        "<h1>The invoice was not created</h1><ul class=\"error\">{items}</ul>\
         <p><a href=\"/dashboard\">Back to the dashboard</a></p>"
    );
    page(StatusCode::UNPROCESSABLE_ENTITY, "Invalid invoice", &body)
}

fn login_body(next: Option<&str>, failed: bool) -> String {
    let error = if failed {
        "<p class=\"error\">Wrong email or password.</p>"
    } else {
        ""
    };
    login_body_with(next, error)
}

fn login_body_with(next: Option<&str>, error: &str) -> String {
    // Only a safe same-site path is carried along; the login handler checks it again.
    let next = safe_next(next, "/dashboard");
    format!(
        "<h1>Log in</h1>{error}
<form method=\"post\" action=\"/login\">
  <label>Email <input type=\"email\" name=\"email\" autocomplete=\"username\" required></label>
  <label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>
  <input type=\"hidden\" name=\"next\" value=\"{}\">
  <button type=\"submit\">Log in</button>
</form>",
        escape(next)
    )
}

fn dashboard_body(email: &str, invoices: &[Invoice]) -> String {
    let rows: String = invoices
        .iter()
        .map(|i| {
            format!(
                "<tr><td>#{}</td><td class=\"amount\">{}</td><td>{}</td></tr>",
                i.id,
                money(i.amount_cents),
                escape(&i.description)
            )
        })
        .collect();
    // One table, also when empty: the live feed (static/feed.js) appends new invoices to it.
    let empty = if invoices.is_empty() {
        "<p id=\"empty\">No invoices yet.</p>"
    } else {
        ""
    };
    let table = format!(
        "{empty}<table id=\"invoices\"><tr><th>Invoice</th><th>Amount</th><th>Description</th></tr>{rows}</table>\
         <script src=\"/static/feed.js\"></script>"
    );
    format!(
        "<h1>Invoices of {}</h1>
<form method=\"post\" action=\"/logout\"><button type=\"submit\">Log out</button></form>
{table}
<h2>New invoice</h2>
<form method=\"post\" action=\"/dashboard/invoices\">
  <label>Amount in cents <input type=\"number\" name=\"amount_cents\" min=\"1\" required></label>
  <label>Description <input name=\"description\" maxlength=\"200\" required></label>
  <button type=\"submit\">Create</button>
</form>",
        escape(email)
    )
}

/// A whole page: no caching (it shows personal data), and a policy that runs only this site's
/// own script files (no inline script), connects only to this site (the live feed's socket)
/// and posts forms only to this site.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>
<html lang=\"en\">
<head>
<meta charset=\"utf-8\">
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">
<title>{title} · invoices</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }}
label {{ display: block; margin: 0.5rem 0; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 0.3rem; text-align: left; }}
.amount {{ text-align: right; }}
.error {{ color: #b00; }}
</style>
</head>
<body>
{body}
</body>
</html>
"
    );
    let headers = [
        (header::CACHE_CONTROL, "no-store"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; \
             form-action 'self'; frame-ancestors 'none'",
        ),
    ];
    (status, headers, Html(html)).into_response()
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

/// Escapes text for HTML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
