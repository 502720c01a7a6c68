//! `cargo xtask fuzz`: thicket-http's fuzz targets (`http/fuzz/`) on the stable toolchain.
//!
//! The targets are a cargo-fuzz crate, and `cargo +nightly fuzz run <target>` works on them.
//! This is the same thing without nightly or cargo-fuzz: libfuzzer-sys builds libFuzzer (C++,
//! hence g++), and the flags cargo-fuzz would pass for coverage (`-Cpasses=sancov-module` and
//! the `-sanitizer-coverage-*` LLVM options, all stable) instrument the code. There is no
//! AddressSanitizer (nightly only), which safe Rust needs little; panics, failed assertions,
//! overflows (debug assertions are on), timeouts and runaway memory are all caught.
//!
//! Each target then runs for a few seconds, starting from its committed seeds
//! (`http/fuzz/seeds/<target>/`) and from seeds cut out of the shared HTTP corpora
//! (`../shared/corpora`, next to the repository). Those are read where they are and written
//! only under `target/`: they are external data and never copied into the repository. Where
//! they are missing the run says so and goes on with the committed seeds.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use serde_json::Value;

use crate::metadata::Metadata;
use crate::steps::{self, Error, Result, Workspace};

/// Seconds per target in `cargo xtask test`: 13 targets, two at a time on two cores, about
/// 15 s after a 30 s build.
pub const TEST_SECONDS: u64 = 2;

/// Seconds per target when `cargo xtask fuzz` is not told.
pub const DEFAULT_SECONDS: u64 = 10;

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzOpts {
    /// How long each target runs, in seconds.
    pub seconds: u64,
    /// Which targets; all when empty.
    pub targets: Vec<String>,
}

impl Default for FuzzOpts {
    fn default() -> Self {
        FuzzOpts {
            seconds: DEFAULT_SECONDS,
            targets: Vec::new(),
        }
    }
}

/// The `RUSTFLAGS` cargo-fuzz builds with, less the sanitizer: coverage for libFuzzer, and
/// `--cfg fuzzing` for code that wants to know. Warnings are errors, as clippy makes them in
/// the main workspace (cargo does not apply this to crates from crates.io).
const RUSTFLAGS: &[&str] = &[
    "-Dwarnings",
    "--cfg",
    "fuzzing",
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "-Cdebug-assertions",
    "-Coverflow-checks",
];

/// How many lines of a failing target's output to show.
const OUTPUT_TAIL: usize = 40;

/// Builds the fuzz targets and runs each for `opts.seconds`, as many at once as there are
/// cores.
pub fn run(ws: &Workspace, opts: &FuzzOpts) -> Result<()> {
    let manifest = ws.root.join("http").join("fuzz").join("Cargo.toml");
    let all = targets(ws, &manifest)?;
    let chosen: Vec<String> = if opts.targets.is_empty() {
        all.clone()
    } else {
        for t in &opts.targets {
            if !all.contains(t) {
                return Err(Error::new(format!(
                    "no fuzz target `{t}` (targets: {})",
                    all.join(", ")
                )));
            }
        }
        opts.targets.clone()
    };

    // The one tool the build needs beyond Rust; without it cc's error is far down the log.
    let cxx = std::env::var_os("CXX").unwrap_or_else(|| "c++".into());
    if !steps::tool_works(Command::new(&cxx).arg("--version")) {
        return Err(Error::new(format!(
            "no C++ compiler (`{}`): libfuzzer-sys compiles libFuzzer; install g++ \
             (`apt-get install g++`, as .ci/run does) or set CXX",
            cxx.to_string_lossy()
        )));
    }
    let work = Metadata::load(ws)?.target_directory.join("fuzz");
    let bin_dir = build(ws, &manifest, &work)?;

    let corpora = ws.root.join("..").join("shared").join("corpora");
    let corpora = corpora.canonicalize().unwrap_or(corpora);
    let shared = if corpora.is_dir() {
        let seeds = shared_seeds(&corpora)?;
        let count: usize = seeds.values().map(Vec::len).sum();
        eprintln!(
            "seeds: {count} cut from the shared corpora at {}",
            corpora.display()
        );
        seeds
    } else {
        eprintln!(
            "note: no shared corpora at {} (they sit beside the repository): \
             the targets start from their committed seeds only",
            corpora.display()
        );
        BTreeMap::new()
    };

    // As many targets at once as there are cores: each is one thread.
    let jobs = std::thread::available_parallelism().map_or(1, usize::from);
    let queue = Mutex::new(chosen.iter());
    let failed = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(chosen.len()) {
            scope.spawn(|| loop {
                let Some(target) = queue.lock().unwrap_or_else(|e| e.into_inner()).next() else {
                    break;
                };
                let seeds = shared.get(target.as_str()).map_or(&[][..], Vec::as_slice);
                if let Err(e) = run_target(ws, &bin_dir, &work, target, seeds, opts.seconds) {
                    eprintln!("{e}");
                    failed
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(target.clone());
                }
            });
        }
    });
    let mut failed = failed.into_inner().unwrap_or_else(|e| e.into_inner());
    failed.sort();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "fuzz target(s) failed: {} (inputs and output above)",
            failed.join(", ")
        )))
    }
}

/// The fuzz crate's binaries (its targets), from `cargo metadata`.
fn targets(ws: &Workspace, manifest: &Path) -> Result<Vec<String>> {
    let json = steps::output(
        ws.cargo()
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--manifest-path",
            ])
            .arg(manifest),
    )?;
    let meta = Metadata::parse(&json)?;
    let names: Vec<String> = meta
        .packages
        .iter()
        .flat_map(|p| p.targets_of_kind("bin").map(|t| t.name.clone()))
        .collect();
    if names.is_empty() {
        return Err(Error::new(format!(
            "no fuzz targets in {}",
            manifest.display()
        )));
    }
    Ok(names)
}

/// Builds every target with coverage instrumentation (profile `ci` of the fuzz crate) into
/// `work`; returns the folder of the binaries.
fn build(ws: &Workspace, manifest: &Path, work: &Path) -> Result<PathBuf> {
    let host = host_triple()?;
    steps::run(
        ws.cargo()
            .args(["build", "--profile", "ci", "--bins", "--manifest-path"])
            .arg(manifest)
            .args(["--target", &host])
            .env("CARGO_TARGET_DIR", work)
            .env("RUSTFLAGS", RUSTFLAGS.join(" "))
            .env_remove("CARGO_ENCODED_RUSTFLAGS"),
    )?;
    Ok(work.join(host).join("ci"))
}

/// The host's target triple: with `--target`, the flags above reach the targets and not the
/// build scripts (which would not link without libFuzzer).
fn host_triple() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = steps::output(Command::new(rustc).arg("-vV"))?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| Error::new("`rustc -vV` printed no `host:` line"))
}

fn run_target(
    ws: &Workspace,
    bin_dir: &Path,
    work: &Path,
    target: &str,
    shared: &[(String, Vec<u8>)],
    seconds: u64,
) -> Result<()> {
    let fresh_dir = |dir: PathBuf| -> Result<PathBuf> {
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        }
        fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        Ok(dir)
    };
    // What libFuzzer finds goes into the first folder, kept from run to run.
    let corpus = work.join("corpus").join(target);
    fs::create_dir_all(&corpus).map_err(|e| io_error(&corpus, e))?;
    let shared_dir = fresh_dir(work.join("shared-seeds").join(target))?;
    for (name, bytes) in shared {
        let path = shared_dir.join(name);
        fs::write(&path, bytes).map_err(|e| io_error(&path, e))?;
    }
    let artifacts = work.join("artifacts").join(target);
    fs::create_dir_all(&artifacts).map_err(|e| io_error(&artifacts, e))?;
    let log_dir = work.join("logs");
    fs::create_dir_all(&log_dir).map_err(|e| io_error(&log_dir, e))?;
    let log = log_dir.join(format!("{target}.log"));
    let log_file = fs::File::create(&log).map_err(|e| io_error(&log, e))?;
    let log_err = log_file.try_clone().map_err(|e| io_error(&log, e))?;

    let bin = bin_dir.join(target);
    let mut cmd = Command::new(&bin);
    cmd.current_dir(&ws.root)
        .arg(format!("-max_total_time={seconds}"))
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2048")
        .arg("-max_len=65536")
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(&corpus)
        .arg(&shared_dir);
    let committed = ws.root.join("http/fuzz/seeds").join(target);
    if committed.is_dir() {
        cmd.arg(&committed);
    }
    let shown = steps::show(&cmd);
    let status = cmd
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err)
        .status()
        .map_err(|e| Error::new(format!("could not start `{shown}`: {e}")))?;
    let output = fs::read_to_string(&log).unwrap_or_default();
    let stats = Stats::read(&output);
    if !status.success() {
        let tail: Vec<&str> = output.lines().rev().take(OUTPUT_TAIL).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        let artifact = output
            .lines()
            .find_map(|l| l.split("Test unit written to ").nth(1))
            .unwrap_or("(none written)");
        return Err(Error::new(format!(
            "---- fuzz target {target} FAILED ({status}) ----\n$ {shown}\n{}\n\
             input: {artifact}\n\
             replay: {} {artifact}   (or, on nightly: cd http && cargo fuzz run {target} \
             {artifact})\nfull output: {}",
            tail.join("\n"),
            bin.display(),
            log.display()
        )));
    }
    if stats.coverage == Some(0) || output.contains("Is the code instrumented for coverage?") {
        return Err(Error::new(format!(
            "fuzz target {target} saw no coverage: the build is not instrumented (see {})",
            log.display()
        )));
    }
    eprintln!(
        "fuzz {target:<16} {} runs in {seconds}s, coverage {} edges, started from {} inputs \
         ({} from the shared corpora), corpus now {}",
        stats.runs.map_or("?".into(), |n| n.to_string()),
        stats.coverage.map_or("?".into(), |n| n.to_string()),
        stats.seeds.map_or("?".into(), |n| n.to_string()),
        shared.len(),
        stats.corpus.map_or("?".into(), |n| n.to_string()),
    );
    Ok(())
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::new(format!("{}: {e}", path.display()))
}

/// What libFuzzer's output says about a run.
#[derive(Debug, Default, PartialEq, Eq)]
struct Stats {
    runs: Option<u64>,
    coverage: Option<u64>,
    seeds: Option<u64>,
    corpus: Option<u64>,
}

impl Stats {
    fn read(output: &str) -> Stats {
        let number = |line: &str, key: &str| -> Option<u64> {
            let rest = line.split(key).nth(1)?;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        };
        let mut stats = Stats::default();
        for line in output.lines() {
            if let Some(n) = number(line, "stat::number_of_executed_units: ") {
                stats.runs = Some(n);
            }
            if line.contains("INFO: seed corpus: files: ") {
                stats.seeds = number(line, "files: ");
            }
            if line.starts_with('#') {
                if let Some(n) = number(line, "cov: ") {
                    stats.coverage = Some(n);
                }
                if let Some(n) = number(line, "corp: ") {
                    stats.corpus = Some(n);
                }
            }
        }
        stats
    }
}

/// Seeds cut from the shared corpora, by target: each named after its case.
type Seeds = BTreeMap<&'static str, Vec<(String, Vec<u8>)>>;

/// Every request and response of the corpora (`cases.json` and `messages.json`: the exact
/// bytes, base64), as seeds for the targets that read such bytes or parts of them.
fn shared_seeds(corpora: &Path) -> Result<Seeds> {
    let mut requests = Vec::new();
    let mut responses = Vec::new();
    let read = |rel: &str| -> Result<Option<Value>> {
        let path = corpora.join(rel);
        let Ok(text) = fs::read_to_string(&path) else {
            eprintln!("note: {} is missing; its cases are skipped", path.display());
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::new(format!("{}: {e}", path.display())))
    };
    let raw = |case: &Value| case.get("raw_base64")?.as_str().and_then(base64_decode);
    if let Some(v) = read("gunicorn-requests/cases.json")? {
        for (i, case) in list(&v, "cases").iter().enumerate() {
            requests.extend(raw(case).map(|b| (format!("gunicorn-{i}"), b)));
        }
    }
    if let Some(v) = read("llhttp/cases.json")? {
        for (i, case) in list(&v, "cases").iter().enumerate() {
            let kind = case
                .get("llhttp_type")
                .and_then(Value::as_str)
                .unwrap_or("");
            let Some(bytes) = raw(case) else { continue };
            if kind.starts_with("request") {
                requests.push((format!("llhttp-{i}"), bytes));
            } else if kind.starts_with("response") {
                responses.push((format!("llhttp-{i}"), bytes));
            }
        }
    }
    if let Some(v) = read("http-parser/messages.json")? {
        for (i, case) in list(&v, "requests").iter().enumerate() {
            requests.extend(raw(case).map(|b| (format!("http-parser-req-{i}"), b)));
        }
        for (i, case) in list(&v, "responses").iter().enumerate() {
            responses.extend(raw(case).map(|b| (format!("http-parser-resp-{i}"), b)));
        }
    }
    Ok(split_seeds(&requests, &responses))
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
}

/// Which part of the messages each target reads.
fn split_seeds(requests: &[(String, Vec<u8>)], responses: &[(String, Vec<u8>)]) -> Seeds {
    let mut seeds = Seeds::new();
    let mut add = |target: &'static str, name: &str, bytes: &[u8]| {
        seeds
            .entry(target)
            .or_default()
            .push((name.to_string(), bytes.to_vec()));
    };
    for (name, bytes) in requests {
        add("request_head", name, bytes);
        add("request_stream", name, bytes);
        add("ws_handshake", name, bytes);
        if let Some(target) = request_target(bytes) {
            add("router", name, target);
            let path = target.split(|&b| b == b'?').next().unwrap_or_default();
            add("static_path", name, path.strip_prefix(b"/").unwrap_or(path));
        }
    }
    for (name, bytes) in responses {
        add("response", name, bytes);
        add("ws_handshake", name, bytes);
        for location in field_values(bytes, b"location") {
            add("redirect", name, location);
        }
    }
    for (name, bytes) in requests.iter().chain(responses) {
        if let Some((head, body)) = split_head(bytes) {
            if contains_ignore_case(head, b"chunked") {
                add("chunked_body", name, body);
            }
        }
    }
    seeds
}

fn split_head(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some((&bytes[..end], &bytes[end + 4..]))
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The second word of the first line.
fn request_target(bytes: &[u8]) -> Option<&[u8]> {
    let line = bytes.split(|&b| b == b'\n').next()?;
    let mut words = line.split(|&b| b == b' ');
    words.next()?;
    words.next().filter(|w| !w.is_empty())
}

/// The values of the fields called `name` (lowercase) in a head, as sent.
fn field_values<'a>(bytes: &'a [u8], name: &[u8]) -> Vec<&'a [u8]> {
    let head = split_head(bytes).map_or(bytes, |(head, _)| head);
    head.split(|&b| b == b'\n')
        .skip(1)
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            let (n, v) = line.split_at(colon);
            n.eq_ignore_ascii_case(name).then(|| v[1..].trim_ascii())
        })
        .collect()
}

/// Standard base64 with padding; `None` for anything else.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let s = s.trim().as_bytes();
    if s.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for quad in s.chunks(4) {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGk=").unwrap(), b"hi");
        assert_eq!(base64_decode("aGk").as_deref(), None);
        assert_eq!(base64_decode("aGVsbG8h").unwrap(), b"hello!");
        assert_eq!(base64_decode("").unwrap(), b"");
        assert_eq!(base64_decode("a*==").as_deref(), None);
    }

    #[test]
    fn messages_are_cut_for_each_target() {
        let req = (
            "r".to_string(),
            b"POST /a/b?c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
        );
        let resp = (
            "s".to_string(),
            b"HTTP/1.1 302 Found\r\nLOCATION:  /next \r\nContent-Length: 0\r\n\r\n".to_vec(),
        );
        let seeds = split_seeds(std::slice::from_ref(&req), std::slice::from_ref(&resp));
        let only = |t: &str| -> Vec<&[u8]> { seeds[t].iter().map(|(_, b)| b.as_slice()).collect() };
        assert_eq!(only("request_head"), [&req.1[..]]);
        assert_eq!(only("response"), [&resp.1[..]]);
        assert_eq!(only("ws_handshake").len(), 2);
        assert_eq!(only("router"), [&b"/a/b?c"[..]]);
        assert_eq!(only("static_path"), [&b"a/b"[..]]);
        assert_eq!(only("redirect"), [&b"/next"[..]]);
        assert_eq!(only("chunked_body"), [&b"0\r\n\r\n"[..]]);
    }

    #[test]
    fn stats_are_read_from_libfuzzer_output() {
        let out = "INFO: seed corpus: files: 12 min: 1b max: 9b total: 40b rss: 27Mb\n\
                   #12\tINITED cov: 300 ft: 400 corp: 10/30b exec/s: 0 rss: 28Mb\n\
                   #9000\tDONE   cov: 321 ft: 500 corp: 20/90b lim: 4 exec/s: 4500 rss: 29Mb\n\
                   stat::number_of_executed_units: 9000\n";
        assert_eq!(
            Stats::read(out),
            Stats {
                runs: Some(9000),
                coverage: Some(321),
                seeds: Some(12),
                corpus: Some(20),
            }
        );
    }
}
