//! [`RedisStore`] as a [`LoginStore`]: one string per login (see `layout.rs`), a set of keys
//! per subject, and a sorted set of ends for the purge. Every change of more than one key, and
//! every conditional change, is one Lua script: Redis runs scripts one at a time.

use std::sync::LazyLock;
use std::time::SystemTime;

use authgate::store::{LoginRecord, LoginStore, StoreError};
use redis::{AsyncCommands, Script};

use crate::RedisStore;
use crate::layout::{self, HASH, LAST_USED, MARKER};

/// Adds a login. KEYS: the login, its subject's set, the expiry set; ARGV: the value, Redis's
/// expiry time (`EXAT`), the key, the end (the score), the expiry set's member.
///
/// Redis expires the login at its end even when no purge runs; its key then stays in the
/// subject's set and the expiry set until the purge at that end removes it.
static CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
return 1",
    )
});

/// Sets `last_used` in place. KEYS: the login; ARGV: its 20 digits. `SETRANGE` alone would
/// create a missing key: the check keeps a touch from resurrecting a deleted login, and
/// `SETRANGE` keeps the key's expiry.
static TOUCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('SETRANGE', KEYS[1], {LAST_USED}, ARGV[1])
    return 1
end
return 0"
    ))
});

/// Replaces `current` if it is the presented hash. KEYS: the login; ARGV: `+` and the
/// presented hash, then `last_used`'s digits, `+` and the next hash (bytes 1..86 at once). A
/// missing login reads as `""` and a session as `-...`: neither matches.
static ROTATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"
if redis.call('GETRANGE', KEYS[1], {MARKER}, {end}) == ARGV[1] then
    redis.call('SETRANGE', KEYS[1], {LAST_USED}, ARGV[2])
    return 1
end
return 0",
        end = MARKER + HASH,
    ))
});

/// Replaces a login's data if it is the expected one. KEYS: the login; ARGV: the expected
/// data, the new data. The data starts after the subject (its length at 106, 10 digits;
/// itself from 116). `SET ... KEEPTTL` keeps Redis's expiry at the login's end; a missing
/// login (deleted, or expired by Redis) is not written, so no write brings one back.
static REPLACE_DATA: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
local length = tonumber(string.sub(value, {len_from}, {len_to}))
if not length then return 0 end
local head = {subject} + length
if string.sub(value, head + 1) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], string.sub(value, 1, head) .. ARGV[2], 'KEEPTTL')
return 1",
        len_from = layout::SUBJECT_LEN + 1,
        len_to = layout::SUBJECT,
        subject = layout::SUBJECT,
    ))
});

/// Deletes a login, and its key from its subject's set and the expiry set. KEYS: the login;
/// ARGV: the key, the subject-set prefix, the expiry set. The subject is read from the value
/// (its length at 106, 10 digits; itself from 116; Lua counts from 1). A value this store did
/// not write is deleted all the same: a logout must not fail on it.
static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
redis.call('DEL', KEYS[1])
local length = tonumber(string.sub(value, {len_from}, {len_to}))
if length then
    local subject = string.sub(value, {subject}, {subject_to} + length)
    redis.call('SREM', ARGV[2] .. subject, ARGV[1])
    redis.call('ZREM', ARGV[3], ARGV[1] .. ' ' .. subject)
end
return 1",
        len_from = layout::SUBJECT_LEN + 1,
        len_to = layout::SUBJECT,
        subject = layout::SUBJECT + 1,
        subject_to = layout::SUBJECT,
    ))
});

/// Deletes every login of a subject. KEYS: the subject's set; ARGV: the login prefix, the
/// expiry set, the subject. Counts the logins that still existed.
static DELETE_USER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local deleted = 0
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    deleted = deleted + redis.call('DEL', ARGV[1] .. key)
    redis.call('ZREM', ARGV[2], key .. ' ' .. ARGV[3])
end
redis.call('DEL', KEYS[1])
return deleted",
    )
});

/// Deletes up to ARGV[2] logins whose end is at or before ARGV[1], and their keys from their
/// subjects' sets, also of the logins Redis already expired (which is why the expiry set's
/// members are `key subject`: the value that held the subject is gone; keys are hex, so the
/// first space ends the key). KEYS: the expiry set; ARGV: now, the batch size, the login
/// prefix, the subject-set prefix. Returns the logins deleted and the members read.
static PURGE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local deleted = 0
for _, member in ipairs(members) do
    local space = string.find(member, ' ', 1, true)
    if space then
        local key = string.sub(member, 1, space - 1)
        deleted = deleted + redis.call('DEL', ARGV[3] .. key)
        redis.call('SREM', ARGV[4] .. string.sub(member, space + 1), key)
    end
    redis.call('ZREM', KEYS[1], member)
end
return {deleted, #members}",
    )
});

/// How many expired logins one purge script deletes: Redis serves nothing else while a
/// script runs.
const PURGE_BATCH: u64 = 500;

/// The latest `EXAT` Redis takes (it keeps expiry times in milliseconds in an `i64`).
const LATEST_EXAT: u64 = i64::MAX as u64 / 1000;

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::unavailable(e)
}

impl LoginStore for RedisStore {
    async fn create(&self, record: &LoginRecord) -> Result<(), StoreError> {
        let value = layout::encode(record)?;
        let expires_at = layout::seconds(record.expires_at);
        let mut redis = self.redis.clone();
        let _: i64 = CREATE
            .key(self.login(&record.key))
            .key(self.user(&record.subject))
            .key(self.expiry())
            .arg(value)
            .arg(expires_at.clamp(1, LATEST_EXAT))
            .arg(&record.key)
            .arg(expires_at)
            .arg(format!("{} {}", record.key, record.subject))
            .invoke_async(&mut redis)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn load(&self, key: &str) -> Result<Option<LoginRecord>, StoreError> {
        // The request path: one GET, then slicing.
        let mut redis = self.redis.clone();
        let value: Option<Vec<u8>> = redis.get(self.login(key)).await.map_err(unavailable)?;
        value.map(|value| layout::decode(key, &value)).transpose()
    }

    async fn touch(&self, key: &str, last_used: SystemTime) -> Result<bool, StoreError> {
        let mut redis = self.redis.clone();
        let touched: i64 = TOUCH
            .key(self.login(key))
            .arg(layout::digits(last_used))
            .invoke_async(&mut redis)
            .await
            .map_err(unavailable)?;
        Ok(touched == 1)
    }

    async fn rotate(
        &self,
        key: &str,
        presented: &str,
        next: &str,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let next = layout::current(Some(next))?;
        // A presented value that is no hash is in force nowhere.
        let Ok(presented) = layout::current(Some(presented)) else {
            return Ok(false);
        };
        let mut redis = self.redis.clone();
        let rotated: i64 = ROTATE
            .key(self.login(key))
            .arg(presented)
            .arg(layout::digits(now) + &next)
            .invoke_async(&mut redis)
            .await
            .map_err(unavailable)?;
        Ok(rotated == 1)
    }

    async fn replace_data(
        &self,
        key: &str,
        expected: &str,
        data: &str,
    ) -> Result<bool, StoreError> {
        let mut redis = self.redis.clone();
        let replaced: i64 = REPLACE_DATA
            .key(self.login(key))
            .arg(expected)
            .arg(data)
            .invoke_async(&mut redis)
            .await
            .map_err(unavailable)?;
        Ok(replaced == 1)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut redis = self.redis.clone();
        let _: i64 = DELETE
            .key(self.login(key))
            .arg(key)
            .arg(self.user(""))
            .arg(self.expiry())
            .invoke_async(&mut redis)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn delete_user(&self, subject: &str) -> Result<u64, StoreError> {
        let mut redis = self.redis.clone();
        DELETE_USER
            .key(self.user(subject))
            .arg(self.login(""))
            .arg(self.expiry())
            .arg(subject)
            .invoke_async(&mut redis)
            .await
            .map_err(unavailable)
    }

    async fn purge_expired(&self, now: SystemTime) -> Result<u64, StoreError> {
        let mut redis = self.redis.clone();
        let mut purged = 0;
        loop {
            let (deleted, read): (u64, u64) = PURGE
                .key(self.expiry())
                .arg(layout::seconds(now))
                .arg(PURGE_BATCH)
                .arg(self.login(""))
                .arg(self.user(""))
                .invoke_async(&mut redis)
                .await
                .map_err(unavailable)?;
            purged += deleted;
            if read < PURGE_BATCH {
                return Ok(purged);
            }
        }
    }
}
