//! The Gate's own checks, through its requests: the token cache on its clock, and the
//! policy checked on every cached request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Gate;
use crate::clock::time;
use crate::issuers::Issuer;
use crate::keys::{Algorithm, SigningKey};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-cache";
const ISS: &str = "https://cache.test";

fn issuer() -> Issuer {
    Issuer::new(ISS).secret(SECRET)
}

fn token(exp: u64, extra: &[(&str, serde_json::Value)]) -> String {
    let mut claims = serde_json::Map::new();
    claims.insert("sub".into(), "alice".into());
    claims.insert("iss".into(), ISS.into());
    claims.insert("exp".into(), exp.into());
    for (name, value) in extra {
        claims.insert((*name).into(), value.clone());
    }
    let key = SigningKey::hmac(Algorithm::HS256, SECRET).unwrap();
    crate::verify::sign_access_jwt(&key, &claims).unwrap()
}

#[tokio::test]
async fn the_gate_clock_decides_expiry_of_cached_tokens() {
    let now = Arc::new(AtomicU64::new(1_000_000));
    let clock = now.clone();
    let gate = Gate::builder()
        .issuer(issuer())
        .leeway(std::time::Duration::from_secs(30))
        .clock(move || time(clock.load(Ordering::SeqCst)))
        .build()
        .unwrap();
    let t = token(1_000_100, &[]);
    let first = gate.verify_jwt(&t).await.unwrap();
    assert_eq!(gate.cached_tokens(), 1);
    now.store(1_000_129, Ordering::SeqCst);
    let hit = gate.verify_jwt(&t).await.unwrap();
    assert!(Arc::ptr_eq(&first, &hit), "served from the cache");
    // exp + leeway: expired exactly as an uncached verification says.
    now.store(1_000_130, Ordering::SeqCst);
    assert!(gate.verify_jwt(&t).await.is_err());
    assert_eq!(gate.cached_tokens(), 0);
    // Back in time: re-verified, not served from an entry made later.
    now.store(1_000_050, Ordering::SeqCst);
    let again = gate.verify_jwt(&t).await.unwrap();
    now.store(1_000_040, Ordering::SeqCst);
    let earlier = gate.verify_jwt(&t).await.unwrap();
    assert!(!Arc::ptr_eq(&again, &earlier));
}

#[tokio::test]
async fn a_zero_size_turns_the_cache_off() {
    let gate = Gate::builder()
        .issuer(issuer())
        .token_cache(0)
        .build()
        .unwrap();
    let t = token(gate.now_secs() + 60, &[]);
    let a = gate.verify_jwt(&t).await.unwrap();
    let b = gate.verify_jwt(&t).await.unwrap();
    assert!(!Arc::ptr_eq(&a, &b));
    assert_eq!(gate.cached_tokens(), 0);
}

#[tokio::test]
async fn roles_are_checked_on_every_request_even_when_cached() {
    use crate::policy::spec::SpecBuilder;
    use crate::policy::{PolicySpec, Requirement};
    static ADMIN: PolicySpec = SpecBuilder::authenticated()
        .with_roles(&[Requirement::Any(&["admin"])])
        .build();
    let gate = Gate::builder().issuer(issuer()).build().unwrap();
    let user = token(
        gate.now_secs() + 60,
        &[("roles", serde_json::json!(["user"]))],
    );
    for _ in 0..3 {
        let (mut parts, ()) = http::Request::builder()
            .uri("/admin")
            .header("authorization", format!("Bearer {user}"))
            .body(())
            .unwrap()
            .into_parts();
        let response = gate
            .authorize(&mut parts, &ADMIN, "admin")
            .await
            .unwrap_err();
        assert_eq!(response.status(), http::StatusCode::FORBIDDEN);
    }
    assert_eq!(
        gate.cached_tokens(),
        1,
        "the token itself was valid and cached"
    );
}

/// A stateless cookie that lives longer than the Gate's `max_lifetime` would be refused by the
/// Gate that issued it, at every login: `build` says so instead. Server-side sessions are
/// not tokens, and the limit is not theirs.
#[test]
fn build_refuses_stateless_cookies_that_outlive_max_lifetime() {
    use crate::error::ConfigProblem;
    use crate::sessions::Sessions;
    use crate::store::MemoryStore;
    use std::time::Duration;
    let hours = |h: u64| Duration::from_secs(h * 3600);
    let stateless = || {
        Sessions::stateless(
            "session",
            SigningKey::hmac(Algorithm::HS256, SECRET).unwrap(),
        )
    };
    let built = |sessions: Sessions| {
        Gate::builder()
            .sessions(sessions.absolute_lifetime(hours(48)))
            .max_lifetime(hours(24))
            .build()
    };
    let err = built(stateless().idle_timeout(hours(25))).unwrap_err();
    assert!(
        matches!(
            err.problems(),
            [ConfigProblem::SessionLifetimeTooLong { lifetime, max_lifetime }]
                if *lifetime == hours(25) && *max_lifetime == hours(24)
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("shorten idle_timeout or raise max_lifetime")
    );
    assert!(built(stateless().idle_timeout(hours(24))).is_ok());
    let server = Sessions::server_side("session", MemoryStore::new()).idle_timeout(hours(25));
    assert!(built(server).is_ok());
}
