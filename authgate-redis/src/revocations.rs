//! [`RedisStore`] as a [`RevocationStore`]: a sorted set scored by the time until which each
//! entry matters, announced with pub/sub.

use std::sync::LazyLock;
use std::time::SystemTime;

use authgate::store::{RevocationStore, StoreError};
use futures_util::StreamExt;
use redis::aio::PubSubStream;
use redis::{AsyncCommands, Script};

use crate::RedisStore;
use crate::layout::seconds;

/// Keeps an entry and announces it, as one step. KEYS: the set; ARGV: until, the entry, the
/// channel. `GT`: an entry revoked twice is kept until the later of its two ends.
static REVOKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[2])
return 1",
    )
});

/// An open feed of a [`RedisStore`]: a subscription to its channel on a connection of its
/// own. Read it with [`RevocationStore::next`].
pub struct RedisFeed(PubSubStream);

impl std::fmt::Debug for RedisFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RedisFeed").finish_non_exhaustive()
    }
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::unavailable(e)
}

impl RevocationStore for RedisStore {
    type Feed = RedisFeed;

    async fn revoke(&self, entry: &str, until: SystemTime) -> Result<(), StoreError> {
        let mut redis = self.redis.clone();
        let key = self.revocations();
        let _: i64 = REVOKE
            .key(&key)
            .arg(seconds(until))
            .arg(entry)
            .arg(&key)
            .invoke_async(&mut redis)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn entries(&self, now: SystemTime) -> Result<Vec<String>, StoreError> {
        let mut redis = self.redis.clone();
        // `(now`: strictly after now.
        let bytes: Vec<Vec<u8>> = redis
            .zrangebyscore(self.revocations(), format!("({}", seconds(now)), "+inf")
            .await
            .map_err(unavailable)?;
        bytes
            .into_iter()
            .map(|entry| {
                String::from_utf8(entry)
                    .map_err(|_| StoreError::corrupt("a revocation that is not UTF-8"))
            })
            .collect()
    }

    async fn announce(&self, message: &str) -> Result<(), StoreError> {
        let mut redis = self.redis.clone();
        let _: i64 = redis
            .publish(self.revocations(), message)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn subscribe(&self) -> Result<RedisFeed, StoreError> {
        let mut pubsub = self.client.get_async_pubsub().await.map_err(unavailable)?;
        // Returns once Redis confirmed the subscription: what is published from now on is
        // delivered.
        pubsub
            .subscribe(self.revocations())
            .await
            .map_err(unavailable)?;
        Ok(RedisFeed(pubsub.into_on_message()))
    }

    async fn next(&self, feed: &mut RedisFeed) -> Result<String, StoreError> {
        loop {
            // Cancel-safe: the stream is a channel the connection's task fills. It ends when
            // the connection is lost, which must end the feed (authgate then reloads).
            let Some(message) = feed.0.next().await else {
                return Err(StoreError::unavailable(
                    "Redis revocation feed connection lost",
                ));
            };
            // Not ours (someone else publishing bytes on the channel): skip it.
            if let Ok(text) = std::str::from_utf8(message.get_payload_bytes()) {
                return Ok(text.to_owned());
            }
        }
    }

    async fn purge(&self, now: SystemTime) -> Result<u64, StoreError> {
        let mut redis = self.redis.clone();
        redis
            .zrembyscore(self.revocations(), "-inf", seconds(now))
            .await
            .map_err(unavailable)
    }
}
