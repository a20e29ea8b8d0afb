//! Access tokens as identity providers issue them: RFC 9068 (`typ: at+jwt`, `client_id`,
//! `scope`), Entra's and Okta's `scp`, Keycloak's `realm_access.roles`, Cognito's
//! `cognito:groups` (and its access tokens without `aud`), Authgear's roles claim, Auth0's
//! namespaced claims; each issuer of one Gate with its own audience and claim places.
//!
//! The issuers' keys are static (`Issuer::key`) here: a fetched key set is read by the same
//! code after the key lookup (`tests/identity.rs` covers fetching). One RSA key serves every
//! issuer, so only the `iss` tells the issuers apart: what a token may do depends on the
//! rules its `iss` selects, never on the key that happens to verify it.

mod support;

use authgate::issuers::{Issuer, Provider};
use authgate::keys::{Algorithm, Key, SigningKey};
use authgate::testing::Minter;
use authgate::{
    ConfigProblem, CurrentUser, Gate, Identity, Router, require_auth, require_role, require_scope,
};
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use support::*;

const RFC: &str = "https://rfc9068.example.test";
const KEYCLOAK: &str = "https://sso.example.test/realms/acme";
const ENTRA: &str = "https://login.microsoftonline.com/5f1c2b3a-0000-4000-8000-000000000000/v2.0";
const OKTA: &str = "https://acme.okta.example.test/oauth2/default";
const COGNITO: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12Cd34E";
const AUTHGEAR: &str = "https://acme.authgear.example.test";
const AUTH0: &str = "https://acme.eu.auth0.example.test/";
/// An issuer given by name and audience only: the default claim places.
const PLAIN: &str = "https://plain.example.test";

const ENTRA_AUDIENCE: &str = "api://invoices";
const COGNITO_CLIENT: &str = "4tq1tpl3b1o1pmhlejfmhtf3a5";
const AUTH0_ROLES: &str = "https://invoices.example.test/roles";

fn rsa() -> Key {
    Key::from_pem(Algorithm::RS256, pem("rsa_public.pem")).unwrap()
}

/// The issuer `name` verifying with the one RSA key.
fn rsa_issuer(name: &str) -> Issuer {
    Issuer::new(name).key(rsa())
}

/// One Gate, eight issuers, one key: the rules differ by `iss` only. Entra's and Cognito's
/// audiences are their own; every other issuer accepts `AUD`.
fn gate() -> Gate {
    Gate::builder()
        .realm(REALM)
        .clock(|| at(NOW))
        .issuer(rsa_issuer(RFC).audience(AUD).access_tokens_only())
        .issuer(
            rsa_issuer(KEYCLOAK)
                .audience(AUD)
                .provider(Provider::Keycloak),
        )
        .issuer(
            rsa_issuer(ENTRA)
                .provider(Provider::Entra)
                .audience(ENTRA_AUDIENCE),
        )
        .issuer(rsa_issuer(OKTA).audience(AUD).provider(Provider::Okta))
        .issuer(
            rsa_issuer(COGNITO)
                .provider(Provider::Cognito)
                .audience(COGNITO_CLIENT),
        )
        .issuer(
            rsa_issuer(AUTHGEAR)
                .audience(AUD)
                .provider(Provider::Authgear),
        )
        .issuer(
            rsa_issuer(AUTH0)
                .audience(AUD)
                .roles_claim(AUTH0_ROLES)
                .scopes_claim("permissions")
                .client_id_claim("azp"),
        )
        .issuer(rsa_issuer(PLAIN).audience(AUD))
        .build()
        .unwrap()
}

#[require_auth]
async fn me(State(hits): State<Hits>, user: CurrentUser) -> Json<Value> {
    hits.hit();
    Json(json!({
        "sub": user.subject(),
        "roles": user.roles(),
        "scopes": user.scopes(),
        "client_id": user.client_id(),
    }))
}

#[require_role("admin")]
async fn admin(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "admin"
}

#[require_scope("invoices:write")]
async fn write(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "written"
}

fn app(gate: Gate) -> (TestClient, Hits) {
    let state = AppState::new(gate);
    let hits = state.hits.clone();
    let app = Router::new()
        .route("/me", authgate::routing::get(me))
        .route("/admin", authgate::routing::get(admin))
        .route("/write", authgate::routing::post(write))
        .with_state(state)
        .into_axum();
    (client(app), hits)
}

/// Claims valid at `NOW` for `sub` from `iss` (audience `AUD`), plus `extra`.
fn claims(iss: &str, sub: &str, extra: Value) -> Value {
    let mut claims = json!({ "sub": sub, "iss": iss, "aud": AUD, "iat": NOW, "exp": NOW + 600 });
    for (name, value) in extra.as_object().unwrap() {
        claims[name] = value.clone();
    }
    claims
}

/// An RS256 token with this header `typ` (`None`: no `typ` at all).
fn signed(typ: Option<&str>, claims: &Value) -> String {
    let header = jsonwebtoken::Header {
        typ: typ.map(str::to_owned),
        ..jsonwebtoken::Header::new(jwa(Algorithm::RS256))
    };
    jsonwebtoken::encode(&header, claims, &rsa_signing_key()).unwrap()
}

fn jwt(claims: &Value) -> String {
    signed(Some("JWT"), claims)
}

/// What `/me` shows for `token`.
async fn seen(app: &TestClient, token: &str) -> Value {
    let reply = app.get("/me").bearer(token).send().await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.json()
}

fn user(roles: &[&str], scopes: &[&str], client_id: Option<&str>) -> Value {
    json!({ "sub": "u1", "roles": roles, "scopes": scopes, "client_id": client_id })
}

/// Each provider's token shape is read where its issuer's settings say: roles, scopes and the
/// client id, on `/me`, and the role and scope checks agree.
#[tokio::test]
async fn each_providers_token_shape_is_read_where_its_issuer_says() {
    let (app, _hits) = app(gate());
    let cases = [
        (
            "RFC 9068",
            signed(
                Some("at+jwt"),
                &claims(
                    RFC,
                    "u1",
                    json!({"client_id": "cli-1", "scope": "invoices:read invoices:write", "roles": ["admin"]}),
                ),
            ),
            user(
                &["admin"],
                &["invoices:read", "invoices:write"],
                Some("cli-1"),
            ),
        ),
        (
            "RFC 9068, media type spelling",
            signed(
                Some("application/AT+JWT"),
                &claims(RFC, "u1", json!({"client_id": "cli-1"})),
            ),
            user(&[], &[], Some("cli-1")),
        ),
        (
            "Keycloak",
            jwt(&claims(
                KEYCLOAK,
                "u1",
                json!({
                    "realm_access": {"roles": ["admin", "offline_access"]},
                    "resource_access": {"account": {"roles": ["view-profile"]}},
                    "scope": "openid invoices:write", "azp": "invoices-spa",
                    // A top-level `roles` is not where Keycloak's roles are: ignored.
                    "roles": ["root"],
                }),
            )),
            user(
                &["admin", "offline_access"],
                &["openid", "invoices:write"],
                Some("invoices-spa"),
            ),
        ),
        (
            "Keycloak client credentials",
            jwt(&claims(
                KEYCLOAK,
                "u1",
                json!({"client_id": "svc", "azp": "svc-azp", "realm_access": {"roles": []}}),
            )),
            user(&[], &[], Some("svc")),
        ),
        (
            "Entra v2.0 (scp is a string)",
            jwt(&json!({
                "sub": "u1", "iss": ENTRA, "aud": ENTRA_AUDIENCE, "iat": NOW, "exp": NOW + 600,
                "scp": "invoices:read invoices:write", "roles": ["admin"],
                "azp": "0f3c4d5e-app", "ver": "2.0",
                // Entra puts no `scope`; a `scope` would not be read either.
                "scope": "ignored",
            })),
            user(
                &["admin"],
                &["invoices:read", "invoices:write"],
                Some("0f3c4d5e-app"),
            ),
        ),
        (
            "Entra v1.0 app token (appid, app roles, no scp)",
            jwt(&json!({
                "sub": "u1", "iss": ENTRA, "aud": ENTRA_AUDIENCE, "iat": NOW, "exp": NOW + 600,
                "roles": ["admin"], "appid": "1a2b-daemon",
            })),
            user(&["admin"], &[], Some("1a2b-daemon")),
        ),
        (
            "Okta (scp is an array)",
            jwt(&claims(
                OKTA,
                "u1",
                json!({"scp": ["invoices:write", "openid"], "cid": "0oa1okta", "groups": ["admin"]}),
            )),
            user(&["admin"], &["invoices:write", "openid"], Some("0oa1okta")),
        ),
        (
            "Cognito (no aud: the audience is client_id)",
            jwt(&json!({
                "sub": "u1", "iss": COGNITO, "client_id": COGNITO_CLIENT, "token_use": "access",
                "iat": NOW, "exp": NOW + 600, "scope": "invoices:write",
                "cognito:groups": ["admin"], "username": "u1",
            })),
            user(&["admin"], &["invoices:write"], Some(COGNITO_CLIENT)),
        ),
        (
            "Authgear",
            jwt(&claims(
                AUTHGEAR,
                "u1",
                json!({"https://authgear.com/claims/user/roles": ["admin"], "client_id": "ag-1"}),
            )),
            user(&["admin"], &[], Some("ag-1")),
        ),
        (
            "Auth0 (namespaced roles, RBAC permissions)",
            jwt(&claims(
                AUTH0,
                "u1",
                json!({
                    AUTH0_ROLES: ["admin"], "permissions": ["invoices:write"],
                    "scope": "openid profile", "azp": "auth0-spa",
                }),
            )),
            user(&["admin"], &["invoices:write"], Some("auth0-spa")),
        ),
        (
            "a plain issuer: the default claim places",
            jwt(&claims(
                PLAIN,
                "u1",
                json!({"roles": ["admin"], "scp": ["invoices:write"], "client_id": "p"}),
            )),
            user(&["admin"], &["invoices:write"], Some("p")),
        ),
    ];
    for (shape, token, expected) in cases {
        assert_eq!(seen(&app, &token).await, expected, "{shape}");
        let admin = app.get("/admin").bearer(&token).send().await;
        let is_admin = expected["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("admin"));
        assert_eq!(admin.status, if is_admin { 200 } else { 403 }, "{shape}");
        let write = app.post("/write").bearer(&token).send().await;
        let writes = expected["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("invoices:write"));
        assert_eq!(write.status, if writes { 200 } else { 403 }, "{shape}");
    }
}

/// `token` on `path` is refused with the rejection of `status`, the handler did not run, and
/// nothing logged carries the token.
async fn assert_refused_on(app: &TestClient, hits: &Hits, path: &str, token: &str, status: u16) {
    let before = hits.count();
    let (logs, _guard) = capture_logs();
    let reply = match path {
        "/write" => app.post(path).bearer(token).send().await,
        _ => app.get(path).bearer(token).send().await,
    };
    match (status, path) {
        (401, _) => assert_invalid_token(&reply),
        (403, "/write") => assert_forbidden(&reply, Some("invoices:write")),
        (403, _) => assert_forbidden(&reply, None),
        _ => unreachable!("{status}"),
    }
    assert_eq!(hits.count(), before, "the handler ran on {path}");
    let logs = logs.contents();
    let signature = token.rsplit('.').next().unwrap();
    assert!(!logs.contains(signature), "the token was logged:\n{logs}");
}

/// Every refusal of the shapes: a token is judged by the rules of the issuer it claims, so a
/// claim in the place another issuer reads, an audience another issuer accepts, or a JWT
/// where access tokens are required is refused, with the rejection of the table.
#[tokio::test]
async fn tokens_are_refused_by_the_rules_of_the_issuer_they_claim() {
    let (app, hits) = app(gate());
    let refusals = [
        (
            "RFC 9068 issuer, typ JWT",
            jwt(&claims(RFC, "u1", json!({"client_id": "c"}))),
            "/me",
            401,
        ),
        (
            "RFC 9068 issuer, no typ",
            signed(None, &claims(RFC, "u1", json!({}))),
            "/me",
            401,
        ),
        (
            "RFC 9068 issuer, typ of a session cookie",
            signed(Some("authgate-session+jwt"), &claims(RFC, "u1", json!({}))),
            "/me",
            401,
        ),
        (
            "Keycloak issuer, roles only at the top level",
            jwt(&claims(KEYCLOAK, "u1", json!({"roles": ["admin"]}))),
            "/admin",
            403,
        ),
        (
            "Keycloak issuer, realm_access not an object",
            jwt(&claims(KEYCLOAK, "u1", json!({"realm_access": ["admin"]}))),
            "/me",
            401,
        ),
        (
            "Entra issuer, the audience the other issuers accept",
            jwt(&claims(ENTRA, "u1", json!({"roles": ["admin"]}))),
            "/me",
            401,
        ),
        (
            "Entra issuer, scope instead of scp",
            jwt(&json!({
                "sub": "u1", "iss": ENTRA, "aud": ENTRA_AUDIENCE, "iat": NOW, "exp": NOW + 600,
                "scope": "invoices:write",
            })),
            "/write",
            403,
        ),
        (
            "Okta issuer, scp of numbers",
            jwt(&claims(OKTA, "u1", json!({"scp": [1, 2]}))),
            "/me",
            401,
        ),
        (
            "Okta issuer, a client id that is not a string",
            jwt(&claims(OKTA, "u1", json!({"cid": 7}))),
            "/me",
            401,
        ),
        (
            "Cognito ID token (token_use id)",
            jwt(&json!({
                "sub": "u1", "iss": COGNITO, "client_id": COGNITO_CLIENT, "token_use": "id",
                "iat": NOW, "exp": NOW + 600,
            })),
            "/me",
            401,
        ),
        (
            "Cognito access token without token_use",
            jwt(&json!({
                "sub": "u1", "iss": COGNITO, "client_id": COGNITO_CLIENT,
                "iat": NOW, "exp": NOW + 600,
            })),
            "/me",
            401,
        ),
        (
            "Cognito token for another app client (its aud is not read)",
            jwt(&json!({
                "sub": "u1", "iss": COGNITO, "client_id": "another-client", "aud": COGNITO_CLIENT,
                "token_use": "access", "iat": NOW, "exp": NOW + 600,
            })),
            "/me",
            401,
        ),
        (
            "Cognito issuer, groups in roles",
            jwt(&json!({
                "sub": "u1", "iss": COGNITO, "client_id": COGNITO_CLIENT, "token_use": "access",
                "iat": NOW, "exp": NOW + 600, "roles": ["admin"],
            })),
            "/admin",
            403,
        ),
        (
            "Auth0 issuer, roles without the namespace",
            jwt(&claims(AUTH0, "u1", json!({"roles": ["admin"]}))),
            "/admin",
            403,
        ),
        (
            "Auth0 issuer, the scope in scope only (permissions are read)",
            jwt(&claims(AUTH0, "u1", json!({"scope": "invoices:write"}))),
            "/write",
            403,
        ),
        (
            "Authgear issuer, a role claim that is an object",
            jwt(&claims(
                AUTHGEAR,
                "u1",
                json!({"https://authgear.com/claims/user/roles": {"admin": true}}),
            )),
            "/me",
            401,
        ),
        (
            "an issuer that is not configured, shaped like a Keycloak token",
            jwt(&claims(
                "https://sso.example.test/realms/other",
                "u1",
                json!({"realm_access": {"roles": ["admin"]}}),
            )),
            "/admin",
            401,
        ),
    ];
    for (case, token, path, status) in refusals {
        eprintln!("{case}");
        assert_refused_on(&app, &hits, path, &token, status).await;
    }
}

/// The test kit mints for the issuer it is told: the issuer's audience, claim places and
/// `typ`, so the tokens pass that issuer's rules (and only those).
#[tokio::test]
async fn the_minter_mints_for_the_chosen_issuer() {
    let gate = gate();
    let (app, hits) = app(gate.clone());
    let key = SigningKey::from_pem(Algorithm::RS256, pem("rsa_private.pem")).unwrap();
    for issuer in [RFC, KEYCLOAK, ENTRA, OKTA, COGNITO, AUTHGEAR, AUTH0, PLAIN] {
        let mut minter = Minter::with_key(&gate, key.clone()).issuer(issuer);
        let alice = Identity::new("u1")
            .roles(["admin"])
            .scopes(["invoices:read", "invoices:write"]);
        // Cognito's client id is its audience, which the minter writes already.
        let client_id = match issuer {
            COGNITO => COGNITO_CLIENT,
            _ => {
                minter = minter.client_id("minted-client");
                "minted-client"
            }
        };
        let token = minter.token(&alice);
        let expected = user(
            &["admin"],
            &["invoices:read", "invoices:write"],
            Some(client_id),
        );
        assert_eq!(seen(&app, &token).await, expected, "{issuer}");
        assert_eq!(app.get("/admin").bearer(&token).send().await.status, 200);
        assert_eq!(app.post("/write").bearer(&token).send().await.status, 200);
        assert_refused_on(&app, &hits, "/me", &minter.expired(&alice), 401).await;
    }
    // Without a choice: the first issuer (RFC 9068, so `typ: at+jwt`).
    let token = Minter::with_key(&gate, key.clone()).token(&Identity::new("u1"));
    assert_eq!(seen(&app, &token).await["sub"], "u1");
    // An issuer the Gate does not know is claimed all the same, and refused.
    let stranger = Minter::with_key(&gate, key)
        .issuer("https://stranger.example.test")
        .token(&Identity::new("u1"));
    assert_refused_on(&app, &hits, "/me", &stranger, 401).await;
}

/// A bad claim path of an issuer is reported by `build`, with the Gate's other problems, in
/// one flat list in the order of the calls.
#[test]
fn an_issuers_bad_settings_are_build_errors() {
    let err = Gate::builder()
        .issuer(rsa_issuer(RFC).roles_claim("/realm_access/"))
        .issuer(rsa_issuer(OKTA).scopes_claim(""))
        .issuer(rsa_issuer(KEYCLOAK).client_id_claim("/a~2b"))
        .build()
        .unwrap_err();
    assert_eq!(
        err.problems(),
        [
            ConfigProblem::InvalidClaim {
                name: "/realm_access/".into()
            },
            ConfigProblem::InvalidClaim { name: "".into() },
            ConfigProblem::InvalidClaim {
                name: "/a~2b".into()
            },
        ]
    );
}
