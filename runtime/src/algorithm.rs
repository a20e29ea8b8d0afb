//! The JWS algorithms authgate verifies and signs with (RFC 7518), as authgate's own type: the
//! crypto crate underneath can change its major version without changing this one. Public as
//! `authgate::keys::Algorithm`; a module of its own so that `error` (whose problems name an
//! algorithm) and `keys` (whose constructors return those errors) both build on it.

use std::fmt;

/// A JWS signature algorithm (RFC 7518 section 3, RFC 8037 for `EdDSA`). Every [`Key`] and
/// [`SigningKey`] is bound to exactly one, and a token is only ever checked with a key of the
/// algorithm its header names.
///
/// Its text form is the `alg` header value, exactly (case-sensitive):
///
/// ```
/// use authgate::keys::Algorithm;
///
/// assert_eq!("RS256".parse::<Algorithm>(), Ok(Algorithm::RS256));
/// assert_eq!(Algorithm::EdDSA.to_string(), "EdDSA");
/// assert!("none".parse::<Algorithm>().is_err());
/// assert!("rs256".parse::<Algorithm>().is_err());
/// ```
///
/// [`Key`]: crate::keys::Key
/// [`SigningKey`]: crate::keys::SigningKey
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(clippy::upper_case_acronyms)] // the RFC 7518 names
pub enum Algorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA with P-256 and SHA-256.
    ES256,
    /// ECDSA with P-384 and SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

/// The kind of key an algorithm takes: a shared secret, or a public key of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Hmac,
    Rsa,
    Ec,
    Ed,
}

/// Every algorithm, in the order of RFC 7518's table.
pub(crate) const ALL: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

impl Algorithm {
    /// The `alg` header value.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    pub(crate) const fn family(self) -> Family {
        match self {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => Family::Hmac,
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => Family::Rsa,
            Algorithm::ES256 | Algorithm::ES384 => Family::Ec,
            Algorithm::EdDSA => Family::Ed,
        }
    }

    /// The algorithm of this exact `alg` name.
    pub(crate) fn named(name: &str) -> Option<Algorithm> {
        ALL.into_iter().find(|alg| alg.as_str() == name)
    }

    /// The same algorithm as the crypto crate names it.
    pub(crate) const fn jwa(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as J;
        match self {
            Algorithm::HS256 => J::HS256,
            Algorithm::HS384 => J::HS384,
            Algorithm::HS512 => J::HS512,
            Algorithm::RS256 => J::RS256,
            Algorithm::RS384 => J::RS384,
            Algorithm::RS512 => J::RS512,
            Algorithm::PS256 => J::PS256,
            Algorithm::PS384 => J::PS384,
            Algorithm::PS512 => J::PS512,
            Algorithm::ES256 => J::ES256,
            Algorithm::ES384 => J::ES384,
            Algorithm::EdDSA => J::EdDSA,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names round-trip, and each maps to the crypto crate's algorithm of the same name.
    #[test]
    fn names_round_trip_and_match_the_crypto_crate() {
        for alg in ALL {
            assert_eq!(Algorithm::named(alg.as_str()), Some(alg));
            assert_eq!(format!("{:?}", alg.jwa()), alg.as_str());
            assert_eq!(
                alg.as_str().parse::<jsonwebtoken::Algorithm>().ok(),
                Some(alg.jwa())
            );
        }
        for bad in ["", "none", "None", "hs256", "HS256 ", "ES512", "RSA1_5"] {
            assert_eq!(Algorithm::named(bad), None, "{bad}");
        }
    }
}
