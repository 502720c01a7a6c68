//! The criterion part of `cargo xtask bench`, after the benchmarks ran: every comparison
//! group measured in this run (a `thicket` function and at least one peer, from
//! `xtask/peers/benches/peers.rs`), as the `criterion` section of `benchmarks.json` and as
//! the tables drawn from it: printed, written to `target/bench-summary.md`, and into the
//! guide between [`START_MARKER`] and [`END_MARKER`].
//!
//! A row is named by [`GROUPS`] (group id -> what a reader sees), which also orders the rows
//! and puts each in one of the tables. Peers of [`PEER_ORDER`] get columns; any other
//! function of a group (`direct`, `thicket_splice` in `forward`) is listed under the tables.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{json, Map, Value};

use crate::report::{self, Context};
use crate::steps::{Error, Result};

/// The markers around the generated criterion tables in the guide's page.
pub const START_MARKER: &str = "<!-- bench:criterion:start -->";
pub const END_MARKER: &str = "<!-- bench:criterion:end -->";

/// The criterion function name of thicket's own variant in a comparison group.
const THICKET: &str = "thicket";

/// Peers that get a column, in this order.
const PEER_ORDER: &[&str] = &["tokio", "may"];

/// The tables, in page order.
const TABLES: &[&str] = &["Green threads and timers", "Sockets"];

/// A comparison group as the guide shows it.
struct Group {
    id: &'static str,
    title: &'static str,
    /// An entry of [`TABLES`].
    table: &'static str,
}

const fn g(id: &'static str, title: &'static str, table: &'static str) -> Group {
    Group { id, title, table }
}

/// Every known group, in table order. A group measured but missing here is shown under
/// its id at the end of the first table.
const GROUPS: &[Group] = &[
    g(
        "spawn_join",
        "spawn + join, joiner is a green thread / task",
        TABLES[0],
    ),
    g(
        "spawn_join_plain",
        "spawn + join, joined from plain code",
        TABLES[0],
    ),
    g(
        "spawn_batch",
        "64 spawned, then all run (per spawn)",
        TABLES[0],
    ),
    g("yield_now", "`yield_now`", TABLES[0]),
    g(
        "ping_pong",
        "queue ping-pong, one thread (round trip)",
        TABLES[0],
    ),
    g(
        "ping_pong_threads",
        "queue ping-pong, two OS threads (round trip)",
        TABLES[0],
    ),
    g(
        "event_wake",
        "event set/wait, two green threads (round trip)",
        TABLES[0],
    ),
    g(
        "timer_cancel",
        "event set/wait, 1 s timeout on each wait (round trip: two timers armed and cancelled)",
        TABLES[0],
    ),
    g(
        "timer_fire",
        "4,000 green threads sleeping 100 µs in a loop (per sleep armed and fired)",
        TABLES[0],
    ),
    g(
        "tcp_echo_rtt",
        "echo round trip, 64 bytes, one connection",
        TABLES[1],
    ),
    g("tcp_throughput_1", "one connection, per 64 KiB", TABLES[1]),
    g(
        "tcp_throughput_1000",
        "1,000 connections, per 64 KiB on each (read 1 KiB at a time)",
        TABLES[1],
    ),
    g(
        "tcp_echo_1000",
        "1,000 connections, one 64-byte echo round trip on each",
        TABLES[1],
    ),
    g(
        "forward",
        "forwarder in one process, per MiB (thicket `net::copy`)",
        TABLES[1],
    ),
];

fn known(id: &str) -> Option<(usize, &'static Group)> {
    GROUPS.iter().enumerate().find(|(_, g)| g.id == id)
}

/// One criterion result: a median in nanoseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    pub group: String,
    pub function: String,
    pub median_ns: f64,
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
    let id: Value =
        serde_json::from_str(&fs::read_to_string(new.join("benchmark.json")).ok()?).ok()?;
    let est: Value = serde_json::from_str(&fs::read_to_string(estimates).ok()?).ok()?;
    Some(Measured {
        group: id["group_id"].as_str()?.to_string(),
        function: id["function_id"].as_str()?.to_string(),
        median_ns: est["median"]["point_estimate"].as_f64()?,
    })
}

/// Every result under criterion's folder written at or after `since`.
pub fn collect(criterion_dir: &Path, since: SystemTime) -> Vec<Measured> {
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
pub fn comparisons(results: &[Measured]) -> BTreeMap<String, BTreeMap<String, f64>> {
    let mut groups: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for m in results {
        groups
            .entry(m.group.clone())
            .or_default()
            .insert(m.function.clone(), m.median_ns);
    }
    groups.retain(|_, f| f.contains_key(THICKET) && f.len() > 1);
    groups
}

/// The `criterion` section of benchmarks.json: per group its title, its table, the medians
/// (ns) and each function's median over thicket's.
pub fn json(
    groups: &BTreeMap<String, BTreeMap<String, f64>>,
    ctx: &Context,
    command: &str,
) -> Value {
    let mut section = Map::new();
    ctx.stamp(&mut section);
    section.insert("command".into(), command.into());
    section.insert(
        "ratios_note".into(),
        "function median / thicket median: above 1 means thicket is faster".into(),
    );
    let groups: Map<String, Value> = groups
        .iter()
        .map(|(id, f)| {
            let thicket = f[THICKET];
            let ratios: Map<String, Value> = f
                .iter()
                .filter(|(p, _)| p.as_str() != THICKET)
                .map(|(p, ns)| (p.clone(), json!(ns / thicket)))
                .collect();
            let (title, table) =
                known(id).map_or((id.as_str(), TABLES[0]), |(_, g)| (g.title, g.table));
            let value = json!({
                "title": title,
                "table": table,
                "median_ns": f,
                "ratios": ratios,
            });
            (id.clone(), value)
        })
        .collect();
    section.insert("groups".into(), Value::Object(groups));
    Value::Object(section)
}

/// Nanoseconds with three significant figures: `38.2 ns`, `211 ns`, `1.08 µs`, `13.6 µs`,
/// `918 µs`, `7.50 ms`.
pub fn format_time(ns: f64) -> String {
    if !(ns.is_finite() && ns > 0.0) {
        return format!("{ns} ns");
    }
    // Round to three figures first, so that 999.7 ns becomes 1.00 µs, not 1000 ns.
    let scale = 10f64.powi(ns.log10().floor() as i32 - 2);
    let ns = (ns / scale).round() * scale;
    let (value, unit) = [(1e9, "s"), (1e6, "ms"), (1e3, "µs")]
        .iter()
        .find(|(size, _)| ns >= *size)
        .map_or((ns, "ns"), |&(size, unit)| (ns / size, unit));
    let decimals = (2 - (value.log10() + 1e-9).floor() as i32).max(0) as usize;
    format!("{value:.decimals$} {unit}")
}

/// A ratio with two decimals below 10, one above: `0.95`, `1.30`, `16.8`.
fn format_ratio(r: f64) -> String {
    if r < 9.995 {
        format!("{r:.2}")
    } else {
        format!("{r:.1}")
    }
}

/// The Markdown between the markers: one table per entry of [`TABLES`] (thicket, each
/// peer's median, each peer over thicket), the other functions measured, and the run's
/// stamp. `None` when the JSON has no criterion section.
pub fn render(doc: &Value) -> Option<String> {
    let section = doc.get("criterion").filter(|s| s.is_object())?;
    let mut out = String::from(
        "<!-- Generated by `cargo xtask bench` from benchmarks.json: edit \
         xtask/src/criterion.rs, not these tables. -->\n\n",
    );
    let groups = section["groups"].as_object().cloned().unwrap_or_default();
    if groups.is_empty() {
        out.push_str("No criterion comparison measured yet: run `cargo xtask bench`.\n");
        return Some(out);
    }
    // Known groups in GROUPS order, then the others by id.
    let mut ordered: Vec<(&String, &Value)> = groups.iter().collect();
    ordered.sort_by_key(|(id, _)| (known(id).map_or(usize::MAX, |(i, _)| i), id.as_str()));
    let mut others = Vec::new();
    for table in TABLES {
        let rows: Vec<&(&String, &Value)> = ordered
            .iter()
            .filter(|(id, g)| {
                let of = known(id).map_or(g["table"].as_str(), |(_, k)| Some(k.table));
                of.unwrap_or(TABLES[0]) == *table
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        let peers: Vec<&str> = PEER_ORDER
            .iter()
            .copied()
            .filter(|p| rows.iter().any(|(_, g)| g["median_ns"].get(p).is_some()))
            .collect();
        let _ = write!(out, "| {} | thicket |", table.to_lowercase());
        for p in &peers {
            let _ = write!(out, " {p} |");
        }
        for p in &peers {
            let _ = write!(out, " {p} / thicket |");
        }
        out.push_str("\n|---|---:|");
        out.push_str(&"---:|".repeat(2 * peers.len()));
        out.push('\n');
        for (id, g) in rows {
            // The code's title for a known group, so that `--only render` picks up a better
            // one; the JSON's for a group this xtask does not know.
            let title = known(id).map_or(g["title"].as_str().unwrap_or(id), |(_, k)| k.title);
            let medians = &g["median_ns"];
            let show = |f: &str| medians[f].as_f64().map_or("n/a".to_string(), format_time);
            let _ = write!(out, "| {title} | {} |", show(THICKET));
            for p in &peers {
                let _ = write!(out, " {} |", show(p));
            }
            for p in &peers {
                let r = g["ratios"][*p]
                    .as_f64()
                    .map_or("n/a".to_string(), format_ratio);
                let _ = write!(out, " {r} |");
            }
            out.push('\n');
            for (f, ns) in medians.as_object().into_iter().flatten() {
                if f == THICKET || PEER_ORDER.contains(&f.as_str()) {
                    continue;
                }
                let ratio = g["ratios"][f]
                    .as_f64()
                    .map_or("n/a".to_string(), format_ratio);
                let ns = ns.as_f64().map_or("n/a".to_string(), format_time);
                others.push(format!("{title}: `{f}` {ns} ({ratio} of thicket's time)"));
            }
        }
        out.push('\n');
    }
    out.push_str(
        "Criterion medians per operation; a ratio is the peer's median over thicket's, so \
         above 1 means thicket is faster.\n\n",
    );
    if !others.is_empty() {
        out.push_str("- Also measured:\n");
        for o in others {
            let _ = writeln!(out, "  - {o}");
        }
    }
    report::write_stamp(&mut out, "Criterion", section);
    if let Some(command) = section["command"].as_str() {
        let _ = writeln!(out, "- Command: `{command}`");
    }
    Some(out)
}

/// Reads this run's results, prints their tables and writes them to
/// `target/bench-summary.md`; returns the `criterion` section (`None` if no comparison
/// group was measured).
pub fn summary(
    target_dir: &Path,
    since: SystemTime,
    ctx: &Context,
    command: &str,
) -> Result<Option<Value>> {
    let results = collect(&target_dir.join("criterion"), since);
    let groups = comparisons(&results);
    if groups.is_empty() {
        eprintln!("no group with thicket and a peer was measured in this run");
        return Ok(None);
    }
    let section = json(&groups, ctx, command);
    let tables = render(&json!({ "criterion": section })).unwrap_or_default();
    let text = format!("# thicket against its peers\n\n{tables}");
    println!("\n{text}");
    let path = target_dir.join("bench-summary.md");
    fs::write(&path, &text)
        .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    eprintln!("written to {}", path.display());
    Ok(Some(section))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(group: &str, function: &str, median_ns: f64) -> Measured {
        Measured {
            group: group.into(),
            function: function.into(),
            median_ns,
        }
    }

    fn ctx() -> Context {
        Context {
            date: "2026-11-23".into(),
            quick: false,
            machine: json!({ "cpu": "EPYC", "cores": 2, "memory_gib": 23.5, "os": "Debian",
                             "kernel": "6.1", "load_average_at_start": "1.00 1.00 1.00" }),
            tools: json!({ "rustc": "rustc 1.95.0", "crates": { "tokio": "1.54.1" } }),
        }
    }

    fn rendered(results: &[Measured]) -> String {
        let section = json(
            &comparisons(results),
            &ctx(),
            "cargo xtask bench --only criterion",
        );
        render(&json!({ "criterion": section })).unwrap()
    }

    fn rows(text: &str) -> Vec<&str> {
        text.lines().filter(|l| l.starts_with('|')).collect()
    }

    #[test]
    fn tables_name_rows_and_put_peers_in_columns_with_ratios() {
        let text = rendered(&[
            m("spawn_join", "may", 1_060.0),
            m("spawn_join", "thicket", 20.0),
            m("spawn_join", "tokio", 276.0),
            m("ping_pong", "thicket", 30.0),
            m("ping_pong", "tokio", 138.0),
            m("tcp_echo_rtt", "thicket", 15_100.0),
            m("tcp_echo_rtt", "tokio", 15_000.0),
            // No peer: not a comparison. No thicket: neither.
            m("timer", "thicket", 5.0),
            m("green/yield_now", "one_green_thread", 9.0),
        ]);
        assert_eq!(
            rows(&text),
            [
                "| green threads and timers | thicket | tokio | may | tokio / thicket | may / thicket |",
                "|---|---:|---:|---:|---:|---:|",
                "| spawn + join, joiner is a green thread / task | 20.0 ns | 276 ns | 1.06 µs | 13.8 | 53.0 |",
                "| queue ping-pong, one thread (round trip) | 30.0 ns | 138 ns | n/a | 4.60 | n/a |",
                "| sockets | thicket | tokio | tokio / thicket |",
                "|---|---:|---:|---:|",
                "| echo round trip, 64 bytes, one connection | 15.1 µs | 15.0 µs | 0.99 |",
            ]
        );
        assert!(
            text.contains("- Criterion: measured 2026-11-23 on EPYC"),
            "{text}"
        );
        assert!(
            text.contains("- Command: `cargo xtask bench --only criterion`"),
            "{text}"
        );
    }

    #[test]
    fn functions_without_a_column_are_listed_under_the_tables() {
        let text = rendered(&[
            m("forward", "thicket", 500_000.0),
            m("forward", "tokio", 900_000.0),
            m("forward", "direct", 250_000.0),
            m("forward", "thicket_splice", 550_000.0),
        ]);
        assert_eq!(
            rows(&text)[2],
            "| forwarder in one process, per MiB (thicket `net::copy`) | 500 µs | 900 µs | 1.80 |"
        );
        assert!(text.contains(
            "  - forwarder in one process, per MiB (thicket `net::copy`): `direct` 250 µs \
             (0.50 of thicket's time)"
        ));
        assert!(text.contains("`thicket_splice` 550 µs (1.10 of thicket's time)"));
    }

    #[test]
    fn unknown_groups_keep_their_id_and_come_last() {
        let text = rendered(&[
            m("aaa_new", "thicket", 10.0),
            m("aaa_new", "tokio", 20.0),
            m("yield_now", "thicket", 38.0),
            m("yield_now", "tokio", 119.0),
        ]);
        let r = rows(&text);
        assert!(
            r[2].starts_with("| `yield_now` | 38.0 ns | 119 ns |"),
            "{r:?}"
        );
        assert!(
            r[3].starts_with("| aaa_new | 10.0 ns | 20.0 ns | 2.00 |"),
            "{r:?}"
        );
    }

    #[test]
    fn known_groups_take_the_codes_title_and_table_over_the_jsons() {
        let stale = json!({ "criterion": { "groups": {
            "tcp_echo_rtt": { "title": "old name", "table": TABLES[0],
                              "median_ns": { "thicket": 2.0, "tokio": 3.0 },
                              "ratios": { "tokio": 1.5 } },
            "mystery": { "title": "a group from elsewhere", "table": TABLES[1],
                         "median_ns": { "thicket": 2.0, "tokio": 4.0 },
                         "ratios": { "tokio": 2.0 } },
        } } });
        let text = render(&stale).unwrap();
        assert_eq!(
            rows(&text),
            [
                "| sockets | thicket | tokio | tokio / thicket |",
                "|---|---:|---:|---:|",
                "| echo round trip, 64 bytes, one connection | 2.00 ns | 3.00 ns | 1.50 |",
                "| a group from elsewhere | 2.00 ns | 4.00 ns | 2.00 |",
            ]
        );
    }

    #[test]
    fn no_section_draws_nothing_and_an_empty_one_says_so() {
        assert_eq!(render(&json!({ "http": {} })), None);
        let empty = render(&json!({ "criterion": { "groups": {} } })).unwrap();
        assert!(
            empty.contains("No criterion comparison measured yet"),
            "{empty}"
        );
    }

    #[test]
    fn times_have_three_significant_figures() {
        let cases = [
            (4.567, "4.57 ns"),
            (38.24, "38.2 ns"),
            (211.4, "211 ns"),
            (999.7, "1.00 µs"),
            (1_084.0, "1.08 µs"),
            (13_600.0, "13.6 µs"),
            (918_000.0, "918 µs"),
            (7_500_000.0, "7.50 ms"),
            (2.5e9, "2.50 s"),
        ];
        for (ns, want) in cases {
            assert_eq!(format_time(ns), want, "{ns}");
        }
        assert_eq!(format_ratio(0.954), "0.95");
        assert_eq!(format_ratio(16.84), "16.8");
    }

    #[test]
    fn only_results_of_this_run_are_read() {
        let dir = std::env::temp_dir().join(format!("xtask-criterion-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let write = |rel: &str, group: &str, function: &str, median: f64| {
            let new = dir.join(rel).join("new");
            fs::create_dir_all(&new).unwrap();
            let id = json!({ "group_id": group, "function_id": function });
            let est = json!({ "median": { "point_estimate": median } });
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
