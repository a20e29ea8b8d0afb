//! Browser sessions over HTTP, the working paths: login, access, logout, rolling renewal,
//! redirects to the login page, `next` validation, builder refusals, and the SQLite store on a
//! real file. Every attack on a session (tampered, moved, duplicated, expired, revoked or
//! fixated cookies, CSRF, a failing store) lives in the security suite.

mod support;

use std::time::SystemTime;

use authgate::keys::{Algorithm, SigningKey};
use authgate::revocation::Revocations;
use authgate::sessions::Sessions;
use authgate::store::{LoginRecord, LoginStore, MemoryStore, StoreError};
use authgate::testing::Conformance;
use authgate::tokens::RefreshTokens;
use authgate::{
    ConfigProblem, CurrentUser, Gate, Identity, Router, require_auth, require_role, routing::get,
    routing::post,
};
use authgate_sqlx::{PostgresStore, SqliteStore};
use axum::http::{Method, StatusCode, header};

use support::*;

// Each #[tokio::test] runs its handlers on its own thread (current-thread runtime), so a
// thread-local counter sees only that test's handler runs.
thread_local! {
    static RUNS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn ran() {
    RUNS.with(|r| r.set(r.get() + 1));
}

fn handler_runs() -> usize {
    RUNS.with(|r| r.get())
}

#[require_auth]
async fn me(user: CurrentUser) -> String {
    ran();
    user.subject().to_owned()
}

#[require_auth(redirect = "/login")]
async fn dashboard(user: CurrentUser) -> String {
    ran();
    format!("dashboard of {}", user.subject())
}

#[require_role("admin", redirect = "/login")]
async fn admin_page() -> &'static str {
    ran();
    "admin"
}

fn app(gate: Gate) -> TestClient {
    client(
        Router::new()
            .route("/me", get(me))
            .route("/dashboard", get(dashboard))
            .route("/admin", get(admin_page))
            .route("/login", post(login))
            .route("/logout", post(logout))
            .with_state(gate)
            .into_axum(),
    )
}

/// Logs in (the body is the subject) and returns the reply.
async fn login_reply(app: &TestClient, who: &str) -> TestResponse {
    app.post("/login")
        .header("host", HOST)
        .form(who)
        .send()
        .await
}

/// Logs in and returns the cookie pair `name=value` to send back.
async fn log_in(app: &TestClient, who: &str) -> String {
    let reply = login_reply(app, who).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    cookie_pair(&reply)
}

/// `method uri` from the site with this cookie, without `Sec-Fetch-Site`.
fn with_cookie(app: &TestClient, method: Method, uri: &str, cookie: &str) -> TestRequest {
    app.request(method, uri)
        .header("host", HOST)
        .header("cookie", cookie)
}

/// Idle timeout 10 minutes, absolute lifetime 1 hour.
fn timeouts(sessions: Sessions) -> Sessions {
    sessions
        .idle_timeout(std::time::Duration::from_secs(600))
        .absolute_lifetime(std::time::Duration::from_secs(3600))
}

fn server() -> (Gate, MemoryStore, Clock) {
    let store = MemoryStore::new();
    let clock = Clock::new();
    let gate = gate_with(
        timeouts(Sessions::server_side(COOKIE, store.clone())),
        &clock,
    );
    (gate, store, clock)
}

fn stateless(clock: &Clock) -> Gate {
    gate_with(
        timeouts(Sessions::stateless(
            COOKIE,
            SigningKey::hmac(Algorithm::HS256, SECRET).unwrap(),
        )),
        clock,
    )
}

/// What a store keeps a login under: the SHA-256 of its id (a cookie's value), in hex.
fn login_key(id: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, id.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A SQLite store on the file at `path`, its tables created.
async fn sqlite_store(path: &std::path::Path) -> SqliteStore {
    let store = SqliteStore::open(path).await.expect("a SQLite store");
    store.create_tables().await.expect("the tables");
    store
}

/// A PostgreSQL store on `pool` with the tables named after `base`, created.
async fn postgres_store(pool: &sqlx::PgPool, base: &str) -> PostgresStore {
    let store = PostgresStore::new(pool.clone())
        .with_table(base)
        .expect("a table name");
    store.create_tables().await.expect("the tables");
    store
}

/// Drops the tables of a PostgreSQL store named after `base`.
async fn drop_postgres_tables(pool: &sqlx::PgPool, base: &str) {
    let drop = format!("DROP TABLE IF EXISTS {base}_logins, {base}_revocations");
    sqlx::query(sqlx::AssertSqlSafe(drop))
        .execute(pool)
        .await
        .expect("drop");
}

/// Every row of a PostgreSQL table, as JSON text.
async fn postgres_dump(pool: &sqlx::PgPool, table: &str) -> Vec<u8> {
    let sql = format!("SELECT row_to_json(t)::text FROM {table} t");
    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .expect("a dump");
    rows.concat().into_bytes()
}

#[tokio::test]
async fn server_side_login_access_logout_rejected() {
    let (gate, store, _clock) = server();
    let app = app(gate);
    let reply = login_reply(&app, "7").await;
    let set = reply.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with(&format!("{COOKIE}=")), "{set}");
    for attribute in [
        "Path=/",
        "Max-Age=3600",
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
    ] {
        assert!(
            set.split("; ").any(|a| a == attribute),
            "{attribute} missing in {set}"
        );
    }
    let cookie = set.split(';').next().unwrap().to_owned();
    let id = cookie.split_once('=').unwrap().1;
    assert_eq!(id.len(), 43, "256-bit base64url id");
    assert_eq!(store.logins().len(), 1);
    assert_eq!(store.logins()[0].key, login_key(id), "kept by its hash");

    let ok = with_cookie(&app, Method::GET, "/me", &cookie).send().await;
    assert_eq!((ok.status, ok.text().as_str()), (StatusCode::OK, "7"));

    let out = with_cookie(&app, Method::POST, "/logout", &cookie)
        .send()
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let cleared = out.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with(&format!("{COOKIE}=;")) && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert!(
        store.logins().is_empty(),
        "logout left the session in the store"
    );

    let runs = handler_runs();
    let after = with_cookie(&app, Method::GET, "/me", &cookie).send().await;
    assert_invalid_token(&after);
    assert_eq!(handler_runs(), runs);
}

#[tokio::test]
async fn stateless_login_access_logout() {
    let clock = Clock::new();
    let app = app(stateless(&clock));
    let cookie = log_in(&app, "9").await;
    let value = cookie.split_once('=').unwrap().1;
    assert_eq!(value.split('.').count(), 3, "a JWT");
    let ok = with_cookie(&app, Method::GET, "/me", &cookie).send().await;
    assert_eq!((ok.status, ok.text().as_str()), (StatusCode::OK, "9"));
    let out = with_cookie(&app, Method::POST, "/logout", &cookie)
        .send()
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(
        out.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // Expired after its lifetime, whatever the browser kept.
    clock.advance(601 + 30);
    assert_eq!(
        with_cookie(&app, Method::GET, "/me", &cookie)
            .send()
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn pages_redirect_to_login_and_apis_do_not() {
    let (gate, _store, _clock) = server();
    let app = app(gate);
    let reply = app.get("/dashboard?tab=open&x=a%20b").send().await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        reply.headers[header::LOCATION],
        "/login?next=%2Fdashboard%3Ftab%3Dopen%26x%3Da%2520b"
    );
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    // An API route answers 401, never a redirect.
    assert_eq!(app.get("/me").send().await.status, StatusCode::UNAUTHORIZED);
    // A logged-in user without the role gets 403, not a redirect.
    let cookie = log_in(&app, "7").await;
    let reply = with_cookie(&app, Method::GET, "/admin", &cookie)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.headers.get(header::LOCATION).is_none());
    let admin = log_in(&app, "admin").await;
    assert_eq!(
        with_cookie(&app, Method::GET, "/admin", &admin)
            .send()
            .await
            .status,
        StatusCode::OK
    );
}

#[test]
fn next_validation_for_login_handlers() {
    let cases = [
        ("/dashboard", "/dashboard"),
        ("/invoices?page=2", "/invoices?page=2"),
        ("//evil.example", "/home"),
        ("/\\evil.example", "/home"),
        ("https://evil.example/", "/home"),
        ("javascript:alert(1)", "/home"),
        ("/%2F%2Fevil.example", "/home"),
        ("/%5Cevil.example", "/home"),
        ("%2F%2Fevil.example", "/home"),
        ("/ok\r\nLocation: //evil", "/home"),
        ("/%0d%0aSet-Cookie:x", "/home"),
        ("", "/home"),
    ];
    for (next, want) in cases {
        assert_eq!(
            authgate::sessions::safe_next(Some(next), "/home"),
            want,
            "{next:?}"
        );
    }
}

#[tokio::test]
async fn stateless_cookies_roll_before_expiry_but_not_past_the_absolute_lifetime() {
    let clock = Clock::new();
    let app = app(stateless(&clock));
    let cookie = log_in(&app, "7").await;
    clock.advance(200);
    let early = with_cookie(&app, Method::GET, "/me", &cookie).send().await;
    assert!(
        early.headers.get(header::SET_COOKIE).is_none(),
        "renewed too early"
    );
    clock.advance(200);
    let due = with_cookie(&app, Method::GET, "/me", &cookie).send().await;
    assert_eq!(due.status, StatusCode::OK);
    let renewed = due.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        renewed.contains("Max-Age=600") && renewed.contains("HttpOnly"),
        "{renewed}"
    );
    let mut cookie = renewed.split(';').next().unwrap().to_owned();
    // Keep rolling: the session still ends at the absolute lifetime (3600 s).
    let mut last_ok = 400;
    for _ in 0..20 {
        clock.advance(400);
        let reply = with_cookie(&app, Method::GET, "/me", &cookie).send().await;
        if reply.status != StatusCode::OK {
            break;
        }
        last_ok += 400;
        if let Some(set) = reply.headers.get(header::SET_COOKIE) {
            cookie = set.to_str().unwrap().split(';').next().unwrap().to_owned();
        }
    }
    assert!(
        (3200..=3600 + 30).contains(&last_ok),
        "session lasted {last_ok} s"
    );
}

#[test]
fn insecure_cookies_are_refused_with_host_prefix() {
    let err = Gate::builder()
        .issuer(test_issuer())
        .sessions(
            Sessions::server_side("__Host-s", MemoryStore::new()).insecure_for_local_development(),
        )
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("needs `Secure`"), "{err}");
    assert!(
        matches!(
            err.problems(),
            [ConfigProblem::InsecurePrefixedCookie { name }] if name == "__Host-s"
        ),
        "{err}"
    );
    // A stateless cookie is verified with its own key only: a key no issuer has is fine.
    let stateless = Gate::builder()
        .issuer(test_issuer())
        .sessions(Sessions::stateless(
            "s",
            SigningKey::hmac(Algorithm::HS256, b"another secret of 32 bytes......").unwrap(),
        ))
        .build();
    assert!(stateless.is_ok(), "{stateless:?}");
    let ok = Gate::builder()
        .issuer(test_issuer())
        .sessions(
            Sessions::server_side("dev-session", MemoryStore::new())
                .insecure_for_local_development(),
        )
        .build();
    assert!(ok.is_ok());
}

#[tokio::test]
async fn sqlite_store_persists_across_restarts() {
    let file = TempDb::new("sessions");
    let clock = Clock::new();
    let cookie = {
        let store = sqlite_store(&file.0).await;
        let app = app(gate_with(Sessions::server_side(COOKIE, store), &clock));
        let cookie = log_in(&app, "7").await;
        log_in(&app, "7").await;
        assert_eq!(
            with_cookie(&app, Method::GET, "/me", &cookie)
                .send()
                .await
                .status,
            StatusCode::OK
        );
        cookie
    };
    // A new store on the same file: the "restarted" server still knows the session.
    let store = sqlite_store(&file.0).await;
    let gate = gate_with(Sessions::server_side(COOKIE, store.clone()), &clock);
    let app = app(gate.clone());
    let reply = with_cookie(&app, Method::GET, "/me", &cookie).send().await;
    assert_eq!((reply.status, reply.text().as_str()), (StatusCode::OK, "7"));
    assert_eq!(gate.revoke_user("7").await.unwrap(), 2);
    assert_eq!(
        with_cookie(&app, Method::GET, "/me", &cookie)
            .send()
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let cookie = log_in(&app, "8").await;
    let key = login_key(cookie_value(&cookie));
    assert!(
        store.load(&key).await.unwrap().is_some(),
        "kept by its hash"
    );
    assert_eq!(
        with_cookie(&app, Method::POST, "/logout", &cookie)
            .send()
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert!(store.load(&key).await.unwrap().is_none());
}

// ---------------------------------------------------------------------------------------------
// The login store contract: no resurrection, no session id or refresh token in a store, one
// winner of concurrent rotations, purge. `Conformance::logins` checks sessions and refresh
// families alike: both are a `LoginRecord`.

#[tokio::test]
async fn memory_and_sqlite_stores_meet_the_contract() {
    let memory = MemoryStore::new();
    let dump = memory.clone();
    Conformance::logins(memory)
        .written(move || {
            let logins = dump.logins();
            async move { format!("{logins:?}").into_bytes() }
        })
        .assert()
        .await;

    let file = TempDb::new("conformance");
    let store = sqlite_store(&file.0).await;
    let path = file.0.clone();
    Conformance::logins(store)
        .written(move || {
            let path = path.clone();
            async move { TempDb::bytes(&path) }
        })
        .assert()
        .await;
}

/// The suite fails a store that writes the session back on `touch` (an upsert): the
/// revoke-during-touch race of the old `save`.
#[tokio::test]
async fn the_contract_catches_a_store_that_resurrects() {
    #[derive(Clone, Default)]
    struct Upserting(
        MemoryStore,
        std::sync::Arc<std::sync::Mutex<Vec<LoginRecord>>>,
    );
    impl LoginStore for Upserting {
        async fn create(&self, r: &LoginRecord) -> Result<(), StoreError> {
            self.1.lock().unwrap().push(r.clone());
            self.0.create(r).await
        }
        async fn load(&self, k: &str) -> Result<Option<LoginRecord>, StoreError> {
            self.0.load(k).await
        }
        async fn touch(&self, k: &str, at: SystemTime) -> Result<bool, StoreError> {
            // Writes the record back whole, as `save` did.
            let known = self.1.lock().unwrap().iter().find(|r| r.key == k).cloned();
            if let Some(mut record) = known {
                record.last_used = at;
                self.0.create(&record).await?;
            }
            Ok(true)
        }
        async fn rotate(
            &self,
            k: &str,
            presented: &str,
            next: &str,
            at: SystemTime,
        ) -> Result<bool, StoreError> {
            self.0.rotate(k, presented, next, at).await
        }
        async fn replace_data(&self, k: &str, old: &str, new: &str) -> Result<bool, StoreError> {
            self.0.replace_data(k, old, new).await
        }
        async fn delete(&self, k: &str) -> Result<(), StoreError> {
            self.0.delete(k).await
        }
        async fn delete_user(&self, s: &str) -> Result<u64, StoreError> {
            self.0.delete_user(s).await
        }
        async fn purge_expired(&self, now: SystemTime) -> Result<u64, StoreError> {
            self.0.purge_expired(now).await
        }
    }
    let failures = Conformance::logins(Upserting::default())
        .run()
        .await
        .expect_err("an upserting touch breaks the contract");
    assert!(
        failures.iter().any(|f| f.contains("revocation")),
        "{failures:?}"
    );
}

/// A store that pauses every `load` until the test lets it go on, to run a revocation in
/// between a request's load and its last-used write.
#[derive(Clone)]
struct Pausing<S> {
    inner: S,
    loaded: std::sync::Arc<tokio::sync::Notify>,
    resume: std::sync::Arc<tokio::sync::Notify>,
}

impl<S: LoginStore + Clone> LoginStore for Pausing<S> {
    async fn create(&self, r: &LoginRecord) -> Result<(), StoreError> {
        self.inner.create(r).await
    }
    async fn load(&self, k: &str) -> Result<Option<LoginRecord>, StoreError> {
        let found = self.inner.load(k).await;
        self.loaded.notify_one();
        self.resume.notified().await;
        found
    }
    async fn touch(&self, k: &str, at: SystemTime) -> Result<bool, StoreError> {
        self.inner.touch(k, at).await
    }
    async fn rotate(
        &self,
        k: &str,
        presented: &str,
        next: &str,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        self.inner.rotate(k, presented, next, at).await
    }
    async fn replace_data(&self, k: &str, old: &str, new: &str) -> Result<bool, StoreError> {
        self.inner.replace_data(k, old, new).await
    }
    async fn delete(&self, k: &str) -> Result<(), StoreError> {
        self.inner.delete(k).await
    }
    async fn delete_user(&self, s: &str) -> Result<u64, StoreError> {
        self.inner.delete_user(s).await
    }
    async fn purge_expired(&self, now: SystemTime) -> Result<u64, StoreError> {
        self.inner.purge_expired(now).await
    }
}

/// The race the outside review reproduced: a request loads its session, `revoke_user` runs,
/// then the request writes last-used. The request gets 401 and the cookie stays dead, for the
/// memory and the SQLite store.
#[tokio::test]
async fn a_revocation_during_a_request_stays_done() {
    let file = TempDb::new("race");
    let sqlite = sqlite_store(&file.0).await;
    race_against(MemoryStore::new()).await;
    race_against(sqlite).await;
}

async fn race_against<S: LoginStore + Clone>(store: S) {
    let loaded = std::sync::Arc::new(tokio::sync::Notify::new());
    let resume = std::sync::Arc::new(tokio::sync::Notify::new());
    let pausing = Pausing {
        inner: store.clone(),
        loaded: loaded.clone(),
        resume: resume.clone(),
    };
    let clock = Clock::new();
    let gate = gate_with(timeouts(Sessions::server_side(COOKIE, pausing)), &clock);
    let cookie = login_cookie(&gate, Identity::new("alice")).await;
    let app = app(gate.clone());
    // Last-used is due: the request will write it after its load.
    clock.advance(120);
    let request = tokio::spawn({
        let app = app.clone();
        let cookie = cookie.clone();
        async move { with_cookie(&app, Method::GET, "/me", &cookie).send().await }
    });
    loaded.notified().await;
    assert_eq!(gate.revoke_user("alice").await.expect("revoke"), 1);
    resume.notify_one();
    let reply = request.await.expect("the request");
    assert_invalid_token(&reply);
    // The session was not written back: the next request with the cookie is refused too.
    let next = tokio::spawn({
        let app = app.clone();
        async move { with_cookie(&app, Method::GET, "/me", &cookie).send().await }
    });
    loaded.notified().await;
    resume.notify_one();
    assert_invalid_token(&next.await.expect("the request"));
}

/// Expired sessions are deleted in the background, by the Gate's clock, without a request
/// for them.
#[tokio::test]
async fn expired_sessions_are_purged_in_the_background() {
    let store = MemoryStore::new();
    let clock = Clock::new();
    let gate = gate_with(
        timeouts(Sessions::server_side(COOKIE, store.clone()))
            .purge_every(std::time::Duration::from_millis(200)),
        &clock,
    );
    let active = login_cookie(&gate, Identity::new("7")).await;
    login_cookie(&gate, Identity::new("8")).await;
    let app = app(gate);
    // The first request that reads a session starts the purge.
    let reply = with_cookie(&app, Method::GET, "/me", &active).send().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(store.logins().len(), 2);
    clock.advance(3600);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !store.logins().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "not purged: {} left",
            store.logins().len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The stores on servers: PostgreSQL and Redis, when the tests are told where they are.

#[tokio::test]
async fn postgres_and_redis_stores_meet_the_contract() {
    if let Some((pool, base)) = postgres("the store contract").await {
        let store = postgres_store(&pool, &base).await;
        let (dump, table) = (pool.clone(), format!("{base}_logins"));
        Conformance::logins(store)
            .written(move || {
                let (pool, table) = (dump.clone(), table.clone());
                async move { postgres_dump(&pool, &table).await }
            })
            .assert()
            .await;
        drop_postgres_tables(&pool, &base).await;
    }
    if let Some((url, prefix)) = redis("the store contract").await {
        let store = authgate_redis::RedisStore::connect(&url)
            .await
            .expect("a store")
            .with_prefix(prefix.clone());
        let client = ::redis::Client::open(url.as_str()).expect("a client");
        Conformance::logins(store)
            .written(move || {
                let (client, prefix) = (client.clone(), prefix.clone());
                async move { redis_dump(&client, &prefix).await }
            })
            .assert()
            .await;
    }
}

/// The revocation race of the outside review, on the stores of several instances.
#[tokio::test]
async fn a_revocation_during_a_request_stays_done_on_postgres_and_redis() {
    if let Some((pool, base)) = postgres("the revocation race").await {
        race_against(postgres_store(&pool, &base).await).await;
        drop_postgres_tables(&pool, &base).await;
    }
    if let Some((url, prefix)) = redis("the revocation race").await {
        let store = authgate_redis::RedisStore::connect(&url)
            .await
            .expect("a store")
            .with_prefix(prefix);
        race_against(store).await;
    }
}

// ---------------------------------------------------------------------------------------------
// A login ends the session the browser presented (issue 17): never two sessions.

#[tokio::test]
async fn a_login_ends_the_session_the_browser_presented() {
    let (gate, store, _clock) = server();
    let app = app(gate);
    let first = log_in(&app, "alice").await;
    assert_eq!(store.logins().len(), 1);
    // The same browser logs in again (another account, or the same): its cookie goes along.
    let reply = app
        .post("/login")
        .header("host", HOST)
        .header("cookie", &first)
        .form("bob")
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    let second = cookie_pair(&reply);
    assert_ne!(first, second, "a fresh id");
    assert_eq!(
        store.logins().len(),
        1,
        "the presented session was ended, not kept beside"
    );
    let before = handler_runs();
    let old = with_cookie(&app, Method::GET, "/me", &first).send().await;
    assert_invalid_token(&old);
    assert_eq!(
        handler_runs(),
        before,
        "the old session no longer runs a handler"
    );
    let new = with_cookie(&app, Method::GET, "/me", &second).send().await;
    assert_ok(&new, "bob");

    // Stateless cookies, with revocations: the presented cookie is revoked on login.
    let clock = Clock::new();
    let gate = gate_builder()
        .sessions(timeouts(Sessions::stateless(
            COOKIE,
            SigningKey::hmac(Algorithm::HS256, SECRET).unwrap(),
        )))
        .revocations(Revocations::new(MemoryStore::new()))
        .clock(clock.reader())
        .build()
        .unwrap();
    assert!(gate.ready(std::time::Duration::from_secs(5)).await);
    let app = self::app(gate);
    let first = log_in(&app, "alice").await;
    let reply = app
        .post("/login")
        .header("host", HOST)
        .header("cookie", &first)
        .form("alice")
        .send()
        .await;
    let second = cookie_pair(&reply);
    assert_invalid_token(&with_cookie(&app, Method::GET, "/me", &first).send().await);
    assert_ok(
        &with_cookie(&app, Method::GET, "/me", &second).send().await,
        "alice",
    );
}

// ---------------------------------------------------------------------------------------------
// Refresh token families (issue 17) live in the login store: a Gate issues and rotates them
// on SQLite, and the suite catches a rotation that is not one atomic step.

/// A family started on a SQLite file is exchanged once, by a Gate on a second pool (another
/// process), and keeps only hashes.
#[tokio::test]
async fn refresh_families_rotate_on_sqlite() {
    let file = TempDb::new("refresh");
    let gate = |store: SqliteStore| {
        gate_builder()
            .revocations(Revocations::new(MemoryStore::new()))
            .refresh_tokens(RefreshTokens::new(store))
            .build()
            .expect("a gate")
    };
    let a = gate(sqlite_store(&file.0).await);
    let b = gate(sqlite_store(&file.0).await);
    let tokens = a.issue(&Identity::new("7")).await.expect("a family");
    let first = tokens.refresh_token().expect("a refresh token");
    let next = b.refresh(first).await.expect("exchanged");
    assert!(b.refresh(first).await.is_err(), "a used token is refused");
    let bytes = TempDb::bytes(&file.0);
    for secret in [first, next.refresh_token().expect("the next token")] {
        let leaked = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!leaked, "a refresh token in the file");
    }
}

/// The suite fails a store whose rotation is a read followed by a write (not one atomic
/// step): two concurrent exchanges of one token then both win.
#[tokio::test]
async fn the_contract_catches_a_rotation_that_is_not_atomic() {
    #[derive(Clone, Default)]
    struct ReadThenWrite(MemoryStore);
    impl LoginStore for ReadThenWrite {
        async fn create(&self, r: &LoginRecord) -> Result<(), StoreError> {
            self.0.create(r).await
        }
        async fn load(&self, k: &str) -> Result<Option<LoginRecord>, StoreError> {
            self.0.load(k).await
        }
        async fn touch(&self, k: &str, at: SystemTime) -> Result<bool, StoreError> {
            self.0.touch(k, at).await
        }
        async fn rotate(
            &self,
            k: &str,
            presented: &str,
            next: &str,
            now: SystemTime,
        ) -> Result<bool, StoreError> {
            let Some(mut family) = self.0.load(k).await? else {
                return Ok(false);
            };
            if family.current.as_deref() != Some(presented) {
                return Ok(false);
            }
            tokio::task::yield_now().await; // a round trip between the read and the write
            family.current = Some(next.to_owned());
            family.last_used = now;
            self.0.create(&family).await?;
            Ok(true)
        }
        async fn replace_data(&self, k: &str, old: &str, new: &str) -> Result<bool, StoreError> {
            self.0.replace_data(k, old, new).await
        }
        async fn delete(&self, k: &str) -> Result<(), StoreError> {
            self.0.delete(k).await
        }
        async fn delete_user(&self, s: &str) -> Result<u64, StoreError> {
            self.0.delete_user(s).await
        }
        async fn purge_expired(&self, now: SystemTime) -> Result<u64, StoreError> {
            self.0.purge_expired(now).await
        }
    }
    let failures = Conformance::logins(ReadThenWrite::default())
        .run()
        .await
        .unwrap_err();
    assert!(
        failures
            .iter()
            .any(|f| f.starts_with("exactly one of two concurrent rotations wins")),
        "{failures:?}"
    );
}

/// Redis drops a login at its absolute end by itself (the key's expiry), and a touch, which
/// rewrites `last_used` in place, keeps that expiry.
#[tokio::test]
async fn redis_expires_a_session_at_its_absolute_end_after_a_touch_too() {
    let Some((url, prefix)) = redis("the session's own expiry").await else {
        return;
    };
    let store = authgate_redis::RedisStore::connect(&url)
        .await
        .expect("a store")
        .with_prefix(prefix.clone());
    let now = unix_now();
    let key = login_key("an id for the expiry test");
    let record = LoginRecord {
        key: key.clone(),
        subject: "expiry".to_owned(),
        current: None,
        last_used: at(now),
        expires_at: at(now + 3600),
        data: "{}".to_owned(),
    };
    store.create(&record).await.expect("created");
    let client = ::redis::Client::open(url.as_str()).expect("a client");
    let mut redis = client
        .get_multiplexed_async_connection()
        .await
        .expect("a connection");
    let name = format!("{prefix}:login:{key}");
    let expiry = || {
        let mut redis = redis.clone();
        let name = name.clone();
        async move {
            ::redis::cmd("EXPIRETIME")
                .arg(&name)
                .query_async::<i64>(&mut redis)
                .await
                .expect("EXPIRETIME")
        }
    };
    assert_eq!(expiry().await, i64::try_from(now + 3600).expect("a time"));
    assert!(store.touch(&key, at(now + 120)).await.expect("touched"));
    assert_eq!(expiry().await, i64::try_from(now + 3600).expect("a time"));
    let loaded = store.load(&key).await.expect("loaded").expect("a session");
    assert_eq!(loaded.last_used, at(now + 120));
    assert_eq!(
        LoginRecord {
            last_used: at(now),
            ..loaded
        },
        record
    );
    store.delete(&key).await.expect("deleted");
    let left: Vec<String> = ::redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut redis)
        .await
        .expect("keys");
    assert!(left.is_empty(), "{left:?}");
}

/// A login Redis expired on its own (at its absolute end, with nothing left to read its
/// subject from) leaves its key in the user's set only until the purge at that end, which
/// finds the subject in the expiry set.
#[tokio::test]
async fn redis_drops_expired_sessions_from_the_users_set_at_the_purge() {
    let Some((url, prefix)) = redis("the user's set of sessions").await else {
        return;
    };
    let store = authgate_redis::RedisStore::connect(&url)
        .await
        .expect("a store")
        .with_prefix(prefix.clone());
    let now = unix_now();
    let record = |id: &str, expires_at: u64| LoginRecord {
        key: login_key(id),
        subject: "pruned".to_owned(),
        current: None,
        last_used: at(now - 10),
        expires_at: at(expires_at),
        data: "{}".to_owned(),
    };
    // Redis drops a key whose expiry has passed at once.
    let gone = record("a session that has ended", now - 1);
    store.create(&gone).await.expect("created");
    assert!(store.load(&gone.key).await.expect("a load").is_none());
    let client = ::redis::Client::open(url.as_str()).expect("a client");
    let mut redis = client
        .get_multiplexed_async_connection()
        .await
        .expect("a connection");
    let members = |mut redis: ::redis::aio::MultiplexedConnection| {
        let set = format!("{prefix}:user:pruned");
        async move {
            let mut members: Vec<String> = ::redis::cmd("SMEMBERS")
                .arg(&set)
                .query_async(&mut redis)
                .await
                .expect("SMEMBERS");
            members.sort();
            members
        }
    };
    assert_eq!(members(redis.clone()).await, [gone.key.as_str()]);
    let live = record("a live session", now + 3600);
    store.create(&live).await.expect("created");
    // The purge deletes nothing (Redis did), and prunes the set.
    assert_eq!(store.purge_expired(at(now)).await.expect("purged"), 0);
    assert_eq!(members(redis.clone()).await, [live.key.as_str()]);
    assert_eq!(store.delete_user("pruned").await.expect("deleted"), 1);
    let left: Vec<String> = ::redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut redis)
        .await
        .expect("keys");
    assert!(left.is_empty(), "{left:?}");
}

/// Now, in whole seconds since the epoch.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock")
        .as_secs()
}

/// A table base name goes into the store's statements unquoted: only a plain name, short
/// enough for PostgreSQL to keep every name derived from it whole, is accepted.
#[tokio::test]
async fn postgres_refuses_a_table_name_it_could_not_keep_whole() {
    let Some((pool, base)) = postgres("the table's name").await else {
        return;
    };
    let store = || PostgresStore::new(pool.clone());
    assert!(store().with_table(&base).is_ok(), "{base}");
    let long = store().with_table(&"a".repeat(45)).expect_err("refused");
    assert!(long.to_string().contains("at most 44"), "{long}");
    for bad in ["Sessions", "a;drop", "1a", ""] {
        assert!(store().with_table(bad).is_err(), "{bad:?}");
    }
}
