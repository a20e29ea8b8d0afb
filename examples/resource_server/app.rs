//! The resource server's options, Gate and routes: everything but the process around them, so
//! that `tests/resource_server.rs` runs this very router against a test identity provider.

use std::net::SocketAddr;

use authgate::issuers::{Issuer, Provider};
use authgate::{
    ConfigError, CurrentUser, Gate, GateBuilder, Router, public, require_auth, require_role,
    require_scope, routing::get,
};
use axum::Json;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

pub const USAGE: &str = "\
usage: resource_server --issuer URL --audience AUD [--addr HOST:PORT]
                       [--provider keycloak|entra|okta|cognito|authgear]
                       [--roles-claim NAME | --roles-at a.b.c]

  --issuer URL       the OpenID Provider's issuer; its keys are found by discovery at
                     URL/.well-known/openid-configuration (HTTPS, or http:// on loopback)
  --audience AUD     the audience its access tokens must name
  --addr HOST:PORT   where to listen (default 127.0.0.1:3001)
  --provider NAME    the provider's token layout (roles, scopes, client id); see authgate::guide::identity_providers
  --roles-claim NAME roles in this top-level claim, taken whole (default: roles)
  --roles-at a.b.c   roles at this dotted path of nested objects (realm_access.roles)";

/// Where roles are read from, when not the top-level `roles` claim (or the provider's place).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Roles {
    Default,
    Claim(String),
    Path(Vec<String>),
}

/// The command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub issuer: String,
    pub audience: String,
    pub addr: SocketAddr,
    pub provider: Option<Provider>,
    pub roles: Roles,
}

impl Options {
    /// Parses the arguments after the program name; the error says what is wrong.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
        let mut args = args.into_iter();
        let (mut issuer, mut audience, mut provider) = (None, None, None);
        let mut addr: SocketAddr = ([127, 0, 0, 1], 3001).into();
        let mut roles = Roles::Default;
        while let Some(flag) = args.next() {
            let mut value = || {
                args.next()
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag.as_str() {
                "--issuer" => issuer = Some(value()?),
                "--audience" => audience = Some(value()?),
                "--addr" => {
                    let text = value()?;
                    addr = text
                        .parse()
                        .map_err(|_| format!("--addr {text:?} is not HOST:PORT"))?;
                }
                "--provider" => provider = Some(parse_provider(&value()?)?),
                "--roles-claim" | "--roles-at" if roles != Roles::Default => {
                    return Err("give one of --roles-claim and --roles-at".to_owned());
                }
                "--roles-claim" => roles = Roles::Claim(value()?),
                "--roles-at" => {
                    roles = Roles::Path(value()?.split('.').map(str::to_owned).collect());
                }
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(Options {
            issuer: issuer.ok_or("--issuer is required")?,
            audience: audience.ok_or("--audience is required")?,
            addr,
            provider,
            roles,
        })
    }

    /// The issuer, its keys found by OpenID Connect Discovery, with these options' audience
    /// and claim places.
    pub fn issuer_settings(&self) -> Issuer {
        let mut issuer = Issuer::discover(&self.issuer).audience(&self.audience);
        if let Some(provider) = self.provider {
            issuer = issuer.provider(provider);
        }
        match &self.roles {
            Roles::Default => issuer,
            // As a one-segment pointer, so that the name is taken whole even when it starts
            // with `/` (which `roles_claim` would read as a pointer).
            Roles::Claim(name) => issuer.roles_claim(json_pointer(std::slice::from_ref(name))),
            Roles::Path(path) => issuer.roles_claim(json_pointer(path)),
        }
    }
}

/// The JSON Pointer (RFC 6901) of these nested claim names: `/realm_access/roles`, with `~`
/// written `~0` and `/` written `~1` inside a name.
fn json_pointer(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("/{}", name.replace('~', "~0").replace('/', "~1")))
        .collect()
}

fn parse_provider(name: &str) -> Result<Provider, String> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "keycloak" => Provider::Keycloak,
        "entra" => Provider::Entra,
        "okta" => Provider::Okta,
        "cognito" => Provider::Cognito,
        "authgear" => Provider::Authgear,
        _ => return Err(format!("unknown --provider {name:?}")),
    })
}

/// The Gate for these options: the issuer's keys by discovery, fetched in the background from
/// the moment it is built inside a runtime (the server starts while the provider is down).
pub fn gate(options: &Options) -> Result<Gate, ConfigError> {
    gate_builder(options).build()
}

/// [`gate`] before `build`, for tests that set more (their realm).
pub fn gate_builder(options: &Options) -> GateBuilder {
    Gate::builder()
        .realm("resource-server")
        .issuer(options.issuer_settings())
}

/// The routes. Every handler has a policy: the router would not compile otherwise.
pub fn router(gate: Gate) -> Router<()> {
    Router::new()
        .route("/health", get(health))
        .route("/api/me", get(me))
        .route("/api/invoices", get(list_invoices).post(create_invoice))
        .route("/api/admin", get(admin))
        .with_state(gate)
}

#[public(reason = "load-balancer health check")]
async fn health() -> &'static str {
    "ok\n"
}

/// Who the token says the caller is: subject, scopes, roles and the OAuth client.
#[require_auth]
async fn me(user: CurrentUser) -> Json<Value> {
    Json(json!({
        "sub": user.subject(),
        "scopes": user.scopes(),
        "roles": user.roles(),
        "client_id": user.client_id(),
    }))
}

#[require_scope("invoices:read")]
async fn list_invoices(user: CurrentUser) -> Json<Value> {
    Json(json!([
        { "id": 1, "owner": user.subject(), "amount_cents": 1200, "description": "Hosting" },
        { "id": 2, "owner": user.subject(), "amount_cents": 4500, "description": "Support" },
    ]))
}

#[derive(Deserialize)]
struct NewInvoice {
    amount_cents: i64,
    description: String,
}

/// The guard runs before `Json` reads the body: a caller without `invoices:write` never
/// gets the body parsed.
#[require_scope("invoices:write")]
async fn create_invoice(
    user: CurrentUser,
    Json(invoice): Json<NewInvoice>,
) -> (StatusCode, Json<Value>) {
    let created = json!({
        "id": 3,
        "owner": user.subject(),
        "amount_cents": invoice.amount_cents,
        "description": invoice.description,
    });
    (StatusCode::CREATED, Json(created))
}

#[require_role("admin")]
async fn admin(user: CurrentUser) -> String {
    format!("admin area, {}\n", user.subject())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn options_parse_with_defaults_and_say_what_is_wrong() {
        let options = parse(&[
            "--issuer",
            "http://127.0.0.1:8080/realms/acme",
            "--audience",
            "api",
        ])
        .unwrap();
        assert_eq!(options.addr, "127.0.0.1:3001".parse().unwrap());
        assert_eq!((options.provider, &options.roles), (None, &Roles::Default));
        let options = parse(&[
            "--issuer",
            "https://a",
            "--audience",
            "api",
            "--addr",
            "0.0.0.0:8000",
            "--provider",
            "Keycloak",
            "--roles-at",
            "resource_access.api.roles",
        ])
        .unwrap();
        assert_eq!(options.provider, Some(Provider::Keycloak));
        assert_eq!(
            options.roles,
            Roles::Path(vec!["resource_access".into(), "api".into(), "roles".into()])
        );
        assert_eq!(
            parse(&["--audience", "api"]).unwrap_err(),
            "--issuer is required"
        );
        assert_eq!(parse(&["--issuer"]).unwrap_err(), "--issuer needs a value");
        assert!(parse(&["--issuer", "a", "--audience", "b", "--addr", "x"]).is_err());
        assert!(parse(&["--issuer", "a", "--audience", "b", "--provider", "x"]).is_err());
        assert!(
            parse(&[
                "--issuer",
                "a",
                "--audience",
                "b",
                "--roles-claim",
                "r",
                "--roles-at",
                "a.b"
            ])
            .is_err()
        );
        assert!(parse(&["--verbose"]).is_err());
    }

    #[test]
    fn role_places_become_json_pointers() {
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            json_pointer(&names(&["realm_access", "roles"])),
            "/realm_access/roles"
        );
        assert_eq!(
            json_pointer(&names(&["https://example.com/roles"])),
            "/https:~1~1example.com~1roles"
        );
        assert_eq!(json_pointer(&names(&["a~b"])), "/a~0b");
    }

    #[test]
    fn a_plain_http_issuer_off_loopback_is_refused() {
        let options = parse(&["--issuer", "http://sso.example.com", "--audience", "api"]).unwrap();
        assert!(gate(&options).unwrap_err().to_string().contains("HTTPS"));
    }
}
