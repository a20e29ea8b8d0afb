//! Property tests of the parsers that read untrusted input: the bearer header, the `next`
//! validator, the CSRF check and the token front end. Each property states that the parser
//! never panics and that anything it accepts is well-formed; generators are biased towards
//! the shapes attackers use. The fuzz targets in `fuzz/` check the same invariants for longer.
//! (In the crate, not in `tests/`: they reach the crate-private parsers through `fuzzing`.)

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, Method, Request};
use proptest::prelude::*;

use crate::credentials::{CredentialError, bearer_token, parse_bearer};
use crate::fuzzing::{
    AUDIENCE, HEADER, ISSUER, LEEWAY, MAX_LIFETIME, NOW, is_correctly_signed, sign_raw,
    valid_token, verify_token, verify_token_str,
};
use crate::sessions::{Csrf, is_safe_next, safe_next};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // Failures are reported with their minimal input; no regression files in the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Authorization: Bearer

fn is_token68(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// An accepted `token` is a bounded token68 and is exactly what follows the scheme and its
/// spaces in `value`, up to trailing spaces and tabs.
fn assert_well_formed(value: &str, token: &str, bound: usize) {
    assert!(!token.is_empty(), "{value:?}");
    assert!(token.len() <= bound, "{value:?} over {bound}");
    assert!(is_token68(token), "{token:?} from {value:?}");
    assert!(!token.contains(' '), "{token:?}");
    assert!(
        value.len() > 6 && value[..6].eq_ignore_ascii_case("bearer"),
        "{value:?}"
    );
    let rest = &value[6..];
    assert!(rest.starts_with(' '), "{value:?}");
    let rest = rest.trim_start_matches(' ');
    assert_eq!(rest.trim_end_matches([' ', '\t']), token, "{value:?}");
}

/// Header-ish strings: a scheme (often Bearer in some case), separators, token-ish bytes.
fn header_like() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        Just("Bearer".to_owned()),
        Just("bearer".to_owned()),
        Just("BEARER".to_owned()),
        "[bB][eE][aA][rR][eE][rR]",
        Just("Basic".to_owned()),
        Just(String::new()),
        "[ -~]{0,8}",
    ];
    let sep = prop_oneof![" {1,4}", "[ \t]{0,3}", Just(String::new())];
    let token = prop_oneof![
        "[A-Za-z0-9._~+/-]{0,40}={0,3}",
        "[ -~]{0,40}",
        "\\PC{0,20}",
        "[A-Za-z0-9=]{0,5}[ ,;\"\\\\][A-Za-z0-9]{0,5}",
    ];
    let tail = prop_oneof![Just(String::new()), "[ \t]{1,3}", "[ -~]{1,4}"];
    (scheme, sep, token, tail).prop_map(|(a, b, c, d)| format!("{a}{b}{c}{d}"))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parse_bearer_never_panics_and_accepts_only_token68(
        value in prop_oneof![header_like(), any::<String>()],
        bound in prop_oneof![0usize..64, Just(8192usize)],
    ) {
        if let Ok(token) = parse_bearer(&value, bound) {
            assert_well_formed(&value, token, bound);
        }
    }

    #[test]
    fn parse_bearer_accepts_every_well_formed_header(
        scheme in "[bB][eE][aA][rR][eE][rR]",
        spaces in " {1,5}",
        token in "[A-Za-z0-9._~+/-]{1,60}={0,2}",
        trailing in "[ \t]{0,3}",
    ) {
        let value = format!("{scheme}{spaces}{token}{trailing}");
        prop_assert_eq!(parse_bearer(&value, 8192), Ok(token.as_str()));
        prop_assert_eq!(
            parse_bearer(&value, token.len() - 1),
            Err(CredentialError::TooLong)
        );
    }

    #[test]
    fn bearer_token_over_any_header_map(
        values in prop::collection::vec(
            prop_oneof![
                header_like().prop_map(String::into_bytes),
                prop::collection::vec(any::<u8>(), 0..40),
            ],
            0..3,
        ),
        bound in prop_oneof![0usize..64, Just(8192usize)],
    ) {
        let mut headers = HeaderMap::new();
        for value in &values {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                headers.append(AUTHORIZATION, value);
            }
        }
        let count = headers.get_all(AUTHORIZATION).iter().count();
        let result = bearer_token(&headers, bound);
        match count {
            0 => prop_assert_eq!(result, Ok(None)),
            1 => match result {
                Ok(Some(token)) => {
                    let value = headers[AUTHORIZATION].to_str().expect("accepted: ASCII");
                    assert_well_formed(value, token, bound);
                }
                Ok(None) => panic!("a present header read as no credential"),
                Err(e) => prop_assert_ne!(e, CredentialError::Duplicate),
            },
            _ => prop_assert_eq!(result, Err(CredentialError::Duplicate)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// next

/// What an accepted `next` satisfies at every level of percent-decoding (the oracle is shared
/// with the `next_validator` fuzz target).
fn assert_safe(next: &str) {
    if let Some(problem) = crate::fuzzing::accepted_next_problem(next) {
        panic!("accepted {next:?}: {problem}");
    }
}

/// Path-ish strings built from the pieces open redirects are made of.
fn path_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("/"),
        Just("\\"),
        Just("%2F"),
        Just("%2f"),
        Just("%5C"),
        Just("%5c"),
        Just("%25"),
        Just("%"),
        Just("2F"),
        Just(":"),
        Just("."),
        Just(".."),
        Just("%2e"),
        Just("evil.example"),
        Just("a"),
        Just("?x=1"),
        Just("#"),
        Just("%09"),
        Just("%0d%0a"),
        Just("\t"),
        Just(" "),
        Just("%E2%80%AE"),
        Just("%C3%A9"),
        Just("%+F"),
    ];
    prop::collection::vec(piece, 0..10).prop_map(|pieces| pieces.concat())
}

/// Encodes `/` and `\` (and the `%` of earlier rounds) `rounds` times, in either case.
fn encode(s: &str, rounds: usize, lower: bool) -> String {
    let mut s = s.to_owned();
    for _ in 0..rounds {
        let mut out = String::new();
        for c in s.chars() {
            match c {
                '/' => out.push_str(if lower { "%2f" } else { "%2F" }),
                '\\' => out.push_str(if lower { "%5c" } else { "%5C" }),
                '%' => out.push_str("%25"),
                c => out.push(c),
            }
        }
        s = out;
    }
    s
}

/// Shapes that must always be refused: another host (`//h`, `/\h`, `\\h`), dot segments
/// (`/..//h`, also `%2e`-encoded), a scheme, a relative path, control characters or white
/// space, each also percent-encoded once or more.
fn known_bad() -> impl Strategy<Value = String> {
    let host = "[a-z]{1,10}(\\.[a-z]{2,5})?";
    let rest = "(/[a-z0-9]{0,6}){0,2}";
    let other_host = (
        prop_oneof![Just("//"), Just("/\\"), Just("\\\\"), Just("\\/")],
        host,
        rest,
        0usize..4,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lead, host, rest, rounds, lower, keep_first)| {
            // Keep the first `/` literal (an encoded one is refused as not starting with `/`).
            let encoded = encode(&lead[1..], rounds, lower);
            let lead = if keep_first && lead.starts_with('/') {
                format!("/{encoded}")
            } else {
                encode(lead, rounds, lower)
            };
            format!("{lead}{host}{rest}")
        });
    let scheme = (
        prop_oneof![
            Just("https:"),
            Just("http:"),
            Just("javascript:"),
            Just("JavaScript:"),
            Just("data:"),
            Just("vbscript:"),
            Just("file:"),
        ],
        prop_oneof![Just(""), Just("//"), Just("/"), Just("\\\\")],
        host,
    )
        .prop_map(|(s, sep, host)| format!("{s}{sep}{host}"));
    // Dot segments that normalize into another host: `/..//h`, `/.//h`, `/a/../..//h`.
    let dots = (
        prop_oneof![Just(""), Just("/a"), Just("/a/b")],
        prop::collection::vec(
            prop_oneof![
                Just(".."),
                Just("."),
                Just("%2e%2e"),
                Just("%2E."),
                Just(".%2e"),
                Just("%2e")
            ],
            1..4,
        ),
        prop_oneof![Just("/"), Just("%2F"), Just("%252F"), Just("\\")],
        host,
        0usize..3,
        any::<bool>(),
    )
        .prop_map(|(lead, dots, sep, host, rounds, lower)| {
            let dots: String = dots.iter().map(|d| format!("/{d}")).collect();
            let tail = encode(&format!("{sep}{host}"), rounds, lower);
            format!("{lead}{dots}/{tail}")
        });
    let relative = "[a-z.][a-z0-9./]{0,10}";
    let control = (
        "/[a-z]{0,5}",
        prop_oneof![
            Just("\r\n"),
            Just("\t"),
            Just(" "),
            Just("\u{0}"),
            Just("\u{7f}"),
            Just("\u{85}"),
            Just("\u{a0}"),
            Just("\u{3000}"),
            Just("%0d%0a"),
            Just("%09"),
            Just("%20"),
            Just("%00"),
            Just("%C2%85"),
            Just("%250a"),
        ],
        "[a-z]{0,5}",
    )
        .prop_map(|(a, c, b)| format!("{a}{c}{b}"));
    let long = "/[a-z]{2048,2100}";
    prop_oneof![
        4 => other_host,
        3 => dots,
        2 => scheme,
        1 => relative,
        2 => control,
        1 => long,
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn next_never_panics_and_accepts_only_safe_paths(
        next in prop_oneof![path_like(), any::<String>(), "/[ -~]{0,30}"],
    ) {
        let accepted = is_safe_next(&next);
        let chosen = safe_next(Some(&next), "/home");
        if accepted {
            prop_assert_eq!(chosen, next.as_str());
            assert_safe(&next);
        } else {
            prop_assert_eq!(chosen, "/home");
        }
    }

    #[test]
    fn next_refuses_every_known_bad_shape(next in known_bad()) {
        prop_assert!(!is_safe_next(&next), "accepted {:?}", next);
        prop_assert_eq!(safe_next(Some(&next), "/home"), "/home");
    }

    #[test]
    fn next_accepts_plain_paths(
        path in "(/[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,11}){1,4}/?",
        query in "(\\?[a-z]{1,5}=[a-z0-9]{0,5})?",
    ) {
        let next = format!("{path}{query}");
        prop_assert!(is_safe_next(&next), "refused {:?}", next);
    }
}

// ---------------------------------------------------------------------------------------------
// CSRF

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"null".to_vec()),
        Just(b"https://app.example.com".to_vec()),
        Just(b"https://trusted.example.com".to_vec()),
        Just(b"same-origin".to_vec()),
        Just(b"same-site".to_vec()),
        Just(b"cross-site".to_vec()),
        Just(b"none".to_vec()),
        Just(b"app.example.com".to_vec()),
        "[ -~]{0,30}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..30),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::HEAD),
        Just(Method::OPTIONS),
        Just(Method::POST),
        Just(Method::PUT),
        Just(Method::PATCH),
        Just(Method::DELETE),
        "[A-Z]{1,10}".prop_map(|m| Method::from_bytes(m.as_bytes()).expect("a token")),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn csrf_never_panics_and_safe_methods_pass(
        method in method(),
        uri in prop_oneof![Just("/x"), Just("https://app.example.com/x"), Just("http://[::1]:8080/")],
        headers in prop::collection::vec(
            (
                prop_oneof![Just("origin"), Just("sec-fetch-site"), Just("host"), Just("referer")],
                header_value(),
            ),
            0..5,
        ),
        trusted in any::<bool>(),
        require_origin in any::<bool>(),
    ) {
        let mut req = Request::builder().method(method.clone()).uri(uri);
        for (name, value) in &headers {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                req = req.header(*name, value);
            }
        }
        let parts = req.body(()).expect("a request").into_parts().0;
        let mut csrf = Csrf::default();
        if trusted {
            csrf.trusted_origin("https://trusted.example.com".to_owned());
        }
        if require_origin {
            csrf.require_origin();
        }
        let result = csrf.check(&parts);
        if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
            prop_assert_eq!(result, Ok(()));
        }
        // A single `Sec-Fetch-Site: cross-site` or `same-site` is refused unless the single
        // Origin is trusted.
        let origins: Vec<_> = parts.headers.get_all("origin").iter().collect();
        let sites: Vec<_> = parts.headers.get_all("sec-fetch-site").iter().collect();
        let trusted_origin = trusted
            && origins.len() == 1
            && origins[0] == "https://trusted.example.com";
        if !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
            && sites.len() == 1
            && (sites[0] == "cross-site" || sites[0] == "same-site")
            && !trusted_origin
        {
            prop_assert!(result.is_err(), "{:?} passed", parts.headers);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The token front end

/// Token-shaped strings: three or so base64url-ish parts.
fn token_like() -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Za-z0-9_-]{0,40}", 1..6).prop_map(|parts| parts.join("."))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_tokens_never_verify(
        token in prop_oneof![any::<String>(), token_like(), "[ -~]{0,200}"],
    ) {
        let result = verify_token(&token);
        prop_assert!(result.is_err(), "{:?} verified", token);
        prop_assert!(!is_correctly_signed(&token));
    }

    #[test]
    fn a_valid_token_with_one_byte_changed_never_verifies(
        index in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let valid = valid_token();
        prop_assert!(verify_token_str(&valid));
        let mut bytes = valid.clone().into_bytes();
        let at = index.index(bytes.len());
        prop_assume!(bytes[at] != byte);
        bytes[at] = byte;
        let token = String::from_utf8_lossy(&bytes);
        prop_assert!(!verify_token_str(&token), "byte {} set to {:#04x} verified", at, byte);
    }

    #[test]
    fn a_valid_token_with_one_byte_inserted_or_removed_never_verifies(
        index in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        insert in any::<bool>(),
    ) {
        let valid = valid_token();
        let mut bytes = valid.clone().into_bytes();
        let at = index.index(bytes.len());
        if insert {
            bytes.insert(at, byte);
        } else {
            bytes.remove(at);
        }
        let token = String::from_utf8_lossy(&bytes);
        prop_assert!(!verify_token_str(&token), "{:?} verified", token);
    }

    /// Correctly signed claims verify exactly when the time rules say they should.
    #[test]
    fn signed_claims_follow_the_time_rules(
        exp in prop::option::of(-100_000i64..200_000),
        nbf in prop::option::of(-1_000i64..1_000),
        iat in prop::option::of(-100_000i64..1_000),
    ) {
        let mut claims = serde_json::json!({ "sub": "u", "iss": ISSUER, "aud": [AUDIENCE] });
        let at = |offset: i64| NOW as i64 + offset;
        if let Some(exp) = exp { claims["exp"] = at(exp).into(); }
        if let Some(nbf) = nbf { claims["nbf"] = at(nbf).into(); }
        if let Some(iat) = iat { claims["iat"] = at(iat).into(); }
        let token = sign_raw(HEADER.as_bytes(), claims.to_string().as_bytes());
        let (leeway, lifetime) = (LEEWAY as i64, MAX_LIFETIME as i64);
        let want = exp.is_some_and(|exp| {
            exp + leeway > 0
                && exp <= lifetime + leeway
                && nbf.is_none_or(|nbf| nbf <= leeway)
                && iat.is_none_or(|iat| iat <= leeway && exp - iat <= lifetime + leeway)
        });
        let got = verify_token(&token);
        prop_assert_eq!(got.is_ok(), want, "{} -> {:?}", claims, got);
    }
}

#[test]
fn the_fixture_token_verifies_and_is_the_committed_seed() {
    let token = valid_token();
    assert!(verify_token_str(&token));
    // fuzz/gen_seeds.py computes the same token independently (Python's hmac), so the seed
    // corpus reaches the accepting path.
    let seed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzz/corpus-seeds/verify_token/raw_valid"
    ))
    .expect("the committed seed");
    assert_eq!(&seed[1..], token.as_bytes());
}
