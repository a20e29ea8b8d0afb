//! WebSockets over a real connection: a real client (tokio-tungstenite) opens sockets to a
//! server on 127.0.0.1. A cookie-authenticated handshake from another origin (another port or
//! subdomain of the site: cross-site WebSocket hijacking) is refused with 403 before the
//! upgrade; an anonymous one with 401; role checks apply as on any route; a bearer client
//! offers its token as the `authgate.bearer.<token>` subprotocol, which the server never
//! echoes.
//!
//! - OWASP ASVS 5.0.0: V17.3.1 (WebSocket handshakes check `Origin` against the allowed
//!   origins), V17.3.2 (the session of a WebSocket is authenticated by the handshake), V3.5.1.
//! - OWASP API Security Top 10 2023: API2 (Broken Authentication), API5 (Broken Function Level
//!   Authorization on a socket route).

use std::net::SocketAddr;

use authgate::sessions::Sessions;
use authgate::store::MemoryStore;
use authgate::{CurrentUser, Gate, Identity, Router, require_auth, require_role, routing};
use axum::extract::State;
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::response::Response;

use crate::support::*;

/// The subprotocol the server selects, and the prefix of the one that carries a bearer token.
const WEBSOCKET_PROTOCOL: &str = Gate::WEBSOCKET_PROTOCOL;
const WEBSOCKET_BEARER_PREFIX: &str = Gate::WEBSOCKET_BEARER_PREFIX;

/// Sends the caller's subject over the socket, then closes it.
#[require_auth]
async fn feed(State(hits): State<Hits>, ws: WebSocketUpgrade, user: CurrentUser) -> Response {
    hits.hit();
    let subject = user.subject().to_owned();
    ws.protocols([WEBSOCKET_PROTOCOL])
        .on_upgrade(move |mut socket| async move {
            let _ = socket.send(Message::text(subject)).await;
            let _ = socket.send(Message::Close(None)).await;
        })
}

#[require_role("admin")]
async fn admin_feed(State(hits): State<Hits>, ws: WebSocketUpgrade, user: CurrentUser) -> Response {
    hits.hit();
    let subject = format!("admin {}", user.subject());
    ws.on_upgrade(move |mut socket| async move {
        let _ = socket.send(Message::text(subject)).await;
        let _ = socket.send(Message::Close(None)).await;
    })
}

struct Server {
    addr: SocketAddr,
    hits: Hits,
    alice: String,
    root: String,
}

impl Server {
    /// The app on 127.0.0.1 (an OS-chosen port), with a session for `alice` (a user) and one
    /// for `root` (an admin).
    async fn start() -> Server {
        install_log_router();
        let gate = gate_builder()
            .sessions(Sessions::server_side(COOKIE, MemoryStore::new()))
            .build()
            .expect("gate");
        let alice = login_cookie(&gate, Identity::new("alice").roles(["user"])).await;
        let root = login_cookie(&gate, Identity::new("root").roles(["admin"])).await;
        let state = AppState::new(gate);
        let hits = state.hits.clone();
        let app = Router::new()
            .route("/ws", routing::get(feed))
            .route("/ws/admin", routing::get(admin_feed))
            .with_state(state)
            .into_axum();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Server {
            addr,
            hits,
            alice,
            root,
        }
    }

    /// The site's own origin, as a browser on it sends it.
    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Opens a socket to `path` with these extra headers; `Ok` holds the first text message
    /// and the selected subprotocol.
    async fn open(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<(String, Option<String>), Refusal> {
        let url = format!("ws://{}{path}", self.addr);
        let (mut socket, protocol) = open_socket(&url, headers).await?;
        Ok((next_text(&mut socket).await, protocol))
    }
}

/// Checks a refused handshake: status, challenge, and the body of the code.
#[track_caller]
fn assert_refused(refused: &Refusal, status: u16, code: &str, www: Option<String>) {
    assert_eq!(refused.status, status, "{refused:?}");
    assert_eq!(refused.www, www, "{refused:?}");
    assert_eq!(
        refused.body,
        format!(r#"{{"error":"{code}","message":"{}"}}"#, message_of(code))
    );
}

#[tokio::test]
async fn cookie_sockets_from_another_origin_are_refused_before_the_upgrade() {
    let server = Server::start().await;
    let cookie = server.alice.clone();
    let same = server.origin();
    let sibling_port = format!("http://127.0.0.1:{}", server.addr.port().wrapping_add(1));
    let mut attacks = 0;
    for (what, headers) in [
        (
            "an Origin on another port of the host",
            vec![("origin", sibling_port.as_str())],
        ),
        (
            "a sibling subdomain's Origin",
            vec![("origin", "http://chat.127.0.0.1.nip.io")],
        ),
        (
            "Sec-Fetch-Site: same-site",
            vec![("origin", same.as_str()), ("sec-fetch-site", "same-site")],
        ),
        (
            "Sec-Fetch-Site: cross-site",
            vec![("sec-fetch-site", "cross-site")],
        ),
        ("Origin: null", vec![("origin", "null")]),
    ] {
        let mut headers = headers;
        headers.push(("cookie", cookie.as_str()));
        let refused = server.open("/ws", &headers).await.expect_err(what);
        assert_refused(&refused, 403, "forbidden", None);
        attacks += 1;
    }
    assert_eq!(
        server.hits.count(),
        0,
        "a refused handshake ran the handler"
    );

    let (subject, protocol) = server
        .open(
            "/ws",
            &[("origin", same.as_str()), ("cookie", cookie.as_str())],
        )
        .await
        .expect("the site's own page opens its socket");
    assert_eq!(subject, "alice");
    assert_eq!(protocol, None, "no subprotocol offered, none selected");
    let (subject, _) = server
        .open(
            "/ws",
            &[
                ("sec-fetch-site", "same-origin"),
                ("cookie", cookie.as_str()),
            ],
        )
        .await
        .expect("same-origin by fetch metadata");
    assert_eq!(subject, "alice");
    assert_eq!(server.hits.count(), 2);
    println!("[security] websocket/cookie origin: {attacks} attack case(s), 2 control(s)");
}

#[tokio::test]
async fn anonymous_and_unprivileged_sockets_are_refused() {
    let server = Server::start().await;
    let same = server.origin();
    let refused = server
        .open("/ws", &[("origin", same.as_str())])
        .await
        .expect_err("anonymous");
    assert_refused(&refused, 401, "unauthenticated", Some(www_missing()));
    let refused = server
        .open(
            "/ws/admin",
            &[("origin", same.as_str()), ("cookie", server.alice.as_str())],
        )
        .await
        .expect_err("a user on the admin socket");
    assert_refused(&refused, 403, "forbidden", None);
    let user_token = token("alice", &["user"]);
    let offered = format!("{WEBSOCKET_PROTOCOL}, {WEBSOCKET_BEARER_PREFIX}{user_token}");
    let refused = server
        .open("/ws/admin", &[("sec-websocket-protocol", offered.as_str())])
        .await
        .expect_err("a user's bearer token on the admin socket");
    assert_refused(&refused, 403, "forbidden", Some(www_insufficient(None)));
    assert_eq!(server.hits.count(), 0);

    let (subject, _) = server
        .open(
            "/ws/admin",
            &[("origin", same.as_str()), ("cookie", server.root.as_str())],
        )
        .await
        .expect("an admin opens the admin socket");
    assert_eq!(subject, "admin root");
    assert_eq!(server.hits.count(), 1);
    println!("[security] websocket/authentication and roles: 3 attack case(s), 1 control(s)");
}

/// A bearer client (a browser cannot set `Authorization` on a WebSocket) offers its token as
/// a subprotocol; the server selects `authgate`, never the entry that holds the token.
#[tokio::test]
async fn bearer_tokens_ride_in_the_subprotocol_and_are_never_echoed() {
    let server = Server::start().await;
    let valid = token("bob", &["user"]);
    let offered = format!("{WEBSOCKET_PROTOCOL}, {WEBSOCKET_BEARER_PREFIX}{valid}");
    let (subject, protocol) = server
        .open(
            "/ws",
            // Cross-site and from an evil page: a bearer token is not ambient, so no CSRF.
            &[
                ("sec-websocket-protocol", offered.as_str()),
                ("origin", "https://evil.example"),
            ],
        )
        .await
        .expect("a bearer socket");
    assert_eq!(subject, "bob");
    assert_eq!(protocol.as_deref(), Some(WEBSOCKET_PROTOCOL));

    let tampered = format!("{WEBSOCKET_PROTOCOL}, {WEBSOCKET_BEARER_PREFIX}{valid}x");
    let twice = format!("{WEBSOCKET_BEARER_PREFIX}{valid}, {WEBSOCKET_BEARER_PREFIX}{valid}");
    let empty = format!("{WEBSOCKET_PROTOCOL}, {WEBSOCKET_BEARER_PREFIX}");
    for (what, offered, www) in [
        ("a tampered token", tampered.as_str(), www_invalid_token()),
        ("two tokens", twice.as_str(), www_invalid_request()),
        ("an empty token", empty.as_str(), www_invalid_request()),
    ] {
        let refused = server
            .open("/ws", &[("sec-websocket-protocol", offered)])
            .await
            .expect_err(what);
        assert_refused(&refused, 401, "invalid_token", Some(www));
    }
    // A bad subprotocol token never falls back to the cookie.
    let refused = server
        .open(
            "/ws",
            &[
                ("sec-websocket-protocol", tampered.as_str()),
                ("cookie", server.alice.as_str()),
                ("origin", server.origin().as_str()),
            ],
        )
        .await
        .expect_err("a bad token next to a good cookie");
    assert_refused(&refused, 401, "invalid_token", Some(www_invalid_token()));
    assert_eq!(server.hits.count(), 1);
    println!("[security] websocket/bearer subprotocol: 4 attack case(s), 1 control(s)");
}
