//! The HTTP load test of `cargo xtask bench`: every hello-world server under wrk, in
//! alternation (thicket, hyper, ..., then thicket, hyper, ... again) so that a slow minute
//! on the shared machine hits them all alike, and the medians over the rounds.
//!
//! Per server and round: start it on a free port, wait until it accepts connections and
//! answers the hello response, warm up, then one wrk run per [`LOADS`] entry, then kill it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::servers::{self, Prepared, Readiness, Spec};
use crate::steps::{Error, Result};
use crate::wrk::{self, Report};

/// One kind of load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// The key in tables and JSON.
    pub name: &'static str,
    /// How a table row names it.
    pub title: &'static str,
    pub connections: u32,
    /// Whether each write carries [`wrk::PIPELINE_DEPTH`] requests.
    pub pipelined: bool,
}

pub const LOADS: &[Load] = &[
    Load {
        name: "c64",
        title: "64 connections",
        connections: 64,
        pipelined: false,
    },
    Load {
        name: "c1024",
        title: "1,024 connections",
        connections: 1024,
        pipelined: false,
    },
    Load {
        name: "pipelined16",
        title: "64 connections, 16 pipelined",
        connections: 64,
        pipelined: true,
    },
];

/// wrk's threads: the load generator shares the machine's cores with the server.
pub const WRK_THREADS: u32 = 2;

/// How long and how often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub rounds: usize,
    pub duration_secs: u64,
    pub warmup_secs: u64,
}

impl Plan {
    pub const FULL: Plan = Plan {
        rounds: 3,
        duration_secs: 10,
        warmup_secs: 2,
    };
    pub const QUICK: Plan = Plan {
        rounds: 1,
        duration_secs: 2,
        warmup_secs: 1,
    };
}

/// What happened to one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Measured,
    /// Not measured, as expected (its code does not exist yet, Python missing off CI).
    Skipped(String),
    /// Not measured, or not in every round, because something broke.
    Failed(String),
}

/// One server's line in a suite's results.
#[derive(Debug, Clone)]
pub struct ServerRow {
    pub spec: Spec,
    /// The command that starts it, `PORT` for the port.
    pub command: Option<String>,
    pub status: Status,
}

impl ServerRow {
    pub fn failure(&self) -> Option<String> {
        match &self.status {
            Status::Failed(why) => Some(format!("{}: {why}", self.spec.name)),
            _ => None,
        }
    }
}

/// Rows for prepared servers, with `Measured` for those ready to run.
pub fn rows(prepared: &[(Spec, Readiness)], root: &Path) -> Vec<(ServerRow, Option<Prepared>)> {
    prepared
        .iter()
        .map(|(spec, readiness)| match readiness {
            Readiness::Ready(p) => (
                ServerRow {
                    spec: *spec,
                    command: Some(p.shown(root)),
                    status: Status::Measured,
                },
                Some(p.clone()),
            ),
            Readiness::Skipped(why) => (
                ServerRow {
                    spec: *spec,
                    command: None,
                    status: Status::Skipped(why.clone()),
                },
                None,
            ),
            Readiness::Failed(why) => (
                ServerRow {
                    spec: *spec,
                    command: None,
                    status: Status::Failed(why.clone()),
                },
                None,
            ),
        })
        .collect()
}

/// The load test's results.
#[derive(Debug, Clone)]
pub struct HttpResults {
    pub plan: Plan,
    pub wrk_version: String,
    /// Load name -> the wrk command, `PORT` for the port.
    pub commands: Vec<(&'static str, String)>,
    pub servers: Vec<ServerRow>,
    /// (server, load) -> one report per round.
    pub runs: BTreeMap<(&'static str, &'static str), Vec<Report>>,
}

/// Where the load test keeps its files: the wrk script, raw wrk reports, server logs.
pub fn work_dir(target: &Path) -> PathBuf {
    target.join("bench-http")
}

/// Runs the load test on the prepared servers.
pub fn run(
    prepared: &[(Spec, Readiness)],
    plan: Plan,
    root: &Path,
    target: &Path,
) -> Result<HttpResults> {
    let wrk_path = wrk::ensure_installed()?;
    let wrk_version = wrk::version(&wrk_path);
    eprintln!("using {} ({})", wrk_path.display(), wrk_version);
    let dir = work_dir(target);
    let script = wrk::write_pipeline_script(&dir)?;
    let runs_dir = dir.join("runs");
    std::fs::create_dir_all(&runs_dir)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", runs_dir.display())))?;
    let wrk_run = |load: &Load, secs: u64| wrk::Run {
        threads: WRK_THREADS,
        connections: load.connections,
        duration_secs: secs,
        pipeline: load.pipelined.then(|| script.clone()),
    };
    let commands = LOADS
        .iter()
        .map(|l| (l.name, wrk_run(l, plan.duration_secs).shown(root)))
        .collect();

    let mut table = rows(prepared, root);
    for (row, _) in &table {
        if let Status::Skipped(why) | Status::Failed(why) = &row.status {
            eprintln!("{}: not measured: {why}", row.spec.name);
        }
    }
    let mut runs: BTreeMap<(&'static str, &'static str), Vec<Report>> = BTreeMap::new();
    for round in 1..=plan.rounds {
        for (row, server) in &mut table {
            let Some(server) = server else { continue };
            if row.status != Status::Measured {
                continue;
            }
            let name = row.spec.name;
            let tag = format!("{name} round {round}/{}", plan.rounds);
            let measured = one_round(server, plan, &dir, &wrk_path, |load, running| {
                let out = runs_dir.join(format!("{name}-{}-r{round}.txt", load.name));
                let report =
                    wrk_run(load, plan.duration_secs).execute(&wrk_path, &running.url(), &out)?;
                eprintln!("{tag}, {}: {}", load.title, summary(&report));
                Ok(report)
            });
            match measured {
                Ok(reports) => {
                    for (load, report) in LOADS.iter().zip(reports) {
                        runs.entry((name, load.name)).or_default().push(report);
                    }
                }
                Err(e) => {
                    eprintln!("{tag}: FAILED: {e}");
                    row.status = Status::Failed(format!("round {round}: {e}"));
                }
            }
        }
    }
    Ok(HttpResults {
        plan,
        wrk_version,
        commands,
        servers: table.into_iter().map(|(row, _)| row).collect(),
        runs,
    })
}

/// One server's round: start, warm up, every load, and (on every path) kill.
fn one_round(
    server: &Prepared,
    plan: Plan,
    dir: &Path,
    wrk_path: &Path,
    mut measure: impl FnMut(&Load, &servers::Running) -> Result<Report>,
) -> Result<Vec<Report>> {
    let mut running = servers::start(server, &dir.join("logs"))?;
    let warmup = wrk::Run {
        threads: WRK_THREADS,
        connections: LOADS[0].connections,
        duration_secs: plan.warmup_secs,
        pipeline: None,
    };
    warmup.execute(
        wrk_path,
        &running.url(),
        &dir.join("runs")
            .join(format!("{}-warmup.txt", server.spec.name)),
    )?;
    let mut reports = Vec::new();
    for load in LOADS {
        reports.push(measure(load, &running)?);
        running.check_alive()?;
    }
    Ok(reports)
}

/// `101,602 req/s, p50 0.27 ms, p99 1.13 ms` (and the errors if any).
fn summary(r: &Report) -> String {
    let ms = |us: Option<f64>| us.map_or("n/a".to_string(), |us| format_ms(us / 1e3));
    let mut s = format!(
        "{} req/s, p50 {}, p99 {}",
        thousands(r.requests_per_sec),
        ms(r.p50_us),
        ms(r.p99_us)
    );
    if r.errors.total() > 0 || r.non_2xx > 0 {
        s.push_str(&format!(
            " ({} socket errors, {} timeouts, {} non-2xx)",
            r.errors.total(),
            r.errors.timeout,
            r.non_2xx
        ));
    }
    s
}

/// A rate with thousands separators, no decimals: `101,602`.
pub fn thousands(x: f64) -> String {
    let n = x.round() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Milliseconds with two or three significant figures, in seconds from 1 s: `0.27 ms`,
/// `4.50 ms`, `135 ms`, `1.68 s`.
pub fn format_ms(ms: f64) -> String {
    if ms >= 1_000.0 {
        format!("{:.2} s", ms / 1e3)
    } else if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_times_read_well() {
        assert_eq!(thousands(101_602.4), "101,602");
        assert_eq!(thousands(1_165_466.0), "1,165,466");
        assert_eq!(thousands(999.5), "1,000");
        assert_eq!(thousands(7.0), "7");
        assert_eq!(format_ms(0.271), "0.27 ms");
        assert_eq!(format_ms(4.5), "4.50 ms");
        assert_eq!(format_ms(18.46), "18.5 ms");
        assert_eq!(format_ms(135.2), "135 ms");
        assert_eq!(format_ms(1_680.0), "1.68 s");
    }

    #[test]
    fn loads_have_distinct_names() {
        let mut names: Vec<&str> = LOADS.iter().map(|l| l.name).collect();
        names.dedup();
        assert_eq!(names.len(), LOADS.len());
        assert_eq!(LOADS.iter().filter(|l| l.pipelined).count(), 1);
    }
}
