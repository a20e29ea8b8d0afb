//! The Gate's side of refresh tokens: issuing a token pair at login, and the exchange with
//! its reuse detection (see `refresh` for the families themselves).

use super::Gate;
use crate::session::refresh::{self, Exchange, RefreshTokens};
use crate::session::{SessionError, SessionErrorKind, SessionUser};
use crate::tokens::Tokens;

impl Gate {
    /// Issues an access token ([`issue`](Self::issue)) and a refresh token for `user`,
    /// starting a refresh family: for API clients that log in once and refresh for as long
    /// as the family lives ([`RefreshTokens`]). Needs
    /// [`GateBuilder::refresh_tokens`](crate::GateBuilder::refresh_tokens).
    ///
    /// ```
    /// use authgate::{Gate, MemoryRevocations, MemoryStore, RefreshTokens, Revocations, SessionUser};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let gate = Gate::builder()
    ///     .hs256("an HMAC secret of at least 32 bytes!!")
    ///     .revocations(Revocations::new(MemoryRevocations::new()))
    ///     .refresh_tokens(RefreshTokens::new(MemoryStore::new()))
    ///     .build()?;
    /// let tokens = gate.issue_tokens(&SessionUser::new("42")).await?;
    /// let next = gate.refresh(tokens.refresh_token.as_str()).await?; // a new pair
    /// assert!(gate.refresh(tokens.refresh_token.as_str()).await.is_err()); // used: refused
    /// # Ok(()) }
    /// ```
    pub async fn issue_tokens(&self, user: &SessionUser) -> Result<Tokens, SessionError> {
        let settings = self.refresh_settings()?;
        // Started by the first family too, so an instance that only logs users in still
        // purges what expires.
        refresh::start_purge(settings, self.inner.clock.clone());
        let token = self.issue(user)?;
        let now = self.now();
        let (family, refresh_token) = refresh::new_family(settings, user, now)
            .map_err(|e| self.session_error(SessionErrorKind::Store(e)))?;
        settings
            .store
            .create_family(&family)
            .await
            .map_err(|e| self.session_error(SessionErrorKind::Store(e)))?;
        Ok(Tokens {
            expires_in: token.expires_at().saturating_sub(now),
            token,
            refresh_token,
        })
    }

    /// Exchanges a refresh token for a new access token and a new refresh token (rotation);
    /// the presented one is used up.
    ///
    /// Refused with [`SessionErrorKind::InvalidRefreshToken`] (401 `invalid_token`) when the
    /// token is malformed, unknown, past its family's absolute lifetime or idle timeout, or
    /// **was used before**: then its whole family is ended and every access token of the
    /// subject issued up to now is revoked on every instance (a stolen token was replayed, by
    /// the thief or by its owner after the thief), and a warning is logged with the subject
    /// (never a token). A store error is 503.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, SessionError> {
        let settings = self.refresh_settings()?;
        if self.inner.signer.is_none() {
            return Err(self.session_error(SessionErrorKind::NoSigningKey));
        }
        refresh::start_purge(settings, self.inner.clock.clone());
        let now = self.now();
        let exchanged = refresh::exchange(settings, refresh_token, now)
            .await
            .map_err(|e| self.session_error(SessionErrorKind::Store(e)))?;
        match exchanged {
            Exchange::Rotated { user, next } => {
                let token = self.issue_refreshed(&user)?;
                Ok(Tokens {
                    expires_in: token.expires_at().saturating_sub(now),
                    token,
                    refresh_token: next,
                })
            }
            Exchange::Refused(reason) => {
                tracing::info!(target: "authgate", outcome = "invalid_token", reason,
                    "refresh token refused");
                Err(self.session_error(SessionErrorKind::InvalidRefreshToken))
            }
            Exchange::Reused { subject, family } => {
                tracing::warn!(target: "authgate", %subject, outcome = "invalid_token",
                    reason = "refresh_token_reused",
                    "a used refresh token was presented again: its family is ended and the \
                     subject's access tokens revoked");
                self.revoke(self.subject_cutoff(&subject)).await?;
                settings
                    .store
                    .delete_family(&family)
                    .await
                    .map_err(|e| self.session_error(SessionErrorKind::Store(e)))?;
                Err(self.session_error(SessionErrorKind::InvalidRefreshToken))
            }
        }
    }

    fn refresh_settings(&self) -> Result<&RefreshTokens, SessionError> {
        self.inner
            .refresh
            .as_ref()
            .ok_or_else(|| self.session_error(SessionErrorKind::NoRefreshTokens))
    }
}
