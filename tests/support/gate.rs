//! The test Gate, a clock the test moves, and the app state with its handler-ran counter.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authgate::issuers::Issuer;
use authgate::sessions::Sessions;
use authgate::{Gate, GateBuilder};
use axum::extract::FromRef;

/// The fixed time every Gate of the tests sees (seconds since the epoch).
pub const NOW: u64 = 1_900_000_000;
pub const ISS: &str = "https://auth.example.test";
pub const AUD: &str = "authgate-tests";
pub const REALM: &str = "tests";
/// The HS256 secret of the default test Gate (38 bytes).
pub const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-tests";
/// The session cookie name of the session tests.
pub const COOKIE: &str = "__Host-session";
/// The `Host` of the browser tests, and its origin.
pub const HOST: &str = "app.example.com";
pub const SAME_ORIGIN: &str = "https://app.example.com";

/// A time as the Gates of the tests read it: `secs` seconds since the epoch.
pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// The default test issuer: `ISS`, the HS256 test secret (which also signs the tokens the Gate
/// issues), audience `AUD` required.
pub fn test_issuer() -> Issuer {
    Issuer::new(ISS).secret(SECRET).audience(AUD)
}

/// The default test Gate: realm `tests`, the test issuer, the clock fixed at `NOW`.
pub fn gate_builder() -> GateBuilder {
    Gate::builder()
        .realm(REALM)
        .issuer(test_issuer())
        .clock(|| at(NOW))
}

/// A Gate with only the realm and clock set: add an issuer (or sessions) yourself.
pub fn keyless_gate_builder() -> GateBuilder {
    Gate::builder().realm(REALM).clock(|| at(NOW))
}

pub fn gate() -> Gate {
    gate_builder().build().expect("default test gate")
}

/// A clock the test moves, starting at `NOW`.
#[derive(Clone)]
pub struct Clock(Arc<AtomicU64>);

impl Clock {
    pub fn new() -> Self {
        Clock(Arc::new(AtomicU64::new(NOW)))
    }

    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }

    /// The clock as a Gate reads it.
    pub fn reader(&self) -> impl Fn() -> SystemTime + Send + Sync + 'static {
        let now = self.0.clone();
        move || at(now.load(Ordering::SeqCst))
    }

    /// Now on this clock, in seconds since the epoch.
    pub fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The default test Gate with these sessions, on this clock.
pub fn gate_with(sessions: Sessions, clock: &Clock) -> Gate {
    gate_builder()
        .sessions(sessions)
        .clock(clock.reader())
        .build()
        .expect("session gate")
}

/// Counts handler bodies that ran. Every test handler calls `hit()` first thing.
#[derive(Clone, Default, Debug)]
pub struct Hits(Arc<AtomicUsize>);

impl Hits {
    pub fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// The state of every test app: the Gate the guards read, and the handler-ran counter.
#[derive(Clone)]
pub struct AppState {
    pub gate: Gate,
    pub hits: Hits,
}

impl AppState {
    pub fn new(gate: Gate) -> Self {
        AppState {
            gate,
            hits: Hits::default(),
        }
    }
}

impl FromRef<AppState> for Gate {
    fn from_ref(state: &AppState) -> Gate {
        state.gate.clone()
    }
}

impl FromRef<AppState> for Hits {
    fn from_ref(state: &AppState) -> Hits {
        state.hits.clone()
    }
}
