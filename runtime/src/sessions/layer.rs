//! Re-issuing stateless session cookies: the [`SessionLayer`] puts a slot in each request,
//! the guard leaves a renewed cookie in it, and the layer adds it to the response.
//! `Router::with_state` wraps the routes in it when the Gate has stateless sessions.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use http::{HeaderValue, Request, Response, header};
use tower::{Layer, Service};

use crate::store::BoxFuture;

/// The slot a [`SessionLayer`] puts in each request, where the guard leaves a renewed
/// stateless cookie.
#[derive(Clone, Default)]
pub(crate) struct RenewSlot(pub(crate) Arc<Mutex<Option<HeaderValue>>>);

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
    S::Future: Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let slot = RenewSlot::default();
        req.extensions_mut().insert(slot.clone());
        let future = self.inner.call(req);
        Box::pin(async move {
            let mut response = future.await?;
            let renewed = slot.0.lock().ok().and_then(|mut s| s.take());
            if let Some(cookie) = renewed {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            Ok(response)
        })
    }
}
