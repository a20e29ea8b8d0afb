//! Cross-site request forgery: the full method x `Sec-Fetch-Site` x `Origin` x credential-kind
//! matrix (server-side cookie, stateless cookie, bearer), `Origin: null`, lookalike and
//! malformed origins, duplicated headers, trusted origins and the strict `require_origin` mode.
//!
//! The rule under test (the `authgate::sessions` docs): for a cookie credential and any method
//! but `GET`, `HEAD` and `OPTIONS`, `Sec-Fetch-Site` must be `same-origin` or `none`; without
//! it, an `Origin` must match `Host`; neither header passes unless `require_origin()`. Bearer
//! credentials are exempt. A refusal is 403 `forbidden` with no challenge, before the session
//! store is asked and before the body is read.
//!
//! - OWASP ASVS 5.0.0: V3.5.1 (cross-origin requests to sensitive functionality are checked
//!   with headers a page cannot forge), V3.5.3 (strict `Sec-Fetch-*` validation for unsafe
//!   methods), V3.3.2 (`SameSite` is one layer, not the only one), V16.3.3 (refusals logged).
//! - OWASP API Security Top 10 2023: API2 (Broken Authentication: a browser's ambient cookie
//!   is not an authenticated intent), API8 (Security Misconfiguration).

use std::time::Duration;

use authgate::keys::{Algorithm, SigningKey};
use authgate::sessions::Sessions;
use authgate::store::MemoryStore;
use authgate::{CurrentUser, Identity, LoginAttempt, Router, public, require_auth, routing};
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::harness::{Case, Expect, Req, get, post, req, run};
use crate::support::*;

const SAME: &str = SAME_ORIGIN;
const EVIL: &str = "https://evil.example";

#[require_auth]
async fn change(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.subject().to_owned()
}

#[public(reason = "greets the caller when one is presented")]
async fn hello(State(hits): State<Hits>, user: Option<CurrentUser>) -> String {
    hits.hit();
    user.map_or_else(|| "stranger".to_owned(), |u| u.subject().to_owned())
}

struct App {
    app: axum::Router,
    hits: Hits,
    cookie: String,
}

impl App {
    /// An app whose Gate has these sessions, with their CSRF settings (the default Gate
    /// checks CSRF without being told).
    async fn new(sessions: Sessions) -> App {
        let gate = gate_builder()
            .sessions(sessions.idle_timeout(Duration::from_secs(600)))
            .build()
            .expect("gate");
        let cookie = login_cookie(&gate, Identity::new("alice")).await;
        let state = AppState::new(gate);
        let hits = state.hits.clone();
        // `HEAD` is answered by the `GET` handler. authgate's routing has no `options` (an
        // `OPTIONS` is a CORS layer's), but the guard still treats `OPTIONS` as a safe method
        // wherever a guarded handler is routed for it: routed here with axum's own `options`,
        // the guard runs as the handler's first extractor, so the matrix keeps its `OPTIONS`
        // row.
        let every = routing::get(change)
            .post(change)
            .put(change)
            .patch(change)
            .delete(change);
        let app = Router::new()
            .route("/change", every)
            .route("/any", routing::any(change))
            .route("/hello", routing::any(hello))
            .fallback(change)
            .with_state(state.clone())
            .into_axum()
            .route("/change", axum::routing::options(change).with_state(state));
        App { app, hits, cookie }
    }

    async fn server() -> App {
        App::new(Sessions::server_side(COOKIE, MemoryStore::new())).await
    }

    async fn stateless() -> App {
        App::new(Sessions::stateless(
            COOKIE,
            SigningKey::hmac(Algorithm::HS256, SECRET).unwrap(),
        ))
        .await
    }

    async fn table(&self, name: &str, cases: Vec<Case>) {
        run(name, &self.app, || self.hits.count(), cases).await;
    }

    /// `method /change` from a browser on `HOST` with the session cookie.
    fn cookie_request(&self, method: &str) -> Req {
        req(method, "/change")
            .header("host", HOST)
            .cookie(&self.cookie)
    }

    /// `method /any` (a `routing::any` route) from a browser on `HOST` with the cookie.
    fn any_request(&self, method: &str) -> Req {
        req(method, "/any")
            .header("host", HOST)
            .cookie(&self.cookie)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Credential {
    ServerCookie,
    StatelessCookie,
    Bearer,
}

/// The specified outcome of one matrix cell.
fn oracle(
    method: &str,
    site: Option<&str>,
    origin: Option<&str>,
    credential: Credential,
) -> Expect {
    let safe = matches!(method, "GET" | "HEAD" | "OPTIONS");
    if credential == Credential::Bearer || safe {
        return Expect::allowed();
    }
    let passes = match (site, origin) {
        (Some("same-origin" | "none"), _) => true,
        (Some(_), _) => false,
        (None, None) => true,
        (None, Some(origin)) => origin == SAME,
    };
    if passes {
        Expect::allowed()
    } else {
        Expect::forbidden()
    }
}

#[tokio::test]
async fn method_site_origin_credential_matrix() {
    let server = App::server().await;
    let stateless = App::stateless().await;
    let bearer = token("alice", &[]);
    let methods = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"];
    let sites = [
        None,
        Some("same-origin"),
        Some("none"),
        Some("same-site"),
        Some("cross-site"),
    ];
    let origins = [None, Some(SAME), Some(EVIL), Some("null")];
    for (app, credentials) in [
        (&server, &[Credential::ServerCookie, Credential::Bearer][..]),
        (&stateless, &[Credential::StatelessCookie][..]),
    ] {
        let mut cases = Vec::new();
        for &credential in credentials {
            for method in methods {
                for site in sites {
                    for origin in origins {
                        let mut r = req(method, "/change").header("host", HOST);
                        r = match credential {
                            Credential::Bearer => r.bearer(&bearer),
                            _ => r.cookie(&app.cookie),
                        };
                        if let Some(site) = site {
                            r = r.header("sec-fetch-site", site);
                        }
                        if let Some(origin) = origin {
                            r = r.header("origin", origin);
                        }
                        cases.push(Case::new(
                            format!(
                                "{method} sec-fetch-site={site:?} origin={origin:?} {credential:?}"
                            ),
                            r,
                            oracle(method, site, origin, credential),
                        ));
                    }
                }
            }
        }
        let name = format!("csrf/matrix {:?}", credentials);
        app.table(&name, cases).await;
    }
}

#[tokio::test]
async fn hostile_and_malformed_origin_headers() {
    let app = App::server().await;
    let post = || app.cookie_request("POST");
    let no_host = || req("POST", "/change").cookie(&app.cookie);
    app.table(
        "csrf/origin and fetch-metadata edge cases",
        vec![
            Case::new(
                "control: Origin host in upper case",
                post().header("origin", "https://APP.EXAMPLE.COM"),
                Expect::allowed(),
            ),
            Case::new(
                "Origin: null, no Sec-Fetch-Site",
                post().header("origin", "null"),
                Expect::forbidden(),
            ),
            Case::new(
                "Origin with the site as a suffix",
                post().header("origin", "https://app.example.com.evil.io"),
                Expect::forbidden(),
            ),
            Case::new(
                "Origin over http with the site as a suffix",
                post().header("origin", "http://app.example.com.evil.io"),
                Expect::forbidden(),
            ),
            Case::new(
                "Origin with the site as a subdomain of evil",
                post().header("origin", "https://app.example.com.evil.example"),
                Expect::forbidden(),
            ),
            Case::new(
                "Origin with userinfo naming the site",
                post().header("origin", "https://app.example.com@evil.example"),
                Expect::forbidden(),
            ),
            Case::new(
                "Origin with a fragment naming the site",
                post().header("origin", "https://evil.example#app.example.com"),
                Expect::forbidden(),
            ),
            Case::new(
                "Origin on another port",
                post().header("origin", "https://app.example.com:8443"),
                Expect::forbidden(),
            ),
            Case::new(
                "Origin with a trailing slash",
                post().header("origin", "https://app.example.com/"),
                Expect::forbidden(),
            ),
            Case::new(
                "Origin without a scheme",
                post().header("origin", HOST),
                Expect::forbidden(),
            ),
            Case::new(
                "Origin of a sibling subdomain",
                post().header("origin", "https://sub.example.com"),
                Expect::forbidden(),
            ),
            Case::new(
                "Origin with non-ASCII bytes",
                post().header("origin", "https://app.example.com\u{ff0e}evil"),
                Expect::forbidden(),
            ),
            Case::new(
                "two Origin headers (same, then evil)",
                post().header("origin", SAME).header("origin", EVIL),
                Expect::forbidden(),
            ),
            Case::new(
                "two Origin headers, both the site",
                post().header("origin", SAME).header("origin", SAME),
                Expect::forbidden(),
            ),
            Case::new(
                "two Host headers",
                post().header("origin", SAME).header("host", "evil.example"),
                Expect::forbidden(),
            ),
            Case::new(
                "Origin but no Host at all",
                no_host().header("origin", SAME),
                Expect::forbidden(),
            ),
            Case::new(
                "two Sec-Fetch-Site headers (same-origin, cross-site)",
                post()
                    .header("sec-fetch-site", "same-origin")
                    .header("sec-fetch-site", "cross-site"),
                Expect::forbidden(),
            ),
            Case::new(
                "two Sec-Fetch-Site headers, both same-origin",
                post()
                    .header("sec-fetch-site", "same-origin")
                    .header("sec-fetch-site", "same-origin"),
                Expect::forbidden(),
            ),
            Case::new(
                "Sec-Fetch-Site `Same-Origin` (not the browser's spelling)",
                post().header("sec-fetch-site", "Same-Origin"),
                Expect::forbidden(),
            ),
            Case::new(
                "Sec-Fetch-Site with a trailing space",
                post().header("sec-fetch-site", "same-origin "),
                Expect::forbidden(),
            ),
            Case::new(
                "Sec-Fetch-Site as a list",
                post().header("sec-fetch-site", "cross-site, same-origin"),
                Expect::forbidden(),
            ),
            Case::new(
                "Sec-Fetch-Site empty",
                post().header("sec-fetch-site", ""),
                Expect::forbidden(),
            ),
            Case::new(
                "same-site with the Origin of a sibling subdomain",
                post()
                    .header("sec-fetch-site", "same-site")
                    .header("origin", "https://sub.example.com"),
                Expect::forbidden(),
            ),
            Case::new(
                "cross-site with the site's Origin (the browser's signal wins)",
                post()
                    .header("sec-fetch-site", "cross-site")
                    .header("origin", SAME),
                Expect::forbidden(),
            ),
            Case::new(
                "cross-site POST with a text/plain body: body unread",
                post()
                    .header("sec-fetch-site", "cross-site")
                    .probed_body("text/plain", b"amount=1000000"),
                Expect::forbidden(),
            ),
            Case::new(
                "cross-site POST to a public route reading Option<CurrentUser>",
                req("POST", "/hello")
                    .header("host", HOST)
                    .cookie(&app.cookie)
                    .header("sec-fetch-site", "cross-site"),
                Expect::forbidden(),
            ),
            Case::new(
                "cross-site POST with an unknown session id",
                req("POST", "/change")
                    .header("host", HOST)
                    .cookie(&format!("{COOKIE}={}", "A".repeat(43)))
                    .header("sec-fetch-site", "cross-site"),
                Expect::forbidden(),
            ),
            Case::new(
                "cross-site POST with X-HTTP-Method-Override: GET",
                post()
                    .header("sec-fetch-site", "cross-site")
                    .header("x-http-method-override", "GET"),
                Expect::forbidden(),
            ),
            Case::new(
                "cross-site POST with ?_method=GET",
                req("POST", "/change?_method=GET")
                    .header("host", HOST)
                    .cookie(&app.cookie)
                    .header("sec-fetch-site", "cross-site"),
                Expect::forbidden(),
            ),
            Case::new(
                "cross-site lower-case `get` (an extension method, not GET) to an any() route",
                app.any_request("get")
                    .header("sec-fetch-site", "cross-site"),
                Expect::forbidden(),
            ),
            Case::new(
                "cross-site custom method PURGE to an any() route",
                app.any_request("PURGE")
                    .header("sec-fetch-site", "cross-site"),
                Expect::forbidden(),
            ),
            Case::new(
                "evil Origin matching X-Forwarded-Host (not trusted)",
                post()
                    .header("origin", EVIL)
                    .header("x-forwarded-host", "evil.example"),
                Expect::forbidden(),
            ),
            Case::new(
                "evil Origin matching Forwarded host= (not trusted)",
                post()
                    .header("origin", EVIL)
                    .header("forwarded", "host=evil.example;proto=https"),
                Expect::forbidden(),
            ),
            Case::new(
                "anonymous OPTIONS to the axum-routed OPTIONS handler: its guard runs",
                req("OPTIONS", "/change")
                    .header("host", HOST)
                    .header("sec-fetch-site", "cross-site"),
                Expect::unauthenticated(),
            ),
            Case::new(
                "control: a bearer header exempts the request, cookie or not",
                post()
                    .header("sec-fetch-site", "cross-site")
                    .bearer(&token("alice", &[])),
                Expect::allowed(),
            ),
        ],
    )
    .await;
}

/// A `routing::any` handler cannot tell a safe method from a state change: with a cookie, the
/// origin is checked on every method there, `GET` and `HEAD` included.
#[tokio::test]
async fn any_routes_check_the_origin_on_every_method() {
    let app = App::server().await;
    let mut cases = Vec::new();
    for method in ["GET", "HEAD", "OPTIONS", "POST", "DELETE"] {
        cases.push(Case::new(
            format!("{method} cross-site to an any() route"),
            app.any_request(method)
                .header("sec-fetch-site", "cross-site"),
            Expect::forbidden(),
        ));
        cases.push(Case::new(
            format!("{method} same-site (a sibling subdomain) to an any() route"),
            app.any_request(method)
                .header("sec-fetch-site", "same-site"),
            Expect::forbidden(),
        ));
        cases.push(Case::new(
            format!("{method} with an evil Origin and no Sec-Fetch-Site"),
            app.any_request(method).header("origin", EVIL),
            Expect::forbidden(),
        ));
        cases.push(Case::new(
            format!("control: {method} same-origin to an any() route"),
            app.any_request(method)
                .header("sec-fetch-site", "same-origin"),
            Expect::allowed(),
        ));
        cases.push(Case::new(
            format!("control: {method} cross-site with a bearer token"),
            req(method, "/any")
                .header("host", HOST)
                .header("sec-fetch-site", "cross-site")
                .bearer(&token("alice", &[])),
            Expect::allowed(),
        ));
        cases.push(Case::new(
            format!("control: {method} cross-site to the method-routed twin"),
            app.cookie_request(method)
                .header("sec-fetch-site", "cross-site"),
            if matches!(method, "GET" | "HEAD" | "OPTIONS") {
                Expect::allowed()
            } else {
                Expect::forbidden()
            },
        ));
    }
    app.table("csrf/any() routes", cases).await;
}

/// A guarded fallback answers every method of every unknown path, like `routing::any`, and is
/// origin-checked the same way: a cross-site `GET` to an unknown path with the cookie must not
/// run it with the cookie's identity.
#[tokio::test]
async fn a_guarded_fallback_checks_the_origin_on_every_method() {
    let app = App::server().await;
    let unknown = |method: &str| {
        req(method, "/no/such/route")
            .header("host", HOST)
            .cookie(&app.cookie)
    };
    let mut cases = Vec::new();
    for method in ["GET", "HEAD", "OPTIONS", "POST", "DELETE"] {
        cases.push(Case::new(
            format!("{method} cross-site to the fallback"),
            unknown(method).header("sec-fetch-site", "cross-site"),
            Expect::forbidden(),
        ));
        cases.push(Case::new(
            format!("{method} with an evil Origin and no Sec-Fetch-Site to the fallback"),
            unknown(method).header("origin", EVIL),
            Expect::forbidden(),
        ));
        cases.push(Case::new(
            format!("control: {method} same-origin to the fallback"),
            unknown(method).header("sec-fetch-site", "same-origin"),
            Expect::allowed(),
        ));
        cases.push(Case::new(
            format!("control: {method} cross-site to the fallback with a bearer token"),
            req(method, "/no/such/route")
                .header("host", HOST)
                .header("sec-fetch-site", "cross-site")
                .bearer(&token("alice", &[])),
            Expect::allowed(),
        ));
    }
    app.table("csrf/guarded fallback", cases).await;
    let router: Router<AppState> = Router::new().fallback(change);
    let lines: Vec<String> = router.audit().iter().map(ToString::to_string).collect();
    assert_eq!(lines, ["* * require_auth [origin checked on every method]"]);
}

/// A WebSocket handshake is a `GET` that opens a channel both ways: with a cookie, it passes
/// the origin check like a state change (cross-site WebSocket hijacking).
#[tokio::test]
async fn websocket_handshakes_check_the_origin() {
    let app = App::server().await;
    let handshake = || {
        app.cookie_request("GET")
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    };
    app.table(
        "csrf/websocket handshake",
        vec![
            Case::new(
                "cross-site handshake",
                handshake().header("sec-fetch-site", "cross-site"),
                Expect::forbidden(),
            ),
            Case::new(
                "same-site handshake (another port or subdomain of the site)",
                handshake().header("sec-fetch-site", "same-site"),
                Expect::forbidden(),
            ),
            Case::new(
                "handshake from a sibling port's Origin, no Sec-Fetch-Site",
                handshake().header("origin", "https://app.example.com:8443"),
                Expect::forbidden(),
            ),
            Case::new(
                "handshake from a sibling subdomain's Origin",
                handshake().header("origin", "https://chat.example.com"),
                Expect::forbidden(),
            ),
            Case::new(
                "handshake with `Upgrade: WebSocket` in another case",
                app.cookie_request("GET")
                    .header("upgrade", "WebSocket")
                    .header("origin", EVIL),
                Expect::forbidden(),
            ),
            Case::new(
                "handshake with Origin: null",
                handshake().header("origin", "null"),
                Expect::forbidden(),
            ),
            Case::new(
                "control: same-origin handshake",
                handshake().header("sec-fetch-site", "same-origin"),
                Expect::allowed(),
            ),
            Case::new(
                "control: handshake with the site's Origin",
                handshake().header("origin", SAME),
                Expect::allowed(),
            ),
            Case::new(
                "control: cross-site handshake with a bearer token",
                req("GET", "/change")
                    .header("host", HOST)
                    .header("upgrade", "websocket")
                    .header("sec-fetch-site", "cross-site")
                    .bearer(&token("alice", &[])),
                Expect::allowed(),
            ),
            Case::new(
                "control: a cross-site GET that is no handshake",
                app.cookie_request("GET")
                    .header("upgrade", "h2c")
                    .header("sec-fetch-site", "cross-site"),
                Expect::allowed(),
            ),
        ],
    )
    .await;
}

/// With the app's origin declared, `Origin` (when `Sec-Fetch-Site` is absent) must be it:
/// scheme, host and port, not just the host of `Host`.
#[tokio::test]
async fn a_declared_origin_compares_scheme_host_and_port() {
    let app = App::new(
        Sessions::server_side(COOKIE, MemoryStore::new()).origin("https://app.example.com"),
    )
    .await;
    let post = || app.cookie_request("POST");
    app.table(
        "csrf/declared origin",
        vec![
            Case::new(
                "control: the declared origin",
                post().header("origin", "https://app.example.com"),
                Expect::allowed(),
            ),
            Case::new(
                "the declared host over http (a downgraded or sibling http page)",
                post().header("origin", "http://app.example.com"),
                Expect::forbidden(),
            ),
            Case::new(
                "the declared host on another port",
                post().header("origin", "https://app.example.com:8443"),
                Expect::forbidden(),
            ),
            Case::new(
                "an Origin equal to a forged Host",
                req("POST", "/change")
                    .header("host", "evil.example")
                    .cookie(&app.cookie)
                    .header("origin", "https://evil.example"),
                Expect::forbidden(),
            ),
            Case::new(
                "control: no Origin and no Sec-Fetch-Site (not a browser)",
                post(),
                Expect::allowed(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn trusted_origins_and_strict_mode() {
    let trusted = App::new(
        Sessions::server_side(COOKIE, MemoryStore::new())
            .trusted_origin("https://admin.example.com/"),
    )
    .await;
    let post = || {
        trusted
            .cookie_request("POST")
            .header("sec-fetch-site", "cross-site")
    };
    trusted
        .table(
            "csrf/trusted origin",
            vec![
                Case::new(
                    "control: the trusted origin, cross-site",
                    post().header("origin", "https://admin.example.com"),
                    Expect::allowed(),
                ),
                Case::new(
                    "the trusted origin with a suffix",
                    post().header("origin", "https://admin.example.com.evil.io"),
                    Expect::forbidden(),
                ),
                Case::new(
                    "the trusted host over http",
                    post().header("origin", "http://admin.example.com"),
                    Expect::forbidden(),
                ),
                Case::new(
                    "the trusted origin with a trailing slash",
                    post().header("origin", "https://admin.example.com/"),
                    Expect::forbidden(),
                ),
                Case::new(
                    "the trusted origin on another port",
                    post().header("origin", "https://admin.example.com:444"),
                    Expect::forbidden(),
                ),
                Case::new(
                    "the trusted origin in upper case",
                    post().header("origin", "https://ADMIN.example.com"),
                    Expect::forbidden(),
                ),
            ],
        )
        .await;
    let strict = App::new(Sessions::server_side(COOKIE, MemoryStore::new()).require_origin()).await;
    strict
        .table(
            "csrf/require_origin",
            vec![
                Case::new(
                    "control: Origin of the site",
                    strict.cookie_request("DELETE").header("origin", SAME),
                    Expect::allowed(),
                ),
                Case::new(
                    "neither Sec-Fetch-Site nor Origin",
                    strict.cookie_request("DELETE"),
                    Expect::forbidden(),
                ),
                Case::new(
                    "neither header, PATCH",
                    strict.cookie_request("PATCH"),
                    Expect::forbidden(),
                ),
                Case::new(
                    "control: GET needs neither",
                    strict.cookie_request("GET"),
                    Expect::allowed(),
                ),
            ],
        )
        .await;
}

// ---------------------------------------------------------------------------------------------
// Login CSRF (issue 17): a public login that starts a session passes the Gate's origin check,
// through `LoginAttempt`, for forms and JSON alike, before its body is read.

#[public(reason = "login (tests): the body names the subject")]
async fn log_in(State(state): State<AppState>, attempt: LoginAttempt, body: String) -> Response {
    state.hits.hit();
    match state.gate.login(&attempt, Identity::new(body)).await {
        Ok(cookie) => (cookie, "logged in").into_response(),
        Err(e) => e.into_response(),
    }
}

/// An app with `/login` (GET and POST) on a Gate with these sessions (and their CSRF
/// settings).
fn login_app(sessions: Sessions) -> (axum::Router, Hits) {
    let state = AppState::new(gate_builder().sessions(sessions).build().expect("gate"));
    let hits = state.hits.clone();
    let app = Router::new()
        .route("/login", routing::get(log_in).post(log_in))
        .with_state(state)
        .into_axum();
    (app, hits)
}

#[tokio::test]
async fn login_csrf_is_refused_for_cross_site_form_and_json_posts() {
    const FORM: &str = "application/x-www-form-urlencoded";
    const JSON: &str = "application/json";
    let login = |content_type: &str| {
        post("/login")
            .header("host", HOST)
            .probed_body(content_type, b"alice")
    };
    let (app, hits) = login_app(Sessions::server_side(COOKIE, MemoryStore::new()));
    let cases = vec![
        Case::new(
            "a cross-site form post",
            login(FORM).header("sec-fetch-site", "cross-site"),
            Expect::forbidden(),
        ),
        Case::new(
            "a cross-site JSON post",
            login(JSON).header("sec-fetch-site", "cross-site"),
            Expect::forbidden(),
        ),
        Case::new(
            "a form post from a sibling sub-domain (same-site)",
            login(FORM).header("sec-fetch-site", "same-site"),
            Expect::forbidden(),
        ),
        Case::new(
            "a form post with another site's Origin, no Sec-Fetch-Site",
            login(FORM).header("origin", EVIL),
            Expect::forbidden(),
        ),
        Case::new(
            "a JSON post with another site's Origin, no Sec-Fetch-Site",
            login(JSON).header("origin", EVIL),
            Expect::forbidden(),
        ),
        Case::new(
            "Origin: null (a sandboxed frame)",
            login(FORM).header("origin", "null"),
            Expect::forbidden(),
        ),
        Case::new(
            "Sec-Fetch-Site twice",
            login(FORM)
                .header("sec-fetch-site", "same-origin")
                .header("sec-fetch-site", "cross-site"),
            Expect::forbidden(),
        ),
        Case::new(
            "a cross-site GET (a login link): a login is a state change whatever its method",
            get("/login")
                .header("host", HOST)
                .header("sec-fetch-site", "cross-site"),
            Expect::forbidden(),
        ),
        Case::new(
            "control: a same-origin form post",
            login(FORM).header("sec-fetch-site", "same-origin"),
            Expect::allowed().body("logged in"),
        ),
        Case::new(
            "control: a JSON post with the site's Origin",
            login(JSON).header("origin", SAME),
            Expect::allowed().body("logged in"),
        ),
        Case::new(
            "control: a typed URL (Sec-Fetch-Site: none)",
            login(FORM).header("sec-fetch-site", "none"),
            Expect::allowed().body("logged in"),
        ),
        Case::new(
            "control: an API client (neither header)",
            login(JSON),
            Expect::allowed().body("logged in"),
        ),
    ];
    run("csrf/login", &app, || hits.count(), cases).await;

    // The Gate's own CSRF settings apply: a declared origin, and the strict mode.
    let (app, hits) = login_app(
        Sessions::server_side(COOKIE, MemoryStore::new())
            .origin(SAME)
            .require_origin(),
    );
    let cases = vec![
        Case::new(
            "the site's host over http, against the declared https origin",
            login(FORM).header("origin", "http://app.example.com"),
            Expect::forbidden(),
        ),
        Case::new(
            "neither header, with require_origin",
            login(JSON),
            Expect::forbidden(),
        ),
        Case::new(
            "control: the declared origin",
            login(FORM).header("origin", SAME),
            Expect::allowed().body("logged in"),
        ),
    ];
    run(
        "csrf/login with declared origins",
        &app,
        || hits.count(),
        cases,
    )
    .await;
}
