//! How the SQL stores (SQLite, PostgreSQL) keep a [`SessionRecord`], and how the bundled
//! stores (also Redis) keep a refresh family: each field as a column (or hash field) of text
//! or whole seconds, the role and scope lists as JSON arrays. One writer and one reader serve
//! them all, so they cannot drift apart in format.

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use super::store::SessionRecord;
use super::store::{SessionKey, StoreError};
use crate::session::refresh::RefreshFamily;

/// The fields of one stored session or refresh family, by name: a row's columns, or a Redis
/// hash's fields.
pub(crate) trait StoredFields {
    /// A text field.
    fn text(&self, name: &str) -> Result<String, StoreError>;
    /// A time field, in seconds since the Unix epoch.
    fn seconds(&self, name: &str) -> Result<u64, StoreError>;
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl SessionRecord {
    /// The roles and the scopes as the JSON arrays the SQL stores write.
    pub(crate) fn lists_as_json(&self) -> Result<(String, String), StoreError> {
        Ok((list_as_json(&self.roles)?, list_as_json(&self.scopes)?))
    }

    /// The record an SQL store wrote, read back under `key`.
    pub(crate) fn from_fields(
        key: SessionKey,
        fields: &impl StoredFields,
    ) -> Result<SessionRecord, StoreError> {
        let list = |name: &str| -> Result<Vec<String>, StoreError> {
            serde_json::from_str(&fields.text(name)?).map_err(StoreError::from_error)
        };
        Ok(SessionRecord {
            key,
            subject: fields.text("subject")?,
            roles: list("roles")?,
            scopes: list("scopes")?,
            claims: fields.text("claims")?,
            created_at: fields.seconds("created_at")?,
            last_seen: fields.seconds("last_seen")?,
            expires_at: fields.seconds("expires_at")?,
        })
    }
}

/// A list as the JSON array the bundled stores write.
pub(crate) fn list_as_json(list: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(list).map_err(StoreError::from_error)
}

impl RefreshFamily {
    /// The family a bundled store wrote, read back under `key` (the family's `current` is a
    /// field of its own).
    pub(crate) fn from_fields(
        key: SessionKey,
        fields: &impl StoredFields,
    ) -> Result<RefreshFamily, StoreError> {
        let list = |name: &str| -> Result<Vec<String>, StoreError> {
            serde_json::from_str(&fields.text(name)?).map_err(StoreError::from_error)
        };
        let current = SessionKey::from_stored(&fields.text("current")?)
            .ok_or_else(|| StoreError::new("a refresh token hash that is not a SHA-256 in hex"))?;
        Ok(RefreshFamily {
            key,
            current,
            subject: fields.text("subject")?,
            roles: list("roles")?,
            scopes: list("scopes")?,
            claims: fields.text("claims")?,
            created_at: fields.seconds("created_at")?,
            last_used: fields.seconds("last_used")?,
            expires_at: fields.seconds("expires_at")?,
        })
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl SessionKey {
    /// A key a store holds, or the store's error when it is not one (a corrupt row).
    pub(crate) fn parse_stored(text: &str) -> Result<SessionKey, StoreError> {
        SessionKey::from_stored(text)
            .ok_or_else(|| StoreError::new("a session key that is not a SHA-256 in hex"))
    }
}

/// An SQL row as [`StoredFields`]: text columns, and times as signed 64-bit integers.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) struct SqlRow<'a, R>(pub(crate) &'a R);

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl<R> StoredFields for SqlRow<'_, R>
where
    R: sqlx::Row,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn text(&self, name: &str) -> Result<String, StoreError> {
        self.0.try_get(name).map_err(StoreError::from_error)
    }

    fn seconds(&self, name: &str) -> Result<u64, StoreError> {
        let value: i64 = self.0.try_get(name).map_err(StoreError::from_error)?;
        u64::try_from(value).map_err(StoreError::from_error)
    }
}

/// Seconds since the epoch as an SQL integer (times past `i64::MAX` are stored as it).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn sql_seconds(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX)
}
