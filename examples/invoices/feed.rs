//! The live feed: each new invoice is pushed to its owner's open sockets
//! (`GET /api/invoices/feed`, a WebSocket). The dashboard opens it with its session cookie;
//! an API client offers its bearer token as the `authgate.bearer.<token>` subprotocol.
//!
//! authgate checks the handshake like any request, before the upgrade: the caller must be
//! logged in, and a cookie handshake must come from this site's own pages (a page on another
//! port or subdomain gets 403). A socket closes when the credential that opened it expires.

use std::time::{Duration, SystemTime};

use authgate::{CurrentUser, Gate, public, require_auth};
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast;

use crate::db::Invoice;
use crate::error::ApiError;
use crate::handlers::caller;
use crate::openapi::ErrorBody;

/// New invoices, for every open socket; each socket keeps its caller's own. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Feed {
    sender: broadcast::Sender<Invoice>,
}

impl Feed {
    /// A feed that holds up to 256 invoices for a socket that reads slowly.
    pub fn new() -> Feed {
        Feed {
            sender: broadcast::channel(256).0,
        }
    }

    /// Tells the open sockets about a new invoice (none open: nothing to do).
    pub fn publish(&self, invoice: &Invoice) {
        let _ = self.sender.send(invoice.clone());
    }
}

/// `GET /api/invoices/feed`: a socket of the caller's new invoices, as JSON text messages.
#[utoipa::path(get, path = "/api/invoices/feed", tag = "invoices",
    description = "A WebSocket (`Upgrade: websocket`): each new invoice of the caller, as a JSON \
        text message, until the credential that opened it expires. A browser page opens it \
        with its session cookie; another client offers its bearer token as the subprotocol \
        `authgate.bearer.<token>`, and the server selects `authgate`.",
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket handshake", body = String,
            content_type = "text/plain"),
        (status = 403, description = "A session-cookie handshake from another origin (checked \
            like a state change)", body = ErrorBody),
        (status = 426, description = "The handshake asked for an unsupported WebSocket version",
            body = String, content_type = "text/plain"),
))]
#[require_auth]
pub async fn invoice_feed(
    State(feed): State<Feed>,
    user: CurrentUser,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let owner = caller(&user)?;
    // The credential's end, as a deadline on the tokio clock.
    let left = user
        .expires_at()
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    let updates = feed.sender.subscribe();
    Ok(ws
        .protocols([Gate::WEBSOCKET_PROTOCOL])
        .on_upgrade(move |socket| serve(socket, owner, updates, left)))
}

async fn serve(
    mut socket: WebSocket,
    owner: i64,
    mut updates: broadcast::Receiver<Invoice>,
    left: Duration,
) {
    let expiry = tokio::time::sleep(left);
    tokio::pin!(expiry);
    loop {
        tokio::select! {
            () = &mut expiry => break,
            update = updates.recv() => match update {
                Ok(invoice) if invoice.user_id == owner => {
                    let Ok(json) = serde_json::to_string(&invoice) else { continue };
                    if socket.send(Message::text(json)).await.is_err() {
                        return;
                    }
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

/// The dashboard's script: opens the feed and appends each new invoice to the table, as text.
#[utoipa::path(get, path = "/static/feed.js", tag = "pages", responses(
    (status = 200, description = "The dashboard's live-feed script", body = String,
        content_type = "text/javascript; charset=utf-8"),
))]
#[public(reason = "the dashboard's live-feed script (static)")]
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
        .into_response()
}

const SCRIPT: &str = r##""use strict";
const rows = document.getElementById("invoices");
const scheme = location.protocol === "https:" ? "wss://" : "ws://";
const socket = new WebSocket(scheme + location.host + "/api/invoices/feed");
socket.addEventListener("message", (event) => {
  const invoice = JSON.parse(event.data);
  const row = rows.insertRow(-1);
  const cells = ["#" + invoice.id, (invoice.amount_cents / 100).toFixed(2), invoice.description];
  for (const text of cells) {
    row.insertCell(-1).textContent = text;
  }
  row.cells[1].className = "amount";
  document.getElementById("empty")?.remove();
});
"##;
