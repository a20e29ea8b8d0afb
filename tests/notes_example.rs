//! The notes app (`examples/notes.rs`, one of the examples the README lists): login with
//! refresh tokens, notes only their owner reads, the admin's lock-out, login CSRF, over HTTP.

#[allow(dead_code)]
#[path = "../examples/notes.rs"]
mod notes;

use authgate::testing::{TestClient, TestResponse};
use serde_json::{Value, json};

const ACCOUNTS: [notes::Account<'static>; 3] = [
    ("alice@example.com", "alice-password", "user"),
    ("bob@example.com", "bob-password", "user"),
    ("root@example.com", "root-password", "admin"),
];

async fn client() -> TestClient {
    let router = notes::app("a notes secret of at least 32 bytes!!", &ACCOUNTS)
        .await
        .expect("the notes app");
    TestClient::new(router.into_axum())
}

async fn login(client: &TestClient, email: &str, password: &str) -> TestResponse {
    let body = json!({ "email": email, "password": password });
    client.post("/login").json(&body).send().await
}

/// The token pair of a login that must succeed.
async fn tokens(client: &TestClient, who: &str) -> (String, String) {
    let reply = login(
        client,
        &format!("{who}@example.com"),
        &format!("{who}-password"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    // An OAuth token response (RFC 6749 section 5.1).
    assert_eq!(body["token_type"], "Bearer", "{body}");
    let text = |name: &str| body[name].as_str().expect(name).to_owned();
    (text("access_token"), text("refresh_token"))
}

#[track_caller]
fn assert_refused(reply: &TestResponse, status: u16, error: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.json()["error"], error);
    assert!(reply.json().get("access_token").is_none());
}

/// The README lists the notes app among the examples, and the app stays small enough to read
/// in one go.
#[tokio::test]
async fn the_readme_lists_the_notes_app_and_it_stays_under_150_lines() {
    let readme = include_str!("../README.md");
    let source = include_str!("../examples/notes.rs");
    assert!(
        readme.contains("`notes`"),
        "README.md must list the notes example"
    );
    assert!(
        source.lines().count() < 150,
        "{} lines",
        source.lines().count()
    );
}

#[tokio::test]
async fn logins_notes_owner_checks_and_the_admin() {
    let c = client().await;
    assert_eq!(login(&c, "alice@example.com", "nope").await.status, 401);
    assert_eq!(login(&c, "nobody@example.com", "nope").await.status, 401);
    let (alice, _) = tokens(&c, "alice").await;
    let (bob, _) = tokens(&c, "bob").await;
    let (root, _) = tokens(&c, "root").await;

    let reply = c
        .post("/notes")
        .bearer(&alice)
        .body("text/plain", "buy milk")
        .send()
        .await;
    assert_eq!(reply.status, 201);
    let mine = c.get("/notes").bearer(&alice).send().await.json();
    assert_eq!(
        mine,
        json!([{ "id": 1, "owner": "alice@example.com", "text": "buy milk" }])
    );
    assert_eq!(c.get("/notes").bearer(&bob).send().await.json(), json!([]));
    assert_eq!(c.get("/notes/1").bearer(&alice).send().await.status, 200);
    // Another user: the bytes of a missing note. The admin: allowed.
    let other = c.get("/notes/1").bearer(&bob).send().await;
    let missing = c.get("/notes/99").bearer(&bob).send().await;
    assert_refused(&other, 404, "not_found");
    assert_eq!(other.body, missing.body);
    assert_eq!(c.get("/notes/1").bearer(&root).send().await.status, 200);
    assert_refused(&c.get("/notes").send().await, 401, "unauthenticated");

    // Only the admin locks a user out; then the user's tokens are refused.
    let reply = c
        .delete("/admin/users/alice@example.com")
        .bearer(&bob)
        .send()
        .await;
    assert_refused(&reply, 403, "forbidden");
    let reply = c
        .delete("/admin/users/alice@example.com")
        .bearer(&root)
        .send()
        .await;
    assert_eq!(reply.status, 204);
    assert_refused(
        &c.get("/notes").bearer(&alice).send().await,
        401,
        "invalid_token",
    );
    // A new login works at once.
    let (again, _) = tokens(&c, "alice").await;
    assert_eq!(c.get("/notes").bearer(&again).send().await.status, 200);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reuse_locks_the_thief_out() {
    let c = client().await;
    let (first, refresh) = tokens(&c, "alice").await;
    let exchange = |token: String| {
        let body = json!({ "refresh_token": token });
        let c = &c;
        async move { c.post("/token/refresh").json(&body).send().await }
    };
    let reply = exchange(refresh.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body: Value = reply.json();
    let (token, next) = (
        body["access_token"].as_str().unwrap(),
        body["refresh_token"].as_str().unwrap(),
    );
    assert_eq!(c.get("/notes").bearer(token).send().await.status, 200);
    // The first refresh token again: refused, and the family and alice's tokens end.
    assert_refused(&exchange(refresh).await, 401, "invalid_token");
    assert_refused(&exchange(next.to_owned()).await, 401, "invalid_token");
    for token in [first.as_str(), token] {
        assert_refused(
            &c.get("/notes").bearer(token).send().await,
            401,
            "invalid_token",
        );
    }
    assert_refused(&exchange("made up".into()).await, 401, "invalid_token");
}

#[tokio::test]
async fn a_cross_site_login_is_refused() {
    let c = client().await;
    let body = json!({ "email": "alice@example.com", "password": "alice-password" });
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let reply = c
            .post("/login")
            .header("host", "notes.example.com")
            .header(name, value)
            .json(&body)
            .send()
            .await;
        assert_refused(&reply, 403, "forbidden");
    }
}
