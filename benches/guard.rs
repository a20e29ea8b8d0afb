//! What guarding an axum route costs, per request, in-process, with the baselines in the same
//! run so every ratio compares numbers measured side by side.
//!
//! Every request goes through `tower::ServiceExt::oneshot` on an `axum::Router` (routing,
//! extraction, handler, response), built fresh per iteration like a server would see it:
//!
//! - `bare`: a plain handler, no credential check: the cost of axum itself;
//! - `one_extractor`: a plain handler taking `Method`: what axum adds for a handler with any
//!   extractor at all (it splits the request into parts and puts it back), which the guard is;
//! - `<ALG>/handwritten`: a `FromRequestParts` extractor calling `jsonwebtoken::decode` with a
//!   prebuilt key and `Validation` (issuer, audience, `exp`): what a careful app writes by hand;
//! - `<ALG>/floor`: the physical floor: a key prepared once (aws-lc-rs HMAC key or parsed public
//!   key), one base64 pass over the signature and the payload, one signature check, one serde
//!   pass into a typed struct and the `exp`/`iss`/`aud` comparisons; no header parsing at all;
//! - `<ALG>/authgate_cold_nocache`: `#[require_auth]` with the token cache off;
//! - `<ALG>/authgate_cold`: `#[require_auth]` with the cache on but every token new to it (a
//!   stream of 1024 distinct tokens through a cache of 256 entries: every request misses,
//!   verifies and inserts, evicting);
//! - `<ALG>/authgate_hot`: `#[require_auth]`, the same token each time (a cache hit);
//! - `<ALG>/cookie_*`: the same three with a stateless session cookie instead of a bearer token;
//! - `HS256/authgate_hot_current_user`: a hit plus a `CurrentUser<Sub>` argument, which parses
//!   the claims into the app's type (the guard alone does not);
//! - `HS256/{authgate,cookie}_{hot,cold}_revocations`: the same with revocations configured and
//!   a view of 10 000 revoked token ids and 1 000 revoked subjects (none of them the bench's):
//!   what the revocation check adds (its view is kept current by a task on a runtime of its
//!   own, as a server's would be);
//! - `RS256/{kid,jwks,issuer_keys}_{cold,hot}`: tokens with a `kid` (as identity providers
//!   issue them) through the shared static key with that `kid`, through a Gate whose keys are
//!   fetched from a JWKS (`GateBuilder::jwks`, served by a small axum server on loopback and
//!   refreshed by a task on a runtime of its own), and through `issuer_keys` (static keys bound
//!   to the issuer): what binding keys to issuers and fetching them adds per request. The
//!   JWKS Gate reads its keys exactly as with a real provider (the `ArcSwapOption` snapshot the
//!   refresh task stores); the fetch itself happens once, before measuring.
//!
//! `cargo bench --bench guard` runs it all (about 3 minutes on 2 cores) and prints the medians
//! and ratios at the end; `cargo bench --bench guard -- HS256` runs one group.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authgate::issuers::Issuer;
use authgate::keys::{Algorithm, Key, SigningKey};
use authgate::revocation::Revocations;
use authgate::sessions::Sessions;
use authgate::store::MemoryStore;
use authgate::{Gate, GateBuilder, require_auth, routing::get};
use aws_lc_rs::signature::{self as aws_sig, ParsedPublicKey};
use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::{HeaderName, HeaderValue, Request, StatusCode, header, request::Parts};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::Criterion;
use jsonwebtoken::{DecodingKey, EncodingKey, Validation};
use serde::Deserialize;

#[path = "support/harness.rs"]
mod harness;
#[path = "support/ratios.rs"]
#[allow(dead_code)] // shared with the peers crate, which uses all of it
mod ratios;

use harness::{Route, Runner, ServiceRoute};
use ratios::{Goal, Table, median, print_medians};

const ISS: &str = "https://auth.example.test";
const AUD: &str = "bench-api";
const HS_SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-bench";
const COOKIE: &str = "__Host-session";
/// Distinct tokens per algorithm for the cold benches, and the cache size (in bytes: at most
/// 102 entries) that makes every one of them a miss when they come round again.
const DISTINCT: usize = 1024;
const COLD_CACHE: usize = 64 << 10;
/// The cache of the hot benches: the Gate's default size.
const HOT_CACHE: usize = 32 << 20;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The crypto crate's name of `alg`.
fn jwa(alg: Algorithm) -> jsonwebtoken::Algorithm {
    alg.to_string().parse().expect("the same algorithm names")
}

fn key_file(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The algorithms, with every form of their keys the routes need.

struct Suite {
    name: &'static str,
    alg: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    gate_key: fn() -> Key,
    signing_key: fn() -> SigningKey,
    floor: FloorKey,
}

fn suites() -> Vec<Suite> {
    let rsa_pub = key_file("rsa_public.pem");
    let ec_pub = key_file("ec256_public.pem");
    let ed_pub = key_file("ed25519_public.pem");
    let rsa_dec = DecodingKey::from_rsa_pem(&rsa_pub).expect("RSA public key");
    let ec_dec = DecodingKey::from_ec_pem(&ec_pub).expect("P-256 public key");
    let ed_dec = DecodingKey::from_ed_pem(&ed_pub).expect("Ed25519 public key");
    let parsed = |alg: &'static dyn aws_sig::VerificationAlgorithm, key: &DecodingKey| {
        FloorKey::Public(
            ParsedPublicKey::new(alg, key.try_get_as_bytes().expect("DER key"))
                .expect("aws-lc-rs parses the public key"),
        )
    };
    vec![
        Suite {
            name: "HS256",
            alg: Algorithm::HS256,
            encoding: EncodingKey::from_secret(HS_SECRET),
            decoding: DecodingKey::from_secret(HS_SECRET),
            gate_key: || Key::hmac(Algorithm::HS256, HS_SECRET).expect("HS256 key"),
            signing_key: || {
                SigningKey::hmac(Algorithm::HS256, HS_SECRET).expect("a 32-byte secret")
            },
            floor: FloorKey::Hmac(aws_lc_rs::hmac::Key::new(
                aws_lc_rs::hmac::HMAC_SHA256,
                HS_SECRET,
            )),
        },
        Suite {
            name: "RS256",
            alg: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_pem(&key_file("rsa_private.pem")).expect("RSA key"),
            floor: parsed(&aws_sig::RSA_PKCS1_2048_8192_SHA256, &rsa_dec),
            decoding: rsa_dec,
            gate_key: || {
                Key::from_pem(Algorithm::RS256, key_file("rsa_public.pem")).expect("RSA key")
            },
            signing_key: || {
                SigningKey::from_pem(Algorithm::RS256, key_file("rsa_private.pem"))
                    .expect("RSA private key")
            },
        },
        Suite {
            name: "ES256",
            alg: Algorithm::ES256,
            encoding: EncodingKey::from_ec_pem(&key_file("ec256_private.pk8.pem"))
                .expect("P-256 key"),
            floor: parsed(&aws_sig::ECDSA_P256_SHA256_FIXED, &ec_dec),
            decoding: ec_dec,
            gate_key: || {
                Key::from_pem(Algorithm::ES256, key_file("ec256_public.pem")).expect("P-256 key")
            },
            signing_key: || {
                SigningKey::from_pem(Algorithm::ES256, key_file("ec256_private.pk8.pem"))
                    .expect("P-256 private key")
            },
        },
        Suite {
            name: "EdDSA",
            alg: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_pem(&key_file("ed25519_private.pem"))
                .expect("Ed25519 key"),
            floor: parsed(&aws_sig::ED25519, &ed_dec),
            decoding: ed_dec,
            gate_key: || {
                Key::from_pem(Algorithm::EdDSA, key_file("ed25519_public.pem"))
                    .expect("Ed25519 key")
            },
            signing_key: || {
                SigningKey::from_pem(Algorithm::EdDSA, key_file("ed25519_private.pem"))
                    .expect("Ed25519 private key")
            },
        },
    ]
}

/// `n` distinct valid tokens (they differ in `jti`), typical claims, one hour to live; with
/// `typ: authgate-session+jwt` for stateless session cookies (authgate accepts a token only for
/// its purpose).
fn tokens(suite: &Suite, n: usize, typ: &str) -> Vec<String> {
    tokens_with_kid(suite, n, typ, None)
}

/// [`tokens`], with this `kid` in the header.
fn tokens_with_kid(suite: &Suite, n: usize, typ: &str, kid: Option<&str>) -> Vec<String> {
    let now = now();
    let header = jsonwebtoken::Header {
        typ: Some(typ.to_owned()),
        kid: kid.map(str::to_owned),
        ..jsonwebtoken::Header::new(jwa(suite.alg))
    };
    (0..n)
        .map(|i| {
            let claims = serde_json::json!({
                "sub": "user-4242", "iss": ISS, "aud": AUD, "iat": now, "exp": now + 3600,
                "roles": ["user", "billing"], "jti": format!("bench-{i:08}"),
            });
            jsonwebtoken::encode(&header, &claims, &suite.encoding).expect("sign a bench token")
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The hand-written extractor: jsonwebtoken::decode with a prebuilt key and Validation.

#[derive(Deserialize)]
#[allow(dead_code)] // read by serde; a real handler would use them
struct HandClaims {
    sub: String,
    exp: u64,
    roles: Vec<String>,
}

struct HandState {
    key: DecodingKey,
    validation: Validation,
}

struct HandUser(#[allow(dead_code)] HandClaims);

impl FromRequestParts<Arc<HandState>> for HandUser {
    type Rejection = StatusCode;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<HandState>,
    ) -> Result<Self, StatusCode> {
        let token = bearer(parts).ok_or(StatusCode::UNAUTHORIZED)?;
        let data = jsonwebtoken::decode::<HandClaims>(token, &state.key, &state.validation)
            .map_err(|_| StatusCode::UNAUTHORIZED)?;
        Ok(HandUser(data.claims))
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

async fn hand_handler(_user: HandUser) -> &'static str {
    "ok"
}

fn handwritten_app(suite: &Suite) -> axum::Router {
    let mut validation = Validation::new(jwa(suite.alg));
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    let state = Arc::new(HandState {
        key: suite.decoding.clone(),
        validation,
    });
    axum::Router::new()
        .route("/r", axum::routing::get(hand_handler))
        .with_state(state)
}

// ---------------------------------------------------------------------------------------------
// The floor: a prepared key, one base64 pass, one signature check, one serde pass.

#[derive(Clone)]
#[allow(clippy::large_enum_variant)] // one per route, behind an `Arc`
enum FloorKey {
    Hmac(aws_lc_rs::hmac::Key),
    Public(ParsedPublicKey),
}

impl FloorKey {
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            FloorKey::Hmac(key) => aws_lc_rs::hmac::verify(key, message, signature).is_ok(),
            FloorKey::Public(key) => key.verify_sig(message, signature).is_ok(),
        }
    }
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FloorClaims<'a> {
    sub: String,
    exp: u64,
    #[serde(borrow)]
    iss: &'a str,
    #[serde(borrow)]
    aud: &'a str,
    roles: Vec<String>,
}

struct FloorUser(#[allow(dead_code)] String, #[allow(dead_code)] Vec<String>);

impl FromRequestParts<Arc<FloorKey>> for FloorUser {
    type Rejection = StatusCode;

    async fn from_request_parts(
        parts: &mut Parts,
        key: &Arc<FloorKey>,
    ) -> Result<Self, StatusCode> {
        const NO: StatusCode = StatusCode::UNAUTHORIZED;
        let token = bearer(parts).ok_or(NO)?;
        let (message, signature) = token.rsplit_once('.').ok_or(NO)?;
        let (_, payload) = message.split_once('.').ok_or(NO)?;
        let mut sig = [0u8; 512];
        let n = URL_SAFE_NO_PAD
            .decode_slice(signature, &mut sig)
            .map_err(|_| NO)?;
        if !key.verify(message.as_bytes(), &sig[..n]) {
            return Err(NO);
        }
        let mut body = [0u8; 1024];
        let n = URL_SAFE_NO_PAD
            .decode_slice(payload, &mut body)
            .map_err(|_| NO)?;
        let claims: FloorClaims<'_> = serde_json::from_slice(&body[..n]).map_err(|_| NO)?;
        if claims.exp <= now() || claims.iss != ISS || claims.aud != AUD {
            return Err(NO);
        }
        Ok(FloorUser(claims.sub, claims.roles))
    }
}

async fn floor_handler(_user: FloorUser) -> &'static str {
    "ok"
}

fn floor_app(key: FloorKey) -> axum::Router {
    axum::Router::new()
        .route("/r", axum::routing::get(floor_handler))
        .with_state(Arc::new(key))
}

// ---------------------------------------------------------------------------------------------
// authgate routes.

#[require_auth]
async fn guarded() -> &'static str {
    "ok"
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Sub {
    sub: String,
}

#[require_auth]
async fn guarded_user(_user: authgate::CurrentUser<Sub>) -> &'static str {
    "ok"
}

/// The bench's one issuer, with the suite's key.
fn issuer(suite: &Suite) -> Issuer {
    Issuer::new(ISS).key((suite.gate_key)()).audience(AUD)
}

fn gate(suite: &Suite, cache: Option<usize>, cookie: bool) -> Gate {
    let mut builder: GateBuilder = Gate::builder().issuer(issuer(suite));
    builder = builder.token_cache(cache.unwrap_or(0));
    if cookie {
        builder = builder.sessions(Sessions::stateless(COOKIE, (suite.signing_key)()));
    }
    builder.build().expect("bench gate")
}

/// A Gate like [`gate`], with revocations in a populated view. Its sync task runs on `rt`,
/// which outlives the measurements.
fn revocation_gate(
    suite: &Suite,
    cache: Option<usize>,
    cookie: bool,
    rt: &tokio::runtime::Runtime,
) -> Gate {
    let _inside = rt.enter();
    let mut builder: GateBuilder = Gate::builder()
        .issuer(issuer(suite))
        .token_cache(cache.unwrap_or(0))
        .revocations(Revocations::new(MemoryStore::new()));
    if cookie {
        builder = builder.sessions(Sessions::stateless(COOKIE, (suite.signing_key)()));
    }
    let gate = builder.build().expect("bench gate");
    rt.block_on(async {
        assert!(
            gate.ready(Duration::from_secs(5)).await,
            "revocations loaded"
        );
        for i in 0..10_000 {
            let jti = format!("revoked-{i:08}");
            gate.revoke_token_id(&jti, UNIX_EPOCH + Duration::from_secs(now() + 3600))
                .await
                .expect("revoke");
        }
        for i in 0..1_000 {
            gate.revoke_user(&format!("revoked-user-{i}"))
                .await
                .expect("revoke");
        }
    });
    assert_eq!(gate.revocations_in_view(), 11_000);
    gate
}

/// The `kid` of the RSA key in the issuer-bound benches.
const KID: &str = "bench-rsa";

/// A Gate with the suite's key under [`KID`], given to the issuer.
fn issuer_keys_gate(suite: &Suite, cache: usize) -> Gate {
    let issuer = Issuer::new(ISS)
        .key((suite.gate_key)().with_kid(KID))
        .audience(AUD);
    Gate::builder()
        .issuer(issuer)
        .token_cache(cache)
        .build()
        .expect("bench gate")
}

/// A JWKS on a loopback port, served from `rt`: the suite's public key under [`KID`], with
/// `Cache-Control: max-age=3600` (no refresh while measuring). Returns its URL.
fn jwks_server(suite: &Suite, rt: &tokio::runtime::Runtime) -> String {
    let mut jwk = serde_json::to_value(
        jsonwebtoken::jwk::Jwk::from_encoding_key(&suite.encoding, jwa(suite.alg)).expect("a JWK"),
    )
    .expect("JWK as JSON");
    jwk["kid"] = KID.into();
    jwk["use"] = "sig".into();
    let body = serde_json::json!({ "keys": [jwk] }).to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("its address");
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let body = body.clone();
            async move {
                (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    body,
                )
            }
        }),
    );
    rt.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        axum::serve(listener, app).await.expect("JWKS server");
    });
    format!("http://{addr}/jwks.json")
}

/// A Gate whose keys are fetched from `jwks_url` for the issuer; its refresh task runs on
/// `rt`. Returns once the keys are known.
fn jwks_gate(jwks_url: &str, cache: usize, rt: &tokio::runtime::Runtime) -> Gate {
    let _inside = rt.enter();
    let gate = Gate::builder()
        .issuer(Issuer::jwks(ISS, jwks_url).audience(AUD))
        .token_cache(cache)
        .build()
        .expect("bench gate");
    assert!(
        rt.block_on(gate.ready(Duration::from_secs(10))),
        "the bench JWKS was fetched"
    );
    gate
}

fn authgate_app(gate: Gate) -> axum::Router {
    authgate::Router::new()
        .route("/r", get(guarded))
        .with_state(gate)
        .into_axum()
}

fn authgate_user_app(gate: Gate) -> axum::Router {
    authgate::Router::new()
        .route("/r", get(guarded_user))
        .with_state(gate)
        .into_axum()
}

// ---------------------------------------------------------------------------------------------
// The measurement loop.

/// The credential header of each request, cycled through.
struct Credentials {
    name: HeaderName,
    values: Vec<HeaderValue>,
}

impl Credentials {
    fn bearer(tokens: &[String]) -> Self {
        Credentials {
            name: header::AUTHORIZATION,
            values: tokens
                .iter()
                .map(|t| HeaderValue::from_str(&format!("Bearer {t}")).expect("header value"))
                .collect(),
        }
    }

    fn cookie(tokens: &[String]) -> Self {
        Credentials {
            name: header::COOKIE,
            values: tokens
                .iter()
                .map(|t| HeaderValue::from_str(&format!("{COOKIE}={t}")).expect("header value"))
                .collect(),
        }
    }

    fn request(&self, i: usize) -> Request<Body> {
        let mut request = Request::new(Body::empty());
        *request.uri_mut() = "/r".parse().expect("uri");
        request.headers_mut().insert(
            self.name.clone(),
            self.values[i % self.values.len()].clone(),
        );
        request
    }
}

fn main() {
    let started = SystemTime::now();
    let mut criterion = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let mut runner = Runner::new();
    // The revocation views' sync tasks: one worker, apart from the measured runtime.
    let background = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");

    // AUTHGATE_BENCH_ALGS=HS256,RS256 restricts the run (and its setup) to those algorithms.
    let only = std::env::var("AUTHGATE_BENCH_ALGS").unwrap_or_default();
    let all = suites;
    let suites: Vec<Suite> = all()
        .into_iter()
        .filter(|s| only.is_empty() || only.split(',').any(|a| a.trim() == s.name))
        .collect();
    {
        let mut group = criterion.benchmark_group("baseline");
        let bare = axum::Router::new().route("/r", axum::routing::get(|| async { "ok" }));
        let any = Arc::new(Credentials::bearer(&tokens(&all()[0], 1, "JWT")));
        runner.bench(&mut group, "baseline", "bare", 1, route(bare, &any));
        let one = axum::Router::new().route(
            "/r",
            axum::routing::get(|_: axum::http::Method| async { "ok" }),
        );
        runner.bench(&mut group, "baseline", "one_extractor", 1, route(one, &any));
        group.finish();
    }

    for suite in suites {
        let name = suite.name;
        let mut group = criterion.benchmark_group(name);
        // Counting one route of the issuer-bound section (below) needs none of the other
        // routes' tokens: under valgrind, signing them dominates the set-up.
        let counted = runner.count.as_ref().map(|(id, _)| id.clone());
        let bound_only = counted.as_deref().is_some_and(|id| {
            ["jwks_", "issuer_keys_"]
                .iter()
                .any(|p| id.starts_with(&format!("{name}/{p}")))
        });
        if !bound_only {
            common_routes(&suite, &mut group, &mut runner, &background);
        }
        if name == "RS256" {
            // One token is enough to count a cache hit.
            let n = match counted.as_deref() {
                Some(id) if id.ends_with("_hot") => 1,
                _ => DISTINCT,
            };
            let with_kid = tokens_with_kid(&suite, n, "JWT", Some(KID));
            let kid_cold = Arc::new(Credentials::bearer(&with_kid));
            let kid_hot = Arc::new(Credentials::bearer(&with_kid[..1]));
            let url = jwks_server(&suite, &background);
            let cases: [(&str, &dyn Fn(usize) -> Gate); 2] = [
                ("jwks", &|cache| jwks_gate(&url, cache, &background)),
                ("issuer_keys", &|cache| issuer_keys_gate(&suite, cache)),
            ];
            let (g, r) = (&mut group, &mut runner);
            for (gate_name, make) in cases {
                let app = authgate_app(make(COLD_CACHE));
                let id = format!("{gate_name}_cold");
                r.bench(g, name, &id, n, route(app, &kid_cold));
                let app = authgate_app(make(HOT_CACHE));
                let id = format!("{gate_name}_hot");
                r.bench(g, name, &id, 1, route(app, &kid_hot));
            }
        }
        group.finish();
    }
    criterion.final_summary();
    if runner.count.is_some() {
        return;
    }
    summary(&runner.ran, started);
    interleaved(&runner);
}

/// The routes of every algorithm: baselines, authgate cold and hot, cookies, revocations.
fn common_routes(
    suite: &Suite,
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    runner: &mut Runner,
    background: &tokio::runtime::Runtime,
) {
    {
        let name = suite.name;
        let distinct = tokens(suite, DISTINCT, "JWT");
        let cold = Arc::new(Credentials::bearer(&distinct));
        let hot = Arc::new(Credentials::bearer(&distinct[..1]));
        let cookies = tokens(suite, DISTINCT, "authgate-session+jwt");
        let cookie_cold = Arc::new(Credentials::cookie(&cookies));
        let cookie_hot = Arc::new(Credentials::cookie(&cookies[..1]));
        let g = group;
        let r = runner;
        r.bench(
            g,
            name,
            "handwritten",
            DISTINCT,
            route(handwritten_app(suite), &cold),
        );
        let floor = floor_app(suite.floor.clone());
        r.bench(g, name, "floor", DISTINCT, route(floor, &cold));
        let app = authgate_app(gate(suite, None, false));
        r.bench(
            g,
            name,
            "authgate_cold_nocache",
            DISTINCT,
            route(app, &cold),
        );
        let app = authgate_app(gate(suite, Some(COLD_CACHE), false));
        r.bench(g, name, "authgate_cold", DISTINCT, route(app, &cold));
        let app = authgate_app(gate(suite, Some(HOT_CACHE), false));
        r.bench(g, name, "authgate_hot", 1, route(app, &hot));
        if name == "HS256" {
            let app = authgate_user_app(gate(suite, Some(HOT_CACHE), false));
            r.bench(g, name, "authgate_hot_current_user", 1, route(app, &hot));
        }
        let app = authgate_app(gate(suite, None, true));
        r.bench(
            g,
            name,
            "cookie_cold_nocache",
            DISTINCT,
            route(app, &cookie_cold),
        );
        let app = authgate_app(gate(suite, Some(COLD_CACHE), true));
        r.bench(g, name, "cookie_cold", DISTINCT, route(app, &cookie_cold));
        let app = authgate_app(gate(suite, Some(HOT_CACHE), true));
        r.bench(g, name, "cookie_hot", 1, route(app, &cookie_hot));
        if name == "HS256" {
            let bg = background;
            let app = authgate_app(revocation_gate(suite, Some(COLD_CACHE), false, bg));
            r.bench(
                g,
                name,
                "authgate_cold_revocations",
                DISTINCT,
                route(app, &cold),
            );
            let app = authgate_app(revocation_gate(suite, Some(HOT_CACHE), false, bg));
            r.bench(g, name, "authgate_hot_revocations", 1, route(app, &hot));
            let app = authgate_app(revocation_gate(suite, Some(HOT_CACHE), true, bg));
            r.bench(
                g,
                name,
                "cookie_hot_revocations",
                1,
                route(app, &cookie_hot),
            );
            // The control: `authgate_hot` again, without revocations, measured after the
            // revocation routes (their 33 000 revocations made, their sync tasks running). Its
            // ratio to `authgate_hot` is what the order and the state left behind cost alone.
            let app = authgate_app(gate(suite, Some(HOT_CACHE), false));
            r.bench(g, name, "authgate_hot_control", 1, route(app, &hot));
        }
    }
}

/// The goal ratios, measured interleaved.
fn interleaved(runner: &Runner) {
    runner.interleaved_table(
        "Interleaved ratios (31 alternating rounds of ~20 ms each side)",
        &[
            ("HS256/authgate_cold", "HS256/floor", "<= 1.3"),
            ("HS256/authgate_cold", "HS256/handwritten", "<= 0.75"),
            ("HS256/cookie_cold", "HS256/floor", ""),
            ("RS256/authgate_cold", "RS256/floor", "<= 1.1"),
            ("ES256/authgate_cold", "ES256/floor", "<= 1.1"),
            ("EdDSA/authgate_cold", "EdDSA/floor", ""),
            ("HS256/authgate_hot", "baseline/bare", "<= 1.5"),
            ("RS256/authgate_hot", "baseline/bare", "<= 1.5"),
            ("HS256/authgate_hot", "baseline/one_extractor", ""),
            ("baseline/one_extractor", "baseline/bare", ""),
            ("ES256/authgate_hot", "baseline/bare", ""),
            ("EdDSA/authgate_hot", "baseline/bare", ""),
            ("HS256/cookie_hot", "baseline/bare", ""),
            ("RS256/cookie_hot", "baseline/bare", ""),
            (
                "HS256/authgate_hot_revocations",
                "HS256/authgate_hot",
                "<= 1.05",
            ),
            (
                "HS256/cookie_hot_revocations",
                "HS256/cookie_hot",
                "<= 1.05",
            ),
            ("HS256/authgate_cold_revocations", "HS256/authgate_cold", ""),
            ("RS256/jwks_cold", "RS256/issuer_keys_cold", "<= 1.05"),
            ("RS256/jwks_hot", "RS256/issuer_keys_hot", "<= 1.05"),
            ("RS256/jwks_hot", "RS256/authgate_hot", "<= 1.05"),
        ],
    );
}

/// An axum app and the credentials it is sent, cycled through.
fn route(app: axum::Router, credentials: &Arc<Credentials>) -> impl Route + 'static {
    let credentials = credentials.clone();
    ServiceRoute {
        service: app,
        request: move |i| credentials.request(i),
    }
}

/// The medians of this run, then the ratios the performance goals are about.
fn summary(ran: &[(String, String)], since: SystemTime) {
    print_medians("Medians (per request)", ran, since);
    let m = |group: &str, function: &str| median(group, function, since);
    let bare = m("baseline", "bare");
    let mut cold = Table::default();
    let mut hot = Table::default();
    for alg in ["HS256", "RS256", "ES256", "EdDSA"] {
        let floor = m(alg, "floor");
        let hand = m(alg, "handwritten");
        let (floor_goal, hand_goal) = match alg {
            "HS256" => (Goal::AtMost(1.3), Goal::AtMost(0.75)),
            "RS256" | "ES256" => (Goal::AtMost(1.1), Goal::None),
            _ => (Goal::None, Goal::None),
        };
        let hot_goal = match alg {
            "HS256" | "RS256" => Goal::AtMost(1.5),
            _ => Goal::None,
        };
        let cold_ag = m(alg, "authgate_cold");
        cold.ratio(
            &format!("{alg} authgate cold / floor"),
            cold_ag,
            floor,
            floor_goal,
        );
        cold.ratio(
            &format!("{alg} authgate cold / handwritten"),
            cold_ag,
            hand,
            hand_goal,
        );
        let nocache = m(alg, "authgate_cold_nocache");
        cold.ratio(
            &format!("{alg} authgate cold, cache off / floor"),
            nocache,
            floor,
            Goal::None,
        );
        let cookie = m(alg, "cookie_cold");
        cold.ratio(
            &format!("{alg} cookie cold / floor"),
            cookie,
            floor,
            Goal::None,
        );
        cold.ratio(
            &format!("{alg} handwritten / floor"),
            hand,
            floor,
            Goal::None,
        );
        cold.ratio(&format!("{alg} floor / bare"), floor, bare, Goal::None);
        hot.ratio(
            &format!("{alg} authgate hot / bare"),
            m(alg, "authgate_hot"),
            bare,
            hot_goal,
        );
        hot.ratio(
            &format!("{alg} cookie hot / bare"),
            m(alg, "cookie_hot"),
            bare,
            Goal::None,
        );
        hot.ratio(
            &format!("{alg} authgate cold / hot"),
            cold_ag,
            m(alg, "authgate_hot"),
            Goal::None,
        );
    }
    hot.ratio(
        "HS256 hot, revocations / hot",
        m("HS256", "authgate_hot_revocations"),
        m("HS256", "authgate_hot"),
        Goal::AtMost(1.05),
    );
    hot.ratio(
        "HS256 hot, revocations / the same route without them, measured after (control)",
        m("HS256", "authgate_hot_revocations"),
        m("HS256", "authgate_hot_control"),
        Goal::AtMost(1.05),
    );
    hot.ratio(
        "HS256 hot measured after the revocation routes / hot (control, no revocations)",
        m("HS256", "authgate_hot_control"),
        m("HS256", "authgate_hot"),
        Goal::None,
    );
    hot.ratio(
        "HS256 cookie hot, revocations / cookie hot",
        m("HS256", "cookie_hot_revocations"),
        m("HS256", "cookie_hot"),
        Goal::AtMost(1.05),
    );
    cold.ratio(
        "HS256 cold, revocations / cold",
        m("HS256", "authgate_cold_revocations"),
        m("HS256", "authgate_cold"),
        Goal::None,
    );
    cold.ratio(
        "RS256 cold, JWKS-fetched keys / given key with a kid (same tokens)",
        m("RS256", "jwks_cold"),
        m("RS256", "issuer_keys_cold"),
        Goal::AtMost(1.05),
    );
    hot.ratio(
        "RS256 hot, JWKS-fetched keys / given key with a kid (same token)",
        m("RS256", "jwks_hot"),
        m("RS256", "issuer_keys_hot"),
        Goal::AtMost(1.05),
    );
    hot.ratio(
        "RS256 hot, JWKS-fetched keys / today's hit",
        m("RS256", "jwks_hot"),
        m("RS256", "authgate_hot"),
        Goal::AtMost(1.05),
    );
    hot.ratio(
        "HS256 hot + CurrentUser<Sub> / bare",
        m("HS256", "authgate_hot_current_user"),
        bare,
        Goal::None,
    );
    cold.print("Cold path (every token new to the cache)");
    hot.print("Hot path (cache hit)");
}
