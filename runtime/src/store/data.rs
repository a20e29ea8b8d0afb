//! What authgate keeps in a [`LoginRecord`](super::LoginRecord)'s `data`: the user's roles,
//! scopes and claims, and when the login began. One writer and one reader, so every store
//! keeps the same format.

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
}

#[derive(Deserialize)]
struct Stored<'a> {
    roles: Vec<String>,
    scopes: Vec<String>,
    #[serde(borrow)]
    claims: &'a RawValue,
    created_at: u64,
}

impl LoginData {
    /// The data as a store keeps it: one JSON object.
    pub(crate) fn encode(&self) -> String {
        let list = |names: &[String]| serde_json::to_string(names).unwrap_or_else(|_| "[]".into());
        format!(
            r#"{{"roles":{},"scopes":{},"claims":{},"created_at":{}}}"#,
            list(&self.roles),
            list(&self.scopes),
            self.claims,
            self.created_at
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
        };
        assert_eq!(LoginData::decode(&data.encode()).unwrap(), data);
        for bad in [
            "",
            "{}",
            r#"{"roles":[],"scopes":[],"claims":"{}","created_at":1}"#,
            r#"{"roles":[],"scopes":[],"claims":{},"created_at":-1}"#,
            r#"{"roles":[1],"scopes":[],"claims":{},"created_at":1}"#,
        ] {
            assert!(
                matches!(LoginData::decode(bad), Err(StoreError::Corrupt(_))),
                "{bad}"
            );
        }
    }
}
