//! A real WebSocket client (tokio-tungstenite) for the tests that open sockets to a server on
//! 127.0.0.1.

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::{self, Error};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// An open client socket.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A handshake the server refused before upgrading: its status, challenge and body.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub www: Option<String>,
    pub body: String,
}

/// Opens a socket to `url` (`ws://...`) with these extra headers: the socket and the
/// subprotocol the server selected, or the refusal.
pub async fn open_socket(
    url: &str,
    headers: &[(&str, &str)],
) -> Result<(Socket, Option<String>), Refusal> {
    let mut request = url.into_client_request().expect("a request");
    for (name, value) in headers {
        request.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            HeaderValue::from_str(value).expect("a header value"),
        );
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, response)) => {
            let protocol = response
                .headers()
                .get("sec-websocket-protocol")
                .map(|v| v.to_str().expect("text").to_owned());
            Ok((socket, protocol))
        }
        Err(Error::Http(response)) => {
            let (parts, body) = response.into_parts();
            Err(Refusal {
                status: parts.status.as_u16(),
                www: parts
                    .headers
                    .get("www-authenticate")
                    .map(|v| v.to_str().expect("text").to_owned()),
                body: String::from_utf8(body.unwrap_or_default()).expect("a UTF-8 body"),
            })
        }
        Err(other) => panic!("connect: {other}"),
    }
}

/// The next text message of a socket (within five seconds).
pub async fn next_text(socket: &mut Socket) -> String {
    use futures_util::StreamExt;
    let message = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
        .await
        .expect("a message in time")
        .expect("an open socket")
        .expect("a message");
    match message {
        tungstenite::Message::Text(text) => text.to_string(),
        other => panic!("not a text message: {other:?}"),
    }
}
