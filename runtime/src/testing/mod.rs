//! Test kit (feature `testing`): mint credentials from the app's own Gate, send requests
//! in-process, prove in one test that every route is protected, and check a store against its
//! contract. Enable it for tests only:
//! `[dev-dependencies] authgate = { version = "..", features = ["testing"] }`.
//!
//! - [`Minter`] mints what the Gate accepts, for made-up users: bearer tokens
//!   ([`token`](Minter::token)), ones it must refuse ([`expired`](Minter::expired),
//!   [`wrongly_signed`](Minter::wrongly_signed)), and session cookies through the Gate's own
//!   login ([`cookie`](Minter::cookie)). For a Gate that verifies an identity provider's
//!   tokens, [`Minter::with_key`] and [`Minter::issuer`] mint that issuer's tokens with a key
//!   the test gave the issuer.
//! - [`TestClient`] sends requests to an `axum::Router` with `oneshot`, and reads whole
//!   responses.
//! - [`RouteProbe`] visits every route of the router's audit: anonymous callers must get 401
//!   (or the declared 303 to the login page), callers without the declared roles or scopes
//!   403, and only the listed routes may be public. On a Gate with sessions, every guarded
//!   state change (`POST`, `PUT`, `PATCH`, `DELETE`) sent from another site with a valid
//!   session cookie must get 403 (cross-site request forgery).
//! - [`OwnershipProbe`] creates a resource as one user and tries to read, change and delete
//!   it as another, who must get 404 (or 403) each time while the resource stays as it was.
//!   It speaks JSON (an API) or forms (a page app: the id from the `Location` of the `303`),
//!   and with session cookies it also sends the owner's own writes from another site, which
//!   must get 403 and change nothing.
//! - [`Conformance`] runs the contract suites of [`LoginStore`](crate::store::LoginStore) and
//!   [`RevocationStore`](crate::store::RevocationStore) against a store of yours.
//!
//! # The probes send real requests
//!
//! `RouteProbe` and `OwnershipProbe` do not read the code: they send real requests to the
//! app, which its handlers answer. A route that is wrongly left unguarded really runs: a
//! `DELETE` really deletes, a `POST` really writes, a handler that sends mail sends it. That
//! is how they find it, and why they must run against a state built for the test: a fresh
//! `MemoryStore`, an in-memory or throw-away database, stubbed mail and payments. Never point
//! them at a database that matters.
//!
//! ```
//! use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
//! use authgate::issuers::Issuer;
//! use authgate::resource::Resource;
//! use authgate::routing::{get, post};
//! use authgate::store::StoreError;
//! use authgate::testing::{Minter, OwnershipProbe, RouteProbe, TestClient};
//! use authgate::{CurrentUser, Gate, Identity, Load, Router, owned_by, public, require_auth, require_role};
//! use axum::Json;
//! use axum::extract::{FromRef, State};
//! use axum::http::StatusCode;
//!
//! #[derive(Clone)]
//! struct AppState { gate: Gate, db: Db }
//!
//! impl FromRef<AppState> for Gate {
//!     fn from_ref(state: &AppState) -> Gate { state.gate.clone() }
//! }
//!
//! /// The documents (a database in a real app; `Db::default()` is an empty one).
//! #[derive(Clone, Default)]
//! struct Db(Arc<Mutex<Vec<Doc>>>);
//!
//! impl Db {
//!     fn lock(&self) -> MutexGuard<'_, Vec<Doc>> { self.0.lock().unwrap_or_else(PoisonError::into_inner) }
//! }
//!
//! #[derive(Clone, serde::Serialize)]
//! struct Doc { id: u64, owner: String }
//!
//! impl Resource<AppState> for Doc {
//!     type Id = u64;
//!     async fn load(id: u64, state: &AppState) -> Result<Option<Doc>, StoreError> {
//!         Ok(state.db.lock().iter().find(|d| d.id == id).cloned())
//!     }
//! }
//!
//! #[public(reason = "load-balancer health check")]
//! async fn health() -> &'static str { "ok" }
//!
//! #[require_auth]
//! async fn create(State(state): State<AppState>, user: CurrentUser) -> (StatusCode, Json<Doc>) {
//!     let mut docs = state.db.lock();
//!     let doc = Doc { id: docs.len() as u64 + 1, owner: user.subject().to_owned() };
//!     docs.push(doc.clone());
//!     (StatusCode::CREATED, Json(doc))
//! }
//!
//! #[require_auth]
//! #[owned_by(doc.owner)]
//! async fn show(Load(doc): Load<Doc>) -> Json<Doc> { Json(doc) }
//!
//! #[require_auth]
//! #[owned_by(doc.owner)]
//! async fn remove(State(state): State<AppState>, Load(doc): Load<Doc>) -> StatusCode {
//!     state.db.lock().retain(|d| d.id != doc.id);
//!     StatusCode::NO_CONTENT
//! }
//!
//! #[require_role("admin")]
//! async fn every_doc(State(state): State<AppState>) -> Json<Vec<Doc>> { Json(state.db.lock().clone()) }
//!
//! fn app(gate: Gate, db: Db) -> Router {
//!     Router::new()
//!         .route("/health", get(health))
//!         .route("/docs", post(create))
//!         .route("/docs/{id}", get(show).delete(remove))
//!         .route("/admin/docs", get(every_doc))
//!         .with_state(AppState { gate, db })
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // In a test: the app on a database of its own.
//! let gate = Gate::builder()
//!     .issuer(Issuer::new("https://docs.example.com").secret("a test-only secret of 32 bytes or more"))
//!     .build()?;
//! let minter = Minter::new(&gate)?;
//! let db = Db::default();
//! let app = app(gate, db.clone());
//!
//! RouteProbe::new(&app, &minter)
//!     .allow_public(["/health"]) // any other public route is a finding
//!     .expect_roles("/admin", ["admin"]) // every route there requires it
//!     .assert()
//!     .await;
//!
//! let alice = minter.token(&Identity::new("alice"));
//! let bob = minter.token(&Identity::new("bob"));
//! OwnershipProbe::bearer(TestClient::new(app.into_axum()), &alice, &bob)
//!     .create("/docs", serde_json::json!({}))
//!     .read("/docs/{id}")
//!     .delete("/docs/{id}")
//!     .assert() // bob: 404 each time; alice's document unchanged
//!     .await;
//! assert_eq!(db.lock().len(), 1);
//! # Ok(()) }
//! ```
//!
//! # A page app
//!
//! The same probes on server-rendered pages: a Gate with sessions only, page routes
//! (`redirect = "/login"`), a form that creates a note and answers `303` to its page, and a
//! delete form (HTML forms only `GET` and `POST`). The minter makes session cookies through
//! the Gate's own login; the route probe adds a forged post from another site to each form
//! route, and the ownership probe creates with the form and finds the id in `Location`.
//!
//! ```
//! use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
//! use authgate::resource::Resource;
//! use authgate::routing::{get, post};
//! use authgate::sessions::Sessions;
//! use authgate::store::{MemoryStore, StoreError};
//! use authgate::testing::{Minter, OwnershipProbe, RouteProbe, TestClient};
//! use authgate::{CurrentUser, Gate, Identity, Load, Router, owned_by, require_auth};
//! use axum::Form;
//! use axum::extract::{FromRef, State};
//! use axum::response::{Html, Redirect};
//!
//! #[derive(Clone)]
//! struct AppState { gate: Gate, notes: Notes }
//!
//! impl FromRef<AppState> for Gate {
//!     fn from_ref(state: &AppState) -> Gate { state.gate.clone() }
//! }
//!
//! #[derive(Clone, Default)]
//! struct Notes(Arc<Mutex<Vec<Note>>>);
//!
//! impl Notes {
//!     fn lock(&self) -> MutexGuard<'_, Vec<Note>> { self.0.lock().unwrap_or_else(PoisonError::into_inner) }
//! }
//!
//! #[derive(Clone)]
//! struct Note { id: u64, owner: String, text: String }
//!
//! impl Resource<AppState> for Note {
//!     type Id = u64;
//!     async fn load(id: u64, state: &AppState) -> Result<Option<Note>, StoreError> {
//!         Ok(state.notes.lock().iter().find(|n| n.id == id).cloned())
//!     }
//! }
//!
//! #[derive(serde::Deserialize)]
//! struct NewNote { text: String }
//!
//! /// The add form posts here: `303` to the new note's page.
//! #[require_auth(redirect = "/login")]
//! async fn add(State(state): State<AppState>, user: CurrentUser, Form(new): Form<NewNote>) -> Redirect {
//!     let mut notes = state.notes.lock();
//!     let id = notes.len() as u64 + 1;
//!     notes.push(Note { id, owner: user.subject().to_owned(), text: new.text });
//!     Redirect::to(&format!("/notes/{id}"))
//! }
//!
//! #[require_auth(redirect = "/login")]
//! #[owned_by(note.owner)]
//! async fn show(Load(note): Load<Note>) -> Html<String> {
//!     Html(format!("<p>{}</p>", note.text.replace('<', "&lt;")))
//! }
//!
//! /// The delete form posts here.
//! #[require_auth(redirect = "/login")]
//! #[owned_by(note.owner)]
//! async fn remove(State(state): State<AppState>, Load(note): Load<Note>) -> Redirect {
//!     state.notes.lock().retain(|n| n.id != note.id);
//!     Redirect::to("/")
//! }
//!
//! fn app(gate: Gate, notes: Notes) -> Router {
//!     Router::new()
//!         .route("/notes", post(add))
//!         .route("/notes/{id}", get(show))
//!         .route("/notes/{id}/delete", post(remove))
//!         .with_state(AppState { gate, notes })
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let gate = Gate::builder()
//!     .sessions(Sessions::server_side("__Host-notes", MemoryStore::new())) // a throw-away store
//!     .build()?;
//! let minter = Minter::new(&gate)?; // session cookies: this Gate takes no bearer token
//! let notes = Notes::default();
//! let app = app(gate, notes.clone());
//!
//! RouteProbe::new(&app, &minter)
//!     .allow_public([] as [&str; 0]) // no public page here
//!     .assert() // anonymous: 303 to /login; a forged post from another site: 403
//!     .await;
//!
//! let alice = minter.cookie(&Identity::new("alice")).await?;
//! let bob = minter.cookie(&Identity::new("bob")).await?;
//! OwnershipProbe::cookies(TestClient::new(app.into_axum()), &alice, &bob)
//!     .create_form("/notes", "text=buy+milk")
//!     .id_from_location("/notes/{id}") // `Location: /notes/1`
//!     .read("/notes/{id}")
//!     .post_form("/notes/{id}/delete", "")
//!     .assert() // bob: the 404 page each time; alice's forged delete: 403
//!     .await;
//! assert_eq!(notes.lock().len(), 1);
//! # Ok(()) }
//! ```
//!
//! `examples/pages.rs` is a whole page app (login form, logout, a public home page), and
//! `tests/browser.rs` drives it in a real Chromium.
//!
//! What the probe cannot know: it fills path parameters with `1`
//! ([`placeholder`](RouteProbe::placeholder) for others), and it only sends requests a
//! correct app refuses, so it never tests what should succeed, and not ownership: that is
//! `OwnershipProbe`'s job, with two accounts and the app's real routes. A public route that
//! checks a credential of its own (a refresh endpoint) answers 401 by design: list it with
//! [`own_credential`](RouteProbe::own_credential). For an app with layers added after
//! `into_axum`, build the probe with [`RouteProbe::from_parts`]. Each finding is one line,
//! `GET /path: what is wrong`; [`run`](RouteProbe::run) returns them, `assert` panics with
//! them.

mod client;
mod conformance;
mod mint;
mod ownership;
mod probe;

pub use client::{TestClient, TestRequest, TestResponse};
pub use conformance::Conformance;
pub use mint::Minter;
pub use ownership::OwnershipProbe;
pub use probe::RouteProbe;
