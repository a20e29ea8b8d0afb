//! The test identity provider: an axum server on a free loopback port serving an OpenID
//! Connect Discovery document and a JWKS, which a test rotates, slows down, takes down or
//! makes serve garbage; with the fetches it answered counted.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authgate::keys::Algorithm;

use super::tokens::jwa;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::EncodingKey;
use jsonwebtoken::jwk::Jwk;
use serde_json::{Value, json};

/// What the provider answers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Up,
    /// 500 on every path.
    Down,
    /// A body that is not JSON.
    Garbage,
    /// A JWKS of more than 64 KiB.
    Oversized,
    /// Answers after this long.
    Slow(Duration),
}

pub struct ProviderState {
    pub mode: Mode,
    pub keys: Vec<Value>,
    /// The `issuer` its discovery document names (default: its own base URL).
    pub discovery_issuer: Option<String>,
}

#[derive(Clone)]
pub struct Provider {
    pub state: Arc<Mutex<ProviderState>>,
    pub jwks_fetches: Arc<AtomicUsize>,
    pub discovery_fetches: Arc<AtomicUsize>,
    pub addr: SocketAddr,
}

impl Provider {
    /// A provider on a free loopback port serving `keys`.
    pub async fn start(keys: Vec<Value>) -> Provider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let provider = Provider {
            state: Arc::new(Mutex::new(ProviderState {
                mode: Mode::Up,
                keys,
                discovery_issuer: None,
            })),
            jwks_fetches: Arc::default(),
            discovery_fetches: Arc::default(),
            addr: listener.local_addr().unwrap(),
        };
        let app = axum::Router::new()
            .route("/jwks.json", axum::routing::get(serve_jwks))
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(serve_discovery),
            )
            .with_state(provider.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        provider
    }

    pub fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn jwks_url(&self) -> String {
        format!("http://{}/jwks.json", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }

    pub fn set_keys(&self, keys: Vec<Value>) {
        self.state.lock().unwrap().keys = keys;
    }

    pub fn fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }
}

/// Slowness, errors and garbage, common to both documents.
async fn misbehave(provider: &Provider) -> Option<Response> {
    let mode = provider.state.lock().unwrap().mode;
    match mode {
        Mode::Up | Mode::Oversized => None,
        Mode::Down => Some(StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        Mode::Garbage => {
            Some(([(header::CONTENT_TYPE, "application/json")], "{\"keys\": [").into_response())
        }
        Mode::Slow(delay) => {
            tokio::time::sleep(delay).await;
            None
        }
    }
}

async fn serve_jwks(State(provider): State<Provider>) -> Response {
    provider.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    if let Some(response) = misbehave(&provider).await {
        return response;
    }
    let (mode, keys) = {
        let state = provider.state.lock().unwrap();
        (state.mode, state.keys.clone())
    };
    let mut document = json!({ "keys": keys });
    if mode == Mode::Oversized {
        document["padding"] = "x".repeat(70 * 1024).into();
    }
    (
        [(header::CACHE_CONTROL, "public, max-age=3600")],
        axum::Json(document),
    )
        .into_response()
}

async fn serve_discovery(State(provider): State<Provider>) -> Response {
    provider.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    if let Some(response) = misbehave(&provider).await {
        return response;
    }
    let issuer = provider.state.lock().unwrap().discovery_issuer.clone();
    axum::Json(json!({
        "issuer": issuer.unwrap_or_else(|| provider.issuer()),
        "jwks_uri": provider.jwks_url(),
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .into_response()
}

/// The public JWK of `key` for `alg`, with this `kid`.
pub fn jwk(key: &EncodingKey, alg: Algorithm, kid: &str) -> Value {
    let mut jwk = serde_json::to_value(Jwk::from_encoding_key(key, jwa(alg)).unwrap()).unwrap();
    jwk["kid"] = kid.into();
    jwk["use"] = "sig".into();
    jwk
}
