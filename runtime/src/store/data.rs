//! What authgate keeps in a [`LoginRecord`](super::LoginRecord)'s `data`: the user's roles,
//! scopes and claims, when the login began, and a session's own values
//! ([`SessionData`](crate::sessions::SessionData)). One writer and one reader, so every store
//! keeps the same format.
//!
//! The values live in `data` rather than in a field of their own: the record's fields are the
//! store contract, and every store already keeps `data` as given, so stores need no new column
//! and a store's existing rows read as sessions without values.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::StoreError;

/// A login's data, read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LoginData {
    pub(crate) roles: Vec<String>,
    pub(crate) scopes: Vec<String>,
    /// A JSON object: for a session, the claims its principal carries; for a refresh family,
    /// the user's extra claims, put into each access token.
    pub(crate) claims: String,
    /// When the login began, in seconds since the Unix epoch.
    pub(crate) created_at: u64,
    /// A session's own values; empty for a refresh family and a session without any.
    pub(crate) session: SessionValues,
}

/// A session's values and flash messages, each kept as the JSON text of its value, by key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SessionValues {
    pub(crate) values: BTreeMap<String, String>,
    pub(crate) flash: BTreeMap<String, String>,
}

impl SessionValues {
    /// How many bytes the values take in the store: what the size limit bounds.
    pub(crate) fn size(&self) -> usize {
        self.members().len()
    }

    /// `,"values":{..},"flash":{..}`, each member only when it holds something.
    fn members(&self) -> String {
        let mut out = String::new();
        for (name, map) in [("values", &self.values), ("flash", &self.flash)] {
            if map.is_empty() {
                continue;
            }
            out.push_str(&format!(r#","{name}":{{"#));
            for (i, (key, value)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                // A string always serializes.
                out.push_str(&serde_json::to_string(key).unwrap_or_default());
                out.push(':');
                out.push_str(value);
            }
            out.push('}');
        }
        out
    }
}

#[derive(Deserialize)]
struct Stored<'a> {
    roles: Vec<String>,
    scopes: Vec<String>,
    #[serde(borrow)]
    claims: &'a RawValue,
    created_at: u64,
    #[serde(borrow, default)]
    values: BTreeMap<Cow<'a, str>, &'a RawValue>,
    #[serde(borrow, default)]
    flash: BTreeMap<Cow<'a, str>, &'a RawValue>,
}

/// Values read back, owned.
fn owned(map: BTreeMap<Cow<'_, str>, &RawValue>) -> BTreeMap<String, String> {
    map.into_iter()
        .map(|(key, value)| (key.into_owned(), value.get().to_owned()))
        .collect()
}

impl LoginData {
    /// The data as a store keeps it: one JSON object.
    pub(crate) fn encode(&self) -> String {
        let list = |names: &[String]| serde_json::to_string(names).unwrap_or_else(|_| "[]".into());
        format!(
            r#"{{"roles":{},"scopes":{},"claims":{},"created_at":{}{}}}"#,
            list(&self.roles),
            list(&self.scopes),
            self.claims,
            self.created_at,
            self.session.members()
        )
    }

    /// Reads what [`encode`](Self::encode) wrote; anything else is a corrupt store.
    pub(crate) fn decode(text: &str) -> Result<LoginData, StoreError> {
        let stored: Stored<'_> = serde_json::from_str(text).map_err(StoreError::corrupt)?;
        let claims = stored.claims.get();
        if !claims.starts_with('{') {
            return Err(StoreError::corrupt(
                "login claims that are not a JSON object",
            ));
        }
        Ok(LoginData {
            roles: stored.roles,
            scopes: stored.scopes,
            claims: claims.to_owned(),
            created_at: stored.created_at,
            session: SessionValues {
                values: owned(stored.values),
                flash: owned(stored.flash),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_reads_back_and_refuses_anything_else() {
        let data = LoginData {
            roles: vec!["a \"b\"".into()],
            scopes: vec![],
            claims: r#"{"sub":"7","x":[1,{"y":null}]}"#.into(),
            created_at: 1_900_000_000,
            session: SessionValues::default(),
        };
        let text = data.encode();
        assert_eq!(LoginData::decode(&text).unwrap(), data);
        assert!(!text.contains("values") && !text.contains("flash"));
        let mut with_values = data.clone();
        with_values
            .session
            .values
            .insert("cart \"7\"".into(), "[1,2]".into());
        with_values
            .session
            .flash
            .insert("notice".into(), r#""saved ✓""#.into());
        let text = with_values.encode();
        assert_eq!(LoginData::decode(&text).unwrap(), with_values);
        assert_eq!(
            with_values.session.size(),
            r#","values":{"cart \"7\"":[1,2]},"flash":{"notice":"saved ✓"}"#.len()
        );
        for bad in [
            "",
            "{}",
            r#"{"roles":[],"scopes":[],"claims":"{}","created_at":1}"#,
            r#"{"roles":[],"scopes":[],"claims":{},"created_at":-1}"#,
            r#"{"roles":[1],"scopes":[],"claims":{},"created_at":1}"#,
            r#"{"roles":[],"scopes":[],"claims":{},"created_at":1,"values":[]}"#,
            r#"{"roles":[],"scopes":[],"claims":{},"created_at":1,"flash":{"a":}}"#,
        ] {
            assert!(
                matches!(LoginData::decode(bad), Err(StoreError::Corrupt(_))),
                "{bad}"
            );
        }
    }
}
