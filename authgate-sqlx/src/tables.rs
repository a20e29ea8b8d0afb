//! The names of a store's tables, checked before they are written into its statements.

use authgate::store::StoreError;

/// The base name of the default tables: `authgate_logins` and `authgate_revocations`.
pub(crate) const DEFAULT_BASE: &str = "authgate";

/// The tables of one store, all named after one base.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tables {
    /// The base name, also the key of PostgreSQL's advisory lock around the schema.
    pub(crate) base: String,
    /// Logins: sessions and refresh families (`{base}_logins`).
    pub(crate) logins: String,
    /// Revocations (`{base}_revocations`): SQLite's log, PostgreSQL's table and `NOTIFY`
    /// channel.
    pub(crate) revocations: String,
}

impl Tables {
    /// The tables named after `base`, which [`check_table`] accepts.
    pub(crate) fn new(base: &str) -> Result<Tables, StoreError> {
        check_table(base)?;
        Ok(Tables {
            base: base.to_owned(),
            logins: format!("{base}_logins"),
            revocations: format!("{base}_revocations"),
        })
    }
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            base: DEFAULT_BASE.to_owned(),
            logins: format!("{DEFAULT_BASE}_logins"),
            revocations: format!("{DEFAULT_BASE}_revocations"),
        }
    }
}

/// Checks a base name (lower-case letters, digits and `_`, starting with a letter, at most 44
/// bytes): it is written into the statements unquoted, and the longest name derived from it
/// (`{base}_revocations_until`, `{base}_logins_expires_at`: 18 bytes more) stays within
/// PostgreSQL's 63 bytes, past which it would truncate the name silently.
pub(crate) fn check_table(base: &str) -> Result<(), StoreError> {
    let valid = base.starts_with(|c: char| c.is_ascii_lowercase())
        && base
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && base.len() <= 44;
    match valid {
        true => Ok(()),
        false => Err(StoreError::unavailable(format!(
            "{base:?} is not a table name: use at most 44 lower-case letters, digits and _, \
             starting with a letter"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_and_leave_room_for_the_derived_names() {
        for good in ["authgate", "a", "app_2", &"a".repeat(44)] {
            assert!(check_table(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1a",
            "_a",
            "Sessions",
            "a-b",
            "a;drop",
            "a b",
            "a\"b",
            "é",
            &"a".repeat(45),
        ] {
            assert!(check_table(bad).is_err(), "{bad}");
        }
        // The longest derived names stay within PostgreSQL's 63 bytes.
        let longest = Tables::new(&"a".repeat(44)).expect("a valid base");
        for derived in [
            format!("{}_until", longest.revocations),
            format!("{}_expires_at", longest.logins),
            format!("{}_subject", longest.logins),
        ] {
            assert!(derived.len() <= 63, "{derived}");
        }
    }

    #[test]
    fn the_default_tables_are_named_after_authgate() {
        let tables = Tables::default();
        assert_eq!(tables, Tables::new("authgate").expect("valid"));
        assert_eq!(tables.logins, "authgate_logins");
        assert_eq!(tables.revocations, "authgate_revocations");
    }
}
