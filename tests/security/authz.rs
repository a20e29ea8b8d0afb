//! Roles and scopes: only the verified credential decides. A role, scope or user id in the
//! body, the query, a cookie or a custom header (`X-User-Id`, `X-Roles`, `X-Forwarded-User`,
//! ...) is ignored; names compare exactly (case, white space, lookalike letters); roles and
//! scopes in claims the Gate does not read count for nothing; scope subsets and prefixes do not
//! satisfy a requirement. Anonymous callers get 401, known callers 403.
//!
//! - OWASP ASVS 5.0.0: V8.2.1 (function-level access only with explicit permission), V8.3.1
//!   (rules enforced at the server, on values the client cannot manipulate), V4.1.3 (headers
//!   such as `X-User-ID` cannot be supplied by the end user to change identity), V10.3.2
//!   (`sub` and `scope` from the access token drive the decision), V15.3.7 (parameter
//!   pollution between query, body, cookie and headers has no effect), V16.3.2 (failed
//!   authorization logged).
//! - OWASP API Security Top 10 2023: API5 (Broken Function Level Authorization), API3 (Broken
//!   Object Property Level Authorization: role fields in a body are not mass-assigned to the
//!   caller), API2 (Broken Authentication).

use authgate::sessions::Sessions;
use authgate::store::MemoryStore;
use authgate::testing::Minter;
use authgate::{
    CurrentUser, Gate, Identity, Router, require_auth, require_role, require_scope, routing,
};
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::harness::{Case, Expect, Req, get, post, run};
use crate::support::*;

#[require_role("admin")]
async fn admin(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "admin"
}

#[require_role("admin")]
async fn admin_create(State(hits): State<Hits>, Json(_body): Json<Value>) -> &'static str {
    hits.hit();
    "created"
}

#[require_scope("invoices:write")]
async fn write(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "written"
}

#[require_scope(any("invoices:read", "reports:read"))]
async fn any_read(State(hits): State<Hits>) -> &'static str {
    hits.hit();
    "some read"
}

#[require_auth]
async fn whoami(State(hits): State<Hits>, user: CurrentUser) -> String {
    hits.hit();
    format!("{} {:?} {:?}", user.subject(), user.roles(), user.scopes())
}

const COOKIE: &str = "__Host-session";

fn gate_with_sessions() -> Gate {
    gate_builder()
        .sessions(Sessions::server_side(COOKIE, MemoryStore::new()))
        .build()
        .unwrap()
}

fn app(gate: Gate) -> (axum::Router, Hits) {
    let state = AppState::new(gate);
    let hits = state.hits.clone();
    let app = Router::new()
        .route("/admin", routing::get(admin))
        .route("/admin/users", routing::post(admin_create))
        .route("/admin-or-billing", routing::get(admin_or_billing))
        .route("/staff-and-billing", routing::get(staff_and_billing))
        .route("/invoices", routing::post(write))
        .route("/invoices/all", routing::get(read_write_invoices))
        .route("/reports", routing::get(any_read))
        .route("/users", routing::post(admin_write_users))
        .route("/whoami", routing::get(whoami))
        .with_state(state)
        .into_axum();
    (app, hits)
}

async fn table(name: &str, gate: Gate, cases: Vec<Case>) {
    let (app, hits) = app(gate);
    run(name, &app, || hits.count(), cases).await;
}

/// A valid token for alice with `claim` set to `value` (and nothing else changed).
fn claim(claim: &str, value: Value) -> String {
    hs256(&with(claims("alice"), claim, value))
}

fn roles(roles: &[&str]) -> String {
    token("alice", roles)
}

fn forbidden() -> Expect {
    Expect::forbidden_bearer(None)
}

#[tokio::test]
async fn role_names_compare_exactly() {
    let gate = gate();
    let minter = Minter::new(&gate).expect("HMAC gate");
    let user = |r: &[&str]| minter.token(&Identity::new("alice").roles(r.iter().copied()));
    let admin = |t: &str| get("/admin").bearer(t);
    table(
        "authz/role names",
        gate.clone(),
        vec![
            Case::new(
                "control: role admin",
                admin(&user(&["admin"])),
                Expect::allowed(),
            ),
            Case::new("anonymous", get("/admin"), Expect::unauthenticated()),
            Case::new("no roles", admin(&user(&[])), forbidden()),
            Case::new("role `Admin`", admin(&user(&["Admin"])), forbidden()),
            Case::new("role `ADMIN`", admin(&user(&["ADMIN"])), forbidden()),
            Case::new(
                "role `admin ` (trailing space)",
                admin(&user(&["admin "])),
                forbidden(),
            ),
            Case::new(
                "role ` admin` (leading space)",
                admin(&user(&[" admin"])),
                forbidden(),
            ),
            Case::new(
                "role with a Cyrillic `а`",
                admin(&user(&["\u{430}dmin"])),
                forbidden(),
            ),
            Case::new(
                "role `admin` + NUL",
                admin(&user(&["admin\u{0}"])),
                forbidden(),
            ),
            Case::new(
                "role `administrator`",
                admin(&user(&["administrator"])),
                forbidden(),
            ),
            Case::new("role `*`", admin(&user(&["*"])), forbidden()),
            Case::new(
                "one role string `admin,user`",
                admin(&claim("roles", json!("admin,user"))),
                forbidden(),
            ),
            Case::new(
                "one role string `admin user`",
                admin(&claim("roles", json!("admin user"))),
                forbidden(),
            ),
            Case::new(
                "admin in `role` (singular)",
                admin(&claim("role", json!("admin"))),
                forbidden(),
            ),
            Case::new(
                "admin in `groups`",
                admin(&claim("groups", json!(["admin"]))),
                forbidden(),
            ),
            Case::new(
                "admin in `realm_access.roles` (not configured)",
                admin(&claim("realm_access", json!({ "roles": ["admin"] }))),
                forbidden(),
            ),
            Case::new(
                "admin in a namespaced claim (not configured)",
                admin(&claim("https://example.test/roles", json!(["admin"]))),
                forbidden(),
            ),
            Case::new(
                "admin as a scope",
                admin(&minter.token(&Identity::new("alice").scopes(["admin"]))),
                forbidden(),
            ),
            Case::new(
                "admin as the subject",
                admin(&token("admin", &[])),
                forbidden(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn roles_from_body_query_cookie_and_headers_are_ignored() {
    let t = roles(&["user"]);
    let admin = || get("/admin").bearer(&t);
    let mut cases = vec![
        Case::new(
            "JSON body with roles, role, sub and is_admin (body unread)",
            post("/admin/users").bearer(&t).probed_body(
                "application/json",
                br#"{"roles":["admin"],"role":"admin","sub":"admin","is_admin":true}"#,
            ),
            forbidden(),
        ),
        Case::new(
            "form body with role=admin (body unread)",
            post("/admin/users").bearer(&t).probed_body(
                "application/x-www-form-urlencoded",
                b"role=admin&roles=admin",
            ),
            forbidden(),
        ),
        Case::new(
            "query ?role=admin&roles=admin&sub=root&admin=true",
            get("/admin?role=admin&roles=admin&sub=root&admin=true").bearer(&t),
            forbidden(),
        ),
        Case::new(
            "query ?roles[]=admin",
            get("/admin?roles%5B%5D=admin").bearer(&t),
            forbidden(),
        ),
        Case::new(
            "cookie roles=admin (not a session cookie)",
            admin().cookie("roles=admin; is_admin=true"),
            forbidden(),
        ),
    ];
    for (name, value) in [
        ("x-roles", "admin"),
        ("x-role", "admin"),
        ("x-user-id", "root"),
        ("x-user-roles", "admin"),
        ("x-forwarded-user", "admin"),
        ("x-forwarded-groups", "admin"),
        ("x-auth-request-groups", "admin"),
        ("x-remote-user", "admin"),
        ("x-authenticated-userid", "admin"),
        ("x-jwt-claim-roles", "admin"),
    ] {
        cases.push(Case::new(
            format!("header {name}: {value}"),
            admin().header(name, value),
            forbidden(),
        ));
    }
    cases.push(Case::new(
        "anonymous with X-User-Id and X-Roles",
        get("/admin")
            .header("x-user-id", "root")
            .header("x-roles", "admin"),
        Expect::unauthenticated(),
    ));
    table("authz/client-supplied roles", gate(), cases).await;

    // The caller's identity, as the handler sees it, comes from the token only.
    let (app, hits) = app(gate());
    let req: Req = get("/whoami?sub=root&roles=admin")
        .bearer(&t)
        .header("x-user-id", "root")
        .header("x-roles", "admin")
        .header("x-scopes", "invoices:write");
    let reply = send_raw(&app, req.build().0).await;
    assert_ok(&reply, r#"alice ["user"] []"#);
    assert_eq!(hits.count(), 1);
}

#[tokio::test]
async fn any_and_all_role_requirements() {
    table(
        "authz/any and all",
        gate(),
        vec![
            Case::new(
                "control: all(staff, billing) in any order",
                get("/staff-and-billing").bearer(&roles(&["billing", "staff"])),
                Expect::allowed(),
            ),
            Case::new(
                "any(admin, billing) with staff",
                get("/admin-or-billing").bearer(&roles(&["staff"])),
                forbidden(),
            ),
            Case::new(
                "any(admin, billing) with `Billing`",
                get("/admin-or-billing").bearer(&roles(&["Billing"])),
                forbidden(),
            ),
            Case::new(
                "all(staff, billing) with staff only",
                get("/staff-and-billing").bearer(&roles(&["staff"])),
                forbidden(),
            ),
            Case::new(
                "all(staff, billing) with billing only",
                get("/staff-and-billing").bearer(&roles(&["billing"])),
                forbidden(),
            ),
            Case::new(
                "all(staff, billing) as one string `staff,billing`",
                get("/staff-and-billing").bearer(&claim("roles", json!("staff,billing"))),
                forbidden(),
            ),
            Case::new(
                "all(staff, billing) as one string `staff billing`",
                get("/staff-and-billing").bearer(&claim("roles", json!(["staff billing"]))),
                forbidden(),
            ),
            Case::new(
                "role + scope stacked: admin without users:write",
                post("/users").bearer(&roles(&["admin"])),
                Expect::forbidden_bearer(Some("users:write")),
            ),
            Case::new(
                "role + scope stacked: users:write without admin",
                post("/users").bearer(&claim("scope", json!("users:write"))),
                forbidden(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn scope_subsets_prefixes_and_places() {
    let scope = |s: Value| claim("scope", s);
    let w = |t: &str| post("/invoices").bearer(t);
    let want_w = || Expect::forbidden_bearer(Some("invoices:write"));
    let rw = || Expect::forbidden_bearer(Some("invoices:read invoices:write"));
    let mixed = hs256(&with(
        with(claims("alice"), "scope", json!("invoices:read")),
        "scp",
        json!(["invoices:write"]),
    ));
    let empty_scope = hs256(&with(
        with(claims("alice"), "scope", json!("")),
        "scp",
        json!(["invoices:write"]),
    ));
    table(
        "authz/scopes",
        gate(),
        vec![
            Case::new(
                "control: scope among others",
                w(&scope(json!("openid invoices:write"))),
                Expect::allowed(),
            ),
            Case::new(
                "control: scp array",
                w(&claim("scp", json!(["invoices:write"]))),
                Expect::allowed(),
            ),
            Case::new("anonymous", post("/invoices"), Expect::unauthenticated()),
            Case::new(
                "read instead of write",
                w(&scope(json!("invoices:read"))),
                want_w(),
            ),
            Case::new(
                "the resource without an action",
                w(&scope(json!("invoices"))),
                want_w(),
            ),
            Case::new("a wildcard", w(&scope(json!("invoices:*"))), want_w()),
            Case::new(
                "a longer name with the scope as prefix",
                w(&scope(json!("invoices:write:draft"))),
                want_w(),
            ),
            Case::new(
                "a prefix of the scope",
                w(&scope(json!("invoices:writ"))),
                want_w(),
            ),
            Case::new("upper case", w(&scope(json!("INVOICES:WRITE"))), want_w()),
            Case::new(
                "comma-separated list",
                w(&scope(json!("invoices:read,invoices:write"))),
                want_w(),
            ),
            Case::new(
                "tab-separated list",
                w(&scope(json!("invoices:read\tinvoices:write"))),
                want_w(),
            ),
            Case::new(
                "scp with read only",
                w(&claim("scp", json!(["invoices:read"]))),
                want_w(),
            ),
            Case::new(
                "`scopes` (plural, not read)",
                w(&claim("scopes", json!(["invoices:write"]))),
                want_w(),
            ),
            Case::new(
                "scope read, scp write (the first place present wins)",
                w(&mixed),
                want_w(),
            ),
            Case::new(
                "empty scope, scp write (the first place present wins)",
                w(&empty_scope),
                want_w(),
            ),
            Case::new(
                "the scope as a role",
                w(&roles(&["invoices:write"])),
                want_w(),
            ),
            Case::new(
                "the scope in X-Scopes",
                w(&roles(&[])).header("x-scopes", "invoices:write"),
                want_w(),
            ),
            Case::new(
                "the scope in the query",
                post("/invoices?scope=invoices:write").bearer(&roles(&[])),
                want_w(),
            ),
            Case::new(
                "all(read, write) with write only",
                get("/invoices/all").bearer(&scope(json!("invoices:write"))),
                rw(),
            ),
            Case::new(
                "all(read, write) with read only",
                get("/invoices/all").bearer(&scope(json!("invoices:read"))),
                rw(),
            ),
            Case::new(
                "control: all(read, write) with both",
                get("/invoices/all").bearer(&scope(json!("invoices:write invoices:read"))),
                Expect::allowed(),
            ),
            Case::new(
                "any(invoices:read, reports:read) with invoices:write",
                get("/reports").bearer(&scope(json!("invoices:write"))),
                Expect::forbidden_bearer(Some("invoices:read reports:read")),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn cookie_callers_get_403_without_a_bearer_challenge() {
    let gate = gate_with_sessions();
    let user = login_cookie(&gate, Identity::new("alice").roles(["user"])).await;
    let upper = login_cookie(&gate, Identity::new("alice").roles(["Admin"])).await;
    let reader = login_cookie(&gate, Identity::new("alice").scopes(["invoices:read"])).await;
    table(
        "authz/cookie callers",
        gate.clone(),
        vec![
            Case::new(
                "session without admin",
                get("/admin").cookie(&user),
                Expect::forbidden(),
            ),
            Case::new(
                "session with `Admin`",
                get("/admin").cookie(&upper),
                Expect::forbidden(),
            ),
            Case::new(
                "session with admin claimed in X-Roles",
                get("/admin").cookie(&user).header("x-roles", "admin"),
                Expect::forbidden(),
            ),
            Case::new(
                "session scope read on a write route",
                post("/invoices")
                    .cookie(&reader)
                    .header("sec-fetch-site", "same-origin"),
                Expect::forbidden(),
            ),
        ],
    )
    .await;
}
