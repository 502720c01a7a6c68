//! What `cargo xtask bench` records: the machine and tool versions, every metric as JSON
//! (`benchmarks.json`), and the comparison tables rendered from it into the guide's page
//! between marker comments, leaving the prose around them alone: the HTTP table drawn here,
//! the criterion and forwarder tables by `criterion.rs` and `forward.rs` ([`BLOCKS`]).
//!
//! The JSON has one section per suite (`http`, `memory`, `criterion`, `forward`); a run
//! replaces the sections it measured and keeps the others, and the tables are drawn from the
//! merged file, so `--only memory` refreshes the memory row without losing the HTTP rows.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::load::{self, HttpResults, ServerRow, Status, LOADS};
use crate::memory::{self, MemoryResults};
use crate::servers;
use crate::stats::{self, Better};
use crate::steps::{Error, Result};

/// The markers around the generated part of the guide's benchmark page.
pub const START_MARKER: &str = "<!-- bench:http:start -->";
pub const END_MARKER: &str = "<!-- bench:http:end -->";

/// The guide's page and the JSON next to it (mdBook copies it into the built book).
pub const DOCS_PAGE: &str = "docs/src/benchmarks.md";
pub const DOCS_JSON: &str = "docs/src/benchmarks.json";

/// The machine a run happened on, and when.
#[derive(Debug, Clone)]
pub struct Context {
    pub date: String,
    pub quick: bool,
    pub machine: Value,
    pub tools: Value,
}

impl Context {
    /// Reads the machine from `/proc` and the tool versions; `python` is the bench venv's.
    pub fn gather(root: &Path, quick: bool, python: Option<&Path>) -> Context {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or("unknown".to_string(), |(_, v)| v.trim().to_string());
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_gib = crate::procfs::status_field(&meminfo, "MemTotal")
            .and_then(|v| v.trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kib| (kib / 1_048_576.0 * 10.0).round() / 10.0);
        let os = fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                    .map(|v| v.trim_matches('"').to_string())
            })
            .unwrap_or_else(|| "unknown".to_string());
        let kernel = read_trim("/proc/sys/kernel/osrelease");
        let loadavg = read_trim("/proc/loadavg")
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ");
        let machine = json!({
            "cpu": cpu,
            "cores": cores,
            "memory_gib": mem_gib,
            "os": os,
            "kernel": kernel,
            "load_average_at_start": loadavg,
        });

        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let mut tools = Map::new();
        tools.insert(
            "rustc".into(),
            command_line(Command::new(rustc).arg("--version")).into(),
        );
        if let Some(python) = python {
            tools.insert(
                "python".into(),
                command_line(Command::new(python).arg("--version")).into(),
            );
            let script = "import importlib.metadata as m\n\
                          for p in ('eventlet', 'gevent', 'greenlet'):\n    \
                          print(p, m.version(p))";
            let versions = command_line(Command::new(python).args(["-c", script]));
            tools.insert(
                "python_packages".into(),
                versions.replace('\n', ", ").into(),
            );
        }
        let lock = fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
        let crates: Map<String, Value> = [
            "hyper",
            "hyper-util",
            "tokio",
            "may",
            "may_minihttp",
            "actix-web",
        ]
        .iter()
        .filter_map(|c| lock_version(&lock, c).map(|v| (c.to_string(), v.into())))
        .collect();
        tools.insert("crates".into(), Value::Object(crates));
        Context {
            date: today(),
            quick,
            machine,
            tools: Value::Object(tools),
        }
    }

    pub fn stamp(&self, section: &mut Map<String, Value>) {
        section.insert("date".into(), self.date.clone().into());
        section.insert("quick".into(), self.quick.into());
        section.insert("machine".into(), self.machine.clone());
        section.insert("tools".into(), self.tools.clone());
    }
}

fn read_trim(path: &str) -> String {
    fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The trimmed standard output (or error) of a command, or `unknown`.
fn command_line(cmd: &mut Command) -> String {
    match cmd.output() {
        Ok(o) if o.status.success() => {
            let out = String::from_utf8_lossy(&o.stdout).trim().to_string();
            if out.is_empty() {
                String::from_utf8_lossy(&o.stderr).trim().to_string()
            } else {
                out
            }
        }
        _ => "unknown".to_string(),
    }
}

/// The version of `name` in a Cargo.lock text (the first one listed).
pub fn lock_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let version = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(version.trim_end_matches('"').to_string());
        }
    }
    None
}

/// Today's date (UTC) as `YYYY-MM-DD`.
pub fn today() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    civil_date(days as i64)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
pub fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn servers_json(rows: &[ServerRow]) -> Value {
    rows.iter()
        .map(|r| {
            let (status, note) = match &r.status {
                Status::Measured => ("measured", None),
                Status::Skipped(why) => ("skipped", Some(why.clone())),
                Status::Failed(why) => ("failed", Some(why.clone())),
            };
            json!({
                "name": r.spec.name,
                "column": r.spec.column,
                "title": r.spec.title,
                "command": r.command,
                "status": status,
                "note": note,
            })
        })
        .collect()
}

/// `{"median": m, "runs": [...]}`, `null` for a missing run.
fn metric(runs: &[Option<f64>]) -> Value {
    let present: Vec<f64> = runs.iter().flatten().copied().collect();
    json!({ "median": stats::median(&present), "runs": runs })
}

fn median_of(v: &Value) -> Option<f64> {
    v.get("median").and_then(Value::as_f64)
}

/// The `http` section.
pub fn http_json(r: &HttpResults, ctx: &Context) -> Value {
    let mut results = Map::new();
    for load in LOADS {
        let mut per_server = Map::new();
        for row in &r.servers {
            let Some(reports) = r.runs.get(&(row.spec.name, load.name)) else {
                continue;
            };
            let ms = |f: fn(&crate::wrk::Report) -> Option<f64>| -> Vec<Option<f64>> {
                reports.iter().map(|x| f(x).map(|us| us / 1e3)).collect()
            };
            per_server.insert(
                row.spec.name.into(),
                json!({
                    "requests_per_sec": metric(
                        &reports.iter().map(|x| Some(x.requests_per_sec)).collect::<Vec<_>>()
                    ),
                    "p50_ms": metric(&ms(|x| x.p50_us)),
                    "p99_ms": metric(&ms(|x| x.p99_us)),
                    "latency_avg_ms": metric(&ms(|x| x.latency_avg_us)),
                    "latency_max_ms": metric(&ms(|x| x.latency_max_us)),
                    "socket_errors": reports.iter().map(|x| x.errors.total()).sum::<u64>(),
                    "timeouts": reports.iter().map(|x| x.errors.timeout).sum::<u64>(),
                    "non_2xx": reports.iter().map(|x| x.non_2xx).sum::<u64>(),
                }),
            );
        }
        results.insert(load.name.into(), Value::Object(per_server));
    }
    let ratios = ratios(
        &results,
        &[
            ("requests_per_sec", Better::Higher),
            ("p50_ms", Better::Lower),
            ("p99_ms", Better::Lower),
        ],
    );
    let mut section = Map::new();
    ctx.stamp(&mut section);
    section.insert(
        "method".into(),
        json!({
            "rounds": r.plan.rounds,
            "duration_secs": r.plan.duration_secs,
            "warmup_secs": r.plan.warmup_secs,
            "wrk_threads": load::WRK_THREADS,
            "server_threads": servers::THREADS,
            "wrk": r.wrk_version,
            "order": "servers alternated within each round; a fresh server process per round",
        }),
    );
    section.insert(
        "loads".into(),
        LOADS
            .iter()
            .map(|l| {
                let command = r.commands.iter().find(|(n, _)| *n == l.name).map(|c| &c.1);
                json!({
                    "name": l.name,
                    "title": l.title,
                    "connections": l.connections,
                    "pipeline_depth": l.pipelined.then_some(crate::wrk::PIPELINE_DEPTH),
                    "command": command,
                })
            })
            .collect(),
    );
    section.insert("servers".into(), servers_json(&r.servers));
    section.insert("results".into(), Value::Object(results));
    section.insert(
        "ratios_note".into(),
        "thicket's advantage: thicket/peer for requests_per_sec, peer/thicket for latency; \
         above 1 means thicket is ahead"
            .into(),
    );
    section.insert("ratios".into(), ratios);
    Value::Object(section)
}

/// For each load: peer -> metric -> thicket's advantage (absent without thicket).
fn ratios(results: &Map<String, Value>, metrics: &[(&str, Better)]) -> Value {
    let mut out = Map::new();
    for (load, per_server) in results {
        let Some(thicket) = per_server.get("thicket") else {
            continue;
        };
        let mut peers = Map::new();
        for (peer, m) in per_server.as_object().into_iter().flatten() {
            if peer == "thicket" {
                continue;
            }
            let r: Map<String, Value> = metrics
                .iter()
                .map(|(name, better)| {
                    let a =
                        stats::advantage(median_of(&thicket[*name]), median_of(&m[*name]), *better);
                    (name.to_string(), a.into())
                })
                .collect();
            peers.insert(peer.clone(), Value::Object(r));
        }
        out.insert(load.clone(), Value::Object(peers));
    }
    Value::Object(out)
}

/// The `memory` section.
pub fn memory_json(r: &MemoryResults, ctx: &Context) -> Value {
    let mut results = Map::new();
    for row in &r.servers {
        let samples = r.samples_of(row.spec.name);
        if samples.is_empty() {
            continue;
        }
        results.insert(
            row.spec.name.into(),
            json!({
                "kib_per_connection": metric(
                    &samples.iter().map(|s| Some(s.per_connection_kib())).collect::<Vec<_>>()
                ),
                "connections": samples.iter().map(|s| s.connections).min(),
                "rss_before_kib": samples.iter().map(|s| s.before_kib).collect::<Vec<_>>(),
                "rss_after_kib": samples.iter().map(|s| s.after_kib).collect::<Vec<_>>(),
            }),
        );
    }
    let mut wrapped = Map::new();
    wrapped.insert("idle".into(), Value::Object(results.clone()));
    let ratios = ratios(&wrapped, &[("kib_per_connection", Better::Lower)]);
    let mut section = Map::new();
    ctx.stamp(&mut section);
    section.insert("rounds".into(), r.rounds.into());
    section.insert("connections_wanted".into(), r.asked.into());
    section.insert("connections".into(), r.wanted.into());
    section.insert("limited_by".into(), r.limited_by.clone().into());
    section.insert("method".into(), memory::describe(r.wanted).into());
    section.insert("servers".into(), servers_json(&r.servers));
    section.insert("results".into(), Value::Object(results));
    section.insert(
        "ratios".into(),
        ratios.get("idle").cloned().unwrap_or(Value::Null),
    );
    Value::Object(section)
}

/// `existing` with the given sections replaced (a non-object `existing` starts afresh).
pub fn merge(existing: Option<Value>, sections: &[(&str, Value)]) -> Value {
    let mut doc = match existing {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    doc.insert(
        "generated_by".into(),
        "cargo xtask bench (xtask/src/report.rs); medians over rounds".into(),
    );
    for (name, value) in sections {
        doc.insert(name.to_string(), value.clone());
    }
    Value::Object(doc)
}

/// The columns of the table: servers measured in either section, in the order of
/// [`servers::ALL`].
fn columns(doc: &Value) -> Vec<(&'static str, &'static str)> {
    let measured = |section: &str, name: &str| {
        doc[section]["results"]
            .as_object()
            .is_some_and(|r| r.contains_key(name) || r.values().any(|l| l.get(name).is_some()))
    };
    servers::ALL
        .iter()
        .filter(|s| measured("http", s.name) || measured("memory", s.name))
        .map(|s| (s.name, s.column))
        .collect()
}

fn cell(value: Option<f64>, ratio: Option<f64>, show: impl Fn(f64) -> String) -> String {
    match (value, ratio) {
        (None, _) => "n/a".to_string(),
        (Some(v), None) => show(v),
        (Some(v), Some(r)) => format!("{} ({r:.2}x)", show(v)),
    }
}

/// The Markdown between the markers: one table with every server side by side, then how
/// it was measured.
pub fn render(doc: &Value) -> String {
    let cols = columns(doc);
    let mut out = String::from(
        "<!-- Generated by `cargo xtask bench` from benchmarks.json: edit xtask/src/report.rs, \
         not this table. -->\n\n",
    );
    if cols.is_empty() {
        out.push_str("No HTTP measurement yet: run `cargo xtask bench`.\n");
        return out;
    }
    let http = &doc["http"];
    let memory = &doc["memory"];
    let has_thicket = cols.iter().any(|(n, _)| *n == "thicket");
    out.push_str("| |");
    for (_, column) in &cols {
        let _ = write!(out, " {column} |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(cols.len()));
    out.push('\n');

    // One row: a title, then (median, thicket's advantage) for each column.
    let mut row = |title: &str, cells: Vec<(Option<f64>, Option<f64>)>, show: fn(f64) -> String| {
        let _ = write!(out, "| {title} |");
        for (v, r) in cells {
            let _ = write!(out, " {} |", cell(v, r, show));
        }
        out.push('\n');
    };
    let rps: fn(f64) -> String = load::thousands;
    let ms: fn(f64) -> String = load::format_ms;
    for l in http["loads"].as_array().into_iter().flatten() {
        let load = l["name"].as_str().unwrap_or_default();
        let title = l["title"].as_str().unwrap_or_default();
        for (metric, label, show) in [
            ("requests_per_sec", "req/s", rps),
            ("p50_ms", "p50", ms),
            ("p99_ms", "p99", ms),
        ] {
            let cells = cols
                .iter()
                .map(|(name, _)| {
                    (
                        median_of(&http["results"][load][name][metric]),
                        http["ratios"][load][name][metric].as_f64(),
                    )
                })
                .collect();
            row(&format!("{label}, {title}"), cells, show);
        }
    }
    if memory["results"].is_object() {
        let n = memory["connections"].as_u64().unwrap_or(0);
        let cells = cols
            .iter()
            .map(|(name, _)| {
                (
                    median_of(&memory["results"][name]["kib_per_connection"]),
                    memory["ratios"][name]["kib_per_connection"].as_f64(),
                )
            })
            .collect();
        row(
            &format!(
                "KiB per idle connection ({} open)",
                load::thousands(n as f64)
            ),
            cells,
            |v| format!("{v:.1}"),
        );
    }
    out.push('\n');

    if has_thicket {
        out.push_str(
            "In brackets, how far ahead thicket is: its requests per second over the peer's, \
             the peer's latency or memory over thicket's; above 1 means thicket is ahead.\n",
        );
    } else {
        let why = [http, memory]
            .iter()
            .flat_map(|s| s["servers"].as_array().into_iter().flatten())
            .find(|s| s["name"] == "thicket")
            .and_then(|s| s["note"].as_str())
            .unwrap_or("not run");
        let _ = writeln!(out, "thicket is not in the table: {why}.");
    }
    out.push('\n');
    // One line for both sections when they come from the same run.
    let same_run = ["date", "quick", "machine", "tools"]
        .iter()
        .all(|k| http[*k] == memory[*k]);
    let stamps: &[(&str, &Value)] = if same_run && http.is_object() {
        &[("HTTP and memory", http)]
    } else {
        &[("HTTP", http), ("Memory", memory)]
    };
    for &(name, section) in stamps {
        if !section.is_object() {
            continue;
        }
        write_stamp(&mut out, name, section);
    }
    if http.is_object() {
        let method = &http["method"];
        let _ = writeln!(
            out,
            "- Method: median of {} round(s); in each round the servers take turns, each \
             started afresh on a free port of 127.0.0.1, warmed up for {} s, then run under \
             each load for {} s; wrk ({} threads) shares the cores with the server ({} \
             threads).",
            method["rounds"],
            method["warmup_secs"],
            method["duration_secs"],
            method["wrk_threads"],
            method["server_threads"],
        );
        for l in http["loads"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "  - {}: `{}`",
                l["title"].as_str().unwrap_or("?"),
                l["command"].as_str().unwrap_or("?")
            );
        }
    }
    if memory.is_object() {
        let _ = write!(
            out,
            "- Memory: {} round(s), a fresh server each; {}",
            memory["rounds"],
            memory["method"].as_str().unwrap_or("?")
        );
        if let Some(why) = memory["limited_by"].as_str() {
            let _ = write!(
                out,
                " ({} connections wanted; fewer because {why})",
                memory["connections_wanted"]
            );
        }
        out.push_str(". User-space memory only: kernel socket buffers are not counted.\n");
    }
    out.push_str("- Servers:\n");
    for (name, column) in &cols {
        let entry = [http, memory]
            .iter()
            .flat_map(|s| s["servers"].as_array().into_iter().flatten())
            .find(|s| s["name"] == *name);
        if let Some(s) = entry {
            let _ = writeln!(
                out,
                "  - {column}: {}: `{}`",
                s["title"].as_str().unwrap_or("?"),
                s["command"].as_str().unwrap_or("?")
            );
        }
    }
    let mut notes = Vec::new();
    for section in [http, memory] {
        for s in section["servers"].as_array().into_iter().flatten() {
            if s["status"] == "failed" {
                notes.push(format!(
                    "{} failed: {}",
                    s["name"].as_str().unwrap_or("?"),
                    first_line(s["note"].as_str().unwrap_or("?"))
                ));
            }
        }
    }
    for l in http["loads"].as_array().into_iter().flatten() {
        let load = l["title"].as_str().unwrap_or("?");
        let per_server = &http["results"][l["name"].as_str().unwrap_or("?")];
        for (server, m) in per_server.as_object().into_iter().flatten() {
            let errors = m["socket_errors"].as_u64().unwrap_or(0);
            let non_2xx = m["non_2xx"].as_u64().unwrap_or(0);
            if errors > 0 || non_2xx > 0 {
                notes.push(format!(
                    "{server}, {load}: {errors} socket errors ({} timeouts), {non_2xx} \
                     non-2xx responses over all rounds",
                    m["timeouts"]
                ));
            }
        }
    }
    if !notes.is_empty() {
        out.push_str("- Errors:\n");
        for n in notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    out
}

/// The line saying when, on what machine and with which tools `section` was measured:
/// `- {name}: measured 2026-11-22 on ... .`, and a warning for a `--quick` run.
pub fn write_stamp(out: &mut String, name: &str, section: &Value) {
    let m = &section["machine"];
    let t = &section["tools"];
    let _ = write!(
        out,
        "- {name}: measured {} on {} ({} cores, {} GiB), {}, Linux {}, load average {} \
         at the start; {}",
        section["date"].as_str().unwrap_or("?"),
        m["cpu"].as_str().unwrap_or("?"),
        m["cores"],
        m["memory_gib"],
        m["os"].as_str().unwrap_or("?"),
        m["kernel"].as_str().unwrap_or("?"),
        m["load_average_at_start"].as_str().unwrap_or("?"),
        t["rustc"].as_str().unwrap_or("rustc ?"),
    );
    if let Some(wrk) = section["method"]["wrk"].as_str() {
        let _ = write!(out, ", {wrk}");
    }
    if let Some(py) = t["python"].as_str() {
        let _ = write!(
            out,
            ", {py} ({})",
            t["python_packages"].as_str().unwrap_or("?")
        );
    }
    if let Some(crates) = t["crates"].as_object() {
        let list: Vec<String> = crates
            .iter()
            .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or("?")))
            .collect();
        let _ = write!(out, ", {}", list.join(", "));
    }
    out.push_str(".\n");
    if section["quick"] == true {
        out.push_str(
            "  A `--quick` run: one short round, to check the harness, not figures to \
             publish.\n",
        );
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// `text` with what lies between the `start` and `end` marker lines replaced by `body`.
///
/// # Errors
///
/// A marker missing or present twice, or the end marker before the start one.
pub fn replace_between(
    text: &str,
    start: &str,
    end: &str,
    body: &str,
) -> std::result::Result<String, String> {
    let find_once = |marker: &str| match text.match_indices(marker).collect::<Vec<_>>()[..] {
        [(i, _)] => Ok(i),
        [] => Err(format!("no `{marker}` marker")),
        _ => Err(format!("`{marker}` appears more than once")),
    };
    let s = find_once(start)?;
    let e = find_once(end)?;
    if e < s {
        return Err(format!("`{end}` comes before `{start}`"));
    }
    let body = body.trim_matches('\n');
    Ok(format!("{}{start}\n{body}\n{}", &text[..s], &text[e..]))
}

/// A generated part of the guide's page: its markers, and how it is drawn from the JSON
/// (`None`: its section is not there, so the page is left as it is).
type Block = (&'static str, &'static str, fn(&Value) -> Option<String>);

const BLOCKS: &[Block] = &[
    (START_MARKER, END_MARKER, |doc| Some(render(doc))),
    (
        crate::criterion::START_MARKER,
        crate::criterion::END_MARKER,
        crate::criterion::render,
    ),
    (
        crate::forward::START_MARKER,
        crate::forward::END_MARKER,
        crate::forward::render,
    ),
    (
        crate::ws_bench::START_MARKER,
        crate::ws_bench::END_MARKER,
        crate::ws_bench::render,
    ),
];

/// `page` with every block whose section `doc` holds drawn again between its markers.
fn render_page(page: &str, doc: &Value) -> std::result::Result<String, String> {
    let mut text = page.to_string();
    for (start, end, draw) in BLOCKS {
        if let Some(body) = draw(doc) {
            text = replace_between(&text, start, end, &body)?;
        }
    }
    Ok(text)
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)
            .map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
    }
    fs::write(path, text).map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))
}

/// Writes `json` (merged with the file's previous sections) to `json_path` and returns the
/// merged document.
fn write_json(json_path: &Path, sections: &[(&str, Value)]) -> Result<Value> {
    let doc = merge(read_json(json_path), sections);
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
    write_file(json_path, &text)?;
    Ok(doc)
}

/// Records a run: always under `work` (`benchmarks.json`, `benchmarks.md`), and into the
/// guide (`docs/src/benchmarks.json` and the marked part of `docs/src/benchmarks.md`) when
/// `docs` is set. Returns the rendered table.
pub fn write(root: &Path, work: &Path, sections: &[(&str, Value)], docs: bool) -> Result<String> {
    let doc = write_json(&work.join("benchmarks.json"), sections)?;
    let table = render(&doc);
    write_file(&work.join("benchmarks.md"), &table)?;
    eprintln!(
        "written to {} and {}",
        work.join("benchmarks.json").display(),
        work.join("benchmarks.md").display()
    );
    if docs {
        let page = root.join(DOCS_PAGE);
        let text = fs::read_to_string(&page)
            .map_err(|e| Error::new(format!("cannot read {}: {e}", page.display())))?;
        let doc = write_json(&root.join(DOCS_JSON), sections)?;
        let updated =
            render_page(&text, &doc).map_err(|e| Error::new(format!("{}: {e}", page.display())))?;
        write_file(&page, &updated)?;
        eprintln!("written to {DOCS_PAGE} and {DOCS_JSON}");
    }
    Ok(table)
}

/// Draws the guide's table again from `docs/src/benchmarks.json`, measuring nothing (after a
/// change to how the table is drawn).
pub fn rerender(root: &Path) -> Result<()> {
    let json = root.join(DOCS_JSON);
    let doc = read_json(&json)
        .ok_or_else(|| Error::new(format!("cannot read {} as JSON", json.display())))?;
    let page = root.join(DOCS_PAGE);
    let text = fs::read_to_string(&page)
        .map_err(|e| Error::new(format!("cannot read {}: {e}", page.display())))?;
    let updated =
        render_page(&text, &doc).map_err(|e| Error::new(format!("{}: {e}", page.display())))?;
    write_file(&page, &updated)?;
    eprintln!("{DOCS_PAGE} drawn again from {DOCS_JSON}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_replace_only_what_lies_between_them() {
        let page = "# Benchmarks\n\nProse.\n\n<!-- bench:http:start -->\nold table\n\
                    <!-- bench:http:end -->\n\nMore prose.\n";
        let once = replace_between(page, START_MARKER, END_MARKER, "| new |\n").unwrap();
        assert_eq!(
            once,
            "# Benchmarks\n\nProse.\n\n<!-- bench:http:start -->\n| new |\n\
             <!-- bench:http:end -->\n\nMore prose.\n"
        );
        // Idempotent: a second run with the same table changes nothing.
        assert_eq!(
            replace_between(&once, START_MARKER, END_MARKER, "| new |\n").unwrap(),
            once
        );
        // Empty between the markers at first.
        let empty = "a\n<!-- bench:http:start -->\n<!-- bench:http:end -->\nb\n";
        assert_eq!(
            replace_between(empty, START_MARKER, END_MARKER, "x").unwrap(),
            "a\n<!-- bench:http:start -->\nx\n<!-- bench:http:end -->\nb\n"
        );
    }

    #[test]
    fn missing_doubled_or_swapped_markers_are_errors() {
        let r = |t: &str| replace_between(t, START_MARKER, END_MARKER, "x").unwrap_err();
        assert_eq!(r("no markers"), "no `<!-- bench:http:start -->` marker");
        assert_eq!(
            r("<!-- bench:http:start -->\n"),
            "no `<!-- bench:http:end -->` marker"
        );
        assert_eq!(
            r("<!-- bench:http:end -->\n<!-- bench:http:start -->\n"),
            "`<!-- bench:http:end -->` comes before `<!-- bench:http:start -->`"
        );
        assert_eq!(
            r("<!-- bench:http:start -->\n<!-- bench:http:start -->\n<!-- bench:http:end -->"),
            "`<!-- bench:http:start -->` appears more than once"
        );
    }

    #[test]
    fn the_page_gets_each_block_whose_section_is_measured() {
        let page = "<!-- bench:criterion:start -->\nold criterion\n<!-- bench:criterion:end -->\n\
                    <!-- bench:http:start -->\n<!-- bench:http:end -->\n\
                    <!-- bench:forward:start -->\nold forward\n<!-- bench:forward:end -->\n";
        let doc = json!({ "criterion": { "groups": {} } });
        let text = render_page(page, &doc).unwrap();
        assert!(
            text.contains("No criterion comparison measured yet"),
            "{text}"
        );
        assert!(!text.contains("old criterion"), "{text}");
        assert!(text.contains("No HTTP measurement yet"), "{text}");
        // No forward section in the JSON: that table stays as it was.
        assert!(text.contains("old forward"), "{text}");
        // A section without its markers on the page is an error, not a silent skip.
        let err = render_page("<!-- bench:http:start -->\n<!-- bench:http:end -->\n", &doc);
        assert_eq!(
            err.unwrap_err(),
            "no `<!-- bench:criterion:start -->` marker"
        );
    }

    #[test]
    fn dates_from_day_counts() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(20_779), "2026-11-22");
        assert_eq!(civil_date(-1), "1969-12-31");
    }

    #[test]
    fn versions_from_cargo_lock() {
        let lock = "[[package]]\nname = \"hyper\"\nversion = \"1.12.0\"\n\n\
                    [[package]]\nname = \"hyper-util\"\nversion = \"0.1.21\"\n";
        assert_eq!(lock_version(lock, "hyper").as_deref(), Some("1.12.0"));
        assert_eq!(lock_version(lock, "hyper-util").as_deref(), Some("0.1.21"));
        assert_eq!(lock_version(lock, "tokio"), None);
    }

    #[test]
    fn merge_replaces_measured_sections_and_keeps_the_others() {
        let old = json!({ "http": { "date": "old" }, "memory": { "date": "old" } });
        let doc = merge(Some(old), &[("memory", json!({ "date": "new" }))]);
        assert_eq!(doc["http"]["date"], "old");
        assert_eq!(doc["memory"]["date"], "new");
        let fresh = merge(Some(json!([1, 2])), &[("http", json!({}))]);
        assert!(fresh["http"].is_object());
    }

    fn results_doc(with_thicket: bool) -> Value {
        let m = |v: f64| json!({ "median": v, "runs": [v] });
        let server = |rps: f64, p50: f64, p99: f64| {
            json!({
                "requests_per_sec": m(rps), "p50_ms": m(p50), "p99_ms": m(p99),
                "socket_errors": 0, "timeouts": 0, "non_2xx": 0,
            })
        };
        let mut results = Map::new();
        let mut c64 = Map::new();
        if with_thicket {
            c64.insert("thicket".into(), server(120_000.0, 0.25, 1.0));
        }
        c64.insert("hyper".into(), server(100_000.0, 0.5, 1.0));
        results.insert("c64".into(), Value::Object(c64));
        let mut section = Map::new();
        section.insert("results".into(), Value::Object(results.clone()));
        section.insert(
            "ratios".into(),
            ratios(
                &results,
                &[
                    ("requests_per_sec", Better::Higher),
                    ("p50_ms", Better::Lower),
                    ("p99_ms", Better::Lower),
                ],
            ),
        );
        section.insert(
            "loads".into(),
            json!([{ "name": "c64", "title": "64 connections", "command": "wrk -c64" }]),
        );
        section.insert(
            "servers".into(),
            json!([
                { "name": "thicket", "status": if with_thicket { "measured" } else { "skipped" },
                  "note": "no hello example yet", "title": "thicket", "command": "hello" },
                { "name": "hyper", "status": "measured", "title": "hyper", "command": "hyper_hello" },
            ]),
        );
        json!({ "http": Value::Object(section) })
    }

    #[test]
    fn table_puts_servers_side_by_side_with_thickets_advantage() {
        let doc = results_doc(true);
        assert_eq!(
            doc["http"]["ratios"]["c64"]["hyper"],
            json!({ "requests_per_sec": 1.2, "p50_ms": 2.0, "p99_ms": 1.0 })
        );
        let text = render(&doc);
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(
            rows,
            [
                "| | thicket | hyper |",
                "|---|---:|---:|",
                "| req/s, 64 connections | 120,000 | 100,000 (1.20x) |",
                "| p50, 64 connections | 0.25 ms | 0.50 ms (2.00x) |",
                "| p99, 64 connections | 1.00 ms | 1.00 ms (1.00x) |",
            ]
        );
        assert!(text.contains("above 1 means thicket is ahead"));
    }

    #[test]
    fn table_without_thicket_says_why_and_has_no_ratios() {
        let text = render(&results_doc(false));
        assert!(
            text.contains("| req/s, 64 connections | 100,000 |"),
            "{text}"
        );
        assert!(!text.contains("x)"), "{text}");
        assert!(
            text.contains("thicket is not in the table: no hello example yet."),
            "{text}"
        );
    }
}
