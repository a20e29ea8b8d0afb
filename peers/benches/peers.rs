//! authgate against its peers, per request, in-process, on the same tokens, in one run.
//!
//! - `bare07` / `bare08`: a plain handler on axum 0.7 / 0.8 (jwt-authorizer needs 0.7);
//! - `handwritten`: a `FromRequestParts` extractor calling jsonwebtoken 11 (aws-lc-rs), the
//!   same as in `benches/guard.rs`, so both runs can be related;
//! - `jwt_authorizer_*`: jwt-authorizer 0.15 (a tower layer; jsonwebtoken 9 on ring), axum 0.7;
//! - `axum_jwt_auth_*`: axum-jwt-auth 0.7 (an extractor; jsonwebtoken 10, which it builds with
//!   the pure-Rust `rust_crypto` backend), axum 0.8;
//! - `authgate_cold`: `#[require_auth]`, every token new to the cache (1024 distinct tokens
//!   through a cache of at most 102 entries); `authgate_hot`: the same token again (a cache hit).
//!
//! `*_cold` sends the 1024 distinct tokens in turn, `*_hot` one token again and again (the peers
//! have no cache: for them both are the same work). Each library is configured to check what
//! authgate checks: signature, `exp`, `iss` and `aud`.
//!
//! `cd peers && cargo bench --bench peers` (about 4 minutes on 2 cores); `AUTHGATE_BENCH_ALGS=HS256` restricts
//! it to some algorithms.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authgate::issuers::Issuer;
use authgate::keys::{Algorithm, Key};
use authgate::{Gate, require_auth};
use criterion::Criterion;
use http::{HeaderValue, Request, StatusCode, header, request::Parts};
use serde::Deserialize;

#[path = "../../benches/support/harness.rs"]
mod harness;
#[path = "../../benches/support/ratios.rs"]
#[allow(dead_code)]
mod ratios;

use harness::{Route, Runner, ServiceRoute};
use ratios::print_medians;

const ISS: &str = "https://auth.example.test";
const AUD: &str = "bench-api";
const HS_SECRET: &str = "0123456789abcdef0123456789abcdef-bench";
/// Distinct tokens for the cold benches, and the cache size (in bytes: at most 102 entries)
/// that makes every one of them a miss when they come round again.
const DISTINCT: usize = 1024;
const COLD_CACHE: usize = 64 << 10;
/// The cache of the hot benches: the Gate's default size.
const HOT_CACHE: usize = 32 << 20;

/// The same algorithm as jsonwebtoken names it, for the peers and the hand-written extractor.
fn jwt_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    alg.to_string()
        .parse()
        .expect("an algorithm jsonwebtoken knows")
}

fn key_file(name: &str) -> String {
    let path = format!("{}/../tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// One algorithm: its signing key, and its public key as a PEM (or the HMAC secret).
struct Suite {
    name: &'static str,
    alg: Algorithm,
    signing: jsonwebtoken::EncodingKey,
    public_pem: Option<String>,
}

fn suites() -> Vec<Suite> {
    let pem = |name| Some(key_file(name));
    vec![
        Suite {
            name: "HS256",
            alg: Algorithm::HS256,
            signing: jsonwebtoken::EncodingKey::from_secret(HS_SECRET.as_bytes()),
            public_pem: None,
        },
        Suite {
            name: "RS256",
            alg: Algorithm::RS256,
            signing: jsonwebtoken::EncodingKey::from_rsa_pem(
                key_file("rsa_private.pem").as_bytes(),
            )
            .expect("RSA key"),
            public_pem: pem("rsa_public.pem"),
        },
        Suite {
            name: "ES256",
            alg: Algorithm::ES256,
            signing: jsonwebtoken::EncodingKey::from_ec_pem(
                key_file("ec256_private.pk8.pem").as_bytes(),
            )
            .expect("P-256 key"),
            public_pem: pem("ec256_public.pem"),
        },
        Suite {
            name: "EdDSA",
            alg: Algorithm::EdDSA,
            signing: jsonwebtoken::EncodingKey::from_ed_pem(
                key_file("ed25519_private.pem").as_bytes(),
            )
            .expect("Ed25519 key"),
            public_pem: pem("ed25519_public.pem"),
        },
    ]
}

/// The same claims as `benches/guard.rs`: distinct by `jti`, one hour to live.
fn tokens(suite: &Suite, n: usize) -> Vec<String> {
    let now = now();
    (0..n)
        .map(|i| {
            let claims = serde_json::json!({
                "sub": "user-4242", "iss": ISS, "aud": AUD, "iat": now, "exp": now + 3600,
                "roles": ["user", "billing"], "jti": format!("bench-{i:08}"),
            });
            jsonwebtoken::encode(
                &jsonwebtoken::Header::new(jwt_alg(suite.alg)),
                &claims,
                &suite.signing,
            )
            .expect("sign a bench token")
        })
        .collect()
}

/// What every peer's handler receives.
#[derive(Clone, Deserialize)]
#[allow(dead_code)]
struct PeerClaims {
    sub: String,
    exp: u64,
    roles: Vec<String>,
}

/// `Authorization: Bearer <token>` values, cycled through.
struct Bearer(Vec<HeaderValue>);

impl Bearer {
    fn new(tokens: &[String]) -> Arc<Bearer> {
        Arc::new(Bearer(
            tokens
                .iter()
                .map(|t| HeaderValue::from_str(&format!("Bearer {t}")).expect("header value"))
                .collect(),
        ))
    }

    fn request<B: Default>(&self, i: usize) -> Request<B> {
        let mut request = Request::new(B::default());
        *request.uri_mut() = "/r".parse().expect("uri");
        let value = self.0[i % self.0.len()].clone();
        request.headers_mut().insert(header::AUTHORIZATION, value);
        request
    }
}

/// An axum 0.8 app and the bearer tokens it is sent.
fn route08(app: axum::Router, bearer: &Arc<Bearer>) -> impl Route + 'static {
    let bearer = bearer.clone();
    ServiceRoute {
        service: app,
        request: move |i| bearer.request::<axum::body::Body>(i),
    }
}

/// An axum 0.7 app and the bearer tokens it is sent.
fn route07(app: axum07::Router, bearer: &Arc<Bearer>) -> impl Route + 'static {
    let bearer = bearer.clone();
    ServiceRoute {
        service: app,
        request: move |i| bearer.request::<axum07::body::Body>(i),
    }
}

// ---------------------------------------------------------------------------------------------
// Bare routes and the hand-written extractor.

fn bare07() -> axum07::Router {
    axum07::Router::new().route("/r", axum07::routing::get(|| async { "ok" }))
}

fn bare08() -> axum::Router {
    axum::Router::new().route("/r", axum::routing::get(|| async { "ok" }))
}

struct HandState {
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
}

struct HandUser(#[allow(dead_code)] PeerClaims);

impl axum::extract::FromRequestParts<Arc<HandState>> for HandUser {
    type Rejection = StatusCode;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<HandState>,
    ) -> Result<Self, StatusCode> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(StatusCode::UNAUTHORIZED)?;
        let data = jsonwebtoken::decode::<PeerClaims>(token, &state.key, &state.validation)
            .map_err(|_| StatusCode::UNAUTHORIZED)?;
        Ok(HandUser(data.claims))
    }
}

async fn hand_handler(_user: HandUser) -> &'static str {
    "ok"
}

fn handwritten(suite: &Suite) -> axum::Router {
    use jsonwebtoken::DecodingKey;
    let key = match &suite.public_pem {
        None => DecodingKey::from_secret(HS_SECRET.as_bytes()),
        Some(pem) => match suite.alg {
            Algorithm::RS256 => DecodingKey::from_rsa_pem(pem.as_bytes()),
            Algorithm::ES256 => DecodingKey::from_ec_pem(pem.as_bytes()),
            _ => DecodingKey::from_ed_pem(pem.as_bytes()),
        }
        .expect("public key"),
    };
    let mut validation = jsonwebtoken::Validation::new(jwt_alg(suite.alg));
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    axum::Router::new()
        .route("/r", axum::routing::get(hand_handler))
        .with_state(Arc::new(HandState { key, validation }))
}

// ---------------------------------------------------------------------------------------------
// jwt-authorizer 0.15 (axum 0.7).

async fn jwt_authorizer_handler(
    jwt_authorizer::JwtClaims(_claims): jwt_authorizer::JwtClaims<PeerClaims>,
) -> &'static str {
    "ok"
}

async fn jwt_authorizer(suite: &Suite) -> axum07::Router {
    use jwt_authorizer::{IntoLayer, JwtAuthorizer, Validation};
    let builder: jwt_authorizer::AuthorizerBuilder<PeerClaims> =
        match (&suite.public_pem, suite.alg) {
            (None, _) => JwtAuthorizer::from_secret(HS_SECRET),
            (Some(pem), Algorithm::RS256) => JwtAuthorizer::from_rsa_pem_text(pem),
            (Some(pem), Algorithm::ES256) => JwtAuthorizer::from_ec_pem_text(pem),
            (Some(pem), _) => JwtAuthorizer::from_ed_pem_text(pem),
        };
    let authorizer = builder
        .validation(Validation::new().iss(&[ISS]).aud(&[AUD]))
        .build()
        .await
        .expect("jwt-authorizer");
    axum07::Router::new()
        .route("/r", axum07::routing::get(jwt_authorizer_handler))
        .layer([authorizer].into_layer())
}

// ---------------------------------------------------------------------------------------------
// axum-jwt-auth 0.7 (axum 0.8).

async fn axum_jwt_auth_handler(_claims: axum_jwt_auth::Claims<PeerClaims>) -> &'static str {
    "ok"
}

fn axum_jwt_auth(suite: &Suite) -> axum::Router {
    use jsonwebtoken10::{Algorithm as Alg10, DecodingKey, Validation};
    let (key, alg) = match (&suite.public_pem, suite.alg) {
        (None, _) => (DecodingKey::from_secret(HS_SECRET.as_bytes()), Alg10::HS256),
        (Some(pem), Algorithm::RS256) => (
            DecodingKey::from_rsa_pem(pem.as_bytes()).expect("RSA key"),
            Alg10::RS256,
        ),
        (Some(pem), Algorithm::ES256) => (
            DecodingKey::from_ec_pem(pem.as_bytes()).expect("P-256 key"),
            Alg10::ES256,
        ),
        (Some(pem), _) => (
            DecodingKey::from_ed_pem(pem.as_bytes()).expect("Ed25519 key"),
            Alg10::EdDSA,
        ),
    };
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    let decoder = axum_jwt_auth::LocalDecoder::builder()
        .keys(vec![key])
        .validation(validation)
        .build()
        .expect("axum-jwt-auth decoder");
    let decoder: axum_jwt_auth::Decoder<PeerClaims> = Arc::new(decoder);
    axum::Router::new()
        .route("/r", axum::routing::get(axum_jwt_auth_handler))
        .with_state(decoder)
}

// ---------------------------------------------------------------------------------------------
// authgate.

#[require_auth]
async fn guarded() -> &'static str {
    "ok"
}

fn authgate(suite: &Suite, cache: usize) -> axum::Router {
    let key = match (&suite.public_pem, suite.alg) {
        (None, alg) => Key::hmac(alg, HS_SECRET),
        (Some(pem), alg) => Key::from_pem(alg, pem),
    }
    .expect("authgate key");
    let gate = Gate::builder()
        .issuer(Issuer::new(ISS).key(key).audience(AUD))
        .token_cache(cache)
        .build()
        .expect("gate");
    authgate::Router::new()
        .route("/r", authgate::routing::get(guarded))
        .with_state(gate)
        .into_axum()
}

fn main() {
    let started = SystemTime::now();
    let mut criterion = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let mut runner = Runner::new();
    let only = std::env::var("AUTHGATE_BENCH_ALGS").unwrap_or_default();
    let suites: Vec<Suite> = suites()
        .into_iter()
        .filter(|s| only.is_empty() || only.split(',').any(|a| a.trim() == s.name))
        .collect();
    let mut pairs: Vec<(String, String, &str)> = Vec::new();
    for suite in &suites {
        let group_name = format!("peers_{}", suite.name);
        let name = group_name.as_str();
        let distinct = tokens(suite, DISTINCT);
        let cold = Bearer::new(&distinct);
        let hot = Bearer::new(&distinct[..1]);
        let jwt_authorizer = runner.rt.block_on(jwt_authorizer(suite));
        let mut group = criterion.benchmark_group(name);
        let (g, r) = (&mut group, &mut runner);
        r.bench(g, name, "bare07", 1, route07(bare07(), &hot));
        r.bench(g, name, "bare08", 1, route08(bare08(), &hot));
        r.bench(
            g,
            name,
            "handwritten",
            DISTINCT,
            route08(handwritten(suite), &cold),
        );
        let (ja, ajwt) = (jwt_authorizer, axum_jwt_auth(suite));
        r.bench(
            g,
            name,
            "jwt_authorizer_cold",
            DISTINCT,
            route07(ja.clone(), &cold),
        );
        r.bench(g, name, "jwt_authorizer_hot", 1, route07(ja, &hot));
        r.bench(
            g,
            name,
            "axum_jwt_auth_cold",
            DISTINCT,
            route08(ajwt.clone(), &cold),
        );
        r.bench(g, name, "axum_jwt_auth_hot", 1, route08(ajwt, &hot));
        let app = authgate(suite, COLD_CACHE);
        r.bench(g, name, "authgate_cold", DISTINCT, route08(app, &cold));
        r.bench(
            g,
            name,
            "authgate_hot",
            1,
            route08(authgate(suite, HOT_CACHE), &hot),
        );
        group.finish();
        let hot_goal = match suite.name {
            "HS256" => ">= 5",
            "RS256" => ">= 20",
            _ => "",
        };
        let id = |bench: &str| format!("{name}/{bench}");
        pairs.extend([
            (id("authgate_cold"), id("jwt_authorizer_cold"), "<= 1"),
            (id("authgate_cold"), id("axum_jwt_auth_cold"), "<= 1"),
            (id("jwt_authorizer_hot"), id("authgate_hot"), hot_goal),
            (id("axum_jwt_auth_hot"), id("authgate_hot"), hot_goal),
            (id("jwt_authorizer_cold"), id("handwritten"), ""),
            (id("axum_jwt_auth_cold"), id("handwritten"), ""),
            (id("bare07"), id("bare08"), ""),
        ]);
    }
    criterion.final_summary();
    if runner.count.is_some() {
        return;
    }
    print_medians("Medians (per request)", &runner.ran, started);
    let pairs: Vec<(&str, &str, &str)> = pairs
        .iter()
        .map(|(a, b, goal)| (a.as_str(), b.as_str(), *goal))
        .collect();
    runner.interleaved_table(
        "Interleaved ratios against the peers (31 alternating rounds of ~20 ms each side)",
        &pairs,
    );
}
