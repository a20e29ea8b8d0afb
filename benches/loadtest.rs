//! Requests per second over a real loopback socket: a load generator and the servers in one
//! process, on separate tokio runtimes (like `wrk -t2 -c32` against a server on the same host).
//!
//! Scenarios, each a route of its own axum server on 127.0.0.1 (random ports):
//!
//! - `bare`: a plain axum handler, no authgate;
//! - `public`: `#[public(reason = ..)]` through `authgate::Router`;
//! - `hs256_hot` / `rs256_hot`: `#[require_auth]`, one token again and again (cache hits);
//! - `hs256_cold` / `rs256_cold`: `#[require_auth]`, 4096 distinct tokens in turn through a
//!   cache of 1024 entries: every request verifies the signature and parses the claims.
//!
//! The client keeps `LOADTEST_CONNECTIONS` (32) HTTP/1.1 keep-alive connections busy for
//! `LOADTEST_SECS` (10) seconds per scenario after a 1 s warm-up, over `LOADTEST_ROUNDS` (3)
//! rounds in alternating order (the median is reported); every response must be a 200. Server and client get
//! `LOADTEST_THREADS` (2) worker threads each. Only 127.0.0.1 is ever used.
//!
//! `cargo bench --bench loadtest` or `scripts/loadtest.sh`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use authgate::issuers::Issuer;
use authgate::keys::{Algorithm, Key};
use authgate::{Gate, public, require_auth, routing::get};
use jsonwebtoken::{EncodingKey, Header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ISS: &str = "https://auth.example.test";
const AUD: &str = "bench-api";
const HS_SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-bench";

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn key_file(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn tokens(alg: Algorithm, key: &EncodingKey, n: usize) -> Vec<String> {
    let now = now();
    (0..n)
        .map(|i| {
            let claims = serde_json::json!({
                "sub": "user-4242", "iss": ISS, "aud": AUD, "iat": now, "exp": now + 3600,
                "roles": ["user", "billing"], "jti": format!("load-{i:08}"),
            });
            let alg: jsonwebtoken::Algorithm = alg.to_string().parse().expect("an algorithm");
            jsonwebtoken::encode(&Header::new(alg), &claims, key).expect("sign a token")
        })
        .collect()
}

#[public(reason = "load test baseline")]
async fn open() -> &'static str {
    "ok"
}

#[require_auth]
async fn guarded() -> &'static str {
    "ok"
}

fn gate(key: Key, cache: usize) -> Gate {
    Gate::builder()
        .issuer(Issuer::new(ISS).key(key).audience(AUD))
        .token_cache(cache)
        .build()
        .expect("gate")
}

fn guarded_app(gate: Gate) -> axum::Router {
    authgate::Router::new()
        .route("/r", get(guarded))
        .with_state(gate)
        .into_axum()
}

/// One scenario: a server's address and the raw requests its connections send in turn.
struct Scenario {
    name: &'static str,
    addr: SocketAddr,
    requests: Arc<Vec<Vec<u8>>>,
}

fn raw_requests(tokens: &[String]) -> Arc<Vec<Vec<u8>>> {
    Arc::new(
        tokens
            .iter()
            .map(|t| {
                format!("GET /r HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {t}\r\n\r\n")
                    .into_bytes()
            })
            .collect(),
    )
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

/// Reads one HTTP/1.1 response (headers, then `Content-Length` bytes of body) and returns its
/// status. `buf` carries bytes across responses (none with this client: no pipelining).
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
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
                let mut chunk = [0u8; 4096];
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..total);
            return Ok(status);
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// One keep-alive connection sending requests back to back until `stop`.
async fn connection(
    addr: SocketAddr,
    requests: Arc<Vec<Vec<u8>>>,
    first: usize,
    stop: Arc<AtomicBool>,
    counting: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut buf = Vec::with_capacity(8192);
    let mut i = first;
    while !stop.load(Ordering::Relaxed) {
        let request = &requests[i % requests.len()];
        i += 1;
        stream.write_all(request).await.map_err(|e| e.to_string())?;
        let status = read_response(&mut stream, &mut buf)
            .await
            .map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("status {status}"));
        }
        if counting.load(Ordering::Relaxed) {
            done.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// Requests per second of one scenario.
fn load(client: &tokio::runtime::Runtime, scenario: &Scenario, secs: u64, conns: usize) -> f64 {
    client.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let counting = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let spread = scenario.requests.len() / conns.max(1);
        let tasks: Vec<_> = (0..conns)
            .map(|c| {
                tokio::spawn(connection(
                    scenario.addr,
                    scenario.requests.clone(),
                    c * spread,
                    stop.clone(),
                    counting.clone(),
                    done.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(1)).await;
        counting.store(true, Ordering::Relaxed);
        let start = Instant::now();
        tokio::time::sleep(Duration::from_secs(secs)).await;
        counting.store(false, Ordering::Relaxed);
        let elapsed = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        for task in tasks {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => panic!("{}: a connection failed: {e}", scenario.name),
                Err(e) => panic!("{}: a connection task failed: {e}", scenario.name),
            }
        }
        done.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64()
    })
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let secs = env("LOADTEST_SECS", 10);
    let rounds = env("LOADTEST_ROUNDS", 3).max(1) as usize;
    let conns = env("LOADTEST_CONNECTIONS", 32) as usize;
    let threads = env("LOADTEST_THREADS", 2) as usize;
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

    let hs = EncodingKey::from_secret(HS_SECRET);
    let rs = EncodingKey::from_rsa_pem(&key_file("rsa_private.pem")).expect("RSA key");
    let hs_key = || Key::hmac(Algorithm::HS256, HS_SECRET).expect("HS256 key");
    let rs_key = || Key::from_pem(Algorithm::RS256, key_file("rsa_public.pem")).expect("RSA key");
    let hs_tokens = tokens(Algorithm::HS256, &hs, 4096);
    let rs_tokens = tokens(Algorithm::RS256, &rs, 4096);
    let one_hs = raw_requests(&hs_tokens[..1]);
    let one_rs = raw_requests(&rs_tokens[..1]);

    let scenarios = server.block_on(async {
        let bare = axum::Router::new().route("/r", axum::routing::get(|| async { "ok" }));
        let open = authgate::Router::new()
            .route("/r", get(open))
            .with_state(gate(hs_key(), 10_000))
            .into_axum();
        vec![
            Scenario {
                name: "bare",
                addr: serve(bare).await,
                requests: one_hs.clone(),
            },
            Scenario {
                name: "public",
                addr: serve(open).await,
                requests: one_hs.clone(),
            },
            Scenario {
                name: "hs256_hot",
                addr: serve(guarded_app(gate(hs_key(), 10_000))).await,
                requests: one_hs.clone(),
            },
            Scenario {
                name: "hs256_cold",
                addr: serve(guarded_app(gate(hs_key(), 1024))).await,
                requests: raw_requests(&hs_tokens),
            },
            Scenario {
                name: "rs256_hot",
                addr: serve(guarded_app(gate(rs_key(), 10_000))).await,
                requests: one_rs.clone(),
            },
            Scenario {
                name: "rs256_cold",
                addr: serve(guarded_app(gate(rs_key(), 1024))).await,
                requests: raw_requests(&rs_tokens),
            },
        ]
    });

    println!(
        "loopback load: {conns} connections, {threads} server + {threads} client worker \
         threads, {secs} s per scenario (after 1 s warm-up), {rounds} rounds"
    );
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); scenarios.len()];
    for round in 0..rounds {
        let order: Vec<usize> = if round.is_multiple_of(2) {
            (0..scenarios.len()).collect()
        } else {
            (0..scenarios.len()).rev().collect()
        };
        for i in order {
            let rps = load(&client, &scenarios[i], secs, conns);
            println!(
                "  round {round}: {:<11} {rps:>9.0} req/s",
                scenarios[i].name
            );
            results[i].push(rps);
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        if v.len().is_multiple_of(2) {
            (v[mid - 1] + v[mid]) / 2.0
        } else {
            v[mid]
        }
    };
    let rps: Vec<f64> = results.iter().map(|r| median(r)).collect();
    let by = |name: &str| {
        scenarios
            .iter()
            .position(|s| s.name == name)
            .map(|i| rps[i])
            .unwrap_or(f64::NAN)
    };
    println!("\n### Loopback requests per second (median of {rounds} rounds)\n");
    println!("| scenario | req/s |");
    println!("|---|---|");
    for (s, r) in scenarios.iter().zip(&rps) {
        println!("| {} | {r:.0} |", s.name);
    }
    println!("\n| ratio | value | goal |");
    println!("|---|---|---|");
    let ratio = |a: &str, b: &str, goal: Option<f64>| {
        let r = by(a) / by(b);
        let verdict = match goal {
            Some(g) if r >= g => format!(">= {g}: met"),
            Some(g) => format!(">= {g}: NOT met"),
            None => String::new(),
        };
        println!("| {a} / {b} | {:.0}% | {verdict} |", r * 100.0);
    };
    ratio("hs256_hot", "public", Some(0.85));
    ratio("rs256_hot", "public", Some(0.85));
    ratio("hs256_cold", "public", Some(0.55));
    ratio("rs256_cold", "public", None);
    ratio("public", "bare", None);
    drop(server);
}
