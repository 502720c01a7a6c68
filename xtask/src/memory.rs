//! Resident memory per idle keep-alive connection: open N connections to a freshly started
//! server, send one request on each and read the response, leave them all open and idle,
//! and read the server's `VmRSS` before and after: (after - before) / N.
//!
//! User-space memory only: the kernel's socket buffers are not in a process's RSS. N is
//! [`CONNECTIONS`] (or `--connections`) unless the open-file limits (this process's or the
//! server's) are lower; then it is what they allow, and the results say so.

use std::io;
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::load::{self, Plan, ServerRow, Status};
use crate::procfs;
use crate::servers::{self, Readiness, Spec};
use crate::steps::{Error, Result};

/// How many idle connections are wanted by default: the 10,000 of the project's memory
/// target. (thicket's server once split `max_connections` between its hubs, which left the
/// hello example unanswering past about 6,700; each hub now has its own listener and limit.)
pub const CONNECTIONS: usize = 10_000;

/// Idle connections for `--quick`: enough to check the measurement works, in CI time.
pub const QUICK_CONNECTIONS: usize = 2_000;

/// File descriptors left for everything else (the listener, logs, pipes).
const SPARE_FDS: u64 = 64;

/// How long opening all the connections may take.
const DEADLINE: Duration = Duration::from_secs(180);

/// One measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub connections: usize,
    pub before_kib: u64,
    pub after_kib: u64,
}

impl Sample {
    pub fn per_connection_kib(&self) -> f64 {
        (self.after_kib as f64 - self.before_kib as f64) / self.connections as f64
    }
}

#[derive(Debug, Clone)]
pub struct MemoryResults {
    pub rounds: usize,
    /// What was asked for (`--connections`).
    pub asked: usize,
    /// What the open-file limits allowed of it.
    pub wanted: usize,
    /// What limited the connection count below `wanted`, if anything.
    pub limited_by: Option<String>,
    pub servers: Vec<ServerRow>,
    /// Server -> one sample per round.
    pub samples: Vec<(&'static str, Vec<Sample>)>,
}

impl MemoryResults {
    pub fn samples_of(&self, server: &str) -> &[Sample] {
        self.samples
            .iter()
            .find(|(s, _)| *s == server)
            .map_or(&[], |(_, v)| v.as_slice())
    }
}

/// Measures every prepared server, `plan.rounds` times each, alternating between servers;
/// each measurement on a freshly started server.
pub fn run(
    prepared: &[(Spec, Readiness)],
    plan: Plan,
    connections: usize,
    root: &Path,
    target: &Path,
) -> Result<MemoryResults> {
    let own_limit = procfs::raise_own_nofile();
    let mut limited_by = None;
    let mut wanted = connections;
    if own_limit.saturating_sub(SPARE_FDS) < connections as u64 {
        wanted = own_limit.saturating_sub(SPARE_FDS) as usize;
        limited_by = Some(format!(
            "this process may open {own_limit} files (its hard limit, `ulimit -Hn`)"
        ));
        eprintln!(
            "only {wanted} connections instead of {connections}: {}",
            limited_by.as_deref().unwrap_or_default()
        );
    }
    let logs = load::work_dir(target).join("logs");
    let mut table = load::rows(prepared, root);
    let mut samples: Vec<(&'static str, Vec<Sample>)> = Vec::new();
    for round in 1..=plan.rounds {
        for (row, server) in &mut table {
            let Some(server) = server else { continue };
            if row.status != Status::Measured {
                continue;
            }
            let name = row.spec.name;
            let tag = format!("{name} round {round}/{}", plan.rounds);
            let measured = servers::start(server, &logs).and_then(|mut running| {
                let sample = measure(&mut running, wanted)?;
                running.check_alive()?;
                Ok(sample)
            });
            match measured {
                Ok(sample) => {
                    eprintln!(
                        "{tag}: {} idle connections: VmRSS {} -> {} KiB, {:.1} KiB each",
                        sample.connections,
                        sample.before_kib,
                        sample.after_kib,
                        sample.per_connection_kib()
                    );
                    if sample.connections < wanted && limited_by.is_none() {
                        limited_by = Some(format!(
                            "{name} may open fewer files than {wanted} (its soft limit)"
                        ));
                    }
                    match samples.iter_mut().find(|(s, _)| *s == name) {
                        Some((_, v)) => v.push(sample),
                        None => samples.push((name, vec![sample])),
                    }
                }
                Err(e) => {
                    eprintln!("{tag}: FAILED: {e}");
                    row.status = Status::Failed(format!("round {round}: {e}"));
                }
            }
        }
    }
    Ok(MemoryResults {
        rounds: plan.rounds,
        asked: connections,
        wanted,
        limited_by,
        servers: table.into_iter().map(|(row, _)| row).collect(),
        samples,
    })
}

/// Opens up to `wanted` idle keep-alive connections to a running server and measures it.
fn measure(server: &mut servers::Running, wanted: usize) -> Result<Sample> {
    let pid = server.pid();
    let server_limit = procfs::nofile_limits(&pid.to_string()).map_or(u64::MAX, |(soft, _)| soft);
    let n = wanted.min(server_limit.saturating_sub(SPARE_FDS) as usize);
    let rss = || {
        procfs::rss_kib(pid).map_err(|e| Error::new(format!("cannot read the server's RSS: {e}")))
    };
    // One request first, so that what the first connection sets up once (buffers pools,
    // lazily built tables) is not counted per connection.
    let mut first = servers::connect(server.addr)
        .and_then(|mut s| servers::get(&mut s).map(|_| s))
        .map_err(|e| Error::new(format!("first request: {e}")))?;
    let _ = servers::get(&mut first);
    drop(first);
    let before_kib = rss()?;
    let deadline = Instant::now() + DEADLINE;
    let mut open: Vec<TcpStream> = Vec::with_capacity(n);
    for i in 0..n {
        if Instant::now() > deadline {
            return Err(Error::new(format!(
                "only {i} of {n} connections opened in {}s",
                DEADLINE.as_secs()
            )));
        }
        let reply = servers::connect(server.addr).and_then(|mut s| {
            let reply = servers::get(&mut s)?;
            open.push(s);
            Ok(reply)
        });
        match reply {
            Ok(r) if r.status == 200 => {}
            Ok(r) => {
                return Err(Error::new(format!(
                    "connection {} of {n}: status {}",
                    i + 1,
                    r.status
                )))
            }
            Err(e) => {
                server.check_alive()?;
                let e = match e.kind() {
                    // A read timeout: the connection was accepted by the kernel, but the
                    // server did not answer (a connection limit, or a stall).
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                        format!("no response within {}s", servers::PROBE_TIMEOUT.as_secs())
                    }
                    _ => e.to_string(),
                };
                return Err(Error::new(format!(
                    "connection {} of {n}: {e} ({} still open)",
                    i + 1,
                    open.len()
                )));
            }
        }
    }
    let after_kib = rss()?;
    Ok(Sample {
        connections: open.len(),
        before_kib,
        after_kib,
    })
}

/// The command line of the measurement, for the record.
pub fn describe(wanted: usize) -> String {
    format!(
        "`cargo xtask bench --only memory --connections {wanted}`: connections opened one after another, \
         `GET / HTTP/1.1` on each and its response read, all left open; VmRSS of the server \
         from /proc/PID/status before the first and after the last"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_connection_is_the_growth_over_the_count() {
        let s = Sample {
            connections: 10_000,
            before_kib: 2_840,
            after_kib: 132_840,
        };
        assert_eq!(s.per_connection_kib(), 13.0);
        let shrunk = Sample {
            connections: 4,
            before_kib: 100,
            after_kib: 98,
        };
        assert_eq!(shrunk.per_connection_kib(), -0.5);
    }
}
