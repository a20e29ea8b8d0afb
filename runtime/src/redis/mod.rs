//! Redis, for apps that run several instances: server-side sessions and refresh token
//! families ([`RedisStore`]) and the revocations of bearer tokens and stateless cookies
//! ([`RedisRevocations`], announced with pub/sub).

mod refresh;
mod revocations;
mod sessions;

pub use revocations::RedisRevocations;
pub use sessions::RedisStore;
