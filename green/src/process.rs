//! Child processes whose waits park only the calling green thread.
//!
//! The types mirror `std::process`: build a [`Command`], [`spawn`] it into a
//! [`Child`], talk to it through [`ChildStdin`], [`ChildStdout`] and
//! [`ChildStderr`] (non-blocking pipes that park on `WouldBlock`), and
//! [`wait`](Child::wait) for it; [`Command::output`] and
//! [`Command::status`] do all of it at once.
//!
//! Waiting uses the hub's pidfd child watcher ([`thicket_hub::Child`]): no
//! `SIGCHLD` handler, no polling, and only the spawned pid is ever reaped,
//! so other code's `waitpid` on its own children keeps working. Signals are
//! sent through a pidfd too, so a reaped pid that the system reuses can
//! never receive them.
//!
//! `spawn` itself (fork and exec) runs on the calling thread; it is short,
//! but it does block the hub for that long.
//!
//! [`spawn`]: Command::spawn
//!
//! # Examples
//!
//! ```
//! use std::io::{Read, Write};
//! use thicket_green::process::{Command, Stdio};
//!
//! let mut child = Command::new("tr")
//!     .arg("a-z")
//!     .arg("A-Z")
//!     .stdin(Stdio::piped())
//!     .stdout(Stdio::piped())
//!     .spawn()?;
//! child.stdin.take().unwrap().write_all(b"green\n")?; // then dropped: EOF
//! let mut out = String::new();
//! child.stdout.take().unwrap().read_to_string(&mut out)?;
//! assert_eq!(out, "GREEN\n");
//! assert!(child.wait()?.success());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::cell::{Cell, RefCell};
use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

pub use std::process::{ExitStatus, Output, Stdio};

use crate::hub;
use crate::io::{Direction, Source};
use crate::park::{Parker, Unparker};
use crate::sys;
use crate::timeout::{deadline_after, scope_expired};

/// A process builder, as [`std::process::Command`]; [`spawn`](Self::spawn)
/// gives a green [`Child`].
///
/// Defaults follow std: `spawn` and `status` inherit all three streams;
/// `output` pipes stdout and stderr and gives the child an empty stdin.
pub struct Command {
    inner: std::process::Command,
    /// Which streams the caller configured; the others get the default of
    /// each spawning method, set afresh every time.
    stdin_set: bool,
    stdout_set: bool,
    stderr_set: bool,
}

impl Command {
    /// A command to run `program`, found on `PATH` if it has no slash.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            inner: std::process::Command::new(program),
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.inner.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.inner.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.inner.env(key, val);
        self
    }

    /// Sets environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.inner.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.inner.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` adds).
    pub fn env_clear(&mut self) -> &mut Command {
        self.inner.env_clear();
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.inner.current_dir(dir);
        self
    }

    /// Configures the child's stdin; [`Stdio::piped`] gives a [`ChildStdin`].
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.inner.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// Configures the child's stdout; [`Stdio::piped`] gives a
    /// [`ChildStdout`].
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.inner.stdout(cfg);
        self.stdout_set = true;
        self
    }

    /// Configures the child's stderr; [`Stdio::piped`] gives a
    /// [`ChildStderr`].
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.inner.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// The std builder inside, for what this type does not wrap (the Unix
    /// `CommandExt` methods: `uid`, `process_group`, `pre_exec`...).
    /// Configure the standard streams through this type's own methods: it
    /// sets the ones it was not told about on every spawn.
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.inner
    }

    /// Starts the process.
    ///
    /// # Errors
    ///
    /// As [`std::process::Command::spawn`] (`NotFound` for a missing
    /// program), or the error of setting up the green pipes or the pidfd.
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_green::process::Command;
    ///
    /// let err = Command::new("/no/such/program").spawn().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        self.spawn_with(Stdio::inherit, Stdio::inherit)
    }

    fn spawn_with(&mut self, stdin: fn() -> Stdio, out: fn() -> Stdio) -> io::Result<Child> {
        if !self.stdin_set {
            self.inner.stdin(stdin());
        }
        if !self.stdout_set {
            self.inner.stdout(out());
        }
        if !self.stderr_set {
            self.inner.stderr(out());
        }
        let child = self.inner.spawn()?;
        Child::from_std(child)
    }

    /// Runs the process to its end, collecting stdout and stderr (piped
    /// unless configured otherwise; stdin is empty unless configured).
    ///
    /// # Errors
    ///
    /// As [`spawn`](Self::spawn); a pipe or wait error (a kill or timeout of
    /// the calling green thread). The process is not killed on error.
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_green::process::Command;
    ///
    /// let out = Command::new("sh").args(["-c", "echo out; echo err >&2; exit 4"]).output()?;
    /// assert_eq!(out.stdout, b"out\n");
    /// assert_eq!(out.stderr, b"err\n");
    /// assert_eq!(out.status.code(), Some(4));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn output(&mut self) -> io::Result<Output> {
        self.spawn_with(Stdio::null, Stdio::piped)?
            .wait_with_output()
    }

    /// Runs the process to its end with inherited streams and returns its
    /// exit status.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Self::spawn) and [`Child::wait`].
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_green::process::Command;
    ///
    /// assert_eq!(Command::new("sh").args(["-c", "exit 3"]).status()?.code(), Some(3));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn_with(Stdio::inherit, Stdio::inherit)?.wait()
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// A running or exited child process, as [`std::process::Child`].
///
/// Dropping a `Child` neither kills nor waits for the process (as in std);
/// wait for it, or it stays a zombie until this process exits.
pub struct Child {
    pid: u32,
    /// For signals: unlike the pid, it can never name another process.
    pidfd: OwnedFd,
    status: Option<ExitStatus>,
    /// The child's stdin, if it was piped.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if it was piped.
    pub stderr: Option<ChildStderr>,
}

/// What a wait hands from the watcher callback to the waiter.
#[derive(Default)]
struct WaitSlot {
    status: RefCell<Option<io::Result<ExitStatus>>>,
    waiter: Cell<Option<Unparker>>,
}

impl Child {
    /// Takes over a process spawned by `std::process::Command`, with its
    /// piped streams. Do not wait for it through std as well.
    ///
    /// # Errors
    ///
    /// The error of opening its pidfd (`ESRCH` if it was already reaped) or
    /// of making its pipes non-blocking.
    pub fn from_std(mut child: std::process::Child) -> io::Result<Child> {
        let pid = child.id();
        let pidfd = sys::pidfd_open(pid)?;
        Ok(Child {
            pid,
            pidfd,
            status: None,
            stdin: child.stdin.take().map(ChildStdin::from_std).transpose()?,
            stdout: child.stdout.take().map(ChildStdout::from_std).transpose()?,
            stderr: child.stderr.take().map(ChildStderr::from_std).transpose()?,
        })
        // `child` drops here: std's Child neither waits nor kills on drop.
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// Sends `SIGKILL`. Does nothing if the process was already waited for.
    ///
    /// # Errors
    ///
    /// The error of `pidfd_send_signal`.
    pub fn kill(&mut self) -> io::Result<()> {
        self.send_signal(libc::SIGKILL)
    }

    /// Sends `signum` to the process (e.g. `libc::SIGTERM`). Does nothing if
    /// the process was already waited for.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a bad signal number; other `pidfd_send_signal`
    /// errors.
    pub fn send_signal(&mut self, signum: i32) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        sys::pidfd_send_signal(self.pidfd.as_fd(), signum)
    }

    /// Waits for the process to exit and returns its status; at once if it
    /// already did. Closes the child's stdin first (as std does), so a child
    /// that reads until end of input can finish.
    ///
    /// # Errors
    ///
    /// `TimedOut` if an enclosing [`with_timeout`](crate::with_timeout)
    /// deadline passes, `Other` (a [`WaitError::Cancelled`](crate::WaitError::Cancelled)) if the green
    /// thread is killed; the process is then still running and can be
    /// waited for again. `ECHILD` if other code reaped it.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        match self.wait_until(None)? {
            Some(status) => Ok(status),
            None => unreachable!("a wait without a deadline ends with a status"),
        }
    }

    /// Like [`wait`](Self::wait), giving up after `timeout`: `Ok(None)` if
    /// the process is still running then. Stdin stays open.
    ///
    /// # Errors
    ///
    /// As for `wait`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use thicket_green::process::{Command, Stdio};
    ///
    /// // `cat` runs until its stdin closes.
    /// let mut child = Command::new("cat").stdin(Stdio::piped()).spawn()?;
    /// assert_eq!(child.wait_timeout(Duration::from_millis(10))?, None);
    /// drop(child.stdin.take());
    /// assert!(child.wait_timeout(Duration::from_secs(60))?.unwrap().success());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn wait_timeout(&mut self, timeout: Duration) -> io::Result<Option<ExitStatus>> {
        match self.wait_until(Some(deadline_after(timeout))) {
            Err(e) if e.kind() == io::ErrorKind::TimedOut && !scope_expired() => Ok(None),
            r => r,
        }
    }

    /// The exit status if the process has exited (reaping it), else
    /// `None`; never blocks.
    ///
    /// # Errors
    ///
    /// The error of `waitpid` (`ECHILD` if other code reaped it).
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(s) = self.status {
            return Ok(Some(s));
        }
        let pid = libc::pid_t::try_from(self.pid).expect("a spawned pid fits pid_t");
        match sys::waitpid_nohang(pid)? {
            None => Ok(None),
            Some(raw) => {
                let status = ExitStatus::from_raw(raw);
                self.status = Some(status);
                Ok(Some(status))
            }
        }
    }

    /// Waits for the process while reading all of its piped stdout and
    /// stderr (both at once, so neither pipe can fill up and stall it).
    ///
    /// # Errors
    ///
    /// A read error on either pipe, or as for [`wait`](Self::wait).
    pub fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let stderr_reader = self.stderr.take().map(|mut err| {
            crate::spawn(move || {
                let mut buf = Vec::new();
                err.read_to_end(&mut buf).map(|_| buf)
            })
        });
        let mut stdout = Vec::new();
        if let Some(out) = self.stdout.as_mut() {
            out.read_to_end(&mut stdout)?;
        }
        let stderr = match stderr_reader {
            Some(gt) => match gt.join() {
                Ok(r) => r?,
                Err(crate::JoinError::Panicked(p)) => std::panic::resume_unwind(p),
                Err(e) => return Err(io::Error::other(e.to_string())),
            },
            None => Vec::new(),
        };
        let status = self.wait()?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    fn wait_until(&mut self, deadline: Option<u64>) -> io::Result<Option<ExitStatus>> {
        if let Some(s) = self.status {
            return Ok(Some(s));
        }
        let slot = Rc::new(WaitSlot::default());
        let s = slot.clone();
        let watcher = hub::with(|h| {
            thicket_hub::Child::new(&h.lp, self.pid, move |_, status| {
                *s.status.borrow_mut() = Some(status);
                if let Some(w) = s.waiter.take() {
                    w.unpark();
                }
            })
        })?;
        watcher.start();
        loop {
            if let Some(r) = slot.status.borrow_mut().take() {
                let status = r?;
                self.status = Some(status);
                return Ok(Some(status));
            }
            let parker = Parker::current();
            slot.waiter.set(Some(parker.unparker()));
            // The active child watcher keeps the hub's loop alive; only its
            // callback can end this wait.
            if let Err(e) = parker.park("Child::wait", deadline, &|| false) {
                // Dropping the watcher stops it: the process is not reaped
                // and can be waited for again.
                drop(watcher);
                return Err(e.into());
            }
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.pid)
            .field("status", &self.status)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}

macro_rules! pipe_end {
    ($(#[$doc:meta])* $name:ident, $std:ty, $dir:expr, $timeout_fn:ident) => {
        $(#[$doc])*
        pub struct $name {
            src: Source,
        }

        impl $name {
            /// Wraps a std pipe end, making it non-blocking.
            ///
            /// # Errors
            ///
            /// The error of setting `O_NONBLOCK`.
            pub fn from_std(end: $std) -> io::Result<$name> {
                Ok($name {
                    src: Source::new(OwnedFd::from(end))?,
                })
            }

            /// Sets how long each call may wait (`None`: no limit); a call
            /// that waits longer fails with `TimedOut`.
            ///
            /// # Errors
            ///
            /// `InvalidInput` for a zero duration, as std does.
            pub fn $timeout_fn(&self, timeout: Option<Duration>) -> io::Result<()> {
                self.src.set_timeout($dir, timeout)
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.src.fd()
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.src.owned_fd().as_fd()
            }
        }

        impl From<$name> for OwnedFd {
            /// The descriptor, blocking again (it may go to another process).
            fn from(end: $name) -> OwnedFd {
                let fd = end.src.into_owned_fd();
                // A pipe end we own: clearing the flag cannot fail.
                let _ = sys::set_nonblocking(fd.as_fd(), false);
                fd
            }
        }

        impl From<$name> for Stdio {
            /// Hands the pipe end to another child, e.g. to connect one
            /// child's stdout to the next one's stdin.
            fn from(end: $name) -> Stdio {
                Stdio::from(OwnedFd::from(end))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("fd", &self.src.fd())
                    .finish()
            }
        }
    };
}

pipe_end!(
    /// The writing end of a child's stdin: writes park the green thread
    /// while the pipe is full. Drop it to close the child's input.
    ChildStdin,
    std::process::ChildStdin,
    Direction::Write,
    set_write_timeout
);

pipe_end!(
    /// The reading end of a child's stdout: reads park the green thread
    /// until output arrives; `Ok(0)` once the child closed it.
    ChildStdout,
    std::process::ChildStdout,
    Direction::Read,
    set_read_timeout
);

pipe_end!(
    /// The reading end of a child's stderr: reads park the green thread
    /// until output arrives; `Ok(0)` once the child closed it.
    ChildStderr,
    std::process::ChildStderr,
    Direction::Read,
    set_read_timeout
);

impl Write for ChildStdin {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let fd = self.src.owned_fd().as_fd();
        self.src.do_io(Direction::Write, "ChildStdin::write", || {
            sys::write(fd, buf)
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for ChildStdout {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let fd = self.src.owned_fd().as_fd();
        self.src
            .do_io(Direction::Read, "ChildStdout::read", || sys::read(fd, buf))
    }
}

impl Read for ChildStderr {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let fd = self.src.owned_fd().as_fd();
        self.src
            .do_io(Direction::Read, "ChildStderr::read", || sys::read(fd, buf))
    }
}
