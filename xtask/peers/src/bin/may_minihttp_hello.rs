//! HTTP hello-world peer: may_minihttp on may's coroutines, for `cargo xtask bench`.
//!
//! `may_minihttp_hello --addr 127.0.0.1:PORT [--threads N]`: N may workers, not pinned to
//! cores (pinning loses 23-30 % when anything else shares the cores, as the load generator
//! does here; see the perf anchors). Runs until killed.

#![forbid(unsafe_code)]

use std::io;

use may_minihttp::{HttpServer, HttpService, Request, Response};
use thicket_peers::hello::Args;

#[derive(Clone)]
struct Hello;

impl HttpService for Hello {
    fn call(&mut self, _req: Request<'_, '_, '_>, res: &mut Response<'_>) -> io::Result<()> {
        res.header("Content-Type: text/plain");
        // may_minihttp's `body` takes a `&'static str`.
        res.body(thicket_peers::hello::BODY);
        Ok(())
    }
}

fn main() {
    let args = Args::from_env("may_minihttp_hello", &[]);
    may::config()
        .set_workers(args.threads)
        .set_worker_pin(false);
    let server = HttpServer(Hello)
        .start(args.addr)
        .unwrap_or_else(|e| panic!("cannot listen on {}: {e}", args.addr));
    // The accept coroutine runs forever; a panic in it ends the process.
    server.join().expect("may_minihttp's accept loop panicked");
}
