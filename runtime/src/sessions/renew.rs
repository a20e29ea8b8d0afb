//! Re-issuing stateless session cookies: every handler routed through authgate's routing
//! functions is polled with an empty slot ([`Renew`]), the guard leaves a renewed cookie in
//! it, and the response gets it.
//!
//! The slot wraps the handler's own future, which axum boxes anyway: no allocation and no
//! layer per request. A request extension would allocate the request's extension map and the
//! slot on every request, and a tower layer on each route costs axum a clone and a boxed
//! future of its own, renewed cookie or not.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::handler::Handler;
use axum::response::Response;
use http::{HeaderValue, header};
use pin_project_lite::pin_project;

// The slot is scoped to each poll of a handler's future, the way a tokio task-local is, but
// with constant-initialised thread-locals: a guard runs synchronously inside that poll, and
// what it leaves is moved into the future before anything else can run on the thread. The
// state is a plain integer, so a poll that renews nothing (nearly all) never touches the
// cookie's own thread-local, whose destructor registration makes each access dearer.
thread_local! {
    /// [`OUTSIDE`], [`INSIDE`] or [`LEFT`]: where the future polled on this thread is.
    static STATE: Cell<u8> = const { Cell::new(OUTSIDE) };
    /// The cookie a guard renewed during the current poll (when the state is [`LEFT`]).
    static RENEWED: RefCell<Option<HeaderValue>> = const { RefCell::new(None) };
}

/// Not inside [`Renewing`]: nowhere to put a renewed cookie.
const OUTSIDE: u8 = 0;
/// Inside [`Renewing`], nothing renewed yet.
const INSIDE: u8 = 1;
/// Inside [`Renewing`], and a renewed cookie is in `RENEWED`.
const LEFT: u8 = 2;

/// Whether this request runs inside [`Renew`], so a renewed cookie reaches the response (a
/// guarded handler routed by a plain `axum::Router` does not).
pub(crate) fn can_renew() -> bool {
    STATE.get() != OUTSIDE
}

/// Leaves a renewed cookie for the response (only called when [`can_renew`]).
pub(crate) fn leave_renewed(cookie: HeaderValue) {
    RENEWED.with_borrow_mut(|slot| *slot = Some(cookie));
    STATE.set(LEFT);
}

/// A handler that adds the cookie its guard renewed to its response.
#[derive(Clone, Debug)]
pub(crate) struct Renew<H>(pub(crate) H);

impl<H, T, S> Handler<T, S> for Renew<H>
where
    H: Handler<T, S>,
{
    type Future = Renewing<H::Future>;

    fn call(self, req: Request, state: S) -> Self::Future {
        Renewing {
            inner: self.0.call(req, state),
            renewed: None,
        }
    }
}

pin_project! {
    /// A handler's future; its response gets the cookie its guard renewed.
    pub(crate) struct Renewing<F> {
        #[pin]
        inner: F,
        renewed: Option<HeaderValue>,
    }
}

/// Puts back what a poll found on entry, also when the handler panics.
struct Scope {
    outer: u8,
    /// A cookie an enclosing [`Renewing`]'s guard left before this one was polled.
    outer_cookie: Option<HeaderValue>,
}

impl Scope {
    #[inline]
    fn enter() -> Scope {
        let outer = STATE.replace(INSIDE);
        let outer_cookie = match outer {
            LEFT => take_cookie(),
            _ => None,
        };
        Scope {
            outer,
            outer_cookie,
        }
    }

    /// Leaves the scope; returns what a guard left during it.
    #[inline]
    fn leave(self) -> Option<HeaderValue> {
        match STATE.get() {
            LEFT => take_cookie(),
            _ => None,
        }
    }
}

fn take_cookie() -> Option<HeaderValue> {
    RENEWED.with_borrow_mut(Option::take)
}

impl Drop for Scope {
    fn drop(&mut self) {
        if let Some(cookie) = self.outer_cookie.take() {
            RENEWED.with_borrow_mut(|slot| *slot = Some(cookie));
        }
        STATE.set(self.outer);
    }
}

impl<F> Future for Renewing<F>
where
    F: Future<Output = Response>,
{
    type Output = Response;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let this = self.project();
        let scope = Scope::enter();
        let mut poll = this.inner.poll(cx);
        if let Some(cookie) = scope.leave() {
            *this.renewed = Some(cookie);
        }
        if let Poll::Ready(response) = &mut poll
            && let Some(cookie) = this.renewed.take()
            && !sets_the_same_cookie(response, &cookie)
        {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        poll
    }
}

/// Whether the handler's response already sets the cookie that `cookie` sets: a login's new
/// session or a logout's clearing is the handler's word, and a browser applies `Set-Cookie`
/// headers in order, so the guard's renewal (or clearing) must not come after it.
fn sets_the_same_cookie(response: &Response, cookie: &HeaderValue) -> bool {
    let bytes = cookie.as_bytes();
    let Some(name_end) = bytes.iter().position(|&b| b == b'=') else {
        return false;
    };
    let name = &bytes[..=name_end];
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|set| set.as_bytes().starts_with(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    fn cookie(value: &'static str) -> HeaderValue {
        HeaderValue::from_static(value)
    }

    /// A handler future that renews `value` (if any), yields once, then answers.
    fn handler(value: Option<&'static str>) -> impl Future<Output = Response> {
        let mut yielded = false;
        poll_fn(move |cx| {
            if !yielded {
                assert!(can_renew());
                if let Some(value) = value {
                    leave_renewed(cookie(value));
                }
                yielded = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(Response::new(axum::body::Body::empty()))
        })
    }

    fn set_cookies(response: &Response) -> Vec<&str> {
        response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    fn renewing<F>(inner: F) -> Renewing<F> {
        Renewing {
            inner,
            renewed: None,
        }
    }

    #[tokio::test]
    async fn the_response_carries_what_the_guard_left_across_a_pending_poll() {
        assert!(!can_renew());
        let response = renewing(handler(Some("s=new"))).await;
        assert_eq!(set_cookies(&response), ["s=new"]);
        assert!(!can_renew(), "the scope ends with the poll");
        let response = renewing(handler(None)).await;
        assert!(set_cookies(&response).is_empty());
    }

    #[tokio::test]
    async fn interleaved_requests_keep_their_own_cookies() {
        let (a, b) = tokio::join!(renewing(handler(Some("s=a"))), renewing(handler(None)));
        assert_eq!(set_cookies(&a), ["s=a"]);
        assert!(set_cookies(&b).is_empty());
    }

    #[tokio::test]
    async fn a_nested_handler_does_not_take_the_outer_cookie() {
        let outer = renewing(async {
            leave_renewed(cookie("s=outer"));
            let inner = renewing(handler(Some("s=inner"))).await;
            assert_eq!(set_cookies(&inner), ["s=inner"]);
            Response::new(axum::body::Body::empty())
        });
        assert_eq!(set_cookies(&outer.await), ["s=outer"]);
    }

    /// A handler that sets the session cookie itself (a login, a logout) has the last word: the
    /// renewal is dropped, not appended after it. Another cookie of the handler's is no reason.
    #[tokio::test]
    async fn the_handlers_own_cookie_wins() {
        let answers = |set: &'static str| {
            renewing(async move {
                leave_renewed(cookie("s=renewed"));
                let mut response = Response::new(axum::body::Body::empty());
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, cookie(set));
                response
            })
        };
        assert_eq!(
            set_cookies(&answers("s=; Max-Age=0").await),
            ["s=; Max-Age=0"]
        );
        assert_eq!(
            set_cookies(&answers("session=x").await),
            ["session=x", "s=renewed"]
        );
    }
}
