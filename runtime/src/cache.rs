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
//! - **cleared when the keys change**: with a [`KeySource`](crate::KeySource), a new
//!   `Arc<KeySet>` starts a new generation: the cache is emptied, and an entry inserted by a
//!   request that still held the old keys never answers for the new ones;
//! - **per issuer**: with keys bound to issuers, an entry keeps its issuer's [`KeyEpoch`]
//!   and answers only while that issuer's keys are the ones it was verified with and are not
//!   too stale to use; other issuers' entries are untouched;
//! - **bounded**: at most `capacity` entries and `max_bytes` of tokens and principals (counted
//!   per entry, with a fixed overhead), spread over up to 16 shards, each a `Mutex` around a
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

use crate::principal::{CredentialKind, Principal};
use crate::revocation::View;
use crate::verify::{KeyEpoch, KeySet};

/// Entries by default.
pub(crate) const DEFAULT_CAPACITY: usize = 10_000;
/// Bytes by default (tokens, claims and bookkeeping): 32 MiB.
pub(crate) const DEFAULT_MAX_BYTES: usize = 32 << 20;
/// What an entry costs beyond its strings: the slot, the principal, the `Arc`s and the map.
const ENTRY_OVERHEAD: usize = 256;
/// How many bytes at the end of a token are hashed: its signature's last 32 characters, 192
/// bits that differ between any two signed tokens. The whole token is compared on a hit.
const HASHED_TAIL: usize = 32;

pub(crate) struct TokenCache {
    shards: Box<[Mutex<Shard>]>,
    hasher: foldhash::quality::RandomState,
    /// The key set the entries were verified with (held, so its address cannot be reused by
    /// another set while we compare against it), and its generation number.
    keys: Mutex<Option<(Arc<KeySet>, u64)>>,
}

impl TokenCache {
    /// A cache of at most `capacity` entries and `max_bytes` bytes; `None` for a zero capacity
    /// (the cache is off).
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Option<TokenCache> {
        if capacity == 0 || max_bytes == 0 {
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
            keys: Mutex::new(None),
        })
    }

    /// The generation of `keys`: the same number while the key source keeps returning the
    /// same `Arc`, a new one (and an emptied cache) when it returns another.
    pub(crate) fn generation(&self, keys: &Arc<KeySet>) -> u64 {
        let mut current = lock(&self.keys);
        let generation = match &*current {
            Some((known, generation)) if Arc::ptr_eq(known, keys) => return *generation,
            Some((_, generation)) => generation.wrapping_add(1),
            None => 1,
        };
        *current = Some((keys.clone(), generation));
        drop(current);
        self.clear();
        generation
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

    fn clear(&self) {
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            let (entries, bytes) = (shard.max_len, shard.max_bytes);
            *shard = Shard::new(entries, bytes);
        }
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
    /// For keys bound to an issuer: that issuer's epoch, which `generation` must still be
    /// (and whose keys must still be usable) for the entry to answer. `None`: `generation` is
    /// compared with the one the lookup passes (the Gate's shared keys).
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
        if self.index.capacity() == 0 {
            // Once, at the first insert: the index then never grows.
            self.index.reserve(self.max_len);
        }
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
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::principal::CredentialKind::{Bearer, Cookie};
    use crate::verify::Key;
    use crate::{Algorithm, BoxFuture, Gate, KeySource, KeySourceError, SigningKey};

    fn principal(subject: &str, kind: CredentialKind) -> Arc<Principal> {
        Arc::new(Principal {
            subject: subject.to_owned(),
            roles: vec!["user".to_owned()],
            scopes: Vec::new(),
            expires_at: 2000,
            issued_at: None,
            token_id: None,
            client_id: None,
            credential: kind,
            claims: format!(r#"{{"sub":"{subject}","exp":2000}}"#),
            session_key: None,
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
        let cache = TokenCache::new(100, DEFAULT_MAX_BYTES).unwrap();
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
        let cache = TokenCache::new(100, DEFAULT_MAX_BYTES).unwrap();
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
    fn capacity_and_bytes_are_bounds() {
        for capacity in [1, 7, 100, 1000, 10_000] {
            let cache = TokenCache::new(capacity, DEFAULT_MAX_BYTES).unwrap();
            for i in 0..3 * capacity + 10 {
                cache.insert(&format!("t.{i}"), entry("7", Bearer, 0, 100));
                assert!(cache.len() <= capacity, "capacity {capacity}");
            }
            assert_eq!(cache.len(), capacity);
        }
        let cache = TokenCache::new(1000, 40_000).unwrap();
        for i in 0..5000 {
            cache.insert(&format!("t.{i}"), entry("7", Bearer, 0, 100));
            assert!(cache.bytes() <= 40_000);
        }
        assert!(cache.len() < 1000);
        // An entry larger than a shard's budget is not cached at all.
        let big = "x".repeat(50_000);
        cache.insert(&big, entry("7", Bearer, 0, 100));
        assert!(cache.get(&big, Bearer, 0, 1).is_none());
        assert!(TokenCache::new(0, DEFAULT_MAX_BYTES).is_none());
    }

    #[test]
    fn tokens_in_use_survive_a_stream_of_new_ones() {
        let cache = TokenCache::new(1000, DEFAULT_MAX_BYTES).unwrap();
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
        let capacity = DEFAULT_CAPACITY;
        let cache = TokenCache::new(capacity, DEFAULT_MAX_BYTES).unwrap();
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
        assert_eq!(cache.len(), capacity);
        assert!(cache.bytes() <= DEFAULT_MAX_BYTES);
        // The principal is shared by the cached entries only: nothing else leaked a reference.
        assert_eq!(Arc::strong_count(&shared), capacity + 1);
    }

    // -----------------------------------------------------------------------------------------
    // Through the Gate: its clock, its key source, its policy checks.

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-cache";

    fn token(exp: u64, extra: &[(&str, serde_json::Value)]) -> String {
        let mut claims = serde_json::Map::new();
        claims.insert("sub".into(), "alice".into());
        claims.insert("exp".into(), exp.into());
        for (name, value) in extra {
            claims.insert((*name).into(), value.clone());
        }
        let key = SigningKey::hmac(Algorithm::HS256, SECRET).unwrap();
        crate::verify::sign_access_jwt(&key, &claims).unwrap()
    }

    #[tokio::test]
    async fn the_gate_clock_decides_expiry_of_cached_tokens() {
        let now = Arc::new(AtomicU64::new(1_000_000));
        let clock = now.clone();
        let gate = Gate::builder()
            .hs256(SECRET)
            .leeway(std::time::Duration::from_secs(30))
            .clock(move || clock.load(Ordering::SeqCst))
            .build()
            .unwrap();
        let t = token(1_000_100, &[]);
        let first = gate.verify_jwt(&t, Bearer).await.unwrap();
        assert_eq!(gate.cached_tokens(), 1);
        now.store(1_000_129, Ordering::SeqCst);
        let hit = gate.verify_jwt(&t, Bearer).await.unwrap();
        assert!(Arc::ptr_eq(&first, &hit), "served from the cache");
        // exp + leeway: expired exactly as an uncached verification says.
        now.store(1_000_130, Ordering::SeqCst);
        assert!(gate.verify_jwt(&t, Bearer).await.is_err());
        assert_eq!(gate.cached_tokens(), 0);
        // Back in time: re-verified, not served from an entry made later.
        now.store(1_000_050, Ordering::SeqCst);
        let again = gate.verify_jwt(&t, Bearer).await.unwrap();
        now.store(1_000_040, Ordering::SeqCst);
        let earlier = gate.verify_jwt(&t, Bearer).await.unwrap();
        assert!(!Arc::ptr_eq(&again, &earlier));
    }

    #[tokio::test]
    async fn a_zero_capacity_turns_the_cache_off() {
        let gate = Gate::builder()
            .hs256(SECRET)
            .token_cache(0)
            .build()
            .unwrap();
        let t = token(gate.now() + 60, &[]);
        let a = gate.verify_jwt(&t, Bearer).await.unwrap();
        let b = gate.verify_jwt(&t, Bearer).await.unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(gate.cached_tokens(), 0);
    }

    /// A key source whose key set the test replaces.
    struct Rotating(Mutex<Arc<crate::KeySet>>);

    impl KeySource for Arc<Rotating> {
        fn keys(&self) -> BoxFuture<'_, Result<Arc<crate::KeySet>, KeySourceError>> {
            let keys = lock(&self.0).clone();
            Box::pin(async move { Ok(keys) })
        }
    }

    fn key_set(secret: &[u8]) -> Arc<crate::KeySet> {
        Arc::new(crate::KeySet::new(vec![Key::hmac(Algorithm::HS256, secret).unwrap()]).unwrap())
    }

    #[tokio::test]
    async fn a_new_key_set_clears_the_cache() {
        let source = Arc::new(Rotating(Mutex::new(key_set(SECRET))));
        let gate = Gate::builder().key_source(source.clone()).build().unwrap();
        let t = token(gate.now() + 60, &[]);
        let first = gate.verify_jwt(&t, Bearer).await.unwrap();
        let hit = gate.verify_jwt(&t, Bearer).await.unwrap();
        assert!(Arc::ptr_eq(&first, &hit));
        // The same keys in a new set: a new generation, so verified again.
        *lock(&source.0) = key_set(SECRET);
        let again = gate.verify_jwt(&t, Bearer).await.unwrap();
        assert!(!Arc::ptr_eq(&first, &again));
        assert_eq!(gate.cached_tokens(), 1);
        // The signing key removed: the cached token is refused at once.
        *lock(&source.0) = key_set(b"another secret of at least 32 bytes!!");
        assert!(gate.verify_jwt(&t, Bearer).await.is_err());
        assert_eq!(gate.cached_tokens(), 0);
    }

    /// An entry of issuer-bound keys answers while its issuer's epoch is the one it was
    /// verified under and usable; a new key set or stale keys end it, and another issuer's
    /// entries stay.
    #[test]
    fn issuer_entries_follow_their_own_epoch() {
        let cache = TokenCache::new(100, DEFAULT_MAX_BYTES).unwrap();
        let (a, b) = (Arc::new(KeyEpoch::fixed()), Arc::new(KeyEpoch::fixed()));
        for (token, epoch) in [("a", &a), ("b", &b)] {
            let mut e = entry("7", Bearer, 0, 100);
            e.generation = epoch.generation();
            e.epoch = Some(epoch.clone());
            cache.insert(token, e);
        }
        // The lookup's own generation does not matter for them.
        assert!(cache.get("a", Bearer, 12345, 1).is_some());
        a.set(crate::verify::next_generation(), u64::MAX);
        assert!(cache.get("a", Bearer, 0, 1).is_none());
        assert!(cache.get("b", Bearer, 0, 1).is_some());
        b.set(b.generation(), 1); // the same keys, now too stale to use
        assert!(cache.get("b", Bearer, 0, 1).is_none());
    }

    #[test]
    fn an_entry_of_an_old_generation_never_answers() {
        let cache = TokenCache::new(100, DEFAULT_MAX_BYTES).unwrap();
        let old = key_set(SECRET);
        let new = key_set(SECRET);
        let g1 = cache.generation(&old);
        assert_eq!(cache.generation(&old), g1);
        let g2 = cache.generation(&new);
        assert_ne!(g1, g2);
        // A request that verified with the old keys inserts after the switch.
        let mut late = entry("7", Bearer, 0, 100);
        late.generation = g1;
        cache.insert("t", late);
        assert!(cache.get("t", Bearer, g2, 1).is_none());
    }

    #[tokio::test]
    async fn roles_are_checked_on_every_request_even_when_cached() {
        use crate::policy::{PolicySpec, Requirement};
        static ADMIN: PolicySpec =
            PolicySpec::authenticated().with_roles(&[Requirement::Any(&["admin"])]);
        let gate = Gate::builder().hs256(SECRET).build().unwrap();
        let user = token(gate.now() + 60, &[("roles", serde_json::json!(["user"]))]);
        for _ in 0..3 {
            let (mut parts, ()) = http::Request::builder()
                .uri("/admin")
                .header("authorization", format!("Bearer {user}"))
                .body(())
                .unwrap()
                .into_parts();
            let response = gate
                .authorize(&mut parts, &ADMIN, "admin")
                .await
                .unwrap_err();
            assert_eq!(response.status(), http::StatusCode::FORBIDDEN);
        }
        assert_eq!(
            gate.cached_tokens(),
            1,
            "the token itself was valid and cached"
        );
    }
}
