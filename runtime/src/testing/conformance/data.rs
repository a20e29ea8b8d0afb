//! The login suite's checks of session data: `replace_data` as the store contract says, and
//! [`SessionData`] on the store (written only when changed, never to a deleted session,
//! concurrent changes kept, the size limit).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use super::{Logins, NOW};
use crate::clock::time;
use crate::reject::Render;
use crate::sessions::SessionData;
use crate::store::{IdHash, LoginData, LoginRecord, LoginStore, SessionValues, StoreError};

/// The store under test, counting its `replace_data` calls: the writes of session data.
#[derive(Clone)]
struct Counted<S> {
    store: S,
    writes: Arc<AtomicUsize>,
}

impl<S: LoginStore> LoginStore for Counted<S> {
    async fn create(&self, record: &LoginRecord) -> Result<(), StoreError> {
        self.store.create(record).await
    }
    async fn load(&self, key: &str) -> Result<Option<LoginRecord>, StoreError> {
        self.store.load(key).await
    }
    async fn touch(&self, key: &str, at: SystemTime) -> Result<bool, StoreError> {
        self.store.touch(key, at).await
    }
    async fn rotate(
        &self,
        key: &str,
        presented: &str,
        next: &str,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        self.store.rotate(key, presented, next, now).await
    }
    async fn replace_data(
        &self,
        key: &str,
        expected: &str,
        data: &str,
    ) -> Result<bool, StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.store.replace_data(key, expected, data).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.store.delete(key).await
    }
    async fn delete_user(&self, subject: &str) -> Result<u64, StoreError> {
        self.store.delete_user(subject).await
    }
    async fn purge_expired(&self, now: SystemTime) -> Result<u64, StoreError> {
        self.store.purge_expired(now).await
    }
}

/// The size limit of the views the suite makes.
const LIMIT: usize = 256;

impl<S: LoginStore + Clone> Logins<S> {
    /// `replace_data`: only over the data the caller read, changing nothing else, never
    /// creating, and of two concurrent replacements of the same data exactly one wins.
    pub(super) async fn data_replacements(&mut self) -> Result<(), StoreError> {
        let store = self.store.clone();
        let session = self.login("dora", NOW + 3600, false).await?;
        let next = r#"{"who":"dora ✓","values":{"step":2}}"#;
        let replaced = store
            .replace_data(&session.key, &session.data, next)
            .await?;
        self.check(replaced, "replace_data over the data held reports true");
        let want = LoginRecord {
            data: next.to_owned(),
            ..session.clone()
        };
        let loaded = store.load(&session.key).await?;
        self.check(
            loaded.as_ref() == Some(&want),
            "replace_data sets data and nothing else",
        );
        let stale = store
            .replace_data(&session.key, &session.data, "{}")
            .await?;
        self.check(
            !stale,
            "replace_data over data no longer held reports false",
        );
        self.check(
            store.load(&session.key).await? == Some(want),
            "a refused replace_data changes nothing",
        );
        let missing = IdHash::of("no login has this id").as_str().to_owned();
        self.check(
            !store.replace_data(&missing, "", "{}").await?,
            "replace_data of an unknown key reports false",
        );
        self.check(
            store.load(&missing).await?.is_none(),
            "replace_data never creates a login",
        );
        // A request reads the session, a logout deletes it, then the request writes its data.
        store.delete(&session.key).await?;
        let after = store.replace_data(&session.key, next, "{}").await?;
        self.check(!after, "replace_data after a logout reports false");
        self.check(
            store.load(&session.key).await?.is_none(),
            "replace_data after a logout does not bring the session back",
        );

        for round in 0..8 {
            let raced = self.login("raced", NOW + 3600, false).await?;
            let (a, b) = (r#"{"a":1}"#, r#"{"b":2}"#);
            let (first, second) = tokio::join!(
                store.replace_data(&raced.key, &raced.data, a),
                store.replace_data(&raced.key, &raced.data, b),
            );
            let (first, second) = (first?, second?);
            let what =
                format!("exactly one of two concurrent data replacements wins (round {round})");
            self.check(first != second, &what);
            let held = store.load(&raced.key).await?.map(|r| r.data);
            let winner = if first { a } else { b };
            self.check(
                held.as_deref() == Some(winner),
                "the login holds the winner's data",
            );
            store.delete(&raced.key).await?;
        }
        Ok(())
    }

    /// A session as a Gate stores it, and a view of it on the counted store.
    async fn data_session(&mut self) -> Result<(LoginRecord, Counted<S>), StoreError> {
        let data = LoginData {
            roles: vec!["user".into()],
            scopes: Vec::new(),
            claims: r#"{"sub":"data ✓"}"#.into(),
            created_at: NOW,
            session: SessionValues::default(),
        };
        let record = LoginRecord {
            key: self.secret()?,
            subject: format!("data-{}", self.tag),
            current: None,
            last_used: time(NOW),
            expires_at: time(NOW + 3600),
            data: data.encode(),
        };
        self.store.create(&record).await?;
        let counted = Counted {
            store: self.store.clone(),
            writes: Arc::default(),
        };
        Ok((record, counted))
    }

    /// A view of `record`'s session data, as a request that loaded it now would have.
    async fn view(&self, record: &LoginRecord, store: &Counted<S>) -> Option<SessionData> {
        let data = self.store.load(&record.key).await.ok()??.data;
        let key = IdHash::from_stored(&record.key)?;
        SessionData::new(
            Arc::new(store.clone()),
            key,
            data,
            LIMIT,
            Render::default(),
            false,
        )
        .ok()
    }

    /// [`SessionData`] on the store: what a handler reads and writes reaches the store only
    /// when it changed, is kept across requests, stays within the limit, never recreates a
    /// deleted session, and is not lost to a concurrent request.
    pub(super) async fn session_data(&mut self) -> Result<(), StoreError> {
        let (record, store) = self.data_session().await?;
        let unreadable = || StoreError::unavailable("the suite's session did not read back");
        let writes = || store.writes.load(Ordering::SeqCst);
        let mut first = self.view(&record, &store).await.ok_or_else(unreadable)?;
        let fail = |e: crate::sessions::SessionDataError| StoreError::unavailable(e.to_string());
        let none: Option<u32> = first.get("step").map_err(fail)?;
        first.insert("step", &2_u32).await.map_err(fail)?;
        first.insert("step", &2_u32).await.map_err(fail)?;
        let removed = first.remove("absent").await.map_err(fail)?;
        self.check(
            none.is_none() && !removed && writes() == 1,
            "session data is written once per change, and not for reads or no-op changes",
        );
        let second = self.view(&record, &store).await.ok_or_else(unreadable)?;
        self.check(
            second.get::<u32>("step").ok().flatten() == Some(2),
            "session data is kept for the next request",
        );
        self.check(
            second.get::<String>("step").is_err(),
            "a session value of another type is an error",
        );

        let big = "x".repeat(LIMIT);
        let refused = first.insert("big", &big).await;
        self.check(
            refused.is_err_and(|e| e.is_too_large()) && writes() == 1,
            "a change over the size limit is refused and writes nothing",
        );

        // Two requests at once, each from the same data: both changes land, and one flash
        // message is taken once.
        first.flash("notice", "saved").await.map_err(fail)?;
        for round in 0..4 {
            let mut a = self.view(&record, &store).await.ok_or_else(unreadable)?;
            let mut b = self.view(&record, &store).await.ok_or_else(unreadable)?;
            let add = |n: Option<u32>| Some(n.unwrap_or(0) + 1);
            let (x, y) = tokio::join!(a.update("count", add), b.update("count", add));
            x.map_err(fail)?;
            y.map_err(fail)?;
            let (key_a, key_b) = (format!("a{round}"), format!("b{round}"));
            let (x, y) = tokio::join!(a.insert(&key_a, &round), b.insert(&key_b, &round));
            x.map_err(fail)?;
            y.map_err(fail)?;
            let (x, y) = tokio::join!(a.take_flash::<String>("notice"), b.take_flash("notice"));
            let taken = [x.map_err(fail)?, y.map_err(fail)?];
            let want = u32::try_from(2 * round + 2).unwrap_or(u32::MAX);
            let now = self.view(&record, &store).await.ok_or_else(unreadable)?;
            self.check(
                now.get::<u32>("count").ok().flatten() == Some(want),
                "concurrent updates of one session value are not lost",
            );
            let both = now
                .get::<u32>(&format!("a{round}"))
                .ok()
                .flatten()
                .is_some()
                && now
                    .get::<u32>(&format!("b{round}"))
                    .ok()
                    .flatten()
                    .is_some();
            self.check(both, "concurrent changes of different keys both land");
            let shown = taken.iter().flatten().count();
            self.check(
                shown == usize::from(round == 0),
                "a flash message is taken once, by one of two concurrent requests",
            );
        }

        // A logout during the request: its write fails and the session stays deleted.
        let mut late = self.view(&record, &store).await.ok_or_else(unreadable)?;
        self.store.delete(&record.key).await?;
        let ended = late.insert("step", &3_u32).await;
        self.check(
            ended.is_err_and(|e| e.is_ended()),
            "a session data write after a logout fails",
        );
        self.check(
            self.store.load(&record.key).await?.is_none(),
            "a session data write after a logout does not bring the session back",
        );
        Ok(())
    }
}
