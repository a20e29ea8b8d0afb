//! Issuing: the access tokens a Gate signs as its own issuer, the refresh families started
//! with them, and the exchange of a refresh token with its reuse detection (see
//! `crate::tokens` for the families themselves).

use super::Gate;
use crate::identity::Identity;
use crate::reject::{Rejection, RejectionKind};
use crate::store::StoreError;
use crate::tokens::{self, Exchange, REFRESH_STORE, RefreshTokens, Tokens};
use crate::verify::LOGIN_CLAIM;

impl Gate {
    /// Issues an access token for `user` that this Gate accepts: signed as the issuer with a
    /// signing key, with that issuer's `iss` and first audience, `sub`, the roles and scopes
    /// where that issuer's tokens carry them, the user's extra claims, `iat`, `exp`
    /// ([`token_lifetime`](crate::GateBuilder::token_lifetime), default 15 minutes), a random
    /// `jti` and the header `typ: at+jwt`. With
    /// [`RefreshTokens`] configured it also starts a refresh family and returns its first
    /// refresh token.
    ///
    /// A Gate with no signing key cannot issue: a [`Rejection`] of kind
    /// [`Misconfigured`](RejectionKind::Misconfigured) (500). A store that fails: 503.
    ///
    /// A token issued right after [`revoke_user`](Self::revoke_user) of its subject (a login
    /// after a password change) is accepted: its `iat` is the revocation's cutoff when that
    /// is later than now (at most a second ahead, within the leeway), so it is not taken for
    /// a token issued before the revocation.
    ///
    /// ```
    /// use authgate::{Gate, Identity};
    /// use authgate::issuers::Issuer;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let gate = Gate::builder()
    ///     .issuer(
    ///         Issuer::new("https://notes.example.com")
    ///             .secret("an HMAC secret of at least 32 bytes!!")
    ///             .audience("notes-api"),
    ///     )
    ///     .build()?;
    /// let tokens = gate.issue(&Identity::new("42").roles(["admin"])).await?;
    /// // Send `tokens.access_token()` as `Authorization: Bearer <token>`; the Gate checks it
    /// // like any other.
    /// # Ok(()) }
    /// ```
    pub async fn issue(&self, user: &Identity) -> Result<Tokens, Rejection> {
        let now = self.now_secs();
        let iat = self.login_iat(&user.subject, now);
        let Some(settings) = &self.inner.refresh else {
            return self.issue_own(user, None, iat, now);
        };
        // Started by the first family too, so an instance that only logs users in still
        // purges what expires.
        tokens::start_purge(settings, &self.inner.clock);
        let store_failed = |e: StoreError| self.fail(Rejection::store(REFRESH_STORE, e));
        let (family, refresh_token) =
            tokens::new_family(settings, user, now).map_err(store_failed)?;
        let issued = self.issue_own(user, Some(family.key.as_str()), iat, now)?;
        settings.store.create(&family).await.map_err(store_failed)?;
        Ok(issued.with_refresh_token(refresh_token))
    }

    /// Exchanges a refresh token for a new access token and a new refresh token (rotation);
    /// the presented one is used up.
    ///
    /// Refused with 401 `invalid_token` when the token is malformed, unknown, past its
    /// family's absolute lifetime or idle timeout, or **was used before**: then its whole
    /// family is ended and every access token of the subject issued up to now is revoked on
    /// every instance (a stolen token was replayed, by the thief or by its owner after the
    /// thief), and a warning is logged with the subject (never a token). A store error is 503.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, Rejection> {
        let settings = self.refresh_settings()?;
        tokens::start_purge(settings, &self.inner.clock);
        let now = self.now_secs();
        let store_failed = |e: StoreError| self.fail(Rejection::store(REFRESH_STORE, e));
        let exchanged = tokens::exchange(settings, refresh_token, now)
            .await
            .map_err(store_failed)?;
        match exchanged {
            Exchange::Rotated { user, login, next } => {
                // Stamped now, never with a revocation's cutoff: a refresh continues a family
                // that a revocation in this same second may be ending, and such a token is
                // then refused with everything else the subject held in that second. `now`
                // was read before the rotation, so a logout that ends the family after it
                // has revoked the login past this token's `exp` (`Gate::end_login`).
                let issued = self.issue_own(&user, Some(login.as_str()), now, now)?;
                Ok(issued.with_refresh_token(next))
            }
            Exchange::Refused(reason) => {
                tracing::info!(target: "authgate", outcome = "invalid_token", reason,
                    "refresh token refused");
                Err(self.fail(Rejection::of(RejectionKind::InvalidToken)))
            }
            Exchange::Reused { subject, family } => {
                tracing::warn!(target: "authgate", %subject, outcome = "invalid_token",
                    reason = "refresh_token_reused",
                    "a used refresh token was presented again: its family is ended and the \
                     subject's access tokens revoked");
                self.revoke(self.subject_cutoff(&subject)).await?;
                settings
                    .store
                    .delete(family.as_str())
                    .await
                    .map_err(store_failed)?;
                Err(self.fail(Rejection::of(RejectionKind::InvalidToken)))
            }
        }
    }

    /// Issues with the Gate's own key and rules, `iat` as given, living the Gate's token
    /// lifetime from `now`, naming `login` (a refresh family's key) as its `sid`. The claim
    /// is the Gate's: a user's claim of that name is never issued, so a `sid` always names a
    /// family and no app value shared by several users can be revoked as a login.
    fn issue_own(
        &self,
        user: &Identity,
        login: Option<&str>,
        iat: u64,
        now: u64,
    ) -> Result<Tokens, Rejection> {
        let Some(signer) = &self.inner.signer else {
            return Err(self.fail(Rejection::misconfigured(
                "this Gate cannot issue tokens: none of its issuers has a signing key (give \
                 one Issuer::secret or Issuer::signing_key)",
            )));
        };
        let times = (iat, now.saturating_add(signer.lifetime), now);
        let name_login = |claims: &mut serde_json::Map<String, serde_json::Value>| match login {
            Some(login) => {
                claims.insert(LOGIN_CLAIM.into(), login.into());
            }
            None => {
                claims.remove(LOGIN_CLAIM);
            }
        };
        tokens::sign(&signer.key, &signer.rules, user, times, name_login).map_err(|e| {
            self.fail(Rejection::misconfigured(format!(
                "signing an access token failed: {e}"
            )))
        })
    }

    /// The `iat` of a token issued at `now` by a login: `revoke_user` refuses what was issued
    /// up to the end of its second (the cutoff is the next second, as seconds are all `iat`
    /// says), so a token issued after it within that second is stamped with the cutoff, which
    /// it then passes.
    pub(crate) fn login_iat(&self, subject: &str, now: u64) -> u64 {
        let cutoff = self
            .inner
            .revocations
            .as_ref()
            .and_then(|r| r.view.not_before(subject));
        cutoff.map_or(now, |cutoff| cutoff.max(now))
    }

    fn refresh_settings(&self) -> Result<&RefreshTokens, Rejection> {
        self.inner.refresh.as_ref().ok_or_else(|| {
            self.fail(Rejection::misconfigured(
                "no refresh tokens configured: call GateBuilder::refresh_tokens",
            ))
        })
    }
}
