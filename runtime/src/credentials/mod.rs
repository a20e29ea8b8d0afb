//! Where a credential is read from: the `Authorization: Bearer` header, the bearer token of a
//! WebSocket handshake, and the session cookie.
//!
//! This layer only reads: what a credential says is decided below it (tokens in `verify`,
//! sessions in `session`). Both readers are strict: a request that presents something
//! malformed is refused, never treated as anonymous, and never falls back to another source.

pub(crate) mod bearer;
pub(crate) mod cookie;
pub(crate) mod websocket;

pub(crate) use bearer::{CredentialError, authorization, bearer_cache_key, bearer_value};
#[cfg(test)]
pub(crate) use bearer::{bearer_token, parse_bearer};
pub(crate) use websocket::{
    WEBSOCKET_BEARER_PREFIX, WEBSOCKET_PROTOCOL, is_websocket_handshake, offered_bearer,
};

/// Where a verified credential came from; a route can narrow the kinds it accepts
/// (`credentials = "cookie"` on its attribute, or
/// [`Router::accepting`](crate::Router::accepting)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialKind {
    /// `Authorization: Bearer <token>` (or the bearer token a WebSocket handshake offers).
    Bearer,
    /// A session cookie.
    Cookie,
}

impl CredentialKind {
    /// The name the attributes and the audit use: `bearer`, `cookie`.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            CredentialKind::Bearer => "bearer",
            CredentialKind::Cookie => "cookie",
        }
    }

    const fn bit(self) -> u8 {
        match self {
            CredentialKind::Bearer => 1,
            CredentialKind::Cookie => 2,
        }
    }

    /// Every kind, in the order a request's credentials are examined.
    const EVERY: [CredentialKind; 2] = [CredentialKind::Bearer, CredentialKind::Cookie];
}

/// The credential kinds a route accepts: a kind outside the set is not examined at all, as if
/// the request did not carry it (a bearer-only API route never reads the session cookie, so a
/// browser's cookie gives it no identity and needs no origin check).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Kinds(u8);

impl Kinds {
    /// Every kind: what a route accepts unless it narrows them.
    pub(crate) const ALL: Kinds = Kinds(u8::MAX);

    /// Exactly these kinds (none, for an empty slice: a route that accepts nothing).
    pub(crate) const fn of(kinds: &[CredentialKind]) -> Kinds {
        let mut bits = 0;
        let mut i = 0;
        while i < kinds.len() {
            bits |= kinds[i].bit();
            i += 1;
        }
        Kinds(bits)
    }

    pub(crate) const fn contains(self, kind: CredentialKind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// The kinds both accept.
    pub(crate) const fn and(self, other: Kinds) -> Kinds {
        Kinds(self.0 & other.0)
    }

    /// Whether every kind is accepted.
    pub(crate) const fn is_all(self) -> bool {
        self.0 & Kinds::of(&CredentialKind::EVERY).0 == Kinds::of(&CredentialKind::EVERY).0
    }

    /// The accepted kinds, in examination order.
    pub(crate) fn iter(self) -> impl Iterator<Item = CredentialKind> {
        CredentialKind::EVERY
            .into_iter()
            .filter(move |kind| self.contains(*kind))
    }
}

impl std::fmt::Debug for Kinds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The kinds a router accepts, left in a request by the routers that narrow them
/// ([`Router::accepting`](crate::Router::accepting)); absent: every kind.
#[derive(Clone, Copy, Debug)]
struct RouterKinds(Kinds);

/// The kinds the routers of a request (with these extensions) accept.
pub(crate) fn router_kinds(extensions: &http::Extensions) -> Kinds {
    extensions
        .get::<RouterKinds>()
        .map_or(Kinds::ALL, |kinds| kinds.0)
}

/// Narrows the kinds a request (with these extensions) may present to those `kinds` accepts
/// too: what a narrowing router does to each of its requests. Enclosing routers intersect.
pub(crate) fn narrow(extensions: &mut http::Extensions, kinds: Kinds) {
    if !kinds.is_all() {
        let narrowed = router_kinds(extensions).and(kinds);
        extensions.insert(RouterKinds(narrowed));
    }
}
