//! The local view of the revocations in force: what every request reads, and until when it
//! counts as current.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::Revocation;
use crate::clock::monotonic_ms;
use crate::principal::Principal;

/// The revocations one Gate knows, with a generation that changes whenever they do (so the
/// token cache re-checks an entry only after a change) and the deadline until which they are
/// known to be complete.
pub(crate) struct View {
    /// Bumped after every change of `state`.
    generation: AtomicU64,
    /// On the [`monotonic_ms`] clock: the view is current before this instant. 0: never.
    current_until: AtomicU64,
    state: RwLock<State>,
}

/// The maps' hash: foldhash with a random seed per map (as the token cache), which costs a
/// fraction of SipHash on every verified token's lookups and still gives an attacker who
/// chooses revoked ids (by logging tokens out) no way to aim at one bucket.
type Hasher = foldhash::quality::RandomState;

#[derive(Default)]
struct State {
    /// Revoked token ids, with the second until which each must be remembered.
    tokens: HashMap<String, u64, Hasher>,
    /// Per subject: tokens issued before `not_before` are revoked; remembered until `until`.
    subjects: HashMap<String, Cutoff, Hasher>,
    /// Ended logins (`sid`), with the second until which each must be remembered.
    logins: HashMap<String, u64, Hasher>,
}

#[derive(Clone, Copy)]
struct Cutoff {
    not_before: u64,
    until: u64,
}

impl State {
    fn add(&mut self, revocation: &Revocation, now: u64) {
        if revocation.until() <= now {
            return;
        }
        match revocation {
            Revocation::Token { jti, until } => {
                let kept = self.tokens.entry(jti.clone()).or_insert(*until);
                *kept = (*kept).max(*until);
            }
            Revocation::Login { login, until } => {
                let kept = self.logins.entry(login.clone()).or_insert(*until);
                *kept = (*kept).max(*until);
            }
            Revocation::Subject {
                subject,
                not_before,
                until,
            } => {
                let new = Cutoff {
                    not_before: *not_before,
                    until: *until,
                };
                let kept = self.subjects.entry(subject.clone()).or_insert(new);
                // A later cutoff revokes everything an earlier one did.
                kept.not_before = kept.not_before.max(new.not_before);
                kept.until = kept.until.max(new.until);
            }
        }
    }
}

impl View {
    pub(crate) fn new() -> View {
        View {
            generation: AtomicU64::new(1),
            current_until: AtomicU64::new(0),
            state: RwLock::new(State::default()),
        }
    }

    /// Changes whenever the revocations do. Read it before [`is_revoked`](Self::is_revoked):
    /// a change after the read then shows as a new generation at the next request.
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether every revocation announced more than the staleness bound ago is known.
    #[inline]
    pub(crate) fn is_current(&self) -> bool {
        monotonic_ms() < self.current_until.load(Ordering::Acquire)
    }

    /// The view is complete until `deadline` (on the [`monotonic_ms`] clock); never moves
    /// the deadline back.
    pub(crate) fn confirm(&self, deadline: u64) {
        self.current_until.fetch_max(deadline, Ordering::AcqRel);
    }

    /// Whether `principal`'s token is revoked: by its id, by its login, or by a cutoff of its
    /// subject that its `iat` does not pass (a token without `iat` never passes one).
    pub(crate) fn is_revoked(&self, principal: &Principal) -> bool {
        let state = self.read();
        if let Some(jti) = &principal.token_id
            && state.tokens.contains_key(jti.as_str())
        {
            return true;
        }
        if let Some(login) = &principal.login_id
            && state.logins.contains_key(login.as_str())
        {
            return true;
        }
        state
            .subjects
            .get(principal.subject.as_str())
            .is_some_and(|cutoff| {
                principal
                    .issued_at
                    .is_none_or(|iat| iat < cutoff.not_before)
            })
    }

    /// The first second whose tokens of `subject` stay valid, when a cutoff of the subject is
    /// in force.
    pub(crate) fn not_before(&self, subject: &str) -> Option<u64> {
        self.read().subjects.get(subject).map(|c| c.not_before)
    }

    /// Adds one revocation (from the feed, or made by this Gate).
    pub(crate) fn apply(&self, revocation: &Revocation, now: u64) {
        self.write().add(revocation, now);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Replaces everything with a full load from the store.
    pub(crate) fn replace(&self, revocations: &[Revocation], now: u64) {
        let mut state = State::default();
        for revocation in revocations {
            state.add(revocation, now);
        }
        *self.write() = state;
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Forgets what expired at or before `now`. Nothing it removes could still refuse a token,
    /// so the generation stays.
    pub(crate) fn forget_expired(&self, now: u64) {
        let mut state = self.write();
        state.tokens.retain(|_, until| *until > now);
        state.subjects.retain(|_, cutoff| cutoff.until > now);
        state.logins.retain(|_, until| *until > now);
    }

    /// How many token ids, subjects and logins the view holds.
    pub(crate) fn len(&self) -> usize {
        let state = self.read();
        state.tokens.len() + state.subjects.len() + state.logins.len()
    }

    // A panic while holding the lock cannot leave a half-written state behind (every change is
    // one map call or one assignment), so a poisoned lock is still consistent.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::principal::CredentialKind;

    fn principal(subject: &str, jti: Option<&str>, iat: Option<u64>) -> Arc<Principal> {
        of_login(subject, jti, iat, None)
    }

    fn of_login(
        subject: &str,
        jti: Option<&str>,
        iat: Option<u64>,
        login: Option<&str>,
    ) -> Arc<Principal> {
        Arc::new(Principal {
            subject: subject.to_owned(),
            roles: vec![],
            scopes: vec![],
            expires_at: 5000,
            issued_at: iat,
            token_id: jti.map(str::to_owned),
            login_id: login.map(str::to_owned),
            client_id: None,
            credential: CredentialKind::Bearer,
            claims: "{}".to_owned(),
            session_key: None,
            session_data: None,
        })
    }

    #[test]
    fn token_ids_and_subject_cutoffs_revoke_exactly_what_they_name() {
        let view = View::new();
        let g0 = view.generation();
        view.apply(
            &Revocation::Token {
                jti: "t-1".into(),
                until: 2000,
            },
            1000,
        );
        view.apply(
            &Revocation::Subject {
                subject: "alice".into(),
                not_before: 1500,
                until: 3000,
            },
            1000,
        );
        assert!(view.generation() > g0);
        assert!(view.is_revoked(&principal("bob", Some("t-1"), Some(1200))));
        assert!(!view.is_revoked(&principal("bob", Some("t-2"), Some(1200))));
        assert!(view.is_revoked(&principal("alice", Some("t-3"), Some(1499))));
        assert!(!view.is_revoked(&principal("alice", Some("t-3"), Some(1500))));
        assert!(view.is_revoked(&principal("alice", None, None)));
        assert!(!view.is_revoked(&principal("alicia", None, Some(1))));
        // An earlier cutoff never narrows a later one.
        view.apply(
            &Revocation::Subject {
                subject: "alice".into(),
                not_before: 1100,
                until: 2500,
            },
            1000,
        );
        assert!(view.is_revoked(&principal("alice", None, Some(1499))));
        view.forget_expired(2000);
        assert!(!view.is_revoked(&principal("bob", Some("t-1"), Some(1200))));
        assert!(view.is_revoked(&principal("alice", None, Some(1499))));
        assert_eq!(view.len(), 1);
        // Already expired: never added.
        view.apply(
            &Revocation::Token {
                jti: "old".into(),
                until: 10,
            },
            1000,
        );
        assert_eq!(view.len(), 1);
        view.replace(&[], 1000);
        assert_eq!(view.len(), 0);
    }

    #[test]
    fn an_ended_login_revokes_every_token_of_that_login_and_no_other() {
        let view = View::new();
        view.apply(
            &Revocation::Login {
                login: "login-1".into(),
                until: 2000,
            },
            1000,
        );
        // Whatever its id and whenever it was issued (a refresh's token after the logout too).
        for (jti, iat) in [
            (Some("t-1"), Some(900)),
            (Some("t-2"), Some(1999)),
            (None, None),
        ] {
            assert!(view.is_revoked(&of_login("alice", jti, iat, Some("login-1"))));
        }
        assert!(!view.is_revoked(&of_login("alice", Some("t-3"), Some(900), Some("login-2"))));
        assert!(!view.is_revoked(&of_login("alice", Some("t-3"), Some(900), None)));
        // A token id equal to the login's is not its login.
        assert!(!view.is_revoked(&principal("alice", Some("login-1"), Some(900))));
        assert_eq!(view.len(), 1);
        view.forget_expired(1999);
        assert!(view.is_revoked(&of_login("bob", None, None, Some("login-1"))));
        view.forget_expired(2000);
        assert_eq!(view.len(), 0);
    }

    #[test]
    fn a_view_is_current_only_until_its_deadline() {
        let view = View::new();
        assert!(!view.is_current());
        view.confirm(monotonic_ms() + 60_000);
        assert!(view.is_current());
        // An older confirmation never moves the deadline back.
        view.confirm(1);
        assert!(view.is_current());
        let stale = View::new();
        stale.confirm(monotonic_ms().saturating_sub(1));
        assert!(!stale.is_current());
    }
}
