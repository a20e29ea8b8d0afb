//! Ownership (`#[owned_by]`): another user's id, a nonexistent id, ids that only look like the
//! caller's (`07`, `+7`, `7 `, other digits), ownership claimed through headers, query or
//! cookies, admins without a bypass; the 404 bodies of a mismatch, a missing and an unparsable
//! id are identical byte for byte; a refused write changes nothing; nothing is loaded for an
//! anonymous caller.
//!
//! - OWASP ASVS 5.0.0: V8.2.2 (data-specific access: IDOR / BOLA), V8.3.1 (decided on the
//!   verified subject, at the server), V8.1.1 (the rule is declared on the handler and shown in
//!   the route audit), V15.3.5 (ids compared as exact text, no type juggling), V16.5.1 (one
//!   generic 404 that does not reveal existence).
//! - OWASP API Security Top 10 2023: API1 (Broken Object Level Authorization), API3 (Broken
//!   Object Property Level Authorization: an owner field in the body does not transfer
//!   ownership), API5 (Broken Function Level Authorization: an admin role does not bypass
//!   ownership unless declared).

use authgate::resource::{OwnerId, Resource};
use authgate::store::StoreError;
use authgate::testing::TestResponse;
use authgate::{Gate, Load, Router, owned_by, require_auth, require_role, routing};
use axum::Json;
use axum::extract::{FromRef, Path, Query, State};
use serde::Deserialize;
use serde_json::json;

use crate::harness::{Case, Expect, Req, get, req, run};
use crate::support::*;

type Db = InvoiceStore;

#[derive(Clone)]
struct St {
    gate: Gate,
    db: Db,
}

impl FromRef<St> for Gate {
    fn from_ref(state: &St) -> Gate {
        state.gate.clone()
    }
}

impl FromRef<St> for Db {
    fn from_ref(state: &St) -> Db {
        state.db.clone()
    }
}

impl Resource<St> for Invoice {
    type Id = u64;
    async fn load(id: u64, state: &St) -> Result<Option<Self>, StoreError> {
        state.db.load(id).map_err(StoreError::unavailable)
    }
}

#[require_auth]
#[owned_by(invoice.user_id)]
async fn show(State(db): State<Db>, Load(invoice): Load<Invoice>) -> Json<Invoice> {
    db.ran();
    Json(invoice)
}

#[derive(Deserialize)]
struct Patch {
    amount_cents: i64,
    #[serde(default)]
    #[allow(dead_code)]
    user_id: Option<u64>,
}

#[require_auth]
#[owned_by(invoice.user_id)]
async fn update(
    State(db): State<Db>,
    Load(invoice): Load<Invoice>,
    Json(patch): Json<Patch>,
) -> &'static str {
    db.ran();
    db.set_amount(invoice.id, patch.amount_cents);
    "updated"
}

#[derive(Deserialize)]
struct Claimed {
    #[allow(dead_code)]
    user_id: Option<u64>,
}

/// The query may carry a `user_id`; only the verified subject counts.
#[require_auth]
#[owned_by(invoice.user_id, or_role = "admin")]
async fn remove(
    State(db): State<Db>,
    Load(invoice): Load<Invoice>,
    Query(_claimed): Query<Claimed>,
) -> &'static str {
    db.ran();
    db.remove(invoice.id);
    "deleted"
}

#[derive(Deserialize)]
struct UserPath {
    user_id: u64,
}

#[require_role("user")]
#[owned_by(params.user_id, status = 403)]
async fn profile(State(db): State<Db>, Path(params): Path<UserPath>) -> String {
    db.ran();
    format!("profile of {}", params.user_id)
}

#[require_auth]
#[owned_by(name, or_role = any("admin", "support"))]
async fn by_name(State(db): State<Db>, Path(name): Path<String>) -> String {
    db.ran();
    name
}

#[require_auth]
#[owned_by(id)]
async fn document(State(db): State<Db>, Path(id): Path<uuid::Uuid>) -> String {
    db.ran();
    id.to_string()
}

/// The page form of `show`: a browser shows its refusals, so every one is a page.
#[require_auth(redirect = "/login")]
#[owned_by(invoice.user_id)]
async fn show_page(State(db): State<Db>, Load(invoice): Load<Invoice>) -> String {
    db.ran();
    format!("<h1>Invoice {}</h1>", invoice.id)
}

/// The page form of `remove`: HTML forms post, so the delete is a `POST`.
#[require_role("user", redirect = "/login")]
#[owned_by(invoice.user_id)]
async fn remove_page(State(db): State<Db>, Load(invoice): Load<Invoice>) -> &'static str {
    db.ran();
    db.remove(invoice.id);
    "deleted"
}

/// A `#[public]` handler must never load a resource for a caller nobody checked.
#[authgate::public(reason = "a misuse under test: Load in a public handler")]
async fn public_load(State(db): State<Db>, Load(invoice): Load<Invoice>) -> String {
    db.ran();
    invoice.id.to_string()
}

fn app(db: Db) -> axum::Router {
    Router::new()
        .route(
            "/invoices/{id}",
            routing::get(show).put(update).delete(remove),
        )
        .route("/documents/{id}", routing::get(document))
        .route("/pages/invoices/{id}", routing::get(show_page))
        .route("/pages/invoices/{id}/delete", routing::post(remove_page))
        .route("/public/invoices/{id}", routing::get(public_load))
        .route("/users/{user_id}/profile", routing::get(profile))
        .route("/names/{name}", routing::get(by_name))
        .with_state(St { gate: gate(), db })
        .into_axum()
}

async fn table(name: &str, db: &Db, cases: Vec<Case>) {
    let app = app(db.clone());
    run(name, &app, || db.runs(), cases).await;
}

fn as_user(sub: &str, r: Req) -> Req {
    r.bearer(&token(sub, &["user"]))
}

#[tokio::test]
async fn another_users_object_is_404_and_unchanged() {
    let db = Db::seeded();
    let before = db.snapshot();
    let invoice_1 = r#"{"id":1,"user_id":7,"amount_cents":1200}"#;
    let mallory = |r: Req| as_user("8", r);
    table(
        "ownership/another user's invoice",
        &db,
        vec![
            Case::new(
                "control: the owner reads invoice 1",
                as_user("7", get("/invoices/1")),
                Expect::allowed().body(invoice_1),
            ),
            Case::new(
                "GET another user's invoice",
                mallory(get("/invoices/1")),
                Expect::not_found(),
            ),
            Case::new(
                "PUT another user's invoice, claiming it in the body",
                mallory(
                    req("PUT", "/invoices/1")
                        .body("application/json", br#"{"amount_cents":0,"user_id":8}"#),
                ),
                Expect::not_found(),
            ),
            Case::new(
                "DELETE another user's invoice",
                mallory(req("DELETE", "/invoices/1")),
                Expect::not_found(),
            ),
            Case::new(
                "DELETE with ?user_id= of the caller",
                mallory(req("DELETE", "/invoices/1?user_id=8")),
                Expect::not_found(),
            ),
            Case::new(
                "GET with X-User-Id of the owner",
                mallory(get("/invoices/1")).header("x-user-id", "7"),
                Expect::not_found(),
            ),
            Case::new(
                "GET with ?user_id= of the owner",
                mallory(get("/invoices/1?user_id=7&owner=7")),
                Expect::not_found(),
            ),
            Case::new(
                "GET with a cookie user_id= of the owner",
                mallory(get("/invoices/1")).cookie("user_id=7"),
                Expect::not_found(),
            ),
            Case::new(
                "the id percent-encoded (%31)",
                mallory(get("/invoices/%31")),
                Expect::not_found(),
            ),
            Case::new(
                "the id with a leading zero (01)",
                mallory(get("/invoices/01")),
                Expect::not_found(),
            ),
            Case::new(
                "an admin without a declared bypass",
                get("/invoices/1").bearer(&token("9", &["admin"])),
                Expect::not_found(),
            ),
            Case::new(
                "`Admin` on a route whose bypass is `admin`",
                req("DELETE", "/invoices/1").bearer(&token("9", &["Admin"])),
                Expect::not_found(),
            ),
            Case::new(
                "`admin` as a scope on a route whose bypass is a role",
                req("DELETE", "/invoices/1").bearer(&hs256(&with(
                    claims("9"),
                    "scope",
                    json!("admin"),
                ))),
                Expect::not_found(),
            ),
        ],
    )
    .await;
    assert_eq!(db.snapshot(), before, "a refused request changed the store");
    table(
        "ownership/owner and declared bypass write",
        &db,
        vec![
            Case::new(
                "control: the owner deletes invoice 1",
                as_user("7", req("DELETE", "/invoices/1")),
                Expect::allowed().body("deleted"),
            ),
            Case::new(
                "control: an admin deletes invoice 2 (or_role = admin)",
                req("DELETE", "/invoices/2").bearer(&token("1", &["admin"])),
                Expect::allowed().body("deleted"),
            ),
        ],
    )
    .await;
    assert!(
        !db.contains(1) && !db.contains(2),
        "the deletes did not happen"
    );
}

#[tokio::test]
async fn subjects_that_only_look_like_the_owner() {
    let db = Db::seeded();
    let mut cases = Vec::new();
    for sub in [
        "07", "+7", "7 ", " 7", "7.0", "0x7", "7e0", "\u{667}", "\u{ff17}", "7\u{0}", "-0", "77",
    ] {
        cases.push(Case::new(
            format!("subject {sub:?} on invoice 1 (owner 7)"),
            as_user(sub, get("/invoices/1")),
            Expect::not_found(),
        ));
    }
    for (sub, path) in [
        ("alice", "/names/Alice"),
        ("alice", "/names/alice%20"),
        ("alice", "/names/ali"),
        ("alice", "/names/alice%00"),
        ("Alice", "/names/alice"),
    ] {
        cases.push(Case::new(
            format!("subject {sub:?} on {path}"),
            as_user(sub, get(path)),
            Expect::not_found(),
        ));
    }
    cases.push(Case::new(
        "subject \"bob\" on /names/alice",
        as_user("bob", get("/names/alice")),
        Expect::not_found(),
    ));
    cases.push(Case::new(
        "control: subject alice on /names/alice",
        as_user("alice", get("/names/alice")),
        Expect::allowed().body("alice"),
    ));
    cases.push(Case::new(
        "control: the support role (or_role = any(admin, support)) on /names/alice",
        get("/names/alice").bearer(&token("sue", &["support"])),
        Expect::allowed().body("alice"),
    ));
    table("ownership/lookalike subjects", &db, cases).await;
}

#[tokio::test]
async fn missing_and_unparsable_ids_are_404() {
    let db = Db::seeded();
    let owner = |path: &str| as_user("7", get(path));
    table(
        "ownership/missing ids",
        &db,
        vec![
            Case::new(
                "a nonexistent id",
                owner("/invoices/999"),
                Expect::not_found(),
            ),
            Case::new("id 0", owner("/invoices/0"), Expect::not_found()),
            Case::new(
                "a non-numeric id",
                owner("/invoices/abc"),
                Expect::not_found(),
            ),
            Case::new("a negative id", owner("/invoices/-1"), Expect::not_found()),
            Case::new(
                "an id over u64::MAX",
                owner("/invoices/18446744073709551616"),
                Expect::not_found(),
            ),
            Case::new(
                "a fractional id",
                owner("/invoices/1.0"),
                Expect::not_found(),
            ),
            Case::new(
                "a hexadecimal id",
                owner("/invoices/0x1"),
                Expect::not_found(),
            ),
            Case::new(
                "path traversal as the id",
                owner("/invoices/..%2F2"),
                Expect::not_found(),
            ),
            Case::new(
                "DELETE a nonexistent id",
                as_user("7", req("DELETE", "/invoices/999")),
                Expect::not_found(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn status_403_variant_and_role_first() {
    let db = Db::seeded();
    table(
        "ownership/status = 403",
        &db,
        vec![
            Case::new(
                "control: the owner's profile",
                as_user("7", get("/users/7/profile")),
                Expect::allowed().body("profile of 7"),
            ),
            Case::new(
                "the owner without the role (role checked first)",
                get("/users/7/profile").bearer(&token("7", &[])),
                Expect::forbidden_bearer(None),
            ),
            Case::new(
                "another user's profile (owned_by status = 403)",
                as_user("8", get("/users/7/profile")),
                Expect::forbidden(),
            ),
            Case::new(
                "another user's profile, without the role (role checked first)",
                get("/users/7/profile").bearer(&token("8", &[])),
                Expect::forbidden_bearer(None),
            ),
            Case::new(
                "anonymous",
                get("/users/7/profile"),
                Expect::unauthenticated(),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn nothing_is_loaded_for_anonymous_or_invalid_callers() {
    let db = Db::seeded();
    let expired = hs256(&with(claims("7"), "exp", json!(NOW - 3600)));
    table(
        "ownership/before loading",
        &db,
        vec![
            Case::new(
                "anonymous GET of an existing invoice",
                get("/invoices/1"),
                Expect::unauthenticated(),
            ),
            Case::new(
                "anonymous GET of a nonexistent invoice",
                get("/invoices/999"),
                Expect::unauthenticated(),
            ),
            Case::new(
                "anonymous DELETE",
                req("DELETE", "/invoices/1"),
                Expect::unauthenticated(),
            ),
            Case::new(
                "the owner's expired token",
                get("/invoices/1").bearer(&expired),
                Expect::invalid_token(),
            ),
            Case::new(
                "a garbage token on DELETE",
                req("DELETE", "/invoices/1").bearer("not.a.token"),
                Expect::invalid_token(),
            ),
            Case::new(
                "X-User-Id of the owner, no token",
                get("/invoices/1").header("x-user-id", "7"),
                Expect::unauthenticated(),
            ),
        ],
    )
    .await;
    assert_eq!(
        db.loads(),
        0,
        "a resource was loaded for an unauthenticated caller"
    );
}

/// Every way a caller can be refused a resource that is not theirs, on one route kind: the
/// owner check, `Load`'s missing and unparsable ids, a subject that only looks like the owner.
/// All must answer the same bytes, or a client could tell "exists" from "does not".
async fn not_yours_and_missing_replies(
    app: &axum::Router,
    read: &str,
    write: &str,
) -> Vec<(String, TestResponse)> {
    let write_of = |id: &str| {
        let path = write.replace("{id}", id);
        if path.ends_with("/delete") {
            req("POST", &path).body("application/x-www-form-urlencoded", b"confirm=yes")
        } else {
            req("PUT", &path).body("application/json", br#"{"amount_cents":1}"#)
        }
    };
    let read_of = |id: &str| get(&read.replace("{id}", id));
    let mut replies = Vec::new();
    for (name, r) in [
        ("mismatch read", as_user("8", read_of("1"))),
        ("mismatch write", as_user("8", write_of("1"))),
        ("missing read", as_user("8", read_of("999"))),
        ("missing write", as_user("8", write_of("999"))),
        ("unparsable read", as_user("8", read_of("abc"))),
        ("unparsable write", as_user("8", write_of("abc"))),
        (
            "over u64::MAX",
            as_user("8", read_of("18446744073709551616")),
        ),
        ("lookalike subject", as_user("07", read_of("1"))),
    ] {
        replies.push((
            format!("{name} on {read}"),
            send_raw(app, r.build().0).await,
        ));
    }
    replies
}

fn assert_identical(replies: &[(String, TestResponse)]) {
    let (first_name, first) = &replies[0];
    for (name, reply) in &replies[1..] {
        assert_eq!(reply.status, first.status, "{name} vs {first_name}");
        assert_eq!(
            reply.headers, first.headers,
            "headers of {name} vs {first_name}"
        );
        assert_eq!(reply.body, first.body, "body of {name} vs {first_name}");
    }
}

#[tokio::test]
async fn the_404s_of_mismatch_missing_and_unparsable_are_identical() {
    let db = Db::seeded();
    let app = app(db.clone());
    let api = not_yours_and_missing_replies(&app, "/invoices/{id}", "/invoices/{id}").await;
    assert_identical(&api);
    assert_eq!(api[0].1.status, 404);
    assert_eq!(api[0].1.headers["content-type"], "application/json");
    // A page route renders all of them as its own 404 page: the same page for each.
    let page =
        not_yours_and_missing_replies(&app, "/pages/invoices/{id}", "/pages/invoices/{id}/delete")
            .await;
    assert_identical(&page);
    assert_eq!(page[0].1.status, 404);
    assert_eq!(
        page[0].1.headers["content-type"],
        "text/html; charset=utf-8"
    );
    assert_eq!(page[0].1.body, page_of(404, "not_found").as_bytes());
    assert_eq!(db.runs(), 0);
    assert!(db.contains(1), "a refused delete form removed the invoice");
}

/// The ownership table of a page route (`redirect = "/login"`): every refusal a browser can
/// get from it, each rendered as a page (or the login redirect), none running the handler.
#[tokio::test]
async fn a_page_routes_refusals_are_all_pages() {
    let db = Db::seeded();
    let expired = hs256(&with(claims("7"), "exp", json!(NOW - 3600)));
    let form =
        |path: &str| req("POST", path).body("application/x-www-form-urlencoded", b"confirm=yes");
    table(
        "ownership/page routes",
        &db,
        vec![
            Case::new(
                "control: the owner's invoice page",
                as_user("7", get("/pages/invoices/1")),
                Expect::allowed().body("<h1>Invoice 1</h1>"),
            ),
            Case::new(
                "another user's invoice page",
                as_user("8", get("/pages/invoices/1")),
                Expect::not_found().page(),
            ),
            Case::new(
                "a missing invoice's page",
                as_user("8", get("/pages/invoices/999")),
                Expect::not_found().page(),
            ),
            Case::new(
                "an unparsable id's page",
                as_user("8", get("/pages/invoices/abc")),
                Expect::not_found().page(),
            ),
            Case::new(
                "another user's delete form",
                as_user("8", form("/pages/invoices/1/delete")),
                Expect::not_found().page(),
            ),
            Case::new(
                "a missing invoice's delete form",
                as_user("8", form("/pages/invoices/999/delete")),
                Expect::not_found().page(),
            ),
            Case::new(
                "the delete form without the role (checked before loading)",
                form("/pages/invoices/1/delete").bearer(&token("7", &[])),
                Expect::forbidden_bearer(None).page(),
            ),
            Case::new(
                "an admin without a declared bypass",
                get("/pages/invoices/1").bearer(&token("9", &["admin"])),
                Expect::not_found().page(),
            ),
            Case::new(
                "anonymous: to the login page",
                get("/pages/invoices/1"),
                Expect::redirect("/login?next=%2Fpages%2Finvoices%2F1"),
            ),
            Case::new(
                "an expired token: to the login page",
                get("/pages/invoices/999").bearer(&expired),
                Expect::redirect("/login?next=%2Fpages%2Finvoices%2F999"),
            ),
        ],
    )
    .await;
    assert!(db.contains(1), "a refused delete form removed the invoice");
    db.set_down(true);
    table(
        "ownership/page routes, store down",
        &db,
        vec![Case::new(
            "the owner's invoice page while the store is down",
            as_user("7", get("/pages/invoices/1")),
            Expect::unavailable().page(),
        )],
    )
    .await;
}

#[tokio::test]
async fn a_failing_store_is_503_without_leaking_the_error() {
    let db = Db::seeded();
    db.set_down(true);
    table(
        "ownership/store down",
        &db,
        vec![Case::new(
            "the owner reads invoice 1 while the store is down",
            as_user("7", get("/invoices/1")),
            Expect::unavailable(),
        )],
    )
    .await;
}

#[test]
fn the_route_audit_shows_the_ownership_rule() {
    let router: Router<St> = Router::new()
        .route("/invoices/{id}", routing::get(show).delete(remove))
        .route("/users/{user_id}/profile", routing::get(profile));
    let lines: Vec<String> = router.audit().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "GET /invoices/{id} require_auth + owned_by(invoice.user_id)",
            "DELETE /invoices/{id} require_auth + owned_by(invoice.user_id, or_role = admin)",
            "GET /users/{user_id}/profile require_role(user) + owned_by(params.user_id, status = 403)",
        ]
    );
}

/// A `Uuid` has one owner spelling, the lower-case hyphenated form: the simple, braced,
/// `urn:uuid:` and upper-case spellings of the same id are other subjects.
#[tokio::test]
async fn uuid_ids_have_one_owner_spelling() {
    const ID: &str = "67e55044-10b1-426f-9247-bb680e5fe0c8";
    let db = Db::seeded();
    let path = format!("/documents/{ID}");
    let mut cases = vec![Case::new(
        "control: the canonical subject",
        as_user(ID, get(&path)),
        Expect::allowed().body(ID),
    )];
    for (what, subject) in [
        ("upper case", "67E55044-10B1-426F-9247-BB680E5FE0C8"),
        ("simple (no hyphens)", "67e5504410b1426f9247bb680e5fe0c8"),
        ("braced", "{67e55044-10b1-426f-9247-bb680e5fe0c8}"),
        ("urn:uuid:", "urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8"),
        (
            "with a trailing space",
            "67e55044-10b1-426f-9247-bb680e5fe0c8 ",
        ),
        ("another id", "67e55044-10b1-426f-9247-bb680e5fe0c9"),
    ] {
        cases.push(Case::new(
            format!("a subject spelling the id {what}"),
            as_user(subject, get(&path)),
            Expect::not_found(),
        ));
    }
    table("ownership/uuid spellings", &db, cases).await;
}

/// `Load<R>` in a `#[public]` handler refuses (500, logged) instead of loading the resource
/// for an anonymous caller, with or without a credential.
#[tokio::test]
async fn load_in_a_public_handler_never_loads() {
    let db = Db::seeded();
    let loads_before = db.loads();
    table(
        "ownership/Load in a #[public] handler",
        &db,
        vec![
            Case::new(
                "anonymous caller",
                get("/public/invoices/1"),
                Expect::internal_error(),
            ),
            Case::new(
                "the owner's token (not examined on a public route)",
                as_user("7", get("/public/invoices/1")),
                Expect::internal_error(),
            ),
        ],
    )
    .await;
    assert_eq!(db.loads(), loads_before, "the loader ran");
}

#[test]
fn ids_compare_by_exact_text() {
    assert!(7u64.is_subject("7"));
    assert!(!7u64.is_subject("07"));
    assert!(!7u64.is_subject("+7"));
    assert!((-3i32).is_subject("-3"));
    assert!(String::from("a").is_subject("a"));
    assert!(!"a".is_subject("A"));
    assert!(Some(5u8).is_subject("5"));
    assert!(!None::<u8>.is_subject(""));
    let id = uuid::Uuid::parse_str("67E55044-10B1-426F-9247-BB680E5FE0C8").unwrap();
    assert!(id.is_subject("67e55044-10b1-426f-9247-bb680e5fe0c8"));
    assert!(!id.is_subject("67E55044-10B1-426F-9247-BB680E5FE0C8"));
    assert!(!id.is_subject("67e5504410b1426f9247bb680e5fe0c8"));
}
