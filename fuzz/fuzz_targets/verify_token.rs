//! The token verification front end (`verify::verify_token`, through `authgate::__fuzz`).
//!
//! Input: one mode byte, then:
//!
//! - mode 0: the token itself;
//! - mode 1: edits applied to a valid token (op, position, byte triples: replace, insert,
//!   delete, truncate);
//! - mode 2: header bytes, `0xff`, payload bytes, correctly signed with the fixture key;
//! - mode 3: payload bytes under the standard header, correctly signed;
//! - mode 4: header bytes over valid claims, correctly signed;
//! - mode 5: steps of 4 bytes (token family, token parameter, time), each token verified
//!   through a whole Gate with a small verified-token cache and, at the same time, by the
//!   uncached front end.
//!
//! Invariants: never panics; a token that verifies is exactly `message.signature` with the
//! canonical HS256 signature of `message` under the fixture key (so random or edited input
//! never verifies); and a signed token that verifies has a JSON object header with
//! `alg: HS256` and no `crit`, and claims that satisfy every rule: the fixture's `iss` and
//! `aud`, a non-empty string `sub`, `exp` in (now - leeway, now + lifetime + leeway], `nbf` and
//! `iat` not in the future; the Gate with its cache answers exactly what the uncached front end
//! answers, whatever the order of tokens and times (hits, expiry, clocks going back, eviction).
#![no_main]

use authgate::__fuzz::{
    AUDIENCE, HEADER, ISSUER, LEEWAY, MAX_LIFETIME, NOW, gate_verify_at, is_correctly_signed,
    sign_raw, valid_claims, valid_token, verify_token, verify_token_at,
};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

/// A JSON object's members as raw values. Like the runtime's own parser, values are not
/// interpreted until read: a member nobody reads may hold any valid JSON, including a number
/// out of f64's range, which `serde_json::Value` would refuse.
fn object(bytes: &[u8], what: &str) -> std::collections::BTreeMap<String, Box<RawValue>> {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|_| panic!("accepted a non-UTF-8 {what}"));
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("accepted a {what} that is not a JSON object ({e}): {text}"))
}

/// A member read as `T`, `None` when absent or `null`.
fn field<T: DeserializeOwned>(
    members: &std::collections::BTreeMap<String, Box<RawValue>>,
    name: &str,
) -> Option<T> {
    let raw = members.get(name)?;
    if raw.get() == "null" {
        return None;
    }
    Some(
        serde_json::from_str(raw.get())
            .unwrap_or_else(|e| panic!("accepted {name} = {} ({e})", raw.get())),
    )
}

/// A signed token verified: its header and claims must satisfy every rule.
fn check_verified(header: &[u8], payload: &[u8], subject: &str, expires_at: u64) {
    let header = object(header, "header");
    assert_eq!(field::<String>(&header, "alg").as_deref(), Some("HS256"));
    assert!(!header.contains_key("crit"), "accepted crit: {header:?}");

    let claims = object(payload, "payload");
    assert_eq!(field::<String>(&claims, "iss").as_deref(), Some(ISSUER));
    match field::<Value>(&claims, "aud") {
        Some(Value::String(aud)) => assert_eq!(aud, AUDIENCE),
        Some(Value::Array(auds)) => assert!(auds.contains(&Value::from(AUDIENCE)), "{auds:?}"),
        other => panic!("accepted aud {other:?}"),
    }
    assert_eq!(field::<String>(&claims, "sub").as_deref(), Some(subject));
    assert!(!subject.is_empty());
    let (now, leeway, lifetime) = (NOW as f64, LEEWAY as f64, MAX_LIFETIME as f64);
    let exp: f64 = field(&claims, "exp").expect("accepted without exp");
    assert!(exp + leeway > now, "accepted expired exp {exp}");
    assert!(
        exp - now <= lifetime + leeway,
        "accepted exp {exp} beyond the lifetime"
    );
    assert_eq!(expires_at, exp as u64);
    if let Some(nbf) = field::<f64>(&claims, "nbf") {
        assert!(nbf <= now + leeway, "accepted future nbf {nbf}");
    }
    if let Some(iat) = field::<f64>(&claims, "iat") {
        assert!(iat <= now + leeway, "accepted future iat {iat}");
        assert!(
            exp - iat <= lifetime + leeway,
            "accepted a lifetime from iat {iat} to {exp}"
        );
    }
}

fn signed(header: &[u8], payload: &[u8]) {
    let token = sign_raw(header, payload);
    assert!(is_correctly_signed(&token));
    if let Ok(verified) = verify_token(&token) {
        check_verified(header, payload, &verified.subject, verified.expires_at);
    }
}

fn edited(edits: &[u8]) {
    let valid = valid_token();
    let mut bytes = valid.clone().into_bytes();
    for edit in edits.chunks_exact(3) {
        let (op, at, byte) = (edit[0] % 4, usize::from(edit[1]), edit[2]);
        // Spread positions over the whole token: the signature is at the end.
        let at = if bytes.is_empty() {
            0
        } else {
            (at * bytes.len() / 256).min(bytes.len() - 1)
        };
        match op {
            0 if !bytes.is_empty() => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            2 if !bytes.is_empty() => {
                bytes.remove(at);
            }
            3 => bytes.truncate(at),
            _ => {}
        }
    }
    let token = String::from_utf8_lossy(&bytes);
    let accepted = verify_token(&token).is_ok();
    if token != valid {
        assert!(!accepted, "an edited token verified: {token:?}");
    } else {
        assert!(accepted, "the valid token was refused");
    }
}

/// A token of one of a few families, parameterized by `param`.
fn family_token(family: u8, param: u8) -> String {
    let p = u64::from(param);
    let claims = |extra: String| {
        format!(
            r#"{{"sub":"user-{}","iss":"{ISSUER}","aud":"{AUDIENCE}"{extra}}}"#,
            family % 4
        )
    };
    let payload = match family % 8 {
        0 => return valid_token(),
        1 => claims(format!(r#","exp":{}"#, NOW + p * 400 - 2000)),
        2 => claims(format!(
            r#","exp":{},"nbf":{}"#,
            NOW + 3000,
            NOW + p * 10 - 500
        )),
        3 => claims(format!(
            r#","exp":{},"iat":{}"#,
            NOW + 3000,
            NOW + p * 400 - 90_000
        )),
        4 => claims(format!(r#","exp":{},"n":{p}"#, NOW + 600)),
        5 => {
            let valid = valid_token();
            let (message, _) = valid.rsplit_once('.').expect("three parts");
            return format!("{message}.{}", "A".repeat(43 - usize::from(param % 2)));
        }
        6 => claims(format!(r#","exp":{}.{p}"#, NOW + 30)),
        _ => claims(format!(r#","exp":{},"roles":["r{p}"]"#, NOW + p * 40)),
    };
    sign_raw(HEADER.as_bytes(), payload.as_bytes())
}

fn cached(steps: &[u8]) {
    // At most 64 steps (twice the cache's entries per shard): longer runs only slow the
    // other modes down.
    for step in steps.chunks_exact(4).take(64) {
        let token = family_token(step[0], step[1]);
        let offset = u64::from(u16::from_le_bytes([step[2], step[3]]));
        let now = NOW - 3000 + offset * 2;
        let through_gate = gate_verify_at(&token, now);
        let direct = verify_token_at(&token, now);
        assert_eq!(through_gate, direct, "at {now}: {token}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 6 {
        0 => {
            let token = String::from_utf8_lossy(rest);
            if verify_token(&token).is_ok() {
                assert!(
                    is_correctly_signed(&token),
                    "accepted a forged token {token:?}"
                );
            }
        }
        1 => edited(rest),
        2 => {
            let (header, payload) = match rest.iter().position(|&b| b == 0xff) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &[][..]),
            };
            signed(header, payload);
        }
        3 => signed(HEADER.as_bytes(), rest),
        4 => signed(rest, valid_claims().as_bytes()),
        _ => cached(rest),
    }
});
