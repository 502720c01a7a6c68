//! What the HTTP hello-world peers share: the response they send and their command line.
//!
//! Every server measured by `cargo xtask bench` (thicket's `hello` example and the peers in
//! `src/bin/` and `python/`) answers any request with `200 OK`, `Content-Type: text/plain`,
//! a `Content-Length` and the body [`BODY`], keeps the connection alive, and takes
//! `--addr 127.0.0.1:PORT --threads N`.

use std::net::SocketAddr;

/// The response body.
pub const BODY: &str = "Hello, World!";

/// Worker threads when `--threads` is not given.
pub const DEFAULT_THREADS: usize = 2;

/// A hello server's command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Where to listen (`--addr`).
    pub addr: SocketAddr,
    /// How many worker threads (`--threads`, default [`DEFAULT_THREADS`]).
    pub threads: usize,
    /// Options the server knows besides these two: `(name, value)` in order.
    pub extra: Vec<(String, String)>,
}

impl Args {
    /// Parses `--addr A --threads N` plus the options named in `extra` (each taking a
    /// value), from the process's arguments; prints the usage and exits on a mistake.
    pub fn from_env(program: &str, extra: &[&str]) -> Args {
        let args: Vec<String> = std::env::args().skip(1).collect();
        match Args::parse(&args, extra) {
            Ok(args) => args,
            Err(e) => {
                let more: String = extra.iter().map(|o| format!(" [--{o} VALUE]")).collect();
                eprintln!(
                    "{program}: {e}\nusage: {program} --addr 127.0.0.1:PORT [--threads N]{more}"
                );
                std::process::exit(2);
            }
        }
    }

    /// Parses `args` (without the program name).
    ///
    /// # Errors
    ///
    /// A message naming the option that is unknown, lacks a value or has a bad one.
    pub fn parse(args: &[String], extra: &[&str]) -> Result<Args, String> {
        let mut addr = None;
        let mut threads = DEFAULT_THREADS;
        let mut found = Vec::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let name = arg
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument `{arg}`"))?;
            let value = it.next().ok_or_else(|| format!("`{arg}` needs a value"))?;
            match name {
                "addr" => {
                    addr = Some(value.parse().map_err(|_| {
                        format!("`--addr` wants an address like 127.0.0.1:8080, got `{value}`")
                    })?)
                }
                "threads" => {
                    threads = match value.parse() {
                        Ok(n) if n > 0 => n,
                        _ => {
                            return Err(format!(
                                "`--threads` wants a positive number, got `{value}`"
                            ))
                        }
                    }
                }
                other if extra.contains(&other) => found.push((other.to_string(), value.clone())),
                _ => return Err(format!("unknown option `{arg}`")),
            }
        }
        let addr = addr.ok_or("`--addr` is required")?;
        Ok(Args {
            addr,
            threads,
            extra: found,
        })
    }

    /// The value of the extra option `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.extra
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], extra: &[&str]) -> Result<Args, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Args::parse(&args, extra)
    }

    #[test]
    fn addr_threads_and_extra_options() {
        let a = parse(
            &[
                "--threads",
                "4",
                "--addr",
                "127.0.0.1:8080",
                "--runtime",
                "multi",
            ],
            &["runtime"],
        )
        .unwrap();
        assert_eq!(a.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(a.threads, 4);
        assert_eq!(a.get("runtime"), Some("multi"));
        let a = parse(&["--addr", "127.0.0.1:1"], &[]).unwrap();
        assert_eq!(a.threads, DEFAULT_THREADS);
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(parse(&[], &[]).unwrap_err(), "`--addr` is required");
        assert!(parse(&["--addr", "localhost"], &[])
            .unwrap_err()
            .contains("127.0.0.1:8080"));
        assert!(parse(&["--addr", "127.0.0.1:1", "--threads", "0"], &[]).is_err());
        assert_eq!(
            parse(&["--addr", "127.0.0.1:1", "--runtime", "x"], &[]).unwrap_err(),
            "unknown option `--runtime`"
        );
        assert_eq!(
            parse(&["--addr"], &[]).unwrap_err(),
            "`--addr` needs a value"
        );
    }
}
