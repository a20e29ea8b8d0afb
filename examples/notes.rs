//! The notes API: a login issuing refresh tokens, notes with owner checks, an admin.
use std::{error::Error, sync::Arc};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use authgate::routing::{delete, get, post};
use authgate::{CurrentUser, Gate, Identity, Load, LoginAttempt, Router};
use authgate::{issuers::Issuer, resource::Resource, revocation::Revocations};
use authgate::{owned_by, public, require_auth, require_role};
use authgate::{store::MemoryStore, store::StoreError, tokens::RefreshTokens};
use axum::extract::{FromRef, Path, State};
use axum::{Json, http::StatusCode, response::IntoResponse, response::Response};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

#[derive(Clone)]
pub struct App {
    gate: Gate,
    users: Arc<Vec<(String, String, &'static str)>>, // email, argon2id hash, role
    notes: Arc<Mutex<Vec<Note>>>,
}

impl FromRef<App> for Gate {
    fn from_ref(app: &App) -> Gate {
        app.gate.clone()
    }
}

#[derive(Clone, Serialize)]
pub struct Note {
    id: usize,
    owner: String,
    text: String,
}

/// The user with this email and password, after the same argon2 work for an unknown one.
async fn check(app: &App, email: &str, pw: String) -> Option<Identity> {
    let found = app.users.iter().find(|(e, ..)| e == email).cloned();
    let hash = found.as_ref().or(app.users.first()).map(|u| u.1.clone());
    let verified = tokio::task::spawn_blocking(move || {
        let (hash, argon2) = (PasswordHash::new(hash.as_deref()?).ok()?, Argon2::default());
        argon2.verify_password(pw.as_bytes(), &hash).ok()
    });
    let verified = matches!(verified.await, Ok(Some(())));
    let (email, _, role) = found.filter(|_| verified)?;
    Some(Identity::new(email).roles([role]))
}

impl Resource<App> for Note {
    type Id = usize;
    async fn load(id: usize, app: &App) -> Result<Option<Note>, StoreError> {
        Ok(app.notes.lock().await.iter().find(|n| n.id == id).cloned())
    }
}

#[derive(Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
}

/// `{"access_token", "refresh_token", ..}`; from another site, 403 before the body is read.
#[public(reason = "login: checks the password, issues tokens")]
async fn login(State(app): State<App>, _: LoginAttempt, Json(c): Json<Credentials>) -> Response {
    match check(&app, &c.email, c.password).await {
        Some(user) => app.gate.issue(&user).await.map(Json).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

#[public(reason = "token refresh: the refresh token is the credential")]
async fn refresh(State(app): State<App>, Json(body): Json<serde_json::Value>) -> Response {
    let token = body["refresh_token"].as_str().unwrap_or_default();
    app.gate.refresh(token).await.map(Json).into_response()
}

#[require_auth]
async fn my_notes(State(app): State<App>, user: CurrentUser) -> Json<Vec<Note>> {
    let notes = app.notes.lock().await;
    Json(
        notes
            .iter()
            .filter(|n| n.owner == user.subject())
            .cloned()
            .collect(),
    )
}

#[require_auth]
async fn add_note(State(app): State<App>, user: CurrentUser, text: String) -> StatusCode {
    let mut notes = app.notes.lock().await;
    let (id, owner) = (notes.len() + 1, user.subject().to_owned());
    notes.push(Note { id, owner, text });
    StatusCode::CREATED
}

#[require_auth]
#[owned_by(note.owner, or_role = "admin")]
async fn show_note(Load(note): Load<Note>) -> Json<Note> {
    Json(note)
}

/// Ends everything the user holds, on every instance: refresh and access tokens, sessions.
#[require_role("admin")]
async fn lock_out(State(app): State<App>, Path(email): Path<String>) -> Response {
    let revoked = app.gate.revoke_user(&email).await;
    revoked.map(|_| StatusCode::NO_CONTENT).into_response()
}

/// Email, password, role.
pub type Account<'a> = (&'a str, &'a str, &'static str);

pub async fn app(secret: &str, accounts: &[Account<'_>]) -> Result<Router, Box<dyn Error>> {
    let store = MemoryStore::new(); // or authgate_sqlx::SqliteStore, authgate_redis::RedisStore..
    let issuer = Issuer::new("https://notes.example.com").secret(secret); // verifies and signs
    let gate = Gate::builder()
        .issuer(issuer.audience("notes-api"))
        .refresh_tokens(RefreshTokens::new(store.clone()))
        .revocations(Revocations::new(store))
        .build()?;
    let mut users = Vec::new();
    for (email, password, role) in accounts {
        let hash = Argon2::default().hash_password(password.as_bytes())?;
        users.push((email.to_string(), hash.to_string(), *role));
    }
    let app = App {
        gate,
        users: Arc::new(users),
        notes: Arc::default(),
    };
    Ok(Router::new()
        .route("/login", post(login))
        .route("/token/refresh", post(refresh))
        .route("/notes", get(my_notes).post(add_note))
        .route("/notes/{id}", get(show_note))
        .route("/admin/users/{email}", delete(lock_out))
        .with_state(app))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let secret = std::env::var("NOTES_SECRET")?; // 32 bytes or more
    let accounts = [
        ("alice@example.com", "alice-password", "user"),
        ("root@example.com", "root-password", "admin"),
    ];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    Ok(axum::serve(listener, app(&secret, &accounts).await?.into_axum()).await?)
}
