//! The WebSocket load generator of `cargo xtask bench --only ws`: the same client for every
//! echo server (thicket's `ws_echo` example and `tungstenite_echo`).
//!
//! ```text
//! ws_load --addr 127.0.0.1:PORT --mode echo|stream|check [--connections C] [--size S]
//!         [--duration SECS] [--threads T] [--window W] [--text]
//! ```
//!
//! - `echo`: each of C connections sends a message of S bytes, waits for its echo, checks it
//!   byte for byte, and sends the next, for SECS seconds. Reports round trips per second and
//!   the p50 and p99 of the round-trip time.
//! - `stream`: each connection keeps W messages of S bytes in flight (default: as many as fit
//!   in 256 KiB, from 1 to 64): it sends while fewer than W echoes are outstanding (several
//!   messages per write when it may) and reads the echoes at the same time. Reports echoed
//!   messages per second: the rate at which a server takes, parses and sends back a stream of
//!   messages, not a latency.
//! - `check`: one connection echoes a text and a binary message; exits 0 if both come back
//!   intact (the harness checks a server this way before measuring it).
//!
//! Binary messages unless `--text`. Only echoes completed within the SECS seconds count; the
//! clock starts once every connection has finished its handshake. The result is one line of
//! `key=value` pairs on standard output; the exit status is 1 if a connection failed, stalled
//! or got a wrong echo.
//!
//! The client is tokio-tungstenite, one `current_thread` runtime per thread (T threads,
//! default 2, connections dealt out between them), as wrk runs its event loops: an
//! asynchronous client holds 1,000 connections on 2 threads, and being neither server it
//! favours neither. tungstenite masks every frame it sends, as a browser does. Connections
//! go to loopback addresses only.

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, Stream, StreamExt};
use tokio::net::TcpStream;
use tokio::runtime::Builder;
use tokio::sync::{Notify, Semaphore};
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

type Ws = WebSocketStream<TcpStream>;

const MAX_CONNECTIONS: usize = 10_000;
const MAX_SIZE: usize = 16 << 20;
const MAX_SECONDS: f64 = 600.0;
/// Bytes kept in flight per connection in `stream` mode unless `--window` says otherwise.
const STREAM_BYTES_IN_FLIGHT: usize = 256 * 1024;
const MAX_WINDOW: usize = 64;
/// Handshakes under way at once per thread (so a listen backlog does not overflow).
const CONNECTS_AT_ONCE: usize = 32;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long past the end a connection may take to notice it (an echo still on its way).
const GRACE: Duration = Duration::from_secs(10);
/// Round-trip samples kept in all (beyond, they are counted but not timed).
const MAX_SAMPLES: usize = 10_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Echo,
    Stream,
    Check,
}

#[derive(Debug, Clone, PartialEq)]
struct Opts {
    addr: SocketAddr,
    mode: Mode,
    connections: usize,
    size: usize,
    seconds: f64,
    threads: usize,
    window: usize,
    text: bool,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut addr = None;
    let mut mode = None;
    let (mut connections, mut size, mut seconds, mut threads) = (1, 32, 5.0, 2);
    let (mut window, mut text) = (None, false);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--text" {
            text = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("`{arg}` needs a value"))?;
        let count = |max: usize| match value.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!(
                "`{arg}` wants a number from 1 to {max}, got `{value}`"
            )),
        };
        match arg.as_str() {
            "--addr" => {
                let a: SocketAddr = value
                    .parse()
                    .map_err(|_| format!("`--addr` wants 127.0.0.1:PORT, got `{value}`"))?;
                if !a.ip().is_loopback() {
                    return Err(format!("`--addr` must be a loopback address, got `{a}`"));
                }
                addr = Some(a);
            }
            "--mode" => {
                mode = Some(match value.as_str() {
                    "echo" => Mode::Echo,
                    "stream" => Mode::Stream,
                    "check" => Mode::Check,
                    _ => return Err(format!("`--mode` is echo, stream or check, not `{value}`")),
                })
            }
            "--connections" => connections = count(MAX_CONNECTIONS)?,
            "--size" => {
                size = value
                    .parse()
                    .ok()
                    .filter(|s| *s <= MAX_SIZE)
                    .ok_or_else(|| {
                        format!("`--size` wants a number of bytes up to {MAX_SIZE}, got `{value}`")
                    })?
            }
            "--duration" => {
                seconds = value
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0 && *s <= MAX_SECONDS)
                    .ok_or_else(|| {
                        format!("`--duration` wants seconds (0 to {MAX_SECONDS}), got `{value}`")
                    })?
            }
            "--threads" => threads = count(64)?,
            "--window" => window = Some(count(1 << 16)?),
            _ => return Err(format!("unknown option `{arg}`")),
        }
    }
    let mode = mode.ok_or("`--mode` is required")?;
    let window = match mode {
        Mode::Stream => {
            window.unwrap_or_else(|| (STREAM_BYTES_IN_FLIGHT / size.max(1)).clamp(1, MAX_WINDOW))
        }
        _ => 1,
    };
    Ok(Opts {
        addr: addr.ok_or("`--addr` is required")?,
        mode,
        connections,
        size,
        seconds,
        threads: threads.min(connections),
        window,
        text,
    })
}

/// The message every connection sends: `size` bytes of printable ASCII (valid text too).
fn payload(size: usize, text: bool) -> Message {
    let bytes: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    if text {
        Message::text(String::from_utf8(bytes).expect("ASCII"))
    } else {
        Message::binary(bytes)
    }
}

/// The `p`-th percentile (0 to 100) of `v`, nearest rank; reorders `v`.
fn percentile(v: &mut [u64], p: f64) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    let i = rank.clamp(1, v.len()) - 1;
    Some(*v.select_nth_unstable(i).1)
}

/// What one connection did.
#[derive(Debug, Default)]
struct Tally {
    messages: u64,
    /// Round-trip times in nanoseconds (echo mode).
    rtt_ns: Vec<u64>,
    error: Option<String>,
}

async fn connect(addr: SocketAddr) -> Result<Ws, String> {
    let handshake = async {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let url = format!("ws://{addr}/");
        let (ws, _) = tokio_tungstenite::client_async(url, tcp)
            .await
            .map_err(|e| e.to_string())?;
        Ok(ws)
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, handshake).await {
        Ok(r) => r,
        Err(_) => Err(format!("no handshake within {CONNECT_TIMEOUT:?}")),
    }
}

/// The next data message, skipping pings and pongs.
async fn next_data<S>(ws: &mut S) -> Result<Message, String>
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    loop {
        match ws.next().await {
            Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => return Ok(m),
            Some(Ok(Message::Close(f))) => return Err(format!("closed by the server: {f:?}")),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("connection ended".into()),
        }
    }
}

async fn echo(mut ws: Ws, msg: Message, end: Instant, keep: usize) -> Tally {
    let mut t = Tally::default();
    let run = async {
        while Instant::now() < end {
            let sent = Instant::now();
            ws.send(msg.clone()).await.map_err(|e| e.to_string())?;
            let back = next_data(&mut ws).await?;
            let done = Instant::now();
            if back != msg {
                return Err(format!("a wrong echo: {} bytes back", back.len()));
            }
            if done <= end {
                t.messages += 1;
                if t.rtt_ns.len() < keep {
                    t.rtt_ns.push(done.duration_since(sent).as_nanos() as u64);
                }
            }
        }
        Ok::<(), String>(())
    };
    if let Err(e) = run.await {
        t.error = Some(e);
    }
    t
}

async fn stream(ws: Ws, msg: Message, end: Instant, window: usize) -> Tally {
    let (mut sink, mut source) = ws.split();
    let window = Semaphore::new(window);
    let (len, is_text) = (msg.len(), msg.is_text());
    // Both halves run in this one task (`join!`): the atomics are never contended (a `Cell`
    // would do, but `tokio::spawn` wants a `Send` future).
    let sent = AtomicU64::new(0);
    let sender_done = AtomicBool::new(false);
    let wake_receiver = Notify::new();
    let send = async {
        let r = async {
            while let Ok(first) = window.acquire().await {
                first.forget();
                if Instant::now() >= end {
                    break;
                }
                sink.feed(msg.clone()).await.map_err(|e| e.to_string())?;
                sent.fetch_add(1, Relaxed);
                while let Ok(more) = window.try_acquire() {
                    more.forget();
                    sink.feed(msg.clone()).await.map_err(|e| e.to_string())?;
                    sent.fetch_add(1, Relaxed);
                }
                sink.flush().await.map_err(|e| e.to_string())?;
            }
            Ok::<(), String>(())
        }
        .await;
        sender_done.store(true, Relaxed);
        wake_receiver.notify_one();
        r
    };
    // Reads every echo, also those of messages sent just before the end (so that the
    // server is never left blocked on a full socket while the sender flushes), and counts
    // those that arrived in time.
    let receive = async {
        let (mut received, mut counted) = (0u64, 0u64);
        let r = loop {
            if sender_done.load(Relaxed) && received >= sent.load(Relaxed) {
                break Ok(());
            }
            let back = tokio::select! {
                back = next_data(&mut source) => back,
                () = wake_receiver.notified() => continue,
            };
            match back {
                Ok(back) => {
                    received += 1;
                    if back.len() != len || back.is_text() != is_text {
                        break Err(format!("a wrong echo: {} bytes back", back.len()));
                    }
                    if Instant::now() <= end {
                        counted += 1;
                    }
                    window.add_permits(1);
                }
                Err(e) => break Err(e),
            }
        };
        // Wakes a sender waiting for room after a failure.
        window.close();
        (counted, r)
    };
    let (sent_result, (messages, received)) = tokio::join!(send, receive);
    Tally {
        messages,
        rtt_ns: Vec::new(),
        error: received.err().or(sent_result.err()),
    }
}

/// Checks one echo of a text and a binary message.
async fn check(addr: SocketAddr) -> Result<(), String> {
    let mut ws = connect(addr).await?;
    for msg in [
        Message::text("ws_load check"),
        Message::binary(Bytes::from_static(&[0, 1, 254, 255])),
    ] {
        ws.send(msg.clone()).await.map_err(|e| e.to_string())?;
        let back = tokio::time::timeout(CONNECT_TIMEOUT, next_data(&mut ws))
            .await
            .map_err(|_| "no echo within 10 s".to_string())??;
        if back != msg {
            return Err(format!("sent {msg:?}, got {back:?} back"));
        }
    }
    let _ = ws.close(None).await;
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("cannot build a tokio runtime")
}

/// The soft limit on open files of this process, from `/proc/self/limits`.
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Runs the load on `opts.threads` threads; returns every connection's tally and the
/// measured seconds.
fn measure(opts: &Opts) -> Result<Vec<Tally>, String> {
    let start_line = Arc::new(Barrier::new(opts.threads));
    let start: Arc<std::sync::OnceLock<Instant>> = Arc::default();
    let keep = MAX_SAMPLES / opts.connections;
    let threads: Vec<_> = (0..opts.threads)
        .map(|i| {
            let opts = opts.clone();
            let (start_line, start) = (start_line.clone(), start.clone());
            std::thread::spawn(move || -> Result<Vec<Tally>, String> {
                let rt = runtime();
                let mine = (i..opts.connections).step_by(opts.threads).count();
                let conns: Vec<Result<Ws, String>> = rt.block_on(
                    futures_util::stream::iter((0..mine).map(|_| connect(opts.addr)))
                        .buffer_unordered(CONNECTS_AT_ONCE)
                        .collect(),
                );
                // Every thread reaches the line, even after a failure, so none waits forever.
                start_line.wait();
                let conns: Vec<Ws> = conns.into_iter().collect::<Result<_, _>>()?;
                let end = *start.get_or_init(Instant::now) + Duration::from_secs_f64(opts.seconds);
                let msg = payload(opts.size, opts.text);
                rt.block_on(async {
                    let tasks: Vec<_> = conns
                        .into_iter()
                        .map(|ws| match opts.mode {
                            Mode::Echo => tokio::spawn(echo(ws, msg.clone(), end, keep)),
                            _ => tokio::spawn(stream(ws, msg.clone(), end, opts.window)),
                        })
                        .collect();
                    let mut tallies = Vec::new();
                    for task in tasks {
                        let tally = tokio::time::timeout_at((end + GRACE).into(), task).await;
                        tallies.push(match tally {
                            Ok(Ok(t)) => t,
                            Ok(Err(e)) => Tally {
                                error: Some(format!("the connection's task failed: {e}")),
                                ..Tally::default()
                            },
                            Err(_) => Tally {
                                error: Some(format!("stalled: still busy {GRACE:?} after the end")),
                                ..Tally::default()
                            },
                        });
                    }
                    Ok(tallies)
                })
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut first_error = None;
    for t in threads {
        match t.join() {
            Ok(Ok(tallies)) => all.extend(tallies),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(_) => {
                first_error.get_or_insert("a load thread panicked".to_string());
            }
        }
    }
    match first_error {
        Some(e) => Err(format!("connecting: {e}")),
        None => Ok(all),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "ws_load: {e}\nusage: ws_load --addr 127.0.0.1:PORT --mode echo|stream|check \
                 [--connections C] [--size BYTES] [--duration SECS] [--threads T] [--window W] \
                 [--text]"
            );
            return ExitCode::from(2);
        }
    };
    if opts.mode == Mode::Check {
        return match runtime().block_on(check(opts.addr)) {
            Ok(()) => {
                println!("ok");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("ws_load: check of {}: {e}", opts.addr);
                ExitCode::FAILURE
            }
        };
    }
    if let Some(limit) = open_file_limit() {
        if limit < opts.connections as u64 + 64 {
            eprintln!(
                "ws_load: {} connections need more open files than the limit of {limit}: \
                 raise it (`ulimit -n {}`)",
                opts.connections,
                opts.connections + 64
            );
            return ExitCode::FAILURE;
        }
    }
    let tallies = match measure(&opts) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("ws_load: {e}");
            return ExitCode::FAILURE;
        }
    };
    let messages: u64 = tallies.iter().map(|t| t.messages).sum();
    let mut rtt: Vec<u64> = tallies
        .iter()
        .flat_map(|t| t.rtt_ns.iter().copied())
        .collect();
    let errors: Vec<&str> = tallies.iter().filter_map(|t| t.error.as_deref()).collect();
    let us = |p: f64, v: &mut Vec<u64>| {
        percentile(v, p).map_or("n/a".to_string(), |ns| format!("{:.1}", ns as f64 / 1e3))
    };
    let mode = if opts.mode == Mode::Echo {
        "echo"
    } else {
        "stream"
    };
    println!(
        "mode={mode} connections={} size={} window={} threads={} seconds={} messages={messages} \
         rate={:.1} mib_per_sec={:.2} p50_us={} p99_us={} errors={}",
        opts.connections,
        opts.size,
        opts.window,
        opts.threads,
        opts.seconds,
        messages as f64 / opts.seconds,
        (messages as f64 * opts.size as f64) / opts.seconds / (1024.0 * 1024.0),
        us(50.0, &mut rtt),
        us(99.0, &mut rtt),
        errors.len(),
    );
    if let Some(first) = errors.first() {
        eprintln!(
            "ws_load: {} of {} connections failed; the first: {first}",
            errors.len(),
            opts.connections
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Opts, String> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options_and_their_defaults() {
        let o = p(&[
            "--addr",
            "127.0.0.1:9",
            "--mode",
            "stream",
            "--size",
            "65536",
        ])
        .unwrap();
        assert_eq!(
            (o.mode, o.connections, o.size, o.threads),
            (Mode::Stream, 1, 65536, 1)
        );
        assert_eq!(o.window, 4, "256 KiB in flight");
        let small = p(&[
            "--addr",
            "127.0.0.1:9",
            "--mode",
            "stream",
            "--connections",
            "1000",
        ]);
        assert_eq!(small.unwrap().window, MAX_WINDOW);
        let echo = p(&[
            "--mode", "echo", "--addr", "[::1]:9", "--window", "8", "--text",
        ])
        .unwrap();
        assert_eq!(
            (echo.window, echo.text),
            (1, true),
            "echo has one in flight"
        );
    }

    #[test]
    fn bad_options_are_refused() {
        for bad in [
            &["--mode", "echo"][..],
            &["--addr", "127.0.0.1:9"],
            &["--addr", "10.0.0.1:9", "--mode", "echo"],
            &["--addr", "127.0.0.1:9", "--mode", "flood"],
            &[
                "--addr",
                "127.0.0.1:9",
                "--mode",
                "echo",
                "--connections",
                "0",
            ],
            &[
                "--addr",
                "127.0.0.1:9",
                "--mode",
                "echo",
                "--connections",
                "10001",
            ],
            &[
                "--addr",
                "127.0.0.1:9",
                "--mode",
                "echo",
                "--duration",
                "-1",
            ],
            &["--addr", "127.0.0.1:9", "--mode", "echo", "--size"],
            &["--addr", "127.0.0.1:9", "--mode", "echo", "--rate", "5"],
        ] {
            assert!(p(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut v: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(percentile(&mut v, 50.0), Some(50));
        assert_eq!(percentile(&mut v, 99.0), Some(99));
        assert_eq!(percentile(&mut v, 100.0), Some(100));
        assert_eq!(percentile(&mut [7], 99.0), Some(7));
        assert_eq!(percentile(&mut [], 50.0), None);
    }

    #[test]
    fn payload_is_text_or_binary_of_the_size() {
        assert_eq!(payload(65536, false).len(), 65536);
        assert!(payload(32, true).is_text());
        assert!(payload(0, false).is_binary());
    }
}
