//! [`Issuer`]: one trusted issuer of tokens, with its keys and the rules of its tokens.

use super::provider::Provider;
use crate::error::ConfigProblem;
use crate::keys::{Algorithm, Key, SigningKey};
use crate::verify::{ClaimPath, Rules};

/// One issuer a Gate accepts tokens from: its name (the tokens' `iss`), its keys, and where
/// its tokens carry the audience, roles, scopes and client id. Give each to
/// [`GateBuilder::issuer`](crate::GateBuilder::issuer).
///
/// A token's `iss` selects the issuer, and with it the keys and these rules, before its
/// signature is checked: a token claiming one issuer is never verified with another's keys or
/// judged by another's rules.
///
/// Keys come from three places, which may be combined (an issuer trusts all of its keys):
///
/// - given here: [`key`](Self::key) (a public key or an HMAC secret that verifies),
///   [`secret`](Self::secret) (an HS256 secret that verifies and signs),
///   [`signing_key`](Self::signing_key) (a private key that signs the Gate's own tokens; its
///   public half verifies them);
/// - fetched from the issuer, with the feature `oidc`: [`Issuer::discover`] (OpenID Connect
///   Discovery) or [`Issuer::jwks`] (a JWKS URL), refreshed in the background.
///
/// ```
/// use authgate::Gate;
/// use authgate::issuers::{Issuer, Provider};
/// use authgate::keys::{Algorithm, Key};
///
/// # let pem = include_bytes!("../../../tests/keys/rsa_public.pem");
/// let gate = Gate::builder()
///     // The app's own tokens: HS256, signed and verified with one secret.
///     .issuer(Issuer::new("https://notes.example.com").secret("an HMAC secret of at least 32 bytes!!"))
///     // A migration: the old provider's tokens carry roles in `realm_access.roles` ...
///     .issuer(
///         Issuer::new("https://sso.example.com/realms/acme")
///             .key(Key::from_pem(Algorithm::RS256, pem)?)
///             .provider(Provider::Keycloak)
///             .audience("invoices-api"),
///     )
///     // ... the new one's name another audience and must be RFC 9068 access tokens.
///     .issuer(
///         Issuer::new("https://login.example.com")
///             .key(Key::from_pem(Algorithm::RS256, pem)?.with_kid("new"))
///             .audience("https://api.example.com/invoices")
///             .roles_claim("https://example.com/claims/roles")
///             .access_tokens_only(),
///     )
///     .build()?;
/// # Ok::<(), authgate::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Issuer {
    pub(crate) name: String,
    pub(crate) keys: Vec<Key>,
    pub(crate) signing: Option<SigningKey>,
    pub(crate) fetch: Fetch,
    preset: Option<Provider>,
    audiences: Vec<String>,
    audience_claim: Option<String>,
    roles: Option<ClaimPath>,
    scopes: Vec<ClaimPath>,
    client_ids: Vec<ClaimPath>,
    required: Vec<(String, String)>,
    access_tokens_only: bool,
    pub(crate) problems: Vec<ConfigProblem>,
    /// Whether a problem of its settings was reported (its keys may be missing because of it).
    pub(crate) reported: bool,
}

/// Where an issuer's keys are fetched from, besides those given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fetch {
    /// Only the keys given.
    None,
    /// A JWKS URL.
    #[cfg(feature = "oidc")]
    Jwks(String),
    /// The `jwks_uri` of the issuer's discovery document.
    #[cfg(feature = "oidc")]
    Discovery,
}

impl Issuer {
    /// The issuer whose tokens carry exactly this `iss`, with the keys given to it. For the
    /// app's own tokens, any name that identifies the app (`https://notes.example.com`): the
    /// tokens the Gate issues carry it.
    pub fn new(name: impl Into<String>) -> Issuer {
        Issuer {
            name: name.into(),
            keys: Vec::new(),
            signing: None,
            fetch: Fetch::None,
            preset: None,
            audiences: Vec::new(),
            audience_claim: None,
            roles: None,
            scopes: Vec::new(),
            client_ids: Vec::new(),
            required: Vec::new(),
            access_tokens_only: false,
            problems: Vec::new(),
            reported: false,
        }
    }

    /// The OpenID Provider `issuer` (feature `oidc`): its keys are found by OpenID Connect
    /// Discovery (`{issuer}/.well-known/openid-configuration`, whose `issuer` must equal this
    /// name exactly), then fetched and refreshed as
    /// [`GateBuilder::key_refresh`](crate::GateBuilder::key_refresh) says.
    ///
    /// The URL must be HTTPS (plain HTTP only for loopback addresses). The Gate is built and
    /// the server can start while the provider is down: this issuer's tokens answer 503 until
    /// its keys are fetched ([`Gate::ready`](crate::Gate::ready) waits for them).
    ///
    /// ```
    /// use authgate::Gate;
    /// use authgate::issuers::{Issuer, Provider};
    ///
    /// let gate = Gate::builder()
    ///     .issuer(Issuer::discover("https://login.example.com/realms/acme").audience("invoices-api"))
    ///     .issuer(
    ///         Issuer::discover("https://login.microsoftonline.com/5f1c2b3a-0000-4000-8000-000000000000/v2.0")
    ///             .provider(Provider::Entra)
    ///             .audience("api://invoices"),
    ///     )
    ///     .build()?;
    /// # Ok::<(), authgate::ConfigError>(())
    /// ```
    #[cfg(feature = "oidc")]
    pub fn discover(name: impl Into<String>) -> Issuer {
        Issuer {
            fetch: Fetch::Discovery,
            ..Issuer::new(name)
        }
    }

    /// The issuer `name`, whose keys are published at `jwks_url` (a JSON Web Key Set; feature
    /// `oidc`), fetched and refreshed as with [`discover`](Self::discover).
    ///
    /// ```
    /// use authgate::Gate;
    /// use authgate::issuers::Issuer;
    ///
    /// let gate = Gate::builder()
    ///     .issuer(Issuer::jwks("https://login.example.com/", "https://login.example.com/keys").audience("invoices-api"))
    ///     .build()?;
    /// # Ok::<(), authgate::ConfigError>(())
    /// ```
    #[cfg(feature = "oidc")]
    pub fn jwks(name: impl Into<String>, jwks_url: impl Into<String>) -> Issuer {
        Issuer {
            fetch: Fetch::Jwks(jwks_url.into()),
            ..Issuer::new(name)
        }
    }

    /// Verifies this issuer's tokens with `key` too. Call it once per key (give each a `kid`
    /// for rotation).
    pub fn key(mut self, key: Key) -> Self {
        self.keys.push(key);
        self
    }

    /// An HS256 secret (at least 32 random bytes) that verifies this issuer's tokens and
    /// signs the tokens the Gate issues as this issuer.
    ///
    /// The same as [`signing_key`](Self::signing_key) with `SigningKey::hmac(Algorithm::HS256,
    /// secret)`: the secret verifies what it signs.
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        match SigningKey::hmac(Algorithm::HS256, secret) {
            Ok(signing) => self.signing = Some(signing),
            Err(e) => self.problems.extend(e.into_problems()),
        }
        self
    }

    /// Signs the tokens the Gate issues ([`Gate::issue`](crate::Gate::issue)) as this issuer
    /// with `key`, and verifies them with its public half, which authgate derives (unless a
    /// key of the same `kid` is given, which must then be that public half: `build` checks
    /// it). One issuer of a Gate signs.
    ///
    /// ```
    /// use authgate::{Gate, Identity};
    /// use authgate::issuers::Issuer;
    /// use authgate::keys::{Algorithm, SigningKey};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let pem = include_bytes!("../../../tests/keys/ed25519_private.pem");
    /// let key = SigningKey::from_pem(Algorithm::EdDSA, pem)?.with_kid("2026-12");
    /// let gate = Gate::builder()
    ///     .issuer(Issuer::new("https://notes.example.com").signing_key(key).audience("notes-api"))
    ///     .build()?;
    /// let tokens = gate.issue(&Identity::new("42")).await?;
    /// # Ok(()) }
    /// ```
    pub fn signing_key(mut self, key: SigningKey) -> Self {
        self.signing = Some(key);
        self
    }

    /// Where this provider's tokens carry roles, scopes and the client id (see [`Provider`]
    /// for each one's layout). The other settings of this `Issuer` win over the preset's,
    /// whatever their order.
    pub fn provider(mut self, provider: Provider) -> Self {
        self.preset = Some(provider);
        self
    }

    /// Accepts this issuer's tokens for this audience: when any is given, `aud` is required
    /// and must name one of them. Call it again to accept several.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Roles live in this claim (default `roles`): a top-level claim name, taken whole (so a
    /// namespaced claim such as `https://example.com/claims/roles` works), or a JSON Pointer
    /// (RFC 6901) into nested objects, such as `/realm_access/roles`.
    pub fn roles_claim(mut self, claim: impl Into<String>) -> Self {
        if let Some(path) = self.path(claim.into()) {
            self.roles = Some(path);
        }
        self
    }

    /// Scopes live in this claim, as a space-delimited string or an array (a name or a JSON
    /// Pointer, as for [`roles_claim`](Self::roles_claim); default: `scope`, then `scp`).
    /// Replaces the defaults; call it again to add more places: the first one present in a
    /// token wins.
    pub fn scopes_claim(mut self, claim: impl Into<String>) -> Self {
        if let Some(path) = self.path(claim.into()) {
            self.scopes.push(path);
        }
        self
    }

    /// The OAuth client the token was issued to lives in this claim (a name or a JSON
    /// Pointer; default: `client_id`, as RFC 9068 names it), read by
    /// [`CurrentUser::client_id`](crate::CurrentUser::client_id). Call it again to add more
    /// places; the first one present wins.
    pub fn client_id_claim(mut self, claim: impl Into<String>) -> Self {
        if let Some(path) = self.path(claim.into()) {
            self.client_ids.push(path);
        }
        self
    }

    /// The audience is checked against this top-level claim instead of `aud`, for providers
    /// whose access tokens have no `aud` and name the app client instead (Amazon Cognito's
    /// `client_id`, which [`Provider::Cognito`] sets).
    pub fn audience_claim(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        match name.is_empty() {
            true => self.problems.push(ConfigProblem::InvalidClaim { name }),
            false => self.audience_claim = Some(name),
        }
        self
    }

    /// Tokens must carry the top-level claim `name` with exactly the string `value` (for
    /// example Cognito's `token_use: access`, which keeps its ID tokens out); otherwise 401.
    pub fn require_claim(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        match name.is_empty() {
            true => self.problems.push(ConfigProblem::InvalidClaim { name }),
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

    /// A claim place, or `None` with the problem recorded.
    fn path(&mut self, claim: String) -> Option<ClaimPath> {
        let path = ClaimPath::parse(&claim);
        if path.is_none() {
            self.problems
                .push(ConfigProblem::InvalidClaim { name: claim });
        }
        path
    }

    /// The rules of this issuer's tokens: the Gate's `limits` (leeway, lifetime, size), the
    /// preset's places, and this issuer's own over them; `iss` required to be exactly its
    /// name.
    pub(crate) fn rules(&self, limits: &Rules) -> Rules {
        let preset = self.preset.map(Provider::layout).unwrap_or_default();
        let mut rules = Rules {
            leeway: limits.leeway,
            max_lifetime: limits.max_lifetime,
            max_token_bytes: limits.max_token_bytes,
            ..Rules::default()
        };
        rules.issuers = vec![self.name.clone()];
        rules.audiences = self.audiences.clone();
        rules.audience_claim = self.audience_claim.clone().or(preset.audience_claim);
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
        rules.access_tokens_only = self.access_tokens_only;
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &[&str]) -> ClaimPath {
        ClaimPath(p.iter().map(|s| (*s).to_owned()).collect())
    }

    /// An issuer's rules: the defaults where it says nothing, the preset's over the
    /// defaults, its own over the preset's whatever the order of the calls; `iss` always its
    /// own name; the Gate's limits.
    #[test]
    fn own_settings_win_over_the_preset_which_wins_over_the_defaults() {
        let limits = Rules {
            leeway: 7,
            max_lifetime: 99,
            ..Rules::default()
        };
        let defaults = Rules::default();
        let plain = Issuer::new("https://a").rules(&limits);
        assert_eq!(plain.issuers, ["https://a"]);
        assert!(plain.audiences.is_empty());
        assert_eq!((plain.leeway, plain.max_lifetime), (7, 99));
        assert_eq!(plain.roles, defaults.roles);
        assert_eq!(plain.scopes, defaults.scopes);
        assert!(!plain.access_tokens_only);

        let keycloak = Issuer::new("https://kc").provider(Provider::Keycloak);
        let rules = keycloak.rules(&limits);
        assert_eq!(rules.roles, path(&["realm_access", "roles"]));
        assert_eq!(rules.scopes, defaults.scopes);
        assert_eq!(rules.client_ids, [path(&["client_id"]), path(&["azp"])]);

        let before = Issuer::new("https://kc")
            .roles_claim("groups")
            .scopes_claim("/ext/perms")
            .audience("own")
            .provider(Provider::Cognito);
        let after = Issuer::new("https://kc")
            .provider(Provider::Cognito)
            .roles_claim("groups")
            .scopes_claim("/ext/perms")
            .audience("own");
        for issuer in [before, after] {
            let rules = issuer.rules(&limits);
            assert_eq!(rules.roles, path(&["groups"]));
            assert_eq!(rules.scopes, [path(&["ext", "perms"])]);
            assert_eq!(rules.audiences, ["own"]);
            assert_eq!(rules.audience_claim.as_deref(), Some("client_id"));
            assert_eq!(rules.required, [("token_use".into(), "access".into())]);
        }
        let strict = Issuer::new("https://s").access_tokens_only().rules(&limits);
        assert!(strict.access_tokens_only);
    }

    /// A claim that names nothing, and a short secret, are problems the builder reports.
    #[test]
    fn bad_settings_are_recorded_for_build() {
        let issuer = Issuer::new("https://a")
            .roles_claim("")
            .scopes_claim("/")
            .client_id_claim("/a//b")
            .audience_claim("")
            .secret("short");
        assert!(matches!(
            &issuer.problems[..],
            [
                ConfigProblem::InvalidClaim { .. },
                ConfigProblem::InvalidClaim { .. },
                ConfigProblem::InvalidClaim { .. },
                ConfigProblem::InvalidClaim { .. },
                ConfigProblem::WeakSecret { len: 5, .. },
            ]
        ));
    }
}
