//! Running commands as named, timed steps, and the error type of xtask.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// What went wrong, as a message for a person: which step, which command, which status.
#[derive(Debug)]
pub struct Error(String);

impl Error {
    pub fn new(msg: impl Into<String>) -> Self {
        Error(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// The workspace xtask works on: the parent of xtask's own folder.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
}

impl Workspace {
    pub fn locate() -> Self {
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf();
        Workspace { root }
    }

    /// `cargo` (the one that runs xtask, when known), started in the workspace root.
    pub fn cargo(&self) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let mut cmd = Command::new(cargo);
        cmd.current_dir(&self.root);
        cmd
    }
}

/// Whether we run in CI (`CI` set to anything but empty, `0` or `false`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// A command line as a person would type it: `RUSTDOCFLAGS="-D warnings" cargo doc ...`.
pub fn show(cmd: &Command) -> String {
    let mut out = String::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            out.push_str(&format!(
                "{}={} ",
                key.to_string_lossy(),
                quote(&value.to_string_lossy())
            ));
        }
    }
    let program = Path::new(cmd.get_program());
    let program = program.file_name().unwrap_or(program.as_os_str());
    out.push_str(&program.to_string_lossy());
    for arg in cmd.get_args() {
        out.push(' ');
        out.push_str(&quote(&arg.to_string_lossy()));
    }
    out
}

fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+^@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Runs `cmd` with inherited output; an error names the command and its exit status.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = show(cmd);
    eprintln!("$ {shown}");
    let status = cmd
        .status()
        .map_err(|e| Error::new(format!("could not start `{shown}`: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::new(format!("`{shown}` failed ({status})")))
    }
}

/// Runs `cmd` and returns its standard output; standard error is passed through.
pub fn output(cmd: &mut Command) -> Result<String> {
    let shown = show(cmd);
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| Error::new(format!("could not start `{shown}`: {e}")))?;
    if !out.status.success() {
        return Err(Error::new(format!("`{shown}` failed ({})", out.status)));
    }
    String::from_utf8(out.stdout)
        .map_err(|_| Error::new(format!("`{shown}` printed output that is not UTF-8")))
}

/// Whether `program --version` runs and succeeds (the tool is installed).
pub fn tool_works(cmd: &mut Command) -> bool {
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[derive(Debug)]
enum Outcome {
    Ok,
    Skipped(String),
    Failed,
}

/// An ordered run of named steps that stops at the first failure and ends with a summary.
#[derive(Debug)]
pub struct Steps {
    title: &'static str,
    started: Instant,
    records: Vec<(String, Duration, Outcome)>,
}

impl Steps {
    pub fn new(title: &'static str) -> Self {
        Steps {
            title,
            started: Instant::now(),
            records: Vec::new(),
        }
    }

    /// Runs one step; on failure prints the summary and returns an error naming the step.
    pub fn run(&mut self, name: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
        eprintln!("\n==> [{}] {name}", self.title);
        let start = Instant::now();
        let result = f();
        let took = start.elapsed();
        match result {
            Ok(()) => {
                eprintln!("<== [{}] {name}: ok in {}", self.title, secs(took));
                self.records.push((name.to_string(), took, Outcome::Ok));
                Ok(())
            }
            Err(e) => {
                self.records.push((name.to_string(), took, Outcome::Failed));
                self.summary();
                Err(Error::new(format!(
                    "{} step `{name}` failed: {e}",
                    self.title
                )))
            }
        }
    }

    /// Records a step that was not run, and why.
    pub fn skip(&mut self, name: &str, why: &str) {
        eprintln!("\n==> [{}] {name}: skipped ({why})", self.title);
        self.records.push((
            name.to_string(),
            Duration::ZERO,
            Outcome::Skipped(why.into()),
        ));
    }

    /// Prints one line per step and the total time.
    pub fn summary(&self) {
        eprintln!("\n---- {} summary ----", self.title);
        for (name, took, outcome) in &self.records {
            let what = match outcome {
                Outcome::Ok => "ok".to_string(),
                Outcome::Skipped(why) => format!("skipped: {why}"),
                Outcome::Failed => "FAILED".to_string(),
            };
            eprintln!("  {name:<12} {:>8}  {what}", secs(*took));
        }
        eprintln!("  {:<12} {:>8}", "total", secs(self.started.elapsed()));
    }
}

pub fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_quotes_only_what_needs_it() {
        let mut cmd = Command::new("/usr/bin/cargo");
        cmd.args(["clippy", "--", "-D", "warnings", "a b"]);
        cmd.env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(
            show(&cmd),
            "RUSTDOCFLAGS=\"-D warnings\" cargo clippy -- -D warnings \"a b\""
        );
    }

    #[test]
    fn failing_step_is_named_in_the_error() {
        let mut steps = Steps::new("test");
        steps.run("first", || Ok(())).unwrap();
        let err = steps
            .run("second", || Err(Error::new("`false` failed")))
            .unwrap_err();
        assert_eq!(err.to_string(), "test step `second` failed: `false` failed");
    }

    #[test]
    fn run_reports_the_exit_status() {
        let err = run(&mut Command::new("false")).unwrap_err().to_string();
        assert!(err.starts_with("`false` failed (exit status: 1)"), "{err}");
        assert!(run(&mut Command::new("true")).is_ok());
    }
}
