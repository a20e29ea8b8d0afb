//! Sending requests: always through `authgate::testing::TestClient`, made with [`client`] so
//! that the log capture is installed first. The table runner builds its requests with
//! [`raw::Req`] (raw header bytes, a `Cookie` without the `Sec-Fetch-Site` that
//! `TestRequest::cookie` adds, a body that reports whether anything read it) and sends them
//! with [`send_raw`], which is `TestClient::send`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use authgate::testing::{TestClient, TestRequest, TestResponse};
use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};

use super::logs::install_log_router;

/// A `TestClient` for `app`. Installs the log router first, so no authgate event fires before
/// it (see [`install_log_router`]).
pub fn client(app: axum::Router) -> TestClient {
    install_log_router();
    TestClient::new(app)
}

/// Sends a request built by hand through the app with `TestClient::send`.
pub async fn send_raw(app: &axum::Router, req: Request<Body>) -> TestResponse {
    client(app.clone()).send(req).await
}

/// A request body with these bytes, and a flag that flips as soon as anything polls a frame
/// out of it: proof that a rejection happened before the body was read.
pub fn probed_body(bytes: &'static [u8]) -> (Body, Arc<AtomicBool>) {
    let read = Arc::new(AtomicBool::new(false));
    let flag = read.clone();
    let body = Full::new(Bytes::from_static(bytes)).map_frame(move |frame| {
        flag.store(true, Ordering::SeqCst);
        frame
    });
    (Body::new(body), read)
}

/// The raw request builder.
pub mod raw {
    use super::*;

    /// A request under construction. Header values are raw bytes, so that non-ASCII and other
    /// hostile values can be sent as they are.
    pub struct Req {
        method: Method,
        uri: String,
        headers: Vec<(HeaderName, HeaderValue)>,
        body: Option<(&'static [u8], bool)>,
    }

    /// A request with `method` (any token, including extension methods) to `uri`.
    pub fn req(method: &str, uri: &str) -> Req {
        Req {
            method: Method::from_bytes(method.as_bytes()).expect("method"),
            uri: uri.to_owned(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(uri: &str) -> Req {
        req("GET", uri)
    }

    pub fn post(uri: &str) -> Req {
        req("POST", uri)
    }

    impl Req {
        /// Appends a header; repeated names give repeated headers.
        pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
            let name = HeaderName::from_bytes(name.as_bytes()).expect("header name");
            let value = HeaderValue::from_bytes(value.as_ref())
                .unwrap_or_else(|e| panic!("header value for {name}: {e}"));
            self.headers.push((name, value));
            self
        }

        /// `Authorization: Bearer <token>`.
        pub fn bearer(self, token: &str) -> Self {
            self.header("authorization", format!("Bearer {token}"))
        }

        /// `Authorization: <value>`, raw.
        pub fn authorization(self, value: impl AsRef<[u8]>) -> Self {
            self.header("authorization", value)
        }

        /// `Cookie: <pair>`, and nothing else.
        pub fn cookie(self, pair: &str) -> Self {
            self.header("cookie", pair)
        }

        /// A body that records whether anything read it; a table case then asserts it was
        /// not read. An empty `content_type` sends no `Content-Type` header.
        pub fn probed_body(mut self, content_type: &str, body: &'static [u8]) -> Self {
            if !content_type.is_empty() {
                self = self.header("content-type", content_type);
            }
            self.body = Some((body, true));
            self
        }

        /// A body nobody checks (for controls and cases where reading is fine).
        pub fn body(mut self, content_type: &str, body: &'static [u8]) -> Self {
            self = self.header("content-type", content_type);
            self.body = Some((body, false));
            self
        }

        /// The request, and the flag of its probed body if it has one.
        pub fn build(self) -> (Request<Body>, Option<Arc<AtomicBool>>) {
            let (body, read) = match self.body {
                Some((bytes, true)) => {
                    let (body, read) = probed_body(bytes);
                    (body, Some(read))
                }
                Some((bytes, false)) => (Body::from(bytes), None),
                None => (Body::empty(), None),
            };
            let mut request = Request::builder()
                .method(self.method)
                .uri(&self.uri)
                .body(body)
                .unwrap_or_else(|e| panic!("request URI {:?}: {e}", self.uri));
            for (name, value) in self.headers {
                request.headers_mut().append(name, value);
            }
            (request, read)
        }

        /// Sends the request with [`send_raw`].
        pub async fn send(self, app: &axum::Router) -> TestResponse {
            send_raw(app, self.build().0).await
        }
    }
}
