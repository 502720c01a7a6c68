//! What a server calls: a [`Handler`] turns a [`Request`] into a
//! [`Response`].

use std::net::SocketAddr;
use std::sync::Arc;

use crate::{Request, Response};

/// An application: called on the connection's green thread for each
/// request, it may block (read the body, call a database, sleep) without
/// holding up other connections.
///
/// Any `Fn(Request) -> Response + Send + Sync + 'static` is a handler; so
/// is a `Router`. Middleware is a handler that wraps
/// another.
///
/// # Examples
///
/// ```
/// use thicket_http::{Body, BodyReader, Handler, Request, Response};
///
/// let hello = |req: Request| Response::new(Body::from(format!("hello {}", req.uri().path())));
/// let resp = hello.handle(Request::new(BodyReader::empty()));
/// assert_eq!(resp.body().as_bytes(), Some(&b"hello /"[..]));
/// ```
pub trait Handler: Send + Sync + 'static {
    /// Answers one request.
    fn handle(&self, req: Request) -> Response;
}

impl<F> Handler for F
where
    F: Fn(Request) -> Response + Send + Sync + 'static,
{
    fn handle(&self, req: Request) -> Response {
        self(req)
    }
}

impl<H: Handler + ?Sized> Handler for Arc<H> {
    fn handle(&self, req: Request) -> Response {
        (**self).handle(req)
    }
}

impl Handler for Box<dyn Handler> {
    fn handle(&self, req: Request) -> Response {
        (**self).handle(req)
    }
}

/// The client's address, as a request extension the server sets
/// (`req.extensions().get::<RemoteAddr>()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RemoteAddr(pub SocketAddr);
