//! Keys bound to issuers: the table a token's `iss` selects its key set from, so that a key
//! of one issuer never verifies a token that claims another.
//!
//! Why a table of issuers rather than one key set with a list of accepted issuers: with a
//! shared set, any configured key verifies a token claiming any configured issuer, so a
//! tenant (or the old provider during a migration) can mint tokens for every other. Here the
//! token's `iss` is read from the payload first (strictly, see
//! [`claimed_issuer`](crate::verify::claimed_issuer)); only that issuer's keys are tried, and
//! an `iss` not in the table is refused (401) before any signature work. The shared form
//! (`GateBuilder::key` with `issuer`) stays for one issuer and for keys the app signs with
//! itself; the two forms cannot be mixed in one Gate, so each token has exactly one way to
//! be verified.
//!
//! Each issuer's keys are static ([`GateBuilder::issuer_keys`](crate::GateBuilder)) or, with
//! the feature `oidc`, fetched from the issuer's JWKS and kept current by a background task
//! (`remote`). Either way the request path reads them without a lock and without the
//! network, and every key set carries a [`KeyEpoch`] that the token cache checks its entries
//! of that issuer against.
//!
//! The `iss` selects the claim rules too: each issuer's audience and the places of roles,
//! scopes and the client id ([`Issuer`], with the [`Provider`] presets) are resolved against
//! the Gate's defaults once, when the Gate is built.

#[cfg(feature = "oidc")]
mod fetch;
mod provider;
#[cfg(feature = "oidc")]
mod remote;
mod settings;

use std::sync::Arc;

use crate::verify::{KeyEpoch, KeySet, Rules};

pub use provider::Provider;
pub use settings::Issuer;

#[cfg(feature = "oidc")]
pub(crate) use fetch::{checked_url, discovery_url};
#[cfg(feature = "oidc")]
pub use remote::KeyRefresh;
#[cfg(feature = "oidc")]
pub(crate) use remote::{Remote, Source};

/// Every issuer a Gate accepts, each with its own keys and rules.
pub(crate) struct Issuers {
    list: Vec<Entry>,
}

/// One issuer of the table: its name, the rules of its tokens, and where its keys come from.
pub(crate) struct Entry {
    name: String,
    rules: Rules,
    keys: IssuerKeys,
}

pub(crate) enum IssuerKeys {
    /// Keys given at start; their epoch never changes.
    Static(KeySet, Arc<KeyEpoch>),
    /// Keys fetched from the issuer and refreshed in the background.
    #[cfg(feature = "oidc")]
    Remote(Arc<Remote>),
}

/// The keys of one issuer, as a request reads them.
pub(crate) enum KeysNow<'a> {
    Static(&'a KeySet),
    #[cfg(feature = "oidc")]
    Fetched(Arc<KeySet>),
}

impl KeysNow<'_> {
    pub(crate) fn get(&self) -> &KeySet {
        match self {
            KeysNow::Static(keys) => keys,
            #[cfg(feature = "oidc")]
            KeysNow::Fetched(keys) => keys,
        }
    }
}

impl Issuers {
    pub(crate) fn new(list: Vec<Entry>) -> Issuers {
        Issuers { list }
    }

    /// The issuer whose name is exactly `iss`.
    #[inline]
    pub(crate) fn find(&self, iss: &str) -> Option<&Entry> {
        self.list.iter().find(|issuer| issuer.name == iss)
    }

    /// How many static keys, and how many issuers with fetched keys, for `Debug`.
    pub(crate) fn summary(&self) -> String {
        let mut keys = 0;
        #[cfg_attr(not(feature = "oidc"), allow(unused_mut))]
        let mut remote = 0;
        for issuer in &self.list {
            match &issuer.keys {
                IssuerKeys::Static(set, _) => keys += set.len(),
                #[cfg(feature = "oidc")]
                IssuerKeys::Remote(_) => remote += 1,
            }
        }
        format!(
            "{} issuers: {keys} static keys, {remote} fetched sets",
            self.list.len()
        )
    }

    /// Whether any issuer's keys are fetched (and so can be unavailable).
    pub(crate) fn any_remote(&self) -> bool {
        #[cfg(feature = "oidc")]
        {
            self.list
                .iter()
                .any(|issuer| matches!(issuer.keys, IssuerKeys::Remote(_)))
        }
        #[cfg(not(feature = "oidc"))]
        false
    }

    /// Starts the refresh tasks that are not running yet (inside a runtime only).
    pub(crate) fn start(&self) {
        #[cfg(feature = "oidc")]
        for issuer in &self.list {
            if let IssuerKeys::Remote(remote) = &issuer.keys {
                remote.start();
            }
        }
    }

    /// Waits until every issuer's keys are known, up to `deadline`; whether they are.
    pub(crate) async fn ready(&self, deadline: tokio::time::Instant) -> bool {
        #[cfg(feature = "oidc")]
        for issuer in &self.list {
            if let IssuerKeys::Remote(remote) = &issuer.keys
                && !remote.ready(deadline).await
            {
                return false;
            }
        }
        #[cfg(not(feature = "oidc"))]
        let _ = deadline;
        true
    }

    /// Every issuer, in the order configured.
    #[cfg(any(feature = "testing", feature = "utoipa"))]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.list.iter()
    }
}

impl Entry {
    pub(crate) fn new(name: String, rules: Rules, keys: IssuerKeys) -> Entry {
        Entry { name, rules, keys }
    }

    /// The issuer's name, exactly as its tokens' `iss`.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The rules this issuer's tokens are checked with.
    #[inline]
    pub(crate) fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The OpenID Connect Discovery URL, for an issuer configured with `oidc_issuer`.
    #[cfg(feature = "utoipa")]
    pub(crate) fn discovery_url(&self) -> Option<&str> {
        match &self.keys {
            #[cfg(feature = "oidc")]
            IssuerKeys::Remote(remote) => remote.discovery_url(),
            _ => None,
        }
    }

    /// The keys to verify with now and their epoch, or why there are none (answered 503):
    /// not fetched yet, or too stale to trust.
    #[inline]
    pub(crate) fn current(&self) -> Result<(KeysNow<'_>, Arc<KeyEpoch>, u64), String> {
        match &self.keys {
            IssuerKeys::Static(keys, epoch) => {
                Ok((KeysNow::Static(keys), epoch.clone(), epoch.generation()))
            }
            #[cfg(feature = "oidc")]
            IssuerKeys::Remote(remote) => remote
                .current()
                .map(|(keys, generation)| (KeysNow::Fetched(keys), remote.epoch(), generation)),
        }
    }

    /// A token named a `kid` this issuer's keys do not have: for fetched keys, waits for one
    /// refresh (single-flight, rate-limited; see `remote`), and returns whether one happened
    /// so that the token is worth trying again. Static keys: `false` at once.
    pub(crate) async fn refresh_for_unknown_kid(&self) -> bool {
        match &self.keys {
            IssuerKeys::Static(..) => false,
            #[cfg(feature = "oidc")]
            IssuerKeys::Remote(remote) => remote.refresh_for_unknown_kid().await,
        }
    }

    /// Whether an unknown `kid` may be worth a refresh (fetched keys only).
    #[inline]
    pub(crate) fn refreshes(&self) -> bool {
        match &self.keys {
            IssuerKeys::Static(..) => false,
            #[cfg(feature = "oidc")]
            IssuerKeys::Remote(_) => true,
        }
    }
}
