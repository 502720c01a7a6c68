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

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{json, Map, Value};

use crate::load::{self, Plan};
use crate::memory;
use crate::metadata::Metadata;
use crate::report::{self, Context};
use crate::servers::{self, Kind, Readiness};
use crate::steps::{self, Error, Result, Steps, Workspace};

/// A part of `cargo xtask bench`, as `--only` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The criterion benchmarks and their summary.
    Criterion,
    /// wrk against every HTTP server.
    Http,
    /// Resident memory per idle connection.
    Memory,
    /// Only draw the guide's table again from `docs/src/benchmarks.json`; never implied.
    Render,
}

impl Part {
    pub const ALL: &'static [(&'static str, Part)] = &[
        ("criterion", Part::Criterion),
        ("http", Part::Http),
        ("memory", Part::Memory),
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
    /// `None`: yes for a full run, no with `--quick` (so CI leaves the tree clean).
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
        self.docs.unwrap_or(!self.quick)
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

/// The criterion function name of thicket's own variant in a comparison group.
const THICKET: &str = "thicket";

/// Peers shown first, in this order; any other peer follows alphabetically.
const PEER_ORDER: &[&str] = &["tokio", "may"];

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
            if let Some(groups) = summary(&meta.target_directory, started)? {
                let ctx = Context::gather(&ws.root, opts.quick, None);
                sections.push(("criterion", criterion_json(groups, &ctx, opts)));
            }
            Ok(())
        })?;
    }

    let (http, mem) = (opts.runs(Part::Http), opts.runs(Part::Memory));
    if http || mem {
        let specs = servers::select(opts.servers.as_deref())?;
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
                    opts.connections.unwrap_or(memory::CONNECTIONS),
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
                eprintln!(
                    "the guide was left alone ({}); `--write-docs` writes it",
                    if opts.quick { "--quick" } else { "--no-docs" }
                );
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

/// The `criterion` section of benchmarks.json: group -> medians (ns) and peer / thicket.
fn criterion_json(
    groups: BTreeMap<String, BTreeMap<String, f64>>,
    ctx: &Context,
    opts: &BenchOpts,
) -> Value {
    let mut section = Map::new();
    ctx.stamp(&mut section);
    let mut command = String::from("cargo xtask bench");
    if opts.quick {
        command.push_str(" --quick");
    }
    if !opts.extra.is_empty() {
        command.push_str(" -- ");
        command.push_str(&opts.extra.join(" "));
    }
    section.insert("command".into(), command.into());
    section.insert(
        "ratios_note".into(),
        "peer median / thicket median: above 1 means thicket is faster".into(),
    );
    let groups: Map<String, Value> = groups
        .into_iter()
        .map(|(group, f)| {
            let thicket = f[THICKET];
            let ratios: Map<String, Value> = f
                .iter()
                .filter(|(p, _)| p.as_str() != THICKET)
                .map(|(p, ns)| (p.clone(), json!(ns / thicket)))
                .collect();
            (group, json!({ "median_ns": f, "ratios": ratios }))
        })
        .collect();
    section.insert("groups".into(), Value::Object(groups));
    Value::Object(section)
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

/// One criterion result: a median in nanoseconds.
#[derive(Debug, Clone, PartialEq)]
struct Measured {
    group: String,
    function: String,
    median_ns: f64,
}

/// Reads `<dir>/new/benchmark.json` and `<dir>/new/estimates.json` if both exist and the
/// estimates were written at or after `since`.
fn read_result(dir: &Path, since: SystemTime) -> Option<Measured> {
    let new = dir.join("new");
    let estimates = new.join("estimates.json");
    let written = fs::metadata(&estimates).and_then(|m| m.modified()).ok()?;
    if written < since {
        return None;
    }
    let id: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(new.join("benchmark.json")).ok()?).ok()?;
    let est: serde_json::Value = serde_json::from_str(&fs::read_to_string(estimates).ok()?).ok()?;
    Some(Measured {
        group: id["group_id"].as_str()?.to_string(),
        function: id["function_id"].as_str()?.to_string(),
        median_ns: est["median"]["point_estimate"].as_f64()?,
    })
}

/// Every result under criterion's folder written at or after `since`.
fn collect(criterion_dir: &Path, since: SystemTime) -> Vec<Measured> {
    fn walk(dir: &Path, depth: usize, since: SystemTime, out: &mut Vec<Measured>) {
        if let Some(m) = read_result(dir, since) {
            out.push(m);
        }
        if depth == 0 {
            return;
        }
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .filter(|p| !p.ends_with("new") && !p.ends_with("base") && !p.ends_with("report"))
            .collect();
        dirs.sort();
        for d in dirs {
            walk(&d, depth - 1, since, out);
        }
    }
    let mut out = Vec::new();
    // criterion/<group>/<function>/new/: two levels below criterion's folder.
    walk(criterion_dir, 2, since, &mut out);
    out
}

/// The groups that have a thicket result and at least one peer: group -> function -> median.
fn comparisons(results: &[Measured]) -> BTreeMap<&str, BTreeMap<&str, f64>> {
    let mut groups: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
    for m in results {
        groups
            .entry(&m.group)
            .or_default()
            .insert(&m.function, m.median_ns);
    }
    groups.retain(|_, f| f.contains_key(THICKET) && f.len() > 1);
    groups
}

fn peer_columns<'a>(groups: &BTreeMap<&str, BTreeMap<&'a str, f64>>) -> Vec<&'a str> {
    let mut peers: Vec<&str> = groups
        .values()
        .flat_map(|f| f.keys().copied())
        .filter(|f| *f != THICKET)
        .collect();
    peers.sort_by_key(|p| {
        (
            PEER_ORDER.iter().position(|o| o == p).unwrap_or(usize::MAX),
            *p,
        )
    });
    peers.dedup();
    peers
}

fn format_time(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.1} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

/// The Markdown table: medians, then each peer's median over thicket's (how many times faster
/// thicket is).
fn table(groups: &BTreeMap<&str, BTreeMap<&str, f64>>) -> String {
    let peers = peer_columns(groups);
    let mut out = String::from("| group | thicket |");
    for p in &peers {
        let _ = write!(out, " {p} |");
    }
    for p in &peers {
        let _ = write!(out, " {p} / thicket |");
    }
    out.push_str("\n|---|---:|");
    out.push_str(&"---:|".repeat(2 * peers.len()));
    out.push('\n');
    for (group, f) in groups {
        let thicket = f[THICKET];
        let _ = write!(out, "| {group} | {} |", format_time(thicket));
        for p in &peers {
            let cell = f
                .get(p)
                .map_or_else(|| "n/a".to_string(), |&ns| format_time(ns));
            let _ = write!(out, " {cell} |");
        }
        for p in &peers {
            let cell = f
                .get(p)
                .map_or_else(|| "n/a".to_string(), |&ns| format!("{:.1}x", ns / thicket));
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
    out
}

/// Prints and writes the table; returns the groups compared (`None` if there were none).
fn summary(
    target_dir: &Path,
    since: SystemTime,
) -> Result<Option<BTreeMap<String, BTreeMap<String, f64>>>> {
    let results = collect(&target_dir.join("criterion"), since);
    let groups = comparisons(&results);
    if groups.is_empty() {
        eprintln!("no group with thicket and a peer was measured in this run");
        return Ok(None);
    }
    let text = format!(
        "# thicket against its peers\n\nCriterion medians per operation from `cargo xtask \
         bench`; a ratio is the peer's median over thicket's (how many times faster thicket \
         is).\n\n{}",
        table(&groups)
    );
    println!("\n{text}");
    let path = target_dir.join("bench-summary.md");
    fs::write(&path, &text)
        .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    eprintln!("written to {}", path.display());
    Ok(Some(
        groups
            .into_iter()
            .map(|(g, f)| {
                let f = f.into_iter().map(|(p, ns)| (p.to_string(), ns)).collect();
                (g.to_string(), f)
            })
            .collect(),
    ))
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

    fn m(group: &str, function: &str, median_ns: f64) -> Measured {
        Measured {
            group: group.into(),
            function: function.into(),
            median_ns,
        }
    }

    #[test]
    fn table_has_medians_and_ratios_for_groups_with_thicket_and_a_peer() {
        let results = [
            m("spawn_join", "may", 1_060.0),
            m("spawn_join", "thicket", 20.0),
            m("spawn_join", "tokio", 276.0),
            m("ping_pong", "thicket", 30.0),
            m("ping_pong", "tokio", 138.0),
            m("timer", "thicket", 5.0),
            m("green/yield_now", "one_green_thread", 9.0),
        ];
        let t = table(&comparisons(&results));
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines,
            [
                "| group | thicket | tokio | may | tokio / thicket | may / thicket |",
                "|---|---:|---:|---:|---:|---:|",
                "| ping_pong | 30.0 ns | 138.0 ns | n/a | 4.6x | n/a |",
                "| spawn_join | 20.0 ns | 276.0 ns | 1.06 µs | 13.8x | 53.0x |",
            ]
        );
    }

    #[test]
    fn only_results_of_this_run_are_read() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let write = |rel: &str, group: &str, function: &str, median: f64| {
            let new = dir.join(rel).join("new");
            fs::create_dir_all(&new).unwrap();
            let id = serde_json::json!({ "group_id": group, "function_id": function });
            let est = serde_json::json!({ "median": { "point_estimate": median } });
            fs::write(new.join("benchmark.json"), id.to_string()).unwrap();
            fs::write(new.join("estimates.json"), est.to_string()).unwrap();
        };
        write("spawn_join/thicket", "spawn_join", "thicket", 20.0);
        write("spawn_join/tokio", "spawn_join", "tokio", 276.0);
        let mut found = collect(&dir, SystemTime::UNIX_EPOCH);
        found.sort_by(|a, b| a.function.cmp(&b.function));
        assert_eq!(
            found,
            [
                m("spawn_join", "thicket", 20.0),
                m("spawn_join", "tokio", 276.0)
            ]
        );
        let later = SystemTime::now() + std::time::Duration::from_secs(3600);
        assert!(collect(&dir, later).is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }
}
