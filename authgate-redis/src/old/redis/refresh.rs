//! [`RedisStore`] as a [`RefreshStore`]: refresh token families on Redis.
//!
//! A family is a hash under `{prefix}:refresh:{key}` (the hash of the family id) with the hash
//! of its token in force in `current`, its key in a set per user (`{prefix}:refresh-user:
//! {subject}`, so `revoke_user` is one script) and in a sorted set of expiry times
//! (`{prefix}:refresh-expiry`) for the purge; Redis also expires it at its absolute end. A
//! rotation is one script that compares `current` and replaces it: Redis runs scripts one at a
//! time, so two rotations of one token cannot both see the hash they were shown.

use std::collections::HashMap;

use redis::{AsyncCommands, Script};

use super::RedisStore;
use crate::session::refresh::{RefreshFamily, RefreshStore};
use crate::session::{SessionKey, StoreError, StoredFields, list_as_json};
use crate::verify::BoxFuture;

/// KEYS: the family, the user set, the expiry set; ARGV: current, subject, roles, scopes,
/// claims, created_at, last_used, expires_at, the family's key, the family prefix.
///
/// The user's set first loses the keys of families Redis expired on its own (the purge can no
/// longer read their subject), so it holds no more than the user's live families.
const CREATE: &str = r"
for _, key in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if redis.call('EXISTS', ARGV[10] .. key) == 0 then redis.call('SREM', KEYS[2], key) end
end
redis.call('HSET', KEYS[1], 'current', ARGV[1], 'subject', ARGV[2], 'roles', ARGV[3],
    'scopes', ARGV[4], 'claims', ARGV[5], 'created_at', ARGV[6], 'last_used', ARGV[7],
    'expires_at', ARGV[8])
redis.call('EXPIREAT', KEYS[1], ARGV[8])
redis.call('SADD', KEYS[2], ARGV[9])
redis.call('ZADD', KEYS[3], ARGV[8], ARGV[9])
return 1";

/// KEYS: the family; ARGV: the presented hash, the next hash, now.
const ROTATE: &str = r"
if redis.call('HGET', KEYS[1], 'current') == ARGV[1] then
    redis.call('HSET', KEYS[1], 'current', ARGV[2], 'last_used', ARGV[3])
    return 1
end
return 0";

/// KEYS: the family; ARGV: the user-set prefix, the key, the expiry set.
const DELETE: &str = r"
local subject = redis.call('HGET', KEYS[1], 'subject')
redis.call('DEL', KEYS[1])
if subject then redis.call('SREM', ARGV[1] .. subject, ARGV[2]) end
redis.call('ZREM', ARGV[3], ARGV[2])
return 1";

/// KEYS: the expiry set; ARGV: now, the family prefix, the user-set prefix.
const PURGE: &str = r"
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local deleted = 0
for _, key in ipairs(keys) do
    local family = ARGV[2] .. key
    local subject = redis.call('HGET', family, 'subject')
    deleted = deleted + redis.call('DEL', family)
    if subject then redis.call('SREM', ARGV[3] .. subject, key) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return deleted";

impl RedisStore {
    fn family(&self, key: &SessionKey) -> String {
        format!("{}:refresh:{}", self.prefix, key.as_str())
    }

    fn family_user(&self, subject: &str) -> String {
        format!("{}:refresh-user:{subject}", self.prefix)
    }

    fn family_expiry(&self) -> String {
        format!("{}:refresh-expiry", self.prefix)
    }
}

/// A family's Redis hash as [`StoredFields`]: every field is text, the times in decimal.
struct Hash(HashMap<String, String>);

impl StoredFields for Hash {
    fn text(&self, name: &str) -> Result<String, StoreError> {
        self.0
            .get(name)
            .cloned()
            .ok_or_else(|| StoreError::new(format!("a refresh family without {name}")))
    }

    fn seconds(&self, name: &str) -> Result<u64, StoreError> {
        self.text(name)?.parse().map_err(StoreError::from_error)
    }
}

impl RefreshStore for RedisStore {
    fn create_family(&self, family: &RefreshFamily) -> BoxFuture<'_, Result<(), StoreError>> {
        let family = family.clone();
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let _: i64 = Script::new(CREATE)
                .key(self.family(&family.key))
                .key(self.family_user(&family.subject))
                .key(self.family_expiry())
                .arg(family.current.as_str())
                .arg(&family.subject)
                .arg(list_as_json(&family.roles)?)
                .arg(list_as_json(&family.scopes)?)
                .arg(&family.claims)
                .arg(family.created_at)
                .arg(family.last_used)
                .arg(family.expires_at)
                .arg(family.key.as_str())
                .arg(format!("{}:refresh:", self.prefix))
                .invoke_async(&mut redis)
                .await
                .map_err(StoreError::from_error)?;
            Ok(())
        })
    }

    fn load_family(
        &self,
        key: &SessionKey,
    ) -> BoxFuture<'_, Result<Option<RefreshFamily>, StoreError>> {
        let key = *key;
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let fields: HashMap<String, String> = redis
                .hgetall(self.family(&key))
                .await
                .map_err(StoreError::from_error)?;
            if fields.is_empty() {
                return Ok(None);
            }
            RefreshFamily::from_fields(key, &Hash(fields)).map(Some)
        })
    }

    fn rotate_family(
        &self,
        key: &SessionKey,
        presented: &SessionKey,
        next: &SessionKey,
        now: u64,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let (key, presented, next) = (*key, *presented, *next);
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let rotated: i64 = Script::new(ROTATE)
                .key(self.family(&key))
                .arg(presented.as_str())
                .arg(next.as_str())
                .arg(now)
                .invoke_async(&mut redis)
                .await
                .map_err(StoreError::from_error)?;
            Ok(rotated == 1)
        })
    }

    fn delete_family(&self, key: &SessionKey) -> BoxFuture<'_, Result<(), StoreError>> {
        let key = *key;
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let _: i64 = Script::new(DELETE)
                .key(self.family(&key))
                .arg(format!("{}:refresh-user:", self.prefix))
                .arg(key.as_str())
                .arg(self.family_expiry())
                .invoke_async(&mut redis)
                .await
                .map_err(StoreError::from_error)?;
            Ok(())
        })
    }

    fn delete_user_families(&self, subject: &str) -> BoxFuture<'_, Result<u64, StoreError>> {
        let user = self.family_user(subject);
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let deleted: u64 = Script::new(super::DELETE_USER)
                .key(user)
                .arg(format!("{}:refresh:", self.prefix))
                .arg(self.family_expiry())
                .invoke_async(&mut redis)
                .await
                .map_err(StoreError::from_error)?;
            Ok(deleted)
        })
    }

    fn purge_expired_families(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let deleted: u64 = Script::new(PURGE)
                .key(self.family_expiry())
                .arg(now)
                .arg(format!("{}:refresh:", self.prefix))
                .arg(format!("{}:refresh-user:", self.prefix))
                .invoke_async(&mut redis)
                .await
                .map_err(StoreError::from_error)?;
            Ok(deleted)
        })
    }
}
