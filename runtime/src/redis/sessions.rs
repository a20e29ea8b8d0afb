//! [`RedisStore`]: server-side sessions on Redis.

use std::collections::HashMap;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

use crate::session::{SessionKey, SessionRecord, SessionStore, StoreError, StoredFields};
use crate::verify::BoxFuture;

/// Server-side sessions in Redis: a hash per session under `{prefix}:session:{key}` (the hash
/// of the session id), a set of its keys per user (`{prefix}:user:{subject}`, so revoking a
/// user is one script), and a sorted set of expiry times (`{prefix}:expiry`) for the Gate's
/// background purge. Every session also gets its absolute end as Redis's own expiry, so
/// Redis drops it even when no purge runs. Every multi-key change is one Lua script, atomic.
///
/// ```no_run
/// use authgate::RedisStore;
/// # async fn demo() -> Result<(), authgate::StoreError> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    pub(super) redis: ConnectionManager,
    pub(super) prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

const CREATE: &str = r"
redis.call('HSET', KEYS[1], 'subject', ARGV[1], 'roles', ARGV[2], 'scopes', ARGV[3],
    'claims', ARGV[4], 'created_at', ARGV[5], 'last_seen', ARGV[6], 'expires_at', ARGV[7])
redis.call('EXPIREAT', KEYS[1], ARGV[7])
redis.call('SADD', KEYS[2], ARGV[8])
redis.call('ZADD', KEYS[3], ARGV[7], ARGV[8])
return 1";

const TOUCH: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('HSET', KEYS[1], 'last_seen', ARGV[1])
    return 1
end
return 0";

/// KEYS: the session; ARGV: the user-set prefix, the key, the expiry set.
const DELETE: &str = r"
local subject = redis.call('HGET', KEYS[1], 'subject')
redis.call('DEL', KEYS[1])
if subject then redis.call('SREM', ARGV[1] .. subject, ARGV[2]) end
redis.call('ZREM', ARGV[3], ARGV[2])
return 1";

/// KEYS: the user set; ARGV: the session prefix, the expiry set.
const DELETE_USER: &str = r"
local keys = redis.call('SMEMBERS', KEYS[1])
local deleted = 0
for _, key in ipairs(keys) do
    deleted = deleted + redis.call('DEL', ARGV[1] .. key)
    redis.call('ZREM', ARGV[2], key)
end
redis.call('DEL', KEYS[1])
return deleted";

/// KEYS: the expiry set; ARGV: now, the session prefix, the user-set prefix.
const PURGE: &str = r"
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local deleted = 0
for _, key in ipairs(keys) do
    local session = ARGV[2] .. key
    local subject = redis.call('HGET', session, 'subject')
    deleted = deleted + redis.call('DEL', session)
    if subject then redis.call('SREM', ARGV[3] .. subject, key) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return deleted";

impl RedisStore {
    /// Connects to `url` (reconnecting on its own) with the key prefix `authgate`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(StoreError::from_error)?;
        let redis = ConnectionManager::new(client)
            .await
            .map_err(StoreError::from_error)?;
        Ok(RedisStore::new(redis))
    }

    /// Uses an existing connection manager, with the key prefix `authgate`.
    pub fn new(redis: ConnectionManager) -> Self {
        RedisStore {
            redis,
            prefix: "authgate".to_owned(),
        }
    }

    /// Keeps this store's keys under another prefix: one per app sharing a Redis, or per test.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn session(&self, key: &SessionKey) -> String {
        format!("{}:session:{}", self.prefix, key.as_str())
    }

    fn user(&self, subject: &str) -> String {
        format!("{}:user:{subject}", self.prefix)
    }

    fn expiry(&self) -> String {
        format!("{}:expiry", self.prefix)
    }
}

/// A session's Redis hash as [`StoredFields`]: every field is text, the times in decimal.
struct Hash(HashMap<String, String>);

impl StoredFields for Hash {
    fn text(&self, name: &str) -> Result<String, StoreError> {
        self.0
            .get(name)
            .cloned()
            .ok_or_else(|| StoreError::new(format!("a session without {name}")))
    }

    fn seconds(&self, name: &str) -> Result<u64, StoreError> {
        self.text(name)?.parse().map_err(StoreError::from_error)
    }
}

fn store_error(error: redis::RedisError) -> StoreError {
    StoreError::from_error(error)
}

impl SessionStore for RedisStore {
    fn create(&self, record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        let record = record.clone();
        Box::pin(async move {
            let (roles, scopes) = record.lists_as_json()?;
            let mut redis = self.redis.clone();
            let _: i64 = Script::new(CREATE)
                .key(self.session(&record.key))
                .key(self.user(&record.subject))
                .key(self.expiry())
                .arg(&record.subject)
                .arg(roles)
                .arg(scopes)
                .arg(&record.claims)
                .arg(record.created_at)
                .arg(record.last_seen)
                .arg(record.expires_at)
                .arg(record.key.as_str())
                .invoke_async(&mut redis)
                .await
                .map_err(store_error)?;
            Ok(())
        })
    }

    fn load(&self, key: &SessionKey) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
        let key = key.clone();
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let fields: HashMap<String, String> = redis
                .hgetall(self.session(&key))
                .await
                .map_err(store_error)?;
            if fields.is_empty() {
                return Ok(None);
            }
            SessionRecord::from_fields(key, &Hash(fields)).map(Some)
        })
    }

    fn touch(&self, key: &SessionKey, last_seen: u64) -> BoxFuture<'_, Result<bool, StoreError>> {
        let key = key.clone();
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let touched: i64 = Script::new(TOUCH)
                .key(self.session(&key))
                .arg(last_seen)
                .invoke_async(&mut redis)
                .await
                .map_err(store_error)?;
            Ok(touched == 1)
        })
    }

    fn delete(&self, key: &SessionKey) -> BoxFuture<'_, Result<(), StoreError>> {
        let key = key.clone();
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let _: i64 = Script::new(DELETE)
                .key(self.session(&key))
                .arg(format!("{}:user:", self.prefix))
                .arg(key.as_str())
                .arg(self.expiry())
                .invoke_async(&mut redis)
                .await
                .map_err(store_error)?;
            Ok(())
        })
    }

    fn delete_user(&self, subject: &str) -> BoxFuture<'_, Result<u64, StoreError>> {
        let user = self.user(subject);
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let deleted: u64 = Script::new(DELETE_USER)
                .key(user)
                .arg(format!("{}:session:", self.prefix))
                .arg(self.expiry())
                .invoke_async(&mut redis)
                .await
                .map_err(store_error)?;
            Ok(deleted)
        })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let deleted: u64 = Script::new(PURGE)
                .key(self.expiry())
                .arg(now)
                .arg(format!("{}:session:", self.prefix))
                .arg(format!("{}:user:", self.prefix))
                .invoke_async(&mut redis)
                .await
                .map_err(store_error)?;
            Ok(deleted)
        })
    }
}
