//! Header parsing: the `Authorization` header is the first thing an attacker controls.
//!
//! Scheme case, spacing, empty and white-space tokens, other schemes, two `Authorization`
//! headers, non-ASCII and oversized values, and credentials in places that are not the header
//! (query, custom headers, cookies when sessions are off). Anything presented but unusable is
//! 401 `invalid_request`, never "anonymous" and never a fall-back to another source; a token
//! that parses is judged by the verifier (401 `invalid_token`).
//!
//! - OWASP ASVS 5.0.0: V9.1.1 (a token is verified before its contents are used), V6.3.4
//!   (one authentication pathway, enforced the same everywhere: no second carrier),
//!   V2.2.1 (positive validation of the header against the RFC 6750 / RFC 7235 grammar),
//!   V14.2.1 (a token in the URL or query string is not accepted), V15.2.2 (oversized values
//!   refused before any decoding), V16.5.1 (one generic body).
//! - OWASP API Security Top 10 2023: API2 (Broken Authentication), API4 (Unrestricted Resource
//!   Consumption: oversized headers are refused before any decoding), API8 (Security
//!   Misconfiguration: tokens in the query string are not accepted).

use authgate::{CurrentUser, Router, public, require_auth, routing};
use axum::extract::State;

use crate::harness::{Case, Expect, get, run};
use crate::support::*;

#[require_auth]
async fn me(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    user.subject().to_owned()
}

#[public(reason = "greets anyone; reads the caller when one is presented")]
async fn hello(State(hits): State<Hits>, user: Option<CurrentUser>) -> String {
    hits.hit();
    user.map_or_else(|| "stranger".to_owned(), |u| u.subject().to_owned())
}

#[public(reason = "never looks at credentials")]
async fn open(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "open"
}

fn app() -> (axum::Router, Hits) {
    let state = AppState::new(gate());
    let hits = state.hits.clone();
    let app = Router::new()
        .route("/me", routing::get(me))
        .route("/hello", routing::get(hello))
        .route("/open", routing::get(open))
        .with_state(state)
        .into_axum();
    (app, hits)
}

async fn table(name: &str, cases: Vec<Case>) {
    let (app, hits) = app();
    run(name, &app, || hits.count(), cases).await;
}

fn valid() -> String {
    token("alice", &[])
}

/// A well-formed token that the verifier refuses (expired an hour ago): proves the header
/// parsed as `Bearer` and the token reached verification.
fn expired() -> String {
    hs256(&with(claims("alice"), "exp", serde_json::json!(NOW - 3600)))
}

fn auth(value: impl AsRef<[u8]>) -> crate::harness::Req {
    get("/me").authorization(value)
}

#[tokio::test]
async fn scheme_case_and_spacing() {
    let (v, x) = (valid(), expired());
    table(
        "header/scheme and spacing",
        vec![
            Case::new(
                "no Authorization header",
                get("/me"),
                Expect::unauthenticated(),
            ),
            Case::new(
                "scheme `bearer` (lower case) is parsed: the token is judged",
                auth(format!("bearer {x}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "scheme `BEARER` is parsed: the token is judged",
                auth(format!("BEARER {x}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "scheme `bEaReR` is parsed: the token is judged",
                auth(format!("bEaReR {x}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "control: `bearer` with a valid token",
                auth(format!("bearer {v}")),
                Expect::allowed(),
            ),
            Case::new(
                "three spaces before the token: parsed and judged",
                auth(format!("Bearer   {x}")),
                Expect::invalid_token(),
            ),
            Case::new(
                "control: extra spaces around a valid token",
                auth(format!("Bearer   {v}   ")),
                Expect::allowed(),
            ),
            Case::new(
                "tab instead of a space",
                auth(format!("Bearer\t{v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "leading space before the scheme",
                auth(format!(" Bearer {v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "no separator (`Bearer<token>`)",
                auth(format!("Bearer{v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "comma separator",
                auth(format!("Bearer,{v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "colon after the scheme",
                auth(format!("Bearer: {v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "token followed by junk",
                auth(format!("Bearer {v} extra")),
                Expect::invalid_request(),
            ),
            Case::new(
                "two tokens in one header",
                auth(format!("Bearer {v} {v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "a comma inside the token",
                auth("Bearer a,b"),
                Expect::invalid_request(),
            ),
            Case::new(
                "token with a trailing comma",
                auth(format!("Bearer {v},")),
                Expect::invalid_request(),
            ),
            Case::new(
                "auth-param form `token=\"...\"`",
                auth(format!("Bearer token=\"{v}\"")),
                Expect::invalid_request(),
            ),
            Case::new(
                "quoted token",
                auth(format!("Bearer \"{v}\"")),
                Expect::invalid_request(),
            ),
            Case::new(
                "percent-encoded dots in the token",
                auth(format!("Bearer {}", v.replace('.', "%2E"))),
                Expect::invalid_request(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn empty_and_whitespace_tokens() {
    table(
        "header/empty and white space",
        vec![
            Case::new("empty header value", auth(""), Expect::invalid_request()),
            Case::new("spaces only", auth("   "), Expect::invalid_request()),
            Case::new("scheme only", auth("Bearer"), Expect::invalid_request()),
            Case::new(
                "scheme only, lower case",
                auth("bearer"),
                Expect::invalid_request(),
            ),
            Case::new(
                "scheme and one space",
                auth("Bearer "),
                Expect::invalid_request(),
            ),
            Case::new(
                "scheme and many spaces",
                auth("Bearer          "),
                Expect::invalid_request(),
            ),
            Case::new(
                "scheme, space and tab",
                auth("Bearer \t"),
                Expect::invalid_request(),
            ),
            Case::new("padding only", auth("Bearer =="), Expect::invalid_request()),
            Case::new("dots only", auth("Bearer .."), Expect::invalid_token()),
            Case::new(
                "empty parts but two dots and padding",
                auth("Bearer ..="),
                Expect::invalid_token(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn other_schemes() {
    let v = valid();
    table(
        "header/other schemes",
        vec![
            Case::new(
                "Basic credentials",
                auth("Basic YWxpY2U6aHVudGVyMg=="),
                Expect::invalid_request(),
            ),
            Case::new(
                "Digest credentials",
                auth("Digest username=\"alice\", response=\"0\""),
                Expect::invalid_request(),
            ),
            Case::new(
                "Negotiate",
                auth("Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXagMDAu"),
                Expect::invalid_request(),
            ),
            Case::new(
                "`Token` scheme with a valid JWT",
                auth(format!("Token {v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "`JWT` scheme with a valid JWT",
                auth(format!("JWT {v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "`DPoP` scheme with a valid JWT",
                auth(format!("DPoP {v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "`Bearer2` lookalike scheme",
                auth(format!("Bearer2 {v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "`Bearers` lookalike scheme",
                auth(format!("Bearers {v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "Basic on a public route that reads Option<CurrentUser>",
                get("/hello").authorization("Basic YWxpY2U6aHVudGVyMg=="),
                Expect::invalid_request(),
            ),
            Case::new(
                "control: Basic on a public route that never reads credentials",
                get("/open").authorization("Basic YWxpY2U6aHVudGVyMg=="),
                Expect::allowed(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn two_authorization_headers() {
    let (v, x) = (valid(), expired());
    table(
        "header/two headers",
        vec![
            Case::new(
                "the same valid token twice",
                auth(format!("Bearer {v}")).authorization(format!("Bearer {v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "two different valid tokens (admin, then not)",
                auth(format!("Bearer {}", token("alice", &["admin"])))
                    .authorization(format!("Bearer {}", token("bob", &[]))),
                Expect::invalid_request(),
            ),
            Case::new(
                "a valid token, then Basic",
                auth(format!("Bearer {v}")).authorization("Basic YWxpY2U6aHVudGVyMg=="),
                Expect::invalid_request(),
            ),
            Case::new(
                "Basic, then a valid token",
                auth("Basic YWxpY2U6aHVudGVyMg==").authorization(format!("Bearer {v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "an expired token, then a valid one",
                auth(format!("Bearer {x}")).authorization(format!("Bearer {v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "a valid token, then an empty header",
                auth(format!("Bearer {v}")).authorization(""),
                Expect::invalid_request(),
            ),
            Case::new(
                "two credentials comma-joined in one header",
                auth(format!("Bearer {v}, Bearer {v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "two headers on a public route with Option<CurrentUser>",
                get("/hello").bearer(&v).bearer(&v),
                Expect::invalid_request(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn non_ascii_values() {
    let v = valid();
    table(
        "header/non-ASCII",
        vec![
            Case::new(
                "UTF-8 after a valid token",
                auth(format!("Bearer {v}é")),
                Expect::invalid_request(),
            ),
            Case::new(
                "Latin-1 byte 0xFF in the token",
                auth([b"Bearer \xff".as_slice(), v.as_bytes()].concat()),
                Expect::invalid_request(),
            ),
            Case::new(
                "Cyrillic lookalike scheme `Веarer`",
                auth(format!("Веarer {v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "non-breaking space as the separator",
                auth(format!("Bearer\u{a0}{v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "ideographic space as the separator",
                auth(format!("Bearer\u{3000}{v}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "fullwidth dots in the token",
                auth(format!("Bearer {}", v.replace('.', "\u{ff0e}"))),
                Expect::invalid_request(),
            ),
            Case::new(
                "DEL-adjacent byte 0x80 in the scheme",
                auth([b"Bearer\x80 ".as_slice(), v.as_bytes()].concat()),
                Expect::invalid_request(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn oversized_values() {
    let over_by_one = format!(
        "{}.{}.{}",
        "a".repeat(4000),
        "b".repeat(4000),
        "c".repeat(8192 - 8001)
    );
    assert_eq!(over_by_one.len(), 8193);
    table(
        "header/oversized",
        vec![
            Case::new(
                "token of 8 KiB + 1 byte (three parts)",
                auth(format!("Bearer {over_by_one}")),
                Expect::invalid_request(),
            ),
            Case::new(
                "token of 8 KiB + 1 byte (one part)",
                auth(format!("Bearer {}", "a".repeat(8 * 1024 + 1))),
                Expect::invalid_request(),
            ),
            Case::new(
                "token of 9000 bytes",
                auth(format!("Bearer {}", "a".repeat(9000))),
                Expect::invalid_request(),
            ),
            Case::new(
                "1 MiB header",
                auth(format!("Bearer {}", "a".repeat(1 << 20))),
                Expect::invalid_request(),
            ),
            Case::new(
                "10 000 spaces before a valid token",
                auth(format!("Bearer {}{}", " ".repeat(10_000), valid())),
                Expect::invalid_request(),
            ),
            Case::new(
                "1 MiB non-ASCII header (refused before decoding)",
                auth([b"Bearer ".as_slice(), &[0xC3u8; 1 << 20]].concat()),
                Expect::invalid_request(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn credentials_outside_the_header_are_ignored() {
    let v = valid();
    table(
        "header/other carriers",
        vec![
            Case::new(
                "valid token in `?access_token=`",
                get(&format!("/me?access_token={v}")),
                Expect::unauthenticated(),
            ),
            Case::new(
                "valid token in `?token=`",
                get(&format!("/me?token={v}")),
                Expect::unauthenticated(),
            ),
            Case::new(
                "valid token in X-Access-Token",
                get("/me").header("x-access-token", &v),
                Expect::unauthenticated(),
            ),
            Case::new(
                "valid bearer in X-Authorization",
                get("/me").header("x-authorization", format!("Bearer {v}")),
                Expect::unauthenticated(),
            ),
            Case::new(
                "valid bearer in Proxy-Authorization",
                get("/me").header("proxy-authorization", format!("Bearer {v}")),
                Expect::unauthenticated(),
            ),
            Case::new(
                "valid bearer in X-Forwarded-Authorization",
                get("/me").header("x-forwarded-authorization", format!("Bearer {v}")),
                Expect::unauthenticated(),
            ),
            Case::new(
                "valid token in a cookie while sessions are off",
                get("/me").cookie(&format!("access_token={v}")),
                Expect::unauthenticated(),
            ),
        ],
    )
    .await;
}
