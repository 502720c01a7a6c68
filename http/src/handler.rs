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

/// The address of the client that sent `req`, when the server received it;
/// `None` for a request built in code, or one whose body a middleware
/// replaced. The server keeps it with the request body rather than in the
/// request's extensions: that map costs three allocations per request.
///
/// # Examples
///
/// ```
/// use thicket_http::{remote_addr, Body, Request, Response, Server};
///
/// let server = Server::bind("127.0.0.1:0")?.start(|req: Request| {
///     let who = remote_addr(&req).map(|a| a.ip().to_string()).unwrap_or_default();
///     Response::new(Body::from(who))
/// })?;
/// let url = format!("http://{}/", server.local_addr());
/// let text = thicket_http::Client::new().get(&url).send()?.text()?;
/// assert_eq!(text, "127.0.0.1");
/// // A request made in code has no client address.
/// assert_eq!(remote_addr(&Request::new(Default::default())), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn remote_addr(req: &crate::Request) -> Option<SocketAddr> {
    req.body().remote_addr()
}
