//! The invoices example over real HTTP: its whole contract (issue 5), walked by a small
//! HTTP/1.1 client over TCP.
//!
//! Each contract check runs twice: alone, against the example's app built in this process on a
//! fresh in-memory database (the example's modules are included below), and all in a row
//! against the real example binary, started on a free loopback port with a temporary database
//! file. The binary run also checks the start banner (demo accounts, route audit), that its
//! output never carries a token, cookie, password or the secret, graceful shutdown on SIGTERM,
//! and that a restart keeps users, invoices and sessions without seeding again.
//!
//! Scaled out (with `AUTHGATE_TEST_POSTGRES_URL` and `AUTHGATE_TEST_REDIS_URL`; without them
//! these tests print one `skipped:` line and pass): two instances started at once on one fresh
//! PostgreSQL database, with their sessions in PostgreSQL or under one fresh Redis key prefix,
//! share users, invoices and sessions, in process and as two example processes.

mod support;

include!("invoices_app/modules.rs");

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The token secret of every server here; the binary test checks it never appears in output.
const SECRET: &str = "invoices-test-secret-3f9a1c7e5b2d4f6a8c0e";
/// A wrong password the tests send; it must never appear in the output either.
const WRONG_PASSWORD: &str = "wrong-password-7d41e0";
const COOKIE: &str = "invoices_session";
const NOT_FOUND: &str = r#"{"error":"not_found","message":"not found"}"#;
/// Login rates for the contract walks, which log the same accounts in from one address far
/// more often than a person would; `login_limits` tests the defaults.
const CONTRACT_RATES: limits::Rates = limits::Rates {
    per_address: std::num::NonZeroU32::new(6000).unwrap(),
    per_account: std::num::NonZeroU32::new(6000).unwrap(),
};

/// The route audit, exactly as the example prints it at start.
const AUDIT: [&str; 17] = [
    "GET /health public: load-balancer health check",
    "GET /openapi.json public: the OpenAPI document: how to call the API, no data",
    "GET /login public: login form",
    "POST /login public: login: checks the password",
    "POST /token/refresh public: token refresh: the refresh token is the credential",
    "POST /logout require_auth",
    "GET /api/me require_auth",
    "GET /api/invoices require_auth",
    "POST /api/invoices require_auth",
    "GET /api/invoices/feed require_auth",
    "GET /api/invoices/{id} require_auth + owned_by(invoice.user_id)",
    "DELETE /api/invoices/{id} require_auth + owned_by(invoice.user_id)",
    "GET /api/admin/users require_role(admin)",
    "DELETE /api/admin/users/{id} require_role(admin)",
    "GET /dashboard require_auth [redirect: /login]",
    "POST /dashboard/invoices require_auth [redirect: /login]",
    "GET /static/feed.js public: the dashboard's live-feed script (static)",
];

// ---------------------------------------------------------------------------------------------
// A small HTTP/1.1 client: one connection per request (`Connection: close`), read to the end.

#[derive(Clone)]
struct Client {
    addr: SocketAddr,
    /// The loopback address requests come from (the login limits count per address).
    from: std::net::Ipv4Addr,
    /// Every token and session-cookie value the server issued, for the log-hygiene check.
    issued: Arc<Mutex<Vec<String>>>,
}

#[derive(Clone, Copy)]
enum Cred<'a> {
    Anonymous,
    Bearer(&'a str),
    /// `name=value`, as sent in `Cookie`.
    Cookie(&'a str),
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The `name=value` of the first `Set-Cookie`.
    fn cookie(&self) -> String {
        let set = self.header("set-cookie").expect("a Set-Cookie header");
        set.split(';').next().unwrap_or_default().to_owned()
    }

    /// Status, headers and body, without `Date`: what must match byte for byte.
    fn bytes_without_date(&self) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let headers = self
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("date"))
            .cloned()
            .collect();
        (self.status, headers, self.body.clone())
    }
}

/// A logged-in user: the bearer token and the session cookie of one JSON login.
struct Login {
    id: i64,
    token: String,
    cookie: String,
}

impl Client {
    fn new(addr: SocketAddr) -> Client {
        Client {
            addr,
            from: std::net::Ipv4Addr::LOCALHOST,
            issued: Arc::default(),
        }
    }

    /// The same client, sending from another loopback address (127.0.0.0/8).
    fn sending_from(&self, from: std::net::Ipv4Addr) -> Client {
        assert!(from.is_loopback(), "loopback only");
        Client {
            from,
            ..self.clone()
        }
    }

    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        cred: Cred<'_>,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        match cred {
            Cred::Anonymous => {}
            Cred::Bearer(token) => head.push_str(&format!("Authorization: Bearer {token}\r\n")),
            Cred::Cookie(cookie) => head.push_str(&format!("Cookie: {cookie}\r\n")),
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let exchange = async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind((self.from, 0).into())?;
            let mut stream = socket.connect(self.addr).await?;
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body).await?;
            let mut raw = Vec::new();
            stream.read_to_end(&mut raw).await?;
            Ok::<_, std::io::Error>(raw)
        };
        let raw = tokio::time::timeout(Duration::from_secs(30), exchange)
            .await
            .unwrap_or_else(|_| panic!("{method} {path}: no answer within 30 s"))
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let reply = parse(&raw);
        self.remember(&reply);
        reply
    }

    fn remember(&self, reply: &Reply) {
        let mut issued = self.issued.lock().expect("issued list");
        for (name, value) in &reply.headers {
            if name.eq_ignore_ascii_case("set-cookie")
                && let Some((_, v)) = value.split(';').next().and_then(|p| p.split_once('='))
                && !v.is_empty()
            {
                issued.push(v.to_owned());
            }
        }
        if let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&reply.body) {
            for name in ["access_token", "token", "refresh_token"] {
                if let Some(Value::String(token)) = body.get(name) {
                    issued.push(token.clone());
                }
            }
        }
    }

    async fn get(&self, path: &str, cred: Cred<'_>) -> Reply {
        self.send("GET", path, cred, &[], b"").await
    }

    async fn delete(&self, path: &str, cred: Cred<'_>) -> Reply {
        self.send("DELETE", path, cred, &[], b"").await
    }

    async fn post_json(&self, path: &str, cred: Cred<'_>, body: &Value) -> Reply {
        let body = body.to_string();
        let headers = [("Content-Type", "application/json")];
        self.send("POST", path, cred, &headers, body.as_bytes())
            .await
    }

    async fn post_form(
        &self,
        path: &str,
        cred: Cred<'_>,
        form: &str,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        headers.extend_from_slice(extra);
        self.send("POST", path, cred, &headers, form.as_bytes())
            .await
    }

    /// Both logins, which must succeed: a JSON one for a bearer token (an API client) and a
    /// form one for a session cookie (a browser).
    async fn login(&self, email: &str, password: &str) -> Login {
        let reply = self
            .post_json(
                "/login",
                Cred::Anonymous,
                &json!({ "email": email, "password": password }),
            )
            .await;
        assert_eq!(reply.status, 200, "login of {email}: {}", reply.text());
        let body = reply.json();
        let browser = self.form_login(email, password).await;
        assert_eq!(
            browser.status,
            303,
            "form login of {email}: {}",
            browser.text()
        );
        Login {
            id: body["user"]["id"].as_i64().expect("a numeric user id"),
            token: body["token"].as_str().expect("a token").to_owned(),
            cookie: browser.cookie(),
        }
    }

    /// A browser's form login, anonymous, asking to land on the dashboard.
    async fn form_login(&self, email: &str, password: &str) -> Reply {
        let form = format!("email={email}&password={password}&next=/dashboard");
        self.post_form("/login", Cred::Anonymous, &form, &[]).await
    }

    async fn alice(&self) -> Login {
        self.login("alice@example.com", "alice-password").await
    }

    async fn bob(&self) -> Login {
        self.login("bob@example.com", "bob-password").await
    }

    async fn admin(&self) -> Login {
        self.login("admin@example.com", "admin-password").await
    }

    /// Creates an invoice with a bearer token; returns its id.
    async fn invoice(&self, token: &str, description: &str) -> i64 {
        let reply = self
            .post_json(
                "/api/invoices",
                Cred::Bearer(token),
                &json!({ "amount_cents": 1250, "description": description }),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        reply.json()["id"].as_i64().expect("an invoice id")
    }
}

fn parse(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..split]).expect("an ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size line");
        let size = std::str::from_utf8(&data[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .expect("a hex chunk size");
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs()
}

fn sign(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("signing a test token")
}

// ---------------------------------------------------------------------------------------------
// The contract, one check per area. Each works on any server that has the demo users (and
// leaves them in place, except `admin_deletes_a_user`, which deletes bob).

async fn health_and_unknown_routes(c: &Client) {
    let reply = c.get("/health", Cred::Anonymous).await;
    assert_eq!((reply.status, reply.text()), (200, "ok\n"));
    for path in ["/nope", "/api/nope", "/api/invoices/1/extra"] {
        let reply = c.get(path, Cred::Anonymous).await;
        assert_eq!((reply.status, reply.text()), (404, NOT_FOUND), "{path}");
    }
    let alice = c.alice().await;
    let reply = c.get("/api/nope", Cred::Bearer(&alice.token)).await;
    assert_eq!(
        reply.status, 404,
        "an unknown route is 404 for a caller too"
    );
}

async fn json_login_gives_a_token_and_no_session(c: &Client) {
    let reply = c
        .post_json(
            "/login",
            Cred::Anonymous,
            &json!({ "email": "alice@example.com", "password": "alice-password" }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.json();
    let keys: Vec<&String> = body.as_object().expect("an object").keys().collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "token",
            "token_type",
            "user"
        ]
    );
    assert_token_response(&body);
    let user = &body["user"];
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["roles"], json!(["user"]));
    assert_eq!(user.as_object().map(|u| u.len()), Some(3), "{user}");
    let id = user["id"].as_i64().expect("a numeric id");

    // An API client presents the token: no browser session is started for it.
    assert!(
        reply.header("set-cookie").is_none(),
        "a JSON login set a cookie"
    );
    // A browser's form login starts one.
    let reply = c.form_login("alice@example.com", "alice-password").await;
    assert_eq!(reply.status, 303, "{}", reply.text());
    let set = reply.header("set-cookie").expect("a session cookie");
    assert!(set.starts_with(&format!("{COOKIE}=")), "{set}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            set.split("; ").any(|a| a == attribute),
            "{attribute}: {set}"
        );
    }
    assert!(
        !set.contains("Secure"),
        "plain-HTTP cookie by default: {set}"
    );

    let token = body["token"].as_str().expect("a token");
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&["authgate-invoices"]);
    validation.set_audience(&["invoices-api"]);
    let claims = jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .expect("an HS256 token with iss and aud")
    .claims;
    assert_eq!(claims["sub"], json!(id.to_string()));
    assert_eq!(claims["roles"], json!(["user"]));
    let (iat, exp) = (claims["iat"].as_u64(), claims["exp"].as_u64());
    assert_eq!(exp.zip(iat).map(|(e, i)| e - i), Some(900), "15 minutes");
    assert!(iat.is_some_and(|iat| iat.abs_diff(now()) < 60));

    // Emails are compared in one normal form (`db::normalize_email`): trimmed, lower case.
    let reply = c
        .post_json(
            "/login",
            Cred::Anonymous,
            &json!({ "email": " Alice@Example.COM", "password": "alice-password" }),
        )
        .await;
    assert_eq!(reply.status, 200);
    // A body that is not a login: 4xx, and nobody is logged in.
    let reply = c
        .post_json("/login", Cred::Anonymous, &json!({ "email": "x" }))
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert!(reply.header("set-cookie").is_none());
    let reply = c
        .send(
            "POST",
            "/login",
            Cred::Anonymous,
            &[],
            b"email=a&password=b",
        )
        .await;
    assert_eq!(reply.status, 415, "no Content-Type");
}

/// The tokens of a login or a refresh: an OAuth token response (RFC 6749 section 5.1) for a
/// 15-minute bearer token, and the same token as `token`, the field the API had before.
#[track_caller]
fn assert_token_response(body: &Value) {
    assert_eq!(body["token_type"], "Bearer", "{body}");
    assert_eq!(body["expires_in"], 900, "{body}");
    let access = body["access_token"].as_str().expect("an access token");
    assert_eq!(
        body["token"].as_str(),
        Some(access),
        "token is access_token"
    );
    assert!(body["refresh_token"].is_string(), "{body}");
}

async fn form_login_redirects_to_a_safe_next(c: &Client) {
    let page = c
        .get("/login?next=%2Fapi%2Finvoices", Cred::Anonymous)
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    for field in [
        "name=\"email\"",
        "name=\"password\"",
        "type=\"hidden\" name=\"next\" value=\"/api/invoices\"",
    ] {
        assert!(page.text().contains(field), "{field} missing");
    }
    let page = c.get("/login?next=//evil.example", Cred::Anonymous).await;
    assert!(page.text().contains("name=\"next\" value=\"/dashboard\""));

    let cases = [
        ("&next=%2Fapi%2Finvoices%3Fpage%3D2", "/api/invoices?page=2"),
        ("&next=%2F%2Fevil.example", "/dashboard"),
        ("&next=https%3A%2F%2Fevil.example%2F", "/dashboard"),
        ("&next=%2F%5Cevil.example", "/dashboard"),
        ("&next=", "/dashboard"),
        ("", "/dashboard"),
    ];
    for (next, location) in cases {
        let form = format!("email=alice%40example.com&password=alice-password{next}");
        let reply = c.post_form("/login", Cred::Anonymous, &form, &[]).await;
        assert_eq!(reply.status, 303, "{next}: {}", reply.text());
        assert_eq!(reply.header("location"), Some(location), "{next}");
        let cookie = reply.cookie();
        assert!(cookie.starts_with(&format!("{COOKIE}=")));
        let me = c.get("/api/me", Cred::Cookie(&cookie)).await;
        assert_eq!(me.status, 200, "the form login's cookie works");
    }

    // Login CSRF: a cross-site form cannot log the browser in.
    let form = "email=alice%40example.com&password=alice-password";
    let reply = c
        .post_form(
            "/login",
            Cred::Anonymous,
            form,
            &[("Origin", "https://evil.example")],
        )
        .await;
    assert_eq!(reply.status, 403);
    assert!(reply.header("set-cookie").is_none());
}

async fn wrong_password_and_unknown_email_are_identical(c: &Client) {
    let wrong = json!({ "email": "alice@example.com", "password": WRONG_PASSWORD });
    let unknown = json!({ "email": "nobody@example.com", "password": WRONG_PASSWORD });
    let a = c.post_json("/login", Cred::Anonymous, &wrong).await;
    let b = c.post_json("/login", Cred::Anonymous, &unknown).await;
    assert_eq!(a.status, 401);
    assert_eq!(
        a.text(),
        r#"{"error":"invalid_credentials","message":"wrong email or password"}"#
    );
    assert_eq!(
        a.header("www-authenticate"),
        Some(r#"Bearer realm="invoices""#)
    );
    assert!(a.header("set-cookie").is_none());
    assert_eq!(a.bytes_without_date(), b.bytes_without_date());

    let wrong = format!("email=alice%40example.com&password={WRONG_PASSWORD}&next=%2Fdashboard");
    let unknown = format!("email=nobody%40example.com&password={WRONG_PASSWORD}&next=%2Fdashboard");
    let a = c.post_form("/login", Cred::Anonymous, &wrong, &[]).await;
    let b = c.post_form("/login", Cred::Anonymous, &unknown, &[]).await;
    assert_eq!(a.status, 401);
    assert!(a.text().contains("Wrong email or password."));
    assert!(!a.text().contains("alice"), "the page repeats the email");
    assert!(a.header("set-cookie").is_none());
    assert_eq!(a.bytes_without_date(), b.bytes_without_date());

    // The unknown email costs an argon2 verification too: no fast path to time. Generous
    // bounds, for a loaded machine: the point is "the same order", not a benchmark.
    let mut spent = [Duration::ZERO; 2];
    for _ in 0..3 {
        for (i, body) in [
            &json!({"email": "alice@example.com", "password": WRONG_PASSWORD}),
            &json!({"email": "nobody@example.com", "password": WRONG_PASSWORD}),
        ]
        .into_iter()
        .enumerate()
        {
            let start = Instant::now();
            assert_eq!(
                c.post_json("/login", Cred::Anonymous, body).await.status,
                401
            );
            spent[i] += start.elapsed();
        }
    }
    let (known, unknown) = (spent[0].as_secs_f64(), spent[1].as_secs_f64());
    assert!(
        unknown > known / 4.0 && known > unknown / 4.0,
        "wrong password {known:.3}s vs unknown email {unknown:.3}s"
    );
}

async fn me_with_either_credential(c: &Client) {
    let alice = c.alice().await;
    for cred in [Cred::Bearer(&alice.token), Cred::Cookie(&alice.cookie)] {
        let reply = c.get("/api/me", cred).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(
            reply.json(),
            json!({ "id": alice.id, "email": "alice@example.com", "roles": ["user"] })
        );
    }
    let reply = c.get("/api/me", Cred::Anonymous).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.header("www-authenticate"),
        Some(r#"Bearer realm="invoices""#)
    );
    assert_eq!(
        reply.text(),
        r#"{"error":"unauthenticated","message":"authentication is required"}"#
    );

    // Tokens the Gate refuses: garbage, a lifetime over one hour, another issuer or audience,
    // another secret.
    let t = now();
    let good = json!({ "sub": alice.id.to_string(), "roles": ["user"], "iss": "authgate-invoices",
        "aud": "invoices-api", "iat": t, "exp": t + 600 });
    assert_eq!(
        c.get("/api/me", Cred::Bearer(&sign(&good))).await.status,
        200
    );
    let mut long = good.clone();
    long["exp"] = json!(t + 2 * 3600);
    let mut issuer = good.clone();
    issuer["iss"] = json!("someone-else");
    let mut audience = good.clone();
    audience["aud"] = json!("another-api");
    let other_secret = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &good,
        &EncodingKey::from_secret(b"another-secret-of-at-least-32-bytes!!"),
    )
    .expect("signing");
    for token in [
        "not.a.token".to_owned(),
        sign(&long),
        sign(&issuer),
        sign(&audience),
        other_secret,
    ] {
        let reply = c.get("/api/me", Cred::Bearer(&token)).await;
        assert_eq!(reply.status, 401, "{token}");
        assert_eq!(
            reply.header("www-authenticate"),
            Some(r#"Bearer realm="invoices", error="invalid_token""#)
        );
    }
}

/// `POST /token/refresh` (issue 17): the refresh token of a JSON login gets a new pair, once;
/// presented again it is refused and ends its family and alice's bearer tokens.
async fn refresh_tokens_rotate_and_a_reuse_ends_access(c: &Client) {
    let login = json!({ "email": "alice@example.com", "password": "alice-password" });
    let body = c.post_json("/login", Cred::Anonymous, &login).await.json();
    let (first_token, first_refresh) = (
        body["token"].as_str().expect("a token").to_owned(),
        body["refresh_token"]
            .as_str()
            .expect("a refresh token")
            .to_owned(),
    );
    let refresh = |token: &str| json!({ "refresh_token": token });
    let reply = c
        .post_json("/token/refresh", Cred::Anonymous, &refresh(&first_refresh))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.json();
    let keys: Vec<&String> = body.as_object().expect("an object").keys().collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "token",
            "token_type"
        ]
    );
    assert_token_response(&body);
    let (token, next) = (
        body["token"].as_str().expect("a token").to_owned(),
        body["refresh_token"]
            .as_str()
            .expect("a refresh token")
            .to_owned(),
    );
    assert_ne!(next, first_refresh, "a new refresh token");
    assert_eq!(c.get("/api/me", Cred::Bearer(&token)).await.status, 200);

    let refused = |reply: &Reply, what: &str| {
        assert_eq!(reply.status, 401, "{what}: {}", reply.text());
        assert_eq!(
            reply.header("www-authenticate"),
            Some(r#"Bearer realm="invoices", error="invalid_token""#),
            "{what}"
        );
        assert_eq!(reply.json()["error"], "invalid_token", "{what}");
        assert!(reply.header("set-cookie").is_none(), "{what}");
    };
    for (what, body) in [
        ("unknown", refresh("not-a-refresh-token")),
        ("a bearer token", refresh(&token)),
        ("no refresh_token", json!({ "token": next })),
    ] {
        let reply = c.post_json("/token/refresh", Cred::Anonymous, &body).await;
        refused(&reply, what);
    }
    // The first refresh token again: a reuse. Refused, and the family and alice's bearer
    // tokens end with it.
    let reply = c
        .post_json("/token/refresh", Cred::Anonymous, &refresh(&first_refresh))
        .await;
    refused(&reply, "a reused refresh token");
    let reply = c
        .post_json("/token/refresh", Cred::Anonymous, &refresh(&next))
        .await;
    refused(&reply, "the newest token of the ended family");
    for bearer in [&first_token, &token] {
        let reply = c.get("/api/me", Cred::Bearer(bearer)).await;
        assert_eq!(
            reply.status, 401,
            "a bearer token of the reused family's user"
        );
    }
    // Logging in again works at once.
    let body = c.post_json("/login", Cred::Anonymous, &login).await.json();
    let again = body["token"].as_str().expect("a token");
    assert_eq!(c.get("/api/me", Cred::Bearer(again)).await.status, 200);
}

async fn invoices_are_the_callers_own(c: &Client) {
    let (alice, bob) = (c.alice().await, c.bob().await);
    // A user_id in the body is ignored: the owner is the verified caller.
    let reply = c
        .post_json(
            "/api/invoices",
            Cred::Bearer(&alice.token),
            &json!({ "amount_cents": 4200, "description": "Consulting", "user_id": bob.id }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let created = reply.json();
    let id = created["id"].as_i64().expect("an id");
    assert_eq!(created["user_id"], json!(alice.id));
    assert_eq!(created["amount_cents"], 4200);
    assert_eq!(created["description"], "Consulting");
    assert!(created["created_at"].is_i64());
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/invoices/{id}").as_str())
    );

    // Cookie-authenticated API calls work too (a non-browser client sends no Origin).
    let reply = c
        .post_json(
            "/api/invoices",
            Cred::Cookie(&bob.cookie),
            &json!({ "amount_cents": 99, "description": "Bob's" }),
        )
        .await;
    assert_eq!(reply.status, 201);
    let bobs = reply.json()["id"].as_i64().expect("an id");

    let list = c.get("/api/invoices", Cred::Cookie(&alice.cookie)).await;
    assert_eq!(list.status, 200);
    let list = list.json();
    let list = list.as_array().expect("an array");
    assert!(list.iter().any(|i| i["id"] == json!(id)));
    assert!(
        list.iter().all(|i| i["user_id"] == json!(alice.id)),
        "{list:?}"
    );
    assert!(list.iter().all(|i| i["id"] != json!(bobs)));
    let theirs = c
        .get("/api/invoices", Cred::Bearer(&bob.token))
        .await
        .json();
    assert!(
        theirs
            .as_array()
            .is_some_and(|l| l.iter().all(|i| i["user_id"] == json!(bob.id)))
    );

    assert_eq!(c.get("/api/invoices", Cred::Anonymous).await.status, 401);
}

async fn invalid_invoices_get_per_field_errors(c: &Client) {
    let alice = c.alice().await;
    let before = c
        .get("/api/invoices", Cred::Bearer(&alice.token))
        .await
        .json();
    let amount = "must be a positive integer";
    let description = "must be 1 to 200 characters";
    let cases = [
        (json!({}), Some(amount), Some(description)),
        (
            json!({ "amount_cents": 0, "description": "" }),
            Some(amount),
            Some(description),
        ),
        (
            json!({ "amount_cents": -5, "description": "x" }),
            Some(amount),
            None,
        ),
        (
            json!({ "amount_cents": 12.5, "description": "x" }),
            Some(amount),
            None,
        ),
        (
            json!({ "amount_cents": "12", "description": "x" }),
            Some(amount),
            None,
        ),
        (
            json!({ "amount_cents": 12, "description": "   " }),
            None,
            Some(description),
        ),
        (
            json!({ "amount_cents": 12, "description": 7 }),
            None,
            Some(description),
        ),
        (
            json!({ "amount_cents": 12, "description": "é".repeat(201) }),
            None,
            Some(description),
        ),
        (json!([1, 2]), Some(amount), Some(description)),
    ];
    for (body, amount_error, description_error) in cases {
        let reply = c
            .post_json("/api/invoices", Cred::Bearer(&alice.token), &body)
            .await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
        let answer = reply.json();
        assert_eq!(answer["error"], "invalid_input");
        let fields = answer["fields"].as_object().expect("per-field errors");
        assert_eq!(
            fields.get("amount_cents").and_then(Value::as_str),
            amount_error,
            "{body}"
        );
        assert_eq!(
            fields.get("description").and_then(Value::as_str),
            description_error,
            "{body}"
        );
    }
    // 200 characters (not bytes) is the limit.
    let reply = c
        .post_json(
            "/api/invoices",
            Cred::Bearer(&alice.token),
            &json!({ "amount_cents": 1, "description": "é".repeat(200) }),
        )
        .await;
    assert_eq!(reply.status, 201);
    let last = reply.json()["id"].clone();

    let reply = c
        .send(
            "POST",
            "/api/invoices",
            Cred::Bearer(&alice.token),
            &[("Content-Type", "application/json")],
            b"{not json",
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "bad_request");
    let after = c
        .get("/api/invoices", Cred::Bearer(&alice.token))
        .await
        .json();
    let after = after.as_array().expect("an array");
    assert_eq!(
        after.len(),
        before.as_array().map_or(0, Vec::len) + 1,
        "only the valid one"
    );
    assert!(after.iter().any(|i| i["id"] == last));

    // The guard runs first: an anonymous caller with a broken body gets 401, not 400.
    let reply = c
        .send(
            "POST",
            "/api/invoices",
            Cred::Anonymous,
            &[("Content-Type", "application/json")],
            b"{not json",
        )
        .await;
    assert_eq!(reply.status, 401);
}

async fn another_users_invoice_is_a_missing_one(c: &Client) {
    let (alice, bob, admin) = (c.alice().await, c.bob().await, c.admin().await);
    let bobs = c.invoice(&bob.token, "Bob's secret invoice").await;
    let path = format!("/api/invoices/{bobs}");

    let theirs = c.get(&path, Cred::Bearer(&alice.token)).await;
    let missing = c
        .get("/api/invoices/999999999", Cred::Bearer(&alice.token))
        .await;
    let unparsable = c.get("/api/invoices/abc", Cred::Bearer(&alice.token)).await;
    let by_cookie = c.get(&path, Cred::Cookie(&alice.cookie)).await;
    let by_admin = c.get(&path, Cred::Bearer(&admin.token)).await;
    assert_eq!((theirs.status, theirs.text()), (404, NOT_FOUND));
    for other in [&missing, &unparsable, &by_cookie, &by_admin] {
        assert_eq!(theirs.bytes_without_date(), other.bytes_without_date());
    }

    let delete = c.delete(&path, Cred::Bearer(&alice.token)).await;
    let delete_missing = c
        .delete("/api/invoices/999999999", Cred::Bearer(&alice.token))
        .await;
    assert_eq!(
        delete.bytes_without_date(),
        delete_missing.bytes_without_date()
    );
    assert_eq!((delete.status, delete.text()), (404, NOT_FOUND));
    assert_eq!(
        c.delete(&path, Cred::Cookie(&alice.cookie)).await.status,
        404
    );

    let still = c.get(&path, Cred::Bearer(&bob.token)).await;
    assert_eq!(still.status, 200, "the refused delete deleted it");
    assert_eq!(still.json()["description"], "Bob's secret invoice");

    assert_eq!(c.delete(&path, Cred::Bearer(&bob.token)).await.status, 204);
    let gone = c.get(&path, Cred::Bearer(&bob.token)).await;
    assert_eq!((gone.status, gone.text()), (404, NOT_FOUND));
    assert_eq!(c.get(&path, Cred::Anonymous).await.status, 401);
}

async fn admin_routes(c: &Client) {
    let (alice, admin) = (c.alice().await, c.admin().await);
    let reply = c.get("/api/admin/users", Cred::Bearer(&admin.token)).await;
    assert_eq!(reply.status, 200);
    let text = reply.text().to_lowercase();
    assert!(
        !text.contains("argon2") && !text.contains("password"),
        "{text}"
    );
    let users = reply.json();
    let users = users.as_array().expect("an array");
    for user in users {
        let keys: Vec<&String> = user.as_object().expect("an object").keys().collect();
        assert_eq!(keys.len(), 3, "{user}");
        for key in ["id", "email", "roles"] {
            assert!(user.get(key).is_some(), "{key} in {user}");
        }
    }
    let emails: Vec<&str> = users.iter().filter_map(|u| u["email"].as_str()).collect();
    for email in ["alice@example.com", "admin@example.com"] {
        assert!(emails.contains(&email), "{emails:?}");
    }
    assert_eq!(
        c.get("/api/admin/users", Cred::Cookie(&admin.cookie))
            .await
            .status,
        200
    );

    let refused = c.get("/api/admin/users", Cred::Bearer(&alice.token)).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json()["error"], "forbidden");
    assert_eq!(
        refused.header("www-authenticate"),
        Some(r#"Bearer realm="invoices", error="insufficient_scope""#)
    );
    assert_eq!(
        c.get("/api/admin/users", Cred::Cookie(&alice.cookie))
            .await
            .status,
        403
    );
    assert_eq!(c.get("/api/admin/users", Cred::Anonymous).await.status, 401);
    let path = format!("/api/admin/users/{}", alice.id);
    assert_eq!(
        c.delete(&path, Cred::Bearer(&alice.token)).await.status,
        403
    );

    let own = format!("/api/admin/users/{}", admin.id);
    let reply = c.delete(&own, Cred::Bearer(&admin.token)).await;
    assert_eq!(reply.status, 409);
    assert_eq!(
        reply.text(),
        r#"{"error":"conflict","message":"cannot delete your own account"}"#
    );
    assert_eq!(
        c.get("/api/me", Cred::Bearer(&admin.token)).await.status,
        200
    );
    for missing in ["/api/admin/users/999999", "/api/admin/users/abc"] {
        let reply = c.delete(missing, Cred::Bearer(&admin.token)).await;
        assert_eq!((reply.status, reply.text()), (404, NOT_FOUND), "{missing}");
    }
}

async fn dashboard_pages(c: &Client) {
    let reply = c.get("/dashboard", Cred::Anonymous).await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.header("location"), Some("/login?next=%2Fdashboard"));
    let stale = format!("{COOKIE}=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let reply = c.get("/dashboard", Cred::Cookie(&stale)).await;
    assert_eq!(reply.header("location"), Some("/login?next=%2Fdashboard"));

    let alice = c.alice().await;
    c.invoice(&alice.token, "<script>alert(1)</script> & more")
        .await;
    let page = c.get("/dashboard", Cred::Cookie(&alice.cookie)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(page.text().contains("Invoices of alice@example.com"));
    assert!(
        page.text()
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more")
    );
    assert!(!page.text().contains("<script>"), "unescaped description");
    assert!(page.text().contains("12.50"));

    let count = async || {
        let list = c
            .get("/api/invoices", Cred::Bearer(&alice.token))
            .await
            .json();
        list.as_array().map_or(0, Vec::len)
    };
    let before = count().await;
    let form = "amount_cents=777&description=From+the+form";
    let origin = c.origin();
    let refused: [&[(&str, &str)]; 3] = [
        &[("Origin", "https://evil.example")],
        &[("Sec-Fetch-Site", "cross-site")],
        &[("Origin", "null")],
    ];
    for headers in refused {
        let reply = c
            .post_form(
                "/dashboard/invoices",
                Cred::Cookie(&alice.cookie),
                form,
                headers,
            )
            .await;
        // A page route: the refusal is a page the browser shows, not raw JSON.
        assert_eq!(reply.status, 403, "{headers:?}");
        assert_eq!(
            reply.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(
            reply.text().contains("<h1>403 Forbidden</h1>"),
            "{}",
            reply.text()
        );
    }
    assert_eq!(
        count().await,
        before,
        "a cross-site post created an invoice"
    );

    let allowed: [&[(&str, &str)]; 2] = [
        &[("Origin", origin.as_str())],
        &[
            ("Sec-Fetch-Site", "same-origin"),
            ("Origin", origin.as_str()),
        ],
    ];
    for headers in allowed {
        let reply = c
            .post_form(
                "/dashboard/invoices",
                Cred::Cookie(&alice.cookie),
                form,
                headers,
            )
            .await;
        assert_eq!(reply.status, 303, "{headers:?}: {}", reply.text());
        assert_eq!(reply.header("location"), Some("/dashboard"));
    }
    assert_eq!(count().await, before + 2);
    let page = c.get("/dashboard", Cred::Cookie(&alice.cookie)).await;
    assert!(page.text().contains("From the form") && page.text().contains("7.77"));

    let reply = c
        .post_form(
            "/dashboard/invoices",
            Cred::Cookie(&alice.cookie),
            "amount_cents=ten&description=",
            &[("Origin", origin.as_str())],
        )
        .await;
    assert_eq!(reply.status, 422);
    assert!(
        reply
            .text()
            .contains("amount_cents: must be a positive integer")
    );
    assert_eq!(count().await, before + 2);

    // A form posted without a session comes back, after the login, to the page that showed it
    // (its same-origin Referer), never to the POST-only target; without a Referer, to the
    // login page's default.
    let referer = format!("{origin}/dashboard");
    let reply = c
        .post_form(
            "/dashboard/invoices",
            Cred::Anonymous,
            form,
            &[("Referer", referer.as_str())],
        )
        .await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.header("location"), Some("/login?next=%2Fdashboard"));
    let reply = c
        .post_form("/dashboard/invoices", Cred::Anonymous, form, &[])
        .await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.header("location"), Some("/login"));
}

/// `POST /logout` with a bearer token ends its login (issue 26): the refresh token of the
/// same login answers what a revoked one answers (401 `invalid_token`), and an access token
/// an earlier refresh of it handed out is refused. Alice's other login keeps working.
async fn a_bearer_logout_ends_its_refresh_family(c: &Client) {
    let login = json!({ "email": "alice@example.com", "password": "alice-password" });
    let tokens = |body: serde_json::Value| {
        let token = body["token"].as_str().expect("a token").to_owned();
        let refresh = body["refresh_token"].as_str().expect("a refresh token");
        (token, refresh.to_owned())
    };
    let (first, first_refresh) =
        tokens(c.post_json("/login", Cred::Anonymous, &login).await.json());
    let (other, other_refresh) =
        tokens(c.post_json("/login", Cred::Anonymous, &login).await.json());
    let refresh = |token: &str| json!({ "refresh_token": token });
    let reply = c
        .post_json("/token/refresh", Cred::Anonymous, &refresh(&first_refresh))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let (refreshed, next) = tokens(reply.json());
    assert_eq!(c.get("/api/me", Cred::Bearer(&refreshed)).await.status, 200);

    let reply = c
        .send("POST", "/logout", Cred::Bearer(&first), &[], b"")
        .await;
    assert_eq!(reply.status, 204);
    assert!(reply.header("set-cookie").is_none());
    let reply = c
        .post_json("/token/refresh", Cred::Anonymous, &refresh(&next))
        .await;
    assert_eq!(
        reply.status,
        401,
        "the logged-out login's refresh token: {}",
        reply.text()
    );
    assert_eq!(
        reply.header("www-authenticate"),
        Some(r#"Bearer realm="invoices", error="invalid_token""#)
    );
    assert_eq!(reply.json()["error"], "invalid_token");
    for token in [&first, &refreshed] {
        let reply = c.get("/api/me", Cred::Bearer(token)).await;
        assert_eq!(
            reply.status, 401,
            "a token of the logged-out login still works"
        );
        assert_eq!(reply.json()["error"], "invalid_token");
    }
    // The other login (another device) is not ended.
    assert_eq!(c.get("/api/me", Cred::Bearer(&other)).await.status, 200);
    let reply = c
        .post_json("/token/refresh", Cred::Anonymous, &refresh(&other_refresh))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

async fn logout_ends_the_session(c: &Client) {
    // JSON (or any non-form) logout: 204, the cookie cleared, the session gone server-side.
    let alice = c.alice().await;
    assert_eq!(
        c.get("/api/me", Cred::Cookie(&alice.cookie)).await.status,
        200
    );
    let reply = c
        .send("POST", "/logout", Cred::Cookie(&alice.cookie), &[], b"")
        .await;
    assert_eq!(reply.status, 204);
    let cleared = reply.header("set-cookie").expect("a clearing cookie");
    assert!(cleared.starts_with(&format!("{COOKIE}=;")) && cleared.contains("Max-Age=0"));
    let after = c.get("/api/me", Cred::Cookie(&alice.cookie)).await;
    assert_eq!(after.status, 401, "the old cookie still works");
    assert_eq!(after.json()["error"], "invalid_token");
    let page = c.get("/dashboard", Cred::Cookie(&alice.cookie)).await;
    assert_eq!(page.status, 303);

    // The dashboard's form: 303 to the login page. A cross-site one is refused first.
    let alice = c.alice().await;
    let origin = c.origin();
    let reply = c
        .post_form(
            "/logout",
            Cred::Cookie(&alice.cookie),
            "",
            &[("Origin", "https://evil.example")],
        )
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        c.get("/api/me", Cred::Cookie(&alice.cookie)).await.status,
        200
    );
    let reply = c
        .post_form(
            "/logout",
            Cred::Cookie(&alice.cookie),
            "",
            &[("Origin", origin.as_str())],
        )
        .await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.header("location"), Some("/login"));
    assert_eq!(
        c.get("/api/me", Cred::Cookie(&alice.cookie)).await.status,
        401
    );

    // With a bearer token: 204, and the token is revoked (see
    // `a_deleted_admin_loses_admin_access_at_once`).
    let reply = c
        .send("POST", "/logout", Cred::Bearer(&alice.token), &[], b"")
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(
        c.send("POST", "/logout", Cred::Anonymous, &[], b"")
            .await
            .status,
        401
    );
}

/// Deletes bob: run it last on a shared server.
async fn admin_deletes_a_user(c: &Client) {
    let (bob, admin) = (c.bob().await, c.admin().await);
    let invoice = c.invoice(&bob.token, "soon gone").await;
    let path = format!("/api/admin/users/{}", bob.id);
    assert_eq!(
        c.delete(&path, Cred::Bearer(&admin.token)).await.status,
        204
    );

    let reply = c.get("/api/me", Cred::Cookie(&bob.cookie)).await;
    assert_eq!(reply.status, 401, "bob's session outlived his account");
    let reply = c.get("/api/me", Cred::Bearer(&bob.token)).await;
    assert_eq!(reply.status, 401, "bob's token still finds an account");
    assert_eq!(reply.json()["error"], "invalid_token");
    let reply = c
        .post_json(
            "/api/invoices",
            Cred::Bearer(&bob.token),
            &json!({ "amount_cents": 1, "description": "ghost" }),
        )
        .await;
    assert_eq!(reply.status, 401, "an invoice for a deleted account");
    // His token is revoked: refused before any handler looks for his invoices.
    let reply = c
        .get(
            &format!("/api/invoices/{invoice}"),
            Cred::Bearer(&bob.token),
        )
        .await;
    assert_eq!(reply.status, 401, "a deleted user's token still works");
    assert_eq!(reply.json()["error"], "invalid_token");
    // And his invoices went with him.
    let reply = c
        .get(
            &format!("/api/invoices/{invoice}"),
            Cred::Bearer(&admin.token),
        )
        .await;
    assert_eq!(reply.status, 404, "bob's invoices outlived him");

    let bad = json!({ "email": "bob@example.com", "password": "bob-password" });
    assert_eq!(
        c.post_json("/login", Cred::Anonymous, &bad).await.status,
        401
    );
    let users = c
        .get("/api/admin/users", Cred::Bearer(&admin.token))
        .await
        .json();
    assert!(
        users
            .as_array()
            .is_some_and(|u| u.iter().all(|u| u["id"] != json!(bob.id)))
    );
    assert_eq!(
        c.delete(&path, Cred::Bearer(&admin.token)).await.status,
        404
    );
}

/// Opens the live feed (`GET /api/invoices/feed`) with these headers: the socket and the
/// selected subprotocol, or the refusal's status.
async fn open_feed(
    c: &Client,
    headers: &[(&str, String)],
) -> Result<(support::Socket, Option<String>), u16> {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let url = format!("ws://{}/api/invoices/feed", c.addr);
    support::open_socket(&url, &headers)
        .await
        .map_err(|refusal| refusal.status)
}

/// The next message of a feed socket, as JSON.
async fn next_invoice(socket: &mut support::Socket) -> Value {
    serde_json::from_str(&support::next_text(socket).await).expect("JSON")
}

async fn live_feed(c: &Client) {
    use authgate::Gate;
    const WEBSOCKET_PROTOCOL: &str = Gate::WEBSOCKET_PROTOCOL;
    const WEBSOCKET_BEARER_PREFIX: &str = Gate::WEBSOCKET_BEARER_PREFIX;
    let (alice, bob) = (c.alice().await, c.bob().await);
    let cookie = alice.cookie.clone();
    // The dashboard's own page opens the feed with the session cookie.
    let (mut by_cookie, protocol) =
        open_feed(c, &[("cookie", cookie.clone()), ("origin", c.origin())])
            .await
            .expect("the dashboard's socket");
    assert_eq!(protocol, None);
    // An API client offers its bearer token as a subprotocol; it is never echoed.
    let offered = format!(
        "{WEBSOCKET_PROTOCOL}, {WEBSOCKET_BEARER_PREFIX}{}",
        alice.token
    );
    let (mut by_token, protocol) = open_feed(c, &[("sec-websocket-protocol", offered)])
        .await
        .expect("a bearer socket");
    assert_eq!(protocol.as_deref(), Some(WEBSOCKET_PROTOCOL));

    // A page on another port of the host (same site, another origin) may not open it with
    // alice's cookie; nobody may open it anonymously.
    let sibling = format!("http://127.0.0.1:{}", c.addr.port().wrapping_add(1));
    let refused = open_feed(c, &[("cookie", cookie.clone()), ("origin", sibling)]).await;
    assert_eq!(refused.err(), Some(403));
    let refused = open_feed(c, &[("origin", c.origin())]).await;
    assert_eq!(refused.err(), Some(401));

    // Bob's invoice reaches no socket of alice's; hers reaches both, in order.
    let reply = c
        .post_json(
            "/api/invoices",
            Cred::Bearer(&bob.token),
            &json!({ "amount_cents": 1, "description": "Bob's, not for alice" }),
        )
        .await;
    assert_eq!(reply.status, 201);
    let reply = c
        .post_json(
            "/api/invoices",
            Cred::Bearer(&alice.token),
            &json!({ "amount_cents": 2500, "description": "Live" }),
        )
        .await;
    assert_eq!(reply.status, 201);
    let created = reply.json();
    for socket in [&mut by_cookie, &mut by_token] {
        let pushed = next_invoice(socket).await;
        assert_eq!(pushed, created, "the first invoice pushed is alice's own");
    }
}

// ---------------------------------------------------------------------------------------------
// In process: the example's app on an in-memory database, one per test.

async fn in_process(secure_cookies: bool) -> Client {
    in_process_with(secure_cookies, CONTRACT_RATES).await
}

async fn in_process_with(secure_cookies: bool, login_rates: limits::Rates) -> Client {
    let app = app::build(&local_settings(secure_cookies, login_rates))
        .await
        .expect("the app builds");
    assert!(app.seeded, "a new database is seeded");
    serve(app).await
}

/// One local instance on a fresh in-memory database, seeded, with the test secret.
fn local_settings(secure_cookies: bool, login_rates: limits::Rates) -> app::Settings {
    app::Settings {
        database: db::Database::Sqlite(":memory:".to_owned()),
        redis: None,
        jwt_secret: SECRET.as_bytes().to_vec(),
        secure_cookies,
        seed_demo: true,
        login_rates,
    }
}

/// Serves a built app on a free loopback port, in this process.
async fn serve(app: app::App) -> Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("an address");
    let service = app
        .router
        .into_axum()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    Client::new(addr)
}

#[tokio::test]
async fn health_and_404() {
    health_and_unknown_routes(&in_process(false).await).await;
}

#[tokio::test]
async fn json_login() {
    json_login_gives_a_token_and_no_session(&in_process(false).await).await;
}

#[tokio::test]
async fn token_refresh() {
    refresh_tokens_rotate_and_a_reuse_ends_access(&in_process(false).await).await;
    a_bearer_logout_ends_its_refresh_family(&in_process(false).await).await;
}

#[tokio::test]
async fn form_login() {
    form_login_redirects_to_a_safe_next(&in_process(false).await).await;
}

#[tokio::test]
async fn failed_logins_are_indistinguishable() {
    wrong_password_and_unknown_email_are_identical(&in_process(false).await).await;
}

#[tokio::test]
async fn me() {
    me_with_either_credential(&in_process(false).await).await;
}

#[tokio::test]
async fn own_invoices() {
    invoices_are_the_callers_own(&in_process(false).await).await;
}

#[tokio::test]
async fn invoice_validation() {
    invalid_invoices_get_per_field_errors(&in_process(false).await).await;
}

#[tokio::test]
async fn cross_user_invoices() {
    another_users_invoice_is_a_missing_one(&in_process(false).await).await;
}

#[tokio::test]
async fn admin() {
    admin_routes(&in_process(false).await).await;
}

#[tokio::test]
async fn dashboard() {
    dashboard_pages(&in_process(false).await).await;
}

#[tokio::test]
async fn live_feed_of_new_invoices() {
    live_feed(&in_process(false).await).await;
}

#[tokio::test]
async fn logout() {
    logout_ends_the_session(&in_process(false).await).await;
}

#[tokio::test]
async fn deleting_a_user() {
    admin_deletes_a_user(&in_process(false).await).await;
}

/// The login limits at their defaults (60 attempts a minute per address, 10 per account):
/// a password guesser on one account gets 429 with `Retry-After`, while another account
/// logs in from the same address; a flooding address gets 429 while another logs in.
#[tokio::test]
async fn login_limits_hold_without_locking_out_another_account() {
    let c = in_process_with(false, limits::Rates::default()).await;
    let wrong = json!({ "email": "alice@example.com", "password": WRONG_PASSWORD });
    for attempt in 1..=10 {
        let reply = c.post_json("/login", Cred::Anonymous, &wrong).await;
        assert_eq!(reply.status, 401, "attempt {attempt}: {}", reply.text());
    }
    let throttled = c.post_json("/login", Cred::Anonymous, &wrong).await;
    assert_eq!(throttled.status, 429, "{}", throttled.text());
    assert_eq!(throttled.json()["error"], "too_many_requests");
    let retry: u64 = throttled
        .header("retry-after")
        .and_then(|s| s.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // Even alice's right password waits: the account is limited, not the guess.
    let right = json!({ "email": "alice@example.com", "password": "alice-password" });
    assert_eq!(
        c.post_json("/login", Cred::Anonymous, &right).await.status,
        429
    );
    // Bob, from the same address, is not locked out.
    let bob = json!({ "email": "bob@example.com", "password": "bob-password" });
    assert_eq!(
        c.post_json("/login", Cred::Anonymous, &bob).await.status,
        200
    );
    // A browser's form login is throttled as a page with the same Retry-After.
    let form = format!("email=alice@example.com&password={WRONG_PASSWORD}&next=/dashboard");
    let page = c.post_form("/login", Cred::Anonymous, &form, &[]).await;
    assert_eq!(page.status, 429);
    assert!(page.text().contains("Too many attempts"), "{}", page.text());
    assert!(page.header("retry-after").is_some());

    // One address flooding many accounts: 60 a minute pass (a few more refill while the
    // hashes run), then 429.
    let flood = c.sending_from(std::net::Ipv4Addr::new(127, 0, 0, 2));
    let mut statuses = Vec::new();
    for n in 0..100 {
        let guess = json!({ "email": format!("nobody{n}@example.com"), "password": "x" });
        let status = flood
            .post_json("/login", Cred::Anonymous, &guess)
            .await
            .status;
        statuses.push(status);
        if status == 429 {
            break;
        }
    }
    let (last, passed) = statuses.split_last().expect("attempts");
    assert_eq!(*last, 429, "{statuses:?}");
    assert!(passed.len() >= 60, "only {} attempts passed", passed.len());
    assert!(passed.iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(
        flood
            .post_json("/login", Cred::Anonymous, &bob)
            .await
            .status,
        429
    );
    // Another address still gets in.
    let other = c.sending_from(std::net::Ipv4Addr::new(127, 0, 0, 3));
    assert_eq!(
        other
            .post_json("/login", Cred::Anonymous, &bob)
            .await
            .status,
        200
    );
}

/// 200 concurrent logins (from 200 loopback addresses, for 200 unknown emails, each costing
/// an argon2id hash of about 19 MiB) against the real binary: every answer is 401 or 503 with
/// `Retry-After`, and the server's peak memory stays within a bound that one hash per core
/// keeps (unbounded, the hashes alone would take several GiB).
#[tokio::test]
async fn password_checks_are_bounded_under_200_concurrent_logins() {
    let db = support::TempDb::new("invoices");
    // The default login rates: 200 addresses and 200 accounts stay within them.
    let server = Server::start(&db.0, &[("INVOICES_LOGIN_RATES", "60,10")]);
    let c = Client::new(server.addr);
    let peak_before = peak_memory_kib(server.child.id());
    let mut attempts = Vec::new();
    for n in 0..200u8 {
        let client = c.sending_from(std::net::Ipv4Addr::new(127, 0, 1, n));
        attempts.push(tokio::spawn(async move {
            let guess = json!({ "email": format!("nobody{n}@example.com"), "password": "x" });
            let reply = client.post_json("/login", Cred::Anonymous, &guess).await;
            (reply.status, reply.header("retry-after").map(str::to_owned))
        }));
    }
    let mut checked = 0;
    let mut busy = 0;
    for attempt in attempts {
        match attempt.await.expect("a request task") {
            (401, _) => checked += 1,
            (503, Some(retry)) if retry == "1" => busy += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    let peak_after = peak_memory_kib(server.child.id());
    println!(
        "200 concurrent logins: {checked} checked, {busy} busy; peak memory {} -> {} MiB",
        peak_before / 1024,
        peak_after / 1024
    );
    assert!(checked >= 2, "no password was checked");
    // One argon2 buffer (19 MiB) per hashing thread, and some slack for the allocator.
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as u64;
    let bound = (cores * 24 + 32) * 1024;
    assert!(
        peak_after.saturating_sub(peak_before) < bound,
        "peak memory grew from {peak_before} KiB to {peak_after} KiB (bound {bound} KiB)"
    );
}

/// The peak resident memory of a process (`VmHWM`), in KiB.
fn peak_memory_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmHWM line")
}

/// An admin deleted by another admin loses admin access at once, by bearer token and by
/// cookie, although the admin routes never look the caller up: the deletion revoked
/// everything the account held (issue 14). A bearer logout revokes that token.
#[tokio::test]
async fn a_deleted_admin_loses_admin_access_at_once() {
    let settings = local_settings(false, CONTRACT_RATES);
    let app = app::build(&settings).await.expect("the app builds");
    let hash = auth::Auth::new()
        .await
        .expect("a hasher")
        .hash_password("root-password".to_owned())
        .await
        .expect("a hash");
    let root_id = app
        .db
        .create_user("root@example.com", &hash, &["admin"])
        .await
        .expect("a second admin");
    let c = serve(app).await;
    let (admin, root) = (
        c.admin().await,
        c.login("root@example.com", "root-password").await,
    );
    assert_eq!(root.id, root_id);
    for cred in [Cred::Bearer(&root.token), Cred::Cookie(&root.cookie)] {
        assert_eq!(c.get("/api/admin/users", cred).await.status, 200);
    }
    let path = format!("/api/admin/users/{root_id}");
    assert_eq!(
        c.delete(&path, Cred::Bearer(&admin.token)).await.status,
        204
    );
    for cred in [Cred::Bearer(&root.token), Cred::Cookie(&root.cookie)] {
        let reply = c.get("/api/admin/users", cred).await;
        assert_eq!(reply.status, 401, "a deleted admin kept admin access");
        assert_eq!(reply.json()["error"], "invalid_token");
        let reply = c
            .delete(&format!("/api/admin/users/{}", admin.id), cred)
            .await;
        assert_eq!(reply.status, 401, "a deleted admin deleted an admin");
    }
    assert_eq!(
        c.get("/api/admin/users", Cred::Bearer(&admin.token))
            .await
            .status,
        200
    );

    // Logging out with a bearer token revokes it; another token of the same user still works.
    let (first, second) = (c.alice().await, c.alice().await);
    let out = c
        .send("POST", "/logout", Cred::Bearer(&first.token), &[], b"")
        .await;
    assert_eq!(out.status, 204);
    let reply = c.get("/api/invoices", Cred::Bearer(&first.token)).await;
    assert_eq!(reply.status, 401, "a logged-out token still works");
    assert_eq!(
        c.get("/api/invoices", Cred::Bearer(&second.token))
            .await
            .status,
        200
    );
}

/// A deleted user's id is never handed to a later account, which would then match the
/// deleted user's tokens and records (`AUTOINCREMENT`).
#[tokio::test]
async fn ids_are_never_reused() {
    let db = db::Db::open(&db::Database::Sqlite(":memory:".to_owned()))
        .await
        .expect("a database");
    let carol = db
        .create_user("carol@example.com", "x", &["user"])
        .await
        .expect("carol");
    assert!(db.delete_user(carol).await.expect("delete"));
    let dave = db
        .create_user("dave@example.com", "x", &["user"])
        .await
        .expect("dave");
    assert!(
        dave > carol,
        "the id {carol} of a deleted user was reused ({dave})"
    );
}

/// A database made before ids were made permanent (migration 1 only) keeps its users, their
/// invoices and the link between them through migration 2, and never reuses an id after it.
#[tokio::test]
async fn the_id_migration_keeps_users_invoices_and_their_links() {
    let file = support::TempDb::new("invoices");
    let pool = file.pool().await;
    sqlx::migrate::Migrator::with_migrations(db::migrations(db::Backend::Sqlite)[..1].to_vec())
        .run(&pool)
        .await
        .expect("migration 1");
    for statement in [
        "INSERT INTO users (id, email, password_hash, roles) VALUES (1, 'a@x', 'h', '[\"user\"]')",
        "INSERT INTO users (id, email, password_hash, roles) VALUES (2, 'b@x', 'h', '[\"admin\"]')",
        "INSERT INTO invoices (id, user_id, amount_cents, description, created_at) VALUES (7, 2, 500, 'kept', 1)",
    ] {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect(statement);
    }
    pool.close().await;

    let path = file.0.to_str().expect("a UTF-8 path").to_owned();
    let db = db::Db::open(&db::Database::Sqlite(path))
        .await
        .expect("migration 2");
    let users = db.users().await.expect("users");
    assert_eq!(users.iter().map(|u| u.id).collect::<Vec<_>>(), [1, 2]);
    let invoices = db.invoices_of(2).await.expect("invoices");
    assert_eq!(invoices.len(), 1);
    assert_eq!((invoices[0].id, invoices[0].amount_cents), (7, 500));
    // The foreign key still points at users: deleting b deletes the invoice with it.
    assert!(db.delete_user(2).await.expect("delete"));
    assert_eq!(db.invoice(7).await.expect("lookup").map(|i| i.id), None);
    let next = db
        .create_user("c@x", "h", &["user"])
        .await
        .expect("a new user");
    assert_eq!(next, 3, "ids continue after the highest ever used");
    db.close().await;
}

#[tokio::test]
async fn secure_cookies_use_the_host_prefix() {
    let c = in_process(true).await;
    let reply = c.form_login("alice@example.com", "alice-password").await;
    let set = reply.header("set-cookie").expect("a cookie");
    assert!(set.starts_with("__Host-invoices="), "{set}");
    assert!(set.split("; ").any(|a| a == "Secure"), "{set}");
    let cookie = reply.cookie();
    assert_eq!(c.get("/api/me", Cred::Cookie(&cookie)).await.status, 200);
}

#[test]
fn the_route_audit_lists_every_route() {
    let lines: Vec<String> = app::routes()
        .audit()
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut want: Vec<String> = AUDIT.iter().map(|l| (*l).to_owned()).collect();
    want.push("* * public: unknown paths answer 404".to_owned());
    assert_eq!(lines, want);
}

// ---------------------------------------------------------------------------------------------
// Scaled out: two instances on one state (PostgreSQL, and Redis for the sessions).

/// What makes a login valid everywhere, on two instances `a` and `b` that share one state: a
/// login on A works on B (bearer token and cookie), an invoice created on A is read on B and
/// is still its owner's only, a logout on A ends the session on B, and an admin's deletion
/// of a user on B ends that user's session on A.
async fn one_state_across_instances(a: &Client, b: &Client) {
    let alice = a.alice().await;
    let bob = b.bob().await;
    for cred in [Cred::Bearer(&alice.token), Cred::Cookie(&alice.cookie)] {
        let me = b.get("/api/me", cred).await;
        assert_eq!(me.status, 200, "a login on A refused on B: {}", me.text());
        assert_eq!(me.json()["email"], "alice@example.com");
    }

    let id = a.invoice(&alice.token, "made on A").await;
    let path = format!("/api/invoices/{id}");
    let read = b.get(&path, Cred::Cookie(&alice.cookie)).await;
    assert_eq!(read.status, 200, "A's invoice not on B: {}", read.text());
    assert_eq!(read.json()["description"], "made on A");
    let listed = b.get("/api/invoices", Cred::Bearer(&alice.token)).await;
    assert!(
        listed
            .json()
            .as_array()
            .is_some_and(|l| l.iter().any(|i| i["id"] == json!(id))),
        "{}",
        listed.text()
    );
    // Ownership holds on both: bob, logged in on B, finds no invoice of alice's anywhere.
    for c in [a, b] {
        for cred in [Cred::Bearer(&bob.token), Cred::Cookie(&bob.cookie)] {
            let theirs = c.get(&path, cred).await;
            assert_eq!((theirs.status, theirs.text()), (404, NOT_FOUND));
            let delete = c.delete(&path, cred).await;
            assert_eq!((delete.status, delete.text()), (404, NOT_FOUND));
        }
    }
    assert_eq!(a.get(&path, Cred::Bearer(&alice.token)).await.status, 200);

    let out = a
        .send("POST", "/logout", Cred::Cookie(&alice.cookie), &[], b"")
        .await;
    assert_eq!(out.status, 204);
    let after = b.get("/api/me", Cred::Cookie(&alice.cookie)).await;
    assert_eq!(after.status, 401, "a session ended on A still works on B");
    assert_eq!(after.json()["error"], "invalid_token");
    assert_eq!(
        a.get("/api/me", Cred::Cookie(&bob.cookie)).await.status,
        200
    );

    let admin = b.admin().await;
    let gone = b
        .delete(
            &format!("/api/admin/users/{}", bob.id),
            Cred::Bearer(&admin.token),
        )
        .await;
    assert_eq!(gone.status, 204);
    for cred in [Cred::Cookie(&bob.cookie), Cred::Bearer(&bob.token)] {
        let reply = a.get("/api/me", cred).await;
        assert_eq!(reply.status, 401, "a user deleted on B still gets in on A");
    }
}

/// Settings of an instance that shares its state, with the test secret.
fn shared_settings(database: db::Database, redis: Option<app::RedisSettings>) -> app::Settings {
    app::Settings {
        database,
        redis,
        jwt_secret: SECRET.as_bytes().to_vec(),
        secure_cookies: false,
        seed_demo: true,
        login_rates: CONTRACT_RATES,
    }
}

/// Two instances built at the same moment on `settings` and served on two ports. Both start
/// (the schema and the session table are created once, under a lock) and exactly one seeds
/// the demo users.
async fn start_two(settings: &app::Settings) -> (Client, Client) {
    let (a, b) = tokio::join!(app::build(settings), app::build(settings));
    let (a, b) = (a.expect("instance A starts"), b.expect("instance B starts"));
    assert_eq!(
        (u8::from(a.seeded) + u8::from(b.seeded)),
        1,
        "the demo users are seeded by exactly one instance"
    );
    (serve(a).await, serve(b).await)
}

/// The users in the database, by email.
async fn emails(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT email FROM users ORDER BY email")
        .fetch_all(pool)
        .await
        .expect("the users")
}

/// Whether PostgreSQL has authgate-sqlx's login table, and how many sessions are in it (the
/// logins without a refresh token in force; the others are refresh token families).
async fn postgres_sessions(pool: &sqlx::PgPool) -> Option<i64> {
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('authgate_logins')::text")
        .fetch_one(pool)
        .await
        .expect("a catalog lookup");
    table?;
    let count = sqlx::query_scalar("SELECT count(*) FROM authgate_logins WHERE current IS NULL")
        .fetch_one(pool)
        .await
        .expect("a count");
    Some(count)
}

#[tokio::test]
async fn two_instances_share_one_state_on_postgres_and_redis() {
    let test = "two invoices instances on PostgreSQL and Redis";
    let Some([postgres, redis]) =
        support::server_urls(test, [support::POSTGRES_URL, support::REDIS_URL])
    else {
        return;
    };
    let database = support::TempPostgres::create(&postgres).await;
    let keys = support::TempRedisPrefix::new(&redis);
    let settings = shared_settings(
        db::Database::Postgres(db::ServerUrl::new(database.url.clone())),
        Some(app::RedisSettings {
            url: db::ServerUrl::new(redis.clone()),
            prefix: keys.prefix.clone(),
        }),
    );
    let (a, b) = start_two(&settings).await;
    one_state_across_instances(&a, &b).await;

    // Users and invoices in PostgreSQL, the sessions in Redis under the prefix.
    let pool = database.pool().await;
    let users = emails(&pool).await;
    assert_eq!(
        users,
        ["admin@example.com", "alice@example.com"],
        "bob deleted"
    );
    let invoices: i64 = sqlx::query_scalar("SELECT count(*) FROM invoices")
        .fetch_one(&pool)
        .await
        .expect("a count");
    assert_eq!(invoices, 1);
    assert_eq!(
        postgres_sessions(&pool).await,
        None,
        "sessions in PostgreSQL"
    );
    // A login (a session or a refresh token family) is `{prefix}:login:{hash}`.
    let login = format!("{}:login:", keys.prefix);
    assert!(
        keys.keys().await.iter().any(|k| k.starts_with(&login)),
        "no session in Redis: {:?}",
        keys.keys().await
    );
    pool.close().await;
}

#[tokio::test]
async fn two_instances_share_one_state_on_postgres() {
    let test = "two invoices instances on PostgreSQL";
    let Some([postgres]) = support::server_urls(test, [support::POSTGRES_URL]) else {
        return;
    };
    let database = support::TempPostgres::create(&postgres).await;
    let settings = shared_settings(
        db::Database::Postgres(db::ServerUrl::new(database.url.clone())),
        None,
    );
    let (a, b) = start_two(&settings).await;
    let pool = database.pool().await;
    assert_eq!(
        emails(&pool).await,
        ["admin@example.com", "alice@example.com", "bob@example.com"],
        "the demo users, once"
    );
    one_state_across_instances(&a, &b).await;
    // The admin's session (the only one left) is in PostgreSQL.
    assert_eq!(postgres_sessions(&pool).await, Some(1));
    pool.close().await;
}

/// One spelling of an email (`db::normalize_email`) decides both the account a login reaches
/// and the login quota it spends, on SQLite.
#[tokio::test]
async fn email_spellings_on_sqlite() {
    let settings = local_settings(false, limits::Rates::default());
    email_spellings_reach_one_account_and_one_quota(&settings).await;
}

/// The same on PostgreSQL, whose `lower()` folded `İ` to `i` where the quota's key did not.
#[tokio::test]
async fn email_spellings_on_postgres() {
    let test = "email spellings on PostgreSQL";
    let Some([postgres]) = support::server_urls(test, [support::POSTGRES_URL]) else {
        return;
    };
    let database = support::TempPostgres::create(&postgres).await;
    let settings = app::Settings {
        login_rates: limits::Rates::default(),
        ..shared_settings(
            db::Database::Postgres(db::ServerUrl::new(database.url.clone())),
            None,
        )
    };
    email_spellings_reach_one_account_and_one_quota(&settings).await;
}

async fn email_spellings_reach_one_account_and_one_quota(settings: &app::Settings) {
    let app = app::build(settings).await.expect("the app builds");
    let hash = auth::Auth::new()
        .await
        .expect("a hasher")
        .hash_password("anna-password".to_owned())
        .await
        .expect("a hash");
    // Stored normalised, whatever the spelling given.
    let anna_id = app
        .db
        .create_user("ÄNNA@Example.com", &hash, &["user"])
        .await
        .expect("a user");
    let c = serve(app).await;
    let login = async |email: &str, password: &str| {
        let body = json!({ "email": email, "password": password });
        c.post_json("/login", Cred::Anonymous, &body).await
    };

    // `alİce` normalises to `ali̇ce` (a combining dot): another address, no account.
    let reply = login("alİce@example.com", "alice-password").await;
    assert_eq!(reply.status, 401, "alİce: {}", reply.text());

    // Spellings of one address reach its account.
    for (email, password, id) in [
        ("ALICE@example.com", "alice-password", None),
        ("ａｌｉｃｅ@example.com", "alice-password", None),
        ("änna@example.com", "anna-password", Some(anna_id)),
        ("ÄNNA@EXAMPLE.COM", "anna-password", Some(anna_id)),
    ] {
        let reply = login(email, password).await;
        assert_eq!(reply.status, 200, "{email}: {}", reply.text());
        let user = &reply.json()["user"];
        if let Some(id) = id {
            assert_eq!(user["id"], id, "{email}");
            assert_eq!(user["email"], "änna@example.com", "{email}");
        } else {
            assert_eq!(user["email"], "alice@example.com", "{email}");
        }
    }
    // alice's quota (10 a minute, 2 used above) is spent by every spelling of her address.
    for attempt in 2..10 {
        let reply = login(" Alice@Example.com", WRONG_PASSWORD).await;
        assert_eq!(reply.status, 401, "attempt {attempt}: {}", reply.text());
    }
    for email in [
        "alice@example.com",
        "ALICE@example.com",
        "ａｌｉｃｅ@example.com",
    ] {
        let reply = login(email, "alice-password").await;
        assert_eq!(reply.status, 429, "{email}: {}", reply.text());
    }
    // The spelling of another address has its own quota, and never reaches alice.
    let reply = login("alİce@example.com", "alice-password").await;
    assert_eq!(reply.status, 401, "alİce: {}", reply.text());
}

/// A second seeding does nothing and fails nothing: what lets an instance start while
/// another seeds the same database.
#[tokio::test]
async fn seeding_twice_seeds_once() {
    let db = db::Db::open(&db::Database::Sqlite(":memory:".to_owned()))
        .await
        .expect("a database");
    let hashes = vec!["h".to_owned(); db::DEMO_USERS.len()];
    assert!(!db.demo_users_seeded().await.expect("a lookup"));
    assert!(
        db.seed_demo_users(&hashes)
            .await
            .expect("the first seeding")
    );
    assert!(db.demo_users_seeded().await.expect("a lookup"));
    assert!(
        !db.seed_demo_users(&hashes)
            .await
            .expect("the second seeding")
    );
    assert_eq!(
        db.users().await.expect("the users").len(),
        db::DEMO_USERS.len()
    );
}

// ---------------------------------------------------------------------------------------------
// The real binary.

/// Builds the example (a no-op when `cargo test` already did) and returns its path, next to
/// this test's own profile directory (`target/<profile>/examples/invoices`).
fn example_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test's path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>/deps/<test>");
        let target_dir = profile_dir.parent().expect("target/");
        let profile = profile_dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a profile directory");
        let mut build = Command::new(env!("CARGO"));
        build
            .args([
                "build",
                "--quiet",
                "--example",
                "invoices",
                "--manifest-path",
            ])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir);
        if profile != "debug" {
            build.args(["--profile", profile]);
        }
        let status = build.status().expect("running cargo build");
        assert!(status.success(), "cargo build --example invoices failed");
        profile_dir
            .join("examples")
            .join(format!("invoices{}", std::env::consts::EXE_SUFFIX))
    })
}

/// The running example; killed when dropped (also when a test panics).
struct Server {
    child: Child,
    addr: SocketAddr,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts the example on the SQLite file `db` and waits until it listens.
    fn start(db: &Path, env: &[(&str, &str)]) -> Server {
        let server = Server::spawn(Some(db), env);
        server.wait_until_listening();
        server
    }

    /// Starts the example on a free port, on the SQLite file `db` or (`None`) on what `env`
    /// names, and returns at once. None of the `INVOICES_` variables of the test's own
    /// environment reach it.
    fn spawn(db: Option<&Path>, env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut command = Command::new(example_binary());
        command.arg("--addr").arg(addr.to_string());
        if let Some(db) = db {
            command.arg("--db").arg(db);
        }
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("INVOICES_") {
                command.env_remove(name);
            }
        }
        command
            .env("INVOICES_LOGIN_RATES", "6000,6000")
            .env("INVOICES_JWT_SECRET", SECRET)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("starting the example");
        let stdout = collect(child.stdout.take());
        let stderr = collect(child.stderr.take());
        Server {
            child,
            addr,
            stdout,
            stderr,
        }
    }

    fn wait_until_listening(&self) {
        self.wait_for(&format!("listening on http://{}", self.addr));
    }

    fn wait_for(&self, line: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.stdout().lines().any(|l| l == line) {
            assert!(
                Instant::now() < deadline,
                "no {line:?} within 60 s; stdout:\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stdout(&self) -> String {
        self.stdout.lock().expect("stdout").clone()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr").clone()
    }

    /// SIGTERM, then the exit status: a graceful shutdown exits 0 and says so.
    fn terminate(mut self) -> (bool, String, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the child's status") {
                break status;
            }
            assert!(Instant::now() < deadline, "no exit within 30 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader threads end at EOF; give them a moment to take the last lines.
        std::thread::sleep(Duration::from_millis(200));
        (status.success(), self.stdout(), self.stderr())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(pipe: Option<impl Read + Send + 'static>) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    if let Some(pipe) = pipe {
        let sink = text.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Ok(mut sink) = sink.lock() {
                    sink.push_str(&line);
                    sink.push('\n');
                }
            }
        });
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_binary_walks_the_whole_contract() {
    let db = support::TempDb::new("invoices");
    let server = Server::start(&db.0, &[]);
    let c = Client::new(server.addr);

    let banner = server.stdout();
    for (email, password) in [
        ("alice@example.com", "alice-password"),
        ("bob@example.com", "bob-password"),
        ("admin@example.com", "admin-password"),
    ] {
        assert!(
            banner
                .lines()
                .any(|l| l.contains(email) && l.contains(password)),
            "{email} missing from the banner:\n{banner}"
        );
    }
    assert!(banner.contains("seeded now"), "{banner}");
    for line in AUDIT {
        assert!(
            banner.lines().any(|l| l == line),
            "audit line {line:?} missing:\n{banner}"
        );
    }

    health_and_unknown_routes(&c).await;
    json_login_gives_a_token_and_no_session(&c).await;
    form_login_redirects_to_a_safe_next(&c).await;
    wrong_password_and_unknown_email_are_identical(&c).await;
    me_with_either_credential(&c).await;
    invoices_are_the_callers_own(&c).await;
    invalid_invoices_get_per_field_errors(&c).await;
    another_users_invoice_is_a_missing_one(&c).await;
    admin_routes(&c).await;
    dashboard_pages(&c).await;
    live_feed(&c).await;
    logout_ends_the_session(&c).await;
    let alice = c.alice().await;
    let kept = c.invoice(&alice.token, "kept across a restart").await;
    admin_deletes_a_user(&c).await;

    let (graceful, stdout, stderr) = server.terminate();
    assert!(
        graceful,
        "SIGTERM did not end the server cleanly:\n{stderr}"
    );
    assert!(stdout.lines().any(|l| l == "shut down"), "{stdout}");
    let after_banner = stdout
        .split_once("listening on http://")
        .map_or("", |(_, rest)| rest);
    let issued = c.issued.lock().expect("issued").clone();
    assert!(
        issued.len() > 20,
        "the walk issued tokens and cookies: {}",
        issued.len()
    );
    for secret in issued
        .iter()
        .map(String::as_str)
        .chain([SECRET, WRONG_PASSWORD])
    {
        assert!(!stdout.contains(secret), "stdout carries a secret");
        assert!(!stderr.contains(secret), "stderr carries a secret");
    }
    for password in ["alice-password", "bob-password", "admin-password"] {
        assert!(!stderr.contains(password), "stderr carries a password");
        assert!(
            !after_banner.contains(password),
            "a password after the banner"
        );
    }
    assert!(
        stderr.contains("access decision"),
        "authgate's log is on:\n{stderr}"
    );

    // A restart on the same file: no second seeding, bob stays deleted, alice's invoice and
    // her server-side session are still there.
    let server = Server::start(&db.0, &[]);
    let c = Client::new(server.addr);
    assert!(server.stdout().contains("seeded on the first start"));
    let reply = c
        .get(
            &format!("/api/invoices/{kept}"),
            Cred::Cookie(&alice.cookie),
        )
        .await;
    assert_eq!(
        reply.status, 200,
        "the session or the invoice did not survive a restart"
    );
    let bob = json!({ "email": "bob@example.com", "password": "bob-password" });
    assert_eq!(
        c.post_json("/login", Cred::Anonymous, &bob).await.status,
        401
    );
    let (graceful, _, _) = server.terminate();
    assert!(graceful);
}

#[test]
fn the_example_refuses_a_short_secret_without_printing_it() {
    let db = support::TempDb::new("invoices");
    let output = Command::new(example_binary())
        .arg("--db")
        .arg(&db.0)
        .env("INVOICES_JWT_SECRET", "short-secret-xyz")
        .stdin(Stdio::null())
        .output()
        .expect("running the example");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("at least 32"), "{stderr}");
    assert!(!stderr.contains("short-secret-xyz"));
    assert!(output.stdout.is_empty(), "it started anyway");
}

/// `url` with a password for its user when it names a user without one, so that the test
/// can check the password is never printed (the test server trusts local connections and
/// does not ask for it); and the URL's password, if it has one now.
fn with_password(url: &str) -> (String, Option<String>) {
    let (scheme, rest) = url.split_once("://").expect("a URL with ://");
    let authority = rest.split('/').next().unwrap_or_default();
    let Some((user, _host)) = authority.split_once('@') else {
        return (url.to_owned(), None);
    };
    if let Some((_, password)) = user.split_once(':') {
        return (url.to_owned(), Some(password.to_owned()));
    }
    let password = "never-printed-5b0c2e";
    let url = format!("{scheme}://{user}:{password}@{}", &rest[user.len() + 1..]);
    (url, Some(password.to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_example_processes_share_one_state() {
    let test = "two invoices processes on PostgreSQL and Redis";
    let Some([postgres, redis]) =
        support::server_urls(test, [support::POSTGRES_URL, support::REDIS_URL])
    else {
        return;
    };
    let database = support::TempPostgres::create(&postgres).await;
    let keys = support::TempRedisPrefix::new(&redis);
    let (url, password) = with_password(&database.url);
    let env = [
        ("INVOICES_DATABASE_URL", url.as_str()),
        ("INVOICES_REDIS_URL", redis.as_str()),
        ("INVOICES_REDIS_PREFIX", keys.prefix.as_str()),
    ];
    // Both at once, as a deployment starts them.
    let (a, b) = (Server::spawn(None, &env), Server::spawn(None, &env));
    a.wait_until_listening();
    b.wait_until_listening();
    let state = format!(
        "state: users and invoices in PostgreSQL (INVOICES_DATABASE_URL); sessions and revocations in Redis \
         (INVOICES_REDIS_URL, keys {}:*)",
        keys.prefix
    );
    for server in [&a, &b] {
        assert!(
            server.stdout().lines().any(|l| l == state),
            "{}",
            server.stdout()
        );
    }
    let seeded = [&a, &b]
        .iter()
        .filter(|s| s.stdout().contains("seeded now"))
        .count();
    assert_eq!(
        seeded, 1,
        "the demo users are seeded by exactly one process"
    );

    let (ca, cb) = (Client::new(a.addr), Client::new(b.addr));
    one_state_across_instances(&ca, &cb).await;

    let issued = [
        ca.issued.lock().expect("issued").clone(),
        cb.issued.lock().expect("issued").clone(),
    ]
    .concat();
    assert!(issued.len() >= 6, "{}", issued.len());
    for server in [a, b] {
        let (graceful, stdout, stderr) = server.terminate();
        assert!(graceful, "{stderr}");
        for secret in issued
            .iter()
            .map(String::as_str)
            .chain([SECRET, url.as_str()])
            .chain(password.as_deref())
        {
            assert!(!stdout.contains(secret), "stdout carries a secret");
            assert!(!stderr.contains(secret), "stderr carries a secret");
        }
    }
}

/// Instances that share a state must share the secret: unset, the start stops at once and
/// says why. A failing database is reported without its URL's password.
#[test]
fn a_shared_state_without_a_secret_does_not_start() {
    let run = |env: &[(&str, &str)]| {
        let mut command = Command::new(example_binary());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("INVOICES_") {
                command.env_remove(name);
            }
        }
        let output = command
            .args(["--addr", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("running the example");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            !stderr.contains("hunter2"),
            "a password in the output: {stderr}"
        );
        assert!(output.stdout.is_empty(), "it started anyway");
        (output.status.code(), stderr)
    };
    // Port 1 on loopback: nothing listens there.
    let database = (
        "INVOICES_DATABASE_URL",
        "postgres://app:hunter2@127.0.0.1:1/invoices",
    );
    let redis = ("INVOICES_REDIS_URL", "redis://:hunter2@127.0.0.1:1");
    for env in [&[database][..], &[redis], &[database, redis]] {
        let (code, stderr) = run(env);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("INVOICES_JWT_SECRET is unset"), "{stderr}");
    }
    for env in [&[database][..], &[redis]] {
        let mut env = env.to_vec();
        env.push(("INVOICES_JWT_SECRET", SECRET));
        let (code, stderr) = run(&env);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("error: "), "{stderr}");
    }
}

// ---------------------------------------------------------------------------------------------
// The testing kit on the example: what an app adds to its own test suite (the
// `authgate::testing` docs).

#[tokio::test]
async fn every_route_is_protected_and_invoices_are_private() {
    use authgate::issuers::Issuer;
    use authgate::testing::{Minter, OwnershipProbe, RouteProbe, TestClient};
    use std::sync::atomic::{AtomicUsize, Ordering};

    let settings = local_settings(false, CONTRACT_RATES);
    let app = app::build(&settings).await.expect("the app builds");
    // A Gate with the app's issuer, to mint tokens it accepts.
    let gate = authgate::Gate::builder()
        .issuer(
            Issuer::new(auth::ISSUER)
                .secret(SECRET)
                .audience(auth::AUDIENCE),
        )
        .build()
        .expect("a gate");
    let minter = Minter::new(&gate).expect("a gate that issues");
    // Every request the probe sends is counted.
    let audit = app.router.audit();
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    let served = app.router.into_axum();
    let counted = served.clone().layer(tower::util::MapRequestLayer::new(
        move |request: axum::extract::Request| {
            counter.fetch_add(1, Ordering::SeqCst);
            request
        },
    ));
    let report = RouteProbe::from_parts(&audit, counted, &minter)
        .allow_public([
            "/health",
            "/login",
            "/token/refresh",
            "/openapi.json",
            "/static/feed.js",
        ])
        .own_credential(["/token/refresh"])
        .expect_roles("/api/admin", ["admin"])
        .run()
        .await;
    assert_eq!(report, Ok(()));
    let sent = requests.load(Ordering::SeqCst);
    assert!(sent >= 12, "the probe sent {sent} requests");

    // Two real accounts, logged in through the app's own login.
    let client = TestClient::new(served);
    let mut tokens = Vec::new();
    for (email, password) in [
        ("alice@example.com", "alice-password"),
        ("bob@example.com", "bob-password"),
    ] {
        let reply = client
            .post("/login")
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        tokens.push(reply.json()["token"].as_str().expect("a token").to_owned());
    }
    OwnershipProbe::bearer(client, &tokens[0], &tokens[1])
        .create(
            "/api/invoices",
            json!({ "amount_cents": 1200, "description": "alice's invoice" }),
        )
        .read("/api/invoices/{id}")
        .delete("/api/invoices/{id}")
        .assert()
        .await;
}
