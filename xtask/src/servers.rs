//! The HTTP hello-world servers `cargo xtask bench` measures: thicket's `hello` example and
//! the peers of `xtask/peers` (Rust binaries and Python scripts), how to build them, and a
//! running server that is killed when dropped.
//!
//! Every server answers any request with `200 OK`, `Content-Type: text/plain`,
//! `Content-Length: 13` and `Hello, World!`, keeps the connection alive, and takes
//! `--addr 127.0.0.1:PORT --threads N`.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::metadata::Metadata;
use crate::procfs::{self, KillOnDrop};
use crate::steps::{self, Error, Result, Workspace};

/// Worker threads (hubs, tokio workers, may workers, actix workers) every server gets.
pub const THREADS: usize = 2;

/// The body every server sends.
pub const BODY: &[u8] = b"Hello, World!";

/// The workspace member holding the peers, and the feature that adds actix-web.
const PEERS_PACKAGE: &str = "thicket-peers";
pub const PEERS_FEATURES: &str = "actix";

/// How long a server may take to accept its first connection.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long one request of a probe may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `cargo build --release -p thicket-http --example hello`.
    Thicket,
    /// A binary of thicket-peers, with extra arguments.
    RustPeer {
        bin: &'static str,
        args: &'static [&'static str],
    },
    /// A script of `xtask/peers/python/`, run by the bench venv's Python.
    Python { script: &'static str },
}

/// One server of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// The key in JSON, and the name `--servers` takes.
    pub name: &'static str,
    /// The table's column heading.
    pub column: &'static str,
    /// What it is, for the reader.
    pub title: &'static str,
    pub kind: Kind,
}

/// Every server, in table order: thicket first.
pub const ALL: &[Spec] = &[
    Spec {
        name: "thicket",
        column: "thicket",
        title: "thicket (`http/examples/hello.rs`, 2 hubs)",
        kind: Kind::Thicket,
    },
    Spec {
        name: "hyper",
        column: "hyper",
        title: "hyper 1 on tokio, multi-thread runtime, 2 workers",
        kind: Kind::RustPeer {
            bin: "hyper_hello",
            args: &[],
        },
    },
    Spec {
        name: "hyper_per_thread",
        column: "hyper per-thread",
        title: "hyper 1 on 2 tokio `current_thread` runtimes, a `SO_REUSEPORT` listener each",
        kind: Kind::RustPeer {
            bin: "hyper_hello",
            args: &["--runtime", "per-thread"],
        },
    },
    Spec {
        name: "may_minihttp",
        column: "may_minihttp",
        title: "may_minihttp, 2 may workers, not pinned to cores",
        kind: Kind::RustPeer {
            bin: "may_minihttp_hello",
            args: &[],
        },
    },
    Spec {
        name: "actix_web",
        column: "actix-web",
        title: "actix-web 4, 2 workers",
        kind: Kind::RustPeer {
            bin: "actix_hello",
            args: &[],
        },
    },
    Spec {
        name: "gevent",
        column: "gevent",
        title: "gevent pywsgi (TCP_NODELAY set), one process",
        kind: Kind::Python {
            script: "gevent_hello.py",
        },
    },
    Spec {
        name: "eventlet",
        column: "eventlet",
        title: "eventlet.wsgi, one process",
        kind: Kind::Python {
            script: "eventlet_hello.py",
        },
    },
];

/// The specs named in `filter` (all when `None`).
///
/// # Errors
///
/// An unknown name, with the list of known ones.
pub fn select(filter: Option<&[String]>) -> Result<Vec<Spec>> {
    let Some(names) = filter else {
        return Ok(ALL.to_vec());
    };
    for name in names {
        if !ALL.iter().any(|s| s.name == name) {
            let known: Vec<&str> = ALL.iter().map(|s| s.name).collect();
            return Err(Error::new(format!(
                "unknown server `{name}` (known: {})",
                known.join(", ")
            )));
        }
    }
    Ok(ALL
        .iter()
        .filter(|s| names.iter().any(|n| n == s.name))
        .copied()
        .collect())
}

/// A server ready to be started: its program and arguments (`{addr}` stands for the
/// address).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub spec: Spec,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub dir: PathBuf,
}

impl Prepared {
    /// The command line as a person would type it from the workspace root.
    pub fn shown(&self, root: &Path) -> String {
        let program = self.program.strip_prefix(root).unwrap_or(&self.program);
        let root = format!("{}/", root.display());
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| a.strip_prefix(&root).unwrap_or(a))
            .map(|a| a.replace("{addr}", "127.0.0.1:PORT"))
            .collect();
        format!("{} {}", program.display(), args.join(" "))
    }
}

/// What became of a server when it was built.
#[derive(Debug, Clone)]
pub enum Readiness {
    Ready(Prepared),
    /// Not measured, and that is expected (thicket's example not written yet).
    Skipped(String),
    /// Not measured because something broke.
    Failed(String),
}

/// Builds what `specs` need (in release mode) and says for each whether it can run.
pub fn prepare(ws: &Workspace, meta: &Metadata, specs: &[Spec]) -> Vec<(Spec, Readiness)> {
    let release = meta.target_directory.join("release");
    let wants = |f: fn(&Kind) -> bool| specs.iter().any(|s| f(&s.kind));

    let rust_peers = if wants(|k| matches!(k, Kind::RustPeer { .. })) {
        steps::run(ws.cargo().args([
            "build",
            "--release",
            "-p",
            PEERS_PACKAGE,
            "--bins",
            "--features",
            PEERS_FEATURES,
        ]))
    } else {
        Ok(())
    };
    let thicket = if wants(|k| *k == Kind::Thicket) {
        build_thicket(ws, meta)
    } else {
        Ok(None)
    };
    let python = if wants(|k| matches!(k, Kind::Python { .. })) {
        python_venv(&meta.target_directory)
    } else {
        Err(Error::new("not needed"))
    };

    specs
        .iter()
        .map(|&spec| {
            let addr_args = |extra: &[&str]| {
                let mut args = vec![
                    "--addr".to_string(),
                    "{addr}".to_string(),
                    "--threads".to_string(),
                    THREADS.to_string(),
                ];
                args.extend(extra.iter().map(|s| s.to_string()));
                args
            };
            let readiness = match spec.kind {
                Kind::Thicket => match &thicket {
                    Ok(Some(program)) => Readiness::Ready(Prepared {
                        spec,
                        program: program.clone(),
                        args: addr_args(&[]),
                        dir: ws.root.clone(),
                    }),
                    Ok(None) => Readiness::Skipped(
                        "thicket-http has no `hello` example yet (http/examples/hello.rs); \
                         measuring the peers only"
                            .to_string(),
                    ),
                    Err(e) => Readiness::Failed(format!("build failed: {e}")),
                },
                Kind::RustPeer { bin, args } => match &rust_peers {
                    Ok(()) => Readiness::Ready(Prepared {
                        spec,
                        program: release.join(bin),
                        args: addr_args(args),
                        dir: ws.root.clone(),
                    }),
                    Err(e) => Readiness::Failed(format!("build failed: {e}")),
                },
                Kind::Python { script } => match &python {
                    Ok(python) => {
                        let dir = ws.root.join("xtask/peers/python");
                        let mut args = vec![dir.join(script).display().to_string()];
                        args.extend(addr_args(&[]));
                        Readiness::Ready(Prepared {
                            spec,
                            program: python.clone(),
                            args,
                            dir,
                        })
                    }
                    Err(e) if steps::in_ci() => Readiness::Failed(e.to_string()),
                    Err(e) => Readiness::Skipped(e.to_string()),
                },
            };
            (spec, readiness)
        })
        .collect()
}

/// Builds thicket's hello example if thicket-http has one; `Ok(None)` if not yet.
fn build_thicket(ws: &Workspace, meta: &Metadata) -> Result<Option<PathBuf>> {
    if !has_hello(meta) {
        return Ok(None);
    }
    steps::run(ws.cargo().args([
        "build",
        "--release",
        "-p",
        "thicket-http",
        "--example",
        "hello",
    ]))?;
    Ok(Some(meta.target_directory.join("release/examples/hello")))
}

/// Whether thicket-http has its `hello` example (it did not while the server was written).
fn has_hello(meta: &Metadata) -> bool {
    meta.packages
        .iter()
        .filter(|p| p.name == "thicket-http")
        .flat_map(|p| p.targets_of_kind("example"))
        .any(|t| t.name == "hello")
}

/// The Python packages the Python peers need.
pub const PYTHON_PACKAGES: &[&str] = &["eventlet", "gevent"];

/// The venv's Python, with eventlet and gevent installed: `<target>/bench-venv`, created with
/// `python3 -m venv` and `pip install eventlet gevent` when missing.
pub fn python_venv(target: &Path) -> Result<PathBuf> {
    let venv = target.join("bench-venv");
    let python = venv.join("bin/python");
    let imports = || {
        steps::tool_works(
            Command::new(&python)
                .args(["-c", "import eventlet, gevent"])
                .env("PYTHONWARNINGS", "ignore"),
        )
    };
    if imports() {
        return Ok(python);
    }
    let Some(python3) = procfs::which("python3") else {
        return Err(Error::new(
            "python3 is not installed: the Python peers (gevent, eventlet) are not measured",
        ));
    };
    if !python.exists() {
        let create = || steps::run(Command::new(&python3).args(["-m", "venv"]).arg(&venv));
        // Debian's python3 has no venv module (no ensurepip) without python3-venv.
        let created = create().or_else(|first| {
            if procfs::which("apt-get").is_none() {
                return Err(first);
            }
            eprintln!("installing python3-venv, then trying again");
            let _ = fs::remove_dir_all(&venv);
            procfs::apt_install(&["python3-venv"]).and_then(|()| create())
        });
        created.map_err(|e| {
            Error::new(format!(
                "{e}: cannot create the venv for the Python peers (on Debian: \
                 `apt-get install python3-venv`)"
            ))
        })?;
    }
    steps::run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(PYTHON_PACKAGES),
    )?;
    if imports() {
        Ok(python)
    } else {
        Err(Error::new(format!(
            "{} cannot import eventlet and gevent after pip installed them",
            python.display()
        )))
    }
}

/// A started server; killed and reaped when dropped.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub log: PathBuf,
    process: KillOnDrop,
}

impl Running {
    /// A started process listening (or about to) on `addr`, its output in `log`.
    pub fn new(addr: SocketAddr, log: PathBuf, child: std::process::Child) -> Running {
        Running {
            addr,
            log,
            process: KillOnDrop::new(child),
        }
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// An error if it has exited.
    pub fn check_alive(&mut self) -> Result<()> {
        match self.process.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(Error::new(format!(
                "the server exited ({status}); its output:\n{}",
                log_tail(&self.log)
            ))),
            Err(e) => Err(Error::new(format!("cannot wait for the server: {e}"))),
        }
    }
}

/// A fresh `log` file, twice: for a child's stdout and its stderr.
pub fn log_files(log: &Path) -> Result<(fs::File, fs::File)> {
    let out = fs::File::create(log)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", log.display())))?;
    let err = out
        .try_clone()
        .map_err(|e| Error::new(format!("cannot open {}: {e}", log.display())))?;
    Ok((out, err))
}

/// Starts `server` on a free port of 127.0.0.1 with its output going to `logs/<name>.log`,
/// waits until it accepts connections, and checks it answers a keep-alive hello twice.
/// A port taken between choosing and binding it makes the server exit: then another is tried.
pub fn start(server: &Prepared, logs: &Path) -> Result<Running> {
    fs::create_dir_all(logs)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", logs.display())))?;
    let log = logs.join(format!("{}.log", server.spec.name));
    let mut last_error = None;
    for _attempt in 0..3 {
        let addr = free_port()?;
        let args: Vec<String> = server
            .args
            .iter()
            .map(|a| a.replace("{addr}", &addr.to_string()))
            .collect();
        let (out, err) = log_files(&log)?;
        let mut cmd = procfs::with_nofile_raised(&server.program, &args);
        cmd.current_dir(&server.dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // eventlet's deprecation banner; no __pycache__ in the source tree.
            .env("PYTHONWARNINGS", "ignore")
            .env("PYTHONDONTWRITEBYTECODE", "1");
        let shown = steps::show(&cmd);
        let child = cmd
            .spawn()
            .map_err(|e| Error::new(format!("could not start `{shown}`: {e}")))?;
        let mut running = Running {
            addr,
            log: log.clone(),
            process: KillOnDrop::new(child),
        };
        match wait_ready(&mut running) {
            Ok(()) => {
                check_hello(addr).map_err(|e| {
                    Error::new(format!(
                        "`{shown}` does not answer like the other servers: {e}"
                    ))
                })?;
                return Ok(running);
            }
            Err(Ready::Exited(e)) => last_error = Some(Error::new(format!("`{shown}`: {e}"))),
            Err(Ready::TimedOut) => {
                return Err(Error::new(format!(
                    "`{shown}` accepted no connection within {}s; its output:\n{}",
                    READY_TIMEOUT.as_secs(),
                    log_tail(&log)
                )))
            }
        }
    }
    Err(last_error.unwrap_or_else(|| Error::new("the server did not start")))
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| Error::new(format!("cannot find a free port on 127.0.0.1: {e}")))
}

enum Ready {
    Exited(Error),
    TimedOut,
}

/// Polls a connection to the server until one succeeds, the server exits, or the deadline.
fn wait_ready(server: &mut Running) -> std::result::Result<(), Ready> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        server.check_alive().map_err(Ready::Exited)?;
        if TcpStream::connect_timeout(&server.addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Ready::TimedOut);
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Two requests on one connection, each answered with the hello response.
fn check_hello(addr: SocketAddr) -> io::Result<()> {
    let mut stream = connect(addr)?;
    for _ in 0..2 {
        let reply = get(&mut stream)?;
        let problem = if reply.status != 200 {
            Some(format!("status {}", reply.status))
        } else if reply.body != BODY {
            Some(format!("body {:?}", String::from_utf8_lossy(&reply.body)))
        } else if !reply
            .header("content-type")
            .is_some_and(|v| v.starts_with("text/plain"))
        {
            Some(format!("Content-Type {:?}", reply.header("content-type")))
        } else {
            None
        };
        if let Some(p) = problem {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("expected 200, text/plain, `Hello, World!`; got {p}"),
            ));
        }
    }
    Ok(())
}

/// A blocking connection with read and write timeouts.
pub fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT)?;
    stream.set_read_timeout(Some(PROBE_TIMEOUT))?;
    stream.set_write_timeout(Some(PROBE_TIMEOUT))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A response read by [`get`].
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `GET / HTTP/1.1` and reads the response, whose body must have a Content-Length.
pub fn get(stream: &mut TcpStream) -> io::Result<Reply> {
    stream.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")?;
    read_reply(stream)
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Reads one response with a Content-Length body from `r`, reading no byte past it.
pub fn read_reply(r: &mut impl Read) -> io::Result<Reply> {
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err(invalid("response head longer than 16 KiB".into()));
        }
        if r.read(&mut byte)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before the end of the response head",
            ));
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid(format!("bad status line {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut reply = Reply {
        status,
        headers,
        body: Vec::new(),
    };
    let length: usize = reply
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| invalid("response without a Content-Length".into()))?;
    reply.body = vec![0; length];
    r.read_exact(&mut reply.body)?;
    Ok(reply)
}

/// The last lines of a server's log, indented.
pub fn log_tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(20);
    if lines.is_empty() {
        return "    (no output)".to_string();
    }
    lines[from..]
        .iter()
        .map(|l| format!("    | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read_to_the_end_of_their_body_only() {
        let wire = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nContent-Length: 13\r\n\r\n\
                     Hello, World!HTTP/1.1 200 Ok\r\nServer: M\r\nContent-Length: 2\r\n\r\nhi";
        let mut r = &wire[..];
        let first = read_reply(&mut r).unwrap();
        assert_eq!(first.status, 200);
        assert_eq!(first.header("Content-Type"), Some("text/plain"));
        assert_eq!(first.body, BODY);
        let second = read_reply(&mut r).unwrap();
        assert_eq!(second.body, b"hi");
        assert!(r.is_empty());
    }

    #[test]
    fn bad_replies_are_errors() {
        let cases: [&[u8]; 4] = [
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"SSH-2.0-OpenSSH\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n",
        ];
        for wire in cases {
            let mut r = wire;
            assert!(
                read_reply(&mut r).is_err(),
                "{:?}",
                String::from_utf8_lossy(wire)
            );
        }
    }

    #[test]
    fn server_filter_keeps_table_order_and_names_unknown_servers() {
        let names = |v: Vec<Spec>| v.iter().map(|s| s.name).collect::<Vec<_>>();
        let filter = vec!["eventlet".to_string(), "thicket".to_string()];
        assert_eq!(
            names(select(Some(&filter)).unwrap()),
            ["thicket", "eventlet"]
        );
        assert_eq!(select(None).unwrap().len(), ALL.len());
        let err = select(Some(&["nginx".to_string()]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("unknown server `nginx` (known: thicket, hyper"),
            "{err}"
        );
    }

    #[test]
    fn thicket_is_measured_once_its_hello_example_exists() {
        let meta = |examples: &str| {
            Metadata::parse(&format!(
                r#"{{"workspace_root": "/ws", "target_directory": "/ws/target",
                    "packages": [{{"name": "thicket-http",
                        "manifest_path": "/ws/http/Cargo.toml", "dependencies": [],
                        "targets": [{{"name": "thicket_http", "kind": ["lib"],
                                      "src_path": "/ws/http/src/lib.rs"}}{examples}]}}]}}"#
            ))
            .unwrap()
        };
        assert!(!has_hello(&meta("")));
        let files =
            r#", {"name": "files", "kind": ["example"], "src_path": "/ws/http/examples/files.rs"}"#;
        assert!(!has_hello(&meta(files)));
        let hello =
            r#", {"name": "hello", "kind": ["example"], "src_path": "/ws/http/examples/hello.rs"}"#;
        assert!(has_hello(&meta(hello)));
    }

    #[test]
    fn shown_command_uses_paths_from_the_root() {
        let p = Prepared {
            spec: ALL[1],
            program: PathBuf::from("/ws/target/release/hyper_hello"),
            args: vec![
                "--addr".into(),
                "{addr}".into(),
                "--threads".into(),
                "2".into(),
            ],
            dir: PathBuf::from("/ws"),
        };
        assert_eq!(
            p.shown(Path::new("/ws")),
            "target/release/hyper_hello --addr 127.0.0.1:PORT --threads 2"
        );
        let py = Prepared {
            program: PathBuf::from("/ws/target/bench-venv/bin/python"),
            args: vec![
                "/ws/xtask/peers/python/gevent_hello.py".into(),
                "--addr".into(),
                "{addr}".into(),
            ],
            ..p
        };
        assert_eq!(
            py.shown(Path::new("/ws")),
            "target/bench-venv/bin/python xtask/peers/python/gevent_hello.py --addr 127.0.0.1:PORT"
        );
    }
}
