//! The stores as objects: the traits users implement return `impl Future`, which cannot be
//! called through `dyn`; a Gate holds each store behind these object-safe twins, which box the
//! future of each call (one allocation, on a path that waits for I/O anyway).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use super::{LoginRecord, LoginStore, RevocationStore, StoreError};

/// A boxed, sendable future.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A [`LoginStore`] as an object.
pub(crate) type Logins = Arc<dyn DynLoginStore>;

/// A [`RevocationStore`] as an object.
pub(crate) type RevocationLog = Arc<dyn DynRevocationStore>;

/// [`LoginStore`] with boxed futures.
pub(crate) trait DynLoginStore: Send + Sync + 'static {
    fn create<'a>(&'a self, record: &'a LoginRecord) -> BoxFuture<'a, Result<(), StoreError>>;
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<LoginRecord>, StoreError>>;
    fn touch<'a>(&'a self, key: &'a str, at: SystemTime)
    -> BoxFuture<'a, Result<bool, StoreError>>;
    fn rotate<'a>(
        &'a self,
        key: &'a str,
        presented: &'a str,
        next: &'a str,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn replace_data<'a>(
        &'a self,
        key: &'a str,
        expected: &'a str,
        data: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    fn delete_user<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<u64, StoreError>>;
    fn purge_expired(&self, now: SystemTime) -> BoxFuture<'_, Result<u64, StoreError>>;
}

impl<S: LoginStore> DynLoginStore for S {
    fn create<'a>(&'a self, record: &'a LoginRecord) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(LoginStore::create(self, record))
    }
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<LoginRecord>, StoreError>> {
        Box::pin(LoginStore::load(self, key))
    }
    fn touch<'a>(
        &'a self,
        key: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(LoginStore::touch(self, key, at))
    }
    fn rotate<'a>(
        &'a self,
        key: &'a str,
        presented: &'a str,
        next: &'a str,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(LoginStore::rotate(self, key, presented, next, now))
    }
    fn replace_data<'a>(
        &'a self,
        key: &'a str,
        expected: &'a str,
        data: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(LoginStore::replace_data(self, key, expected, data))
    }
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(LoginStore::delete(self, key))
    }
    fn delete_user<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(LoginStore::delete_user(self, subject))
    }
    fn purge_expired(&self, now: SystemTime) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(LoginStore::purge_expired(self, now))
    }
}

/// [`RevocationStore`] with boxed futures, and its feed as an object.
pub(crate) trait DynRevocationStore: Send + Sync + 'static {
    fn revoke<'a>(
        &'a self,
        entry: &'a str,
        until: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    fn entries(&self, now: SystemTime) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;
    fn announce<'a>(&'a self, message: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Opens a feed that keeps the store alive while it is read.
    fn subscribe(self: Arc<Self>) -> BoxFuture<'static, Result<Box<dyn Feed>, StoreError>>;
    fn purge(&self, now: SystemTime) -> BoxFuture<'_, Result<u64, StoreError>>;
}

/// An open feed of a revocation store.
pub(crate) trait Feed: Send {
    /// The next entry or message; cancel-safe; an error ends the feed.
    fn next(&mut self) -> BoxFuture<'_, Result<String, StoreError>>;
}

/// A store's feed with the store it is read through.
struct StoreFeed<S: RevocationStore> {
    store: Arc<S>,
    feed: S::Feed,
}

impl<S: RevocationStore> Feed for StoreFeed<S> {
    fn next(&mut self) -> BoxFuture<'_, Result<String, StoreError>> {
        let StoreFeed { store, feed } = self;
        Box::pin(store.next(feed))
    }
}

impl<S: RevocationStore> DynRevocationStore for S {
    fn revoke<'a>(
        &'a self,
        entry: &'a str,
        until: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(RevocationStore::revoke(self, entry, until))
    }
    fn entries(&self, now: SystemTime) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(RevocationStore::entries(self, now))
    }
    fn announce<'a>(&'a self, message: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(RevocationStore::announce(self, message))
    }
    fn subscribe(self: Arc<Self>) -> BoxFuture<'static, Result<Box<dyn Feed>, StoreError>> {
        Box::pin(async move {
            let feed = RevocationStore::subscribe(&*self).await?;
            let feed: Box<dyn Feed> = Box::new(StoreFeed { store: self, feed });
            Ok(feed)
        })
    }
    fn purge(&self, now: SystemTime) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(RevocationStore::purge(self, now))
    }
}
