//! Configuration errors: what [`GateBuilder::build`](crate::GateBuilder::build) and the key
//! constructors refuse, each problem with what to change.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::algorithm::Algorithm;

/// A configuration authgate refuses: every problem [`GateBuilder::build`] found, at once, so
/// that one run tells what to change. Key constructors ([`Key::from_pem`], ...) report their
/// one problem the same way.
///
/// The problems are a flat list of [`ConfigProblem`]s, matched without nesting:
///
/// ```
/// use std::time::Duration;
/// use authgate::{ConfigProblem, Gate};
/// use authgate::issuers::Issuer;
///
/// let err = Gate::builder()
///     .issuer(Issuer::new("https://auth.example.com").secret("short"))
///     .leeway(Duration::from_secs(3600))
///     .build()
///     .unwrap_err();
/// assert!(matches!(err.problems(), [
///     ConfigProblem::WeakSecret { len: 5, min: 32, .. },
///     ConfigProblem::LeewayTooLong { .. },
/// ]));
/// println!("{err}"); // 2 configuration problems: (1) the HS256 secret is 5 bytes; ...
/// ```
///
/// [`GateBuilder::build`]: crate::GateBuilder::build
/// [`Key::from_pem`]: crate::keys::Key::from_pem
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<ConfigProblem>,
}

/// One problem of a configuration, with what it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigProblem {
    /// The Gate has neither an issuer nor sessions: it would accept no credential.
    NothingAccepted,
    /// An issuer was given no key and no place to fetch keys from.
    NoKeys {
        /// The issuer's name.
        issuer: String,
    },
    /// An HMAC secret shorter than its hash (RFC 7518 section 3.2).
    WeakSecret {
        /// The algorithm the secret was given for.
        algorithm: Algorithm,
        /// Its length in bytes.
        len: usize,
        /// The minimum length.
        min: usize,
    },
    /// A key constructor that does not fit the algorithm (an HMAC secret for RS256, PEM text
    /// for HS256).
    WrongKeyType {
        /// The algorithm asked for.
        algorithm: Algorithm,
        /// What was given.
        given: &'static str,
    },
    /// A key that does not parse as a key of its algorithm.
    InvalidKey {
        /// The algorithm the key was given for.
        algorithm: Algorithm,
        /// The parser's complaint.
        detail: String,
    },
    /// A name that is not an algorithm authgate supports.
    UnknownAlgorithm {
        /// The name given.
        name: String,
    },
    /// One issuer's keys mix HMAC secrets with public keys, or public keys of several
    /// families without a `kid` on each.
    MixedFamilies {
        /// The issuer's name.
        issuer: String,
    },
    /// Two keys of one issuer have the same `kid`.
    DuplicateKid {
        /// The issuer's name.
        issuer: String,
        /// The `kid`.
        kid: String,
    },
    /// Two issuers with the same name.
    DuplicateIssuer {
        /// The name.
        issuer: String,
    },
    /// A leeway longer than five minutes.
    LeewayTooLong {
        /// The leeway given.
        leeway: Duration,
    },
    /// A limit, lifetime or interval of zero (or a lower bound above its upper one).
    ZeroLimit {
        /// The setting.
        setting: &'static str,
    },
    /// A claim name or JSON Pointer that names no claim.
    InvalidClaim {
        /// What was given.
        name: String,
    },
    /// A key or discovery URL that does not parse, or is not HTTPS (plain HTTP is accepted
    /// for loopback addresses only).
    KeyUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A session cookie name that is not a valid cookie name.
    CookieName {
        /// The name given.
        name: String,
    },
    /// A `__Host-` or `__Secure-` cookie without `Secure`, which browsers refuse.
    InsecurePrefixedCookie {
        /// The name given.
        name: String,
    },
    /// More than one issuer has a signing key: the Gate issues its tokens as one issuer.
    SeveralSigners {
        /// The issuers with signing keys.
        issuers: Vec<String>,
    },
    /// A signing key whose public half does not verify under its issuer's key of the same
    /// `kid`.
    SigningKeyMismatch {
        /// The issuer's name.
        issuer: String,
    },
    /// The lifetime of the access tokens the Gate issues exceeds its `max_lifetime`, so it
    /// would refuse its own tokens.
    TokenLifetimeTooLong {
        /// The token lifetime.
        lifetime: Duration,
        /// The Gate's maximum lifetime.
        max_lifetime: Duration,
    },
    /// A stateless session cookie would live longer than the Gate's `max_lifetime` (it lives
    /// the shorter of the sessions' idle timeout and absolute lifetime), so the Gate would
    /// refuse every cookie its own login issues.
    SessionLifetimeTooLong {
        /// How long a fresh stateless cookie lives.
        lifetime: Duration,
        /// The Gate's maximum lifetime.
        max_lifetime: Duration,
    },
    /// A feature needs a setting that is missing (refresh tokens need an issuer with a
    /// signing key and revocations; the test kit's minter needs a key to sign with).
    Missing {
        /// What is missing.
        setting: &'static str,
        /// What needs it.
        needed_by: &'static str,
    },
}

impl ConfigError {
    /// Every problem found, in the order the builder met them.
    pub fn problems(&self) -> &[ConfigProblem] {
        &self.problems
    }

    /// One error for a list of problems: `None` for none.
    pub(crate) fn from_problems(problems: Vec<ConfigProblem>) -> Option<ConfigError> {
        (!problems.is_empty()).then_some(ConfigError { problems })
    }

    /// The problems, to gather with others.
    pub(crate) fn into_problems(self) -> Vec<ConfigProblem> {
        self.problems
    }
}

impl From<ConfigProblem> for ConfigError {
    fn from(problem: ConfigProblem) -> ConfigError {
        ConfigError {
            problems: vec![problem],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problems[..] {
            [one] => write!(f, "{one}"),
            problems => {
                write!(f, "{} configuration problems:", problems.len())?;
                for (i, problem) in problems.iter().enumerate() {
                    write!(f, " ({}) {problem}", i + 1)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigProblem::NothingAccepted => f.write_str(
                "the Gate accepts no credential: add an issuer (`.issuer(Issuer::new(..))`) for \
                 bearer tokens, or sessions (`.sessions(..)`) for cookies",
            ),
            ConfigProblem::NoKeys { issuer } => write!(
                f,
                "the issuer {issuer:?} has no keys: give it `.secret(..)`, `.key(..)` or \
                 `.signing_key(..)`, or fetch them (`Issuer::discover`, `Issuer::jwks`)"
            ),
            ConfigProblem::WeakSecret {
                algorithm,
                len,
                min,
            } => write!(
                f,
                "the {algorithm} secret is {len} bytes; use at least {min} bytes of random data \
                 (for example `openssl rand -base64 {min}`)"
            ),
            ConfigProblem::WrongKeyType { algorithm, given } => {
                write!(
                    f,
                    "{algorithm} cannot use {given}: pass the key type of its family"
                )
            }
            ConfigProblem::InvalidKey { algorithm, detail } => {
                write!(f, "the {algorithm} key does not parse ({detail})")
            }
            ConfigProblem::UnknownAlgorithm { name } => write!(
                f,
                "{name:?} is not an algorithm authgate supports: use HS256, HS384, HS512, \
                 RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA"
            ),
            ConfigProblem::MixedFamilies { issuer } => write!(
                f,
                "the issuer {issuer:?} has keys of different families: never mix HMAC secrets \
                 with public keys, and give every public key a `kid` when RSA, EC and EdDSA \
                 keys are mixed"
            ),
            ConfigProblem::DuplicateKid { issuer, kid } => write!(
                f,
                "two keys of the issuer {issuer:?} have the kid {kid:?}; kids must be unique"
            ),
            ConfigProblem::DuplicateIssuer { issuer } => write!(
                f,
                "the issuer {issuer:?} is configured twice: give each issuer one `Issuer`"
            ),
            ConfigProblem::LeewayTooLong { leeway } => write!(
                f,
                "a leeway of {leeway:?} is too long; use at most 5 minutes (default 30 s)"
            ),
            ConfigProblem::ZeroLimit { setting } => {
                write!(f, "{setting} must be greater than zero")
            }
            ConfigProblem::InvalidClaim { name } => write!(
                f,
                "{name:?} names no claim: give a claim name, or a JSON Pointer such as \
                 \"/realm_access/roles\""
            ),
            ConfigProblem::KeyUrl { url, detail } => write!(
                f,
                "{url:?}: {detail}; keys are fetched over HTTPS only (plain HTTP for loopback \
                 addresses)"
            ),
            ConfigProblem::CookieName { name } => {
                write!(f, "sessions: {name:?} is not a valid cookie name")
            }
            ConfigProblem::InsecurePrefixedCookie { name } => write!(
                f,
                "sessions: the cookie {name:?} needs `Secure`: drop \
                 insecure_for_local_development or the prefix"
            ),
            ConfigProblem::SeveralSigners { issuers } => write!(
                f,
                "the issuers {issuers:?} all have signing keys: the Gate issues its tokens as \
                 one issuer, so give a signing key to one of them"
            ),
            ConfigProblem::SigningKeyMismatch { issuer } => write!(
                f,
                "the signing key of the issuer {issuer:?} does not match its key of the same \
                 kid: give that kid the public half of the signing key, or drop that key"
            ),
            ConfigProblem::TokenLifetimeTooLong {
                lifetime,
                max_lifetime,
            } => write!(
                f,
                "the token lifetime ({lifetime:?}) is longer than max_lifetime \
                 ({max_lifetime:?}): shorten token_lifetime or raise max_lifetime"
            ),
            ConfigProblem::SessionLifetimeTooLong {
                lifetime,
                max_lifetime,
            } => write!(
                f,
                "a stateless session cookie lives {lifetime:?} (the shorter of idle_timeout and \
                 absolute_lifetime), longer than max_lifetime ({max_lifetime:?}), so every \
                 cookie a login issues would be refused: shorten idle_timeout or raise \
                 max_lifetime"
            ),
            ConfigProblem::Missing { setting, needed_by } => {
                write!(f, "{needed_by} need {setting}")
            }
        }
    }
}

// Here, beside the error it returns, so that `keys` builds on `error` and not both ways.
/// A name that is not one of the algorithms authgate supports (`none` never is) is a
/// configuration error of kind [`ConfigProblem::UnknownAlgorithm`].
impl FromStr for Algorithm {
    type Err = ConfigError;

    fn from_str(name: &str) -> Result<Algorithm, ConfigError> {
        Algorithm::named(name).ok_or_else(|| {
            ConfigError::from(ConfigProblem::UnknownAlgorithm {
                name: name.to_owned(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An algorithm's text form reads back; anything else is a configuration problem naming
    /// what was given.
    #[test]
    fn algorithms_parse_exactly_their_names() {
        for alg in crate::algorithm::ALL {
            assert_eq!(alg.to_string().parse::<Algorithm>(), Ok(alg));
        }
        for bad in ["", "none", "None", "hs256", "HS256 ", "ES512", "RSA1_5"] {
            let err = bad.parse::<Algorithm>().unwrap_err();
            assert!(
                matches!(err.problems(), [ConfigProblem::UnknownAlgorithm { name }] if name == bad),
                "{bad}: {err}"
            );
        }
    }
}
