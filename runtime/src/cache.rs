//! The verified-token cache: a token seen before skips the signature check and the claims
//! parse, and costs a hash, a lock and a comparison instead.
//!
//! What it caches is exactly what [`verify_token`](crate::verify::verify_token) would say for
//! the same token, credential kind and keys at the same time, and nothing else:
//!
//! - **keyed by the exact token**: the hash (foldhash with a per-cache random seed, over the
//!   credential kind, the length and the last 32 bytes, which are signature) only picks
//!   the slot; a hit needs the whole stored token to equal the presented one, byte for byte;
//! - **never past `exp`**: an entry records the first second at which the token counts as
//!   expired under the Gate's leeway, and the second it was verified at; a lookup at a time
//!   outside `[verified_at, expired_at)` (as the Gate's clock tells it) is a miss, so a clock
//!   that goes back re-verifies rather than trusting `nbf`/`iat` checks made later;
//! - **per issuer**: an entry of a bearer token keeps its issuer's [`KeyEpoch`] and answers
//!   only while that issuer's keys are the ones it was verified with and are not too stale to
//!   use (fetched keys that changed end their entries); other issuers' entries are untouched;
//! - **bounded**: at most `max_bytes` of tokens and principals (counted per entry, with a
//!   fixed overhead, so also at most `max_bytes / 640` entries), spread over up to 16 shards,
//!   each a `Mutex` around a
//!   map and a CLOCK ring (second chance: an entry used since the hand last passed survives
//!   one more round; expired entries go first). A stream of new tokens therefore cycles
//!   through the ring without evicting the tokens in use.
//!
//! - **re-checked when revocations change**: with revocations configured, an entry records
//!   the generation of the revocation view it was last checked against; a hit under a newer
//!   generation checks the view again, and a revoked entry is removed (a miss: the token is
//!   then verified and refused as without a cache).
//!
//! Only the credential check is cached: the guard still checks roles, scopes, CSRF and
//! ownership on every request, and server-side sessions are always read from their store.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::keys::KeyEpoch;
use crate::principal::{CredentialKind, Principal};
use crate::revocation::View;

/// Bytes by default (tokens, claims and bookkeeping): 32 MiB.
pub(crate) const DEFAULT_MAX_BYTES: usize = 32 << 20;
/// What an entry costs beyond its strings: the slot (in a ring that grows by doubling), the
/// principal and its `Arc`, the map's share, and the allocator's own bookkeeping of each
/// allocation, so that the process's memory, not only the counted bytes, stays within the
/// bound (BENCHMARKS.md, "Memory").
const ENTRY_OVERHEAD: usize = 640;
/// How many bytes at the end of a token are hashed: its signature's last 32 characters, 192
/// bits that differ between any two signed tokens. The whole token is compared on a hit.
const HASHED_TAIL: usize = 32;

pub(crate) struct TokenCache {
    shards: Box<[Mutex<Shard>]>,
    hasher: foldhash::quality::RandomState,
}

impl TokenCache {
    /// A cache of at most `max_bytes` bytes; `None` for a size too small for one entry (the
    /// cache is off).
    pub(crate) fn new(max_bytes: usize) -> Option<TokenCache> {
        // Every entry costs at least its overhead: the byte bound is also an entry bound.
        let capacity = max_bytes / ENTRY_OVERHEAD;
        if capacity == 0 {
            return None;
        }
        let mut shards = 16;
        while shards > 1 && capacity / shards < 32 {
            shards /= 2;
        }
        let shards = (0..shards)
            .map(|i| {
                // Exact totals: the remainders go to the first shards.
                let entries = capacity / shards + usize::from(i < capacity % shards);
                let bytes = max_bytes / shards + usize::from(i < max_bytes % shards);
                Mutex::new(Shard::new(entries, bytes))
            })
            .collect();
        Some(TokenCache {
            shards,
            hasher: foldhash::quality::RandomState::default(),
        })
    }

    /// The principal cached for `token`, if it is still valid at `now`.
    #[cfg(test)]
    pub(crate) fn get(
        &self,
        token: &str,
        kind: CredentialKind,
        generation: u64,
        now: u64,
    ) -> Option<Arc<Principal>> {
        let token = token.as_bytes();
        self.get_hashed(self.hash(token, kind), token, kind, generation, now, None)
    }

    /// Remembers a verified token until `expired_at`.
    #[cfg(test)]
    pub(crate) fn insert(&self, token: &str, entry: Entry) {
        let hash = self.hash(token.as_bytes(), entry.principal.credential);
        self.insert_hashed(hash, token, entry);
    }

    /// How many entries the cache holds.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len).sum()
    }

    /// The bytes the entries are counted at.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.shards.iter().map(|s| lock(s).bytes).sum()
    }

    /// The hash `get_hashed` and `insert_hashed` take: computed once per request.
    pub(crate) fn hash(&self, bytes: &[u8], kind: CredentialKind) -> u64 {
        let tail = &bytes[bytes.len().saturating_sub(HASHED_TAIL)..];
        let mut hasher = self.hasher.build_hasher();
        hasher.write_u8(kind_byte(kind));
        hasher.write_usize(bytes.len());
        hasher.write(tail);
        hasher.finish()
    }

    fn shard(&self, hash: u64) -> MutexGuard<'_, Shard> {
        // High bits: the shard's map indexes its buckets with the low ones.
        let index = (hash >> 40) as usize % self.shards.len();
        lock(&self.shards[index])
    }

    /// The principal cached for `token` (whose [`hash`](Self::hash) is `hash`), if it is
    /// still valid at `now` and not revoked in `revocations`.
    pub(crate) fn get_hashed(
        &self,
        hash: u64,
        token: &[u8],
        kind: CredentialKind,
        generation: u64,
        now: u64,
        revocations: Option<&View>,
    ) -> Option<Arc<Principal>> {
        let mut shard = self.shard(hash);
        let index = *shard.index.get(&hash)?;
        let slot = shard.slots[index].as_mut()?;
        if slot.token.as_bytes() != token || slot.kind != kind {
            return None;
        }
        let current = match &slot.epoch {
            Some(epoch) => epoch.allows(slot.generation),
            None => slot.generation == generation,
        };
        if !current || now < slot.verified_at || now >= slot.expired_at {
            shard.remove(index);
            return None;
        }
        if let Some(view) = revocations {
            let current = view.generation();
            if slot.checked != current {
                if view.is_revoked(&slot.principal) {
                    shard.remove(index);
                    return None;
                }
                slot.checked = current;
            }
        }
        slot.referenced = true;
        Some(slot.principal.clone())
    }

    /// Remembers a verified token (whose [`hash`](Self::hash) is `hash`) until `expired_at`.
    pub(crate) fn insert_hashed(&self, hash: u64, token: &str, entry: Entry) {
        let p = &entry.principal;
        let cost = ENTRY_OVERHEAD
            + token.len()
            + p.subject.len()
            + p.claims.len()
            + p.client_id.as_ref().map_or(0, String::len)
            + p.token_id.as_ref().map_or(0, String::len)
            + p.login_id.as_ref().map_or(0, String::len)
            + p.roles
                .iter()
                .chain(&p.scopes)
                .map(|s| s.len() + 24)
                .sum::<usize>();
        let mut shard = self.shard(hash);
        if cost > shard.max_bytes || entry.expired_at <= entry.verified_at {
            return;
        }
        if let Some(&index) = shard.index.get(&hash) {
            // Another token with this hash (or this token, raced in by two requests): the
            // newest wins the slot.
            shard.remove(index);
        }
        while shard.len > 0 && (shard.len >= shard.max_len || shard.bytes + cost > shard.max_bytes)
        {
            shard.evict_one(entry.verified_at);
        }
        let slot = Slot {
            hash,
            token: token.into(),
            kind: entry.principal.credential,
            generation: entry.generation,
            epoch: entry.epoch,
            checked: entry.checked,
            verified_at: entry.verified_at,
            expired_at: entry.expired_at,
            principal: entry.principal,
            cost,
            referenced: false,
        };
        shard.place(slot);
    }
}

/// What [`TokenCache::insert`] stores with a token.
pub(crate) struct Entry {
    pub(crate) principal: Arc<Principal>,
    pub(crate) generation: u64,
    /// For a bearer token: its issuer's epoch, which `generation` must still be (and whose
    /// keys must still be usable) for the entry to answer. `None`: `generation` is compared
    /// with the one the lookup passes (0 for stateless session cookies, whose key never
    /// changes).
    pub(crate) epoch: Option<Arc<KeyEpoch>>,
    /// The revocation view's generation the principal was checked against (0: none).
    pub(crate) checked: u64,
    pub(crate) verified_at: u64,
    pub(crate) expired_at: u64,
}

fn kind_byte(kind: CredentialKind) -> u8 {
    match kind {
        CredentialKind::Bearer => 0,
        CredentialKind::Cookie => 1,
    }
}

/// A poisoned lock only means a panic elsewhere while holding it; every operation leaves the
/// shard consistent at each step that can panic (allocation), so keep using it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The keys of the index are already foldhash outputs: hash them as themselves.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

struct Slot {
    hash: u64,
    token: Box<str>,
    kind: CredentialKind,
    generation: u64,
    epoch: Option<Arc<KeyEpoch>>,
    checked: u64,
    verified_at: u64,
    expired_at: u64,
    principal: Arc<Principal>,
    cost: usize,
    /// Used since the clock hand last passed.
    referenced: bool,
}

struct Shard {
    index: HashMap<u64, usize, BuildHasherDefault<Prehashed>>,
    /// The CLOCK ring; `None` is a free place, listed in `free`.
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    hand: usize,
    len: usize,
    bytes: usize,
    max_len: usize,
    max_bytes: usize,
}

impl Shard {
    fn new(max_len: usize, max_bytes: usize) -> Shard {
        Shard {
            index: HashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            hand: 0,
            len: 0,
            bytes: 0,
            max_len,
            max_bytes,
        }
    }

    fn place(&mut self, slot: Slot) {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.index.insert(slot.hash, index);
        self.len += 1;
        self.bytes += slot.cost;
        self.slots[index] = Some(slot);
    }

    fn remove(&mut self, index: usize) {
        if let Some(slot) = self.slots[index].take() {
            self.index.remove(&slot.hash);
            self.free.push(index);
            self.len -= 1;
            self.bytes -= slot.cost;
        }
    }

    /// Advances the hand to the first entry that is expired or was not used since the hand
    /// last passed, clearing use marks on the way, and removes it. Ends within two turns.
    fn evict_one(&mut self, now: u64) {
        let slots = self.slots.len();
        for _ in 0..2 * slots + 1 {
            self.hand = (self.hand + 1) % slots;
            let Some(slot) = &mut self.slots[self.hand] else {
                continue;
            };
            if slot.referenced && now < slot.expired_at {
                slot.referenced = false;
                continue;
            }
            self.remove(self.hand);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::CredentialKind::{Bearer, Cookie};

    fn principal(subject: &str, kind: CredentialKind) -> Arc<Principal> {
        Arc::new(Principal {
            subject: subject.to_owned(),
            roles: vec!["user".to_owned()],
            scopes: Vec::new(),
            expires_at: 2000,
            issued_at: None,
            token_id: None,
            login_id: None,
            client_id: None,
            credential: kind,
            claims: format!(r#"{{"sub":"{subject}","exp":2000}}"#),
            session_key: None,
            session_data: None,
        })
    }

    fn entry(subject: &str, kind: CredentialKind, verified_at: u64, expired_at: u64) -> Entry {
        Entry {
            principal: principal(subject, kind),
            generation: 0,
            epoch: None,
            checked: 0,
            verified_at,
            expired_at,
        }
    }

    #[test]
    fn an_entry_lives_from_verification_until_expiry() {
        let cache = TokenCache::new(100 * ENTRY_OVERHEAD).unwrap();
        cache.insert("a.b.c", entry("7", Bearer, 1000, 1500));
        assert!(cache.get("a.b.c", Bearer, 0, 1000).is_some());
        assert!(cache.get("a.b.c", Bearer, 0, 1499).is_some());
        assert!(cache.get("a.b.c", Bearer, 0, 1500).is_none());
        // Expired entries are dropped on sight.
        assert_eq!(cache.len(), 0);
        // A clock that went back before the verification re-verifies.
        cache.insert("a.b.c", entry("7", Bearer, 1000, 1500));
        assert!(cache.get("a.b.c", Bearer, 0, 999).is_none());
    }

    #[test]
    fn different_tokens_never_collide() {
        let cache = TokenCache::new(100 * ENTRY_OVERHEAD).unwrap();
        // Force the same hash for three different lookups: only the exact token matches.
        cache.insert_hashed(42, "token-a", entry("a", Bearer, 0, 100));
        assert_eq!(
            cache
                .get_hashed(42, b"token-a", Bearer, 0, 1, None)
                .unwrap()
                .subject,
            "a"
        );
        assert!(
            cache
                .get_hashed(42, b"token-b", Bearer, 0, 1, None)
                .is_none()
        );
        assert!(
            cache
                .get_hashed(42, b"token-", Bearer, 0, 1, None)
                .is_none()
        );
        assert!(
            cache
                .get_hashed(42, b"token-a", Cookie, 0, 1, None)
                .is_none()
        );
        // A colliding insert replaces the slot; the first token is then a miss, never a
        // wrong principal.
        cache.insert_hashed(42, "token-b", entry("b", Bearer, 0, 100));
        assert!(
            cache
                .get_hashed(42, b"token-a", Bearer, 0, 1, None)
                .is_none()
        );
        assert_eq!(
            cache
                .get_hashed(42, b"token-b", Bearer, 0, 1, None)
                .unwrap()
                .subject,
            "b"
        );
        assert_eq!(cache.len(), 1);
        // Real hashes: a bearer token and the same string as a cookie are two entries.
        cache.insert("x.y.z", entry("bearer", Bearer, 0, 100));
        cache.insert("x.y.z", entry("cookie", Cookie, 0, 100));
        assert_eq!(cache.get("x.y.z", Bearer, 0, 1).unwrap().subject, "bearer");
        assert_eq!(cache.get("x.y.z", Cookie, 0, 1).unwrap().subject, "cookie");
    }

    #[test]
    fn bytes_are_a_bound() {
        for max_bytes in [1000, 40_000, 1 << 20] {
            let cache = TokenCache::new(max_bytes).unwrap();
            for i in 0..5000 {
                cache.insert(&format!("t.{i}"), entry("7", Bearer, 0, 100));
                assert!(cache.bytes() <= max_bytes, "{max_bytes}");
            }
            assert!(cache.len() > 0 && cache.len() <= max_bytes / ENTRY_OVERHEAD);
        }
        // An entry larger than a shard's budget is not cached at all.
        let cache = TokenCache::new(40_000).unwrap();
        let big = "x".repeat(50_000);
        cache.insert(&big, entry("7", Bearer, 0, 100));
        assert!(cache.get(&big, Bearer, 0, 1).is_none());
        assert!(TokenCache::new(0).is_none());
        assert!(TokenCache::new(ENTRY_OVERHEAD - 1).is_none());
    }

    #[test]
    fn tokens_in_use_survive_a_stream_of_new_ones() {
        let cache = TokenCache::new(DEFAULT_MAX_BYTES).unwrap();
        cache.insert("hot", entry("hot", Bearer, 0, 100));
        for i in 0..100_000 {
            assert!(
                cache.get("hot", Bearer, 0, 1).is_some(),
                "evicted after {i}"
            );
            cache.insert(&format!("cold.{i}"), entry("7", Bearer, 0, 100));
        }
    }

    #[test]
    fn a_million_distinct_tokens_stay_within_the_bound() {
        let cache = TokenCache::new(DEFAULT_MAX_BYTES).unwrap();
        let shared = principal("7", Bearer);
        for i in 0..1_000_000u32 {
            let token = format!("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.{i:08x}");
            let entry = Entry {
                principal: shared.clone(),
                generation: 0,
                epoch: None,
                checked: 0,
                verified_at: 0,
                expired_at: 100,
            };
            cache.insert(&token, entry);
        }
        let held = cache.len();
        assert!(held > 10_000, "{held}");
        assert!(cache.bytes() <= DEFAULT_MAX_BYTES);
        // The principal is shared by the cached entries only: nothing else leaked a reference.
        assert_eq!(Arc::strong_count(&shared), held + 1);
    }

    /// An entry of issuer-bound keys answers while its issuer's epoch is the one it was
    /// verified under and usable; a new key set or stale keys end it, and another issuer's
    /// entries stay.
    #[test]
    fn issuer_entries_follow_their_own_epoch() {
        let cache = TokenCache::new(100 * ENTRY_OVERHEAD).unwrap();
        let (a, b) = (Arc::new(KeyEpoch::fixed()), Arc::new(KeyEpoch::fixed()));
        for (token, epoch) in [("a", &a), ("b", &b)] {
            let mut e = entry("7", Bearer, 0, 100);
            e.generation = epoch.generation();
            e.epoch = Some(epoch.clone());
            cache.insert(token, e);
        }
        // The lookup's own generation does not matter for them.
        assert!(cache.get("a", Bearer, 12345, 1).is_some());
        a.set(crate::keys::next_generation(), u64::MAX);
        assert!(cache.get("a", Bearer, 0, 1).is_none());
        assert!(cache.get("b", Bearer, 0, 1).is_some());
        b.set(b.generation(), 1); // the same keys, now too stale to use
        assert!(cache.get("b", Bearer, 0, 1).is_none());
    }
}
