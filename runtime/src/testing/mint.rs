//! Minting: credentials the app's own Gate accepts, for made-up users.

use std::time::Duration;

use crate::algorithm::Family;
use crate::error::{ConfigError, ConfigProblem};
use crate::gate::Gate;
use crate::identity::Identity;
use crate::keys::{Algorithm, SigningKey};
use crate::reject::Rejection;
use crate::verify::Rules;

/// Mints credentials the app's own Gate accepts, for made-up users: a thin layer over
/// [`Gate::issue`] (the same claims, `typ` and key) that also makes the tokens a test needs to
/// be refused (expired, wrongly signed).
///
/// For a Gate that accepts an identity provider's tokens, give it the private key of one
/// issuer and pick that issuer: the tokens then claim it and follow its rules (audience,
/// where roles, scopes and the client id go, `typ: at+jwt` when it accepts access tokens
/// only). So an app configured for an identity provider is tested without one:
///
/// ```
/// use authgate::{Gate, Identity};
/// use authgate::issuers::{Issuer, Provider};
/// use authgate::keys::{Algorithm, Key, SigningKey};
/// use authgate::testing::Minter;
///
/// # let public = include_bytes!("../../../tests/keys/rsa_public.pem");
/// # let private = include_bytes!("../../../tests/keys/rsa_private.pem");
/// // In production: `Issuer::discover(url)`; in the test, its public key given directly.
/// let gate = Gate::builder()
///     .issuer(
///         Issuer::new("https://sso.example.com/realms/acme")
///             .key(Key::from_pem(Algorithm::RS256, public)?.with_kid("k1"))
///             .provider(Provider::Keycloak)
///             .audience("invoices-api"),
///     )
///     .build()?;
/// let minter = Minter::with_key(&gate, SigningKey::from_pem(Algorithm::RS256, private)?.with_kid("k1"))
///     .issuer("https://sso.example.com/realms/acme")
///     .client_id("invoices-cli");
/// let token = minter.token(&Identity::new("alice").roles(["admin"]));
/// // The roles went where Keycloak puts them: `realm_access.roles`.
/// # Ok::<(), authgate::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Minter {
    gate: Gate,
    /// What bearer tokens are signed with; `None` for a Gate that only has sessions.
    key: Option<SigningKey>,
    /// The issuer the tokens claim, when not the Gate's signing one (or its first).
    issuer: Option<String>,
    lifetime: Duration,
    client_id: Option<String>,
}

impl Minter {
    /// A minter for a Gate that issues tokens (an issuer with a secret or a signing key), or
    /// that has sessions only (then it makes cookies, and no bearer tokens: such a Gate
    /// accepts none). A [`ConfigError`] for a Gate with neither: give the private half of
    /// an issuer's key to [`with_key`](Self::with_key) then.
    pub fn new(gate: &Gate) -> Result<Minter, ConfigError> {
        if let Some(signer) = gate.signer() {
            return Ok(Minter::with_key(gate, signer.key.clone()));
        }
        if gate.has_sessions() {
            return Ok(Minter::build(gate, None));
        }
        Err(ConfigProblem::Missing {
            setting: "an issuer with a signing key, sessions, or a key given to Minter::with_key",
            needed_by: "Minter::new",
        }
        .into())
    }

    /// A minter signing with `key` (the private half of one of the Gate's public keys).
    pub fn with_key(gate: &Gate, key: SigningKey) -> Minter {
        Minter::build(gate, Some(key))
    }

    fn build(gate: &Gate, key: Option<SigningKey>) -> Minter {
        Minter {
            gate: gate.clone(),
            key,
            issuer: None,
            lifetime: Duration::from_secs(600),
            client_id: None,
        }
    }

    /// The tokens claim this issuer (`iss`) and follow its rules. Without it: the Gate's
    /// signing issuer, else its first. An issuer the Gate does not know is claimed all the
    /// same, with the default rules: such tokens are refused, as they would be from a real
    /// provider.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The rules the tokens follow: the chosen issuer's, or the signing issuer's, or the
    /// first issuer's, or the defaults.
    fn rules(&self) -> Rules {
        let issuers = self.gate.issuers();
        let found = match &self.issuer {
            Some(name) => issuers.find(name).map(|entry| entry.rules().clone()),
            None => self
                .gate
                .signer()
                .map(|signer| signer.rules.clone())
                .or_else(|| issuers.iter().next().map(|entry| entry.rules().clone())),
        };
        found.unwrap_or_default()
    }

    /// How long the tokens live (default 10 minutes).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The OAuth client the tokens are issued to, put where the issuer's rules read it
    /// (`client_id` by default): what `CurrentUser::client_id` returns.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// A token issued at `now`, living `lifetime` seconds, signed with `key`: what
    /// [`Gate::issue`] signs, claiming the minter's issuer and following its rules (audience,
    /// where roles, scopes and the client id go). Signing with a key the caller gave cannot
    /// fail for well-formed claims; a test with a broken key should fail loudly.
    fn sign(&self, key: &SigningKey, user: &Identity, now: u64, lifetime: u64) -> String {
        let rules = self.rules();
        let iat = self.gate.login_iat(&user.subject, now);
        let shape = |claims: &mut serde_json::Map<String, serde_json::Value>| {
            if let Some(issuer) = &self.issuer {
                claims.insert("iss".into(), issuer.as_str().into());
            }
            if let Some(client_id) = &self.client_id {
                rules.client_id_claim(claims, client_id);
            }
        };
        let times = (iat, now.saturating_add(lifetime), now);
        crate::tokens::sign(key, &rules, user, times, shape)
            .unwrap_or_else(|e| panic!("minting failed: {e}"))
            .access_token()
            .to_owned()
    }

    /// Whether the Gate takes session cookies, whose state changes the probes send from
    /// another site.
    pub(super) fn has_sessions(&self) -> bool {
        self.gate.has_sessions()
    }

    /// Whether the minter makes bearer tokens: `false` for a Gate with sessions only.
    pub fn signs_tokens(&self) -> bool {
        self.key.is_some()
    }

    /// The signing key; a test that asks a sessions-only Gate's minter for a bearer token
    /// is wrong, and fails saying so.
    #[track_caller]
    fn key(&self) -> &SigningKey {
        self.key.as_ref().unwrap_or_else(|| {
            panic!(
                "this Gate has sessions and no issuer that signs, so it accepts no bearer \
                 token to mint: use Minter::cookie, or Minter::with_key for an issuer's key"
            )
        })
    }

    /// A valid bearer token for `user`, issued now by the Gate's clock.
    ///
    /// # Panics
    ///
    /// For a minter without a key (a Gate with sessions only, see [`new`](Self::new)).
    #[track_caller]
    pub fn token(&self, user: &Identity) -> String {
        let now = self.gate.now_secs();
        self.sign(self.key(), user, now, self.lifetime.as_secs())
    }

    /// A token for `user` that expired an hour ago (well past any leeway).
    ///
    /// # Panics
    ///
    /// For a minter without a key (a Gate with sessions only, see [`new`](Self::new)).
    #[track_caller]
    pub fn expired(&self, user: &Identity) -> String {
        let now = self.gate.now_secs();
        self.sign(self.key(), user, now.saturating_sub(7200), 3600)
    }

    /// A token for `user` signed with another secret: the signature does not verify.
    pub fn wrongly_signed(&self, user: &Identity) -> String {
        let now = self.gate.now_secs();
        // The minter's algorithm where it is an HMAC one (then the kid finds the Gate's key
        // and only the signature is wrong), HS256 otherwise.
        let algorithm = match &self.key {
            Some(own) if own.algorithm.family() == Family::Hmac => own.algorithm,
            _ => Algorithm::HS256,
        };
        let mut key = SigningKey::hmac(algorithm, [0x5a; 64]).expect("a 64-byte HMAC secret");
        key.kid = self.key.as_ref().and_then(|own| own.kid.clone());
        self.sign(&key, user, now, self.lifetime.as_secs())
    }

    /// A session cookie for `user` (`name=value`, for the `Cookie` header), through the
    /// Gate's own login.
    pub async fn cookie(&self, user: &Identity) -> Result<String, Rejection> {
        let set = self.gate.login_unchecked(user.clone()).await?;
        let text = set
            .header_value()
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        Ok(text.split(';').next().unwrap_or_default().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::Principal;

    async fn verified(gate: &Gate, token: &str) -> std::sync::Arc<Principal> {
        let (parts, ()) = http::Request::builder()
            .header("authorization", format!("Bearer {token}"))
            .body(())
            .unwrap()
            .into_parts();
        gate.authenticate_shared(&parts, crate::credentials::Kinds::ALL)
            .await
            .unwrap()
            .unwrap()
    }

    /// Minted roles and scopes land where the Gate reads them, whatever its claim settings:
    /// the Gate sees exactly the roles and scopes the test asked for.
    #[tokio::test]
    async fn minted_roles_and_scopes_are_where_the_gate_reads_them() {
        let secret = "an HMAC secret of at least 32 bytes!!";
        let issuer = || crate::issuers::Issuer::new("https://issuer.test").secret(secret);
        let gates = [
            Gate::builder().issuer(issuer()).build().unwrap(),
            Gate::builder()
                .issuer(
                    issuer()
                        .audience("api")
                        .roles_claim("/realm_access/roles")
                        .scopes_claim("scp"),
                )
                .build()
                .unwrap(),
            Gate::builder()
                .issuer(
                    issuer()
                        .roles_claim("https://example.com/roles")
                        .scopes_claim("/ext/permissions"),
                )
                .build()
                .unwrap(),
        ];
        for gate in gates {
            let minter = Minter::new(&gate).unwrap();
            let token = minter.token(
                &Identity::new("alice")
                    .roles(["admin", "staff"])
                    .scopes(["invoices:read", "invoices:write"]),
            );
            let principal = verified(&gate, &token).await;
            assert_eq!(principal.subject, "alice");
            assert_eq!(principal.roles, ["admin", "staff"], "{gate:?}");
            assert_eq!(
                principal.scopes,
                ["invoices:read", "invoices:write"],
                "{gate:?}"
            );
        }
    }
}
