//! A login as one Redis string: a fixed-width header, then the subject and the data.
//!
//! | bytes | what |
//! | --- | --- |
//! | 0 | the layout: `1` |
//! | 1..21 | `last_used`: seconds since the epoch, 20 decimal digits |
//! | 21 | `+` for a refresh family, `-` for a session |
//! | 22..86 | `current`: the 64-digit SHA-256 hex of the token in force (64 `-` for a session) |
//! | 86..106 | `expires_at`: 20 digits |
//! | 106..116 | the subject's length in bytes: 10 digits |
//! | 116.. | the subject, then `data` to the end |
//!
//! A request reads a login with one `GET` and no parsing beyond slicing. The fields that
//! change sit at fixed places, next to each other, so the scripts change them in place with
//! `SETRANGE`, which keeps the key's expiry: a touch writes the 20 digits at 1, a rotation
//! compares bytes 21..86 and writes bytes 1..86. Session data replaces the `data` after the
//! subject, keeping the header (`SET ... KEEPTTL`). The scripts in `logins.rs` use these
//! offsets.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authgate::store::{LoginRecord, StoreError};

/// The first byte: this layout. Another layout would be told apart by it.
const VERSION: u8 = b'1';
/// Where `last_used` starts.
pub(crate) const LAST_USED: usize = 1;
/// The width of a time: `u64::MAX` has 20 digits.
const DIGITS: usize = 20;
/// Where the family marker starts, followed by `current`.
pub(crate) const MARKER: usize = LAST_USED + DIGITS;
/// The width of `current`: a SHA-256 in hex.
pub(crate) const HASH: usize = 64;
const EXPIRES_AT: usize = MARKER + 1 + HASH;
/// Where the subject's length starts.
pub(crate) const SUBJECT_LEN: usize = EXPIRES_AT + DIGITS;
const SUBJECT_LEN_DIGITS: usize = 10;
/// Where the subject starts.
pub(crate) const SUBJECT: usize = SUBJECT_LEN + SUBJECT_LEN_DIGITS;

/// A time as seconds since the epoch: 0 before it.
pub(crate) fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Seconds since the epoch as a time; the latest time the platform holds for one it cannot.
pub(crate) fn time(seconds: u64) -> SystemTime {
    let mut seconds = seconds;
    loop {
        if let Some(time) = UNIX_EPOCH.checked_add(Duration::from_secs(seconds)) {
            return time;
        }
        seconds /= 2;
    }
}

/// A time as the 20 digits of the header.
pub(crate) fn digits(time: SystemTime) -> String {
    format!("{:0DIGITS$}", seconds(time))
}

/// The marker and `current` as the header holds them: `+` and the hash, or `-` and 64 `-`.
/// `Err` for a hash that is not 64 bytes (stores keep SHA-256 hex digests only).
pub(crate) fn current(hash: Option<&str>) -> Result<String, StoreError> {
    match hash {
        None => Ok("-".repeat(1 + HASH)),
        Some(hash) if hash.len() == HASH && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(format!("+{hash}"))
        }
        Some(_) => Err(StoreError::unavailable(
            "a refresh token hash that is not 64 hex digits (a SHA-256)",
        )),
    }
}

/// A record as its string.
pub(crate) fn encode(record: &LoginRecord) -> Result<Vec<u8>, StoreError> {
    let subject_len = record.subject.len();
    if subject_len >= 10_usize.pow(SUBJECT_LEN_DIGITS as u32) {
        return Err(StoreError::unavailable("a subject longer than 10^10 bytes"));
    }
    let mut value = Vec::with_capacity(SUBJECT + subject_len + record.data.len());
    value.push(VERSION);
    value.extend_from_slice(digits(record.last_used).as_bytes());
    value.extend_from_slice(current(record.current.as_deref())?.as_bytes());
    value.extend_from_slice(digits(record.expires_at).as_bytes());
    value.extend_from_slice(format!("{subject_len:0SUBJECT_LEN_DIGITS$}").as_bytes());
    value.extend_from_slice(record.subject.as_bytes());
    value.extend_from_slice(record.data.as_bytes());
    Ok(value)
}

/// A string read back under `key`; `Corrupt` for anything this layout did not write.
pub(crate) fn decode(key: &str, value: &[u8]) -> Result<LoginRecord, StoreError> {
    let corrupt = || StoreError::corrupt("a login value this store did not write");
    if value.len() < SUBJECT || value[0] != VERSION {
        return Err(corrupt());
    }
    let number = |at: usize, width: usize| -> Result<u64, StoreError> {
        let field = &value[at..at + width];
        // Digits only: `parse` would also take a sign.
        if !field.iter().all(u8::is_ascii_digit) {
            return Err(corrupt());
        }
        std::str::from_utf8(field)
            .ok()
            .and_then(|digits| digits.parse().ok())
            .ok_or_else(corrupt)
    };
    let last_used = number(LAST_USED, DIGITS)?;
    let expires_at = number(EXPIRES_AT, DIGITS)?;
    let subject_len =
        usize::try_from(number(SUBJECT_LEN, SUBJECT_LEN_DIGITS)?).map_err(|_| corrupt())?;
    let hash = &value[MARKER + 1..EXPIRES_AT];
    let current = match value[MARKER] {
        b'-' if hash.iter().all(|&b| b == b'-') => None,
        b'+' if hash.iter().all(u8::is_ascii_hexdigit) => {
            Some(String::from_utf8(hash.to_vec()).map_err(|_| corrupt())?)
        }
        _ => return Err(corrupt()),
    };
    let rest = &value[SUBJECT..];
    let (subject, data) = rest.split_at_checked(subject_len).ok_or_else(corrupt)?;
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).map_err(|_| corrupt());
    Ok(LoginRecord {
        key: key.to_owned(),
        subject: text(subject)?,
        current,
        last_used: time(last_used),
        expires_at: time(expires_at),
        data: text(data)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> LoginRecord {
        LoginRecord {
            key: "k".repeat(64),
            subject: "user \"7\"\n ✓".to_owned(),
            current: Some("0123456789abcdef".repeat(4)),
            last_used: time(1_700_000_060),
            expires_at: time(u64::MAX / 2),
            data: r#"{"roles":["admin"],"claims":{"tenant":"acme"}}"#.to_owned(),
        }
    }

    #[test]
    fn a_record_comes_back_as_it_was_written() {
        let family = record();
        let value = encode(&family).expect("encoded");
        assert_eq!(&value[LAST_USED..MARKER], b"00000000001700000060");
        assert_eq!(decode(&family.key, &value).expect("decoded"), family);

        let session = LoginRecord {
            current: None,
            subject: String::new(),
            data: String::new(),
            ..record()
        };
        let value = encode(&session).expect("encoded");
        assert_eq!(value.len(), SUBJECT);
        assert_eq!(decode(&session.key, &value).expect("decoded"), session);
    }

    /// What the touch and rotate scripts write in place reads back as the new record.
    #[test]
    fn the_scripts_rewrite_only_their_bytes() {
        let family = record();
        let mut value = encode(&family).expect("encoded");
        let touched = digits(time(u64::MAX));
        value[LAST_USED..MARKER].copy_from_slice(touched.as_bytes());
        let read = decode(&family.key, &value).expect("decoded");
        assert_eq!(read.last_used, time(u64::MAX));
        assert_eq!(read.expires_at, family.expires_at);

        let next = "f".repeat(HASH);
        let rotated = digits(time(7)) + &current(Some(&next)).expect("a hash");
        // The rotate script compares bytes 21..86 with `+` and the presented hash.
        let presented = current(family.current.as_deref()).expect("a hash");
        assert_eq!(&value[MARKER..EXPIRES_AT], presented.as_bytes());
        value[LAST_USED..EXPIRES_AT].copy_from_slice(rotated.as_bytes());
        let read = decode(&family.key, &value).expect("decoded");
        assert_eq!(read.current.as_deref(), Some(next.as_str()));
        assert_eq!(read.last_used, time(7));
        assert_eq!(read.subject, family.subject);
        assert_eq!(read.data, family.data);
    }

    #[test]
    fn only_sha256_hashes_are_kept_as_current() {
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(65), &"é".repeat(32)] {
            assert!(current(Some(bad)).is_err(), "{bad:?}");
            let family = LoginRecord {
                current: Some(bad.to_owned()),
                ..record()
            };
            assert!(encode(&family).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_value_this_store_did_not_write_is_corrupt() {
        let good = encode(&record()).expect("encoded");
        let mut cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"12".to_vec(),
            good[..SUBJECT - 1].to_vec(),
            // The subject runs past the end.
            good[..SUBJECT + 3].to_vec(),
        ];
        // Another layout; a sign or a letter among the digits; a marker of neither kind; a
        // session marker with a hash; a subject that is not UTF-8.
        for (at, byte) in [
            (0, b'2'),
            (LAST_USED, b'-'),
            (LAST_USED + 3, b'x'),
            (EXPIRES_AT + 19, b' '),
            (SUBJECT_LEN, b'+'),
            (MARKER, b'*'),
            (MARKER, b'-'),
            (MARKER + 1, b'z'),
            (SUBJECT, 0xff),
        ] {
            let mut bad = good.clone();
            bad[at] = byte;
            cases.push(bad);
        }
        for value in cases {
            let decoded = decode("k", &value);
            assert!(
                matches!(decoded, Err(StoreError::Corrupt(_))),
                "{:?}",
                String::from_utf8_lossy(&value)
            );
        }
    }

    #[test]
    fn times_saturate() {
        assert_eq!(seconds(UNIX_EPOCH - Duration::from_secs(1)), 0);
        assert_eq!(digits(UNIX_EPOCH), "0".repeat(DIGITS));
        assert_eq!(
            seconds(time(u64::from(u32::MAX) + 5)),
            u64::from(u32::MAX) + 5
        );
        assert!(time(u64::MAX) > time(u64::from(u32::MAX)));
    }
}
