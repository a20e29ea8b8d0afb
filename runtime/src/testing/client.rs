//! Sending requests to an app in-process, and reading whole responses.

use axum::body::{Body, Bytes};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use tower::ServiceExt;

/// Sends requests to an `axum::Router` in-process, with `tower::ServiceExt::oneshot`.
///
/// Build a request with [`get`](TestClient::get), [`post`](TestClient::post), .. and
/// [`TestRequest::send`] it, or [`send`](TestClient::send) one built by hand (an extension
/// method, a body that records whether it was read):
///
/// ```
/// use authgate::testing::TestClient;
/// use axum::{Router, body::Body, http::Request, routing::get};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let client = TestClient::new(Router::new().route("/", get(|| async { "ok" })));
/// let reply = client.get("/").header_bytes("x-raw", b"\xff").send().await;
/// assert_eq!(reply.text(), "ok");
/// let reply = client.send(Request::get("/").body(Body::empty()).unwrap()).await;
/// assert_eq!(reply.status, 200);
/// # }
/// ```
#[derive(Clone)]
pub struct TestClient {
    app: axum::Router,
}

impl TestClient {
    /// A client for `app`.
    pub fn new(app: axum::Router) -> Self {
        TestClient { app }
    }

    /// A request with any method.
    pub fn request(&self, method: Method, uri: &str) -> TestRequest {
        TestRequest {
            app: self.app.clone(),
            method,
            uri: uri.to_owned(),
            headers: HeaderMap::new(),
            body: Body::empty(),
        }
    }

    /// Sends a request built by hand and reads the whole response.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = match self.app.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// A GET request.
    pub fn get(&self, uri: &str) -> TestRequest {
        self.request(Method::GET, uri)
    }

    /// A POST request.
    pub fn post(&self, uri: &str) -> TestRequest {
        self.request(Method::POST, uri)
    }

    /// A PUT request.
    pub fn put(&self, uri: &str) -> TestRequest {
        self.request(Method::PUT, uri)
    }

    /// A PATCH request.
    pub fn patch(&self, uri: &str) -> TestRequest {
        self.request(Method::PATCH, uri)
    }

    /// A DELETE request.
    pub fn delete(&self, uri: &str) -> TestRequest {
        self.request(Method::DELETE, uri)
    }
}

/// A request being built; [`send`](TestRequest::send) it.
pub struct TestRequest {
    app: axum::Router,
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: Body,
}

impl TestRequest {
    /// Adds a header. Invalid names or values are a test bug and panic.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name =
            HeaderName::try_from(name).unwrap_or_else(|e| panic!("header name {name:?}: {e}"));
        let value =
            HeaderValue::try_from(value).unwrap_or_else(|e| panic!("header value for {name}: {e}"));
        self.headers.append(name, value);
        self
    }

    /// Adds a header whose value is raw bytes (obs-text, bytes that are not UTF-8). Repeated
    /// names give repeated headers, as with [`header`](Self::header).
    pub fn header_bytes(mut self, name: &str, value: &[u8]) -> Self {
        let name =
            HeaderName::try_from(name).unwrap_or_else(|e| panic!("header name {name:?}: {e}"));
        let value = HeaderValue::from_bytes(value)
            .unwrap_or_else(|e| panic!("header value for {name}: {e}"));
        self.headers.append(name, value);
        self
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(mut self, token: &str) -> Self {
        self.headers
            .insert(header::AUTHORIZATION, bearer_value(token));
        self
    }

    /// `Cookie: <cookie>`, plus `Sec-Fetch-Site: same-origin` as a browser on the same site
    /// would send, so state-changing requests pass the CSRF check.
    pub fn cookie(self, cookie: &str) -> Self {
        self.header("cookie", cookie)
            .header("sec-fetch-site", "same-origin")
    }

    /// A JSON body.
    pub fn json(mut self, value: &serde_json::Value) -> Self {
        self.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self.body = Body::from(value.to_string());
        self
    }

    /// A form body (`a=1&b=2`).
    pub fn form(mut self, body: &str) -> Self {
        self.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        self.body = Body::from(body.to_owned());
        self
    }

    /// Any body, with this `Content-Type` (none when empty).
    pub fn body(mut self, content_type: &str, body: impl Into<Body>) -> Self {
        if !content_type.is_empty() {
            self = self.header("content-type", content_type);
        }
        self.body = body.into();
        self
    }

    /// Sends the request and reads the whole response.
    pub async fn send(self) -> TestResponse {
        let mut request = Request::builder()
            .method(self.method)
            .uri(&self.uri)
            .body(self.body)
            .unwrap_or_else(|e| panic!("bad request URI {:?}: {e}", self.uri));
        *request.headers_mut() = self.headers;
        TestClient { app: self.app }.send(request).await
    }
}

/// A whole response.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TestResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl TestResponse {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// `Bearer <token>`, for the `Authorization` header.
pub(super) fn bearer_value(token: &str) -> HeaderValue {
    HeaderValue::try_from(format!("Bearer {token}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid"))
}
