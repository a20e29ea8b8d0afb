//! Memory under a stream of one million distinct valid tokens: every request carries a token
//! the Gate has never seen (HS256, signed on the fly), goes through a guarded route
//! (`oneshot`, in-process), is verified and enters the token cache, which evicts.
//!
//! Prints the cache's entry count against its bound and the process's resident memory
//! (`VmRSS` from /proc/self/status) along the way: after warm-up (the cache full) it should
//! stay flat. `cargo bench --bench cache_memory`; `CACHE_MEMORY_TOKENS` changes the count.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use authgate::issuers::Issuer;
use authgate::keys::{Algorithm, Key};
use authgate::{Gate, require_auth, routing::get};
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use jsonwebtoken::{EncodingKey, Header};
use tower::ServiceExt;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-bench";
const ISS: &str = "https://auth.example.test";
/// The cache's bound in bytes: the Gate's default.
const MAX_BYTES: usize = 32 << 20;

#[require_auth]
async fn guarded() -> &'static str {
    "ok"
}

/// Resident memory in KiB (Linux), or 0 where /proc is not there.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

fn main() {
    let total: usize = std::env::var("CACHE_MEMORY_TOKENS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let key = Key::hmac(Algorithm::HS256, SECRET).expect("key");
    let gate = Gate::builder()
        .issuer(Issuer::new(ISS).key(key))
        .token_cache(MAX_BYTES)
        .build()
        .expect("gate");
    let app: axum::Router = authgate::Router::new()
        .route("/r", get(guarded))
        .with_state(gate.clone())
        .into_axum();
    let key = EncodingKey::from_secret(SECRET);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let header = Header::new(jsonwebtoken::Algorithm::HS256);
    let checkpoints = [
        0, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000,
    ];

    println!(
        "{total} distinct valid HS256 tokens through a guarded route, cache bound {} MiB",
        MAX_BYTES >> 20
    );
    println!("\n| tokens | cached entries | VmRSS |");
    println!("|---|---|---|");
    let start = Instant::now();
    let mut warm = 0;
    rt.block_on(async {
        for i in 0..=total {
            if checkpoints.contains(&i) || i == total {
                let rss = rss_kib();
                println!(
                    "| {i} | {} | {:.1} MiB |",
                    gate.cached_tokens(),
                    rss as f64 / 1024.0
                );
                // Every entry costs at least 640 bytes: the byte bound is an entry bound too.
                assert!(
                    gate.cached_tokens() <= MAX_BYTES / 640,
                    "the cache outgrew its bound"
                );
                if i == 100_000.min(total) {
                    warm = rss;
                }
            }
            if i == total {
                break;
            }
            let claims = serde_json::json!({
                "sub": format!("user-{}", i % 5000), "iss": ISS, "exp": now + 3600, "iat": now,
                "roles": ["user"], "jti": format!("mem-{i:09}"),
            });
            let token = jsonwebtoken::encode(&header, &claims, &key).expect("sign");
            let mut request = Request::new(Body::empty());
            *request.uri_mut() = "/r".parse().expect("uri");
            let value = HeaderValue::from_str(&format!("Bearer {token}")).expect("header");
            request.headers_mut().insert(header::AUTHORIZATION, value);
            let response = app.clone().oneshot(request).await.expect("infallible");
            assert_eq!(response.status(), StatusCode::OK, "token {i}");
        }
    });
    let end = rss_kib();
    println!(
        "\n{total} requests in {:.1} s; cache {} entries; VmRSS after warm-up \
         (100 000 tokens) {:.1} MiB, at the end {:.1} MiB ({:+.1} MiB)",
        start.elapsed().as_secs_f64(),
        gate.cached_tokens(),
        warm as f64 / 1024.0,
        end as f64 / 1024.0,
        (end as f64 - warm as f64) / 1024.0,
    );
}
