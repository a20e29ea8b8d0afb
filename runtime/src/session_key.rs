//! [`SessionKey`]: what a server-side session is stored under. Its own module because the
//! [`Principal`](crate::principal::Principal) of a session keeps it (for logout), and the
//! principal depends on nothing of the session machinery.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a session is stored under: the SHA-256 of the cookie's session id, in lower-case hex.
/// The id itself never reaches a store, so a leaked table or backup holds no cookie that
/// works. (The id has 256 random bits: no salt or slow hash is needed to keep it secret.)
///
/// ```
/// use authgate::SessionKey;
///
/// let key = SessionKey::of("a-session-id");
/// assert_eq!(key.as_str().len(), 64);
/// assert!(!key.as_str().contains("a-session-id"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionKey([u8; 64]);

const HEX: &[u8; 16] = b"0123456789abcdef";

impl SessionKey {
    /// The key of the session whose cookie carries `id`.
    pub fn of(id: &str) -> SessionKey {
        let digest = Sha256::digest(id.as_bytes());
        let mut hex = [0; 64];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(digest) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 15)];
        }
        SessionKey(hex)
    }

    /// A key as a store wrote it (64 lower-case hex digits); `None` for anything else.
    pub fn from_stored(text: &str) -> Option<SessionKey> {
        let hex: [u8; 64] = text.as_bytes().try_into().ok()?;
        hex.iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            .then_some(SessionKey(hex))
    }

    /// The hex text, as stores keep it.
    pub fn as_str(&self) -> &str {
        // Only `of` and `from_stored` build a key, and both hold hex digits: always UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A prefix tells sessions apart in logs of a store's own tests; the whole key need not
        // be printed anywhere.
        write!(f, "SessionKey({}..)", &self.as_str()[..8])
    }
}

/// The hex text.
impl Serialize for SessionKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Only what [`SessionKey::from_stored`] accepts: a key is never read from anything else.
impl<'de> Deserialize<'de> for SessionKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        SessionKey::from_stored(&text)
            .ok_or_else(|| serde::de::Error::custom("a session key that is not a SHA-256 in hex"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key is the SHA-256 of the id in lower-case hex (FIPS 180-2's "abc" vector), and it
    /// reads back from its text and from its serialized form.
    #[test]
    fn a_key_is_the_sha256_of_the_id_and_reads_back() {
        let key = SessionKey::of("abc");
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(key.as_str(), hex);
        assert_eq!(SessionKey::from_stored(hex), Some(key));
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json, format!("\"{hex}\""));
        assert_eq!(serde_json::from_str::<SessionKey>(&json).unwrap(), key);
        assert_eq!(format!("{key:?}"), "SessionKey(ba7816bf..)");
    }

    /// Anything but 64 lower-case hex digits is refused, as text and when deserialized.
    #[test]
    fn only_a_stored_key_is_accepted() {
        let hex = SessionKey::of("abc").as_str().to_owned();
        let wrong = [
            String::new(),
            hex[..63].to_owned(),
            format!("{hex}0"),
            hex.to_uppercase(),
            format!("g{}", &hex[1..]),
            format!("é{}", &hex[2..]),
        ];
        for text in wrong {
            assert_eq!(SessionKey::from_stored(&text), None, "{text}");
            let json = serde_json::to_string(&text).unwrap();
            assert!(serde_json::from_str::<SessionKey>(&json).is_err(), "{text}");
        }
        assert!(serde_json::from_str::<SessionKey>("42").is_err());
    }
}
