//! Build every example of the workspace, then run those that end by themselves.
//!
//! An example opts out of being run with a line `//! xtask: no-run` (a server, say); it must
//! then print what to run against it. The others must exit successfully within the time limit.

use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::metadata::Metadata;
use crate::steps::{self, Error, Result, Workspace};

/// The opt-out marker line.
pub const NO_RUN: &str = "//! xtask: no-run";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How many lines of a failing example's output to show.
const OUTPUT_TAIL: usize = 60;

#[derive(Debug)]
struct Example {
    package: String,
    name: String,
    src: PathBuf,
    dir: PathBuf,
    required_features: Vec<String>,
}

#[derive(Debug)]
enum Outcome {
    Passed,
    NotRun(String),
    Failed(String),
}

/// Whether the source opts out of being run.
pub fn is_no_run(src: &str) -> bool {
    src.lines().any(|l| l.trim() == NO_RUN)
}

fn timeout() -> Result<Duration> {
    match std::env::var("XTASK_EXAMPLE_TIMEOUT") {
        Ok(secs) => secs.trim().parse().map(Duration::from_secs).map_err(|_| {
            Error::new(format!(
                "XTASK_EXAMPLE_TIMEOUT must be a number of seconds, got `{secs}`"
            ))
        }),
        Err(_) => Ok(DEFAULT_TIMEOUT),
    }
}

pub fn build_and_run(ws: &Workspace) -> Result<()> {
    let limit = timeout()?;
    let meta = Metadata::load(ws)?;
    let examples: Vec<Example> = meta
        .packages
        .iter()
        .flat_map(|p| {
            p.targets_of_kind("example").map(|t| Example {
                package: p.name.clone(),
                name: t.name.clone(),
                src: t.src_path.clone(),
                dir: p.dir().to_path_buf(),
                required_features: t.required_features.clone(),
            })
        })
        .collect();
    if examples.is_empty() {
        eprintln!("no examples in the workspace yet");
        return Ok(());
    }
    steps::run(ws.cargo().args(["build", "--workspace", "--examples"]))?;

    let bin_dir = meta.target_directory.join("debug").join("examples");
    let mut results = Vec::new();
    for example in &examples {
        let label = format!("{}/{}", example.package, example.name);
        let outcome = run_one(example, &bin_dir, limit);
        match &outcome {
            Outcome::Passed => {}
            Outcome::NotRun(why) => eprintln!("example {label}: not run ({why})"),
            Outcome::Failed(why) => eprintln!("example {label}: FAILED\n{why}"),
        }
        results.push((label, outcome));
    }

    eprintln!("\nexamples:");
    for (label, outcome) in &results {
        let what = match outcome {
            Outcome::Passed => "ok".to_string(),
            Outcome::NotRun(why) => format!("not run: {why}"),
            Outcome::Failed(_) => "FAILED".to_string(),
        };
        eprintln!("  {label:<40} {what}");
    }
    let failed: Vec<&str> = results
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
        .map(|(label, _)| label.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "{} example(s) failed: {}",
            failed.len(),
            failed.join(", ")
        )))
    }
}

fn run_one(example: &Example, bin_dir: &Path, limit: Duration) -> Outcome {
    let label = format!("{}/{}", example.package, example.name);
    match fs::read_to_string(&example.src) {
        Ok(src) if is_no_run(&src) => return Outcome::NotRun(NO_RUN.to_string()),
        Ok(_) => {}
        Err(e) => return Outcome::Failed(format!("cannot read {}: {e}", example.src.display())),
    }
    if !example.required_features.is_empty() {
        return Outcome::NotRun(format!(
            "needs features {}",
            example.required_features.join(", ")
        ));
    }
    let bin = bin_dir.join(&example.name);
    eprintln!("\n--- example {label}: {}", bin.display());
    let start = Instant::now();
    let mut cmd = Command::new(&bin);
    cmd.current_dir(&example.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that a timeout also ends whatever it started.
        .process_group(0);
    let result = run_with_timeout(cmd, limit);
    let took = steps::secs(start.elapsed());
    match result {
        Ok(Run {
            status: Some(status),
            ..
        }) if status.success() => {
            eprintln!("--- example {label}: ok in {took}");
            Outcome::Passed
        }
        Ok(Run { status, output }) => {
            let why = match status {
                Some(status) => format!("{status} after {took}"),
                None => format!(
                    "still running after {took}: killed (time limit {}s; add `{NO_RUN}` \
                     if it is a server)",
                    limit.as_secs()
                ),
            };
            Outcome::Failed(format!("{why}\n{}", tail(&output, OUTPUT_TAIL)))
        }
        Err(e) => Outcome::Failed(format!("could not start {}: {e}", bin.display())),
    }
}

struct Run {
    /// `None` when it was killed at the time limit.
    status: Option<ExitStatus>,
    /// Standard output and error, interleaved as they arrived.
    output: String,
}

/// Runs `cmd` (which must pipe stdout and stderr and lead its own process group), killing the
/// group when it outlives `limit`.
fn run_with_timeout(mut cmd: Command, limit: Duration) -> std::io::Result<Run> {
    let mut child = cmd.spawn()?;
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut pipe| {
        let tx = tx.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        })
    })
    .collect();
    drop(tx);

    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    // Also ends anything the example left behind in its group.
    kill_group(&mut child);
    if status.is_none() {
        let _ = child.wait();
    }

    let mut output = Vec::new();
    // A grandchild that left the group could hold the pipes open: do not wait for it forever.
    let drain_until = Instant::now() + Duration::from_secs(5);
    while let Some(left) = drain_until.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(chunk) => output.extend_from_slice(&chunk),
            Err(_) => break,
        }
    }
    if readers.iter().all(|r| r.is_finished()) {
        for reader in readers {
            let _ = reader.join();
        }
    }
    Ok(Run {
        status,
        output: String::from_utf8_lossy(&output).into_owned(),
    })
}

fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let skipped = all.len().saturating_sub(lines);
    let mut out = String::new();
    if skipped > 0 {
        out.push_str(&format!("    ... ({skipped} earlier lines)\n"));
    }
    for line in &all[skipped..] {
        out.push_str("    | ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        cmd
    }

    #[test]
    fn no_run_marker_must_be_a_whole_line() {
        assert!(is_no_run(
            "//! A server.\n//! xtask: no-run\n//! Run `curl ...`\n"
        ));
        assert!(!is_no_run("//! Do not add `//! xtask: no-run` here.\n"));
    }

    #[test]
    fn finished_example_reports_status_and_output() {
        let run = run_with_timeout(
            sh("echo out; echo err >&2; exit 3"),
            Duration::from_secs(30),
        )
        .unwrap();
        assert_eq!(run.status.and_then(|s| s.code()), Some(3));
        assert!(run.output.contains("out\n"), "{}", run.output);
        assert!(run.output.contains("err\n"), "{}", run.output);
    }

    #[test]
    fn example_past_its_limit_is_killed_with_its_children() {
        let run =
            run_with_timeout(sh("sleep 300 & echo $!; wait"), Duration::from_millis(300)).unwrap();
        assert!(run.status.is_none());
        let pid: u32 = run.output.trim().parse().expect("the script printed a pid");
        // Gone, or a zombie waiting for init: either way no longer running.
        // SIGKILL to the group is asynchronous, so the grandchild may take a
        // moment to die; wait for that, with a deadline.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let state = loop {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
            if matches!(state, None | Some('Z' | 'X')) || std::time::Instant::now() > deadline {
                break state;
            }
            std::thread::yield_now();
        };
        assert!(
            matches!(state, None | Some('Z' | 'X')),
            "{pid} is still {state:?} 10 s after the kill"
        );
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(
            tail("a\nb\nc\n", 2),
            "    ... (1 earlier lines)\n    | b\n    | c\n"
        );
    }
}
