//! Port-forwarder peer: tokio's `copy_bidirectional`, for `cargo xtask bench`.
//!
//! `tokio_forwarder LISTEN_ADDR TARGET_ADDR`, the command line of thicket's
//! `green/examples/forwarder.rs`: accepts connections on `LISTEN_ADDR`, connects each to
//! `TARGET_ADDR` and copies both ways until both sides have finished, passing a half-close
//! on (`copy_bidirectional` shuts the other side's writing half down at end of file). One
//! `current_thread` runtime, as thicket's example runs one hub, and a 64 KiB buffer each way
//! as thicket's `net::copy` has (tokio's default is 8 KiB). Runs until killed.

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;

use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Builder;

/// The buffer each direction copies through.
const BUF: usize = 64 * 1024;

async fn forward(mut client: TcpStream, target: SocketAddr) {
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        return;
    };
    let _ = tokio::io::copy_bidirectional_with_sizes(&mut client, &mut upstream, BUF, BUF).await;
}

async fn serve(listener: TcpListener, target: SocketAddr) {
    loop {
        match listener.accept().await {
            Ok((client, _)) => {
                tokio::spawn(forward(client, target));
            }
            Err(e) => eprintln!("tokio_forwarder: accept: {e}"),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed: Option<(SocketAddr, SocketAddr)> = match args.as_slice() {
        [listen, target] => listen.parse().ok().zip(target.parse().ok()),
        _ => None,
    };
    let Some((listen, target)) = parsed else {
        eprintln!("usage: tokio_forwarder LISTEN_ADDR TARGET_ADDR (both IP:PORT)");
        return ExitCode::from(2);
    };
    let rt = Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("cannot build a tokio runtime");
    rt.block_on(async move {
        let listener = match TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("tokio_forwarder: cannot listen on {listen}: {e}");
                return ExitCode::FAILURE;
            }
        };
        match listener.local_addr() {
            Ok(addr) => println!("forwarding {addr} -> {target}"),
            Err(e) => eprintln!("tokio_forwarder: {e}"),
        }
        serve(listener, target).await;
        ExitCode::SUCCESS
    })
}
