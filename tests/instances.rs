//! Several instances, one state: revocation of bearer tokens and stateless cookies (the
//! local view, its feed, failing closed when the feed is down), the revocation stores'
//! contract, and two Gates with their own connections sharing one PostgreSQL and one Redis
//! (sessions, refresh families, reuse, and a bearer logout ending its login).

mod support;

use std::time::{Duration, Instant};

use authgate::keys::{Algorithm, SigningKey};
use authgate::revocation::Revocations;
use authgate::sessions::Sessions;
use authgate::store::{MemoryStore, RevocationStore};
use authgate::testing::Conformance;
use authgate::tokens::RefreshTokens;
use authgate::{
    CurrentUser, Gate, Identity, RejectionKind, Router, require_auth, routing::get, routing::post,
};
use authgate_redis::RedisStore;
use authgate_sqlx::{PostgresStore, SqliteStore};
use axum::extract::State;
use serde_json::json;

use support::*;

#[require_auth]
async fn me(user: CurrentUser, State(hits): State<Hits>) -> String {
    hits.hit();
    user.subject().to_owned()
}

/// One instance: `GET /me` behind `gate`.
struct Instance {
    gate: Gate,
    hits: Hits,
    client: TestClient,
}

impl Instance {
    fn new(gate: Gate) -> Self {
        let state = AppState::new(gate.clone());
        let hits = state.hits.clone();
        let router = Router::new()
            .route("/me", get(me))
            .route("/logout", post(logout))
            .with_state(state);
        Instance {
            gate,
            hits,
            client: client(router.into_axum()),
        }
    }

    async fn bearer(&self, token: &str) -> TestResponse {
        self.client.get("/me").bearer(token).send().await
    }

    async fn cookie(&self, pair: &str) -> TestResponse {
        self.client.get("/me").cookie(pair).send().await
    }

    /// `POST /logout` with this session cookie, from the app's own origin.
    async fn logout(&self, pair: &str) -> TestResponse {
        self.client
            .post("/logout")
            .header("host", HOST)
            .cookie(pair)
            .send()
            .await
    }
}

/// Quick settings, so the staleness tests take a fraction of a second.
fn quick(revocations: Revocations) -> Revocations {
    revocations
        .staleness(Duration::from_millis(300))
        .heartbeat_every(Duration::from_millis(30))
}

async fn ready(gate: &Gate) {
    assert!(
        gate.ready(Duration::from_secs(5)).await,
        "revocation view loaded"
    );
}

/// A token for `sub` with this `jti`, issued at `iat`.
fn token_with(sub: &str, jti: &str, iat: u64) -> String {
    hs256(&with(
        with(claims(sub), "jti", json!(jti)),
        "iat",
        json!(iat),
    ))
}

/// Polls until `check` holds, for at most 5 s: what a recovery "on its own" must reach.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < Duration::from_secs(5), "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_revoked_token_is_refused_with_401_even_from_the_cache() {
    let store = MemoryStore::new();
    let gate = gate_builder()
        .revocations(Revocations::new(store.clone()))
        .build()
        .unwrap();
    ready(&gate).await;
    let app = Instance::new(gate.clone());
    let alice = token_with("alice", "t-alice-1", NOW);
    let other = token_with("alice", "t-alice-2", NOW);
    // Verified once: the next request would be a cache hit.
    assert_ok(&app.bearer(&alice).await, "alice");
    assert_eq!(gate.cached_tokens(), 1);
    gate.revoke_token_id("t-alice-1", at(NOW + 600))
        .await
        .unwrap();
    let before = app.hits.count();
    let reply = app.bearer(&alice).await;
    assert_invalid_token(&reply);
    assert_eq!(app.hits.count(), before, "the handler did not run");
    // Only that token: another of the same subject still works.
    assert_ok(&app.bearer(&other).await, "alice");
    // The store holds it until the token expires (plus the leeway), for other instances.
    assert_eq!(store.revocations().len(), 1);
    let held = store.entries(at(NOW + 600)).await.unwrap();
    assert_eq!(
        held,
        store.revocations(),
        "still held when the token expires"
    );
    let after = store.entries(at(NOW + 600 + 31)).await.unwrap();
    assert!(after.is_empty(), "held past the token's expiry and leeway");
}

#[tokio::test]
async fn revoking_a_subject_ends_what_it_was_issued_up_to_now_and_nothing_later() {
    let gate = gate_builder()
        .revocations(Revocations::new(MemoryStore::new()))
        .build()
        .unwrap();
    ready(&gate).await;
    let app = Instance::new(gate.clone());
    let old = token_with("bob", "t-bob-1", NOW - 60);
    let same_second = token_with("bob", "t-bob-2", NOW);
    let carol = token_with("carol", "t-carol", NOW - 60);
    assert_ok(&app.bearer(&old).await, "bob");
    assert_eq!(gate.revoke_user("bob").await.unwrap(), 0);
    let before = app.hits.count();
    for token in [&old, &same_second] {
        let reply = app.bearer(token).await;
        assert_invalid_token(&reply);
    }
    assert_eq!(app.hits.count(), before, "the handler did not run");
    // Issued after the revocation's second, and other subjects: unaffected.
    assert_ok(
        &app.bearer(&token_with("bob", "t-bob-3", NOW + 1)).await,
        "bob",
    );
    assert_ok(&app.bearer(&carol).await, "carol");
    assert_eq!(gate.revocations_in_view(), 1);
}

#[tokio::test]
async fn with_revocations_a_token_without_iat_is_refused() {
    let gate = gate_builder()
        .revocations(Revocations::new(MemoryStore::new()))
        .build()
        .unwrap();
    ready(&gate).await;
    let app = Instance::new(gate);
    let no_iat = hs256(&without(claims("dave"), "iat"));
    let reply = app.bearer(&no_iat).await;
    assert_invalid_token(&reply);
    assert_eq!(app.hits.count(), 0);
    // The same token through a Gate without revocations is fine: the rule is theirs.
    assert_ok(
        &Instance::new(support::gate()).bearer(&no_iat).await,
        "dave",
    );
}

#[tokio::test]
async fn a_stateless_cookie_is_revoked_at_logout() {
    let key = SigningKey::hmac(Algorithm::HS256, SECRET).unwrap();
    let gate = gate_builder()
        .sessions(Sessions::stateless(COOKIE, key))
        .revocations(Revocations::new(MemoryStore::new()))
        .build()
        .unwrap();
    ready(&gate).await;
    let app = Instance::new(gate.clone());
    let cookie = login_cookie(&gate, Identity::new("erin")).await;
    assert_ok(&app.cookie(&cookie).await, "erin");
    assert_eq!(app.logout(&cookie).await.status, 204);
    // A copy the browser did not drop (or a thief kept) is refused from now on.
    let before = app.hits.count();
    let reply = app.cookie(&cookie).await;
    assert_invalid_token(&reply);
    assert_eq!(app.hits.count(), before, "the handler did not run");
}

#[tokio::test]
async fn a_store_down_at_start_answers_503_then_serves_once_it_is_up() {
    let store = MemoryStore::new();
    store.set_down(true);
    let gate = gate_builder()
        .revocations(quick(Revocations::new(store.clone())))
        .build()
        .unwrap();
    let app = Instance::new(gate.clone());
    let token = token_with("frank", "t-frank", NOW);
    assert!(!gate.ready(Duration::from_millis(200)).await);
    let reply = app.bearer(&token).await;
    assert_rejection(&reply, 503, "unavailable", None);
    assert_eq!(app.hits.count(), 0, "the handler did not run");
    // A bad token is still a 401: only a valid one needs the view.
    let reply = app.bearer(&flip_last(&token)).await;
    assert_invalid_token(&reply);
    // Anonymous callers are told to authenticate, as always.
    assert_unauthenticated(&app.client.get("/me").send().await);
    store.set_down(false);
    ready(&gate).await;
    assert_ok(&app.bearer(&token).await, "frank");
}

#[tokio::test]
async fn a_feed_down_longer_than_the_staleness_bound_fails_closed_and_recovers_alone() {
    let store = MemoryStore::new();
    let gate = gate_builder()
        .revocations(quick(Revocations::new(store.clone())))
        .build()
        .unwrap();
    ready(&gate).await;
    let app = Instance::new(gate.clone());
    let token = token_with("grace", "t-grace", NOW);
    assert_ok(&app.bearer(&token).await, "grace");
    let down_at = Instant::now();
    store.set_down(true);
    // Cached and valid, but the view can no longer be trusted: 503 once the bound passes,
    // and not before it.
    eventually("503 while the store is down", || async {
        app.bearer(&token).await.status == 503
    })
    .await;
    let waited = down_at.elapsed();
    assert!(
        waited >= Duration::from_millis(200),
        "failed closed after {waited:?}, before the bound"
    );
    let before = app.hits.count();
    assert_rejection(&app.bearer(&token).await, 503, "unavailable", None);
    assert_eq!(app.hits.count(), before, "the handler did not run");
    // A revocation made elsewhere while this Gate was cut off is in the reload.
    store.set_down(false);
    let other = gate_builder()
        .revocations(Revocations::new(store.clone()))
        .build()
        .unwrap();
    ready(&other).await;
    let revoked = token_with("grace", "t-grace-revoked", NOW);
    other
        .revoke_token_id("t-grace-revoked", at(NOW + 600))
        .await
        .unwrap();
    eventually("serving again without a restart", || async {
        app.bearer(&token).await.status == 200
    })
    .await;
    assert_invalid_token(&app.bearer(&revoked).await);
}

#[tokio::test]
async fn server_side_sessions_do_not_depend_on_the_revocation_view() {
    // A revocation store of its own, which is down; the sessions are in another.
    let store = MemoryStore::new();
    store.set_down(true);
    let gate = gate_builder()
        .sessions(Sessions::server_side(COOKIE, MemoryStore::new()))
        .revocations(quick(Revocations::new(store)))
        .build()
        .unwrap();
    let app = Instance::new(gate.clone());
    let cookie = login_cookie(&gate, Identity::new("heidi")).await;
    // The session store answers for its own sessions: no 503 from the view.
    assert_ok(&app.cookie(&cookie).await, "heidi");
}

#[tokio::test]
async fn revocation_stores_meet_the_contract() {
    Conformance::revocations(MemoryStore::new()).assert().await;
    let file = TempDb::new("revocation-conformance");
    let store = SqliteStore::new(file.pool().await);
    store.create_tables().await.expect("the tables");
    Conformance::revocations(store).assert().await;
    if let Some((pool, base)) = postgres("the revocation store contract").await {
        let store = postgres_store(&pool, &base).await;
        Conformance::revocations(store).assert().await;
        drop_tables(&pool, &base).await;
    }
    if let Some((url, prefix)) = redis("the revocation store contract").await {
        let store = RedisStore::connect(&url)
            .await
            .expect("a store")
            .with_prefix(prefix);
        Conformance::revocations(store).assert().await;
    }
}

/// Two processes on one SQLite file are two pools: a revocation made through one holds
/// through the other, which learns it by polling.
#[tokio::test]
async fn two_gates_on_one_sqlite_file_share_revocations() {
    let file = TempDb::new("revocations-shared");
    let instance = async || {
        let store = SqliteStore::new(file.pool().await);
        store.create_tables().await.expect("the tables");
        let gate = gate_builder()
            .revocations(quick(Revocations::new(store)))
            .build()
            .unwrap();
        ready(&gate).await;
        Instance::new(gate)
    };
    let (a, b) = (instance().await, instance().await);
    let token = token_with("ivan", "t-ivan", NOW);
    assert_ok(&b.bearer(&token).await, "ivan");
    a.gate
        .revoke_token_id("t-ivan", at(NOW + 600))
        .await
        .unwrap();
    eventually("B refuses the token revoked on A", || async {
        b.bearer(&token).await.status == 401
    })
    .await;
    assert_invalid_token(&b.bearer(&token).await);
    // Still current on B: its heartbeats come back through the same file.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_ok(
        &b.bearer(&token_with("ivan", "t-ivan-2", NOW)).await,
        "ivan",
    );
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
async fn drop_tables(pool: &sqlx::PgPool, base: &str) {
    let drop = format!("DROP TABLE IF EXISTS {base}_logins, {base}_revocations");
    sqlx::query(sqlx::AssertSqlSafe(drop))
        .execute(pool)
        .await
        .expect("drop");
}

// ---------------------------------------------------------------------------------------------
// Two instances: two Gates, each with its own connections, sharing one PostgreSQL or Redis.

/// The shared stores of one backend, opened anew for each instance.
#[derive(Clone)]
enum Backend {
    Postgres { url: String, table: String },
    Redis { url: String, prefix: String },
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Postgres { .. } => "PostgreSQL",
            Backend::Redis { .. } => "Redis",
        }
    }

    /// A new instance: its own pools and connections, the shared tables or keys, one store
    /// for the sessions, the refresh tokens and the revocations.
    async fn instance(&self) -> Instance {
        match self {
            Backend::Postgres { url, table } => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(4)
                    .connect(url)
                    .await
                    .expect("PostgreSQL");
                Backend::gate(postgres_store(&pool, table).await).await
            }
            Backend::Redis { url, prefix } => {
                let store = RedisStore::connect(url)
                    .await
                    .expect("Redis")
                    .with_prefix(prefix.clone());
                Backend::gate(store).await
            }
        }
    }

    /// An instance whose Gate keeps everything in `store`.
    async fn gate<S>(store: S) -> Instance
    where
        S: authgate::store::LoginStore + RevocationStore + Clone,
    {
        let gate = gate_builder()
            .sessions(Sessions::server_side(COOKIE, store.clone()))
            .refresh_tokens(RefreshTokens::new(store.clone()))
            .revocations(Revocations::new(store).staleness(Duration::from_secs(2)))
            .build()
            .expect("a gate");
        ready(&gate).await;
        Instance::new(gate)
    }

    async fn clean_up(&self) {
        if let Backend::Postgres { url, table } = self {
            let pool = sqlx::PgPool::connect(url).await.expect("PostgreSQL");
            drop_tables(&pool, table).await;
        }
    }
}

/// The backends the environment has; one `skipped:` line for each it has not.
async fn backends(test: &str) -> Vec<Backend> {
    let mut found = Vec::new();
    if let Some((pool, table)) = postgres(test).await {
        pool.close().await;
        let url = std::env::var("AUTHGATE_TEST_POSTGRES_URL").expect("set");
        found.push(Backend::Postgres { url, table });
    }
    if let Some((url, prefix)) = redis(test).await {
        found.push(Backend::Redis { url, prefix });
    }
    found
}

#[tokio::test]
async fn two_instances_share_sessions_and_revocations() {
    for backend in backends("two instances").await {
        let name = backend.name();
        let (a, b) = (backend.instance().await, backend.instance().await);
        // Logged in on A, known on B.
        let cookie = login_cookie(&a.gate, Identity::new("judy")).await;
        assert_ok(&b.cookie(&cookie).await, "judy");
        // Logged out on A: B refuses the next request.
        assert_eq!(a.logout(&cookie).await.status, 204, "{name}");
        let before = b.hits.count();
        assert_invalid_token(&b.cookie(&cookie).await);
        assert_eq!(b.hits.count(), before, "{name}: the handler did not run");

        // A subject revoked on A: B refuses its bearer tokens, cache hits included, within
        // the feed's delay.
        let mut delays = Vec::new();
        for i in 0..20 {
            let subject = format!("mallory-{i}");
            let token = token_with(&subject, &format!("t-{i}"), NOW - 10);
            assert_ok(&b.bearer(&token).await, &subject);
            let start = Instant::now();
            a.gate.revoke_user(&subject).await.expect("revoked on A");
            while b.bearer(&token).await.status != 401 {
                assert!(
                    start.elapsed() < Duration::from_secs(2),
                    "{name}: B never refused"
                );
                tokio::task::yield_now().await;
            }
            delays.push(start.elapsed());
        }
        delays.sort();
        report(&format!(
            "{name}: a revocation on A held on B after {:?} (median), {:?} (max) of {} runs",
            delays[delays.len() / 2],
            delays[delays.len() - 1],
            delays.len()
        ));
        backend.clean_up().await;
    }
}

/// Refresh tokens on two instances (issue 17): a family started on A is exchanged on B; the
/// old token presented again on A ends the family for both, and the access tokens of the
/// subject on B too, through the revocation feed.
#[tokio::test]
async fn a_reused_refresh_token_ends_the_family_on_every_instance() {
    for backend in backends("refresh tokens on two instances").await {
        let name = backend.name();
        let (a, b) = (backend.instance().await, backend.instance().await);
        let user = Identity::new("kim").roles(["user"]);
        let first = a.gate.issue(&user).await.expect("a login on A");
        let first_refresh = first.refresh_token().expect("a refresh token");
        let second = b.gate.refresh(first_refresh).await.expect("exchanged on B");
        assert_ok(&a.bearer(second.access_token()).await, "kim");
        assert_ok(&b.bearer(second.access_token()).await, "kim");
        // The first token again, on A: a reuse.
        let reused = a.gate.refresh(first_refresh).await;
        assert!(
            reused.is_err_and(|e| matches!(e.kind(), RejectionKind::InvalidToken)),
            "{name}: a reuse is refused"
        );
        // The family is gone for B too: the token B handed out last is refused.
        let after = b
            .gate
            .refresh(second.refresh_token().expect("a refresh token"))
            .await;
        assert!(
            after.is_err_and(|e| matches!(e.kind(), RejectionKind::InvalidToken)),
            "{name}: the family ended on every instance"
        );
        // And the subject's access tokens: at once on A, on B through the feed.
        assert_invalid_token(&a.bearer(second.access_token()).await);
        eventually(
            "B refuses the access token of the reused family",
            || async { b.bearer(second.access_token()).await.status == 401 },
        )
        .await;
        let before = b.hits.count();
        assert_invalid_token(&b.bearer(second.access_token()).await);
        assert_eq!(b.hits.count(), before, "{name}: the handler did not run");
        // A new login (on B, once it knows the cutoff) works on both.
        let again = b.gate.issue(&user).await.expect("a new login");
        assert_ok(&a.bearer(again.access_token()).await, "kim");
        assert_ok(&b.bearer(again.access_token()).await, "kim");
        // revoke_user on B ends that family for A.
        b.gate.revoke_user("kim").await.expect("revoked");
        let revoked = a
            .gate
            .refresh(again.refresh_token().expect("a refresh token"))
            .await;
        assert!(
            revoked.is_err_and(|e| matches!(e.kind(), RejectionKind::InvalidToken)),
            "{name}: revoke_user ends the user's families"
        );
        backend.clean_up().await;
    }
}

/// Logging out with a bearer token on A ends its login everywhere (issue 26): B refuses the
/// family's newest refresh token at once (the store), and the login's access tokens, the
/// one B's own refresh handed out and cached ones included, within the staleness bound (the
/// feed); an instance started afterwards loads the revocation. The user's other login stays.
#[tokio::test]
async fn a_bearer_logout_on_one_instance_ends_the_login_on_every_instance() {
    for backend in backends("a bearer logout on two instances").await {
        let name = backend.name();
        let (a, b) = (backend.instance().await, backend.instance().await);
        let user = Identity::new("lena").roles(["user"]);
        let login = a.gate.issue(&user).await.expect("a login on A");
        let other = a.gate.issue(&user).await.expect("another login on A");
        let refresh = login.refresh_token().expect("a refresh token");
        let refreshed = b.gate.refresh(refresh).await.expect("exchanged on B");
        for token in [login.access_token(), refreshed.access_token()] {
            assert_ok(&b.bearer(token).await, "lena");
        }

        let start = Instant::now();
        let reply = a
            .client
            .post("/logout")
            .bearer(login.access_token())
            .send()
            .await;
        assert_eq!(reply.status, 204, "{name}: {}", reply.text());
        let after = b
            .gate
            .refresh(refreshed.refresh_token().expect("a refresh token"))
            .await;
        assert!(
            after.is_err_and(|e| matches!(e.kind(), RejectionKind::InvalidToken)),
            "{name}: the family ended for B"
        );
        for token in [login.access_token(), refreshed.access_token()] {
            while b.bearer(token).await.status != 401 {
                assert!(
                    start.elapsed() < Duration::from_secs(2),
                    "{name}: B still accepts a token of the ended login after the staleness bound"
                );
                tokio::task::yield_now().await;
            }
        }
        report(&format!(
            "{name}: a bearer logout on A held on B after {:?}",
            start.elapsed()
        ));
        let before = b.hits.count();
        assert_invalid_token(&b.bearer(refreshed.access_token()).await);
        assert_eq!(b.hits.count(), before, "{name}: the handler did not run");
        // A new instance loads the revocation with the rest.
        let c = backend.instance().await;
        assert_invalid_token(&c.bearer(refreshed.access_token()).await);
        // The other login works on every instance, and refreshes.
        for instance in [&a, &b, &c] {
            assert_ok(&instance.bearer(other.access_token()).await, "lena");
        }
        let next = b
            .gate
            .refresh(other.refresh_token().expect("a refresh token"))
            .await;
        assert!(next.is_ok(), "{name}: the other login's family is kept");
        backend.clean_up().await;
    }
}

/// One line on the terminal, past the harness's capture: a measured figure.
fn report(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "measured: {line}");
}

/// What one request of the load got.
#[derive(Default, Debug)]
struct Outcomes {
    ok: usize,
    unavailable: usize,
    wrong: Vec<String>,
}

#[tokio::test]
async fn connections_killed_under_load_answer_503_or_normally_and_service_resumes() {
    for backend in backends("killed connections").await {
        // The instances' connections are told apart from everyone else's on the server: a
        // Redis database of their own (CLIENT LIST shows it), a PostgreSQL application name.
        let (backend, killer) = match backend {
            Backend::Postgres { url, table } => {
                let name = table.clone();
                let separator = if url.contains('?') { '&' } else { '?' };
                let url = format!("{url}{separator}application_name={name}");
                (Backend::Postgres { url, table }, Killer::Postgres(name))
            }
            Backend::Redis { url, prefix } => {
                let url = format!("{}/9", url.trim_end_matches('/'));
                (Backend::Redis { url, prefix }, Killer::Redis(9))
            }
        };
        let name = backend.name();
        let (logs, _capture) = capture_logs();
        let (a, b) = (backend.instance().await, backend.instance().await);
        let cookie = login_cookie(&a.gate, Identity::new("kim")).await;
        let valid = token_with("kim", "t-kim", NOW);
        let revoked = token_with("kim", "t-kim-revoked", NOW);
        a.gate
            .revoke_token_id("t-kim-revoked", at(NOW + 600))
            .await
            .unwrap();
        eventually("the revocation on B", || async {
            b.bearer(&revoked).await.status == 401
        })
        .await;

        let stop = Instant::now() + Duration::from_secs(3);
        let kills = tokio::spawn({
            let killer = killer.clone();
            async move {
                let mut killed = 0;
                while Instant::now() < stop {
                    killed += killer.kill_all().await;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                killed
            }
        });
        let mut outcomes = Outcomes::default();
        let mut sent = 0;
        while Instant::now() < stop && sent < 20_000 {
            let (by_cookie, by_token, by_revoked) =
                tokio::join!(b.cookie(&cookie), b.bearer(&valid), b.bearer(&revoked));
            sent += 3;
            for (what, reply, good) in [
                ("cookie", by_cookie, 200),
                ("token", by_token, 200),
                ("revoked token", by_revoked, 401),
            ] {
                match reply.status.as_u16() {
                    s if s == good => outcomes.ok += 1,
                    503 => {
                        assert_rejection(&reply, 503, "unavailable", None);
                        outcomes.unavailable += 1;
                    }
                    s => outcomes.wrong.push(format!("{what}: {s} {}", reply.text())),
                }
            }
        }
        let killed = kills.await.expect("the killer");
        assert!(killed > 0, "{name}: no connection was killed");
        assert!(
            outcomes.wrong.is_empty(),
            "{name}: wrong answers under connection kills: {:?}",
            &outcomes.wrong[..outcomes.wrong.len().min(10)]
        );
        // Recovered without a restart: every credential answers normally again.
        eventually("service resumed", || async {
            b.cookie(&cookie).await.status == 200
                && b.bearer(&valid).await.status == 200
                && b.bearer(&revoked).await.status == 401
        })
        .await;
        // Logged, and without a credential.
        let logged = logs.contents();
        assert_logged(&logged, &["revocation feed lost"]);
        for secret in [cookie_value(&cookie), &valid, &revoked] {
            assert!(!logged.contains(secret), "{name}: a credential in the logs");
        }
        report(&format!(
            "{name}: {} connections killed under load; {} normal answers, {} 503s, 0 wrong",
            killed, outcomes.ok, outcomes.unavailable
        ));
        backend.clean_up().await;
    }
}

/// Kills the instances' connections on their server.
#[derive(Clone)]
enum Killer {
    /// Every client of this Redis database.
    Redis(i64),
    /// Every backend of this PostgreSQL application name.
    Postgres(String),
}

impl Killer {
    async fn kill_all(&self) -> usize {
        match self {
            Killer::Redis(db) => {
                let url = std::env::var("AUTHGATE_TEST_REDIS_URL").expect("set");
                let client = ::redis::Client::open(url).expect("a client");
                let mut redis = client
                    .get_multiplexed_async_connection()
                    .await
                    .expect("Redis");
                let list: String = ::redis::cmd("CLIENT")
                    .arg("LIST")
                    .query_async(&mut redis)
                    .await
                    .expect("CLIENT LIST");
                let needle = format!(" db={db} ");
                let mut killed = 0;
                for line in list.lines().filter(|l| l.contains(&needle)) {
                    let Some(id) = line.strip_prefix("id=").and_then(|r| r.split(' ').next())
                    else {
                        continue;
                    };
                    let done: Result<i64, _> = ::redis::cmd("CLIENT")
                        .arg("KILL")
                        .arg("ID")
                        .arg(id)
                        .query_async(&mut redis)
                        .await;
                    killed += done.unwrap_or(0) as usize;
                }
                killed
            }
            Killer::Postgres(name) => {
                let url = std::env::var("AUTHGATE_TEST_POSTGRES_URL").expect("set");
                let pool = sqlx::PgPool::connect(&url).await.expect("PostgreSQL");
                let killed: Vec<bool> = sqlx::query_scalar(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE application_name = $1",
                )
                .bind(name)
                .fetch_all(&pool)
                .await
                .expect("pg_terminate_backend");
                pool.close().await;
                killed.into_iter().filter(|k| *k).count()
            }
        }
    }
}
