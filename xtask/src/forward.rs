//! The forwarder part of `cargo xtask bench` (`--only forward`): bytes pushed through a TCP
//! port forwarder on 127.0.0.1 and straight to the same sink, in MiB/s.
//!
//! The forwarders take `LISTEN_ADDR TARGET_ADDR` and run until killed: thicket's
//! `green/examples/forwarder.rs` (one hub), `tokio_forwarder` of xtask/peers (one
//! `current_thread` runtime, `copy_bidirectional`) and eventlet's classic forwarder written
//! for eventlet and for gevent (`xtask/peers/python/*_forwarder.py`, one process each, run by
//! the venv the HTTP part uses). All copy through 64 KiB buffers but one: tokio runs twice,
//! with 64 KiB buffers (`tokio`, like for like) and as issue 4's reference forwarder
//! (`tokio_default`: plain `copy_bidirectional`, tokio's default 8 KiB buffers), and the
//! table gives every forwarder's ratio to both.
//!
//! Per round, in turn (the order rotates from round to round): a sink listens on a free port;
//! each forwarder starts afresh in front of it, is probed until a connection through it is
//! answered, carries a warm-up transfer, then the measured one; `direct` is the same
//! transfer with no forwarder. A transfer is one connection: the sender writes the bytes in
//! 64 KiB writes and half-closes; the sink reads to end of file and answers with the count
//! (8 bytes, little-endian) and closes; the time runs from the connect to the sender's
//! reading end of file after the count. So every byte went through and a half-close
//! travelled both ways. Sender and sink are threads of this process; the forwarder is the
//! third busy thread on the shared cores.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::metadata::Metadata;
use crate::report::{self, Context};
use crate::servers;
use crate::servers::Running;
use crate::stats;
use crate::steps::{self, Error, Result, Workspace};

/// The markers around the generated forwarder table in the guide's page.
pub const START_MARKER: &str = "<!-- bench:forward:start -->";
pub const END_MARKER: &str = "<!-- bench:forward:end -->";

/// Bytes per write and per read.
const CHUNK: usize = 64 * 1024;
/// How long a forwarder may take to carry its first connection.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one read or write of a transfer may block: a stuck forwarder fails, not hangs.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
const MIB: f64 = 1_048_576.0;

/// How much and how often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub rounds: usize,
    /// Bytes per measured transfer.
    pub bytes: u64,
    /// Bytes of the unmeasured transfer after a forwarder starts.
    pub warmup_bytes: u64,
}

impl Plan {
    pub const FULL: Plan = Plan {
        rounds: 5,
        bytes: 1 << 30,
        warmup_bytes: 64 << 20,
    };
    pub const QUICK: Plan = Plan {
        rounds: 1,
        bytes: 64 << 20,
        warmup_bytes: 8 << 20,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No forwarder: straight to the sink.
    Direct,
    /// `cargo build --release -p thicket-green --example forwarder`.
    Thicket,
    /// `cargo build --release -p thicket-peers --bin tokio_forwarder --features actix`, run
    /// with `args` before the addresses.
    Tokio { args: &'static [&'static str] },
    /// A script of `xtask/peers/python/`, run by the bench venv's Python.
    Python { script: &'static str },
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forwarder {
    /// The key in JSON.
    pub name: &'static str,
    /// What the table calls it.
    pub title: &'static str,
    kind: Kind,
}

/// Every row, in table order.
pub const ALL: &[Forwarder] = &[
    Forwarder {
        name: "direct",
        title: "direct connection, no forwarder",
        kind: Kind::Direct,
    },
    Forwarder {
        name: "thicket",
        title: "thicket (`green/examples/forwarder.rs`, one hub, `net::copy`)",
        kind: Kind::Thicket,
    },
    Forwarder {
        name: "tokio",
        title: "tokio (`copy_bidirectional` through 64 KiB buffers, one `current_thread` runtime)",
        kind: Kind::Tokio {
            args: &["--buffer", "65536"],
        },
    },
    Forwarder {
        name: "tokio_default",
        title: "tokio, issue 4's reference (`copy_bidirectional` with its default 8 KiB buffers, \
                one `current_thread` runtime)",
        kind: Kind::Tokio { args: &[] },
    },
    Forwarder {
        name: "gevent",
        title: "gevent (`StreamServer`, two greenlets per connection)",
        kind: Kind::Python {
            script: "gevent_forwarder.py",
        },
    },
    Forwarder {
        name: "eventlet",
        title: "eventlet (its classic forwarder, two green threads per connection)",
        kind: Kind::Python {
            script: "eventlet_forwarder.py",
        },
    },
];

/// What became of a forwarder when it was built.
#[derive(Debug, Clone)]
enum Ready {
    /// Run `program` with `args` followed by the listen and the target address.
    Run {
        program: PathBuf,
        args: Vec<String>,
    },
    /// `direct`: nothing to run.
    Nothing,
    Skipped(String),
    Failed(String),
}

/// One forwarder's results.
#[derive(Debug, Clone)]
pub struct Row {
    pub forwarder: Forwarder,
    /// As a person would type it from the workspace root.
    pub command: Option<String>,
    /// `None` if measured; why not otherwise.
    pub problem: Option<Problem>,
    /// MiB/s of each round's measured transfer.
    pub runs: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Skipped(String),
    Failed(String),
}

impl Row {
    /// `name: why` if it failed.
    pub fn failure(&self) -> Option<String> {
        match &self.problem {
            Some(Problem::Failed(why)) => Some(format!("forward: {}: {why}", self.forwarder.name)),
            _ => None,
        }
    }
}

/// Builds every forwarder and says for each whether it can run.
fn prepare(ws: &Workspace, meta: &Metadata) -> Vec<(Forwarder, Ready)> {
    let release = meta.target_directory.join("release");
    let thicket = steps::run(ws.cargo().args([
        "build",
        "--release",
        "-p",
        "thicket-green",
        "--example",
        "forwarder",
    ]));
    // With the HTTP peers' features, so that after the HTTP part this only links.
    let tokio = steps::run(ws.cargo().args([
        "build",
        "--release",
        "-p",
        "thicket-peers",
        "--bin",
        "tokio_forwarder",
        "--features",
        servers::PEERS_FEATURES,
    ]));
    let python = servers::python_venv(&meta.target_directory);
    let built = |r: &Result<()>, program: PathBuf, args: &[&str]| match r {
        Ok(()) => Ready::Run {
            program,
            args: args.iter().map(|a| a.to_string()).collect(),
        },
        Err(e) => Ready::Failed(format!("build failed: {e}")),
    };
    ALL.iter()
        .map(|&f| {
            let ready = match f.kind {
                Kind::Direct => Ready::Nothing,
                Kind::Thicket => built(&thicket, release.join("examples/forwarder"), &[]),
                Kind::Tokio { args } => built(&tokio, release.join("tokio_forwarder"), args),
                Kind::Python { script } => match &python {
                    Ok(python) => Ready::Run {
                        program: python.clone(),
                        args: vec![ws
                            .root
                            .join("xtask/peers/python")
                            .join(script)
                            .display()
                            .to_string()],
                    },
                    Err(e) if steps::in_ci() => Ready::Failed(e.to_string()),
                    Err(e) => Ready::Skipped(e.to_string()),
                },
            };
            (f, ready)
        })
        .collect()
}

/// The Python of the venv, if a Python forwarder is ready (for the tool versions).
fn venv_python(prepared: &[(Forwarder, Ready)]) -> Option<PathBuf> {
    prepared.iter().find_map(|(f, r)| match (f.kind, r) {
        (Kind::Python { .. }, Ready::Run { program, .. }) => Some(program.clone()),
        _ => None,
    })
}

/// `program args LISTEN TARGET` as typed from the workspace root.
fn shown(root: &Path, program: &Path, args: &[String]) -> String {
    let root_slash = format!("{}/", root.display());
    let mut words = vec![program
        .strip_prefix(root)
        .unwrap_or(program)
        .display()
        .to_string()];
    words.extend(
        args.iter()
            .map(|a| a.strip_prefix(&root_slash).unwrap_or(a).to_string()),
    );
    words.push("127.0.0.1:PORT".into());
    words.push("127.0.0.1:SINK_PORT".into());
    words.join(" ")
}

/// A sink on 127.0.0.1: every connection is read to end of file on a thread of its own and
/// answered with the byte count. Stops accepting when dropped.
struct Sink {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Sink {
    fn start() -> io::Result<Sink> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    thread::spawn(move || {
                        let _ = drain_and_count(conn);
                    });
                }
            }
        });
        Ok(Sink {
            addr,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn timeouts(s: &TcpStream) -> io::Result<()> {
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))
}

/// The sink's side of a transfer: read to end of file, answer the count, close.
fn drain_and_count(mut s: TcpStream) -> io::Result<()> {
    timeouts(&s)?;
    let mut buf = vec![0u8; CHUNK];
    let mut n = 0u64;
    loop {
        match s.read(&mut buf)? {
            0 => break,
            k => n += k as u64,
        }
    }
    s.write_all(&n.to_le_bytes())?;
    s.shutdown(Shutdown::Write)
}

/// The sender's side: `bytes` to `addr` in [`CHUNK`] writes, a half-close, then the sink's
/// count and end of file. Returns the time from the connect to that end of file.
fn transfer(addr: SocketAddr, bytes: u64) -> io::Result<Duration> {
    let start = Instant::now();
    let mut s = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    timeouts(&s)?;
    let buf = vec![0x5a_u8; CHUNK];
    let mut left = bytes;
    while left > 0 {
        let k = left.min(CHUNK as u64) as usize;
        s.write_all(&buf[..k])?;
        left -= k as u64;
    }
    s.shutdown(Shutdown::Write)?;
    let mut reply = Vec::with_capacity(8);
    (&mut s).take(9).read_to_end(&mut reply)?;
    let elapsed = start.elapsed();
    check_reply(&reply, bytes)?;
    Ok(elapsed)
}

/// The sink's answer must be exactly the 8-byte count of what was sent.
fn check_reply(reply: &[u8], sent: u64) -> io::Result<()> {
    let bad = |msg: String| io::Error::new(io::ErrorKind::InvalidData, msg);
    let count: [u8; 8] = reply.try_into().map_err(|_| {
        bad(format!(
            "expected the sink's 8-byte count then end of file, got {} byte(s)",
            reply.len()
        ))
    })?;
    match u64::from_le_bytes(count) {
        n if n == sent => Ok(()),
        n => Err(bad(format!("sent {sent} bytes, the sink read {n}"))),
    }
}

/// MiB per second for `bytes` in `d`.
pub fn mib_per_sec(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / MIB / d.as_secs_f64()
}

/// Starts a forwarder on a free port in front of `target` and waits until an empty transfer
/// through it is answered. A port taken between choosing and binding it makes the forwarder
/// exit: then another is tried.
fn start(
    name: &str,
    program: &Path,
    args: &[String],
    target: SocketAddr,
    logs: &Path,
) -> Result<Running> {
    fs::create_dir_all(logs)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", logs.display())))?;
    let log = logs.join(format!("{name}.log"));
    let mut last = None;
    for _attempt in 0..3 {
        let addr = servers::free_port()?;
        let (out, err) = servers::log_files(&log)?;
        let dir = work_dir_for(program, args);
        let mut cmd = Command::new(program);
        cmd.args(args)
            .arg(addr.to_string())
            .arg(target.to_string())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .env("PYTHONWARNINGS", "ignore")
            .env("PYTHONDONTWRITEBYTECODE", "1");
        let shown = steps::show(&cmd);
        let child = cmd
            .spawn()
            .map_err(|e| Error::new(format!("could not start `{shown}`: {e}")))?;
        let mut running = Running::new(addr, log.clone(), child);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Err(e) = running.check_alive() {
                last = Some(Error::new(format!("`{shown}`: {e}")));
                break;
            }
            if transfer(addr, 0).is_ok() {
                return Ok(running);
            }
            if Instant::now() >= deadline {
                return Err(Error::new(format!(
                    "`{shown}` carried no connection within {}s; its output:\n{}",
                    READY_TIMEOUT.as_secs(),
                    servers::log_tail(&log)
                )));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
    Err(last.unwrap_or_else(|| Error::new("the forwarder did not start")))
}

/// Where a forwarder runs: the Python peers import their shared argument module from the
/// script's folder (the first argument); the others run where their program lies.
fn work_dir_for<'a>(program: &'a Path, args: &'a [String]) -> &'a Path {
    args.first()
        .map(Path::new)
        .and_then(Path::parent)
        .filter(|dir| !dir.as_os_str().is_empty())
        .or(program.parent())
        .unwrap_or(Path::new("."))
}

/// Where the forwarder part keeps its logs.
fn work_dir(target: &Path) -> PathBuf {
    target.join("bench-forward")
}

/// The order of the forwarders in round `round` (from 0): rotated by one each round, so that
/// none always follows the same one.
fn round_order(n: usize, round: usize) -> Vec<usize> {
    (0..n).map(|i| (i + round) % n.max(1)).collect()
}

/// One forwarder's round: start it (unless direct), warm up, measure; MiB/s.
fn one_round(ready: &Ready, name: &str, plan: Plan, logs: &Path) -> Result<f64> {
    let sink = Sink::start().map_err(|e| Error::new(format!("cannot start the sink: {e}")))?;
    let (addr, mut running) = match ready {
        Ready::Run { program, args } => {
            let r = start(name, program, args, sink.addr, logs)?;
            (r.addr, Some(r))
        }
        _ => (sink.addr, None),
    };
    let failed = |what: &str, e: io::Error, running: &mut Option<Running>| {
        let mut msg = format!("{what}: {e}");
        if let Some(r) = running {
            if let Err(dead) = r.check_alive() {
                let _ = write!(msg, "; {dead}");
            }
        }
        Error::new(msg)
    };
    transfer(addr, plan.warmup_bytes).map_err(|e| failed("warm-up", e, &mut running))?;
    let d = transfer(addr, plan.bytes).map_err(|e| failed("transfer", e, &mut running))?;
    Ok(mib_per_sec(plan.bytes, d))
}

/// Runs every forwarder, `plan.rounds` times in alternation.
pub fn run(ws: &Workspace, meta: &Metadata, plan: Plan) -> Result<(Vec<Row>, Option<PathBuf>)> {
    let prepared = prepare(ws, meta);
    let python = venv_python(&prepared);
    let logs = work_dir(&meta.target_directory).join("logs");
    let mut rows: Vec<Row> = prepared
        .iter()
        .map(|(f, ready)| {
            let (command, problem) = match ready {
                Ready::Run { program, args } => (Some(shown(&ws.root, program, args)), None),
                Ready::Nothing => (None, None),
                Ready::Skipped(why) => (None, Some(Problem::Skipped(why.clone()))),
                Ready::Failed(why) => (None, Some(Problem::Failed(why.clone()))),
            };
            if let Some(Problem::Skipped(why) | Problem::Failed(why)) = &problem {
                eprintln!("{}: not measured: {why}", f.name);
            }
            Row {
                forwarder: *f,
                command,
                problem,
                runs: Vec::new(),
            }
        })
        .collect();
    for round in 0..plan.rounds {
        for i in round_order(rows.len(), round) {
            let row = &mut rows[i];
            if row.problem.is_some() {
                continue;
            }
            let name = row.forwarder.name;
            let tag = format!("{name} round {}/{}", round + 1, plan.rounds);
            match one_round(&prepared[i].1, name, plan, &logs) {
                Ok(mib_s) => {
                    eprintln!("{tag}: {} MiB/s", crate::load::thousands(mib_s));
                    row.runs.push(mib_s);
                }
                Err(e) => {
                    eprintln!("{tag}: FAILED: {e}");
                    row.problem = Some(Problem::Failed(format!("round {}: {e}", round + 1)));
                }
            }
        }
    }
    Ok((rows, python))
}

/// The `forward` section of benchmarks.json.
pub fn json(rows: &[Row], plan: Plan, ctx: &Context, command: &str) -> Value {
    let median = |name: &str| {
        rows.iter()
            .find(|r| r.forwarder.name == name && r.problem.is_none())
            .and_then(|r| stats::median(&r.runs))
    };
    let (direct, tokio, tokio_default) =
        (median("direct"), median("tokio"), median("tokio_default"));
    let mut results = Map::new();
    let mut forwarders = Vec::new();
    for r in rows {
        let (status, note) = match &r.problem {
            None => ("measured", None),
            Some(Problem::Skipped(why)) => ("skipped", Some(why.clone())),
            Some(Problem::Failed(why)) => ("failed", Some(why.clone())),
        };
        forwarders.push(json!({
            "name": r.forwarder.name,
            "title": r.forwarder.title,
            "command": r.command,
            "status": status,
            "note": note,
        }));
        if r.problem.is_some() || r.runs.is_empty() {
            continue;
        }
        let m = stats::median(&r.runs);
        let ratio = |base: Option<f64>| m.zip(base).map(|(m, b)| m / b);
        results.insert(
            r.forwarder.name.into(),
            json!({
                "mib_per_sec": { "median": m, "runs": r.runs },
                "of_direct": ratio(direct),
                "of_tokio": ratio(tokio),
                "of_tokio_default": ratio(tokio_default),
            }),
        );
    }
    let mut section = Map::new();
    ctx.stamp(&mut section);
    section.insert(
        "method".into(),
        json!({
            "rounds": plan.rounds,
            "bytes": plan.bytes,
            "warmup_bytes": plan.warmup_bytes,
            "chunk_bytes": CHUNK,
            "order": "forwarders alternated within each round, the order rotated every round; \
                      a fresh forwarder process per round",
        }),
    );
    section.insert("command".into(), command.into());
    section.insert("forwarders".into(), forwarders.into());
    section.insert("results".into(), Value::Object(results));
    section.insert(
        "ratios_note".into(),
        "of_direct: MiB/s over the direct connection's; of_tokio: over the tokio forwarder's \
         with 64 KiB buffers; of_tokio_default: over the tokio forwarder's with its default \
         8 KiB buffers, issue 4's reference (above 1: faster than that tokio)"
            .into(),
    );
    Value::Object(section)
}

/// `1 GiB`, `64 MiB`.
fn size(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes % (1 << 30) == 0 {
        format!("{} GiB", bytes >> 30)
    } else {
        format!("{} MiB", bytes >> 20)
    }
}

/// The Markdown between the markers; `None` when the JSON has no forward section.
pub fn render(doc: &Value) -> Option<String> {
    let section = doc.get("forward").filter(|s| s.is_object())?;
    let mut out = String::from(
        "<!-- Generated by `cargo xtask bench` from benchmarks.json: edit xtask/src/forward.rs, \
         not this table. -->\n\n",
    );
    let method = &section["method"];
    let rounds = method["rounds"].as_u64().unwrap_or(0);
    let bytes = method["bytes"].as_u64().unwrap_or(0);
    let _ = writeln!(
        out,
        "| {} through | MiB/s, median of {rounds} | slowest - fastest round | of direct | \
         of tokio 64 KiB | of tokio 8 KiB |",
        size(bytes)
    );
    out.push_str("|---|---:|---:|---:|---:|---:|\n");
    let mut notes = Vec::new();
    for f in section["forwarders"].as_array().into_iter().flatten() {
        let name = f["name"].as_str().unwrap_or("?");
        let title = f["title"].as_str().unwrap_or(name);
        let r = &section["results"][name];
        let Some(median) = r["mib_per_sec"]["median"].as_f64() else {
            let why = f["note"].as_str().unwrap_or("not measured");
            notes.push(format!(
                "{name} {}: {}",
                f["status"].as_str().unwrap_or("not measured"),
                why.lines().next().unwrap_or(why)
            ));
            continue;
        };
        let runs: Vec<f64> = r["mib_per_sec"]["runs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_f64)
            .collect();
        let lo = runs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = runs.iter().copied().fold(0.0, f64::max);
        let ratio = |key: &str| r[key].as_f64().map_or(String::new(), |x| format!("{x:.2}"));
        let _ = writeln!(
            out,
            "| {title} | {} | {} - {} | {} | {} | {} |",
            crate::load::thousands(median),
            crate::load::thousands(lo),
            crate::load::thousands(hi),
            ratio("of_direct"),
            ratio("of_tokio"),
            ratio("of_tokio_default"),
        );
    }
    out.push('\n');
    out.push_str(
        "Higher is better. *of direct*: the forwarder's MiB/s over a direct connection's; \
         *of tokio 64 KiB*: over the tokio forwarder's with 64 KiB buffers, as thicket's \
         (like for like); *of tokio 8 KiB*: over plain `copy_bidirectional` with tokio's \
         default buffers, the reference of issue 4's target of 1.5 (above 1: faster than that \
         tokio).\n\n",
    );
    report::write_stamp(&mut out, "Forwarders", section);
    let _ = writeln!(
        out,
        "- Method: {rounds} round(s); in each, every forwarder in turn (the order rotated by \
         one every round) is started afresh on a free port of 127.0.0.1 in front of a sink, \
         carries {} to warm up, then {} in one connection, sent in {} KiB writes and \
         half-closed; the sink reads to end of file and answers the byte count. Timed from \
         the connect to the count's end of file. Sender and sink are threads of the xtask, \
         on the same 2 cores as the forwarder. Reproduce with `{}`.",
        size(method["warmup_bytes"].as_u64().unwrap_or(0)),
        size(bytes),
        method["chunk_bytes"].as_u64().unwrap_or(0) / 1024,
        section["command"]
            .as_str()
            .unwrap_or("cargo xtask bench --only forward"),
    );
    out.push_str("- Forwarders:\n");
    for f in section["forwarders"].as_array().into_iter().flatten() {
        if let Some(command) = f["command"].as_str() {
            let _ = writeln!(
                out,
                "  - {}: `{command}`",
                f["name"].as_str().unwrap_or("?")
            );
        }
    }
    if !notes.is_empty() {
        out.push_str("- Not in the table:\n");
        for n in notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transfer_counts_every_byte_through_the_sink() {
        let sink = Sink::start().unwrap();
        for bytes in [0, 1, CHUNK as u64 + 7, 3 << 20] {
            let d = transfer(sink.addr, bytes).unwrap();
            assert!(d > Duration::ZERO);
        }
    }

    #[test]
    fn replies_other_than_the_exact_count_are_errors() {
        assert!(check_reply(&5u64.to_le_bytes(), 5).is_ok());
        let short = check_reply(&[5, 0, 0], 5).unwrap_err().to_string();
        assert!(short.contains("got 3 byte(s)"), "{short}");
        // A ninth byte: the forwarder did not pass end of file on after the count.
        let long = check_reply(&[5, 0, 0, 0, 0, 0, 0, 0, 1], 5).unwrap_err();
        assert!(long.to_string().contains("got 9 byte(s)"), "{long}");
        let lost = check_reply(&4u64.to_le_bytes(), 5).unwrap_err().to_string();
        assert_eq!(lost, "sent 5 bytes, the sink read 4");
    }

    #[test]
    fn a_forwarder_that_drops_the_connection_fails_the_transfer() {
        // Accepts and closes at once, like a forwarder that cannot reach its target.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let closer = thread::spawn(move || drop(l.accept().unwrap()));
        assert!(transfer(addr, 0).is_err());
        closer.join().unwrap();
    }

    #[test]
    fn every_forwarder_leads_a_round_in_turn() {
        assert_eq!(round_order(3, 0), [0, 1, 2]);
        assert_eq!(round_order(3, 1), [1, 2, 0]);
        assert_eq!(round_order(3, 5), [2, 0, 1]);
        assert!(round_order(0, 2).is_empty());
    }

    #[test]
    fn commands_are_shown_from_the_root() {
        let root = Path::new("/ws");
        assert_eq!(
            shown(
                root,
                Path::new("/ws/target/release/examples/forwarder"),
                &[]
            ),
            "target/release/examples/forwarder 127.0.0.1:PORT 127.0.0.1:SINK_PORT"
        );
        assert_eq!(
            shown(
                root,
                Path::new("/ws/target/bench-venv/bin/python"),
                &["/ws/xtask/peers/python/gevent_forwarder.py".into()]
            ),
            "target/bench-venv/bin/python xtask/peers/python/gevent_forwarder.py \
             127.0.0.1:PORT 127.0.0.1:SINK_PORT"
        );
    }

    #[test]
    fn python_peers_run_in_their_scripts_folder_the_others_in_their_programs() {
        let tokio = Path::new("/ws/target/release/tokio_forwarder");
        let args = ["--buffer".to_string(), "65536".to_string()];
        assert_eq!(work_dir_for(tokio, &args), Path::new("/ws/target/release"));
        assert_eq!(work_dir_for(tokio, &[]), Path::new("/ws/target/release"));
        let python = Path::new("/ws/target/bench-venv/bin/python");
        let script = ["/ws/xtask/peers/python/gevent_forwarder.py".to_string()];
        assert_eq!(
            work_dir_for(python, &script),
            Path::new("/ws/xtask/peers/python")
        );
    }

    #[test]
    fn tokio_runs_with_64_kib_buffers_and_as_the_issues_reference() {
        let args = |name: &str| match ALL.iter().find(|f| f.name == name).unwrap().kind {
            Kind::Tokio { args } => args,
            other => panic!("{name} is {other:?}"),
        };
        assert_eq!(args("tokio"), ["--buffer", "65536"]);
        assert!(args("tokio_default").is_empty());
    }

    fn row(name: &str, runs: &[f64], problem: Option<Problem>) -> Row {
        Row {
            forwarder: *ALL.iter().find(|f| f.name == name).unwrap(),
            command: (name != "direct").then(|| format!("{name}-cmd")),
            problem,
            runs: runs.to_vec(),
        }
    }

    fn ctx() -> Context {
        Context {
            date: "2026-11-23".into(),
            quick: false,
            machine: json!({ "cpu": "EPYC", "cores": 2 }),
            tools: json!({ "rustc": "rustc 1.95.0" }),
        }
    }

    #[test]
    fn table_has_medians_ranges_and_ratios_to_direct_and_both_tokios() {
        let rows = [
            row("direct", &[4000.0, 3000.0, 5000.0], None),
            row("thicket", &[2000.0, 2200.0, 1800.0], None),
            row("tokio", &[1000.0, 1100.0, 900.0], None),
            row("tokio_default", &[800.0, 700.0, 900.0], None),
            row(
                "gevent",
                &[],
                Some(Problem::Skipped("python3 is not installed".into())),
            ),
            row(
                "eventlet",
                &[500.0],
                Some(Problem::Failed("round 2: reset\nmore".into())),
            ),
        ];
        let command = "cargo xtask bench --only forward --rounds 5";
        let doc = json!({ "forward": json(&rows, Plan::FULL, &ctx(), command) });
        assert_eq!(doc["forward"]["results"]["thicket"]["of_tokio"], 2.0);
        assert_eq!(doc["forward"]["results"]["thicket"]["of_direct"], 0.5);
        assert_eq!(
            doc["forward"]["results"]["thicket"]["of_tokio_default"],
            2.5
        );
        assert!(doc["forward"]["results"].get("eventlet").is_none());
        let text = render(&doc).unwrap();
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(
            rows,
            [
                "| 1 GiB through | MiB/s, median of 5 | slowest - fastest round | of direct | of tokio 64 KiB | of tokio 8 KiB |",
                "|---|---:|---:|---:|---:|---:|",
                "| direct connection, no forwarder | 4,000 | 3,000 - 5,000 | 1.00 | 4.00 | 5.00 |",
                "| thicket (`green/examples/forwarder.rs`, one hub, `net::copy`) | 2,000 | 1,800 - 2,200 | 0.50 | 2.00 | 2.50 |",
                "| tokio (`copy_bidirectional` through 64 KiB buffers, one `current_thread` runtime) | 1,000 | 900 - 1,100 | 0.25 | 1.00 | 1.25 |",
                "| tokio, issue 4's reference (`copy_bidirectional` with its default 8 KiB buffers, one `current_thread` runtime) | 800 | 700 - 900 | 0.20 | 0.80 | 1.00 |",
            ]
        );
        assert!(
            text.contains("  - gevent skipped: python3 is not installed\n"),
            "{text}"
        );
        assert!(
            text.contains("  - eventlet failed: round 2: reset\n"),
            "{text}"
        );
        assert!(text.contains("  - thicket: `thicket-cmd`\n"), "{text}");
        assert!(text.contains("carries 64 MiB to warm up, then 1 GiB in one connection"));
        assert!(text.contains("Reproduce with `cargo xtask bench --only forward --rounds 5`."));
        assert_eq!(render(&json!({ "http": {} })), None);
    }

    #[test]
    fn rates_and_sizes() {
        assert_eq!(mib_per_sec(1 << 30, Duration::from_secs(2)), 512.0);
        assert_eq!(size(1 << 30), "1 GiB");
        assert_eq!(size(64 << 20), "64 MiB");
    }
}
