//! Keys: what verifies a token's signature ([`Key`]) and what signs the tokens a Gate issues
//! ([`SigningKey`]), each bound to one [`Algorithm`].
//!
//! Keys belong to an [`Issuer`](crate::issuers::Issuer): the issuer whose name a token's `iss`
//! claims is the only one whose keys are tried on it. Every constructor checks its input when
//! it is called, never on the first request: an HMAC secret shorter than its hash, PEM text
//! given as a secret, a public key that does not parse or an RSA key under 2048 bits is a
//! [`ConfigError`](crate::ConfigError) that says what to change.
//!
//! ```
//! use authgate::keys::{Algorithm, Key, SigningKey};
//!
//! # let public_pem = include_bytes!("../../../tests/keys/rsa_public.pem");
//! # let private_pem = include_bytes!("../../../tests/keys/ed25519_private.pem");
//! // Verify an identity provider's RS256 tokens with its public key (rotation: one key per kid).
//! let idp = Key::from_pem(Algorithm::RS256, public_pem)?.with_kid("2026-11");
//! // Sign the app's own tokens with Ed25519; authgate derives the public half that verifies them.
//! let own = SigningKey::from_pem(Algorithm::EdDSA, private_pem)?.with_kid("2026-12");
//! // Or one HMAC secret that signs and verifies (at least 32 random bytes for HS256).
//! let secret = Key::hmac(Algorithm::HS256, "an HMAC secret of at least 32 bytes!!")?;
//! # Ok::<(), authgate::ConfigError>(())
//! ```
//!
//! | algorithms | verification key ([`Key`]) | signing key ([`SigningKey`]) |
//! |---|---|---|
//! | HS256, HS384, HS512 | [`Key::hmac`]: a secret of at least 32, 48 or 64 bytes | [`SigningKey::hmac`], the same secret |
//! | RS256, RS384, RS512, PS256, PS384, PS512 | [`Key::from_pem`], [`Key::from_der`] (PKCS#1): a public key of 2048 to 8192 bits | [`SigningKey::from_pem`] |
//! | ES256, ES384 | [`Key::from_pem`], [`Key::from_der`] (a SEC1 point) | [`SigningKey::from_pem`] (PKCS#8) |
//! | EdDSA (Ed25519) | [`Key::from_pem`], [`Key::from_der`] (32 bytes) | [`SigningKey::from_pem`] |
//!
//! A key verifies exactly one algorithm, the one it was made for: a token's `alg` must be
//! that algorithm, so an RSA public key is never used as an HMAC secret, and `alg: none` or
//! an unknown algorithm is refused. For rotation, give each key a `kid`
//! ([`Key::with_kid`]): a token whose header names a `kid` is verified with that key only (an
//! unknown `kid` is refused, or, for fetched keys, causes one early fetch); a token without
//! one is tried with the issuer's keys of its algorithm. Publish the new key, start signing
//! with it, and remove the old one once its last tokens have expired.
//!
//! Around the signature, every token is checked the same way: at most 8 KiB
//! ([`max_token_bytes`](crate::GateBuilder::max_token_bytes)), three base64url parts (a JWE
//! is refused), no `crit` header; `jku`, `x5u`, `jwk` and `x5c` are never fetched or trusted.
//! After the signature, duplicate claim names are refused, `exp` is required, `exp`, `nbf`
//! and `iat` must be numbers within the leeway, `exp` at most the maximum lifetime ahead,
//! `sub` a non-empty string, and the issuer's `iss` and audience must match.
//!
//! Signatures are checked with the crypto backend of the crate's features: `aws-lc-rs` (the
//! default) or `rust-crypto` (pure Rust). When both are on, `aws-lc-rs` is used.

#[cfg(feature = "oidc")]
mod jwk;
mod key;
mod set;
mod signing;

pub use crate::algorithm::Algorithm;
pub use key::Key;
pub use signing::SigningKey;

#[cfg(feature = "oidc")]
pub(crate) use jwk::{MAX_JWKS_BYTES, parse_jwks};
#[cfg(any(feature = "oidc", test))]
pub(crate) use set::next_generation;
pub(crate) use set::{KeyEpoch, KeySet};

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!(
    "authgate needs a crypto backend: enable the feature `aws-lc-rs` (the default, fastest) or \
     `rust-crypto` (pure Rust)"
);

/// The backend chosen by our features, named directly: jsonwebtoken's process default panics
/// on first use when another crate enables both of its backends. With both features on (one
/// dependency asked for each), `aws-lc-rs` is used: features only add.
#[cfg(feature = "aws-lc-rs")]
pub(crate) static PROVIDER: &jsonwebtoken::crypto::CryptoProvider =
    &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
pub(crate) static PROVIDER: &jsonwebtoken::crypto::CryptoProvider =
    &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
