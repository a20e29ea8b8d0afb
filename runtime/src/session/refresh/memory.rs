//! [`MemoryStore`] as a [`RefreshStore`]: families in a map under one lock, so a rotation is
//! one step.

use std::collections::HashMap;
use std::sync::MutexGuard;

use super::{RefreshFamily, RefreshStore};
use crate::session::{MemoryStore, SessionKey, StoreError};
use crate::verify::BoxFuture;

impl MemoryStore {
    /// Every refresh family the store holds, for inspection in tests.
    pub fn families(&self) -> Vec<RefreshFamily> {
        self.lock_families().values().cloned().collect()
    }

    fn lock_families(&self) -> MutexGuard<'_, HashMap<SessionKey, RefreshFamily>> {
        // Every change is one map call or one assignment: a poisoned lock is still consistent.
        self.families
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl RefreshStore for MemoryStore {
    fn create_family(&self, family: &RefreshFamily) -> BoxFuture<'_, Result<(), StoreError>> {
        self.lock_families().insert(family.key, family.clone());
        Box::pin(async { Ok(()) })
    }

    fn load_family(
        &self,
        key: &SessionKey,
    ) -> BoxFuture<'_, Result<Option<RefreshFamily>, StoreError>> {
        let found = self.lock_families().get(key).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn rotate_family(
        &self,
        key: &SessionKey,
        presented: &SessionKey,
        next: &SessionKey,
        now: u64,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let rotated = match self.lock_families().get_mut(key) {
            Some(family) if family.current == *presented => {
                family.current = *next;
                family.last_used = now;
                true
            }
            _ => false,
        };
        Box::pin(async move { Ok(rotated) })
    }

    fn delete_family(&self, key: &SessionKey) -> BoxFuture<'_, Result<(), StoreError>> {
        self.lock_families().remove(key);
        Box::pin(async { Ok(()) })
    }

    fn delete_user_families(&self, subject: &str) -> BoxFuture<'_, Result<u64, StoreError>> {
        let mut families = self.lock_families();
        let before = families.len();
        families.retain(|_, f| f.subject != subject);
        let removed = (before - families.len()) as u64;
        Box::pin(async move { Ok(removed) })
    }

    fn purge_expired_families(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        let mut families = self.lock_families();
        let before = families.len();
        families.retain(|_, f| f.expires_at > now);
        let removed = (before - families.len()) as u64;
        Box::pin(async move { Ok(removed) })
    }
}
