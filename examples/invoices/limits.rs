//! Login abuse: how often one client address and one account may try a password.
//!
//! Every login runs argon2id (about 19 MiB and tens of milliseconds), also for an unknown
//! email (the dummy hash). Two rate limits answer before any hashing, and `auth` runs at most
//! one password check per core (a login that waits more than a second for one gets 503):
//!
//! - per client address: 60 attempts a minute by default (a burst of 60), then 429 with
//!   `Retry-After`;
//! - per account (the email as `db::normalize_email` spells it, the spelling the lookup uses,
//!   known or not): 10 attempts a minute by default, then 429:
//!   a password guesser is slowed to a crawl, and other accounts are untouched.
//!
//! The rate limits are governor's keyed GCRA limiters; their memory is bounded by forgetting
//! keys that are back at full capacity once there are many of them.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// Keys a limiter holds before it forgets the idle ones.
const MAX_KEYS: usize = 10_000;

/// The login bounds of one server. Cheap to clone.
#[derive(Clone, Debug)]
pub struct LoginLimits {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
}

/// Login attempts a minute: per client address, and per account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rates {
    pub per_address: NonZeroU32,
    pub per_account: NonZeroU32,
}

impl Default for Rates {
    fn default() -> Rates {
        Rates {
            per_address: NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN),
            per_account: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
        }
    }
}

impl std::str::FromStr for Rates {
    type Err = String;

    /// `ADDRESS,ACCOUNT`, attempts a minute: `60,10`.
    fn from_str(text: &str) -> Result<Rates, String> {
        let parse = |n: &str| n.trim().parse::<NonZeroU32>().ok();
        match text.split_once(',') {
            Some((address, account)) => match (parse(address), parse(account)) {
                (Some(per_address), Some(per_account)) => Ok(Rates {
                    per_address,
                    per_account,
                }),
                _ => Err(format!("{text:?}: two positive whole numbers, as in 60,10")),
            },
            None => Err(format!(
                "{text:?}: ADDRESS,ACCOUNT attempts a minute, as in 60,10"
            )),
        }
    }
}

impl LoginLimits {
    /// The limits above at these rates.
    pub fn new(rates: Rates) -> LoginLimits {
        LoginLimits {
            inner: Arc::new(Inner {
                per_address: RateLimiter::keyed(Quota::per_minute(rates.per_address)),
                per_account: RateLimiter::keyed(Quota::per_minute(rates.per_account)),
            }),
        }
    }

    /// Counts one login attempt from `address` (when known) for `email`; refuses with 429
    /// when either has used its quota.
    pub fn attempt(&self, address: Option<IpAddr>, email: &str) -> Result<(), ApiError> {
        let inner = &*self.inner;
        if let Some(address) = address {
            check(&inner.per_address, &address)?;
        }
        // The account's key is the email the lookup uses, so no spelling that reaches an
        // account counts against another quota.
        check(&inner.per_account, &crate::db::normalize_email(email))
    }
}

fn check<K>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), ApiError>
where
    K: Clone + std::hash::Hash + Eq,
{
    if limiter.len() > MAX_KEYS {
        limiter.retain_recent();
    }
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::TooManyRequests(wait.as_secs().max(1))
    })
}

/// The client's address as the connection reports it (`None` when the server was not started
/// with connection info, as in-process tests are).
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        Ok(ClientAddress(address))
    }
}
