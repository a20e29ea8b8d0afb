//! [`RedisRevocations`]: revocations in a Redis sorted set, announced with pub/sub.

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, PubSubStream};
use redis::{AsyncCommands, Script};

use crate::revocation::{FeedEvent, Revocation, RevocationFeed, RevocationStore};
use crate::session::StoreError;
use crate::verify::BoxFuture;

/// Revocations in Redis: a sorted set `{prefix}:revocations` whose members are the
/// revocations and whose scores are the times until which they matter (so the purge is one
/// `ZREMRANGEBYSCORE`), announced on the pub/sub channel of the same name. Adding and
/// announcing is one Lua script, so no instance can miss a revocation that was stored.
///
/// ```no_run
/// use authgate::{Gate, RedisRevocations, Revocations};
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisRevocations::connect("redis://127.0.0.1:6379").await?;
/// let gate = Gate::builder()
///     .hs256("an HMAC secret of at least 32 bytes!!")
///     .revocations(Revocations::new(store))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisRevocations {
    client: redis::Client,
    redis: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisRevocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRevocations")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// KEYS: the set; ARGV: until, the member, the channel, the announcement.
const REVOKE: &str = r"
redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1";

impl RedisRevocations {
    /// Connects to `url` (commands reconnect on their own; the feed gets a connection of its
    /// own each time the Gate subscribes) with the key prefix `authgate`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(StoreError::from_error)?;
        let redis = ConnectionManager::new(client.clone())
            .await
            .map_err(StoreError::from_error)?;
        Ok(RedisRevocations {
            client,
            redis,
            prefix: "authgate".to_owned(),
        })
    }

    /// Keeps the set and the channel under another prefix: one per app sharing a Redis, or
    /// per test.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The sorted set and the channel.
    fn key(&self) -> String {
        format!("{}:revocations", self.prefix)
    }
}

/// A revocation as a member of the set: its text without `until`, which is the score.
fn member(revocation: &Revocation) -> String {
    let text = revocation.to_text();
    // `to_text` is `<kind> <until> <rest>`.
    let mut parts = text.splitn(3, ' ');
    let (kind, _until, rest) = (parts.next(), parts.next(), parts.next());
    format!("{} {}", kind.unwrap_or(""), rest.unwrap_or(""))
}

fn from_member(member: &str, until: u64) -> Option<Revocation> {
    let (kind, rest) = member.split_once(' ')?;
    Revocation::from_text(&format!("{kind} {until} {rest}"))
}

impl RevocationStore for RedisRevocations {
    fn revoke(&self, revocation: &Revocation) -> BoxFuture<'_, Result<(), StoreError>> {
        let revocation = revocation.clone();
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let key = self.key();
            let _: i64 = Script::new(REVOKE)
                .key(&key)
                .arg(revocation.until())
                .arg(member(&revocation))
                .arg(&key)
                .arg(revocation.to_text())
                .invoke_async(&mut redis)
                .await
                .map_err(StoreError::from_error)?;
            Ok(())
        })
    }

    fn load(&self, now: u64) -> BoxFuture<'_, Result<Vec<Revocation>, StoreError>> {
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let members: Vec<(String, u64)> = redis
                .zrangebyscore_withscores(self.key(), format!("({now}"), "+inf")
                .await
                .map_err(StoreError::from_error)?;
            members
                .iter()
                .map(|(m, until)| {
                    from_member(m, *until)
                        .ok_or_else(|| StoreError::new("a malformed revocation in Redis"))
                })
                .collect()
        })
    }

    fn subscribe(&self) -> BoxFuture<'_, Result<Box<dyn RevocationFeed>, StoreError>> {
        Box::pin(async move {
            let mut pubsub = self
                .client
                .get_async_pubsub()
                .await
                .map_err(StoreError::from_error)?;
            // Returns once Redis confirmed the subscription.
            pubsub
                .subscribe(self.key())
                .await
                .map_err(StoreError::from_error)?;
            let feed: Box<dyn RevocationFeed> = Box::new(RedisFeed(pubsub.into_on_message()));
            Ok(feed)
        })
    }

    fn heartbeat(&self, beat: u64) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let _: i64 = redis
                .publish(self.key(), FeedEvent::Heartbeat(beat).to_text())
                .await
                .map_err(StoreError::from_error)?;
            Ok(())
        })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let purged: u64 = redis
                .zrembyscore(self.key(), "-inf", now)
                .await
                .map_err(StoreError::from_error)?;
            Ok(purged)
        })
    }
}

struct RedisFeed(PubSubStream);

impl RevocationFeed for RedisFeed {
    fn next(&mut self) -> BoxFuture<'_, Result<FeedEvent, StoreError>> {
        Box::pin(async move {
            loop {
                // `next` on the stream is cancel-safe (a channel receive).
                let Some(message) = self.0.next().await else {
                    return Err(StoreError::new("Redis revocation feed connection lost"));
                };
                let payload: String = message.get_payload().map_err(StoreError::from_error)?;
                match FeedEvent::from_text(&payload) {
                    Some(event) => return Ok(event),
                    // Not ours (someone else publishing on the channel): skip it.
                    None => continue,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_announcements_read_back() {
        let revocations = [
            Revocation::Token {
                jti: "id with spaces".into(),
                until: 12,
            },
            Revocation::Subject {
                subject: "user:7".into(),
                not_before: 3,
                until: 40,
            },
        ];
        for revocation in revocations {
            let m = member(&revocation);
            assert_eq!(
                from_member(&m, revocation.until()),
                Some(revocation.clone())
            );
            let announced = FeedEvent::Revoked(revocation);
            assert_eq!(FeedEvent::from_text(&announced.to_text()), Some(announced));
        }
        assert_eq!(FeedEvent::from_text("h 99"), Some(FeedEvent::Heartbeat(99)));
        assert_eq!(FeedEvent::from_text("h x"), None);
        assert_eq!(FeedEvent::from_text("hello"), None);
    }
}
