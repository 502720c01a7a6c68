//! `cargo xtask`: the build, test, tidy, bench and docs runner of the thicket workspace.
//!
//! Run `cargo xtask help` for the commands. Each command is a short, ordered list of steps
//! (see [`steps::Steps`]); a failing step stops the run and names the command that failed.
//! xtask depends on no thicket crate, so it keeps working while a library crate is broken.

#![forbid(unsafe_code)]

mod bench;
mod docs;
mod examples;
mod metadata;
mod pipeline;
mod scan;
mod steps;
mod tidy;

use std::process::ExitCode;

use steps::{Error, Result, Workspace};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  test [--quick]    fmt check, clippy, tests (nextest when installed), doctests,
                    build and run the examples, tidy, docs build.
                    --quick skips the examples and the docs build.
  tidy              check the workspace rules: dependency order, no unsafe outside
                    hub and green, SAFETY comments, crate READMEs and doc examples,
                    `[lints] workspace = true` everywhere.
  bench [--quick] [-- <criterion args>]
                    run the criterion benchmarks of the workspace, then those of
                    xtask/peers (thicket next to tokio and may), and print the
                    table of medians and ratios (also target/bench-summary.md).
                    --quick uses short warm-up and measurement times.
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
        "bench" => {
            let mut opts = bench::BenchOpts::default();
            let mut args = rest.iter();
            while let Some(arg) = args.next() {
                match arg.as_str() {
                    "--quick" => opts.quick = true,
                    "--" => {
                        opts.extra = args.cloned().collect();
                        break;
                    }
                    other => {
                        return Err(Error::new(format!(
                            "unknown option `{other}` for `bench` \
                             (expected --quick, or criterion arguments after `--`)"
                        )))
                    }
                }
            }
            Ok(Command::Bench(opts))
        }
        other => Err(Error::new(format!("unknown command `{other}`"))),
    }
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
    fn unknown_command_and_stray_arguments_are_errors() {
        assert!(parse(&["frobnicate"]).is_err());
        assert!(parse(&["tidy", "--fix"]).is_err());
        assert!(parse(&["docs", "open"]).is_err());
    }
}
