//! A server-rendered app: a login form, a session cookie, notes per user with a delete form
//! only their owner may post, one-time notices (flash messages kept with the session), a
//! logout, and a public home page that greets a logged-in visitor. Sessions live on the
//! server, in a `MemoryStore` (gone at a restart); every route takes the session cookie only.
//!
//! ```text
//! cargo run --example pages                              # http://127.0.0.1:3000
//! cargo run --example pages -- --addr 127.0.0.1:8080     # or PAGES_ADDR=127.0.0.1:8080
//! ```
//!
//! Log in as `alice@example.com` / `alice-password` or `bob@example.com` / `bob-password`.
//! The cookie is sent over plain HTTP (`insecure_for_local_development`), so it is for a
//! loopback address only; in production, serve HTTPS and name the cookie `__Host-pages`.
//! `tests/browser.rs` drives it in a real Chromium.
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use authgate::LoginAttempt;
use authgate::resource::Resource;
use authgate::routing::{get, post};
use authgate::sessions::{SessionData, Sessions, safe_next};
use authgate::store::{MemoryStore, StoreError};
use authgate::{ConfigError, CredentialKind, CurrentUser, Gate, GateBuilder, Identity, Load};
use authgate::{Rejection, Router, owned_by, public, require_auth};
use axum::Form;
use axum::extract::{FromRef, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The session cookie: no `__Host-` prefix, which browsers only accept over HTTPS.
pub const COOKIE: &str = "pages_session";

/// `builder` (the test gives one with its own clock) with server-side sessions.
pub fn gate(builder: GateBuilder) -> Result<Gate, ConfigError> {
    let sessions = Sessions::server_side(COOKIE, MemoryStore::new());
    builder
        .realm("pages")
        .sessions(sessions.insecure_for_local_development())
        .build()
}

#[derive(Clone)]
struct App {
    gate: Gate,
    notes: Notes,
}

impl FromRef<App> for Gate {
    fn from_ref(app: &App) -> Gate {
        app.gate.clone()
    }
}

#[derive(Clone)]
struct Note {
    id: u64,
    owner: String,
    text: String,
}

/// The notes (a database in a real app).
#[derive(Clone, Default)]
struct Notes(Arc<Mutex<Vec<Note>>>);

impl Notes {
    fn lock(&self) -> MutexGuard<'_, Vec<Note>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Resource<App> for Note {
    type Id = u64;
    async fn load(id: u64, app: &App) -> Result<Option<Note>, StoreError> {
        Ok(app.notes.lock().iter().find(|n| n.id == id).cloned())
    }
}

/// The demo accounts' check. A real app looks the user up and verifies an argon2id hash
/// (`examples/notes.rs` does).
fn check_password(email: &str, password: &str) -> Option<Identity> {
    let known = [
        ("alice@example.com", "alice-password"),
        ("bob@example.com", "bob-password"),
    ];
    known
        .contains(&(email, password))
        .then(|| Identity::new(email).roles(["user"]))
}

/// Text for HTML (a template engine does this for you).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Every page: a title, the notice of the last action (where one-time flash messages go), the
/// content.
fn page(title: &str, notice: Option<&str>, content: &str) -> Html<String> {
    let notice = notice.map_or_else(String::new, |text| {
        format!(r#"<p class="notice" role="status">{}</p>"#, escape(text))
    });
    Html(format!(
        "<!doctype html><title>{title}</title><h1>{title}</h1>{notice}{content}"
    ))
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    failed: Option<String>,
}

#[public(reason = "the home page: anyone, greeting a logged-in visitor")]
async fn home(user: Option<CurrentUser>) -> Html<String> {
    let content = match &user {
        Some(user) => format!(
            r#"<p id="who">Logged in as {}.</p><a href="/notes">Your notes</a>"#,
            escape(user.subject())
        ),
        None => r#"<p id="who">Not logged in.</p><a href="/login">Log in</a>"#.to_owned(),
    };
    page("Home", None, &content)
}

#[public(reason = "the login form")]
async fn login_form(Query(query): Query<LoginQuery>) -> Html<String> {
    let next = escape(safe_next(query.next.as_deref(), "/notes"));
    let notice = query.failed.is_some().then_some("Wrong email or password.");
    let form = format!(
        r#"<form method="post" action="/login">
<input name="email" type="email" aria-label="Email"> <input name="password" type="password" aria-label="Password">
<input name="next" type="hidden" value="{next}"> <button>Log in</button></form>"#
    );
    page("Log in", notice, &form)
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

#[public(reason = "the login form posts here")]
async fn login(
    State(gate): State<Gate>,
    attempt: LoginAttempt, // before `Form`: a cross-site post is refused unread
    Form(form): Form<LoginForm>,
) -> Result<Response, Rejection> {
    let next = safe_next(form.next.as_deref(), "/notes"); // never an open redirect
    let Some(user) = check_password(&form.email, &form.password) else {
        let query = query_value(next);
        return Ok(Redirect::to(&format!("/login?failed&next={query}")).into_response());
    };
    let cookie = gate.login(&attempt, user).await?; // a fresh session id
    Ok((cookie, Redirect::to(next)).into_response())
}

/// `next` as a query value: its reserved characters percent-encoded.
fn query_value(next: &str) -> String {
    next.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[require_auth(redirect = "/login")]
async fn logout(State(gate): State<Gate>, user: CurrentUser) -> Result<Response, Rejection> {
    let cookie = gate.logout(&user).await?; // deleted from the store, cleared in the browser
    Ok((cookie, Redirect::to("/")).into_response())
}

/// The key of the one-time notice of the last action.
const NOTICE: &str = "notice";

#[require_auth(redirect = "/login")]
async fn notes_page(
    State(app): State<App>,
    user: CurrentUser,
    mut data: SessionData,
) -> Result<Html<String>, Rejection> {
    // Shown once: taking it removes it from the session.
    let notice: Option<String> = data.take_flash(NOTICE).await?;
    let mut content = String::from(r#"<ul id="notes">"#);
    for note in app
        .notes
        .lock()
        .iter()
        .filter(|n| n.owner == user.subject())
    {
        content.push_str(&format!(
            r#"<li id="note-{id}">{text} <form method="post" action="/notes/{id}/delete"><button>Delete</button></form></li>"#,
            id = note.id,
            text = escape(&note.text),
        ));
    }
    content.push_str(
        r#"</ul><form method="post" action="/notes"><input name="text" aria-label="New note"> <button>Add</button></form>
<form method="post" action="/logout"><button>Log out</button></form>"#,
    );
    Ok(page("Your notes", notice.as_deref(), &content))
}

#[derive(Deserialize)]
struct NewNote {
    text: String,
}

/// The add form posts here; `303` to the list, at the new note.
#[require_auth(redirect = "/login")]
async fn add_note(
    State(app): State<App>,
    user: CurrentUser,
    mut data: SessionData,
    Form(new): Form<NewNote>,
) -> Result<Redirect, Rejection> {
    let id = {
        let mut notes = app.notes.lock();
        let id = notes.last().map_or(1, |last| last.id + 1);
        let owner = user.subject().to_owned();
        notes.push(Note {
            id,
            owner,
            text: new.text,
        });
        id
    };
    data.flash(NOTICE, "Note added.").await?;
    Ok(Redirect::to(&format!("/notes#note-{id}")))
}

/// HTML forms only `GET` and `POST`: the delete form posts here. Someone else's note answers
/// the 404 page of a missing one.
#[require_auth(redirect = "/login")]
#[owned_by(note.owner)]
async fn delete_note(
    State(app): State<App>,
    mut data: SessionData,
    Load(note): Load<Note>,
) -> Result<Redirect, Rejection> {
    app.notes.lock().retain(|n| n.id != note.id);
    data.flash(NOTICE, "Note deleted.").await?;
    Ok(Redirect::to("/notes"))
}

/// The app's routes. They take the session cookie only: a bearer token, which a browser
/// never sends on its own and which skips the origin check, is not examined.
pub fn app(gate: Gate) -> Router {
    let notes = Notes::default();
    Router::accepting(&[CredentialKind::Cookie])
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/notes", get(notes_page).post(add_note))
        .route("/notes/{id}/delete", post(delete_note))
        .with_state(App { gate, notes })
}

/// `--addr HOST:PORT`, else `PAGES_ADDR`, else `127.0.0.1:3000`.
fn addr(mut args: impl Iterator<Item = String>) -> Result<String, String> {
    let mut addr = std::env::var("PAGES_ADDR").ok();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = Some(args.next().ok_or("--addr needs HOST:PORT")?),
            other => {
                return Err(format!(
                    "unknown argument {other}; usage: pages [--addr HOST:PORT]"
                ));
            }
        }
    }
    Ok(addr.unwrap_or_else(|| "127.0.0.1:3000".to_owned()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = addr(std::env::args().skip(1))?;
    let app = app(gate(Gate::builder())?);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app.into_axum()).await?;
    Ok(())
}
