//! Port-forwarder peer: tokio's `copy_bidirectional`, for `cargo xtask bench`.
//!
//! `tokio_forwarder [--buffer BYTES] [--threads N] LISTEN_ADDR TARGET_ADDR`, after the command
//! line of thicket's `green/examples/forwarder.rs`: accepts connections on `LISTEN_ADDR`,
//! connects each to `TARGET_ADDR` and copies both ways until both sides have finished, passing
//! a half-close on (`copy_bidirectional` shuts the other side's writing half down at end of
//! file). Runs until killed.
//!
//! - Without options it is the forwarder everyone writes, issue 4's reference: plain
//!   `copy_bidirectional` (tokio's default 8 KiB buffer each way) on one `current_thread`
//!   runtime.
//! - `--buffer BYTES` copies through `BYTES` each way (`copy_bidirectional_with_sizes`):
//!   `--buffer 65536` matches thicket's `net::copy`.
//! - `--threads N` runs a multi-thread runtime with `N` workers instead.

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;

use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Builder;

const USAGE: &str =
    "usage: tokio_forwarder [--buffer BYTES] [--threads N] LISTEN_ADDR TARGET_ADDR \
                     (addresses as IP:PORT)";

/// The parsed command line.
#[derive(Debug, Clone, Copy)]
struct Args {
    listen: SocketAddr,
    target: SocketAddr,
    /// Bytes of the buffer each direction copies through; `None`: tokio's default.
    buffer: Option<usize>,
    /// Workers of a multi-thread runtime; `None`: one `current_thread` runtime.
    threads: Option<usize>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut buffer = None;
    let mut threads = None;
    let mut addrs = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<Option<usize>, String> {
            match it.next().map(|v| v.parse::<usize>()) {
                Some(Ok(n)) if n > 0 => Ok(Some(n)),
                _ => Err(format!("{name} takes a positive integer")),
            }
        };
        match arg.as_str() {
            "--buffer" => buffer = number("--buffer")?,
            "--threads" => threads = number("--threads")?,
            other => addrs.push(
                other
                    .parse::<SocketAddr>()
                    .map_err(|_| format!("`{other}` is not an option nor an IP:PORT address"))?,
            ),
        }
    }
    match addrs.as_slice() {
        &[listen, target] => Ok(Args {
            listen,
            target,
            buffer,
            threads,
        }),
        _ => Err(format!("expected two addresses, got {}", addrs.len())),
    }
}

async fn forward(mut client: TcpStream, target: SocketAddr, buffer: Option<usize>) {
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        return;
    };
    let _ = match buffer {
        None => tokio::io::copy_bidirectional(&mut client, &mut upstream).await,
        Some(n) => tokio::io::copy_bidirectional_with_sizes(&mut client, &mut upstream, n, n).await,
    };
}

async fn serve(listener: TcpListener, target: SocketAddr, buffer: Option<usize>) {
    loop {
        match listener.accept().await {
            Ok((client, _)) => {
                tokio::spawn(forward(client, target, buffer));
            }
            Err(e) => eprintln!("tokio_forwarder: accept: {e}"),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tokio_forwarder: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut builder = match args.threads {
        None => Builder::new_current_thread(),
        Some(n) => {
            let mut b = Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
    };
    let rt = builder
        .enable_io()
        .build()
        .expect("cannot build a tokio runtime");
    rt.block_on(async move {
        let listener = match TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("tokio_forwarder: cannot listen on {}: {e}", args.listen);
                return ExitCode::FAILURE;
            }
        };
        match listener.local_addr() {
            Ok(addr) => println!(
                "forwarding {addr} -> {} ({} buffer each way, {})",
                args.target,
                args.buffer
                    .map_or("tokio's default".to_string(), |n| format!("{n}-byte")),
                args.threads
                    .map_or("current_thread".to_string(), |n| format!(
                        "{n} worker threads"
                    )),
            ),
            Err(e) => eprintln!("tokio_forwarder: {e}"),
        }
        serve(listener, args.target, args.buffer).await;
        ExitCode::SUCCESS
    })
}
