//! Shared helpers of the HTTP-level tests: keys, token minting, a fixed-clock Gate, an app state
//! with a handler-ran counter, a `oneshot` request helper, rejection assertions, a request body
//! that reports whether it was read, and a tracing capture.
//!
//! Every test binary includes this module with `mod support;` and uses a different subset of
//! it, hence the `dead_code` allowance.

#![allow(dead_code)]

use std::cell::RefCell;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};

use authgate::{Algorithm, Gate, GateBuilder};
use axum::body::{Body, Bytes};
use axum::extract::FromRef;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The fixed time every Gate of the tests sees (seconds since the epoch).
pub const NOW: u64 = 1_900_000_000;
pub const ISS: &str = "https://auth.example.test";
pub const AUD: &str = "authgate-tests";
pub const REALM: &str = "tests";
/// The HS256 secret of the default test Gate (38 bytes).
pub const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-tests";

// ---------------------------------------------------------------------------------------------
// Keys

/// The bytes of a file in `tests/keys/`.
pub fn pem(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

pub fn rsa_signing_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&pem("rsa_private.pem")).expect("RSA private key")
}

pub fn ec256_signing_key() -> EncodingKey {
    EncodingKey::from_ec_pem(&pem("ec256_private.pk8.pem")).expect("P-256 private key")
}

pub fn ec384_signing_key() -> EncodingKey {
    EncodingKey::from_ec_pem(&pem("ec384_private.pem")).expect("P-384 private key")
}

pub fn ed25519_signing_key() -> EncodingKey {
    EncodingKey::from_ed_pem(&pem("ed25519_private.pem")).expect("Ed25519 private key")
}

pub fn hs_signing_key() -> EncodingKey {
    EncodingKey::from_secret(SECRET)
}

// ---------------------------------------------------------------------------------------------
// Tokens

/// Valid claims for `sub` under the default Gate: issuer, audience, `iat` now, `exp` in 10 min.
pub fn claims(sub: &str) -> Value {
    json!({ "sub": sub, "iss": ISS, "aud": AUD, "iat": NOW, "exp": NOW + 600 })
}

/// `claims(sub)` with `roles` set.
pub fn claims_with_roles(sub: &str, roles: &[&str]) -> Value {
    with(claims(sub), "roles", json!(roles))
}

/// The claims with `key` set to `value`.
pub fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims
        .as_object_mut()
        .expect("claims are an object")
        .insert(key.to_owned(), value);
    claims
}

/// The claims without `key`.
pub fn without(mut claims: Value, key: &str) -> Value {
    claims
        .as_object_mut()
        .expect("claims are an object")
        .remove(key);
    claims
}

/// A JWS of `claims` signed with `alg` and `key`, with an optional `kid` header.
pub fn sign(alg: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("encode token")
}

/// An HS256 token of `claims` signed with the default Gate's secret.
pub fn hs256(claims: &Value) -> String {
    sign(Algorithm::HS256, &hs_signing_key(), None, claims)
}

/// A valid HS256 token for `sub` with these roles.
pub fn token(sub: &str, roles: &[&str]) -> String {
    hs256(&claims_with_roles(sub, roles))
}

/// A JWS built from a hand-written header and raw payload bytes, correctly signed with
/// `alg`/`key`: for duplicate claims, `crit`, non-UTF-8 payloads and similar.
pub fn sign_raw(header_json: &str, payload: &[u8], alg: Algorithm, key: &EncodingKey) -> String {
    let message = format!("{}.{}", b64url(header_json.as_bytes()), b64url(payload));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).expect("sign");
    format!("{message}.{signature}")
}

/// Unpadded base64url (RFC 4648 section 5), written out to avoid a dependency.
pub fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The three parts of a compact JWS.
pub fn parts(token: &str) -> (&str, &str, &str) {
    let mut it = token.split('.');
    let parts = (
        it.next().expect("header"),
        it.next().expect("payload"),
        it.next().expect("signature"),
    );
    assert!(it.next().is_none(), "not a three-part token: {token}");
    parts
}

// ---------------------------------------------------------------------------------------------
// Gate and app state

/// The default test Gate: realm `tests`, the HS256 test secret, issuer and audience required,
/// the clock fixed at `NOW`.
pub fn gate_builder() -> GateBuilder {
    Gate::builder()
        .realm(REALM)
        .hs256(SECRET)
        .issuer(ISS)
        .audience(AUD)
        .clock(|| NOW)
}

/// A Gate with only the realm, issuer, audience and clock set: add keys yourself.
pub fn keyless_gate_builder() -> GateBuilder {
    Gate::builder()
        .realm(REALM)
        .issuer(ISS)
        .audience(AUD)
        .clock(|| NOW)
}

pub fn gate() -> Gate {
    gate_builder().build().expect("default test gate")
}

/// Counts handler bodies that ran. Every test handler calls `hit()` first thing.
#[derive(Clone, Default, Debug)]
pub struct Hits(Arc<AtomicUsize>);

impl Hits {
    pub fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// The state of every test app: the Gate the guards read, and the handler-ran counter.
#[derive(Clone)]
pub struct AppState {
    pub gate: Gate,
    pub hits: Hits,
}

impl AppState {
    pub fn new(gate: Gate) -> Self {
        AppState {
            gate,
            hits: Hits::default(),
        }
    }
}

impl FromRef<AppState> for Gate {
    fn from_ref(state: &AppState) -> Gate {
        state.gate.clone()
    }
}

impl FromRef<AppState> for Hits {
    fn from_ref(state: &AppState) -> Hits {
        state.hits.clone()
    }
}

// ---------------------------------------------------------------------------------------------
// Requests and replies

/// A request with an optional bearer token and an empty body.
pub fn request(method: Method, uri: &str, token: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(Body::empty()).expect("request")
}

/// `GET uri` with an optional bearer token.
pub fn get_request(uri: &str, token: Option<&str>) -> Request<Body> {
    request(Method::GET, uri, token)
}

/// `GET uri` with these raw `Authorization` header values (none, one, or several).
pub fn get_with_authorization(uri: &str, values: &[HeaderValue]) -> Request<Body> {
    let mut req = get_request(uri, None);
    for value in values {
        req.headers_mut()
            .append(header::AUTHORIZATION, value.clone());
    }
    req
}

/// A response, with its body read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The single value of a header as text; panics if it appears more than once.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.get_all(name).iter();
        let value = values.next()?;
        assert!(values.next().is_none(), "header {name} appears twice");
        Some(value.to_str().expect("header value is text"))
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("UTF-8 body")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }
}

/// Sends one request through a clone of the app with `oneshot` and reads the whole body.
/// Installs the log router first, so no authgate event fires before it (see
/// [`install_log_router`]).
pub async fn send(app: &axum::Router, req: Request<Body>) -> Reply {
    install_log_router();
    let response = app.clone().oneshot(req).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("read body").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

// ---------------------------------------------------------------------------------------------
// Expected rejections

/// The fixed message of each rejection code.
pub fn message_of(code: &str) -> &'static str {
    match code {
        "unauthenticated" | "redirect" => "authentication is required",
        "invalid_token" => "the credential is invalid or expired",
        "forbidden" => "you do not have access to this resource",
        "not_found" => "not found",
        "unavailable" => "authentication is temporarily unavailable",
        "internal_error" => "internal server error",
        other => panic!("unknown rejection code {other}"),
    }
}

/// `Bearer realm="tests"`: no credential.
pub fn www_missing() -> String {
    format!(r#"Bearer realm="{REALM}""#)
}

/// `Bearer realm="tests", error="invalid_token"`.
pub fn www_invalid_token() -> String {
    format!(r#"Bearer realm="{REALM}", error="invalid_token""#)
}

/// `Bearer realm="tests", error="invalid_request"`.
pub fn www_invalid_request() -> String {
    format!(r#"Bearer realm="{REALM}", error="invalid_request""#)
}

/// `Bearer realm="tests", error="insufficient_scope"[, scope="..."]`.
pub fn www_insufficient(scope: Option<&str>) -> String {
    match scope {
        Some(scope) => {
            format!(r#"Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}""#)
        }
        None => format!(r#"Bearer realm="{REALM}", error="insufficient_scope""#),
    }
}

/// Asserts a default-rendered rejection: status, exact `WWW-Authenticate` (or its absence),
/// `Cache-Control: no-store`, `Content-Type: application/json` and exactly
/// `{"error": code, "message": <the fixed message>}`.
#[track_caller]
pub fn assert_rejection(reply: &Reply, status: u16, code: &str, www: Option<&str>) {
    assert_eq!(
        reply.status.as_u16(),
        status,
        "status; body: {:?}",
        reply.body
    );
    assert_eq!(
        reply.header("www-authenticate"),
        www,
        "WWW-Authenticate of a {status} {code}"
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.json(),
        json!({ "error": code, "message": message_of(code) }),
        "body of a {status} {code}"
    );
}

#[track_caller]
pub fn assert_unauthenticated(reply: &Reply) {
    assert_rejection(reply, 401, "unauthenticated", Some(&www_missing()));
}

#[track_caller]
pub fn assert_invalid_token(reply: &Reply) {
    assert_rejection(reply, 401, "invalid_token", Some(&www_invalid_token()));
}

#[track_caller]
pub fn assert_invalid_request(reply: &Reply) {
    assert_rejection(reply, 401, "invalid_token", Some(&www_invalid_request()));
}

#[track_caller]
pub fn assert_forbidden(reply: &Reply, scope: Option<&str>) {
    assert_rejection(reply, 403, "forbidden", Some(&www_insufficient(scope)));
}

/// Asserts a 200 with this text body, and no `WWW-Authenticate`.
#[track_caller]
pub fn assert_ok(reply: &Reply, body: &str) {
    assert_eq!(reply.status, StatusCode::OK, "body: {:?}", reply.body);
    assert_eq!(reply.text(), body);
    assert_eq!(reply.header("www-authenticate"), None);
}

// ---------------------------------------------------------------------------------------------
// A request body that tells whether it was read

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

// ---------------------------------------------------------------------------------------------
// Log capture

/// A shared buffer a `tracing_subscriber::fmt` subscriber writes into.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn contents(&self) -> String {
        String::from_utf8(self.0.lock().expect("log lock").clone()).expect("UTF-8 logs")
    }
}

impl io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

thread_local! {
    /// The buffer of the current thread's capture, if one is active.
    static CAPTURE: RefCell<Option<LogBuffer>> = const { RefCell::new(None) };
}

/// Writes into the current thread's capture buffer, or nowhere.
struct ThreadWriter;

impl io::Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        CAPTURE.with(|capture| match &mut *capture.borrow_mut() {
            Some(buffer) => buffer.write(buf),
            None => Ok(buf.len()),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Installs, once per test binary, a global TRACE-level fmt subscriber that writes into the
/// capture buffer of the thread that emitted the event.
///
/// Why global and not `tracing::subscriber::set_default` per test: tracing caches each
/// callsite's interest process-wide. When one test thread registers a callsite with no
/// subscriber while another thread is installing its scoped subscriber, the callsite can stay
/// cached as "never", and the capturing test misses events at random. A global subscriber
/// installed before the first request of the binary (`send` calls this) avoids the race; the
/// per-test capture stays thread-local, so parallel tests do not see each other's events.
pub fn install_log_router() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(|| ThreadWriter)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
    });
}

/// Ends the current thread's capture when dropped.
#[must_use = "the capture ends when the guard drops"]
pub struct CaptureGuard(());

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURE.with(|capture| capture.borrow_mut().take());
    }
}

/// Captures the events this thread emits (at every level, through the fmt formatter) into the
/// returned buffer until the guard drops. Use it from a current-thread runtime
/// (`#[tokio::test]`), where the requests run on the test's own thread.
pub fn capture_logs() -> (LogBuffer, CaptureGuard) {
    install_log_router();
    let buffer = LogBuffer::default();
    CAPTURE.with(|capture| *capture.borrow_mut() = Some(buffer.clone()));
    (buffer, CaptureGuard(()))
}

/// Asserts that one line of the captured logs contains every fragment.
#[track_caller]
pub fn assert_logged(logs: &str, fragments: &[&str]) {
    assert!(
        logs.lines()
            .any(|line| fragments.iter().all(|f| line.contains(f))),
        "no log line with all of {fragments:?}:\n{logs}"
    );
}

/// Asserts one `access decision` event per `(route, outcome, reason)`.
#[track_caller]
pub fn assert_decisions(logs: &str, decisions: &[(&str, &str, &str)]) {
    for (route, outcome, reason) in decisions {
        assert_logged(
            logs,
            &[
                "access decision",
                &format!("route={route} "),
                &format!(r#"outcome="{outcome}""#),
                &format!(r#"reason="{reason}""#),
            ],
        );
    }
}
