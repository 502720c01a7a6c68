//! `cargo xtask test`: everything CI checks, in the order that fails fastest.

use crate::docs::{self, BookPolicy};
use crate::examples;
use crate::fuzz;
use crate::metadata::Metadata;
use crate::steps::{self, Result, Steps, Workspace};
use crate::tidy;

/// fmt, clippy, tests, doctests, examples, fuzz targets, tidy, docs; stops at the first
/// failing step. `quick` skips the examples, the fuzz targets and the docs build.
pub fn test(ws: &Workspace, quick: bool) -> Result<()> {
    let mut steps = Steps::new("test");

    steps.run("fmt", || {
        steps::run(ws.cargo().args(["fmt", "--all", "--", "--check"]))?;
        // The fuzz crate is a workspace of its own, which `--all` does not reach.
        steps::run(ws.cargo().args([
            "fmt",
            "--manifest-path",
            "http/fuzz/Cargo.toml",
            "--",
            "--check",
        ]))
    })?;

    steps.run("clippy", || {
        steps::run(ws.cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;

    if steps::tool_works(ws.cargo().args(["nextest", "--version"])) {
        steps.run("tests", || {
            steps::run(ws.cargo().args(["nextest", "run", "--workspace"]))
        })?;
    } else {
        eprintln!("\nnote: cargo-nextest not installed, running the tests with `cargo test`");
        steps.run("tests", || {
            steps::run(ws.cargo().args(["test", "--workspace", "--all-targets"]))
        })?;
    }

    // Neither nextest nor `--all-targets` runs doctests.
    let has_lib = Metadata::load(ws)?
        .packages
        .iter()
        .any(|p| p.targets_of_kind("lib").next().is_some());
    if has_lib {
        steps.run("doctests", || {
            steps::run(ws.cargo().args(["test", "--workspace", "--doc"]))
        })?;
    } else {
        steps.skip("doctests", "no library crate in the workspace");
    }

    if quick {
        steps.skip("examples", "--quick");
    } else {
        steps.run("examples", || examples::build_and_run(ws))?;
    }

    if quick {
        steps.skip("fuzz", "--quick");
    } else {
        let opts = fuzz::FuzzOpts {
            seconds: fuzz::TEST_SECONDS,
            targets: Vec::new(),
        };
        steps.run("fuzz", || fuzz::run(ws, &opts))?;
    }

    steps.run("tidy", || tidy::run(ws))?;

    if quick {
        steps.skip("docs", "--quick");
    } else {
        steps.run("docs", || docs::build(ws, BookPolicy::SkipIfMissing))?;
    }

    steps.summary();
    Ok(())
}
