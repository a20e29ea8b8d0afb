//! [`IdHash`]: what a login is stored under, and the random ids and tokens it hashes.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::StoreError;

/// The SHA-256 of a secret id or token in lower-case hex: what a login is stored under (and
/// the refresh token in force is kept as). The id itself never reaches a store, so a leaked
/// table or backup holds no credential that works. (Ids and tokens have 128 or 256 random
/// bits: no salt or slow hash is needed to keep them secret.) A `Copy` array, so the request
/// path hashes an id without allocating.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct IdHash([u8; 64]);

const HEX: &[u8; 16] = b"0123456789abcdef";

impl IdHash {
    /// The hash of `id`.
    pub(crate) fn of(id: &str) -> IdHash {
        let digest = Sha256::digest(id.as_bytes());
        let mut hex = [0; 64];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(digest) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 15)];
        }
        IdHash(hex)
    }

    /// A hash as a store gave it back (64 lower-case hex digits); `None` for anything else.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn from_stored(text: &str) -> Option<IdHash> {
        let hex: [u8; 64] = text.as_bytes().try_into().ok()?;
        hex.iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            .then_some(IdHash(hex))
    }

    /// The hex text, as stores keep it.
    pub(crate) fn as_str(&self) -> &str {
        // Only `of` and `from_stored` build a key, and both hold hex digits: always UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for IdHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A prefix tells sessions apart in logs of a store's own tests; the whole key need not
        // be printed anywhere.
        write!(f, "IdHash({}..)", &self.as_str()[..8])
    }
}

/// A new random id: `bytes` (at most 32) random bytes from the OS CSPRNG, base64url.
pub(crate) fn random_id(bytes: usize) -> Result<String, StoreError> {
    let mut buf = [0u8; 32];
    let buf = buf
        .get_mut(..bytes)
        .ok_or_else(|| StoreError::unavailable("at most 32 random bytes"))?;
    getrandom::fill(buf).map_err(|e| StoreError::unavailable(format!("no randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash is the SHA-256 of the id in lower-case hex (FIPS 180-2's "abc" vector), and it
    /// reads back from its text.
    #[test]
    fn a_hash_is_the_sha256_of_the_id_and_reads_back() {
        let key = IdHash::of("abc");
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(key.as_str(), hex);
        assert_eq!(IdHash::from_stored(hex), Some(key));
        assert_eq!(format!("{key:?}"), "IdHash(ba7816bf..)");
    }

    /// Anything but 64 lower-case hex digits is refused.
    #[test]
    fn only_a_stored_hash_is_accepted() {
        let hex = IdHash::of("abc").as_str().to_owned();
        let wrong = [
            String::new(),
            hex[..63].to_owned(),
            format!("{hex}0"),
            hex.to_uppercase(),
            format!("g{}", &hex[1..]),
            format!("é{}", &hex[2..]),
        ];
        for text in wrong {
            assert_eq!(IdHash::from_stored(&text), None, "{text}");
        }
    }
}
