//! The crate-private parsers, each behind a plain function: the surface of the fuzz targets
//! in `fuzz/` (as `authgate::__fuzz`, compiled with `--cfg fuzzing`, which cargo-fuzz sets) and
//! of the property tests (`properties`, in this crate's own tests). Not a public API; nothing
//! here is covered by semver.
//!
//! Everything runs on one fixed configuration, built once: an HS256 key, issuer `ISSUER`,
//! audience `AUDIENCE`, the Gate's default rules (leeway 30 s, lifetime 24 h, 8 KiB tokens),
//! a fixed clock `NOW` and a session cookie named `COOKIE`. The verification path is the
//! real one (`verify::verify_token`, `credentials::cookie::values`); only the fixture is ours.
//!
//! Compiled only for tests and with `cfg(fuzzing)`.

use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderValue, header};
use jsonwebtoken::EncodingKey;

use crate::clock::time;
use crate::credentials::cookie;
use crate::gate::{Failure, Gate};
use crate::issuers::Issuer;
use crate::keys::{Algorithm, Key, KeySet};
use crate::principal::CredentialKind;
use crate::verify::{self, Invalid, Rules};

/// The HS256 secret every fixture token is signed with.
pub const SECRET: &[u8] = b"authgate fuzzing secret: 32 bytes or more";
/// The one accepted issuer.
pub const ISSUER: &str = "https://issuer.fuzz";
/// The one accepted audience.
pub const AUDIENCE: &str = "fuzz-api";
/// The fixed clock, in seconds since the Unix epoch.
pub const NOW: u64 = 1_700_000_000;
/// Leeway of the fixture rules (the Gate's default).
pub const LEEWAY: u64 = 30;
/// Maximum token lifetime of the fixture rules (the Gate's default).
pub const MAX_LIFETIME: u64 = 24 * 3600;
/// Maximum token size of the fixture rules (the Gate's default).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The session cookie name of the fixture.
pub const COOKIE: &str = "__Host-session";

struct Fixture {
    keys: KeySet,
    rules: Rules,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let key = Key::hmac(Algorithm::HS256, SECRET).expect("a 32-byte HS256 secret");
        Fixture {
            keys: KeySet::new(ISSUER, vec![key]).expect("one key"),
            rules: Rules {
                issuers: vec![ISSUER.to_owned()],
                audiences: vec![AUDIENCE.to_owned()],
                ..Rules::default()
            },
        }
    })
}

/// What a verified token yielded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// `sub`.
    pub subject: String,
    /// `exp`, truncated to whole seconds.
    pub expires_at: u64,
    /// The roles found at `roles`.
    pub roles: Vec<String>,
    /// The scopes found at `scope` or `scp`.
    pub scopes: Vec<String>,
}

/// Runs the real token front end (`verify::verify_token`) on the fixture; `Err` is the reason
/// the Gate would log.
pub fn verify_token(token: &str) -> Result<Verified, &'static str> {
    let f = fixture();
    verify::verify_token(token, &f.keys, &f.rules, NOW, CredentialKind::Bearer)
        .map(|p| Verified {
            subject: p.subject,
            expires_at: p.expires_at,
            roles: p.roles,
            scopes: p.scopes,
        })
        .map_err(|e: Invalid| e.as_str())
}

/// The front end at another time than `NOW`, without any cache.
pub fn verify_token_at(token: &str, now: u64) -> Result<Verified, &'static str> {
    let f = fixture();
    verify::verify_token(token, &f.keys, &f.rules, now, CredentialKind::Bearer)
        .map(|p| Verified {
            subject: p.subject,
            expires_at: p.expires_at,
            roles: p.roles,
            scopes: p.scopes,
        })
        .map_err(|e: Invalid| e.as_str())
}

/// The clock of the fixture Gate.
static CLOCK: AtomicU64 = AtomicU64::new(NOW);

/// A Gate with the fixture's key and rules and a small verified-token cache (64 KiB, at most
/// 102 entries), so that a short run of tokens exercises hits, expiry and eviction.
fn gate() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(|| {
        Gate::builder()
            .issuer(Issuer::new(ISSUER).secret(SECRET).audience(AUDIENCE))
            .clock(|| time(CLOCK.load(Ordering::Relaxed)))
            .token_cache(64 * 1024)
            .build()
            .expect("the fixture Gate")
    })
}

/// The bearer token through a whole Gate (`Gate::authenticate`: header parsing, the token
/// cache, verification) at time `now`. The Gate is shared: one caller at a time, or the clock
/// moves under another.
pub fn gate_verify_at(token: &str, now: u64) -> Result<Verified, &'static str> {
    CLOCK.store(now, Ordering::Relaxed);
    let request = http::Request::builder()
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(())
        .map_err(|_| "not_a_header")?;
    let parts = request.into_parts().0;
    let mut future =
        std::pin::pin!(gate().authenticate_shared(&parts, crate::credentials::Kinds::ALL));
    let mut context = Context::from_waker(Waker::noop());
    let Poll::Ready(result) = future.as_mut().poll(&mut context) else {
        unreachable!("static keys and no store: authentication never waits");
    };
    match result {
        Ok(Some(p)) => Ok(Verified {
            subject: p.subject.clone(),
            expires_at: p.expires_at,
            roles: p.roles.clone(),
            scopes: p.scopes.clone(),
        }),
        Ok(None) => Err("no_credentials"),
        Err(Failure::Token(e)) => Err(e.as_str()),
        Err(Failure::Header(e)) => Err(e.as_str()),
        Err(_) => Err("other"),
    }
}

/// Whether the token front end accepts `token`.
pub fn verify_token_str(token: &str) -> bool {
    verify_token(token).is_ok()
}

/// The base64url HS256 signature of `message` (`header.payload`) under [`SECRET`].
pub fn signature_of(message: &str) -> String {
    let key = EncodingKey::from_secret(SECRET);
    let signer = (crate::verify::PROVIDER.signer_factory)(&jsonwebtoken::Algorithm::HS256, &key)
        .expect("an HS256 signer");
    let signature = signer
        .try_sign(message.as_bytes())
        .expect("HS256 signing cannot fail");
    URL_SAFE_NO_PAD.encode(signature)
}

/// Signs arbitrary header and payload bytes: `b64(header).b64(payload).b64(hmac)`. The bytes
/// need not be JSON, so the fuzzer can reach every check that runs after the signature.
pub fn sign_raw(header: &[u8], payload: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = signature_of(&message);
    format!("{message}.{signature}")
}

/// Whether `token` is exactly `message.signature` with the canonical signature of `message`:
/// the one shape a token the front end accepts can have.
pub fn is_correctly_signed(token: &str) -> bool {
    match token.rsplit_once('.') {
        Some((message, signature)) => signature_of(message) == signature,
        None => false,
    }
}

/// The standard JWS header of fixture tokens.
pub const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Claims that pass every rule of the fixture.
pub fn valid_claims() -> String {
    format!(
        r#"{{"sub":"user-42","iss":"{ISSUER}","aud":"{AUDIENCE}","iat":{},"exp":{},"roles":["admin"],"scope":"invoices:read invoices:write"}}"#,
        NOW - 60,
        NOW + 600
    )
}

/// A token the front end accepts.
pub fn valid_token() -> String {
    sign_raw(HEADER.as_bytes(), valid_claims().as_bytes())
}

/// The values of the fixture's session cookie ([`COOKIE`]) in one `Cookie` header, as the
/// Gate reads them (`credentials::cookie::values`). A value that is not a valid header yields none.
pub fn session_cookie_values(header: &str) -> Vec<String> {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(header) {
        headers.insert(header::COOKIE, value);
    }
    session_cookie_values_in(&headers)
}

/// The values of the fixture's session cookie in every `Cookie` header of `headers`.
pub fn session_cookie_values_in(headers: &HeaderMap) -> Vec<String> {
    cookie::values(headers, COOKIE).map(str::to_owned).collect()
}

/// The oracle for an accepted `next` (`is_safe_next` returned true), written independently of
/// the validator: `None` when every invariant holds, else the first one broken. At most 2 KiB,
/// and at every level of strict percent-decoding (repeated until nothing changes, at most 8
/// levels): exactly one leading `/` (not `//`, not `/\`), no `.` or `..` path segment, no path
/// that RFC 3986 normalization turns into another host, and no backslash, control character or
/// white space.
pub fn accepted_next_problem(next: &str) -> Option<String> {
    if next.len() > 2048 {
        return Some(format!("{} bytes, over 2 KiB", next.len()));
    }
    let mut text = next.to_owned();
    for level in 0..=8 {
        let bytes = text.as_bytes();
        if bytes.first() != Some(&b'/') {
            return Some(format!("level {level}: {text:?} has no leading /"));
        }
        if matches!(bytes.get(1), Some(b'/' | b'\\')) {
            return Some(format!("level {level}: {text:?} names another host"));
        }
        if let Some(c) = text
            .chars()
            .find(|c| *c == '\\' || c.is_control() || c.is_whitespace())
        {
            return Some(format!("level {level}: {c:?} in {text:?}"));
        }
        let path = text.split(['?', '#']).next().unwrap_or_default();
        if path
            .split('/')
            .any(|segment| segment == "." || segment == "..")
        {
            return Some(format!("level {level}: dot segment in {text:?}"));
        }
        let normalized = remove_dot_segments(path);
        if normalized.starts_with("//") || normalized.starts_with("/\\") {
            return Some(format!(
                "level {level}: {text:?} normalizes to {normalized:?}"
            ));
        }
        match strict_percent_decode(&text) {
            None => return Some(format!("level {level}: malformed escape in {text:?}")),
            Some(decoded) if decoded == text => return None,
            Some(decoded) => text = decoded,
        }
    }
    Some(format!("{next:?} still decodes after 8 levels"))
}

/// Strict percent-decoding: every `%` starts an escape of two hex digits; `None` when one
/// does not, or the result is not UTF-8.
fn strict_percent_decode(s: &str) -> Option<String> {
    let escapes_ok = s.split('%').skip(1).all(|after| {
        after
            .get(..2)
            .is_some_and(|hex| hex.chars().all(|c| c.is_ascii_hexdigit()))
    });
    if !escapes_ok {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(s).decode_utf8().ok()?;
    Some(decoded.into_owned())
}

/// RFC 3986 section 5.2.4, as a browser applies it to a redirect target's path.
fn remove_dot_segments(path: &str) -> String {
    let mut input = path.to_owned();
    let mut output = String::new();
    while !input.is_empty() {
        if let Some(rest) = input
            .strip_prefix("../")
            .or_else(|| input.strip_prefix("./"))
        {
            input = rest.to_owned();
        } else if input.starts_with("/./") {
            input.replace_range(..3, "/");
        } else if input == "/." {
            input = "/".to_owned();
        } else if input.starts_with("/../") || input == "/.." {
            let len = if input == "/.." { 3 } else { 4 };
            input.replace_range(..len, "/");
            output.truncate(output.rfind('/').unwrap_or(0));
        } else if input == "." || input == ".." {
            input.clear();
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            output.push_str(&input[..end]);
            input.replace_range(..end, "");
        }
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The constants the oracles use are the rules the fixture verifies with.
    #[test]
    fn constants_are_the_fixture_rules() {
        let rules = &fixture().rules;
        assert_eq!(
            (rules.leeway, rules.max_lifetime, rules.max_token_bytes),
            (LEEWAY, MAX_LIFETIME, MAX_TOKEN_BYTES)
        );
    }

    #[test]
    fn fixture_token_round_trip() {
        let token = valid_token();
        assert!(is_correctly_signed(&token));
        let verified = verify_token(&token).expect("the fixture token verifies");
        assert_eq!(verified.subject, "user-42");
        assert_eq!(verified.roles, ["admin"]);
        assert_eq!(verified.scopes, ["invoices:read", "invoices:write"]);
        assert_eq!(verified.expires_at, NOW + 600);
    }

    #[test]
    fn fixture_refusals() {
        assert_eq!(verify_token(""), Err("malformed_token"));
        let token = valid_token();
        let (message, _) = token.rsplit_once('.').unwrap();
        assert_eq!(verify_token(&format!("{message}.")), Err("bad_signature"));
        let none = sign_raw(br#"{"alg":"none"}"#, valid_claims().as_bytes());
        assert_eq!(verify_token(&none), Err("algorithm_not_allowed"));
        let expired = sign_raw(
            HEADER.as_bytes(),
            format!(
                r#"{{"sub":"a","iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{}}}"#,
                NOW - 3600
            )
            .as_bytes(),
        );
        assert_eq!(verify_token(&expired), Err("expired"));
        assert!(!is_correctly_signed("no dot"));
    }

    #[test]
    fn the_gate_with_its_cache_agrees_with_the_front_end() {
        let token = valid_token();
        for now in [
            NOW,
            NOW,
            NOW + 500,
            NOW + 629,
            NOW + 630,
            NOW + 700,
            NOW - 100,
            NOW,
        ] {
            assert_eq!(
                gate_verify_at(&token, now),
                verify_token_at(&token, now),
                "{now}"
            );
        }
        assert_eq!(gate_verify_at(&token, NOW + 630), Err("expired"));
        assert_eq!(gate_verify_at("a b", NOW), Err("malformed_bearer"));
        assert_eq!(gate_verify_at("a\nb", NOW), Err("not_a_header"));
    }

    /// Found by `verify_token` (a harness bug, not a runtime one): members are kept as raw JSON
    /// until read, so a header member nobody reads may hold a number beyond f64's range, while
    /// the same number in `exp` is refused as the wrong type.
    #[test]
    fn unread_members_stay_raw_but_read_ones_are_typed() {
        let header = br#"{"alg":"HS256","tyexp":10E0588888888,"pe":" arite"}"#;
        let token = sign_raw(header, valid_claims().as_bytes());
        assert!(verify_token(&token).is_ok());
        let claims = valid_claims().replace(&format!(r#""exp":{}"#, NOW + 600), r#""exp":1e999"#);
        assert!(claims.contains("1e999"));
        let token = sign_raw(HEADER.as_bytes(), claims.as_bytes());
        assert_eq!(verify_token(&token), Err("claim_type"));
    }

    #[test]
    fn cookie_values() {
        assert_eq!(
            session_cookie_values("a=1; __Host-session=\"abc\"; __Host-session=def"),
            ["abc", "def"]
        );
        assert!(session_cookie_values("session=abc").is_empty());
        assert!(session_cookie_values("__Host-session=a\nb").is_empty());
    }

    #[test]
    fn the_next_oracle_catches_each_bad_shape() {
        assert_eq!(accepted_next_problem("/invoices?page=2"), None);
        for bad in [
            "//x",
            "/\\x",
            "x",
            "/..//x",
            "/%2e%2e//x",
            "/a%0a",
            "/%2F%2Fx",
            "/%zz",
        ] {
            assert!(accepted_next_problem(bad).is_some(), "{bad:?}");
        }
        assert!(accepted_next_problem(&format!("/{}", "a".repeat(3000))).is_some());
    }
}
