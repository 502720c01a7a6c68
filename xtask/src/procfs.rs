//! Processes, without `unsafe`: reading `/proc`, raising the open-file limit through
//! util-linux's `prlimit`, finding programs on PATH, and a child that is killed on drop.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

/// How often a wait on a child process looks at it again.
const POLL: Duration = Duration::from_millis(20);

/// The first executable called `name` in a folder of PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file() && is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

/// Whether this process runs as root (real user id 0).
pub fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| status_field(&s, "Uid").map(|v| v.split_whitespace().next() == Some("0")))
        .unwrap_or(false)
}

/// The value of `Name:` in a `/proc/<pid>/status` text.
pub fn status_field<'a>(status: &'a str, name: &str) -> Option<&'a str> {
    status.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim)
    })
}

/// Installs Debian packages with `apt-get install -y` (through sudo when not root), running
/// `apt-get update` first only if the install fails (the package lists may be missing on a
/// fresh machine).
pub fn apt_install(packages: &[&str]) -> crate::steps::Result<()> {
    if which("apt-get").is_none() {
        return Err(crate::steps::Error::new(format!(
            "no apt-get to install {}",
            packages.join(" ")
        )));
    }
    let apt = |args: &[&str]| {
        let mut cmd = if is_root() {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    let install: Vec<&str> = ["install", "-y", "-q"]
        .iter()
        .chain(packages)
        .copied()
        .collect();
    if crate::steps::run(&mut apt(&install)).is_err() {
        crate::steps::run(&mut apt(&["update", "-q"]))?;
        crate::steps::run(&mut apt(&install))?;
    }
    Ok(())
}

/// Resident memory of a process in KiB (`VmRSS` in `/proc/<pid>/status`).
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_rss_kib(&status).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("no VmRSS in /proc/{pid}/status"),
        )
    })
}

pub fn parse_rss_kib(status: &str) -> Option<u64> {
    let value = status_field(status, "VmRSS")?;
    value.strip_suffix("kB")?.trim().parse().ok()
}

/// A process's open-file limits `(soft, hard)`; `u64::MAX` stands for unlimited.
pub fn nofile_limits(pid: &str) -> Option<(u64, u64)> {
    let limits = fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    parse_nofile(&limits)
}

pub fn parse_nofile(limits: &str) -> Option<(u64, u64)> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut values = line["Max open files".len()..].split_whitespace().map(|v| {
        if v == "unlimited" {
            Some(u64::MAX)
        } else {
            v.parse().ok()
        }
    });
    Some((values.next()??, values.next()??))
}

/// The open-file limit to give a load generator or server: this process's hard limit,
/// capped at the kernel's `nr_open` when the hard limit is unlimited.
fn nofile_target() -> Option<u64> {
    let (_, hard) = nofile_limits("self")?;
    if hard == u64::MAX {
        fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|s| s.trim().parse().ok())
    } else {
        Some(hard)
    }
}

/// A command running `program args`, through `prlimit --nofile=H:H --` (H this process's
/// hard limit) when prlimit is installed, so that it may open as many sockets as allowed.
/// `prlimit` execs the program, so the child's pid is the program's.
pub fn with_nofile_raised(program: &Path, args: &[String]) -> Command {
    match (which("prlimit"), nofile_target()) {
        (Some(prlimit), Some(n)) => {
            let mut cmd = Command::new(prlimit);
            cmd.arg(format!("--nofile={n}:{n}"))
                .arg("--")
                .arg(program)
                .args(args);
            cmd
        }
        _ => {
            let mut cmd = Command::new(program);
            cmd.args(args);
            cmd
        }
    }
}

/// Raises this process's soft open-file limit to its hard limit (with `prlimit --pid`) and
/// returns the soft limit in force afterwards.
pub fn raise_own_nofile() -> u64 {
    if let (Some(prlimit), Some(n)) = (which("prlimit"), nofile_target()) {
        let _ = Command::new(prlimit)
            .arg(format!("--pid={}", std::process::id()))
            .arg(format!("--nofile={n}:{n}"))
            .status();
    }
    nofile_limits("self").map_or(1024, |(soft, _)| soft)
}

/// A child process that is killed (SIGKILL) and reaped when dropped, on every path.
#[derive(Debug)]
pub struct KillOnDrop {
    child: Child,
}

impl KillOnDrop {
    pub fn new(child: Child) -> Self {
        KillOnDrop { child }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if it has ended.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Waits until it ends or `deadline` passes (`None`: still running).
    pub fn wait_deadline(&mut self, deadline: Instant) -> io::Result<Option<ExitStatus>> {
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            thread::sleep(POLL);
        }
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_and_uid_from_a_status_text() {
        let status = "Name:\twrk\nUid:\t0\t0\t0\t0\nVmRSS:\t   15120 kB\nThreads:\t3\n";
        assert_eq!(parse_rss_kib(status), Some(15_120));
        assert_eq!(status_field(status, "Uid"), Some("0\t0\t0\t0"));
        assert_eq!(status_field(status, "Vm"), None);
        assert_eq!(parse_rss_kib("Name:\tx\n"), None);
    }

    #[test]
    fn open_file_limits_from_a_limits_text() {
        let limits = "\
Limit                     Soft Limit           Hard Limit           Units
Max processes             95524                95524                processes
Max open files            1024                 524288               files
";
        assert_eq!(parse_nofile(limits), Some((1024, 524_288)));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_nofile(unlimited), Some((u64::MAX, u64::MAX)));
        assert_eq!(parse_nofile("Max processes 1 1 processes\n"), None);
    }

    #[test]
    fn this_process_has_limits_and_rss() {
        let (soft, hard) = nofile_limits("self").unwrap();
        assert!(soft <= hard);
        assert!(rss_kib(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn dropping_the_guard_kills_the_child() {
        let child = Command::new("sleep").arg("300").spawn().unwrap();
        let pid = child.id();
        let mut guard = KillOnDrop::new(child);
        assert_eq!(guard.try_wait().unwrap(), None);
        drop(guard);
        // Reaped by the guard: the pid no longer names our child.
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(!stat.contains("(sleep)"), "{stat}");
    }
}
