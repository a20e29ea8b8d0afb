//! Requests per second of a cookie request on a server-side session in Redis, authgate against
//! axum-login, over a real loopback socket, in one process and one run (issue 14, item 7).
//!
//! Servers, each an axum 0.8 app on its own 127.0.0.1 port (random), both on the same Redis:
//!
//! - `authgate`: `#[require_auth]` on `authgate::Router`, the Gate with
//!   `Sessions::server_side(COOKIE, RedisStore)` (default idle timeout 30 min, absolute 12 h);
//!   the handler answers the `CurrentUser`'s subject. Keys under `PREFIX`-`pid`.
//! - `axum_login`: axum-login 0.18 with tower-sessions 0.14 and tower-sessions-redis-store 0.16
//!   (fred 10, a pool of `LOADTEST_PEER_POOL` connections, 6 as in that crate's example), configured
//!   as axum-login's own example is (`Expiry::OnInactivity`, here 30 min like authgate's idle
//!   timeout; `always_save` off); `login_required!` on the route, the handler answers the
//!   `AuthSession`'s user id. The backend's `get_user` reads an in-memory map: what is measured is
//!   the session path, not a user database. tower-sessions-redis-store has no key prefix: its keys
//!   are the random session ids, and the bench deletes the one it created.
//! - `axum_login_always_save` (for information, no goal): the same with `with_always_save(true)`,
//!   which tower-sessions needs for `OnInactivity` to roll the expiry in Redis on reads (a `SET` and
//!   a `Set-Cookie` on every request); without it the stored expiry only moves when the session
//!   changes. authgate writes its `last_seen` at most once a minute instead.
//! - `floor_redis_get` (for information, no goal): no session library, a plain axum handler that
//!   takes the cookie's value and answers the string under `PREFIX`-`pid`:floor:{value}, one `GET`
//!   through redis-rs's `ConnectionManager` (the client authgate's `RedisStore` uses). What any
//!   cookie session that reads Redis once per request costs here, at least: `floor / axum_login`
//!   bounds the ratio a library could reach with one round trip per request.
//!
//! One user logs in on each (authgate: `Gate::login`; axum-login: its `POST /login/{id}` route), and
//! every request then sends that cookie to `GET /me`. Every server answers 200 with the body
//! `user-4242` (the same response size); any other status or body aborts the run.
//!
//! Before the load, each server gets `PROBE` requests one at a time; the `INFO commandstats`
//! difference around them gives the Redis commands per request (other clients of the same
//! Redis would show up in it too). The difference is also printed for each timed scenario.
//!
//! The load generator keeps `LOADTEST_CONNECTIONS` (32) HTTP/1.1 keep-alive connections busy for
//! `LOADTEST_MS` (1000) milliseconds per scenario after a `LOADTEST_WARMUP_MS` (250) warm-up,
//! over `LOADTEST_ROUNDS` (45) rounds in alternating order; per round and as medians it prints
//! requests per second and the ratio authgate / axum-login of that round (goal: >= 1.5), with a
//! distribution-free 95% interval of the median ratio. Many short rounds rather than a few long
//! ones: on a shared machine a neighbour's load shifts a second or two, and the ratio of a round
//! compares two scenarios measured back to back, one second apart. Servers and client run on two
//! tokio runtimes of `LOADTEST_THREADS` (2) worker threads each. Only 127.0.0.1 is ever used: the
//! Redis URL (`AUTHGATE_BENCH_REDIS_URL`, default `redis://127.0.0.1:6379`) must be a loopback
//! one. Every response must arrive within 10 s. At the end the bench deletes its keys.
//!
//! Each timed scenario also reports the CPU time per request of the server runtime's threads,
//! the client runtime's threads and the Redis server (`INFO cpu`): on 2 cores they share, the
//! server's part is what differs between the libraries. Each ratio is also given by CPU time
//! (the inverse ratio of the CPU per request, server + client + Redis, median of the rounds),
//! which the neighbours' load moves less than req/s. `LOADTEST_PROFILE=<scenario>` runs one
//! scenario once (for `perf record`).
//!
//! `cd peers && cargo bench --bench sessions_loopback` (about 4 minutes with the defaults).

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use authgate::sessions::Sessions;
use authgate::store::LoginStore;
use authgate::{CurrentUser, Gate, Identity, require_auth};
use authgate_redis::RedisStore;
use axum_login::tower_sessions::cookie::time::Duration as CookieDuration;
use axum_login::tower_sessions::{Expiry, SessionManagerLayer};
use axum_login::{AuthManagerLayerBuilder, AuthSession, AuthUser, AuthnBackend, login_required};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Pool};

/// The one user of both servers, and the body both answer.
const SUBJECT: &str = "user-4242";
/// The session cookie's name on both servers (same request size apart from the id's length).
const COOKIE: &str = "__Host-session";
/// authgate's key prefix; the process id is appended.
const PREFIX: &str = "authgate-bench-sessions";
/// Requests sent one at a time to count Redis commands per request.
const PROBE: u64 = 200;
/// Idle timeout of both (authgate's default): 30 minutes.
const IDLE: u64 = 30 * 60;
/// The longest a response may take before the run is aborted.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The Redis URL, refused unless it points at the loopback interface.
fn redis_url() -> String {
    let url = std::env::var("AUTHGATE_BENCH_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let client = redis::Client::open(url.as_str())
        .unwrap_or_else(|e| panic!("AUTHGATE_BENCH_REDIS_URL {url:?}: {e}"));
    match client.get_connection_info().addr() {
        redis::ConnectionAddr::Tcp(host, _)
            if host == "127.0.0.1" || host == "localhost" || host == "::1" => {}
        other => panic!("the bench only talks to a Redis on 127.0.0.1, not {other:?}"),
    }
    url
}

// ---------------------------------------------------------------------------------------------
// authgate.

#[require_auth]
async fn authgate_me(user: CurrentUser) -> String {
    user.subject().to_owned()
}

/// The authgate app and the cookie value of its logged-in user.
async fn authgate_server(url: &str, prefix: &str) -> (axum::Router, String) {
    let store = RedisStore::connect(url)
        .await
        .unwrap_or_else(|e| panic!("authgate RedisStore at {url}: {e}"))
        .with_prefix(prefix);
    authgate_app(store).await
}

/// `GET /me` behind a Gate whose server-side sessions live in `store`, and the cookie value of
/// the user logged in there.
async fn authgate_app(store: impl LoginStore) -> (axum::Router, String) {
    let gate = Gate::builder()
        .sessions(Sessions::server_side(COOKIE, store))
        .build()
        .expect("gate");
    let cookie = gate
        .login_unchecked(Identity::new(SUBJECT))
        .await
        .expect("authgate login");
    let value = cookie_value(
        cookie
            .header_value()
            .expect("a login sets a cookie")
            .to_str()
            .expect("ASCII cookie"),
    );
    let app = authgate::Router::new()
        .route("/me", authgate::routing::get(authgate_me))
        .with_state(gate)
        .into_axum();
    (app, value)
}

// ---------------------------------------------------------------------------------------------
// axum-login.

/// A user of the peer: its id and the bytes its sessions are bound to (axum-login drops a
/// session whose stored hash differs, e.g. after a password change).
#[derive(Clone, Debug)]
struct PeerUser {
    id: String,
    auth_hash: Vec<u8>,
}

impl AuthUser for PeerUser {
    type Id = String;

    fn id(&self) -> String {
        self.id.clone()
    }

    fn session_auth_hash(&self) -> &[u8] {
        &self.auth_hash
    }
}

/// Users in memory, so that the peer's cost is its session path and not a database.
#[derive(Clone)]
struct PeerBackend {
    users: Arc<HashMap<String, PeerUser>>,
}

impl AuthnBackend for PeerBackend {
    type User = PeerUser;
    /// The user id: the login route trusts it (no password check on either side).
    type Credentials = String;
    type Error = Infallible;

    async fn authenticate(&self, id: String) -> Result<Option<PeerUser>, Infallible> {
        Ok(self.users.get(&id).cloned())
    }

    async fn get_user(&self, id: &String) -> Result<Option<PeerUser>, Infallible> {
        Ok(self.users.get(id).cloned())
    }
}

async fn peer_login(
    mut auth: AuthSession<PeerBackend>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> http::StatusCode {
    match auth.authenticate(id).await {
        Ok(Some(user)) if auth.login(&user).await.is_ok() => http::StatusCode::OK,
        _ => http::StatusCode::UNAUTHORIZED,
    }
}

async fn peer_me(auth: AuthSession<PeerBackend>) -> String {
    auth.user.map(|u| u.id).unwrap_or_default()
}

/// The axum-login app on a fred pool of `pool` connections to `url`.
async fn peer_server(url: &str, pool: usize, always_save: bool) -> axum::Router {
    let config = Config::from_url(url).unwrap_or_else(|e| panic!("fred config {url}: {e}"));
    let redis = Pool::new(config, None, None, None, pool).expect("fred pool");
    redis.init().await.expect("fred connects");
    let store = tower_sessions_redis_store::RedisStore::new(redis);
    let sessions = SessionManagerLayer::new(store)
        .with_name(COOKIE)
        .with_expiry(Expiry::OnInactivity(CookieDuration::seconds(IDLE as i64)))
        .with_always_save(always_save);
    let user = PeerUser {
        id: SUBJECT.to_owned(),
        auth_hash: b"a password hash stands here".to_vec(),
    };
    let backend = PeerBackend {
        users: Arc::new(HashMap::from([(user.id.clone(), user)])),
    };
    let auth = AuthManagerLayerBuilder::new(backend, sessions).build();
    axum::Router::new()
        .route("/me", axum::routing::get(peer_me))
        .route_layer(login_required!(PeerBackend))
        .route("/login/{id}", axum::routing::post(peer_login))
        .layer(auth)
}

// ---------------------------------------------------------------------------------------------
// The floor: one Redis GET per request, no session library.

#[derive(Clone)]
struct Floor {
    redis: redis::aio::ConnectionManager,
    /// `{prefix}:floor:`, the cookie's value appended.
    keys: Arc<str>,
}

async fn floor_me(
    axum::extract::State(floor): axum::extract::State<Floor>,
    headers: http::HeaderMap,
) -> Result<String, http::StatusCode> {
    let id = headers
        .get(http::header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.strip_prefix(COOKIE)?.strip_prefix('='))
        .ok_or(http::StatusCode::UNAUTHORIZED)?;
    let mut redis = floor.redis.clone();
    let subject: Option<String> =
        redis::AsyncCommands::get(&mut redis, format!("{}{id}", floor.keys))
            .await
            .map_err(|_| http::StatusCode::SERVICE_UNAVAILABLE)?;
    subject.ok_or(http::StatusCode::UNAUTHORIZED)
}

/// The floor app, and the cookie value whose key holds the subject.
async fn floor_server(url: &str, prefix: &str) -> (axum::Router, String) {
    let client = redis::Client::open(url).expect("redis URL");
    let mut redis = redis::aio::ConnectionManager::new(client)
        .await
        .expect("redis-rs connects");
    let keys: Arc<str> = format!("{prefix}:floor:").into();
    let id = "floor-session-0123456789abcdef0123456789abc".to_owned();
    let () = redis::AsyncCommands::set(&mut redis, format!("{keys}{id}"), SUBJECT)
        .await
        .expect("SET the floor's session");
    let app = axum::Router::new()
        .route("/me", axum::routing::get(floor_me))
        .with_state(Floor { redis, keys });
    (app, id)
}

// ---------------------------------------------------------------------------------------------
// HTTP over loopback.

/// The value of the session cookie in a `Set-Cookie` value `name=value; ...`.
fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap_or("");
    let (name, value) = pair.split_once('=').expect("a name=value cookie");
    assert_eq!(name.trim(), COOKIE, "the session cookie");
    value.to_owned()
}

async fn serve(app: axum::Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("server");
    });
    addr
}

/// Reads one HTTP/1.1 response into the front of `buf` and returns (status, head length, body
/// range). The caller drains `head + body` bytes afterwards. Bodies need `Content-Length`
/// (both servers send it).
async fn read_response(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<(u16, usize, std::ops::Range<usize>)> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).unwrap_or("");
            let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0u16);
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            let total = end + 4 + length;
            while buf.len() < total {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok((status, end + 4, end + 4..total));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// One request on a fresh connection; returns the status, the head and the body.
async fn one_request(addr: SocketAddr, request: &[u8]) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut buf = Vec::new();
    let (status, head, body) =
        tokio::time::timeout(RESPONSE_TIMEOUT, read_response(&mut stream, &mut buf))
            .await
            .expect("a response within the timeout")
            .expect("a response");
    let head_text = String::from_utf8_lossy(&buf[..head]).into_owned();
    (status, head_text, buf[body].to_vec())
}

/// Logs the peer's user in through its login route; returns the session id from the cookie.
async fn peer_login_cookie(addr: SocketAddr) -> String {
    let request =
        format!("POST /login/{SUBJECT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
    let (status, head, _) = one_request(addr, request.as_bytes()).await;
    assert_eq!(status, 200, "axum-login login: {head}");
    let set_cookie = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("set-cookie")
                .then(|| value.trim())
        })
        .expect("axum-login's login sets the session cookie");
    cookie_value(set_cookie)
}

/// One scenario: a server, the request its connections send, the body it must answer.
struct Scenario {
    name: &'static str,
    addr: SocketAddr,
    request: Arc<Vec<u8>>,
    expected: Arc<Vec<u8>>,
}

fn me_request(cookie: &str) -> Arc<Vec<u8>> {
    Arc::new(
        format!("GET /me HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {COOKIE}={cookie}\r\n\r\n")
            .into_bytes(),
    )
}

/// Counters shared by a scenario's connections.
#[derive(Default)]
struct Counters {
    stop: AtomicBool,
    counting: AtomicBool,
    /// Requests answered while `counting` (the timed part).
    timed: AtomicU64,
    /// Every request answered, warm-up included (for Redis commands per request).
    all: AtomicU64,
}

/// One keep-alive connection sending the scenario's request back to back until `stop`; every
/// response must be a 200 with the expected body.
async fn connection(
    addr: SocketAddr,
    request: Arc<Vec<u8>>,
    expected: Arc<Vec<u8>>,
    counters: Arc<Counters>,
) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut buf = Vec::with_capacity(8192);
    while !counters.stop.load(Ordering::Relaxed) {
        stream
            .write_all(&request)
            .await
            .map_err(|e| e.to_string())?;
        let (status, _, body) =
            tokio::time::timeout(RESPONSE_TIMEOUT, read_response(&mut stream, &mut buf))
                .await
                .map_err(|_| format!("no response within {RESPONSE_TIMEOUT:?}"))?
                .map_err(|e| e.to_string())?;
        if status != 200 || buf[body.clone()] != expected[..] {
            return Err(format!(
                "status {status}, body {:?}",
                String::from_utf8_lossy(&buf[body.clone()])
            ));
        }
        buf.drain(..body.end);
        counters.all.fetch_add(1, Ordering::Relaxed);
        if counters.counting.load(Ordering::Relaxed) {
            counters.timed.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// Requests per second of one scenario, and every request it answered (warm-up included).
fn load(
    client: &tokio::runtime::Runtime,
    scenario: &Scenario,
    warmup: Duration,
    timed: Duration,
    conns: usize,
) -> (f64, u64) {
    client.block_on(async {
        let counters = Arc::new(Counters::default());
        let tasks: Vec<_> = (0..conns)
            .map(|_| {
                tokio::spawn(connection(
                    scenario.addr,
                    scenario.request.clone(),
                    scenario.expected.clone(),
                    counters.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(warmup).await;
        counters.counting.store(true, Ordering::Relaxed);
        let start = Instant::now();
        tokio::time::sleep(timed).await;
        counters.counting.store(false, Ordering::Relaxed);
        let elapsed = start.elapsed();
        counters.stop.store(true, Ordering::Relaxed);
        for task in tasks {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => panic!("{}: a connection failed: {e}", scenario.name),
                Err(e) => panic!("{}: a connection task failed: {e}", scenario.name),
            }
        }
        let timed = counters.timed.load(Ordering::Relaxed);
        (
            timed as f64 / elapsed.as_secs_f64(),
            counters.all.load(Ordering::Relaxed),
        )
    })
}

/// `PROBE` requests one at a time on one connection: the response head (of the last one) and
/// the Redis commands they caused.
fn probe(
    client: &tokio::runtime::Runtime,
    redis: &mut redis::Connection,
    scenario: &Scenario,
) -> (String, BTreeMap<String, u64>) {
    let before = command_calls(redis);
    let head = client.block_on(async {
        let mut stream = TcpStream::connect(scenario.addr).await.expect("connect");
        let mut buf = Vec::new();
        let mut head_text = String::new();
        for _ in 0..PROBE {
            stream.write_all(&scenario.request).await.expect("write");
            let (status, head, body) =
                tokio::time::timeout(RESPONSE_TIMEOUT, read_response(&mut stream, &mut buf))
                    .await
                    .expect("a response within the timeout")
                    .expect("a response");
            assert_eq!(
                status,
                200,
                "{}: {}",
                scenario.name,
                String::from_utf8_lossy(&buf)
            );
            assert_eq!(
                buf[body.clone()],
                scenario.expected[..],
                "{}",
                scenario.name
            );
            head_text = String::from_utf8_lossy(&buf[..head]).into_owned();
            buf.drain(..body.end);
        }
        head_text
    });
    (head, command_delta(&before, &command_calls(redis)))
}

// ---------------------------------------------------------------------------------------------
// CPU time: where a request's time goes on a machine where client, servers and Redis share the
// cores.

/// CPU seconds (user + system) of this process's threads named `name` (the tokio runtimes name
/// their worker and blocking threads), from `/proc/self/task/*/stat` in clock ticks of 1/100 s
/// (Linux's USER_HZ). Threads that ended are not counted; the runtimes' threads live to the end.
fn thread_cpu(name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    let mut ticks = 0u64;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ...`: comm may hold spaces, so split at the last ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        if head.split_once('(').map(|(_, comm)| comm) != Some(name) {
            continue;
        }
        // After comm: state is field 3, utime field 14 and stime field 15.
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<u64>().ok());
        ticks += field(14).unwrap_or(0) + field(15).unwrap_or(0);
    }
    ticks as f64 / 100.0
}

/// CPU seconds the Redis server has used (`INFO cpu`, user + system): all its clients, so
/// another user of the same Redis shows up here too.
fn redis_cpu(redis: &mut redis::Connection) -> f64 {
    let info: String = redis::cmd("INFO")
        .arg("cpu")
        .query(redis)
        .expect("INFO cpu");
    info.lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            matches!(name, "used_cpu_sys" | "used_cpu_user")
                .then(|| value.trim().parse::<f64>().ok())?
        })
        .sum()
}

/// CPU seconds so far of the server runtime, the client runtime and Redis.
#[derive(Clone, Copy)]
struct Cpu {
    server: f64,
    client: f64,
    redis: f64,
}

impl Cpu {
    fn now(redis: &mut redis::Connection) -> Cpu {
        Cpu {
            server: thread_cpu("server"),
            client: thread_cpu("client"),
            redis: redis_cpu(redis),
        }
    }

    /// Microseconds of CPU per request between `self` and `later`.
    fn per_request(&self, later: &Cpu, requests: u64) -> Cpu {
        let us = |a: f64, b: f64| (b - a) * 1e6 / requests.max(1) as f64;
        Cpu {
            server: us(self.server, later.server),
            client: us(self.client, later.client),
            redis: us(self.redis, later.redis),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Redis bookkeeping (a plain synchronous connection, outside the servers).

/// `calls` of every command in `INFO commandstats`.
fn command_calls(redis: &mut redis::Connection) -> BTreeMap<String, u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(redis)
        .expect("INFO commandstats");
    info.lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats
                .split(',')
                .find_map(|kv| kv.strip_prefix("calls="))?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .collect()
}

/// What ran between two readings, without `INFO` (the bench's own readings).
fn command_delta(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .filter(|(name, _)| name.as_str() != "info")
        .filter_map(|(name, &calls)| {
            let delta = calls - before.get(name).copied().unwrap_or(0);
            (delta > 0).then(|| (name.clone(), delta))
        })
        .collect()
}

/// `hgetall 1.000, evalsha 1 in 182345`: commands per request, or the count when it is too
/// rare to show as a fraction (authgate's once-a-minute touch).
fn per_request(delta: &BTreeMap<String, u64>, requests: u64) -> String {
    if delta.is_empty() {
        return "none".to_owned();
    }
    delta
        .iter()
        .map(|(name, &calls)| {
            let each = calls as f64 / requests.max(1) as f64;
            if each < 0.01 {
                format!("{name} {calls} in {requests}")
            } else {
                format!("{name} {each:.3}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Deletes the bench's keys when dropped, also when a check panics.
struct Cleanup {
    url: String,
    prefix: String,
    peer_ids: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Ok(mut redis) = redis::Client::open(self.url.as_str()).and_then(|c| c.get_connection())
        else {
            eprintln!(
                "cleanup: cannot reach Redis; keys {}:* are left",
                self.prefix
            );
            return;
        };
        // SCAN, not KEYS: the Redis may be shared, and KEYS blocks it.
        let mut keys: Vec<String> =
            redis::Commands::scan_match::<_, String>(&mut redis, format!("{}:*", self.prefix))
                .map(|found| found.filter_map(Result::ok).collect())
                .unwrap_or_default();
        keys.extend(self.peer_ids.iter().cloned());
        if keys.is_empty() {
            return;
        }
        let deleted: redis::RedisResult<u64> = redis::cmd("DEL").arg(&keys).query(&mut redis);
        match deleted {
            Ok(n) => println!("\ncleanup: deleted {n} of {} keys", keys.len()),
            Err(e) => eprintln!("cleanup: DEL failed: {e}"),
        }
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    }
}

/// A distribution-free 95% confidence interval of the median of `v`: the order statistics
/// `k` and `n - 1 - k` (from 0) with `k = floor((n - 1.96 sqrt(n)) / 2)`, the normal
/// approximation of the binomial count of values below the median. It assumes only that the
/// rounds are independent draws of one distribution, not that the ratios are normal.
fn median_interval(v: &[f64]) -> (f64, f64) {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let k = ((n - 1.96 * n.sqrt()) / 2.0).floor().max(0.0) as usize;
    (v[k], v[v.len() - 1 - k])
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let timed = Duration::from_millis(env("LOADTEST_MS", 1000).max(1));
    let warmup = Duration::from_millis(env("LOADTEST_WARMUP_MS", 250));
    let rounds = env("LOADTEST_ROUNDS", 45).max(1) as usize;
    let conns = env("LOADTEST_CONNECTIONS", 32).max(1) as usize;
    let threads = env("LOADTEST_THREADS", 2).max(1) as usize;
    let pool = env("LOADTEST_PEER_POOL", 6).max(1) as usize;
    let url = redis_url();
    let prefix = format!("{PREFIX}-{}", std::process::id());
    let mut redis = redis::Client::open(url.as_str())
        .and_then(|c| c.get_connection())
        .unwrap_or_else(|e| {
            panic!("no Redis at {url} ({e}); start one or set AUTHGATE_BENCH_REDIS_URL")
        });
    let mut cleanup = Cleanup {
        url: url.clone(),
        prefix: prefix.clone(),
        peer_ids: Vec::new(),
    };

    let runtime = |name: &str| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name(name)
            .enable_all()
            .build()
            .expect("tokio runtime")
    };
    let server = runtime("server");
    let client = runtime("client");

    let (authgate_app, authgate_cookie) = server.block_on(authgate_server(&url, &prefix));
    let (floor_app, floor_cookie) = server.block_on(floor_server(&url, &prefix));
    let (authgate_addr, peer_addr, peer_save_addr, floor_addr) = server.block_on(async {
        (
            serve(authgate_app).await,
            serve(peer_server(&url, pool, false).await).await,
            serve(peer_server(&url, pool, true).await).await,
            serve(floor_app).await,
        )
    });
    let peer_cookie = client.block_on(peer_login_cookie(peer_addr));
    let peer_save_cookie = client.block_on(peer_login_cookie(peer_save_addr));
    cleanup.peer_ids = vec![peer_cookie.clone(), peer_save_cookie.clone()];

    let expected = Arc::new(SUBJECT.as_bytes().to_vec());
    let scenarios = vec![
        Scenario {
            name: "authgate",
            addr: authgate_addr,
            request: me_request(&authgate_cookie),
            expected: expected.clone(),
        },
        Scenario {
            name: "axum_login",
            addr: peer_addr,
            request: me_request(&peer_cookie),
            expected: expected.clone(),
        },
        Scenario {
            name: "axum_login_always_save",
            addr: peer_save_addr,
            request: me_request(&peer_save_cookie),
            expected: expected.clone(),
        },
        Scenario {
            name: "floor_redis_get",
            addr: floor_addr,
            request: me_request(&floor_cookie),
            expected: expected.clone(),
        },
    ];
    // The ratios reported, each from the two scenarios of the same round: (numerator,
    // denominator, goal).
    let pairs: Vec<(&str, &str, Option<f64>)> = vec![
        ("authgate", "axum_login", Some(1.5)),
        ("authgate", "axum_login_always_save", None),
        ("floor_redis_get", "axum_login", None),
        ("authgate", "floor_redis_get", None),
    ];
    let index = |name: &str| {
        scenarios
            .iter()
            .position(|s| s.name == name)
            .expect("a scenario of that name")
    };

    println!(
        "cookie sessions on Redis ({url}): {conns} connections, {threads} server + {threads} \
         client worker threads, {timed:?} per scenario (after a {warmup:?} warm-up), {rounds} \
         rounds; \
         axum-login's fred pool: {pool} connections"
    );
    println!("\n### What one request costs in Redis ({PROBE} requests one at a time)\n");
    for s in &scenarios {
        let (head, delta) = probe(&client, &mut redis, s);
        println!(
            "- {}: {} per request; request {} bytes, response head {} bytes + body {} bytes",
            s.name,
            per_request(&delta, PROBE),
            s.request.len(),
            head.len(),
            s.expected.len()
        );
        for line in head.lines().skip(1).filter(|l| !l.is_empty()) {
            let name = line.split(':').next().unwrap_or("");
            // The date changes, the cookie is the session's: show their names only.
            if name.eq_ignore_ascii_case("date") || name.eq_ignore_ascii_case("set-cookie") {
                println!("    {name}: ...");
            } else {
                println!("    {line}");
            }
        }
    }

    // For a profiler: only this scenario, once, for LOADTEST_MS.
    if let Ok(only) = std::env::var("LOADTEST_PROFILE") {
        let s = scenarios
            .iter()
            .find(|s| s.name == only)
            .unwrap_or_else(|| panic!("LOADTEST_PROFILE: no scenario {only:?}"));
        let (rps, _) = load(&client, s, warmup, timed, conns);
        println!("\n{}: {rps:.0} req/s (LOADTEST_PROFILE, one run)", s.name);
        return;
    }

    println!("\n### Rounds\n");
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); scenarios.len()];
    let mut cpu: Vec<Vec<Cpu>> = vec![Vec::new(); scenarios.len()];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); pairs.len()];
    for round in 0..rounds {
        let order: Vec<usize> = if round.is_multiple_of(2) {
            (0..scenarios.len()).collect()
        } else {
            (0..scenarios.len()).rev().collect()
        };
        for i in order {
            let before = command_calls(&mut redis);
            let cpu_before = Cpu::now(&mut redis);
            let (rps, all) = load(&client, &scenarios[i], warmup, timed, conns);
            let used = cpu_before.per_request(&Cpu::now(&mut redis), all);
            let delta = command_delta(&before, &command_calls(&mut redis));
            println!(
                "  round {round}: {:<26} {rps:>8.0} req/s   CPU us/request: server {:.1}, \
                 client {:.1}, Redis {:.1}   Redis per request: {}",
                scenarios[i].name,
                used.server,
                used.client,
                used.redis,
                per_request(&delta, all)
            );
            results[i].push(rps);
            cpu[i].push(used);
        }
        let line: Vec<String> = pairs
            .iter()
            .zip(&mut ratios)
            .map(|((a, b, _), each)| {
                let ratio = results[index(a)][round] / results[index(b)][round];
                each.push(ratio);
                format!("{a} / {b} {ratio:.2}x")
            })
            .collect();
        println!("  round {round}: {}", line.join(", "));
    }

    println!("\n### Cookie request on a Redis session, req/s (median of {rounds} rounds)\n");
    println!("| scenario | req/s | per round | CPU us/request (medians): server, client, Redis |");
    println!("|---|---|---|---|");
    for ((s, r), c) in scenarios.iter().zip(&results).zip(&cpu) {
        let each: Vec<String> = r.iter().map(|x| format!("{x:.0}")).collect();
        let m = |f: fn(&Cpu) -> f64| median(&c.iter().map(f).collect::<Vec<_>>());
        println!(
            "| {} | {:.0} | {} | {:.1}, {:.1}, {:.1} |",
            s.name,
            median(r),
            each.join(", "),
            m(|c| c.server),
            m(|c| c.client),
            m(|c| c.redis)
        );
    }
    let each = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // The CPU-time reading of a ratio: b's CPU per request over a's (server + client + Redis),
    // per round. When the cores are the limit, req/s goes as its inverse; it moves less than
    // req/s with the neighbours' load, since it does not count their time.
    let total = |c: &Cpu| c.server + c.client + c.redis;
    println!(
        "\n| ratio (median of the per-round ratios) | req/s | 95% interval of the median | per \
         round | goal | CPU per request, inverse ratio |"
    );
    println!("|---|---|---|---|---|---|");
    for ((a, b, goal), r) in pairs.iter().zip(&ratios) {
        let value = median(r);
        let verdict = match goal {
            Some(g) if value >= *g => format!(">= {g}: met"),
            Some(g) => format!(">= {g}: NOT met"),
            None => String::new(),
        };
        let by_cpu: Vec<f64> = cpu[index(a)]
            .iter()
            .zip(&cpu[index(b)])
            .map(|(ca, cb)| total(cb) / total(ca))
            .collect();
        let (low, high) = median_interval(r);
        println!(
            "| {a} / {b} | {value:.2}x | {low:.2}x to {high:.2}x | {} | {verdict} | {:.2}x |",
            each(r),
            median(&by_cpu)
        );
    }
    drop(scenarios);
    drop(client);
    drop(server);
    drop(cleanup);
}
