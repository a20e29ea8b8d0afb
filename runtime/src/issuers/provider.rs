//! Presets for the access-token layouts of identity providers whose tokens carry roles,
//! scopes or the client id somewhere other than the Gate's defaults.

use crate::verify::ClaimPath;

/// An identity provider whose access tokens differ from the defaults (roles in `roles`,
/// scopes in `scope` or else `scp`, the client in `client_id`, the audience in `aud`), for
/// [`Issuer::provider`](super::Issuer::provider). Providers whose tokens already fit the
/// defaults, or whose layout is the app's choice (Auth0's namespaced claims), have no preset:
/// the [identity providers guide](crate::guide::identity_providers) shows their settings.
///
/// ```
/// use authgate::Gate;
/// use authgate::issuers::{Issuer, Provider};
///
/// # #[cfg(feature = "oidc")] {
/// let gate = Gate::builder()
///     .issuer(
///         Issuer::discover("https://sso.example.com/realms/acme")
///             .provider(Provider::Keycloak)
///             .audience("invoices-api"),
///     )
///     .build()?;
/// # }
/// # Ok::<(), authgate::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Provider {
    /// Keycloak: realm roles at `realm_access.roles`; the client in `client_id` (client
    /// credentials tokens) or else `azp`.
    Keycloak,
    /// Microsoft Entra ID (v2.0 tokens): delegated scopes in `scp` (a space-delimited
    /// string), app roles in `roles`; the client in `azp`, or `appid` (v1.0 tokens).
    Entra,
    /// Okta (custom authorization servers): scopes in `scp` (an array), groups in `groups`
    /// (when a groups claim is configured); the client in `cid`.
    Okta,
    /// Amazon Cognito user pools: groups at `cognito:groups`; access tokens have no `aud`, so
    /// the audience (the app client id) is checked against `client_id`, and `token_use`
    /// must be `access` (its ID tokens are refused).
    Cognito,
    /// Authgear: roles at `https://authgear.com/claims/user/roles`.
    Authgear,
}

/// What a preset sets: each `None` or empty field leaves the Gate's default.
#[derive(Default)]
pub(crate) struct Layout {
    pub(crate) roles: Option<ClaimPath>,
    pub(crate) scopes: Vec<ClaimPath>,
    pub(crate) client_ids: Vec<ClaimPath>,
    pub(crate) audience_claim: Option<String>,
    pub(crate) required: Vec<(String, String)>,
}

fn path(segments: &[&str]) -> ClaimPath {
    ClaimPath(segments.iter().map(|s| (*s).to_owned()).collect())
}

impl Provider {
    pub(crate) fn layout(self) -> Layout {
        match self {
            Provider::Keycloak => Layout {
                roles: Some(path(&["realm_access", "roles"])),
                client_ids: vec![path(&["client_id"]), path(&["azp"])],
                ..Layout::default()
            },
            Provider::Entra => Layout {
                roles: Some(path(&["roles"])),
                scopes: vec![path(&["scp"])],
                client_ids: vec![path(&["azp"]), path(&["appid"])],
                ..Layout::default()
            },
            Provider::Okta => Layout {
                roles: Some(path(&["groups"])),
                scopes: vec![path(&["scp"])],
                client_ids: vec![path(&["cid"])],
                ..Layout::default()
            },
            Provider::Cognito => Layout {
                roles: Some(path(&["cognito:groups"])),
                scopes: vec![path(&["scope"])],
                client_ids: vec![path(&["client_id"])],
                audience_claim: Some("client_id".to_owned()),
                required: vec![("token_use".to_owned(), "access".to_owned())],
            },
            Provider::Authgear => Layout {
                roles: Some(path(&["https://authgear.com/claims/user/roles"])),
                ..Layout::default()
            },
        }
    }
}
