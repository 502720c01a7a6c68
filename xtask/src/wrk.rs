//! wrk, the HTTP load generator: finding or installing it, running it, reading its report.
//!
//! `cargo xtask bench` uses the `wrk` on PATH and installs the Debian package when there is
//! none. A pipelined run uses a Lua script (written under the target folder) that sends
//! [`PIPELINE_DEPTH`] requests per write, as TechEmpower's plaintext test does.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::procfs;
use crate::steps::{self, Error, Result};

/// Requests per write in a pipelined run.
pub const PIPELINE_DEPTH: u32 = 16;

/// wrk's own time limit for one response; slower ones count as timeouts.
pub const TIMEOUT_SECS: u64 = 5;

/// The script that makes wrk pipeline: `init` builds `depth` copies of the request once,
/// `request` returns them all for every write.
pub const PIPELINE_LUA: &str = "\
-- Written by `cargo xtask bench`: sends `depth` requests per write (wrk ... -- <depth>).
init = function(args)
   local depth = tonumber(args[1]) or 16
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format()
   end
   req = table.concat(r)
end

request = function()
   return req
end
";

/// Where `wrk` is: on PATH, or installed with apt-get (with sudo when not root) if missing.
pub fn ensure_installed() -> Result<PathBuf> {
    if let Some(path) = procfs::which("wrk") {
        return Ok(path);
    }
    if procfs::which("apt-get").is_none() {
        return Err(Error::new(
            "wrk is not installed and there is no apt-get to install it; \
             install wrk (https://github.com/wg/wrk) and put it on PATH",
        ));
    }
    eprintln!("wrk is not installed: installing the Debian package");
    procfs::apt_install(&["wrk"])?;
    procfs::which("wrk").ok_or_else(|| Error::new("apt-get installed wrk, but it is not on PATH"))
}

/// wrk's version line (`wrk 4.1.0 [epoll] ...` becomes `wrk 4.1.0 [epoll]`).
pub fn version(wrk: &Path) -> String {
    // `wrk -v` prints the version and the usage, and exits with status 1.
    let out = Command::new(wrk).arg("-v").output();
    let text = out
        .map(|o| {
            let mut t = String::from_utf8_lossy(&o.stdout).into_owned();
            t.push_str(&String::from_utf8_lossy(&o.stderr));
            t
        })
        .unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with("wrk "))
        .map(|l| l.split(" Copyright").next().unwrap_or(l).trim().to_string())
        .unwrap_or_else(|| "wrk (version unknown)".to_string())
}

/// Writes the pipelining script into `dir` and returns its path.
pub fn write_pipeline_script(dir: &Path) -> Result<PathBuf> {
    let path = dir.join("pipeline.lua");
    fs::create_dir_all(dir)
        .and_then(|()| fs::write(&path, PIPELINE_LUA))
        .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

/// One wrk run's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub threads: u32,
    pub connections: u32,
    pub duration_secs: u64,
    /// `Some(script)`: pipelined with [`PIPELINE_DEPTH`] requests per write.
    pub pipeline: Option<PathBuf>,
}

impl Run {
    /// wrk's arguments, the URL last.
    pub fn args(&self, url: &str) -> Vec<String> {
        let mut args = vec![
            format!("-t{}", self.threads),
            format!("-c{}", self.connections),
            format!("-d{}s", self.duration_secs),
            "--timeout".to_string(),
            format!("{TIMEOUT_SECS}s"),
            "--latency".to_string(),
        ];
        if let Some(script) = &self.pipeline {
            args.push("-s".to_string());
            args.push(script.display().to_string());
        }
        args.push(url.to_string());
        if self.pipeline.is_some() {
            args.push("--".to_string());
            args.push(PIPELINE_DEPTH.to_string());
        }
        args
    }

    /// The command as a person would type it, with the port left as `PORT` and the script
    /// path relative to `root`.
    pub fn shown(&self, root: &Path) -> String {
        let mut run = self.clone();
        if let Some(script) = &run.pipeline {
            run.pipeline = Some(script.strip_prefix(root).unwrap_or(script).to_path_buf());
        }
        format!("wrk {}", run.args("http://127.0.0.1:PORT/").join(" "))
    }

    /// Runs wrk against `url`, with its report written to `out`, and parses the report.
    /// wrk runs with the open-file limit raised (1,024 connections need more than the usual
    /// soft limit) and is killed if it outlives its duration by a wide margin.
    pub fn execute(&self, wrk: &Path, url: &str, out: &Path) -> Result<Report> {
        let file = fs::File::create(out)
            .map_err(|e| Error::new(format!("cannot create {}: {e}", out.display())))?;
        let mut cmd = procfs::with_nofile_raised(wrk, &self.args(url));
        cmd.stdin(Stdio::null())
            .stdout(file)
            .stderr(Stdio::inherit());
        let shown = steps::show(&cmd);
        let child = cmd
            .spawn()
            .map_err(|e| Error::new(format!("could not start `{shown}`: {e}")))?;
        let mut child = procfs::KillOnDrop::new(child);
        let limit = Duration::from_secs(self.duration_secs + 2 * TIMEOUT_SECS + 30);
        let status = child
            .wait_deadline(Instant::now() + limit)
            .map_err(|e| Error::new(format!("`{shown}`: {e}")))?;
        let text = fs::read_to_string(out).unwrap_or_default();
        match status {
            None => Err(Error::new(format!(
                "`{shown}` still running after {}s: killed",
                limit.as_secs()
            ))),
            Some(s) if !s.success() => Err(Error::new(format!(
                "`{shown}` failed ({s}):\n{}",
                text.trim_end()
            ))),
            Some(_) => Report::parse(&text).map_err(|e| {
                Error::new(format!(
                    "`{shown}`: {e}; its output ({}):\n{}",
                    out.display(),
                    text.trim_end()
                ))
            }),
        }
    }
}

/// Socket errors wrk counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SocketErrors {
    pub connect: u64,
    pub read: u64,
    pub write: u64,
    pub timeout: u64,
}

impl SocketErrors {
    pub fn total(&self) -> u64 {
        self.connect + self.read + self.write + self.timeout
    }
}

/// What one wrk run reports. Times are in microseconds; a percentile wrk printed as zero
/// (wrk 4.1 prints `0.00us` for some percentiles of pipelined runs, a histogram quirk) is
/// `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub requests_per_sec: f64,
    pub requests: u64,
    pub latency_avg_us: Option<f64>,
    pub latency_max_us: Option<f64>,
    pub p50_us: Option<f64>,
    pub p75_us: Option<f64>,
    pub p90_us: Option<f64>,
    pub p99_us: Option<f64>,
    pub errors: SocketErrors,
    pub non_2xx: u64,
}

impl Report {
    /// Parses wrk's `--latency` output.
    ///
    /// # Errors
    ///
    /// When the `Requests/sec` line is missing or unreadable.
    pub fn parse(text: &str) -> std::result::Result<Report, String> {
        let mut report = Report {
            requests_per_sec: f64::NAN,
            requests: 0,
            latency_avg_us: None,
            latency_max_us: None,
            p50_us: None,
            p75_us: None,
            p90_us: None,
            p99_us: None,
            errors: SocketErrors::default(),
            non_2xx: 0,
        };
        let mut in_distribution = false;
        for line in text.lines() {
            let line = line.trim();
            let words: Vec<&str> = line.split_whitespace().collect();
            if let Some(rate) = line.strip_prefix("Requests/sec:") {
                report.requests_per_sec = rate
                    .trim()
                    .parse()
                    .map_err(|_| format!("unreadable `{line}`"))?;
            } else if line == "Latency Distribution" {
                in_distribution = true;
            } else if in_distribution && words.len() == 2 && words[0].ends_with('%') {
                let time = parse_time_us(words[1]).filter(|t| *t > 0.0);
                match words[0] {
                    "50%" => report.p50_us = time,
                    "75%" => report.p75_us = time,
                    "90%" => report.p90_us = time,
                    "99%" => report.p99_us = time,
                    _ => {}
                }
            } else if words.first() == Some(&"Latency") && words.len() >= 4 {
                // Thread stats: Latency <avg> <stdev> <max> <+/- stdev>
                report.latency_avg_us = parse_time_us(words[1]).filter(|t| *t > 0.0);
                report.latency_max_us = parse_time_us(words[3]).filter(|t| *t > 0.0);
            } else if words.len() >= 3 && words[1] == "requests" && words[2] == "in" {
                in_distribution = false;
                report.requests = words[0]
                    .parse()
                    .map_err(|_| format!("unreadable `{line}`"))?;
            } else if let Some(rest) = line.strip_prefix("Socket errors:") {
                for part in rest.split(',') {
                    let mut kv = part.split_whitespace();
                    let (Some(k), Some(v)) = (kv.next(), kv.next()) else {
                        continue;
                    };
                    let v: u64 = v.parse().map_err(|_| format!("unreadable `{line}`"))?;
                    match k {
                        "connect" => report.errors.connect = v,
                        "read" => report.errors.read = v,
                        "write" => report.errors.write = v,
                        "timeout" => report.errors.timeout = v,
                        _ => {}
                    }
                }
            } else if let Some(n) = line.strip_prefix("Non-2xx or 3xx responses:") {
                report.non_2xx = n
                    .trim()
                    .parse()
                    .map_err(|_| format!("unreadable `{line}`"))?;
            }
        }
        if report.requests_per_sec.is_nan() {
            return Err("no `Requests/sec:` line in wrk's output".to_string());
        }
        Ok(report)
    }
}

/// A wrk duration (`529.00us`, `2.48ms`, `1.68s`, `1.02m`, `1.00h`) in microseconds.
pub fn parse_time_us(s: &str) -> Option<f64> {
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = s.split_at(split);
    let n: f64 = number.parse().ok()?;
    let scale = match unit {
        "us" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" => 60e6,
        "h" => 3_600e6,
        _ => return None,
    };
    n.is_finite().then_some(n * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real wrk 4.1.0 reports, captured from `cargo xtask bench --quick` runs on the project's
    /// machine (`target/bench-http/runs/`): microseconds, milliseconds and seconds (with
    /// wrk's trailing space), and the `0.00us` percentiles of pipelined runs.
    const HYPER_C64: &str = include_str!("../fixtures/wrk/hyper-c64.txt");
    const EVENTLET_C1024: &str = include_str!("../fixtures/wrk/eventlet-c1024.txt");
    const EVENTLET_PIPELINED: &str = include_str!("../fixtures/wrk/eventlet-pipelined.txt");
    const GEVENT_C1024: &str = include_str!("../fixtures/wrk/gevent-c1024.txt");
    const MAY_PIPELINED: &str = include_str!("../fixtures/wrk/may-pipelined.txt");
    const GEVENT_TIMEOUTS: &str = include_str!("../fixtures/wrk/gevent-c1024-timeouts.txt");

    #[test]
    fn times_in_every_unit() {
        let cases = [
            ("529.00us", Some(529.0)),
            ("0.98ms", Some(980.0)),
            ("2.48ms", Some(2_480.0)),
            ("1.68s", Some(1_680_000.0)),
            ("1.50m", Some(90_000_000.0)),
            ("1.00h", Some(3_600_000_000.0)),
            ("0.00us", Some(0.0)),
            ("12", None),
            ("-nanus", None),
            ("3.0xs", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_time_us(text), want, "{text}");
        }
    }

    #[test]
    fn pipeline_run_has_script_and_depth_after_the_url() {
        let run = Run {
            threads: 2,
            connections: 64,
            duration_secs: 10,
            pipeline: Some(PathBuf::from("/ws/target/bench-http/pipeline.lua")),
        };
        assert_eq!(
            run.shown(Path::new("/ws")),
            "wrk -t2 -c64 -d10s --timeout 5s --latency -s target/bench-http/pipeline.lua \
             http://127.0.0.1:PORT/ -- 16"
        );
        let plain = Run {
            pipeline: None,
            connections: 1024,
            ..run
        };
        assert_eq!(
            plain.args("http://127.0.0.1:1/"),
            [
                "-t2",
                "-c1024",
                "-d10s",
                "--timeout",
                "5s",
                "--latency",
                "http://127.0.0.1:1/"
            ]
        );
    }

    /// (fixture, req/s, requests, p50 us, p99 us, avg us, max us)
    #[allow(clippy::type_complexity)]
    const REAL: &[(&str, f64, u64, Option<f64>, Option<f64>, f64, f64)] = &[
        (
            HYPER_C64,
            56_378.21,
            118_424,
            Some(900.0),
            Some(4_520.0),
            1_050.0,
            20_410.0,
        ),
        (
            EVENTLET_C1024,
            4_700.07,
            9_858,
            Some(170_410.0),
            Some(1_240_000.0),
            274_320.0,
            1_330_000.0,
        ),
        (
            EVENTLET_PIPELINED,
            7_893.04,
            15_867,
            Some(115_560.0),
            None,
            84_340.0,
            466_230.0,
        ),
        (
            GEVENT_C1024,
            4_945.80,
            10_241,
            Some(167.0),
            Some(1_480_000.0),
            217_780.0,
            1_920_000.0,
        ),
        (
            MAY_PIPELINED,
            1_194_714.03,
            2_391_520,
            Some(374.0),
            Some(3_950.0),
            537.59,
            11_020.0,
        ),
    ];

    #[test]
    fn real_reports() {
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-6 * b.abs().max(1.0),
            (a, b) => a == b,
        };
        for &(text, rate, requests, p50, p99, avg, max) in REAL {
            let r = Report::parse(text).unwrap();
            let first = text.lines().next().unwrap();
            assert!(
                close(Some(r.requests_per_sec), Some(rate)),
                "{first}: {r:?}"
            );
            assert_eq!(r.requests, requests, "{first}");
            assert!(close(r.p50_us, p50), "{first}: p50 {:?}", r.p50_us);
            assert!(close(r.p99_us, p99), "{first}: p99 {:?}", r.p99_us);
            assert!(close(r.latency_avg_us, Some(avg)), "{first}: {r:?}");
            assert!(close(r.latency_max_us, Some(max)), "{first}: {r:?}");
            assert_eq!(r.errors, SocketErrors::default(), "{first}");
            assert_eq!(r.non_2xx, 0, "{first}");
        }
        let timeouts = Report::parse(GEVENT_TIMEOUTS).unwrap();
        assert_eq!(
            (timeouts.requests_per_sec, timeouts.requests),
            (5_625.98, 56_720)
        );
        assert_eq!(timeouts.p99_us, Some(3_670_000.0));
        assert_eq!(timeouts.latency_max_us, Some(4_940_000.0));
        assert_eq!(
            timeouts.errors,
            SocketErrors {
                connect: 0,
                read: 0,
                write: 0,
                timeout: 25
            }
        );
        // The pipelined quirk: only the median survives.
        let quirk = Report::parse(EVENTLET_PIPELINED).unwrap();
        assert_eq!((quirk.p75_us, quirk.p90_us), (None, None));
    }

    #[test]
    fn report_fields_are_read_exactly() {
        let text = "\
Running 2s test @ http://127.0.0.1:40000/
  2 threads and 1024 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   135.20ms  300.01ms   1.97s    91.00%
    Req/Sec     3.90k     1.20k    6.00k    70.00%
  Latency Distribution
     50%  529.00us
     75%    2.48ms
     90%    0.00us
     99%    1.68s
  15603 requests in 2.00s, 1.86MB read
  Socket errors: connect 0, read 3, write 0, timeout 336
  Non-2xx or 3xx responses: 7
Requests/sec:   7761.25
Transfer/sec:    950.21KB
";
        let r = Report::parse(text).unwrap();
        assert_eq!(
            r,
            Report {
                requests_per_sec: 7761.25,
                requests: 15603,
                latency_avg_us: Some(135_200.0),
                latency_max_us: Some(1_970_000.0),
                p50_us: Some(529.0),
                p75_us: Some(2_480.0),
                p90_us: None,
                p99_us: Some(1_680_000.0),
                errors: SocketErrors {
                    connect: 0,
                    read: 3,
                    write: 0,
                    timeout: 336
                },
                non_2xx: 7,
            }
        );
        assert_eq!(r.errors.total(), 339);
    }

    #[test]
    fn output_without_a_rate_is_an_error() {
        let err = Report::parse("unable to connect to 127.0.0.1:1 Connection refused\n");
        assert_eq!(err.unwrap_err(), "no `Requests/sec:` line in wrk's output");
        assert!(Report::parse("Requests/sec: lots\n").is_err());
    }
}
