#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod body;
pub mod client;
mod error;
mod files;
#[doc(hidden)]
pub mod fuzzing;
mod handler;
pub mod middleware;
pub mod proto;
mod router;
pub mod server;
mod transport;
mod upgrade;
pub mod ws;

pub use http;

pub use crate::body::{Body, BodyReader};
pub use crate::client::{Client, ClientBuilder};
pub use crate::error::{Error, ErrorKind};
pub use crate::files::StaticFiles;
pub use crate::handler::{remote_addr, Handler};
pub use crate::router::{Params, Router};
pub use crate::server::{RunningServer, Server, ServerHandle};
pub use crate::transport::Transport;
pub use crate::upgrade::Upgraded;

/// A request as a handler receives it: the `http` crate's type with a
/// streamed body.
pub type Request = http::Request<BodyReader>;

/// A response as a handler returns it.
pub type Response = http::Response<Body>;
