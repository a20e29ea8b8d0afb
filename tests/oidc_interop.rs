//! Interop with a real, independently written OpenID Provider: panva's `oidc-provider`
//! (OpenID Certified, on Node.js), run from `tests/oidc_provider/` as a child process on a
//! free 127.0.0.1 port. Its client-credentials access tokens (RFC 9068 JWTs) reach an app
//! whose Gate is configured the way the README says, by discovery on the provider's issuer.
//!
//! The provider is installed by `npm ci` from its lock file (`.ci/run` does it) and found
//! through `AUTHGATE_TEST_OIDC_PROVIDER`, the directory of `provider.mjs`. Without the
//! variable each test prints one `skipped:` line saying how to install and passes; with it, a
//! provider that does not start fails the test. Nothing is downloaded while the tests run.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authgate::issuers::{Issuer, KeyRefresh};
use authgate::{CurrentUser, Gate, Router, require_auth, require_scope};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use support::*;

/// The directory of `provider.mjs`, with its `node_modules` installed.
const PROVIDER_DIR: &str = "AUTHGATE_TEST_OIDC_PROVIDER";
/// How to install it, for the `skipped:` line and the failure message.
const INSTALL: &str = "npm ci --ignore-scripts --prefix tests/oidc_provider";

/// The resource server the app is, and another one of the same provider.
const AUDIENCE: &str = "urn:authgate:interop-api";
const OTHER_AUDIENCE: &str = "urn:authgate:other-api";
/// The provider's client (`provider.mjs`); with client credentials, its id is the subject.
const CLIENT_ID: &str = "interop-client";
const CLIENT_SECRET: &str = "interop-client-secret-for-tests-only";

// ---------------------------------------------------------------------------------------------
// The provider process.

/// Where the provider's script is and where its keys are kept, for one test.
struct Setup {
    dir: PathBuf,
    keys: TempDir,
}

impl Setup {
    /// The provider of `AUTHGATE_TEST_OIDC_PROVIDER`, or `None` after one `skipped:` line.
    fn from_env(test: &str) -> Option<Setup> {
        let Some(dir) = std::env::var_os(PROVIDER_DIR).filter(|d| !d.is_empty()) else {
            skipped(&format!(
                "{test} (a real OpenID Provider): set {PROVIDER_DIR}=tests/oidc_provider \
                 after `{INSTALL}` (Node.js 18 or later)"
            ));
            return None;
        };
        // A relative path is taken from the repository root, where `cargo test` runs.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        Some(Setup {
            dir,
            keys: TempDir::new("oidc-keys"),
        })
    }
}

/// A directory of its own in the temp dir, removed with what is in it when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("authgate-{}", fresh(name)));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One run of `provider.mjs`, killed when dropped (also when a test panics). It also exits
/// by itself when its standard input closes, so a test process that dies leaves none behind.
struct OpenIdProvider {
    child: Child,
    _stdin: ChildStdin,
    port: u16,
    /// The discovery and JWKS paths it served, in order (`served <path>` lines).
    served: Arc<Mutex<Vec<String>>>,
}

impl OpenIdProvider {
    /// Starts the provider on `port` (0: a free one) publishing the keys `kids`, the first of
    /// which signs; `jwks_max_age` becomes the JWKS's `Cache-Control: max-age`. Waits until
    /// it serves; panics with its error output when it cannot start.
    fn start(setup: &Setup, port: u16, kids: &[&str], jwks_max_age: u64) -> OpenIdProvider {
        let script = setup.dir.join("provider.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .args(["--port", &port.to_string()])
            .arg("--keys")
            .arg(&setup.keys.0)
            .args(["--kids", &kids.join(",")])
            .args(["--jwks-max-age", &jwks_max_age.to_string()])
            .current_dir(&setup.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "{PROVIDER_DIR} is set but `node {}` does not start ({e}); \
                     Node.js 18 or later must be on PATH",
                    script.display()
                )
            });
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let served = Arc::new(Mutex::new(Vec::new()));
        let (listening, port_reported) = mpsc::channel();
        let lines = served.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line.strip_prefix("listening ") {
                    let _ = listening.send(port.parse::<u16>().ok());
                } else if let Some(path) = line.strip_prefix("served ") {
                    lines.lock().unwrap().push(path.to_owned());
                }
            }
        });
        // Node's start-up, the import of oidc-provider and a 2048-bit RSA key each: a few
        // hundred milliseconds, more on a loaded machine.
        match port_reported.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(port)) => OpenIdProvider {
                child,
                _stdin: stdin,
                port,
                served,
            },
            outcome => {
                let _ = child.kill();
                let status = child.wait();
                let errors = errors.join().unwrap_or_default();
                panic!(
                    "{PROVIDER_DIR} is set but the OpenID Provider in {} did not start \
                     ({outcome:?}, {status:?}); install it with `{INSTALL}`. Its errors:\n{errors}",
                    setup.dir.display()
                );
            }
        }
    }

    /// Stops this run and starts another on the same port (so the same issuer) with another
    /// key set: how an operator rotates this provider's keys, whose key set is fixed per
    /// instance.
    fn restart(self, setup: &Setup, kids: &[&str], jwks_max_age: u64) -> OpenIdProvider {
        let port = self.port;
        drop(self);
        OpenIdProvider::start(setup, port, kids, jwks_max_age)
    }

    fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The discovery and JWKS paths this run served so far.
    fn served(&self) -> Vec<String> {
        self.served.lock().unwrap().clone()
    }

    /// The paths served, once at least `count` are (the lines arrive through a pipe and a
    /// thread, a little after the provider answered), or after 2 s.
    async fn served_at_least(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.served().len() < count && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.served()
    }

    /// A client-credentials access token for the resource server `resource` with `scope`
    /// (space-separated; empty asks for none), from the token endpoint, authenticated with
    /// the client secret (`client_secret_basic`).
    async fn token(&self, resource: &str, scope: &str) -> String {
        let mut form = format!(
            "grant_type=client_credentials&resource={}",
            form_value(resource)
        );
        if !scope.is_empty() {
            form.push_str(&format!("&scope={}", form_value(scope)));
        }
        let reply = reqwest::Client::new()
            .post(format!("{}/token", self.issuer()))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("the token endpoint answers");
        let status = reply.status();
        let body: Value =
            serde_json::from_slice(&reply.bytes().await.expect("a token response body"))
                .expect("a JSON token response");
        // On failure, only the error: a token response carries a token.
        assert_eq!(
            status.as_u16(),
            200,
            "token endpoint: {} {}",
            body["error"],
            body["error_description"]
        );
        assert_eq!(body["token_type"], "Bearer");
        body["access_token"]
            .as_str()
            .expect("an access_token")
            .to_owned()
    }
}

impl Drop for OpenIdProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `value` as an `application/x-www-form-urlencoded` value.
fn form_value(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(byte as char);
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The token's JOSE header, as the provider wrote it.
fn header_of(token: &str) -> jsonwebtoken::Header {
    jsonwebtoken::decode_header(token).expect("a JWS header")
}

// ---------------------------------------------------------------------------------------------
// The app: a resource server for `AUDIENCE`, configured by discovery on the issuer.

/// The claims of an RFC 9068 access token the handler reads besides subject and scopes.
#[derive(Deserialize)]
struct AccessClaims {
    client_id: String,
    /// A string or an array (RFC 7519): kept as it came.
    aud: Value,
}

#[require_auth]
async fn me(State(hits): State<Hits>, user: CurrentUser<AccessClaims>) -> Json<Value> {
    hits.hit();
    Json(json!({
        "sub": user.subject(),
        "scopes": user.scopes(),
        "client_id": user.client_id,
        "aud": user.aud,
    }))
}

#[require_scope("invoices:read")]
async fn list_invoices(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "invoices"
}

#[require_scope("invoices:write")]
async fn create_invoice(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "created"
}

/// The README's configuration: the issuer (discovery, then its `jwks_uri`) and the audience;
/// `refresh` only shortens the refresh bounds for the rotation test.
fn gate(issuer: &str, refresh: KeyRefresh) -> Gate {
    Gate::builder()
        .realm(REALM)
        .issuer(Issuer::discover(issuer).audience(AUDIENCE))
        .key_refresh(refresh)
        .build()
        .expect("an OIDC Gate")
}

fn app(gate: Gate) -> (TestClient, Hits) {
    let state = AppState::new(gate);
    let hits = state.hits.clone();
    let app = Router::new()
        .route("/me", authgate::routing::get(me))
        .route(
            "/invoices",
            authgate::routing::get(list_invoices).post(create_invoice),
        )
        .with_state(state)
        .into_axum();
    (client(app), hits)
}

/// Keys known within 10 s of the Gate's start (the provider is already up).
async fn ready_app(provider: &OpenIdProvider, refresh: KeyRefresh) -> (TestClient, Hits) {
    let gate = gate(&provider.issuer(), refresh);
    assert!(
        gate.ready(Duration::from_secs(10)).await,
        "the provider's keys were not fetched"
    );
    app(gate)
}

async fn get_me(app: &TestClient, token: &str) -> TestResponse {
    app.get("/me").bearer(token).send().await
}

/// `/me` answers 200 with what the token says about its caller.
async fn assert_me(app: &TestClient, token: &str, scopes: &[&str]) {
    let reply = get_me(app, token).await;
    assert_eq!(reply.status, StatusCode::OK, "body: {:?}", reply.body);
    assert_eq!(
        json_body(&reply),
        json!({ "sub": CLIENT_ID, "scopes": scopes, "client_id": CLIENT_ID, "aud": AUDIENCE })
    );
}

/// `token` is refused with 401 `invalid_token` on `/me` and `/invoices`, no handler ran, and
/// nothing logged carries the token or its signature.
async fn assert_refused(app: &TestClient, hits: &Hits, token: &str) {
    let before = hits.count();
    let (logs, _guard) = capture_logs();
    assert_invalid_token(&get_me(app, token).await);
    assert_invalid_token(&app.get("/invoices").bearer(token).send().await);
    assert_eq!(hits.count(), before, "a handler ran for a refused token");
    let logs = logs.contents();
    let signature = token.rsplit('.').next().unwrap();
    assert!(!logs.contains(signature), "the token was logged:\n{logs}");
}

// ---------------------------------------------------------------------------------------------
// Tokens.

/// Client-credentials tokens from the provider are accepted with the client as subject, the
/// scopes granted and the audience asked for; the scopes decide `require_scope` (a read-only
/// token cannot write: 403 `insufficient_scope`, the handler did not run).
#[tokio::test]
async fn client_credentials_tokens_are_accepted_with_subject_scopes_and_audience() {
    let Some(setup) =
        Setup::from_env("client_credentials_tokens_are_accepted_with_subject_scopes_and_audience")
    else {
        return;
    };
    let provider = OpenIdProvider::start(&setup, 0, &["k1"], 300);
    let (app, hits) = ready_app(&provider, KeyRefresh::default()).await;

    let read = provider.token(AUDIENCE, "invoices:read").await;
    // An RFC 9068 access token, signed with the provider's key.
    let header = header_of(&read);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.kid.as_deref(), Some("k1"));
    assert_me(&app, &read, &["invoices:read"]).await;
    let reply = app.get("/invoices").bearer(&read).send().await;
    assert_ok(&reply, "invoices");
    let before = hits.count();
    let reply = app.post("/invoices").bearer(&read).send().await;
    assert_forbidden(&reply, Some("invoices:write"));
    assert_eq!(hits.count(), before, "the handler ran without its scope");

    let read_write = provider
        .token(AUDIENCE, "invoices:read invoices:write")
        .await;
    assert_me(&app, &read_write, &["invoices:read", "invoices:write"]).await;
    assert_ok(
        &app.post("/invoices").bearer(&read_write).send().await,
        "created",
    );

    // No scope asked for: the token has none, and authenticates only.
    let none = provider.token(AUDIENCE, "").await;
    assert_me(&app, &none, &[]).await;
    assert_forbidden(
        &app.get("/invoices").bearer(&none).send().await,
        Some("invoices:read"),
    );
    assert_eq!(
        provider.served_at_least(2).await,
        ["/.well-known/openid-configuration", "/jwks"],
        "one discovery and one JWKS fetch for all of this"
    );
}

/// A token the same provider issued to the same client for another resource server is
/// refused (401 `invalid_token`), though its issuer, key and signature are good.
#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let Some(setup) = Setup::from_env("a_token_for_another_audience_is_refused") else {
        return;
    };
    let provider = OpenIdProvider::start(&setup, 0, &["k1"], 300);
    let (app, hits) = ready_app(&provider, KeyRefresh::default()).await;
    let other = provider.token(OTHER_AUDIENCE, "invoices:read").await;
    assert_refused(&app, &hits, &other).await;
    // The same request for this audience is accepted.
    let mine = provider.token(AUDIENCE, "invoices:read").await;
    assert_me(&app, &mine, &["invoices:read"]).await;
}

/// An issuer is named: the provider's tokens are accepted by an issuer of its name whose keys
/// come straight from its JWKS (`Issuer::jwks`, no discovery), and refused (401
/// `invalid_token`) by an issuer of another name trusting the very same keys, since their
/// `iss` names the provider.
#[tokio::test]
async fn tokens_are_accepted_only_by_the_issuer_their_iss_names() {
    let Some(setup) = Setup::from_env("tokens_are_accepted_only_by_the_issuer_their_iss_names")
    else {
        return;
    };
    let provider = OpenIdProvider::start(&setup, 0, &["k1"], 300);
    let jwks_url = format!("{}/jwks", provider.issuer());
    let by_jwks = |name: String| {
        Gate::builder()
            .realm(REALM)
            .issuer(Issuer::jwks(name, jwks_url.clone()).audience(AUDIENCE))
            .build()
            .expect("a JWKS Gate")
    };
    let token = provider.token(AUDIENCE, "invoices:read").await;

    let named = by_jwks(provider.issuer());
    assert!(named.ready(Duration::from_secs(10)).await, "keys fetched");
    let (accepting, _) = app(named);
    assert_me(&accepting, &token, &["invoices:read"]).await;

    let misnamed = by_jwks("https://another-issuer.example.test".to_owned());
    assert!(
        misnamed.ready(Duration::from_secs(10)).await,
        "keys fetched"
    );
    let (refusing, hits) = app(misnamed);
    assert_refused(&refusing, &hits, &token).await;
    assert_eq!(
        provider.served_at_least(2).await,
        ["/jwks", "/jwks"],
        "each Gate fetched the JWKS, and neither the discovery document"
    );
}

// ---------------------------------------------------------------------------------------------
// Key rotation.

/// The provider rotates its keys (restarted on the same issuer, as its key set is fixed per
/// instance): first the new key is published next to the old one and signs new tokens; the
/// first request with a new token finds its unknown `kid` with one JWKS fetch and is accepted;
/// old tokens still verify. Then the old key is removed: after the next refresh its tokens
/// are refused (cached ones too), and no request with a new token ever fails.
#[tokio::test]
async fn key_rotation_is_followed_without_a_failed_request() {
    let Some(setup) = Setup::from_env("key_rotation_is_followed_without_a_failed_request") else {
        return;
    };
    // The provider says how long its key set may be kept (`max-age`, in seconds): long
    // before the rotation, so only an unknown `kid` can cause a fetch; 1 s while both keys are
    // published, so the key's removal is seen soon. The bounds let that through unclamped.
    let refresh = KeyRefresh::default()
        .between(Duration::from_millis(200), Duration::from_secs(600))
        .unknown_kid_interval(Duration::from_secs(60));
    let provider = OpenIdProvider::start(&setup, 0, &["k1"], 300);
    let (app, hits) = ready_app(&provider, refresh).await;
    let old = provider.token(AUDIENCE, "invoices:read").await;
    assert_eq!(header_of(&old).kid.as_deref(), Some("k1"));
    assert_me(&app, &old, &["invoices:read"]).await;

    // The new key first (it signs), the old one still published.
    let provider = provider.restart(&setup, &["k2", "k1"], 1);
    let new = provider.token(AUDIENCE, "invoices:read").await;
    assert_eq!(header_of(&new).kid.as_deref(), Some("k2"));
    assert!(provider.served().is_empty(), "fetched before the new token");
    assert_me(&app, &new, &["invoices:read"]).await;
    assert_eq!(
        provider.served_at_least(1).await,
        ["/jwks"],
        "one JWKS fetch for the unknown kid"
    );
    assert_me(&app, &old, &["invoices:read"]).await;

    // The old key removed.
    let provider = provider.restart(&setup, &["k2"], 300);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        assert_me(&app, &new, &["invoices:read"]).await;
        if get_me(&app, &old).await.status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the removed key still verifies after 15 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        provider
            .served_at_least(1)
            .await
            .contains(&"/jwks".to_owned()),
        "refused before the provider's new key set was fetched"
    );
    assert_refused(&app, &hits, &old).await;
    assert_me(&app, &new, &["invoices:read"]).await;
    let newest = provider.token(AUDIENCE, "invoices:read").await;
    assert_me(&app, &newest, &["invoices:read"]).await;
}
