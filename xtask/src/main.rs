//! `cargo xtask`: the build, test, tidy, bench and docs runner of the thicket workspace.
//!
//! Run `cargo xtask help` for the commands. Each command is a short, ordered list of steps
//! (see [`steps::Steps`]); a failing step stops the run and names the command that failed.
//! xtask depends on no thicket crate, so it keeps working while a library crate is broken.

#![forbid(unsafe_code)]

mod bench;
mod criterion;
mod docs;
mod examples;
mod forward;
mod fuzz;
mod load;
mod memory;
mod metadata;
mod pipeline;
mod procfs;
mod report;
mod scan;
mod servers;
mod stats;
mod steps;
mod tidy;
mod wrk;
mod ws_bench;

use std::process::ExitCode;

use steps::{Error, Result, Workspace};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  test [--quick]    fmt check, clippy, tests (nextest when installed), doctests,
                    build and run the examples, the fuzz targets (2 s each),
                    tidy, docs build.
                    --quick skips the examples, the fuzz targets and the docs build.
  tidy              check the workspace rules: dependency order, no unsafe outside
                    hub and green, SAFETY comments, crate READMEs and doc examples,
                    `[lints] workspace = true` everywhere.
  bench [options] [-- <criterion args>]
                    run the criterion benchmarks of the workspace, then those of
                    xtask/peers (thicket next to tokio and may), and print the
                    tables of medians and ratios (also target/bench-summary.md);
                    then the HTTP hello-world servers (thicket's hello example,
                    hyper, may_minihttp, actix-web, gevent, eventlet) under wrk
                    (installed with apt-get if missing) and their memory per idle
                    connection, in one table written to target/bench-http/;
                    then bytes through port forwarders (thicket's forwarder
                    example, tokio, gevent, eventlet) and directly, in MiB/s;
                    then WebSocket echo servers (thicket's ws_echo example,
                    tokio-tungstenite) under xtask/peers' ws_load: round trips
                    and messages per second, 32 B and 64 KiB, 1 and 1,000
                    connections (tables also in target/bench-ws/).
                    A full run writes every table into docs/src/benchmarks.md
                    (between its markers) and docs/src/benchmarks.json.
      --quick           every benchmark once, briefly (a smoke run); does not
                        write the guide unless --write-docs is given
      --only <parts>    comma-separated: criterion, http, memory, forward, ws; or
                        render: draw the guide's tables again from its JSON,
                        measuring nothing
      --servers <names> comma-separated: thicket, hyper, hyper_per_thread,
                        may_minihttp, actix_web, gevent, eventlet; for ws:
                        thicket, tungstenite (each part ignores the others' names);
                        leaves the guide alone unless --write-docs is given
      --duration <secs> seconds per wrk run (default 10, quick 2) and per
                        ws_load run (default 5, quick 1)
      --rounds <n>      rounds over the servers (default 3, quick 1) and over
                        the forwarders (default 5, quick 1; 1 GiB each, quick 64 MiB)
      --connections <n> idle connections for the memory measurement
                        (10000; quick 2000)
      --write-docs      write the guide's tables even with --quick or --servers
      --no-docs         leave the guide alone even for a full run
  fuzz [--time <secs>] [<target>...]
                    build thicket-http's fuzz targets (http/fuzz/) with libFuzzer
                    on the stable toolchain and run each (default all) for <secs>
                    seconds (default 10), from http/fuzz/seeds/ and from seeds cut
                    out of ../shared/corpora when it is there. Crashing inputs
                    land in target/fuzz/artifacts/<target>/.
  docs              build the mdBook guide (docs/) and the API docs with
                    RUSTDOCFLAGS=\"-D warnings\".
  help              print this message.

Environment:
  CI=true                      missing tools (mdbook) are errors instead of skips.
  XTASK_EXAMPLE_TIMEOUT=<secs> time limit per example run by `test` (default 60).
";

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Help,
    Test { quick: bool },
    Tidy,
    Bench(bench::BenchOpts),
    Fuzz(fuzz::FuzzOpts),
    Docs,
}

fn parse_args(args: &[String]) -> Result<Command> {
    let Some((cmd, rest)) = args.split_first() else {
        return Ok(Command::Help);
    };
    let no_options = |name: &str| -> Result<()> {
        match rest.first() {
            None => Ok(()),
            Some(arg) => Err(Error::new(format!(
                "`{name}` takes no argument, got `{arg}`"
            ))),
        }
    };
    match cmd.as_str() {
        "help" | "-h" | "--help" => Ok(Command::Help),
        "test" => {
            let mut quick = false;
            for arg in rest {
                match arg.as_str() {
                    "--quick" => quick = true,
                    other => {
                        return Err(Error::new(format!(
                            "unknown option `{other}` for `test` (expected --quick)"
                        )))
                    }
                }
            }
            Ok(Command::Test { quick })
        }
        "tidy" => no_options("tidy").map(|()| Command::Tidy),
        "docs" => no_options("docs").map(|()| Command::Docs),
        "bench" => parse_bench(rest).map(Command::Bench),
        "fuzz" => parse_fuzz(rest).map(Command::Fuzz),
        other => Err(Error::new(format!("unknown command `{other}`"))),
    }
}

fn parse_fuzz(rest: &[String]) -> Result<fuzz::FuzzOpts> {
    let mut opts = fuzz::FuzzOpts::default();
    let mut args = rest.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--time" => {
                let v = args
                    .next()
                    .ok_or_else(|| Error::new("`--time` needs a number of seconds"))?;
                opts.seconds = match v.parse::<u64>() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        return Err(Error::new(format!(
                            "`--time` wants a positive number of seconds, got `{v}`"
                        )))
                    }
                };
            }
            other if other.starts_with('-') => {
                return Err(Error::new(format!(
                    "unknown option `{other}` for `fuzz` (expected --time or target names)"
                )))
            }
            target => opts.targets.push(target.to_string()),
        }
    }
    Ok(opts)
}

fn parse_bench(rest: &[String]) -> Result<bench::BenchOpts> {
    let mut opts = bench::BenchOpts::default();
    let mut args = rest.iter();
    let list = |value: &str| -> Vec<String> {
        value
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    while let Some(arg) = args.next() {
        let mut value = |what: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| Error::new(format!("`{arg}` needs {what}")))
        };
        let number = |v: String, what: &str| -> Result<u64> {
            match v.parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(Error::new(format!(
                    "`{arg}` wants a positive number of {what}, got `{v}`"
                ))),
            }
        };
        match arg.as_str() {
            "--quick" => opts.quick = true,
            "--only" => {
                let names = list(&value("a list of parts")?);
                opts.only = names
                    .iter()
                    .map(|n| {
                        bench::Part::parse(n).ok_or_else(|| {
                            Error::new(format!(
                                "unknown part `{n}` for `--only` (expected criterion, http, \
                                 memory, forward, ws, render)"
                            ))
                        })
                    })
                    .collect::<Result<_>>()?;
            }
            "--servers" => opts.servers = Some(list(&value("a list of servers")?)),
            "--duration" => {
                opts.duration_secs = Some(number(value("a number of seconds")?, "seconds")?)
            }
            "--rounds" => {
                opts.rounds = Some(number(value("a number of rounds")?, "rounds")? as usize)
            }
            "--connections" => {
                opts.connections =
                    Some(number(value("a number of connections")?, "connections")? as usize)
            }
            "--write-docs" => opts.docs = Some(true),
            "--no-docs" => opts.docs = Some(false),
            "--" => {
                opts.extra = args.cloned().collect();
                break;
            }
            other => {
                return Err(Error::new(format!(
                    "unknown option `{other}` for `bench` \
                     (see the options below, or criterion arguments after `--`)"
                )))
            }
        }
    }
    // HTTP servers, and the WebSocket part's peer (its `thicket` is the same name).
    let known: Vec<&str> = servers::ALL
        .iter()
        .map(|s| s.name)
        .chain(ws_bench::SERVERS.iter().map(|s| s.name))
        .filter(|n| *n != "thicket")
        .collect();
    for name in opts.servers.iter().flatten() {
        if name != "thicket" && !known.contains(&name.as_str()) {
            return Err(Error::new(format!(
                "unknown server `{name}` (known: thicket, {})",
                known.join(", ")
            )));
        }
    }
    Ok(opts)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse_args(&args) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let ws = Workspace::locate();
    let result = match command {
        Command::Help => {
            print!("{USAGE}");
            Ok(())
        }
        Command::Test { quick } => pipeline::test(&ws, quick),
        Command::Tidy => tidy::run(&ws),
        Command::Bench(opts) => bench::run(&ws, &opts),
        Command::Fuzz(opts) => fuzz::run(&ws, &opts),
        Command::Docs => docs::build(&ws, docs::BookPolicy::Required),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nerror: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse_args(&args)
    }

    #[test]
    fn no_arguments_prints_usage() {
        assert_eq!(parse(&[]).unwrap(), Command::Help);
        assert_eq!(parse(&["help"]).unwrap(), Command::Help);
    }

    #[test]
    fn test_accepts_quick_only() {
        assert_eq!(parse(&["test"]).unwrap(), Command::Test { quick: false });
        assert_eq!(
            parse(&["test", "--quick"]).unwrap(),
            Command::Test { quick: true }
        );
        assert!(parse(&["test", "--fast"]).is_err());
    }

    #[test]
    fn bench_passes_arguments_after_double_dash() {
        let Command::Bench(opts) = parse(&["bench", "--quick", "--", "timers", "--quick"]).unwrap()
        else {
            panic!("not a bench command");
        };
        assert!(opts.quick);
        assert_eq!(opts.extra, ["timers", "--quick"]);
        assert!(parse(&["bench", "timers"]).is_err());
    }

    #[test]
    fn bench_http_options() {
        let Command::Bench(opts) = parse(&[
            "bench",
            "--only",
            "http,memory",
            "--servers",
            "thicket,hyper",
            "--duration",
            "5",
            "--rounds",
            "2",
            "--write-docs",
        ])
        .unwrap() else {
            panic!("not a bench command");
        };
        assert_eq!(opts.only, [bench::Part::Http, bench::Part::Memory]);
        assert_eq!(opts.servers, Some(vec!["thicket".into(), "hyper".into()]));
        assert_eq!(opts.duration_secs, Some(5));
        assert_eq!(opts.rounds, Some(2));
        assert_eq!(opts.docs, Some(true));
        for bad in [
            &["bench", "--only", "wrk"][..],
            &["bench", "--servers", "nginx"],
            &["bench", "--duration", "0"],
            &["bench", "--rounds", "many"],
            &["bench", "--duration"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bench_forward_part_and_its_rounds() {
        let Command::Bench(opts) =
            parse(&["bench", "--only", "criterion,forward", "--rounds", "2"]).unwrap()
        else {
            panic!("not a bench command");
        };
        assert_eq!(opts.only, [bench::Part::Criterion, bench::Part::Forward]);
        assert_eq!(opts.forward_plan().rounds, 2);
        assert_eq!(
            opts.command("forward"),
            "cargo xtask bench --only forward --rounds 2"
        );
    }

    #[test]
    fn bench_ws_part_takes_its_own_server_names() {
        let Command::Bench(opts) = parse(&[
            "bench",
            "--only",
            "ws,http",
            "--servers",
            "tungstenite,hyper",
        ])
        .unwrap() else {
            panic!("not a bench command");
        };
        assert_eq!(opts.only, [bench::Part::Ws, bench::Part::Http]);
        assert_eq!(
            opts.servers,
            Some(vec!["tungstenite".into(), "hyper".into()])
        );
        let err = parse(&["bench", "--servers", "thicket,tungsten"]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unknown server `tungsten` (known: thicket, hyper,")
                && err.to_string().ends_with("eventlet, tungstenite)"),
            "{err}"
        );
    }

    #[test]
    fn fuzz_takes_a_time_and_targets() {
        assert_eq!(
            parse(&["fuzz"]).unwrap(),
            Command::Fuzz(fuzz::FuzzOpts::default())
        );
        assert_eq!(
            parse(&["fuzz", "--time", "30", "request_head", "ws_decode"]).unwrap(),
            Command::Fuzz(fuzz::FuzzOpts {
                seconds: 30,
                targets: vec!["request_head".into(), "ws_decode".into()],
            })
        );
        for bad in [
            &["fuzz", "--time"][..],
            &["fuzz", "--time", "0"],
            &["fuzz", "--runs", "5"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unknown_command_and_stray_arguments_are_errors() {
        assert!(parse(&["frobnicate"]).is_err());
        assert!(parse(&["tidy", "--fix"]).is_err());
        assert!(parse(&["docs", "open"]).is_err());
    }
}
