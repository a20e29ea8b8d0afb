//! The settings of one trusted issuer: the audience its tokens must name and where they carry
//! roles, scopes and the client id, when these differ from the Gate's defaults.

use super::provider::Provider;
use crate::error::GateError;
use crate::verify::{ClaimPath, Rules, claim_path};

/// One issuer a Gate accepts tokens from, with the rules of its tokens: what
/// [`GateBuilder::issuer_keys`](crate::GateBuilder::issuer_keys) and, with the feature `oidc`,
/// `GateBuilder::oidc_issuer` and `GateBuilder::jwks` take. A plain string is an issuer with the Gate's rules (its `audience`, `roles_at`,
/// `scopes_at`); every setting here replaces the Gate's for this issuer's tokens only.
///
/// A token's `iss` selects the issuer, and with it the keys and these rules, before its
/// signature is checked: a token claiming one issuer is never judged by another's rules.
///
/// ```
/// use authgate::{Algorithm, Gate, Issuer, Key, Provider};
///
/// # let pem = include_bytes!("../../../tests/keys/rsa_public.pem");
/// let gate = Gate::builder()
///     .audience("invoices-api") // the default for every issuer
///     // A migration: the old provider's tokens carry roles in `realm_access.roles` ...
///     .issuer_keys(
///         Issuer::new("https://sso.example.com/realms/acme").provider(Provider::Keycloak),
///         [Key::from_pem(Algorithm::RS256, pem)?],
///     )
///     // ... the new one's name another audience and must be RFC 9068 access tokens.
///     .issuer_keys(
///         Issuer::new("https://login.example.com")
///             .audience("https://api.example.com/invoices")
///             .roles_claim("https://example.com/claims/roles")
///             .access_tokens_only(),
///         [Key::from_pem(Algorithm::RS256, pem)?.with_kid("new")],
///     )
///     .build()?;
/// # Ok::<(), authgate::GateError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Issuer {
    pub(crate) name: String,
    preset: Option<Provider>,
    audiences: Vec<String>,
    audience_claim: Option<String>,
    roles: Option<ClaimPath>,
    scopes: Vec<ClaimPath>,
    client_ids: Vec<ClaimPath>,
    required: Vec<(String, String)>,
    access_tokens_only: bool,
    pub(crate) errors: Vec<GateError>,
}

impl Issuer {
    /// The issuer whose tokens carry exactly this `iss` (for OpenID Connect Discovery, also
    /// the URL the discovery document is found under).
    pub fn new(issuer: impl Into<String>) -> Issuer {
        Issuer {
            name: issuer.into(),
            preset: None,
            audiences: Vec::new(),
            audience_claim: None,
            roles: None,
            scopes: Vec::new(),
            client_ids: Vec::new(),
            required: Vec::new(),
            access_tokens_only: false,
            errors: Vec::new(),
        }
    }

    /// Where this provider's tokens carry roles, scopes and the client id (see [`Provider`]
    /// for each one's layout). The other settings of this `Issuer` win over the preset's,
    /// whatever their order.
    pub fn provider(mut self, provider: Provider) -> Self {
        self.preset = Some(provider);
        self
    }

    /// Accepts this issuer's tokens for this audience (instead of the Gate's audiences). Call
    /// it again to accept several.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Roles live in this top-level claim (taken whole, so a namespaced claim such as
    /// `https://example.com/claims/roles` works).
    pub fn roles_claim(self, name: impl Into<String>) -> Self {
        self.roles_at([name.into()])
    }

    /// Roles live at this path of nested objects, for example `["realm_access", "roles"]`.
    pub fn roles_at<I: IntoIterator<Item = T>, T: Into<String>>(mut self, path: I) -> Self {
        match claim_path(path) {
            Ok(path) => self.roles = Some(path),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Scopes live in this top-level claim, as a space-delimited string or an array. Call
    /// again to add more places; the first one present in a token wins.
    pub fn scopes_claim(self, name: impl Into<String>) -> Self {
        self.scopes_at([name.into()])
    }

    /// Scopes live at this path of nested objects (see [`scopes_claim`](Self::scopes_claim)).
    pub fn scopes_at<I: IntoIterator<Item = T>, T: Into<String>>(mut self, path: I) -> Self {
        match claim_path(path) {
            Ok(path) => self.scopes.push(path),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// The OAuth client the token was issued to lives in this top-level claim (default:
    /// `client_id`, as RFC 9068 names it), read by
    /// [`CurrentUser::client_id`](crate::CurrentUser::client_id). Call again to add more
    /// places; the first one present wins.
    pub fn client_id_claim(mut self, name: impl Into<String>) -> Self {
        match claim_path([name.into()]) {
            Ok(path) => self.client_ids.push(path),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// The audience is checked against this claim instead of `aud`, for providers whose
    /// access tokens have no `aud` and name the app client instead (Amazon Cognito's
    /// `client_id`, which [`Provider::Cognito`] sets).
    pub fn audience_claim(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        match name.is_empty() {
            true => self.errors.push(GateError::EmptyClaimPath),
            false => self.audience_claim = Some(name),
        }
        self
    }

    /// Tokens must carry the claim `name` with exactly the string `value` (for example
    /// Cognito's `token_use: access`, which keeps its ID tokens out); otherwise 401.
    pub fn require_claim(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        match name.is_empty() {
            true => self.errors.push(GateError::EmptyClaimPath),
            false => self.required.push((name, value.into())),
        }
        self
    }

    /// Accepts only JWT access tokens as RFC 9068 types them (`typ: at+jwt`, or
    /// `application/at+jwt`): an ID token or any other JWT of this issuer is refused (401),
    /// though signed with the same keys. Without it such access tokens are accepted like any
    /// other JWT.
    pub fn access_tokens_only(mut self) -> Self {
        self.access_tokens_only = true;
        self
    }

    /// The rules of this issuer's tokens: the Gate's `defaults`, with what this issuer
    /// replaces, then the preset's, and `iss` required to be exactly this issuer.
    pub(crate) fn rules(&self, defaults: &Rules) -> Rules {
        let preset = self.preset.map(Provider::layout).unwrap_or_default();
        let mut rules = defaults.clone();
        rules.issuers = vec![self.name.clone()];
        if !self.audiences.is_empty() {
            rules.audiences = self.audiences.clone();
        }
        if let Some(name) = self.audience_claim.clone().or(preset.audience_claim) {
            rules.audience_claim = Some(name);
        }
        if let Some(roles) = self.roles.clone().or(preset.roles) {
            rules.roles = roles;
        }
        if !self.scopes.is_empty() {
            rules.scopes = self.scopes.clone();
        } else if !preset.scopes.is_empty() {
            rules.scopes = preset.scopes;
        }
        if !self.client_ids.is_empty() {
            rules.client_ids = self.client_ids.clone();
        } else if !preset.client_ids.is_empty() {
            rules.client_ids = preset.client_ids;
        }
        rules.required.extend(preset.required);
        rules.required.extend(self.required.iter().cloned());
        rules.access_tokens_only |= self.access_tokens_only;
        rules
    }
}

impl From<&str> for Issuer {
    fn from(issuer: &str) -> Issuer {
        Issuer::new(issuer)
    }
}

impl From<String> for Issuer {
    fn from(issuer: String) -> Issuer {
        Issuer::new(issuer)
    }
}

impl From<&String> for Issuer {
    fn from(issuer: &String) -> Issuer {
        Issuer::new(issuer.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &[&str]) -> ClaimPath {
        ClaimPath(p.iter().map(|s| (*s).to_owned()).collect())
    }

    /// An issuer's rules: the Gate's where it says nothing, the preset's over the Gate's, its
    /// own over the preset's whatever the order of the calls; `iss` always its own name.
    #[test]
    fn own_settings_win_over_the_preset_which_wins_over_the_gate() {
        let gate = Rules {
            audiences: vec!["gate-aud".into()],
            issuers: vec!["https://other".into()],
            ..Rules::default()
        };
        let plain = Issuer::from("https://a").rules(&gate);
        assert_eq!(plain.issuers, ["https://a"]);
        assert_eq!(plain.audiences, ["gate-aud"]);
        assert_eq!(plain.roles, gate.roles);
        assert_eq!(plain.scopes, gate.scopes);
        assert!(!plain.access_tokens_only);

        let keycloak = Issuer::new("https://kc").provider(Provider::Keycloak);
        let rules = keycloak.rules(&gate);
        assert_eq!(rules.roles, path(&["realm_access", "roles"]));
        assert_eq!(rules.scopes, gate.scopes);
        assert_eq!(rules.client_ids, [path(&["client_id"]), path(&["azp"])]);

        let before = Issuer::new("https://kc")
            .roles_claim("groups")
            .scopes_claim("perms")
            .audience("own")
            .provider(Provider::Cognito);
        let after = Issuer::new("https://kc")
            .provider(Provider::Cognito)
            .roles_claim("groups")
            .scopes_claim("perms")
            .audience("own");
        for issuer in [before, after] {
            let rules = issuer.rules(&gate);
            assert_eq!(rules.roles, path(&["groups"]));
            assert_eq!(rules.scopes, [path(&["perms"])]);
            assert_eq!(rules.audiences, ["own"]);
            assert_eq!(rules.audience_claim.as_deref(), Some("client_id"));
            assert_eq!(rules.required, [("token_use".into(), "access".into())]);
        }
        let strict = Issuer::new("https://s").access_tokens_only().rules(&gate);
        assert!(strict.access_tokens_only);
    }
}
