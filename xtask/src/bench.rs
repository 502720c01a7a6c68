//! `cargo xtask bench`: the criterion benchmarks, as a list of suites run one after another,
//! a summary table of thicket against its peers, then the HTTP load test and the memory per
//! idle connection of thicket's hello server next to the HTTP peers.
//!
//! The criterion suites: the workspace's own `benches/` (every crate but the comparison-only
//! ones), then `xtask/peers` (thicket-peers), whose groups hold the same work done by thicket
//! and by each peer (tokio, may) in one criterion run. The summary step reads criterion's
//! results for every group that has a `thicket` function and at least one peer, and prints
//! the medians with ratios, also written to `target/bench-summary.md`.
//!
//! The HTTP part (`load`, `memory`, `report`): thicket's `hello` example, hyper, may_minihttp,
//! actix-web, gevent and eventlet, each under wrk in turn, then the table of medians written
//! to `target/bench-http/` and, for a full run, into the guide (`docs/src/benchmarks.md`
//! between its markers, and `docs/src/benchmarks.json`).

use std::fmt::Write as _;
use std::time::SystemTime;

use serde_json::Value;

use crate::criterion;
use crate::forward;
use crate::load::{self, Plan};
use crate::memory;
use crate::metadata::Metadata;
use crate::report::{self, Context};
use crate::servers::{self, Kind, Readiness};
use crate::steps::{self, Error, Result, Steps, Workspace};
use crate::ws_bench;

/// A part of `cargo xtask bench`, as `--only` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The criterion benchmarks and their summary.
    Criterion,
    /// wrk against every HTTP server.
    Http,
    /// Resident memory per idle connection.
    Memory,
    /// Bytes through a port forwarder (thicket, tokio, gevent, eventlet) and directly.
    Forward,
    /// WebSocket echo servers (thicket, tokio-tungstenite) under `ws_load`.
    Ws,
    /// Only draw the guide's table again from `docs/src/benchmarks.json`; never implied.
    Render,
}

impl Part {
    pub const ALL: &'static [(&'static str, Part)] = &[
        ("criterion", Part::Criterion),
        ("http", Part::Http),
        ("memory", Part::Memory),
        ("forward", Part::Forward),
        ("ws", Part::Ws),
        ("render", Part::Render),
    ];

    pub fn parse(name: &str) -> Option<Part> {
        Part::ALL.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BenchOpts {
    /// Short warm-up and measurement: a smoke run, not numbers to publish.
    pub quick: bool,
    /// Passed to every criterion binary after `--` (a filter, `--save-baseline x`, ...).
    pub extra: Vec<String>,
    /// The parts to run (`--only`); empty for all.
    pub only: Vec<Part>,
    /// The HTTP servers to measure (`--servers`); `None` for all.
    pub servers: Option<Vec<String>>,
    /// Seconds per wrk run (`--duration`), instead of 10 (2 with `--quick`).
    pub duration_secs: Option<u64>,
    /// Rounds over the servers (`--rounds`), instead of 3 (1 with `--quick`).
    pub rounds: Option<usize>,
    /// Idle connections for the memory measurement (`--connections`).
    pub connections: Option<usize>,
    /// Whether to write the HTTP table into the guide (`--write-docs`, `--no-docs`);
    /// `None`: yes for a full run, no with `--quick` (so CI leaves the tree clean) or
    /// `--servers` (a table of some servers would replace the guide's of all of them).
    pub docs: Option<bool>,
}

impl BenchOpts {
    pub fn runs(&self, part: Part) -> bool {
        (self.only.is_empty() && part != Part::Render) || self.only.contains(&part)
    }

    pub fn plan(&self) -> Plan {
        let base = if self.quick { Plan::QUICK } else { Plan::FULL };
        Plan {
            rounds: self.rounds.unwrap_or(base.rounds),
            duration_secs: self.duration_secs.unwrap_or(base.duration_secs),
            warmup_secs: base.warmup_secs,
        }
    }

    pub fn writes_docs(&self) -> bool {
        self.docs.unwrap_or(!self.quick && self.servers.is_none())
    }

    /// How much the forwarder part moves, and how often.
    pub fn forward_plan(&self) -> forward::Plan {
        let base = if self.quick {
            forward::Plan::QUICK
        } else {
            forward::Plan::FULL
        };
        forward::Plan {
            rounds: self.rounds.unwrap_or(base.rounds),
            ..base
        }
    }

    /// The command that measures `part` again with these options, for the guide.
    pub fn command(&self, part: &str) -> String {
        let mut command = format!("cargo xtask bench --only {part}");
        if self.quick {
            command.push_str(" --quick");
        }
        if let (Some(rounds), "forward") = (self.rounds, part) {
            let _ = write!(command, " --rounds {rounds}");
        }
        if !self.extra.is_empty() && part == "criterion" {
            command.push_str(" -- ");
            command.push_str(&self.extra.join(" "));
        }
        command
    }
}

/// Criterion 0.5 options for `--quick`. (Criterion's own `--quick` still warms up for the full
/// 3 s and measures for up to 5 s when the noise is high, the usual case on a shared machine.)
const QUICK_ARGS: &[&str] = &[
    "--warm-up-time",
    "0.2",
    "--measurement-time",
    "0.5",
    "--sample-size",
    "10",
];

/// The workspace member holding the peer workloads.
const PEERS_PACKAGE: &str = "thicket-peers";

/// One group of benchmarks run as one step.
struct Suite {
    name: &'static str,
    run: fn(&Workspace, &Metadata, &BenchOpts) -> Result<()>,
}

const SUITES: &[Suite] = &[
    Suite {
        name: "thicket",
        run: workspace_benches,
    },
    Suite {
        name: "peers",
        run: peer_benches,
    },
];

pub fn run(ws: &Workspace, opts: &BenchOpts) -> Result<()> {
    let meta = Metadata::load(ws)?;
    let started = SystemTime::now();
    let mut steps = Steps::new("bench");
    let mut sections: Vec<(&str, Value)> = Vec::new();
    let mut failures: Vec<String> = Vec::new();

    if opts.runs(Part::Criterion) {
        for suite in SUITES {
            steps.run(suite.name, || (suite.run)(ws, &meta, opts))?;
        }
        steps.run("summary", || {
            let ctx = Context::gather(&ws.root, opts.quick, None);
            let command = opts.command("criterion");
            if let Some(section) =
                criterion::summary(&meta.target_directory, started, &ctx, &command)?
            {
                sections.push(("criterion", section));
            }
            Ok(())
        })?;
    }

    let (http, mem) = (opts.runs(Part::Http), opts.runs(Part::Memory));
    if http || mem {
        // `--servers` may also name WebSocket servers, which are not HTTP ones.
        let names = opts.servers.as_ref().map(|names| {
            names
                .iter()
                .filter(|n| servers::ALL.iter().any(|s| s.name == n.as_str()))
                .cloned()
                .collect::<Vec<_>>()
        });
        let specs = servers::select(names.as_deref())?;
        let mut prepared = Vec::new();
        steps.run("servers", || {
            prepared = servers::prepare(ws, &meta, &specs);
            Ok(())
        })?;
        let python = prepared.iter().find_map(|(_, r)| match r {
            Readiness::Ready(p) if matches!(p.spec.kind, Kind::Python { .. }) => {
                Some(p.program.clone())
            }
            _ => None,
        });
        let ctx = Context::gather(&ws.root, opts.quick, python.as_deref());
        let target = &meta.target_directory;
        if http {
            steps.run("http", || {
                let results = load::run(&prepared, opts.plan(), &ws.root, target)?;
                failures.extend(results.servers.iter().filter_map(|r| r.failure()));
                sections.push(("http", report::http_json(&results, &ctx)));
                Ok(())
            })?;
        }
        if mem {
            steps.run("memory", || {
                let results = memory::run(
                    &prepared,
                    opts.plan(),
                    opts.connections.unwrap_or(if opts.quick {
                        memory::QUICK_CONNECTIONS
                    } else {
                        memory::CONNECTIONS
                    }),
                    &ws.root,
                    target,
                )?;
                failures.extend(
                    results
                        .servers
                        .iter()
                        .filter_map(|r| r.failure().map(|f| format!("memory: {f}"))),
                );
                sections.push(("memory", report::memory_json(&results, &ctx)));
                Ok(())
            })?;
        }
    }

    if opts.runs(Part::Forward) {
        steps.run("forward", || {
            let plan = opts.forward_plan();
            let (rows, python) = forward::run(ws, &meta, plan)?;
            failures.extend(rows.iter().filter_map(forward::Row::failure));
            let ctx = Context::gather(&ws.root, opts.quick, python.as_deref());
            let section = forward::json(&rows, plan, &ctx, &opts.command("forward"));
            if let Some(table) = forward::render(&serde_json::json!({ "forward": section })) {
                println!("\n{table}");
            }
            sections.push(("forward", section));
            Ok(())
        })?;
    }

    if opts.runs(Part::Ws) {
        steps.run("ws", || {
            let plan = ws_bench::Plan::new(opts.quick, opts.rounds, opts.duration_secs);
            let rows = ws_bench::run(ws, &meta, plan, opts.servers.as_deref())?;
            if rows.is_empty() {
                return Ok(());
            }
            failures.extend(rows.iter().filter_map(ws_bench::Row::failure));
            let ctx = Context::gather(&ws.root, opts.quick, None);
            let section = ws_bench::json(&rows, plan, &ctx, &ws.root);
            if let Some(table) = ws_bench::render(&serde_json::json!({ "ws": section })) {
                println!("\n{table}");
            }
            sections.push(("ws", section));
            Ok(())
        })?;
    }

    if opts.runs(Part::Render) {
        steps.run("render", || report::rerender(&ws.root))?;
    }
    if !sections.is_empty() {
        steps.run("report", || {
            let work = load::work_dir(&meta.target_directory);
            let table = report::write(&ws.root, &work, &sections, opts.writes_docs())?;
            if opts.runs(Part::Http) || opts.runs(Part::Memory) {
                println!("\n{table}");
            }
            if !opts.writes_docs() {
                let why = match (opts.quick, &opts.servers) {
                    (true, _) => "--quick",
                    (false, Some(_)) if opts.docs.is_none() => "--servers",
                    _ => "--no-docs",
                };
                eprintln!("the guide was left alone ({why}); `--write-docs` writes it");
            }
            Ok(())
        })?;
    }
    steps.summary();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "{} server(s) failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        )))
    }
}

/// Arguments for the criterion binaries.
fn criterion_args(opts: &BenchOpts) -> Vec<String> {
    let quick = if opts.quick { QUICK_ARGS } else { &[] };
    quick
        .iter()
        .map(|s| s.to_string())
        .chain(opts.extra.iter().cloned())
        .collect()
}

fn bench_count(meta: &Metadata, wanted: impl Fn(&str) -> bool) -> usize {
    meta.packages
        .iter()
        .filter(|p| wanted(&p.name))
        .flat_map(|p| p.targets_of_kind("bench"))
        .count()
}

fn workspace_benches(ws: &Workspace, meta: &Metadata, opts: &BenchOpts) -> Result<()> {
    if bench_count(meta, |name| name != PEERS_PACKAGE) == 0 {
        eprintln!("no benchmark targets in the workspace yet");
        return Ok(());
    }
    // `--bench '*'` selects the bench targets only: the libtest harness of lib and bin
    // targets would reject criterion's options.
    let mut cmd = ws.cargo();
    cmd.args(["bench", "--workspace", "--bench", "*"]);
    if meta.packages.iter().any(|p| p.name == PEERS_PACKAGE) {
        cmd.args(["--exclude", PEERS_PACKAGE]);
    }
    cmd.arg("--");
    cmd.args(criterion_args(opts));
    steps::run(&mut cmd)
}

fn peer_benches(ws: &Workspace, meta: &Metadata, opts: &BenchOpts) -> Result<()> {
    if bench_count(meta, |name| name == PEERS_PACKAGE) == 0 {
        eprintln!("no {PEERS_PACKAGE} benchmarks in the workspace");
        return Ok(());
    }
    let mut cmd = ws.cargo();
    cmd.args(["bench", "-p", PEERS_PACKAGE, "--bench", "*", "--"]);
    cmd.args(criterion_args(opts));
    steps::run(&mut cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_args_come_before_extra_args() {
        let opts = BenchOpts {
            quick: true,
            extra: vec!["timers".into()],
            ..BenchOpts::default()
        };
        let args = criterion_args(&opts);
        assert_eq!(args.first().map(String::as_str), Some("--warm-up-time"));
        assert_eq!(args.last().map(String::as_str), Some("timers"));
        assert!(criterion_args(&BenchOpts::default()).is_empty());
    }

    #[test]
    fn quick_runs_leave_the_guide_alone_unless_asked() {
        let full = BenchOpts::default();
        assert!(full.writes_docs());
        assert_eq!(full.plan(), Plan::FULL);
        let quick = BenchOpts {
            quick: true,
            ..BenchOpts::default()
        };
        assert!(!quick.writes_docs());
        assert_eq!(quick.plan(), Plan::QUICK);
        let asked = BenchOpts {
            quick: true,
            docs: Some(true),
            duration_secs: Some(5),
            ..BenchOpts::default()
        };
        assert!(asked.writes_docs());
        assert_eq!(asked.plan().duration_secs, 5);
        assert_eq!(asked.plan().rounds, 1);
        let some = BenchOpts {
            servers: Some(vec!["thicket".into(), "hyper".into()]),
            ..BenchOpts::default()
        };
        assert!(
            !some.writes_docs(),
            "a table of some servers is not the guide's"
        );
        let some_asked = BenchOpts {
            docs: Some(true),
            ..some
        };
        assert!(some_asked.writes_docs());
    }

    #[test]
    fn forward_plan_and_commands_follow_the_options() {
        let full = BenchOpts::default();
        assert_eq!(full.forward_plan(), forward::Plan::FULL);
        assert!(!full.runs(Part::Render) && full.runs(Part::Forward));
        let quick = BenchOpts {
            quick: true,
            extra: vec!["timer".into()],
            ..BenchOpts::default()
        };
        assert_eq!(quick.forward_plan(), forward::Plan::QUICK);
        assert_eq!(
            quick.command("criterion"),
            "cargo xtask bench --only criterion --quick -- timer"
        );
        assert_eq!(
            quick.command("forward"),
            "cargo xtask bench --only forward --quick"
        );
    }

    #[test]
    fn only_selects_parts() {
        let all = BenchOpts::default();
        assert!(all.runs(Part::Criterion) && all.runs(Part::Http) && all.runs(Part::Memory));
        assert!(!all.runs(Part::Render));
        let http = BenchOpts {
            only: vec![Part::Http],
            ..BenchOpts::default()
        };
        assert!(http.runs(Part::Http) && !http.runs(Part::Criterion) && !http.runs(Part::Memory));
        assert_eq!(Part::parse("memory"), Some(Part::Memory));
        assert_eq!(Part::parse("wrk"), None);
    }
}
