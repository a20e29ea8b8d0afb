//! Re-issuing stateless session cookies: the [`SessionLayer`] runs each request with an empty
//! task-local slot, the guard leaves a renewed cookie in it, and the layer adds it to the
//! response. `Router::with_state` wraps the routes in it when the Gate has stateless sessions.
//!
//! The slot is a task-local value rather than a request extension: the guard runs inside the
//! layer's future on the same task, and a task-local costs no allocation, where an extension
//! allocates the request's extension map and the slot on every request, renewed or not.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{HeaderValue, Request, Response, header};
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};

tokio::task_local! {
    /// The cookie the guard renewed during this request, if any.
    static RENEWED: RefCell<Option<HeaderValue>>;
}

/// Whether this request runs inside a [`SessionLayer`], so a renewed cookie reaches the
/// response (a guarded handler on a plain `axum::Router` has none).
pub(crate) fn can_renew() -> bool {
    RENEWED.try_with(|_| ()).is_ok()
}

/// Leaves a renewed cookie for the response (dropped outside a [`SessionLayer`]).
pub(crate) fn leave_renewed(cookie: HeaderValue) {
    let _ = RENEWED.try_with(|slot| *slot.borrow_mut() = Some(cookie));
}

/// Re-issues stateless session cookies close to expiry.
#[derive(Clone, Debug, Default)]
pub(crate) struct SessionLayer;

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        SessionService { inner }
    }
}

/// The service of [`SessionLayer`].
#[derive(Clone, Debug)]
pub(crate) struct SessionService<S> {
    inner: S,
}

impl<S, B, R> Service<Request<B>> for SessionService<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Renewing<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        Renewing {
            inner: RENEWED.scope(RefCell::new(None), self.inner.call(req)),
        }
    }
}

pin_project! {
    /// The inner service's future, run with an empty slot; its response gets the renewed
    /// cookie the guard left there.
    pub(crate) struct Renewing<F> {
        #[pin]
        inner: TaskLocalFuture<RefCell<Option<HeaderValue>>, F>,
    }
}

impl<F, R, E> Future for Renewing<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = Result<Response<R>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut inner = self.project().inner;
        let mut response = ready!(inner.as_mut().poll(cx))?;
        if let Some(cookie) = inner.take_value().and_then(RefCell::into_inner) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        Poll::Ready(Ok(response))
    }
}
