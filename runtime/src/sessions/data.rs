//! [`SessionData`]: values a handler keeps with a server-side session, in the session's own
//! record, and flash messages for the next page.
//!
//! A view is read from the record the guard loaded, so reading costs no store call. Each
//! change is one compare-and-set of the record's data ([`LoginStore::replace_data`]): when
//! another request changed the data since it was read, the view is reloaded and the change
//! applied again to what the store holds. Changes are per key, so two requests that change
//! different keys both land, and [`update`](SessionData::update) and
//! [`take_flash`](SessionData::take_flash) read and write in one step. A session deleted
//! meanwhile (logout, revocation, expiry) is never written back.
//!
//! [`LoginStore::replace_data`]: crate::store::LoginStore::replace_data

use std::error::Error;
use std::fmt;

use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::SESSION_STORE;
use crate::reject::{Rejection, RejectionKind, Render};
use crate::store::{IdHash, LoginData, Logins, SessionValues, StoreError};

/// How many times a change is applied again to what another request wrote meanwhile before
/// the write gives up (503): only a storm of writes to one session gets there.
const ATTEMPTS: usize = 8;

/// The values of the caller's server-side session: typed values by key, and flash messages
/// that the next request reads once. An extractor for guarded handlers whose caller came with
/// a session cookie.
///
/// - [`get`](Self::get) reads what the session held when the request began (or after this
///   view's last write): no store call. Reads never write.
/// - [`insert`](Self::insert), [`remove`](Self::remove), [`update`](Self::update),
///   [`flash`](Self::flash) and [`take_flash`](Self::take_flash) write to the store at once,
///   and only when they change something.
/// - Concurrent requests: each change is an atomic compare-and-set of the session's data.
///   Changes of different keys by two requests both land; two `insert`s of one key end with
///   the later one; [`update`](Self::update) (read, change, write) and
///   [`take_flash`](Self::take_flash) are atomic, so neither loses a concurrent change nor
///   hands one flash message to two requests. Use `update`, not `get` then `insert`, to
///   change a value based on what it holds.
/// - Size: the values and flash messages together are bounded
///   ([`Sessions::data_limit`](super::Sessions::data_limit), 4 KiB by default): a change
///   that would go over is refused with [`SessionDataError::is_too_large`] and writes
///   nothing; a change that shrinks them is always taken.
/// - Logout, revocation and expiry win: a write to a session deleted since the request
///   began writes nothing and fails with [`SessionDataError::is_ended`]. A login starts a
///   session with no values.
///
/// Refused, and the handler does not run: 403 for a caller with a bearer token (use
/// `Option<SessionData>`, which is `None` for it), 500 with the reason logged in a handler
/// without a guard or in a `#[public]` one (its writes would skip the guard's cross-site
/// request forgery check), and on a Gate with stateless session cookies, which have no
/// server-side record to keep values in.
///
/// ```
/// use authgate::{Rejection, require_auth};
/// use authgate::sessions::SessionData;
/// use axum::response::Redirect;
///
/// #[require_auth(redirect = "/login")]
/// async fn add_to_cart(mut data: SessionData) -> Result<Redirect, Rejection> {
///     data.update("cart", |cart: Option<Vec<u32>>| {
///         let mut cart = cart.unwrap_or_default();
///         cart.push(7);
///         Some(cart)
///     })
///     .await?;
///     data.flash("notice", "Added to your cart").await?;
///     Ok(Redirect::to("/cart"))
/// }
///
/// #[require_auth(redirect = "/login")]
/// async fn cart(mut data: SessionData) -> Result<String, Rejection> {
///     let notice: Option<String> = data.take_flash("notice").await?; // shown once
///     let cart: Vec<u32> = data.get("cart")?.unwrap_or_default();
///     Ok(format!("{} {cart:?}", notice.unwrap_or_default()))
/// }
/// ```
pub struct SessionData {
    store: Logins,
    key: IdHash,
    /// The record's data as the store last showed it: what the next write expects to replace.
    stored: String,
    /// `stored`, read.
    login: LoginData,
    limit: usize,
    /// How the Gate renders refusals, for the errors turned into responses.
    render: Render,
    /// Whether the handler is a page (`redirect = "/login"`): its errors are page refusals.
    page: bool,
}

impl fmt::Debug for SessionData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keys only: values may be personal data, and the session's key is a secret's hash.
        f.debug_struct("SessionData")
            .field("values", &self.login.session.values.keys())
            .field("flash", &self.login.session.flash.keys())
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl SessionData {
    /// A view of the session under `key`, whose record data the guard loaded as `stored`.
    pub(crate) fn new(
        store: Logins,
        key: IdHash,
        stored: String,
        limit: usize,
        render: Render,
        page: bool,
    ) -> Result<SessionData, SessionDataError> {
        let failed = |problem| SessionDataError {
            problem,
            render: render.clone(),
            page,
        };
        let login = LoginData::decode(&stored).map_err(|e| failed(Problem::Store(e)))?;
        Ok(SessionData {
            store,
            key,
            stored,
            login,
            limit,
            render,
            page,
        })
    }

    /// The value under `key`, if the session holds one; an error if it is not a `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionDataError> {
        self.login
            .session
            .values
            .get(key)
            .map(|text| serde_json::from_str(text).map_err(|e| self.error(Problem::Value(e))))
            .transpose()
    }

    /// Keeps `value` under `key`, replacing what was there. Nothing is written when the
    /// session already holds this value.
    pub async fn insert<T: Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &T,
    ) -> Result<(), SessionDataError> {
        let text = self.encode(value)?;
        self.change(|session| Ok(((), set(&mut session.values, key, Some(&text)))))
            .await
    }

    /// Removes the value under `key`; whether there was one. Nothing is written when there
    /// was none.
    pub async fn remove(&mut self, key: &str) -> Result<bool, SessionDataError> {
        self.change(|session| {
            let removed = session.values.remove(key).is_some();
            Ok((removed, removed))
        })
        .await
    }

    /// Reads the value under `key`, changes it with `change` (`None`: absent, or to remove
    /// it) and writes the result, as one atomic step: when another request changed the
    /// session meanwhile, `change` runs again on what it wrote, so no concurrent change is
    /// lost. Nothing is written when the value stays the same.
    pub async fn update<T, F>(&mut self, key: &str, mut change: F) -> Result<(), SessionDataError>
    where
        T: Serialize + DeserializeOwned,
        F: FnMut(Option<T>) -> Option<T>,
    {
        let (render, page) = (self.render.clone(), self.page);
        let failed = |problem| SessionDataError {
            problem,
            render: render.clone(),
            page,
        };
        self.change(|session| {
            let old = session.values.get(key);
            let old = old
                .map(|text| serde_json::from_str(text))
                .transpose()
                .map_err(|e| failed(Problem::Value(e)))?;
            let new = change(old)
                .map(|value| serde_json::to_string(&value))
                .transpose()
                .map_err(|e| failed(Problem::Value(e)))?;
            Ok(((), set(&mut session.values, key, new.as_deref())))
        })
        .await
    }

    /// Keeps a flash message under `key` for a later request to take once
    /// ([`take_flash`](Self::take_flash)): a notice set by a form's POST and shown by the page
    /// it redirects to.
    pub async fn flash<T: Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &T,
    ) -> Result<(), SessionDataError> {
        let text = self.encode(value)?;
        self.change(|session| Ok(((), set(&mut session.flash, key, Some(&text)))))
            .await
    }

    /// Takes the flash message under `key`: it is removed from the session, so of the
    /// requests that take it, even at once, only one gets it. `None` when there is none
    /// (and nothing is written).
    pub async fn take_flash<T: DeserializeOwned>(
        &mut self,
        key: &str,
    ) -> Result<Option<T>, SessionDataError> {
        let taken = self
            .change(|session| {
                let taken = session.flash.remove(key);
                let changed = taken.is_some();
                Ok((taken, changed))
            })
            .await?;
        taken
            .map(|text| serde_json::from_str(&text).map_err(|e| self.error(Problem::Value(e))))
            .transpose()
    }

    fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<String, SessionDataError> {
        serde_json::to_string(value).map_err(|e| self.error(Problem::Value(e)))
    }

    fn error(&self, problem: Problem) -> SessionDataError {
        SessionDataError {
            problem,
            render: self.render.clone(),
            page: self.page,
        }
    }

    /// Applies `op` to the values and writes them if it changed them (its `bool`), with a
    /// compare-and-set against what this view last read; on a conflict, reloads and applies
    /// `op` again to what the store holds.
    async fn change<R>(
        &mut self,
        mut op: impl FnMut(&mut SessionValues) -> Result<(R, bool), SessionDataError>,
    ) -> Result<R, SessionDataError> {
        for _ in 0..ATTEMPTS {
            let mut next = self.login.clone();
            let (out, changed) = op(&mut next.session)?;
            if !changed {
                return Ok(out);
            }
            let size = next.session.size();
            if size > self.limit && size > self.login.session.size() {
                return Err(self.error(Problem::TooLarge {
                    size,
                    limit: self.limit,
                }));
            }
            let text = next.encode();
            let replaced = self
                .store
                .replace_data(self.key.as_str(), &self.stored, &text)
                .await
                .map_err(|e| self.error(Problem::Store(e)))?;
            if replaced {
                self.stored = text;
                self.login = next;
                return Ok(out);
            }
            self.reload().await?;
        }
        Err(self.error(Problem::Store(StoreError::unavailable(format!(
            "session data changed by other requests {ATTEMPTS} times during one write"
        )))))
    }

    /// Reads the session again after a write found it changed; `Ended` when it is gone.
    async fn reload(&mut self) -> Result<(), SessionDataError> {
        let loaded = self
            .store
            .load(self.key.as_str())
            .await
            .map_err(|e| self.error(Problem::Store(e)))?;
        match loaded {
            Some(record) if record.current.is_none() => {
                self.login =
                    LoginData::decode(&record.data).map_err(|e| self.error(Problem::Store(e)))?;
                self.stored = record.data;
                Ok(())
            }
            _ => Err(self.error(Problem::Ended)),
        }
    }
}

/// Sets (or with `None` removes) `key` in `map`; whether that changed it.
fn set(
    map: &mut std::collections::BTreeMap<String, String>,
    key: &str,
    value: Option<&str>,
) -> bool {
    match value {
        Some(value) if map.get(key).map(String::as_str) == Some(value) => false,
        Some(value) => {
            map.insert(key.to_owned(), value.to_owned());
            true
        }
        None => map.remove(key).is_some(),
    }
}

/// Why a [`SessionData`] read or change failed. Nothing was written.
///
/// A handler that returns [`Rejection`] turns it into one with `?`: 401 when the session
/// ended, 503 when the store failed, 500 (the reason logged) for a value over the limit or
/// one that does not (de)serialize. It is also a response itself, the same.
///
/// ```
/// use authgate::{Rejection, require_auth};
/// use authgate::sessions::SessionData;
///
/// #[require_auth]
/// async fn remember(mut data: SessionData, note: String) -> Result<&'static str, Rejection> {
///     match data.insert("note", &note).await {
///         Ok(()) => Ok("kept"),
///         Err(e) if e.is_too_large() => Ok("too long to keep"),
///         Err(e) => Err(e.into()),
///     }
/// }
/// ```
pub struct SessionDataError {
    problem: Problem,
    render: Render,
    /// Raised in a page handler: the rejection it becomes is a page's.
    page: bool,
}

enum Problem {
    TooLarge { size: usize, limit: usize },
    Ended,
    Value(serde_json::Error),
    Store(StoreError),
}

impl SessionDataError {
    /// Whether the change would have put the session's values over their limit
    /// ([`Sessions::data_limit`](super::Sessions::data_limit)).
    pub fn is_too_large(&self) -> bool {
        matches!(self.problem, Problem::TooLarge { .. })
    }

    /// Whether the session ended (a logout, a revocation, expiry) after the request began:
    /// nothing is written to an ended session.
    pub fn is_ended(&self) -> bool {
        matches!(self.problem, Problem::Ended)
    }
}

impl fmt::Display for SessionDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::TooLarge { size, limit } => write!(
                f,
                "session data of {size} bytes would be over its limit of {limit} bytes"
            ),
            Problem::Ended => f.write_str("the session ended during the request"),
            // Not the serializer's message: it may quote the value, which may be a secret.
            Problem::Value(e) => write!(
                f,
                "a session value is not of the type asked for ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ),
            Problem::Store(e) => write!(f, "{SESSION_STORE}: {e}"),
        }
    }
}

impl fmt::Debug for SessionDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SessionDataError")
            .field(&self.to_string())
            .finish()
    }
}

impl Error for SessionDataError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.problem {
            Problem::Value(e) => Some(e),
            Problem::Store(e) => Some(e),
            Problem::TooLarge { .. } | Problem::Ended => None,
        }
    }
}

impl From<SessionDataError> for Rejection {
    fn from(error: SessionDataError) -> Rejection {
        let rejection = match error.problem {
            Problem::Ended => Rejection::new(RejectionKind::Unauthenticated, ""),
            Problem::Store(e) => Rejection::store(SESSION_STORE, e),
            problem @ (Problem::TooLarge { .. } | Problem::Value(_)) => {
                let message = SessionDataError {
                    problem,
                    render: error.render.clone(),
                    page: error.page,
                }
                .to_string();
                Rejection::misconfigured(message)
            }
        };
        let rejection = rejection.rendered_by(&error.render);
        match error.page {
            true => rejection.for_page(),
            false => rejection,
        }
    }
}

impl IntoResponse for SessionDataError {
    fn into_response(self) -> Response {
        Rejection::from(self).into_response()
    }
}
