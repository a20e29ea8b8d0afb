//! Tokens and keys: the hardened JWT front end.
//!
//! jsonwebtoken does the cryptography; authgate does everything around it, because its
//! `decode` alone is not strict enough for an authorization gate and parses the payload twice:
//!
//! 1. the token is bounded in size and must be three base64url parts (a JWE is refused);
//! 2. the header is parsed once: `alg: none` in any spelling, unknown algorithms and a `crit`
//!    header are refused; `jku`, `x5u`, `jwk` and `x5c` are never fetched or trusted;
//! 3. the key is chosen by `kid` (unknown `kid`: refused) and must be bound to exactly the
//!    token's algorithm, so an RSA public key can never be used as an HMAC secret;
//! 4. after the signature verifies, the payload is parsed once: duplicate claim names are
//!    refused, `exp` is required, `exp`/`nbf`/`iat` must be JSON numbers, configured `iss` and
//!    `aud` must be present and match, and a lifetime beyond the configured maximum is refused.
//!
//! Every failure is one [`Invalid`] reason for the logs; the client only ever sees
//! `invalid_token`.
//!
//! The module reads a request's token down through its parts: the keys (in `crate::keys`),
//! the JWS header and signature here, then [`claims`] (the rules a payload must meet), which
//! reads JSON with [`json`]. [`sign`] issues tokens with the same backend.

mod claims;
mod json;
mod path;
mod sign;

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::keys::{Algorithm, KeySet};
use crate::principal::{CredentialKind, Principal};
use json::{Object, Text};

pub(crate) use claims::{ClaimPath, LOGIN_CLAIM, Rules, check_claims_until};
pub(crate) use sign::{SESSION_TYP, sign_access_jwt, sign_session_jwt};

pub(crate) use crate::keys::PROVIDER;

/// Why a token was refused. For logs only: clients always see `invalid_token`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Invalid {
    /// Longer than the configured maximum.
    TooLarge,
    /// Not three base64url parts of valid JSON.
    Malformed,
    /// `alg` is `none`, unknown, or not the algorithm of any configured key.
    Algorithm,
    /// The header has a `crit` member.
    Crit,
    /// The header names a `kid` that is not configured.
    UnknownKid,
    /// The signature does not verify.
    Signature,
    /// A claim has the wrong JSON type, or a claim name appears twice.
    ClaimType,
    /// `exp` is missing.
    MissingExp,
    /// `exp` has passed.
    Expired,
    /// `nbf` or `iat` is in the future.
    NotYetValid,
    /// `exp` is further away than the maximum lifetime.
    LifetimeTooLong,
    /// `iss` is missing or not an accepted issuer.
    Issuer,
    /// `aud` is missing or names none of the accepted audiences.
    Audience,
    /// `sub` is missing or empty.
    Subject,
    /// A claim the issuer requires is missing or has another value.
    RequiredClaim,
    /// A session cookie's JWT sent as a bearer token, or any other JWT sent as a session
    /// cookie (`typ` tells them apart); or, for an issuer that accepts access tokens only,
    /// a JWT whose `typ` is not `at+jwt`.
    Purpose,
    /// Two session cookies with different values, or a value that is not a session id.
    SessionCookie,
    /// The session id is not in the store (logged out, revoked, or made up).
    UnknownSession,
    /// The session passed its idle timeout or absolute lifetime.
    SessionExpired,
    /// The token was revoked: by its `jti`, its login (`sid`), or a cutoff of its subject.
    Revoked,
    /// With revocations configured, a JWT without `iat`: its age cannot be compared with a
    /// subject's cutoff.
    MissingIat,
}

impl Invalid {
    /// A short name for logs and metrics.
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Invalid::TooLarge => "token_too_large",
            Invalid::Malformed => "malformed_token",
            Invalid::Algorithm => "algorithm_not_allowed",
            Invalid::Crit => "crit_header",
            Invalid::UnknownKid => "unknown_kid",
            Invalid::Signature => "bad_signature",
            Invalid::ClaimType => "claim_type",
            Invalid::MissingExp => "missing_exp",
            Invalid::Expired => "expired",
            Invalid::NotYetValid => "not_yet_valid",
            Invalid::LifetimeTooLong => "lifetime_too_long",
            Invalid::Issuer => "issuer",
            Invalid::Audience => "audience",
            Invalid::Subject => "subject",
            Invalid::RequiredClaim => "required_claim",
            Invalid::Purpose => "token_purpose",
            Invalid::SessionCookie => "bad_session_cookie",
            Invalid::UnknownSession => "unknown_session",
            Invalid::SessionExpired => "session_expired",
            Invalid::Revoked => "revoked",
            Invalid::MissingIat => "missing_iat",
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// token counts as expired under the rules it was checked with.
pub(crate) struct Verified {
    /// Built in place on the heap: the guard shares it, and moving it by value costs more.
    pub(crate) principal: Arc<Principal>,
    pub(crate) expired_at: u64,
}

/// Verifies `token` against `keys` and `rules` at time `now` (seconds since the epoch).
pub(crate) fn verify_token(
    token: &str,
    keys: &KeySet,
    rules: &Rules,
    now: u64,
    credential: CredentialKind,
) -> Result<Principal, Invalid> {
    verify_token_until(token, keys, rules, now, credential)
        .map(|v| Arc::unwrap_or_clone(v.principal))
}

/// [`verify_token`], with the time at which the token expires (for the token cache).
///
/// The header and the signature are decoded into stack buffers (heap only for unusually large
/// ones), the payload once into the `String` the principal keeps.
pub(crate) fn verify_token_until(
    token: &str,
    keys: &KeySet,
    rules: &Rules,
    now: u64,
    credential: CredentialKind,
) -> Result<Verified, Invalid> {
    if token.len() > rules.max_token_bytes {
        return Err(Invalid::TooLarge);
    }
    let (message, signature) = token.rsplit_once('.').ok_or(Invalid::Malformed)?;
    let (header_b64, payload_b64) = message.split_once('.').ok_or(Invalid::Malformed)?;
    if payload_b64.contains('.') {
        return Err(Invalid::Malformed);
    }
    let (alg, kid, typ) = header(header_b64)?;
    if (typ == Typ::Session) != (credential == CredentialKind::Cookie)
        || (rules.access_tokens_only && typ != Typ::AccessToken)
    {
        return Err(Invalid::Purpose);
    }
    // 512 bytes: an RSA-4096 signature (larger ones are decoded onto the heap).
    let mut signature_buf = [0u8; 512];
    let signature = b64_into(signature, &mut signature_buf)?;
    let mut any_key = false;
    let mut verified = false;
    let candidates = keys
        .candidates(alg, kid.as_deref())
        .ok_or(Invalid::UnknownKid)?;
    for key in candidates {
        any_key = true;
        if key.verifies(message.as_bytes(), &signature) {
            verified = true;
            break;
        }
    }
    match (any_key, verified) {
        (false, _) => return Err(Invalid::Algorithm),
        (true, false) => return Err(Invalid::Signature),
        (true, true) => {}
    }
    let payload = String::from_utf8(b64(payload_b64)?).map_err(|_| Invalid::Malformed)?;
    check_claims_until(payload, rules, now, credential)
}

/// The `iss` a token claims, read from its payload before any signature check, so that the
/// issuer's own keys are the only ones tried. Read as strictly as the claims later are: the
/// token's size and shape, a JSON object without duplicate names, `iss` a string when
/// present. `Ok(None)`: no `iss`. Nothing else in the payload is trusted or used here.
pub(crate) fn claimed_issuer(token: &str, rules: &Rules) -> Result<Option<String>, Invalid> {
    if token.len() > rules.max_token_bytes {
        return Err(Invalid::TooLarge);
    }
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Invalid::Malformed);
    };
    let payload = String::from_utf8(b64(payload)?).map_err(|_| Invalid::Malformed)?;
    let mut claims = Object::new();
    claims.fill(&payload)?;
    let iss: Option<Text<'_>> = json::text(claims.raw("iss"))?;
    Ok(iss.map(|iss| iss.0.into_owned()))
}

/// What a header's `typ` says the token is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Typ {
    /// A stateless session cookie of this Gate (`authgate-session+jwt`).
    Session,
    /// An RFC 9068 access token (`at+jwt` or `application/at+jwt`).
    AccessToken,
    /// Anything else, or no `typ` (`JWT`, an identity provider's own).
    Other,
}

/// The RFC 9068 `typ` of JWT access tokens (section 2.1), without the optional
/// `application/` prefix.
pub(crate) const ACCESS_TOKEN_TYP: &str = "at+jwt";

impl Typ {
    /// A media type, compared case-insensitively (RFC 7515 section 4.1.9).
    fn of(typ: Option<&str>) -> Typ {
        let Some(typ) = typ else {
            return Typ::Other;
        };
        let short = match typ.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
            _ => typ,
        };
        if typ.eq_ignore_ascii_case(SESSION_TYP) {
            Typ::Session
        } else if short.eq_ignore_ascii_case(ACCESS_TOKEN_TYP) {
            Typ::AccessToken
        } else {
            Typ::Other
        }
    }
}

/// A header this thread parsed successfully, and what it said.
struct ParsedHeader {
    text: Box<str>,
    alg: Algorithm,
    kid: Option<Rc<str>>,
    typ: Typ,
}

thread_local! {
    /// The last header parsed on this thread. The tokens an app sees share a handful of
    /// headers (one per issuer and key), and what a header says is a pure function of its
    /// text, so a token whose header is exactly the last one skips the decode and the parse.
    /// Only successful parses are kept; at most one small header per thread.
    static LAST_HEADER: RefCell<Option<ParsedHeader>> = const { RefCell::new(None) };
}

/// The header's `alg`, `kid` and what its `typ` marks the token as, after checking that it is
/// a JSON object without duplicate names and without `crit`.
fn header(header_b64: &str) -> Result<(Algorithm, Option<Rc<str>>, Typ), Invalid> {
    let known = LAST_HEADER.with_borrow(|last| match last {
        Some(last) if *last.text == *header_b64 => Some((last.alg, last.kid.clone(), last.typ)),
        _ => None,
    });
    if let Some(known) = known {
        return Ok(known);
    }
    let mut header_buf = [0u8; 256];
    let header_bytes = b64_into(header_b64, &mut header_buf)?;
    let header_json = std::str::from_utf8(&header_bytes).map_err(|_| Invalid::Malformed)?;
    // The header must be a JSON object (RFC 7515 section 4) without duplicate names; any
    // `crit` member, even `null`, is refused: we understand no extension.
    let mut header = Object::new();
    header.fill(header_json)?;
    if header.raw("crit").is_some() {
        return Err(Invalid::Crit);
    }
    let alg: Text<'_> = header.get("alg")?.ok_or(Invalid::Algorithm)?;
    let alg = Algorithm::named(&alg.0).ok_or(Invalid::Algorithm)?;
    let kid: Option<Text<'_>> = header.get("kid")?;
    let kid: Option<Rc<str>> = kid.map(|kid| Rc::from(&*kid.0));
    let typ: Option<Text<'_>> = header.get("typ")?;
    let typ = Typ::of(typ.as_ref().map(|typ| &*typ.0));
    if header_b64.len() <= 256 {
        LAST_HEADER.set(Some(ParsedHeader {
            text: header_b64.into(),
            alg,
            kid: kid.clone(),
            typ,
        }));
    }
    Ok((alg, kid, typ))
}

fn b64(part: &str) -> Result<Vec<u8>, Invalid> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| Invalid::Malformed)
}

/// Decodes `part` into `buf`, or onto the heap when it does not fit; the same engine and the
/// same errors as [`b64`].
fn b64_into<'b>(part: &str, buf: &'b mut [u8]) -> Result<Cow<'b, [u8]>, Invalid> {
    match URL_SAFE_NO_PAD.decode_slice(part, buf) {
        Ok(n) => Ok(Cow::Borrowed(&buf[..n])),
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => b64(part).map(Cow::Owned),
        Err(base64::DecodeSliceError::DecodeError(_)) => Err(Invalid::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    /// The issuer is read strictly, before any signature: duplicate names, an `iss` that is
    /// not a string and anything but three parts are refused; no `iss` is `None`.
    #[test]
    fn claimed_issuer_is_read_strictly() {
        let token = |payload: &str| {
            format!(
                "eyJhbGciOiJSUzI1NiJ9.{}.sig",
                URL_SAFE_NO_PAD.encode(payload)
            )
        };
        let rules = Rules::default();
        let read = |payload: &str| claimed_issuer(&token(payload), &rules);
        assert_eq!(
            read(r#"{"iss":"https://a","sub":"1"}"#),
            Ok(Some("https://a".into()))
        );
        assert_eq!(
            read(r#"{"iss":"https:\/\/a"}"#),
            Ok(Some("https://a".into()))
        );
        assert_eq!(read(r#"{"sub":"1"}"#), Ok(None));
        assert_eq!(
            read(r#"{"iss":"https://a","iss":"https://b"}"#),
            Err(Invalid::Malformed)
        );
        assert_eq!(read(r#"{"iss":["https://a"]}"#), Err(Invalid::ClaimType));
        assert_eq!(read(r#"["iss"]"#), Err(Invalid::Malformed));
        assert_eq!(claimed_issuer("a.b", &rules), Err(Invalid::Malformed));
        assert_eq!(claimed_issuer("a.b.c.d", &rules), Err(Invalid::Malformed));
        let long = "a".repeat(rules.max_token_bytes + 1);
        assert_eq!(claimed_issuer(&long, &rules), Err(Invalid::TooLarge));
    }

    /// The per-thread memo of the last header answers exactly what a parse answers, and
    /// never for another text.
    #[test]
    fn header_memo_is_exact() {
        let enc = |json: &str| URL_SAFE_NO_PAD.encode(json);
        let good = enc(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#);
        let other_kid = enc(r#"{"alg":"RS256","kid":"k2","typ":"JWT"}"#);
        type Said<'a> = Result<(Algorithm, Option<&'a str>), Invalid>;
        let cases: [(String, Said<'_>); 7] = [
            (good.clone(), Ok((Algorithm::RS256, Some("k1")))),
            (good.clone(), Ok((Algorithm::RS256, Some("k1")))),
            (other_kid, Ok((Algorithm::RS256, Some("k2")))),
            (
                enc(r#"{"alg":"RS256","kid":"k1","crit":["exp"]}"#),
                Err(Invalid::Crit),
            ),
            (
                enc(r#"{"alg":"RS256","alg":"HS256"}"#),
                Err(Invalid::Malformed),
            ),
            (enc(r#"{"alg":"none"}"#), Err(Invalid::Algorithm)),
            (good, Ok((Algorithm::RS256, Some("k1")))),
        ];
        for (text, want) in cases {
            let got = header(&text);
            let got = got.as_ref().map(|(alg, kid, _)| (*alg, kid.as_deref()));
            assert_eq!(got, want.as_ref().map(|(a, k)| (*a, *k)), "{text}");
        }
        let typ = |json: &str| header(&enc(json)).map(|(_, _, typ)| typ);
        let session = typ(r#"{"alg":"HS256","typ":"Authgate-Session+JWT"}"#);
        assert_eq!(session, Ok(Typ::Session));
        assert_eq!(typ(r#"{"alg":"HS256","typ":"JWT"}"#), Ok(Typ::Other));
        assert_eq!(typ(r#"{"alg":"HS256"}"#), Ok(Typ::Other));
        for at in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+JWT",
        ] {
            let json = format!(r#"{{"alg":"RS256","typ":"{at}"}}"#);
            assert_eq!(typ(&json), Ok(Typ::AccessToken), "{at}");
        }
        for other in [
            "at+jwtx",
            "application/jwt",
            "applicationat+jwt",
            "app/at+jwt",
            "é",
        ] {
            let json = format!(r#"{{"alg":"RS256","typ":"{other}"}}"#);
            assert_eq!(typ(&json), Ok(Typ::Other), "{other}");
        }
    }
}
