//! Minting: credentials the app's own Gate accepts, for made-up users.

use std::time::Duration;

use http::HeaderValue;

use super::client::bearer_value;
use crate::error::{ConfigError, ConfigProblem};
use crate::gate::Gate;
use crate::identity::Identity;
use crate::keys::{Algorithm, Family, SigningKey};
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
/// use authgate::Gate;
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
///     .issuer("https://sso.example.com/realms/acme");
/// let token = minter.user("alice").roles(["admin"]).client_id("invoices-cli").token();
/// // The roles went where Keycloak puts them: `realm_access.roles`.
/// # Ok::<(), authgate::ConfigError>(())
/// ```
pub struct Minter {
    gate: Gate,
    key: SigningKey,
    /// The issuer the tokens claim, when not the Gate's signing one (or its first).
    issuer: Option<String>,
}

impl Minter {
    /// A minter for a Gate that issues tokens (an issuer with a secret or a signing key);
    /// a [`ConfigError`] for a Gate that cannot (use [`with_key`](Self::with_key) then).
    pub fn new(gate: &Gate) -> Result<Minter, ConfigError> {
        let Some(signer) = gate.signer() else {
            return Err(ConfigProblem::Missing {
                setting: "an issuer with a signing key, or a key given to Minter::with_key",
                needed_by: "Minter::new",
            }
            .into());
        };
        Ok(Minter {
            gate: gate.clone(),
            key: signer.key.clone(),
            issuer: None,
        })
    }

    /// A minter signing with `key` (the private half of one of the Gate's public keys).
    pub fn with_key(gate: &Gate, key: SigningKey) -> Minter {
        Minter {
            gate: gate.clone(),
            key,
            issuer: None,
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

    /// A made-up user: subject `subject`, no roles, no scopes, a 10-minute credential.
    pub fn user(&self, subject: impl Into<String>) -> TestUser<'_> {
        TestUser {
            minter: self,
            user: Identity::new(subject),
            lifetime: Duration::from_secs(600),
            client_id: None,
        }
    }
}

/// A made-up user, ready to become a bearer token or a session cookie. Who the user is lives
/// in an [`Identity`], the same value a login handler gives `Gate::login`.
#[derive(Clone)]
pub struct TestUser<'a> {
    minter: &'a Minter,
    user: Identity,
    lifetime: Duration,
    client_id: Option<String>,
}

impl TestUser<'_> {
    /// The user's roles.
    pub fn roles<I: IntoIterator<Item = T>, T: Into<String>>(mut self, roles: I) -> Self {
        self.user = self.user.roles(roles);
        self
    }

    /// The user's scopes.
    pub fn scopes<I: IntoIterator<Item = T>, T: Into<String>>(mut self, scopes: I) -> Self {
        self.user = self.user.scopes(scopes);
        self
    }

    /// How long the credential lives (default 10 minutes).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The OAuth client the token is issued to, put where the issuer's rules read it
    /// (`client_id` by default): what `CurrentUser::client_id` returns.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// An extra claim.
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.user = self.user.claim(name, value);
        self
    }

    /// A token issued at `now`, living `lifetime` seconds, signed with `key`: what
    /// [`Gate::issue`] signs, claiming the minter's issuer and following its rules (audience,
    /// where roles, scopes and the client id go). Signing with a key the caller gave cannot
    /// fail for well-formed claims; a test with a broken key should fail loudly.
    fn sign(&self, key: &SigningKey, now: u64, lifetime: u64) -> String {
        let rules = self.minter.rules();
        let iat = self.minter.gate.login_iat(&self.user.subject, now);
        let shape = |claims: &mut serde_json::Map<String, serde_json::Value>| {
            if let Some(issuer) = &self.minter.issuer {
                claims.insert("iss".into(), issuer.as_str().into());
            }
            if let Some(client_id) = &self.client_id {
                rules.client_id_claim(claims, client_id);
            }
        };
        let times = (iat, now.saturating_add(lifetime), now);
        crate::tokens::sign(key, &rules, &self.user, times, shape)
            .unwrap_or_else(|e| panic!("minting failed: {e}"))
            .access_token()
            .to_owned()
    }

    /// A valid token.
    pub fn token(&self) -> String {
        let now = self.minter.gate.now_secs();
        self.sign(&self.minter.key, now, self.lifetime.as_secs())
    }

    /// `Bearer <token>`, for the `Authorization` header.
    pub fn bearer(&self) -> HeaderValue {
        bearer_value(&self.token())
    }

    /// A token that expired an hour ago (well past any leeway).
    pub fn expired(&self) -> String {
        let now = self.minter.gate.now_secs();
        self.sign(&self.minter.key, now.saturating_sub(7200), 3600)
    }

    /// A token signed with another secret: the signature does not verify.
    pub fn wrongly_signed(&self) -> String {
        let now = self.minter.gate.now_secs();
        // The minter's algorithm where it is an HMAC one (then the kid finds the Gate's key
        // and only the signature is wrong), HS256 otherwise.
        let algorithm = match self.minter.key.algorithm {
            alg if alg.family() == Family::Hmac => alg,
            _ => Algorithm::HS256,
        };
        let mut key = SigningKey::hmac(algorithm, [0x5a; 64]).expect("a 64-byte HMAC secret");
        key.kid = self.minter.key.kid.clone();
        self.sign(&key, now, self.lifetime.as_secs())
    }

    /// A session cookie (`name=value`, for the `Cookie` header), through the Gate's own login.
    pub async fn cookie(&self) -> Result<String, Rejection> {
        let set = self.minter.gate.login_unchecked(self.user.clone()).await?;
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
        gate.authenticate_shared(&parts).await.unwrap().unwrap()
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
            let token = minter
                .user("alice")
                .roles(["admin", "staff"])
                .scopes(["invoices:read", "invoices:write"])
                .token();
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
