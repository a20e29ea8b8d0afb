//! Configuration errors: what the Gate's builder and the key constructors refuse, each with
//! what to change.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::Algorithm;

/// A configuration the [`GateBuilder`](crate::GateBuilder) refuses, with what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GateError {
    /// No verification key was configured.
    NoKey,
    /// An HMAC secret shorter than its hash.
    WeakSecret {
        /// The algorithm the secret was given for.
        algorithm: Algorithm,
        /// Its length in bytes.
        len: usize,
        /// The minimum length.
        min: usize,
    },
    /// A key constructor that does not fit the algorithm (an HMAC secret for RS256).
    WrongKeyType {
        /// The algorithm asked for.
        algorithm: Algorithm,
        /// What was given.
        given: &'static str,
    },
    /// A key that does not parse.
    InvalidKey {
        /// The algorithm the key was given for.
        algorithm: Algorithm,
        /// The parser's complaint.
        detail: String,
    },
    /// HMAC secrets next to public keys, or public keys of several families without `kid`s.
    MixedFamilies,
    /// Two keys with the same `kid`.
    DuplicateKid(String),
    /// A leeway longer than five minutes.
    LeewayTooLong(Duration),
    /// A maximum token size or lifetime of zero.
    ZeroLimit(&'static str),
    /// An empty claim name or path.
    EmptyClaimPath,
    /// Both static keys and a key source were configured.
    KeysAndSource,
    /// The session settings cannot work.
    Sessions(String),
    /// Keys bound to issuers ([`issuer_keys`](crate::GateBuilder::issuer_keys), `jwks`,
    /// `oidc_issuer`) next to keys or issuers shared by all (`key`, `hs256`, `issuer`,
    /// `key_source`).
    SharedAndIssuerKeys,
    /// The same issuer was given keys twice.
    DuplicateIssuer(String),
    /// An issuer's key or discovery URL that is not HTTPS (plain HTTP is accepted for loopback
    /// addresses only), or does not parse.
    KeyUrl(String),
    /// The Gate cannot issue tokens as configured: a signing key that does not fit its keys,
    /// a token lifetime beyond `max_lifetime`, or refresh tokens without what they need.
    Issuing(String),
    /// More than one of the above: [`GateBuilder::build`](crate::GateBuilder::build) reports
    /// every problem of a configuration at once, in the order the builder met them.
    Several(Vec<GateError>),
}

impl fmt::Display for GateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GateError::NoKey => f.write_str(
                "no verification key: add one with `.hs256(secret)`, `.key(Key::from_pem(..))` \
                 or `.key_source(..)`",
            ),
            GateError::WeakSecret {
                algorithm,
                len,
                min,
            } => write!(
                f,
                "the {algorithm:?} secret is {len} bytes; use at least {min} bytes of random data \
                 (for example `openssl rand -base64 {min}`)"
            ),
            GateError::WrongKeyType { algorithm, given } => {
                write!(
                    f,
                    "{algorithm:?} cannot use {given}: pass the key type of its family"
                )
            }
            GateError::InvalidKey { algorithm, detail } => {
                write!(
                    f,
                    "the {algorithm:?} key does not parse ({detail}); pass a public key"
                )
            }
            GateError::MixedFamilies => f.write_str(
                "keys of different families in one Gate: never mix HMAC secrets with public keys, \
                 and give every public key a `kid` when RSA, EC and EdDSA keys are mixed",
            ),
            GateError::DuplicateKid(kid) => {
                write!(f, "two keys have the kid {kid:?}; kids must be unique")
            }
            GateError::LeewayTooLong(d) => {
                write!(
                    f,
                    "a leeway of {d:?} is too long; use at most 5 minutes (default 30 s)"
                )
            }
            GateError::ZeroLimit(what) => write!(f, "{what} must be greater than zero"),
            GateError::EmptyClaimPath => f.write_str("a claim name or path segment is empty"),
            GateError::Sessions(problem) => write!(f, "sessions: {problem}"),
            GateError::KeysAndSource => f.write_str(
                "both static keys and a key source are configured: put the static keys into the \
                 source's key set, or drop the source",
            ),
            GateError::SharedAndIssuerKeys => f.write_str(
                "keys bound to issuers (`issuer_keys`, `jwks`, `oidc_issuer`) cannot be combined \
                 with keys or issuers shared by all (`key`, `hs256`, `issuer`, `key_source`): \
                 give each issuer its own keys",
            ),
            GateError::DuplicateIssuer(issuer) => write!(
                f,
                "the issuer {issuer:?} is given keys twice: give each issuer one key source"
            ),
            GateError::KeyUrl(problem) => write!(
                f,
                "{problem}: keys are fetched over HTTPS only (plain HTTP for loopback addresses)"
            ),
            GateError::Issuing(problem) => write!(f, "issuing tokens: {problem}"),
            GateError::Several(errors) => {
                write!(f, "{} configuration problems:", errors.len())?;
                for (i, error) in errors.iter().enumerate() {
                    write!(f, " ({}) {error}", i + 1)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for GateError {}

impl GateError {
    /// One error for a list of problems: `None` for none, the problem itself for one,
    /// [`GateError::Several`] for more.
    pub(crate) fn combine(mut errors: Vec<GateError>) -> Option<GateError> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(GateError::Several(errors)),
        }
    }
}
