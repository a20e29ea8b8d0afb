//! Claim rules: what a verified payload must say (`exp`, `nbf`, `iat`, `iss`, `aud`, `sub`)
//! and where a Gate finds roles, scopes and the client id in it.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::json::{Object, for_each_name, number, text};
pub(crate) use super::path::ClaimPath;
use super::{Invalid, Verified};
use crate::principal::{CredentialKind, Principal};

/// The claim naming the login a token belongs to: `sid`, OpenID Connect's session id. A
/// Gate's own tokens carry their refresh family's key; a logout with any token that has one
/// ends every token of that login (`crate::revocation`).
pub(crate) const LOGIN_CLAIM: &str = "sid";

/// The claim rules of a Gate: everything but the keys.
#[derive(Clone, Debug)]
pub(crate) struct Rules {
    pub(crate) issuers: Vec<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) leeway: u64,
    pub(crate) max_lifetime: u64,
    pub(crate) max_token_bytes: usize,
    pub(crate) roles: ClaimPath,
    pub(crate) scopes: Vec<ClaimPath>,
    /// Where the OAuth client id is; the first place present wins.
    pub(crate) client_ids: Vec<ClaimPath>,
    /// The claim the audience is checked against, when not `aud` (Cognito's `client_id`).
    pub(crate) audience_claim: Option<String>,
    /// Claims that must be present with exactly this string value.
    pub(crate) required: Vec<(String, String)>,
    /// Only RFC 9068 access tokens (`typ: at+jwt`) are accepted (checked with the header).
    pub(crate) access_tokens_only: bool,
}

impl Default for Rules {
    /// The Gate's defaults: no issuer or audience required, leeway 30 s, maximum lifetime
    /// 24 h, tokens up to 8 KiB, roles in `roles`, scopes in `scope` or else `scp`, the
    /// client id in `client_id`, any JWT type.
    fn default() -> Rules {
        let path = |name: &str| ClaimPath(vec![name.to_owned()]);
        Rules {
            issuers: Vec::new(),
            audiences: Vec::new(),
            leeway: 30,
            max_lifetime: 24 * 3600,
            max_token_bytes: 8 * 1024,
            roles: path("roles"),
            scopes: vec![path("scope"), path("scp")],
            client_ids: vec![path("client_id")],
            audience_claim: None,
            required: Vec::new(),
            access_tokens_only: false,
        }
    }
}

impl Rules {
    /// Claims a token issued under these rules carries for who it names: `sub`, the first
    /// accepted `iss` and `aud` (in the audience claim), the required claims, the roles at the
    /// roles path and the scopes (a space-delimited string, when there are any) at the first
    /// scopes path, so that [`check_claims`] reads back exactly these roles and scopes.
    pub(crate) fn identity_claims(
        &self,
        claims: &mut Map<String, Value>,
        subject: &str,
        roles: &[String],
        scopes: &[String],
    ) {
        claims.insert("sub".into(), subject.into());
        if let Some(iss) = self.issuers.first() {
            claims.insert("iss".into(), iss.as_str().into());
        }
        if let Some(aud) = self.audiences.first() {
            let name = self.audience_claim.as_deref().unwrap_or("aud");
            claims.insert(name.into(), aud.as_str().into());
        }
        for (name, value) in &self.required {
            claims.insert(name.clone(), value.as_str().into());
        }
        put_at(claims, &self.roles, roles.into());
        if let (Some(path), false) = (self.scopes.first(), scopes.is_empty()) {
            put_at(claims, path, scopes.join(" ").into());
        }
    }

    /// Puts `client_id` where these rules read it first.
    #[cfg(feature = "testing")]
    pub(crate) fn client_id_claim(&self, claims: &mut Map<String, Value>, client_id: &str) {
        if let Some(path) = self.client_ids.first() {
            put_at(claims, path, client_id.into());
        }
    }
}

/// Sets `value` at `path`, making or replacing the nested objects on the way.
fn put_at(claims: &mut Map<String, Value>, path: &ClaimPath, value: Value) {
    let Some((last, parents)) = path.0.split_last() else {
        return;
    };
    let mut object = claims;
    for segment in parents {
        let slot = object
            .entry(segment.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(nested) = slot else {
            return;
        };
        object = nested;
    }
    object.insert(last.clone(), value);
}

/// Checks the registered claims of a verified payload and extracts the principal.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn check_claims(
    payload: String,
    rules: &Rules,
    now: u64,
    credential: CredentialKind,
) -> Result<Principal, Invalid> {
    check_claims_until(payload, rules, now, credential).map(|v| Arc::unwrap_or_clone(v.principal))
}

/// [`check_claims`], with the time at which the token expires under these rules.
#[inline]
pub(crate) fn check_claims_until(
    payload: String,
    rules: &Rules,
    now: u64,
    credential: CredentialKind,
) -> Result<Verified, Invalid> {
    let mut claims = Object::new();
    claims.fill(&payload)?;
    let registered = claims.registered();
    let exp = number(registered.exp)?.ok_or(Invalid::MissingExp)?;
    let now_f = now as f64;
    let leeway = rules.leeway as f64;
    if exp + leeway <= now_f {
        return Err(Invalid::Expired);
    }
    if exp - now_f > (rules.max_lifetime + rules.leeway) as f64 {
        return Err(Invalid::LifetimeTooLong);
    }
    if let Some(nbf) = number(registered.nbf)?
        && nbf > now_f + leeway
    {
        return Err(Invalid::NotYetValid);
    }
    let iat = number(registered.iat)?;
    if let Some(iat) = iat {
        if iat > now_f + leeway {
            return Err(Invalid::NotYetValid);
        }
        if exp - iat > (rules.max_lifetime + rules.leeway) as f64 {
            return Err(Invalid::LifetimeTooLong);
        }
    }
    if !rules.issuers.is_empty() {
        let iss = text(registered.iss)?;
        if !iss.is_some_and(|iss| rules.issuers.iter().any(|ok| *ok == iss.0)) {
            return Err(Invalid::Issuer);
        }
    }
    if !rules.audiences.is_empty() {
        let aud = match &rules.audience_claim {
            None => registered.aud,
            Some(name) => claims.raw(name),
        };
        let mut accepted = false;
        let found = for_each_name(aud, |aud| {
            accepted |= rules.audiences.iter().any(|ok| ok == aud);
        })?;
        if !found || !accepted {
            return Err(Invalid::Audience);
        }
    }
    let subject = text(registered.sub)?;
    let subject = subject
        .filter(|s| !s.0.is_empty())
        .ok_or(Invalid::Subject)?
        .0
        .into_owned();
    for (name, value) in &rules.required {
        if text(claims.raw(name))?.is_none_or(|found| found.0 != value.as_str()) {
            return Err(Invalid::RequiredClaim);
        }
    }
    let token_id = text(registered.jti)?.map(|jti| jti.0.into_owned());
    let login_id = text(claims.raw(LOGIN_CLAIM))?.map(|sid| sid.0.into_owned());
    let mut client_id = None;
    for path in &rules.client_ids {
        if let Some(found) = text(claims.at(path)?)? {
            client_id = Some(found.0.into_owned());
            break;
        }
    }
    let mut roles = Vec::new();
    claims.names_at(&rules.roles, &mut roles)?;
    let mut scopes = Vec::new();
    for path in &rules.scopes {
        if claims.scopes_at(path, &mut scopes)? {
            break;
        }
    }
    // `exp + leeway <= now` is the expiry test above; for an integer `now` it first holds at
    // the ceiling (a float-to-int `as` saturates, and `exp` is finite and non-negative).
    let expired_at = (exp + leeway).ceil() as u64;
    Ok(Verified {
        principal: Arc::new(Principal {
            subject,
            roles,
            scopes,
            expires_at: exp as u64,
            issued_at: iat.map(|t| t as u64),
            token_id,
            login_id,
            client_id,
            credential,
            claims: payload,
            session_key: None,
            session_data: None,
        }),
        expired_at,
    })
}

#[cfg(test)]
mod tests {
    use super::super::json::name_bit;
    use super::*;

    fn rules() -> Rules {
        Rules {
            issuers: vec!["iss".into()],
            audiences: vec!["aud".into()],
            leeway: 0,
            max_lifetime: 3600,
            ..Rules::default()
        }
    }

    /// What `identity_claims` writes, `check_claims` reads back as the same roles and scopes,
    /// wherever the rules say they live.
    #[test]
    fn identity_claims_are_where_the_rules_read_them() {
        let path = |p: &[&str]| ClaimPath(p.iter().map(|s| (*s).to_owned()).collect());
        let roles = vec!["admin".to_owned(), "staff".to_owned()];
        let scopes = vec!["invoices:read".to_owned(), "invoices:write".to_owned()];
        let layouts = [
            (path(&["roles"]), vec![path(&["scope"]), path(&["scp"])]),
            (path(&["realm_access", "roles"]), vec![path(&["scp"])]),
            (
                path(&["https://example.com/roles"]),
                vec![path(&["ext", "scopes"])],
            ),
        ];
        for (role_path, scope_paths) in layouts {
            let rules = Rules {
                roles: role_path,
                scopes: scope_paths,
                ..rules()
            };
            let mut claims = Map::new();
            claims.insert("exp".into(), 2000.into());
            claims.insert("realm_access".into(), "not an object".into());
            rules.identity_claims(&mut claims, "7", &roles, &scopes);
            let payload = Value::Object(claims).to_string();
            let p = check_claims(payload.clone(), &rules, 1000, CredentialKind::Bearer).unwrap();
            assert_eq!(
                (p.subject.as_str(), &p.roles, &p.scopes),
                ("7", &roles, &scopes),
                "{payload}"
            );
        }
    }

    fn check(json: &str) -> Result<Principal, Invalid> {
        check_claims(json.to_owned(), &rules(), 1000, CredentialKind::Bearer)
    }

    /// A claim name spelled with escapes is the same claim: it is checked, found and counted
    /// for duplicates like the plain spelling (escaped names are kept apart internally).
    #[test]
    fn escaped_claim_names_are_the_same_claims() {
        let expired = r#"{"sub":"7","iss":"iss","aud":"aud","\u0065xp":900}"#;
        assert_eq!(check(expired).unwrap_err(), Invalid::Expired);
        let wrong_issuer = r#"{"sub":"7","\u0069ss":"other","aud":"aud","exp":2000}"#;
        assert_eq!(check(wrong_issuer).unwrap_err(), Invalid::Issuer);
        let twice = r#"{"sub":"7","\u0073ub":"8","iss":"iss","aud":"aud","exp":2000}"#;
        assert_eq!(check(twice).unwrap_err(), Invalid::Malformed);
        let twice = r#"{"\u0073ub":"8","sub":"7","iss":"iss","aud":"aud","exp":2000}"#;
        assert_eq!(check(twice).unwrap_err(), Invalid::Malformed);
        let p = check(
            r#"{"\u0073ub":"7","iss":"iss","aud":"aud","exp":2000,"r\u006fles":["a"],"sc\u006fpe":"x y"}"#,
        )
        .unwrap();
        assert_eq!(
            (p.subject.as_str(), &p.roles[..]),
            ("7", &["a".to_owned()][..])
        );
        assert_eq!(p.scopes, ["x", "y"]);
    }

    /// Past the 16 members kept in place, on the heap: lookups, the registered claims and the
    /// duplicate check still see every member, and names sharing a filter bit are still told
    /// apart.
    #[test]
    fn many_members_and_filter_collisions() {
        let filler: String = (0..20).map(|i| format!(r#""c{i:02}":{i},"#)).collect();
        let base = r#""iss":"iss","aud":"aud","exp":2000"#;
        // `szb` shares `sub`'s filter bit (same length, first and last byte).
        assert_eq!(name_bit("szb"), name_bit("sub"));
        let p = check(&format!(
            r#"{{{filler}"szb":"x","sub":"7","roles":["a"],{base}}}"#
        ))
        .unwrap();
        assert_eq!(
            (p.subject.as_str(), &p.roles[..]),
            ("7", &["a".to_owned()][..])
        );
        let duplicate = format!(r#"{{{filler}"sub":"7","\u0073ub":"8",{base}}}"#);
        assert_eq!(check(&duplicate).unwrap_err(), Invalid::Malformed);
        let duplicate = format!(r#"{{"sub":"7",{filler}"sub":"8",{base}}}"#);
        assert_eq!(check(&duplicate).unwrap_err(), Invalid::Malformed);
        let expired = format!(r#"{{{filler}"sub":"7","iss":"iss","aud":"aud","exp":900}}"#);
        assert_eq!(check(&expired).unwrap_err(), Invalid::Expired);
    }

    #[test]
    fn accepts_well_formed_claims() {
        let p = check(
            r#"{"sub":"7","iss":"iss","aud":["x","aud"],"exp":2000,"roles":["a"],"scope":"r w"}"#,
        )
        .unwrap();
        assert_eq!(p.subject, "7");
        assert_eq!(p.roles, ["a"]);
        assert_eq!(p.scopes, ["r", "w"]);
        assert_eq!(p.expires_at, 2000);
    }

    #[test]
    fn refuses_each_bad_claim() {
        let cases = [
            (
                r#"{"sub":"7","iss":"iss","aud":"aud"}"#,
                Invalid::MissingExp,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":"2000"}"#,
                Invalid::ClaimType,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":true}"#,
                Invalid::ClaimType,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":-5}"#,
                Invalid::ClaimType,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":1000}"#,
                Invalid::Expired,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":99999}"#,
                Invalid::LifetimeTooLong,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":2000,"nbf":1500}"#,
                Invalid::NotYetValid,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":2000,"nbf":"1"}"#,
                Invalid::ClaimType,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":2000,"iat":1500}"#,
                Invalid::NotYetValid,
            ),
            (r#"{"sub":"7","aud":"aud","exp":2000}"#, Invalid::Issuer),
            (
                r#"{"sub":"7","iss":"other","aud":"aud","exp":2000}"#,
                Invalid::Issuer,
            ),
            (r#"{"sub":"7","iss":"iss","exp":2000}"#, Invalid::Audience),
            (
                r#"{"sub":"7","iss":"iss","aud":["x"],"exp":2000}"#,
                Invalid::Audience,
            ),
            (r#"{"iss":"iss","aud":"aud","exp":2000}"#, Invalid::Subject),
            (
                r#"{"sub":"","iss":"iss","aud":"aud","exp":2000}"#,
                Invalid::Subject,
            ),
            (
                r#"{"sub":7,"iss":"iss","aud":"aud","exp":2000}"#,
                Invalid::ClaimType,
            ),
            (
                r#"{"sub":"7","sub":"8","iss":"iss","aud":"aud","exp":2000}"#,
                Invalid::Malformed,
            ),
            (
                r#"{"sub":"7","iss":"iss","aud":"aud","exp":2000,"roles":[1]}"#,
                Invalid::ClaimType,
            ),
            (r#"["sub"]"#, Invalid::Malformed),
        ];
        for (json, want) in cases {
            assert_eq!(check(json).err(), Some(want), "{json}");
        }
    }

    #[test]
    fn nested_role_path() {
        let mut r = rules();
        r.roles = ClaimPath(vec!["realm_access".into(), "roles".into()]);
        let p = check_claims(
            r#"{"sub":"7","iss":"iss","aud":"aud","exp":2000,"realm_access":{"roles":["admin"]}}"#
                .into(),
            &r,
            1000,
            CredentialKind::Bearer,
        )
        .unwrap();
        assert_eq!(p.roles, ["admin"]);
    }
}
