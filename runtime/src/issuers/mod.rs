//! Issuers: who a Gate accepts bearer tokens from, each with its own keys and the rules of
//! its tokens. A token's `iss` selects the issuer, so that a key of one issuer never verifies
//! a token that claims another.
//!
//! Every Gate that accepts bearer tokens verifies them through its list of [`Issuer`]s, and
//! the tokens it issues itself are one more issuer: the one with a signing key. Why a list of
//! issuers rather than one key set with a list of accepted names: with a shared set, any
//! configured key verifies a token claiming any configured issuer, so a tenant (or the old
//! provider during a migration) could mint tokens for every other. Here only the claimed
//! issuer's keys are tried, and an `iss` that names none is refused (401) before any
//! signature work.
//!
//! Each issuer's keys are given ([`Issuer::key`], [`Issuer::secret`],
//! [`Issuer::signing_key`]) or, with the feature `oidc`, fetched from the issuer
//! ([`Issuer::discover`], [`Issuer::jwks`]) and kept current by a background task as
//! [`KeyRefresh`] says. Either way the request path reads them without a lock and without the
//! network; fetched keys that cannot be had answer 503, never 401.
//!
//! The `iss` selects the claim rules too: each issuer's audience and the places of roles,
//! scopes and the client id ([`Issuer`], with the [`Provider`] presets) are resolved once,
//! when the Gate is built.
//!
//! ```
//! use authgate::Gate;
//! use authgate::issuers::{Issuer, Provider};
//! use authgate::keys::{Algorithm, Key};
//!
//! # let pem = include_bytes!("../../../tests/keys/rsa_public.pem");
//! let gate = Gate::builder()
//!     // An identity provider, its public key given (with `oidc`: `Issuer::discover(name)`).
//!     .issuer(
//!         Issuer::new("https://sso.example.com/realms/acme")
//!             .key(Key::from_pem(Algorithm::RS256, pem)?.with_kid("2026-11"))
//!             .provider(Provider::Keycloak)
//!             .audience("invoices-api"),
//!     )
//!     // The app's own tokens: an HS256 secret that signs what the Gate issues and verifies it.
//!     .issuer(Issuer::new("https://invoices.example.com").secret("an HMAC secret of at least 32 bytes!!"))
//!     .build()?;
//! # Ok::<(), authgate::ConfigError>(())
//! ```
//!
//! The [identity providers guide](crate::guide::identity_providers) has the settings of the
//! common providers, RFC 9068 access tokens, and what happens while a provider is down.

#[cfg(feature = "oidc")]
mod fetch;
mod provider;
#[cfg(feature = "oidc")]
mod remote;
mod settings;

use std::sync::Arc;

#[cfg(feature = "oidc")]
use crate::algorithm::Family;
use crate::error::ConfigProblem;
use crate::keys::{KeyEpoch, KeySet};
use crate::tokens::Signer;
use crate::verify::Rules;

pub use provider::Provider;
pub use settings::Issuer;

#[cfg(feature = "oidc")]
pub use remote::KeyRefresh;
#[cfg(feature = "oidc")]
use remote::{Remote, Source};
use settings::Fetch;

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

/// The Gate-wide settings an issuer table is built with.
pub(crate) struct Limits<'a> {
    /// The leeway, lifetime and size every issuer's rules take.
    pub(crate) rules: &'a Rules,
    /// How long the tokens the Gate issues live.
    pub(crate) token_lifetime: u64,
    #[cfg(feature = "oidc")]
    pub(crate) refresh: &'a KeyRefresh,
}

impl Issuers {
    /// The table of `issuers`, and what signs the Gate's own tokens (the issuer with a signing
    /// key), or every problem of their settings.
    pub(crate) fn build(
        issuers: Vec<Issuer>,
        limits: &Limits<'_>,
        problems: &mut Vec<ConfigProblem>,
    ) -> (Issuers, Option<Signer>) {
        let mut list: Vec<Entry> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut signers: Vec<(String, Signer)> = Vec::new();
        #[cfg(feature = "oidc")]
        let mut fetched = false;
        for mut issuer in issuers {
            // A bad key was already reported: "no keys" on top of it would only mislead.
            let reported = issuer.reported || !issuer.problems.is_empty();
            problems.append(&mut issuer.problems);
            let name = issuer.name.clone();
            if names.contains(&name) {
                problems.push(ConfigProblem::DuplicateIssuer { issuer: name });
                continue;
            }
            names.push(name.clone());
            let rules = issuer.rules(limits.rules);
            let mut keys = std::mem::take(&mut issuer.keys);
            if let Some(signing) = issuer.signing.take() {
                // A key of the signing key's kid must be its public half; without one, the
                // public half is derived and verifies.
                let paired = keys.iter().find(|key| {
                    signing.kid.is_some()
                        && key.kid() == signing.kid.as_deref()
                        && key.algorithm() == signing.algorithm
                });
                match paired {
                    Some(key) if !signing.pairs_with(key) => {
                        problems.push(ConfigProblem::SigningKeyMismatch {
                            issuer: name.clone(),
                        });
                    }
                    Some(_) => {}
                    None => match signing.verification_key() {
                        Ok(public) => keys.push(public),
                        Err(e) => problems.extend(e.into_problems()),
                    },
                }
                let signer = Signer {
                    key: signing,
                    rules: rules.clone(),
                    lifetime: limits.token_lifetime,
                };
                signers.push((name.clone(), signer));
            }
            let keys = match issuer.fetch {
                Fetch::None if keys.is_empty() && reported => continue,
                Fetch::None => KeySet::new(&name, keys)
                    .map(|set| IssuerKeys::Static(set, Arc::new(KeyEpoch::fixed()))),
                #[cfg(feature = "oidc")]
                ref source => {
                    fetched = true;
                    if keys
                        .iter()
                        .any(|key| key.algorithm().family() == Family::Hmac)
                    {
                        // Fetched keys are public keys: a secret beside them mixes families.
                        problems.push(ConfigProblem::MixedFamilies {
                            issuer: name.clone(),
                        });
                    }
                    let source = match source {
                        Fetch::Jwks(url) => fetch::checked_url(url).map(Source::Jwks),
                        _ => fetch::discovery_url(&name).map(Source::Discovery),
                    };
                    source
                        .map_err(|detail| ConfigProblem::KeyUrl {
                            url: match &issuer.fetch {
                                Fetch::Jwks(url) => url.clone(),
                                _ => name.clone(),
                            },
                            detail,
                        })
                        .and_then(|source| {
                            Remote::new(name.clone(), source, keys, limits.refresh.clone())
                        })
                        .map(|remote| IssuerKeys::Remote(Arc::new(remote)))
                }
            };
            match keys {
                Ok(keys) => list.push(Entry { name, rules, keys }),
                Err(problem) => problems.push(problem),
            }
        }
        #[cfg(feature = "oidc")]
        if fetched {
            problems.extend(limits.refresh.check());
        }
        if signers.len() > 1 {
            problems.push(ConfigProblem::SeveralSigners {
                issuers: signers.iter().map(|(name, _)| name.clone()).collect(),
            });
        }
        let signer = signers.pop().map(|(_, signer)| signer);
        (Issuers { list }, signer)
    }

    /// The issuer whose name is exactly `iss`.
    #[inline]
    pub(crate) fn find(&self, iss: &str) -> Option<&Entry> {
        self.list.iter().find(|issuer| issuer.name == iss)
    }

    /// The one issuer, when there is exactly one: its keys are the only ones a token can be
    /// verified with, whatever it claims, and its rules then require its `iss` after the
    /// signature, so the claim need not be read first.
    #[inline]
    pub(crate) fn only(&self) -> Option<&Entry> {
        match &self.list[..] {
            [one] => Some(one),
            _ => None,
        }
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
    #[cfg(feature = "utoipa")]
    pub(crate) fn any_fetched(&self) -> bool {
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
    /// The issuer's name: the `iss` its tokens carry.
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
