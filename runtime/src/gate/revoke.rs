//! Revocation: what a handler asks to end everywhere, now: every credential of a user, or one
//! token by its id. The view that refuses them lives in `crate::revocation`.

use std::time::SystemTime;

use super::Gate;
use crate::clock::{seconds, time};
use crate::reject::Rejection;
use crate::revocation::Revocation;
use crate::sessions::{SESSION_STORE, SessionKind};
use crate::tokens::REFRESH_STORE;

/// What a revocation store is called in refusals and logs.
const REVOCATION_STORE: &str = "revocation store";

impl Gate {
    /// Ends everything a user holds, for example after a password change or when the account
    /// is deleted: every server-side session and refresh token family, and with
    /// [`Revocations`](crate::revocation::Revocations) every bearer token and stateless cookie
    /// issued to `subject` up to now (the current second included), on every instance.
    /// Returns how many server-side sessions were ended.
    ///
    /// Refused (retry it) when a store fails; the parts that succeeded stay done. Refused with
    /// 500 on a Gate that has nothing to revoke with (neither revocations nor server-side
    /// sessions).
    ///
    /// ```
    /// use authgate::{Gate, Identity};
    /// use authgate::issuers::Issuer;
    /// use authgate::revocation::Revocations;
    /// use authgate::sessions::Sessions;
    /// use authgate::store::MemoryStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = MemoryStore::new();
    /// let gate = Gate::builder()
    ///     .issuer(Issuer::new("https://notes.example.com").secret("an HMAC secret of at least 32 bytes!!"))
    ///     .sessions(Sessions::server_side("__Host-session", store.clone()))
    ///     .revocations(Revocations::new(store))
    ///     .build()?;
    /// gate.login_unchecked(Identity::new("42")).await?;
    /// assert_eq!(gate.revoke_user("42").await?, 1);
    /// # Ok(()) }
    /// ```
    pub async fn revoke_user(&self, subject: &str) -> Result<u64, Rejection> {
        let inner = &*self.inner;
        let server_side = inner.sessions.as_ref().and_then(|s| match &s.kind {
            SessionKind::Server(store) => Some(store),
            SessionKind::Stateless(_) => None,
        });
        if inner.revocations.is_none() && server_side.is_none() {
            return Err(self.fail(Rejection::misconfigured(
                "revoking a user needs revocations (GateBuilder::revocations) or server-side \
                 sessions",
            )));
        }
        // Families first: a refresh that rotates before the revocation is written still gets
        // a token stamped in this second, which the cutoff then refuses.
        if let Some(refresh) = &inner.refresh {
            refresh
                .store
                .delete_user(subject)
                .await
                .map_err(|e| self.fail(Rejection::store(REFRESH_STORE, e)))?;
        }
        if inner.revocations.is_some() {
            self.revoke(self.subject_cutoff(subject)).await?;
        }
        match server_side {
            Some(store) => store
                .delete_user(subject)
                .await
                .map_err(|e| self.fail(Rejection::store(SESSION_STORE, e))),
            None => Ok(0),
        }
    }

    /// Revokes the token whose `jti` is `jti` on every instance, until `expires_at` (its
    /// `exp`; it is refused after that anyway). Needs
    /// [`Revocations`](crate::revocation::Revocations).
    ///
    /// ```
    /// use std::time::Duration;
    /// use authgate::Gate;
    /// use authgate::issuers::Issuer;
    /// use authgate::revocation::Revocations;
    /// use authgate::store::MemoryStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let gate = Gate::builder()
    ///     .issuer(Issuer::new("https://notes.example.com").secret("an HMAC secret of at least 32 bytes!!"))
    ///     .revocations(Revocations::new(MemoryStore::new()))
    ///     .build()?;
    /// gate.revoke_token_id("a3f1c2", gate.now() + Duration::from_secs(900)).await?;
    /// assert_eq!(gate.revocations_in_view(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn revoke_token_id(
        &self,
        jti: &str,
        expires_at: SystemTime,
    ) -> Result<(), Rejection> {
        self.revoke_id(jti, seconds(expires_at)).await
    }

    /// [`revoke_token_id`](Self::revoke_token_id) with the expiry in seconds.
    pub(crate) async fn revoke_id(&self, jti: &str, expires_at: u64) -> Result<(), Rejection> {
        let until = expires_at
            .saturating_add(self.inner.limits.leeway)
            .saturating_add(1);
        self.revoke(Revocation::Token {
            jti: jti.to_owned(),
            until,
        })
        .await
    }

    /// Ends the login `login` (a token's `sid`) of `subject`: its refresh family, when the
    /// refresh store holds one under that key for that subject (a `sid` of another issuer's
    /// token never deletes a session or someone else's family), then every token of the login
    /// on every instance.
    ///
    /// The family goes first, as in `revoke_user`. A refresh that rotated before the deletion
    /// still signs a token of this login, stamped with the time it read before rotating, so
    /// at most this second: the revocation, by the login and not by `iat`, refuses it
    /// wherever it is presented, and lasts until every token that can carry this login has
    /// expired. A refresh that loaded the family before the deletion and rotates after it
    /// finds it gone and is refused (`tokens::exchange`).
    pub(crate) async fn end_login(&self, subject: &str, login: &str) -> Result<(), Rejection> {
        if let Some(refresh) = &self.inner.refresh {
            let store_failed = |e| self.fail(Rejection::store(REFRESH_STORE, e));
            let record = refresh.store.load(login).await.map_err(store_failed)?;
            if record.is_some_and(|r| r.current.is_some() && r.subject == subject) {
                refresh.store.delete(login).await.map_err(store_failed)?;
            }
        }
        let limits = &self.inner.limits;
        let until = self
            .now_secs()
            .saturating_add(1)
            .saturating_add(limits.max_lifetime)
            .saturating_add(limits.leeway);
        self.revoke(Revocation::Login {
            login: login.to_owned(),
            until,
        })
        .await
    }

    /// The revocation of everything `subject` was issued up to the end of this second.
    pub(crate) fn subject_cutoff(&self, subject: &str) -> Revocation {
        let limits = &self.inner.limits;
        // Credentials issued after an earlier cutoff in this second were stamped with it
        // (`login_iat`): this one moves past it, so they end too.
        let earlier = self
            .inner
            .revocations
            .as_ref()
            .and_then(|r| r.view.not_before(subject));
        let not_before = self
            .now_secs()
            .saturating_add(1)
            .max(earlier.map_or(0, |cutoff| cutoff.saturating_add(1)));
        // Every credential whose lifetime the Gate accepts, issued before `not_before`, has
        // expired by `until`.
        let until = not_before
            .saturating_add(limits.max_lifetime)
            .saturating_add(limits.leeway);
        Revocation::Subject {
            subject: subject.to_owned(),
            not_before,
            until,
        }
    }

    /// Writes a revocation to the store (which announces it to every instance), then applies
    /// it here at once.
    pub(crate) async fn revoke(&self, revocation: Revocation) -> Result<(), Rejection> {
        let Some(revocations) = &self.inner.revocations else {
            return Err(self.fail(Rejection::misconfigured(
                "revoking a bearer token or stateless cookie needs GateBuilder::revocations",
            )));
        };
        revocations
            .store
            .revoke(&revocation.to_string(), time(revocation.until()))
            .await
            .map_err(|e| self.fail(Rejection::store(REVOCATION_STORE, e)))?;
        revocations.view.apply(&revocation, self.now_secs());
        Ok(())
    }
}
