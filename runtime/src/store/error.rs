//! [`StoreError`]: a store (or a key endpoint) could not answer.

use std::error::Error;
use std::fmt;

/// A store could not answer: a [`LoginStore`](super::LoginStore), a
/// [`RevocationStore`](super::RevocationStore), or a [`Resource`](crate::resource::Resource)
/// loader. Requests that needed the answer get 503 `unavailable`, never 401 and never 200.
///
/// Built from any error or message:
///
/// ```
/// use authgate::store::StoreError;
///
/// let down = StoreError::unavailable("connection refused");
/// assert!(matches!(down, StoreError::Unavailable(_)));
/// assert_eq!(down.to_string(), "store unavailable: connection refused");
///
/// let io = std::io::Error::other("disk full");
/// let err = StoreError::unavailable(io);
/// assert_eq!(std::error::Error::source(&err).unwrap().to_string(), "disk full");
///
/// let corrupt = StoreError::corrupt("a session key that is not hex");
/// assert!(matches!(corrupt, StoreError::Corrupt(_)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The store did not answer: refused, timed out, disconnected. Worth retrying.
    Unavailable(Box<dyn Error + Send + Sync>),
    /// The store answered with data it should not hold (a malformed row): not worth retrying
    /// until someone looks at it.
    Corrupt(Box<dyn Error + Send + Sync>),
}

impl StoreError {
    /// The store did not answer, because of `source` (an error or a message).
    pub fn unavailable(source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        StoreError::Unavailable(source.into())
    }

    /// The store holds data it should not, as `source` (an error or a message) says.
    pub fn corrupt(source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        StoreError::Corrupt(source.into())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unavailable(source) => write!(f, "store unavailable: {source}"),
            StoreError::Corrupt(source) => write!(f, "store holds unreadable data: {source}"),
        }
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            StoreError::Unavailable(source) | StoreError::Corrupt(source) => Some(&**source),
        }
    }
}
