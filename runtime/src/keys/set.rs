//! Sets of keys: the checked [`KeySet`] of one issuer, and the [`KeyEpoch`] that says which
//! version of it is in use, for the token cache.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use super::key::Key;
use crate::algorithm::{Algorithm, Family};
use crate::clock::monotonic_ms;
use crate::error::ConfigProblem;

/// The keys one issuer is trusted with, checked for consistency when built.
///
/// Refused: an empty set; HMAC secrets next to public keys (the classic algorithm-confusion
/// setup); public keys of several families without a `kid` on each; two keys with one `kid`.
#[derive(Clone, Debug)]
pub(crate) struct KeySet {
    keys: Vec<Key>,
    by_kid: HashMap<String, usize>,
}

impl KeySet {
    /// Checks and indexes the keys of `issuer`.
    pub(crate) fn new(issuer: &str, keys: Vec<Key>) -> Result<KeySet, ConfigProblem> {
        if keys.is_empty() {
            return Err(ConfigProblem::NoKeys {
                issuer: issuer.to_owned(),
            });
        }
        let mixed = || ConfigProblem::MixedFamilies {
            issuer: issuer.to_owned(),
        };
        let hmac = keys
            .iter()
            .filter(|k| k.algorithm().family() == Family::Hmac)
            .count();
        if hmac != 0 && hmac != keys.len() {
            return Err(mixed());
        }
        let first = keys[0].algorithm().family();
        if keys.iter().any(|k| k.algorithm().family() != first)
            && keys.iter().any(|k| k.kid().is_none())
        {
            return Err(mixed());
        }
        let mut by_kid = HashMap::new();
        for (i, key) in keys.iter().enumerate() {
            if let Some(kid) = key.kid()
                && by_kid.insert(kid.to_owned(), i).is_some()
            {
                return Err(ConfigProblem::DuplicateKid {
                    issuer: issuer.to_owned(),
                    kid: kid.to_owned(),
                });
            }
        }
        Ok(KeySet { keys, by_kid })
    }

    /// How many keys the set holds.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key with this `kid`.
    #[cfg(all(test, feature = "oidc"))]
    pub(crate) fn by_kid(&self, kid: &str) -> Option<&Key> {
        self.by_kid.get(kid).map(|&i| &self.keys[i])
    }

    /// The keys a token with this header may be verified with; `None` for a `kid` the set
    /// does not have.
    #[inline]
    pub(crate) fn candidates<'a>(
        &'a self,
        alg: Algorithm,
        kid: Option<&str>,
    ) -> Option<impl Iterator<Item = &'a Key>> {
        let by_kid = match kid {
            Some(kid) => Some(*self.by_kid.get(kid)?),
            None => None,
        };
        let keys: &[Key] = match by_kid {
            Some(i) => std::slice::from_ref(&self.keys[i]),
            None => &self.keys,
        };
        Some(keys.iter().filter(move |k| k.algorithm() == alg))
    }
}

/// Which version of one issuer's key set is in use, and until when it may be used: what the
/// token cache checks an entry of that issuer against on every hit, so that new keys, or keys
/// that became too stale to trust, end the entries verified with the old ones.
#[derive(Debug)]
pub(crate) struct KeyEpoch {
    generation: AtomicU64,
    /// On the monotonic clock of [`monotonic_ms`]; `u64::MAX` for keys that never go stale.
    usable_until_ms: AtomicU64,
}

impl KeyEpoch {
    /// An epoch of keys that never change (static keys).
    pub(crate) fn fixed() -> KeyEpoch {
        KeyEpoch {
            generation: AtomicU64::new(next_generation()),
            usable_until_ms: AtomicU64::new(u64::MAX),
        }
    }

    /// The generation of the keys in use now.
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether an entry verified under `generation` may still answer.
    #[inline]
    pub(crate) fn allows(&self, generation: u64) -> bool {
        self.generation() == generation
            && monotonic_ms() < self.usable_until_ms.load(Ordering::Acquire)
    }

    /// Whether the keys in use now may be used.
    #[inline]
    #[cfg_attr(not(feature = "oidc"), allow(dead_code))]
    pub(crate) fn usable(&self) -> bool {
        monotonic_ms() < self.usable_until_ms.load(Ordering::Acquire)
    }

    /// New keys, or the same ones confirmed: `generation` (from [`next_generation`], or the
    /// current one) is in use until `usable_until_ms`.
    #[cfg_attr(not(any(feature = "oidc", test)), allow(dead_code))]
    pub(crate) fn set(&self, generation: u64, usable_until_ms: u64) {
        self.generation.store(generation, Ordering::Release);
        self.usable_until_ms
            .store(usable_until_ms, Ordering::Release);
    }
}

/// A generation number no key set had before (process-wide, never 0).
pub(crate) fn next_generation() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
