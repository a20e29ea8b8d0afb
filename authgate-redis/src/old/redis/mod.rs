//! Redis, for apps that run several instances: server-side sessions and refresh token
//! families ([`RedisStore`]) and the revocations of bearer tokens and stateless cookies
//! ([`RedisRevocations`], announced with pub/sub).

mod refresh;
mod revocations;
mod sessions;

pub use revocations::RedisRevocations;
pub use sessions::RedisStore;

/// Deletes everything a user set names, and the set: the sessions or the refresh families of
/// one subject. KEYS: the user set; ARGV: the key prefix of its members, their expiry set.
const DELETE_USER: &str = r"
local keys = redis.call('SMEMBERS', KEYS[1])
local deleted = 0
for _, key in ipairs(keys) do
    deleted = deleted + redis.call('DEL', ARGV[1] .. key)
    redis.call('ZREM', ARGV[2], key)
end
redis.call('DEL', KEYS[1])
return deleted";
