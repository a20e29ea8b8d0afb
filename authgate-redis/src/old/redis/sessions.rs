//! [`RedisStore`]: server-side sessions on Redis.

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::session::{SessionKey, SessionRecord, SessionStore, StoreError};
use crate::verify::BoxFuture;

/// Server-side sessions in Redis: one string per session under `{prefix}:session:{key}` (the
/// hash of the session id), a set of its keys per user (`{prefix}:user:{subject}`, so revoking
/// a user is one script), and a sorted set of expiry times (`{prefix}:expiry`) for the Gate's
/// background purge. Every session also gets its absolute end as Redis's own expiry, so Redis
/// drops it even when no purge runs. Every multi-key change is one Lua script, atomic.
///
/// A session's string is `last_seen` as 20 decimal digits, then the rest of the record as a
/// JSON object, the claims in it as an object too (a session written by an earlier version,
/// with the claims as a JSON string, still reads). A request reads it with one `GET`, a
/// single bulk string to parse, and a touch rewrites the 20 digits in place with `SETRANGE`,
/// which keeps the key's expiry.
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

/// KEYS: the session, the user set, the expiry set; ARGV: the value, the absolute end, the key,
/// the session prefix.
///
/// The user's set first loses the keys of sessions Redis expired on its own (the purge can no
/// longer read their subject), so it holds no more than the user's live sessions.
const CREATE: &str = r"
for _, key in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if redis.call('EXISTS', ARGV[4] .. key) == 0 then redis.call('SREM', KEYS[2], key) end
end
redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
return 1";

/// KEYS: the session; ARGV: `last_seen` in 20 digits. `SETRANGE` alone would create a missing
/// key: the check keeps a touch from resurrecting a deleted session.
const TOUCH: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('SETRANGE', KEYS[1], 0, ARGV[1])
    return 1
end
return 0";

/// The subject of a session string (Lua), for removing the key from its user's set.
macro_rules! subject_of {
    () => {
        "local function subject_of(value)
    if not value then return nil end
    local ok, record = pcall(cjson.decode, string.sub(value, 21))
    if ok and type(record) == 'table' and type(record.subject) == 'string' then
        return record.subject
    end
    return nil
end
"
    };
}

/// KEYS: the session; ARGV: the user-set prefix, the key, the expiry set.
const DELETE: &str = concat!(
    subject_of!(),
    r"
local subject = subject_of(redis.call('GET', KEYS[1]))
redis.call('DEL', KEYS[1])
if subject then redis.call('SREM', ARGV[1] .. subject, ARGV[2]) end
redis.call('ZREM', ARGV[3], ARGV[2])
return 1"
);

/// KEYS: the expiry set; ARGV: now, the session prefix, the user-set prefix.
const PURGE: &str = concat!(
    subject_of!(),
    r"
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local deleted = 0
for _, key in ipairs(keys) do
    local session = ARGV[2] .. key
    local subject = subject_of(redis.call('GET', session))
    deleted = deleted + redis.call('DEL', session)
    if subject then redis.call('SREM', ARGV[3] .. subject, key) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return deleted"
);

/// How wide `last_seen` is at the start of a session string: `u64::MAX` has 20 digits.
const SEEN_DIGITS: usize = 20;

/// The part of a session string after `last_seen`, as written. `claims` is the record's JSON
/// object itself, not a string holding it: it reads back without unescaping, byte for byte
/// what the store was given (surrounding whitespace aside).
#[derive(Serialize)]
struct Written<'a> {
    subject: &'a str,
    roles: &'a [String],
    scopes: &'a [String],
    claims: &'a RawValue,
    created_at: u64,
    expires_at: u64,
}

/// The same part, as read back; `claims` borrowed from the value read.
#[derive(Deserialize)]
struct Read<'a> {
    subject: String,
    roles: Vec<String>,
    scopes: Vec<String>,
    #[serde(borrow)]
    claims: &'a RawValue,
    created_at: u64,
    expires_at: u64,
}

fn seen(last_seen: u64) -> String {
    format!("{last_seen:0SEEN_DIGITS$}")
}

/// A record as its session string.
fn encode(record: &SessionRecord) -> Result<Vec<u8>, StoreError> {
    let mut value = seen(record.last_seen).into_bytes();
    // The claims go in as the JSON object they are (surrounding whitespace aside): anything
    // else would be read back as a different record, or as the older layout below.
    let claims: &RawValue =
        serde_json::from_str(record.claims.trim()).map_err(StoreError::from_error)?;
    if !claims.get().starts_with('{') {
        return Err(StoreError::new("session claims that are not a JSON object"));
    }
    let rest = Written {
        subject: &record.subject,
        roles: &record.roles,
        scopes: &record.scopes,
        claims,
        created_at: record.created_at,
        expires_at: record.expires_at,
    };
    serde_json::to_writer(&mut value, &rest).map_err(StoreError::from_error)?;
    Ok(value)
}

/// A session string read back under `key`; an error for anything this store did not write.
fn decode(key: SessionKey, value: &[u8]) -> Result<SessionRecord, StoreError> {
    let corrupt = || StoreError::new("a session value this store did not write");
    let (digits, rest) = value.split_at_checked(SEEN_DIGITS).ok_or_else(corrupt)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(corrupt());
    }
    let last_seen = std::str::from_utf8(digits)
        .ok()
        .and_then(|digits| digits.parse().ok())
        .ok_or_else(corrupt)?;
    let stored: Read = serde_json::from_slice(rest).map_err(StoreError::from_error)?;
    Ok(SessionRecord {
        key,
        subject: stored.subject,
        roles: stored.roles,
        scopes: stored.scopes,
        claims: claims(stored.claims).ok_or_else(corrupt)?,
        created_at: stored.created_at,
        last_seen,
        expires_at: stored.expires_at,
    })
}

/// The claims of a session string: the object as written, or, in a session written before
/// the claims were kept as an object, the JSON string that held the object's text. Sessions
/// from before an upgrade keep working until they end.
fn claims(stored: &RawValue) -> Option<String> {
    let text = stored.get();
    match text.as_bytes().first() {
        Some(b'{') => Some(text.to_owned()),
        Some(b'"') => serde_json::from_str::<String>(text).ok().filter(|inner| {
            inner.trim_start().starts_with('{')
                && serde_json::from_str::<serde::de::IgnoredAny>(inner).is_ok()
        }),
        _ => None,
    }
}

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
        const SEGMENT: &str = ":session:";
        let mut name = String::with_capacity(self.prefix.len() + SEGMENT.len() + 64);
        name.push_str(&self.prefix);
        name.push_str(SEGMENT);
        name.push_str(key.as_str());
        name
    }

    fn user(&self, subject: &str) -> String {
        format!("{}:user:{subject}", self.prefix)
    }

    fn expiry(&self) -> String {
        format!("{}:expiry", self.prefix)
    }
}

impl SessionStore for RedisStore {
    fn create(&self, record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        let value = encode(record);
        let (session, user, key) = (
            self.session(&record.key),
            self.user(&record.subject),
            record.key,
        );
        let expires_at = record.expires_at;
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let _: i64 = Script::new(CREATE)
                .key(session)
                .key(user)
                .key(self.expiry())
                .arg(value?)
                .arg(expires_at)
                .arg(key.as_str())
                .arg(format!("{}:session:", self.prefix))
                .invoke_async(&mut redis)
                .await
                .map_err(StoreError::from_error)?;
            Ok(())
        })
    }

    fn load(&self, key: &SessionKey) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
        let (name, key) = (self.session(key), *key);
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let value: Option<Vec<u8>> = redis.get(name).await.map_err(StoreError::from_error)?;
            value.map(|value| decode(key, &value)).transpose()
        })
    }

    fn touch(&self, key: &SessionKey, last_seen: u64) -> BoxFuture<'_, Result<bool, StoreError>> {
        let name = self.session(key);
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let touched: i64 = Script::new(TOUCH)
                .key(name)
                .arg(seen(last_seen))
                .invoke_async(&mut redis)
                .await
                .map_err(StoreError::from_error)?;
            Ok(touched == 1)
        })
    }

    fn delete(&self, key: &SessionKey) -> BoxFuture<'_, Result<(), StoreError>> {
        let key = *key;
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let _: i64 = Script::new(DELETE)
                .key(self.session(&key))
                .arg(format!("{}:user:", self.prefix))
                .arg(key.as_str())
                .arg(self.expiry())
                .invoke_async(&mut redis)
                .await
                .map_err(StoreError::from_error)?;
            Ok(())
        })
    }

    fn delete_user(&self, subject: &str) -> BoxFuture<'_, Result<u64, StoreError>> {
        let user = self.user(subject);
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let deleted: u64 = Script::new(super::DELETE_USER)
                .key(user)
                .arg(format!("{}:session:", self.prefix))
                .arg(self.expiry())
                .invoke_async(&mut redis)
                .await
                .map_err(StoreError::from_error)?;
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
                .map_err(StoreError::from_error)?;
            Ok(deleted)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> SessionRecord {
        SessionRecord {
            key: SessionKey::of("an id"),
            subject: "user \"7\"\n".to_owned(),
            roles: vec!["admin".to_owned()],
            scopes: vec![],
            claims: r#"{"tenant":"acme","n":1.5}"#.to_owned(),
            created_at: 1_700_000_000,
            last_seen: 1_700_000_060,
            expires_at: u64::MAX,
        }
    }

    #[test]
    fn a_record_comes_back_as_it_was_written() {
        let record = record();
        let value = encode(&record).expect("encoded");
        assert_eq!(&value[..SEEN_DIGITS], b"00000000001700000060");
        assert_eq!(decode(record.key, &value).expect("decoded"), record);
    }

    #[test]
    fn claims_are_kept_as_a_json_object_byte_for_byte() {
        let mut record = record();
        record.claims = r#"{ "tenant" : "a\u0063me", "nested": {"n": [1, 2.50]} }"#.to_owned();
        let value = encode(&record).expect("encoded");
        let text = std::str::from_utf8(&value[SEEN_DIGITS..]).expect("UTF-8");
        let written: serde_json::Value = serde_json::from_str(text).expect("JSON");
        assert!(written["claims"].is_object(), "{text}");
        assert_eq!(decode(record.key, &value).expect("decoded"), record);
    }

    #[test]
    fn claims_that_are_not_a_json_object_are_refused_when_written() {
        let mut record = record();
        for claims in ["not json", "", "[1]", "\"{}\"", "7", "{} {}"] {
            record.claims = claims.to_owned();
            assert!(encode(&record).is_err(), "{claims:?}");
        }
    }

    /// A session written when the claims were a JSON string inside the record reads back with
    /// the same claims; a string that does not hold an object is refused.
    #[test]
    fn a_session_of_the_older_layout_reads_back() {
        let record = record();
        let older = |claims: &str| {
            let mut value = seen(record.last_seen).into_bytes();
            let rest = serde_json::json!({
                "subject": record.subject,
                "roles": record.roles,
                "scopes": record.scopes,
                "claims": claims,
                "created_at": record.created_at,
                "expires_at": record.expires_at,
            });
            serde_json::to_writer(&mut value, &rest).expect("written");
            value
        };
        let read = decode(record.key, &older(&record.claims)).expect("decoded");
        assert_eq!(read, record);
        for claims in ["not json", "[1]", "7", "{not json", "{} {}"] {
            assert!(decode(record.key, &older(claims)).is_err(), "{claims:?}");
        }
    }

    #[test]
    fn a_touch_rewrites_only_the_digits() {
        let record = record();
        let mut value = encode(&record).expect("encoded");
        value[..SEEN_DIGITS].copy_from_slice(seen(u64::MAX).as_bytes());
        let read = decode(record.key, &value).expect("decoded");
        assert_eq!(read.last_seen, u64::MAX);
        assert_eq!(read.expires_at, record.expires_at);
    }

    #[test]
    fn a_value_this_store_did_not_write_is_an_error() {
        let key = SessionKey::of("an id");
        let mut digits_then_garbage = seen(1).into_bytes();
        digits_then_garbage.extend_from_slice(b"{\"subject\":");
        for value in [
            &b""[..],
            b"12",
            b"0000000000000000000x{}",
            b"-0000000000000000001{}",
            &digits_then_garbage,
            "0000000000000000000\u{663}{}".as_bytes(),
        ] {
            assert!(decode(key, value).is_err(), "{value:?}");
        }
    }
}
