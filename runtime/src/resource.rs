//! Resources a handler loads before its body runs, and their owners: [`Resource`] (what
//! [`Load`](crate::Load) loads) and [`OwnerId`], for `#[owned_by(invoice.user_id)]` against
//! IDOR (OWASP API1:2023).
//!
//! The most common API hole is not a missing login check: it is user A reading user B's
//! invoice by changing the id in the URL. `#[owned_by]` compares a value the handler already
//! has (a path id, or a field of a resource loaded with [`Load`](crate::Load)) with the
//! verified subject, before the first statement of the handler body. A mismatch answers 404
//! with exactly the bytes of a missing resource, so the caller cannot learn that the id
//! exists.
//!
//! # Loading
//!
//! `Load<R>` reads the path parameters as `R::Id` and calls [`Resource::load`] with the
//! router's state, after the guard (so nothing is loaded for a caller who may not call the
//! handler) and before the body:
//!
//! | what happens | answer |
//! |---|---|
//! | the path does not parse as `R::Id` | 404, the bytes of a missing resource |
//! | `load` returns `Ok(None)` | 404, the same |
//! | `load` returns `Err` | 503 `unavailable`; the error is logged, never shown |
//! | `Load` in a `#[public]` handler or one without a guard | 500, logged: a resource is loaded only for a checked caller |
//!
//! `S` is the state the router is given: implement `Resource<AppState>` to reach the
//! database pool through it (the Gate comes from the same state through `FromRef`).
//!
//! ```
//! use authgate::{Gate, Load, owned_by, require_auth};
//! use authgate::resource::Resource;
//! use authgate::store::StoreError;
//! use axum::extract::FromRef;
//!
//! #[derive(Clone)]
//! struct AppState { gate: Gate, db: Db }
//!
//! impl FromRef<AppState> for Gate {
//!     fn from_ref(state: &AppState) -> Gate { state.gate.clone() }
//! }
//!
//! /// Stands in for a connection pool.
//! #[derive(Clone)]
//! struct Db;
//!
//! impl Db {
//!     async fn invoice(&self, id: u64) -> Result<Option<Invoice>, std::io::Error> {
//!         Ok((id == 1).then(|| Invoice { id, user_id: 7, amount_cents: 1200 }))
//!     }
//! }
//!
//! struct Invoice { id: u64, user_id: u64, amount_cents: i64 }
//!
//! impl Resource<AppState> for Invoice {
//!     type Id = u64; // `/invoices/{id}`; a tuple or a struct for several parameters
//!     async fn load(id: u64, state: &AppState) -> Result<Option<Self>, StoreError> {
//!         state.db.invoice(id).await.map_err(StoreError::unavailable)
//!     }
//! }
//!
//! #[require_auth]
//! #[owned_by(invoice.user_id, or_role = "admin")]
//! async fn show(Load(invoice): Load<Invoice>) -> String {
//!     // Only the owner (subject "7") or an admin gets here.
//!     format!("invoice {}: {} cents", invoice.id, invoice.amount_cents)
//! }
//! ```
//!
//! # Owner ids
//!
//! The owner field's type implements [`OwnerId`]: strings, integers, `Option`, `uuid::Uuid`
//! (feature `uuid`), references and smart pointers of them. Each compares one canonical
//! spelling with the subject, so no two subjects own the same id. For an id type of your own,
//! compare its canonical form:
//!
//! ```
//! use authgate::resource::OwnerId;
//!
//! /// Account ids, written `acct_<number>` in tokens.
//! struct AccountId(u64);
//!
//! impl OwnerId for AccountId {
//!     fn is_subject(&self, subject: &str) -> bool {
//!         subject.strip_prefix("acct_") == Some(self.0.to_string().as_str())
//!     }
//! }
//!
//! assert!(AccountId(42).is_subject("acct_42"));
//! assert!(!AccountId(42).is_subject("acct_042"));
//! ```

use std::future::Future;

use serde::de::DeserializeOwned;

use crate::store::StoreError;

/// A value that can be compared with the caller's verified subject (`sub`, a string).
///
/// Implemented for strings, all integer types (compared in their decimal form, so `"007"` does
/// not own `7`), `Option` (where `None` is owned by nobody), references, and with the `uuid`
/// feature for `uuid::Uuid` (compared in its lower-case hyphenated form only). Every
/// implementation compares one canonical spelling: no two subjects own the same id.
///
/// ```
/// use authgate::resource::OwnerId;
/// assert!(42u64.is_subject("42"));
/// assert!(!42u64.is_subject("042"));
/// assert!("alice".is_subject("alice"));
/// assert!(!None::<u64>.is_subject("42"));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be compared with the caller's subject",
    label = "#[owned_by] needs an id: a string, an integer, a Uuid, or a type implementing `authgate::resource::OwnerId`",
    note = "name the owner id field (`#[owned_by(invoice.user_id)]`), or implement \
            `authgate::resource::OwnerId` for `{Self}` with `fn is_subject(&self, subject: &str) -> bool`"
)]
pub trait OwnerId {
    /// Whether this id names the caller whose verified subject is `subject`.
    fn is_subject(&self, subject: &str) -> bool;
}

impl OwnerId for str {
    fn is_subject(&self, subject: &str) -> bool {
        self == subject
    }
}

impl OwnerId for String {
    fn is_subject(&self, subject: &str) -> bool {
        self == subject
    }
}

impl<T: OwnerId + ?Sized> OwnerId for &T {
    fn is_subject(&self, subject: &str) -> bool {
        (**self).is_subject(subject)
    }
}

impl<T: OwnerId> OwnerId for Option<T> {
    fn is_subject(&self, subject: &str) -> bool {
        self.as_ref().is_some_and(|id| id.is_subject(subject))
    }
}

impl<T: OwnerId + ?Sized> OwnerId for Box<T> {
    fn is_subject(&self, subject: &str) -> bool {
        (**self).is_subject(subject)
    }
}

impl<T: OwnerId + ?Sized> OwnerId for std::sync::Arc<T> {
    fn is_subject(&self, subject: &str) -> bool {
        (**self).is_subject(subject)
    }
}

macro_rules! integer_ids {
    ($($t:ty)*) => {$(
        impl OwnerId for $t {
            fn is_subject(&self, subject: &str) -> bool {
                // Compare the decimal text: "+7", "07" and " 7" are not "7".
                subject == self.to_string()
            }
        }
    )*};
}
integer_ids!(i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize);

/// A subject owns a `Uuid` only in the one canonical form, lower-case hyphenated
/// (`67e55044-10b1-426f-9247-bb680e5fe0c8`): the simple, braced, `urn:uuid:` and upper-case
/// spellings of the same id are other subjects, as `"007"` is not `7`.
#[cfg(feature = "uuid")]
impl OwnerId for uuid::Uuid {
    fn is_subject(&self, subject: &str) -> bool {
        let mut canonical = uuid::Uuid::encode_buffer();
        subject == self.hyphenated().encode_lower(&mut canonical)
    }
}

/// The caller's subject is not an id of the type asked for, in that type's canonical
/// spelling: the error of [`CurrentUser::id`](crate::CurrentUser::id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvalidId;

impl std::fmt::Display for InvalidId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the subject is not an id of this type in its canonical spelling")
    }
}

impl std::error::Error for InvalidId {}

/// A resource an extractor can load by its path id, for `#[owned_by]` to check. Implement it
/// with `async fn`.
///
/// `S` is the app state the loader reads (a database pool, say). The loader runs after the
/// guard (authentication, roles, scopes) and before the handler body.
pub trait Resource<S>: Sized + Send + 'static {
    /// The path parameters that identify the resource (`u64`, `(u64, String)`, a struct).
    type Id: DeserializeOwned + Send + 'static;

    /// Loads the resource: `Ok(None)` when it does not exist (404), `Err` when the store
    /// failed (503).
    fn load(
        id: Self::Id,
        state: &S,
    ) -> impl Future<Output = Result<Option<Self>, StoreError>> + Send;
}
