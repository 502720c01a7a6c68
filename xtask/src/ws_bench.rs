//! The WebSocket part of `cargo xtask bench` (`--only ws`): thicket's `ws_echo` example
//! against tokio-tungstenite's echo server (`xtask/peers/src/bin/tungstenite_echo.rs`), both
//! with 2 threads, under the same load generator (`xtask/peers/src/bin/ws_load.rs`).
//!
//! In each round the servers take turns (the order rotated every round): each is started
//! afresh on a free port of 127.0.0.1, checked with one echo, warmed up, then put under every
//! [`LOADS`] entry in turn and killed. The table shows the medians over the rounds and
//! thicket's advantage; it goes between its markers in the guide and into the `ws` section
//! of benchmarks.json.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::load::{format_ms, thousands};
use crate::metadata::Metadata;
use crate::procfs::{self, KillOnDrop};
use crate::report::{self, Context};
use crate::servers::Running;
use crate::servers::{self, THREADS};
use crate::stats::{self, Better};
use crate::steps::{self, Error, Result, Workspace};

/// The markers around the WebSocket table in the guide's page.
pub const START_MARKER: &str = "<!-- bench:ws:start -->";
pub const END_MARKER: &str = "<!-- bench:ws:end -->";

/// The load generator's threads (as wrk's for HTTP): it shares the cores with the server.
pub const LOAD_THREADS: usize = 2;

/// How long a server may take to echo its first message.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a load run may overrun its duration (1,000 handshakes, the last echoes).
const RUN_SLACK: Duration = Duration::from_secs(60);

/// One WebSocket echo server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Server {
    /// The key in JSON, and the name `--servers` takes.
    pub name: &'static str,
    /// The table's column heading.
    pub column: &'static str,
    pub title: &'static str,
    /// `None`: thicket-http's `ws_echo` example; else a thicket-peers binary.
    pub peer_bin: Option<&'static str>,
}

/// Every server, thicket first.
pub const SERVERS: &[Server] = &[
    Server {
        name: "thicket",
        column: "thicket",
        title: "thicket (`http/examples/ws_echo.rs`, 2 hubs, compression off)",
        peer_bin: None,
    },
    Server {
        name: "tungstenite",
        column: "tokio-tungstenite",
        title: "tokio-tungstenite on a multi-thread tokio runtime, 2 workers, a task per \
                connection echoing with `forward` (its `echo-server` example)",
        peer_bin: Some("tungstenite_echo"),
    },
];

/// The servers named in `filter` (all when `None`); names of other parts' servers are
/// ignored here.
pub fn select(filter: Option<&[String]>) -> Vec<Server> {
    SERVERS
        .iter()
        .filter(|s| filter.is_none_or(|names| names.iter().any(|n| n == s.name)))
        .copied()
        .collect()
}

/// One load: what `ws_load` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// The key in JSON.
    pub name: &'static str,
    pub title: &'static str,
    /// `echo` (one message in flight per connection) or `stream` (a window of them).
    pub mode: &'static str,
    pub size: usize,
    pub connections: usize,
}

const fn load(
    name: &'static str,
    title: &'static str,
    mode: &'static str,
    size: usize,
    connections: usize,
) -> Load {
    Load {
        name,
        title,
        mode,
        size,
        connections,
    }
}

/// Every load, in table order. (A table: one line each.)
#[rustfmt::skip]
pub const LOADS: &[Load] = &[
    load("echo_32_c1", "echo, 32 B, 1 connection", "echo", 32, 1),
    load("echo_64k_c1", "echo, 64 KiB, 1 connection", "echo", 65_536, 1),
    load("echo_32_c1000", "echo, 32 B, 1,000 connections", "echo", 32, 1000),
    load("echo_64k_c1000", "echo, 64 KiB, 1,000 connections", "echo", 65_536, 1000),
    load("stream_32_c1", "stream, 32 B, 1 connection", "stream", 32, 1),
    load("stream_64k_c1", "stream, 64 KiB, 1 connection", "stream", 65_536, 1),
    load("stream_32_c1000", "stream, 32 B, 1,000 connections", "stream", 32, 1000),
    load("stream_64k_c1000", "stream, 64 KiB, 1,000 connections", "stream", 65_536, 1000),
];

/// The warm-up after each start: small echoes on 64 connections.
const WARMUP: Load = load("warmup", "warm-up", "echo", 32, 64);

/// How long and how often.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub rounds: usize,
    pub secs: f64,
    pub warmup_secs: f64,
}

impl Plan {
    pub const FULL: Plan = Plan {
        rounds: 3,
        secs: 5.0,
        warmup_secs: 1.0,
    };
    /// Short enough for CI: 8 loads x 2 servers x 1 s, plus starts and handshakes.
    pub const QUICK: Plan = Plan {
        rounds: 1,
        secs: 1.0,
        warmup_secs: 0.5,
    };

    /// The plan for `cargo xtask bench` options: `--rounds` and `--duration` override.
    pub fn new(quick: bool, rounds: Option<usize>, duration_secs: Option<u64>) -> Plan {
        let base = if quick { Plan::QUICK } else { Plan::FULL };
        Plan {
            rounds: rounds.unwrap_or(base.rounds),
            secs: duration_secs.map_or(base.secs, |s| s as f64),
            warmup_secs: base.warmup_secs,
        }
    }
}

impl Plan {
    /// The command that measures this plan again.
    pub fn command(&self, quick: bool) -> String {
        let base = if quick { Plan::QUICK } else { Plan::FULL };
        let mut command = String::from("cargo xtask bench --only ws");
        if quick {
            command.push_str(" --quick");
        }
        if self.rounds != base.rounds {
            let _ = write!(command, " --rounds {}", self.rounds);
        }
        if self.secs != base.secs {
            let _ = write!(command, " --duration {}", self.secs);
        }
        command
    }
}

/// What one `ws_load` run reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Round trips (echo) or echoed messages (stream) per second.
    pub rate: f64,
    pub mib_per_sec: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Round trips or echoed messages counted.
    pub messages: u64,
    /// The server's CPU time (user and system, all threads) over the run, per message
    /// counted, in µs; `None` where `/proc` could not say.
    pub cpu_us: Option<f64>,
}

/// Reads the result line of `ws_load` (`mode=echo ... rate=38443.5 ... p50_us=24.6 ...`)
/// out of its output.
pub fn parse_sample(output: &str) -> std::result::Result<Sample, String> {
    let line = output
        .lines()
        .find(|l| l.starts_with("mode="))
        .ok_or("no result line (`mode=...`) in the load generator's output")?;
    let fields: BTreeMap<&str, &str> = line
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let number = |key: &str| -> std::result::Result<Option<f64>, String> {
        match fields.get(key) {
            None => Err(format!("no `{key}=` in `{line}`")),
            Some(&"n/a") => Ok(None),
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .map(Some)
                .ok_or_else(|| format!("`{key}={v}` is not a number")),
        }
    };
    let required = |key: &str| number(key)?.ok_or_else(|| format!("`{key}` is n/a in `{line}`"));
    match required("errors")? {
        0.0 => {}
        n => return Err(format!("{n} connection(s) failed: `{line}`")),
    }
    Ok(Sample {
        rate: required("rate")?,
        mib_per_sec: required("mib_per_sec")?,
        p50_ms: number("p50_us")?.map(|us| us / 1e3),
        p99_ms: number("p99_us")?.map(|us| us / 1e3),
        messages: required("messages")? as u64,
        cpu_us: None,
    })
}

/// The CPU time (user and system, every thread) a process has used, in seconds.
fn cpu_secs(pid: u32) -> Option<f64> {
    parse_cpu_secs(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// utime + stime of a `/proc/PID/stat` line: fields 14 and 15, in the kernel's USER_HZ
/// ticks (100 a second on Linux, whatever the kernel's own HZ).
fn parse_cpu_secs(stat: &str) -> Option<f64> {
    // The command name, field 2, is in brackets and may hold spaces and brackets.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

/// The arguments of `ws_load` for `load` against `addr`.
fn load_args(load: &Load, addr: &str, secs: f64) -> Vec<String> {
    [
        "--addr",
        addr,
        "--mode",
        load.mode,
        "--size",
        &load.size.to_string(),
        "--connections",
        &load.connections.to_string(),
        "--threads",
        &LOAD_THREADS.to_string(),
        "--duration",
        &secs.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Built programs.
struct Programs {
    load: PathBuf,
    servers: Vec<(Server, std::result::Result<PathBuf, String>)>,
}

fn build(ws: &Workspace, meta: &Metadata, wanted: &[Server]) -> Result<Programs> {
    let release = meta.target_directory.join("release");
    let mut peers = ws.cargo();
    peers.args([
        "build",
        "--release",
        "-p",
        "thicket-peers",
        "--bin",
        "ws_load",
    ]);
    for bin in wanted.iter().filter_map(|s| s.peer_bin) {
        peers.args(["--bin", bin]);
    }
    steps::run(&mut peers)?;
    let thicket = if wanted.iter().any(|s| s.peer_bin.is_none()) {
        steps::run(ws.cargo().args([
            "build",
            "--release",
            "-p",
            "thicket-http",
            "--example",
            "ws_echo",
        ]))
        .map_err(|e| e.to_string())
    } else {
        Ok(())
    };
    Ok(Programs {
        load: release.join("ws_load"),
        servers: wanted
            .iter()
            .map(|&s| {
                let program = match s.peer_bin {
                    Some(bin) => Ok(release.join(bin)),
                    None => thicket.clone().map(|()| release.join("examples/ws_echo")),
                };
                (s, program)
            })
            .collect(),
    })
}

fn shown(root: &Path, program: &Path, args: &[String]) -> String {
    let program = program.strip_prefix(root).unwrap_or(program);
    format!("{} {}", program.display(), args.join(" "))
}

fn server_args(addr: &str) -> Vec<String> {
    vec![
        "--addr".into(),
        addr.into(),
        "--threads".into(),
        THREADS.to_string(),
    ]
}

/// Runs `ws_load` with `args`, its output going to `out`, within `limit`; the output.
fn run_load(program: &Path, args: &[String], out: &Path, limit: Duration) -> Result<String> {
    let file = fs::File::create(out)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", out.display())))?;
    let err = file
        .try_clone()
        .map_err(|e| Error::new(format!("cannot open {}: {e}", out.display())))?;
    let mut cmd = procfs::with_nofile_raised(program, args);
    cmd.stdin(Stdio::null()).stdout(file).stderr(err);
    let shown = steps::show(&cmd);
    let child = cmd
        .spawn()
        .map_err(|e| Error::new(format!("could not start `{shown}`: {e}")))?;
    let mut child = KillOnDrop::new(child);
    let status = child
        .wait_deadline(Instant::now() + limit)
        .map_err(|e| Error::new(format!("cannot wait for `{shown}`: {e}")))?;
    let output = fs::read_to_string(out).unwrap_or_default();
    match status {
        Some(s) if s.success() => Ok(output),
        Some(s) => Err(Error::new(format!(
            "`{shown}` failed ({s}):\n{}",
            servers::log_tail(out)
        ))),
        None => Err(Error::new(format!(
            "`{shown}` did not finish within {}s",
            limit.as_secs()
        ))),
    }
}

/// Starts `program` on a free port and waits until `ws_load --mode check` gets its echoes.
/// A port taken between choosing and binding it makes the server exit: then another is
/// tried.
fn start(name: &str, program: &Path, load: &Path, work: &Path) -> Result<Running> {
    let logs = work.join("logs");
    fs::create_dir_all(&logs)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", logs.display())))?;
    let log = logs.join(format!("{name}.log"));
    let mut last = None;
    for _attempt in 0..3 {
        let addr = servers::free_port()?;
        let (out, err) = servers::log_files(&log)?;
        let mut cmd = procfs::with_nofile_raised(program, &server_args(&addr.to_string()));
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let shown = steps::show(&cmd);
        let child = cmd
            .spawn()
            .map_err(|e| Error::new(format!("could not start `{shown}`: {e}")))?;
        let mut running = Running::new(addr, log.clone(), child);
        let check = ["--addr", &addr.to_string(), "--mode", "check"].map(String::from);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Err(e) = running.check_alive() {
                last = Some(Error::new(format!("`{shown}`: {e}")));
                break;
            }
            let probe = work.join("runs").join(format!("{name}-check.txt"));
            if run_load(load, &check, &probe, READY_TIMEOUT).is_ok() {
                return Ok(running);
            }
            if Instant::now() >= deadline {
                return Err(Error::new(format!(
                    "`{shown}` echoed nothing within {}s; its output:\n{}\nthe check's:\n{}",
                    READY_TIMEOUT.as_secs(),
                    servers::log_tail(&log),
                    servers::log_tail(&probe)
                )));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
    Err(last.unwrap_or_else(|| Error::new("the server did not start")))
}

/// The order of the servers in round `round` (from 0): rotated by one each round.
fn round_order(n: usize, round: usize) -> Vec<usize> {
    (0..n).map(|i| (i + round) % n.max(1)).collect()
}

/// One server in the results.
#[derive(Debug, Clone)]
pub struct Row {
    pub server: Server,
    pub command: Option<String>,
    /// Why it was not measured (in every round).
    pub failed: Option<String>,
    /// Load name -> one sample per round.
    pub runs: BTreeMap<&'static str, Vec<Sample>>,
}

impl Row {
    pub fn failure(&self) -> Option<String> {
        self.failed
            .as_ref()
            .map(|why| format!("ws: {}: {why}", self.server.name))
    }
}

/// One server's round: start, warm up, every load, kill.
fn one_round(
    program: &Path,
    name: &str,
    programs: &Programs,
    plan: Plan,
    work: &Path,
    round: usize,
    tag: &str,
) -> Result<Vec<Sample>> {
    let mut running = start(name, program, &programs.load, work)?;
    let addr = running.addr.to_string();
    let runs = work.join("runs");
    let limit = |secs: f64| Duration::from_secs_f64(secs) + RUN_SLACK;
    run_load(
        &programs.load,
        &load_args(&WARMUP, &addr, plan.warmup_secs),
        &runs.join(format!("{name}-warmup.txt")),
        limit(plan.warmup_secs),
    )?;
    let mut samples = Vec::new();
    for l in LOADS {
        let out = runs.join(format!("{name}-{}-r{round}.txt", l.name));
        let cpu_before = cpu_secs(running.pid());
        let text = run_load(
            &programs.load,
            &load_args(l, &addr, plan.secs),
            &out,
            limit(plan.secs),
        )
        .map_err(|e| {
            let dead = running.check_alive().err().map(|d| format!("; {d}"));
            Error::new(format!("{}: {e}{}", l.title, dead.unwrap_or_default()))
        })?;
        let cpu_after = cpu_secs(running.pid());
        let mut s = parse_sample(&text).map_err(|e| Error::new(format!("{}: {e}", l.title)))?;
        s.cpu_us = match (cpu_before, cpu_after) {
            (Some(a), Some(b)) if s.messages > 0 => Some((b - a) * 1e6 / s.messages as f64),
            _ => None,
        };
        eprintln!("{tag}, {}: {}", l.title, summary(&s));
        samples.push(s);
        running.check_alive()?;
    }
    Ok(samples)
}

fn summary(s: &Sample) -> String {
    let ms = |v: Option<f64>| v.map_or("n/a".to_string(), latency);
    format!(
        "{}/s ({:.1} MiB/s), p50 {}, p99 {}, server CPU {} per message",
        thousands(s.rate),
        s.mib_per_sec,
        ms(s.p50_ms),
        ms(s.p99_ms),
        s.cpu_us.map_or("n/a".to_string(), cpu),
    )
}

/// Where the part keeps the load generator's reports and the servers' logs.
pub fn work_dir(target: &Path) -> PathBuf {
    target.join("bench-ws")
}

/// Builds and measures the servers selected by `--servers`, `plan.rounds` times in
/// alternation.
pub fn run(
    ws: &Workspace,
    meta: &Metadata,
    plan: Plan,
    filter: Option<&[String]>,
) -> Result<Vec<Row>> {
    let wanted = select(filter);
    if wanted.is_empty() {
        eprintln!("no WebSocket server among those named by --servers");
        return Ok(Vec::new());
    }
    let programs = build(ws, meta, &wanted)?;
    let work = work_dir(&meta.target_directory);
    fs::create_dir_all(work.join("runs"))
        .map_err(|e| Error::new(format!("cannot create {}: {e}", work.display())))?;
    let mut rows: Vec<Row> = programs
        .servers
        .iter()
        .map(|(server, program)| Row {
            server: *server,
            command: program
                .as_ref()
                .ok()
                .map(|p| shown(&ws.root, p, &server_args("127.0.0.1:PORT"))),
            failed: program.as_ref().err().map(|e| format!("build failed: {e}")),
            runs: BTreeMap::new(),
        })
        .collect();
    for round in 0..plan.rounds {
        for i in round_order(rows.len(), round) {
            let (row, (_, program)) = (&mut rows[i], &programs.servers[i]);
            let (Ok(program), None) = (program, &row.failed) else {
                continue;
            };
            let name = row.server.name;
            let tag = format!("ws: {name} round {}/{}", round + 1, plan.rounds);
            match one_round(program, name, &programs, plan, &work, round + 1, &tag) {
                Ok(samples) => {
                    for (l, s) in LOADS.iter().zip(samples) {
                        row.runs.entry(l.name).or_default().push(s);
                    }
                }
                Err(e) => {
                    eprintln!("{tag}: FAILED: {e}");
                    row.failed = Some(format!("round {}: {e}", round + 1));
                }
            }
        }
    }
    Ok(rows)
}

/// `{"median": m, "runs": [...]}`.
fn metric(runs: &[Option<f64>]) -> Value {
    let present: Vec<f64> = runs.iter().flatten().copied().collect();
    json!({ "median": stats::median(&present), "runs": runs })
}

const METRICS: &[(&str, Better)] = &[
    ("messages_per_sec", Better::Higher),
    ("p50_ms", Better::Lower),
    ("p99_ms", Better::Lower),
    ("server_cpu_us_per_message", Better::Lower),
];

/// The `ws` section of benchmarks.json.
pub fn json(rows: &[Row], plan: Plan, ctx: &Context, root: &Path) -> Value {
    let mut results = Map::new();
    let mut ratios = Map::new();
    for l in LOADS {
        let mut per_server = Map::new();
        for row in rows {
            let Some(samples) = row.runs.get(l.name) else {
                continue;
            };
            let of =
                |f: fn(&Sample) -> Option<f64>| metric(&samples.iter().map(f).collect::<Vec<_>>());
            per_server.insert(
                row.server.name.into(),
                json!({
                    "messages_per_sec": of(|s| Some(s.rate)),
                    "mib_per_sec": of(|s| Some(s.mib_per_sec)),
                    "p50_ms": of(|s| s.p50_ms),
                    "p99_ms": of(|s| s.p99_ms),
                    "server_cpu_us_per_message": of(|s| s.cpu_us),
                }),
            );
        }
        if let Some(thicket) = per_server.get("thicket") {
            let median = |v: &Value, m: &str| v[m]["median"].as_f64();
            let peers: Map<String, Value> = per_server
                .iter()
                .filter(|(name, _)| *name != "thicket")
                .map(|(name, peer)| {
                    let r: Map<String, Value> = METRICS
                        .iter()
                        .map(|&(m, better)| {
                            let a = stats::advantage(median(thicket, m), median(peer, m), better);
                            (m.to_string(), a.into())
                        })
                        .collect();
                    (name.clone(), Value::Object(r))
                })
                .collect();
            ratios.insert(l.name.into(), Value::Object(peers));
        }
        results.insert(l.name.into(), Value::Object(per_server));
    }
    let mut section = Map::new();
    ctx.stamp(&mut section);
    // The crates that matter here, not the HTTP peers'.
    let lock = fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let crates: Map<String, Value> = ["tokio", "tokio-tungstenite", "tungstenite"]
        .iter()
        .filter_map(|c| report::lock_version(&lock, c).map(|v| (c.to_string(), v.into())))
        .collect();
    section["tools"]["crates"] = Value::Object(crates);
    section.insert("command".into(), plan.command(ctx.quick).into());
    section.insert(
        "method".into(),
        json!({
            "rounds": plan.rounds,
            "duration_secs": plan.secs,
            "warmup_secs": plan.warmup_secs,
            "load_threads": LOAD_THREADS,
            "server_threads": THREADS,
            "order": "servers alternated within each round, the order rotated every round; \
                      a fresh server process per round",
        }),
    );
    let load_program = PathBuf::from("target/release/ws_load");
    section.insert(
        "loads".into(),
        LOADS
            .iter()
            .map(|l| {
                json!({
                    "name": l.name,
                    "title": l.title,
                    "mode": l.mode,
                    "size": l.size,
                    "connections": l.connections,
                    "command": shown(root, &load_program, &load_args(l, "127.0.0.1:PORT", plan.secs)),
                })
            })
            .collect(),
    );
    section.insert(
        "servers".into(),
        rows.iter()
            .map(|r| {
                json!({
                    "name": r.server.name,
                    "column": r.server.column,
                    "title": r.server.title,
                    "command": r.command,
                    "status": if r.failed.is_some() { "failed" } else { "measured" },
                    "note": r.failed,
                })
            })
            .collect(),
    );
    section.insert("results".into(), Value::Object(results));
    section.insert(
        "ratios_note".into(),
        "thicket's advantage: thicket/peer for messages_per_sec, peer/thicket for latency; \
         above 1 means thicket is ahead"
            .into(),
    );
    section.insert("ratios".into(), Value::Object(ratios));
    Value::Object(section)
}

/// A metric of the table: its key in the JSON, its label, how a value is written.
type Shown = (&'static str, &'static str, fn(f64) -> String);

/// A latency in milliseconds, written in µs below 1 ms (`25 µs`, `4.50 ms`).
fn latency(ms: f64) -> String {
    if ms < 1.0 {
        format!("{:.0} µs", ms * 1e3)
    } else {
        format_ms(ms)
    }
}

/// A CPU time in µs with two or three significant figures: `0.38 µs`, `12.9 µs`, `143 µs`.
fn cpu(us: f64) -> String {
    if us < 1.0 {
        format!("{us:.2} µs")
    } else if us < 100.0 {
        format!("{us:.1} µs")
    } else {
        format!("{us:.0} µs")
    }
}

/// The Markdown between the markers; `None` when the JSON has no `ws` section.
pub fn render(doc: &Value) -> Option<String> {
    let ws = doc.get("ws").filter(|s| s.is_object())?;
    let mut out = String::from(
        "<!-- Generated by `cargo xtask bench` from benchmarks.json: edit xtask/src/ws_bench.rs, \
         not this table. -->\n\n",
    );
    let servers: Vec<&Value> = ws["servers"].as_array().into_iter().flatten().collect();
    let column = |s: &Value| s["column"].as_str().unwrap_or("?").to_string();
    let name = |s: &Value| s["name"].as_str().unwrap_or("?").to_string();
    let peers: Vec<&&Value> = servers.iter().filter(|s| s["name"] != "thicket").collect();
    let mut head = String::from("| load |");
    for s in &servers {
        let _ = write!(head, " {} |", column(s));
    }
    for p in &peers {
        let _ = write!(head, " thicket / {} |", column(p));
    }
    out.push_str(&head);
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(servers.len() + peers.len()));
    out.push('\n');
    for l in ws["loads"].as_array().into_iter().flatten() {
        let load = l["name"].as_str().unwrap_or("?");
        let title = l["title"].as_str().unwrap_or("?");
        let echo = l["mode"] == "echo";
        let cpu_row: Shown = ("server_cpu_us_per_message", "server CPU per message", cpu);
        let metrics: &[Shown] = if echo {
            &[
                ("messages_per_sec", "round trips/s", thousands),
                ("p50_ms", "p50", latency),
                ("p99_ms", "p99", latency),
                cpu_row,
            ]
        } else {
            &[("messages_per_sec", "messages/s", thousands), cpu_row]
        };
        for (metric, label, show) in metrics {
            let _ = write!(out, "| {title}: {label} |");
            for s in &servers {
                let v = ws["results"][load][name(s)][metric]["median"].as_f64();
                let _ = write!(out, " {} |", v.map_or("n/a".to_string(), show));
            }
            for p in &peers {
                let r = ws["ratios"][load][name(p)][metric].as_f64();
                let _ = write!(
                    out,
                    " {} |",
                    r.map_or("n/a".to_string(), |r| format!("{r:.2}x"))
                );
            }
            out.push('\n');
        }
    }
    out.push_str(
        "\nThe ratio is thicket's advantage: its messages per second over the peer's, the \
         peer's latency or CPU time over thicket's; above 1 means thicket is ahead. Server CPU \
         per message: the user and system time of the server process (every thread) during \
         the run, over the messages counted; it includes the kernel's TCP work done in the \
         server's system calls, and moves less than the rates with the load on the machine.\n\n",
    );
    report::write_stamp(&mut out, "WebSocket", ws);
    let m = &ws["method"];
    let _ = writeln!(
        out,
        "- Method: median of {} round(s); in each round the servers take turns (the order \
         rotated every round), each started afresh on a free port of 127.0.0.1, checked with \
         one echo, warmed up for {} s (32 B echoes on 64 connections), then run under each \
         load for {} s; `ws_load` ({} threads) shares the cores with the server ({} \
         threads). Reproduce with `{}`.",
        m["rounds"],
        m["warmup_secs"],
        m["duration_secs"],
        m["load_threads"],
        m["server_threads"],
        ws["command"]
            .as_str()
            .unwrap_or("cargo xtask bench --only ws"),
    );
    for l in ws["loads"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "  - {}: `{}`",
            l["title"].as_str().unwrap_or("?"),
            l["command"].as_str().unwrap_or("?")
        );
    }
    out.push_str("- Servers:\n");
    for s in &servers {
        let _ = writeln!(
            out,
            "  - {}: {}: `{}`",
            column(s),
            s["title"].as_str().unwrap_or("?"),
            s["command"].as_str().unwrap_or("?")
        );
        if s["status"] == "failed" {
            let note = s["note"].as_str().unwrap_or("?");
            let _ = writeln!(out, "    failed: {}", note.lines().next().unwrap_or(note));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests;
