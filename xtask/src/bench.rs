//! `cargo xtask bench`: the criterion benchmarks, as a list of suites run one after another.
//!
//! Today there is one suite, the workspace's own `benches/`. The peers (tokio, may, hyper,
//! may_minihttp, the Python originals) join as further [`Suite`]s living under `xtask/`, and a
//! last step will read `target/criterion` and write the side-by-side table with ratios.

use crate::metadata::Metadata;
use crate::steps::{self, Result, Steps, Workspace};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BenchOpts {
    /// Short warm-up and measurement: a smoke run, not numbers to publish.
    pub quick: bool,
    /// Passed to every criterion binary after `--` (a filter, `--save-baseline x`, ...).
    pub extra: Vec<String>,
}

/// Criterion 0.5 options for `--quick`. (Criterion's own `--quick` still warms up for the full
/// 3 s and measures for up to 5 s when the noise is high, the usual case on a shared machine.)
const QUICK_ARGS: &[&str] = &[
    "--warm-up-time",
    "0.2",
    "--measurement-time",
    "0.5",
    "--sample-size",
    "10",
];

/// One group of benchmarks run as one step.
struct Suite {
    name: &'static str,
    run: fn(&Workspace, &BenchOpts) -> Result<()>,
}

const SUITES: &[Suite] = &[Suite {
    name: "thicket",
    run: workspace_benches,
}];

pub fn run(ws: &Workspace, opts: &BenchOpts) -> Result<()> {
    let mut steps = Steps::new("bench");
    for suite in SUITES {
        steps.run(suite.name, || (suite.run)(ws, opts))?;
    }
    steps.summary();
    Ok(())
}

/// Arguments for the criterion binaries.
fn criterion_args(opts: &BenchOpts) -> Vec<String> {
    let quick = if opts.quick { QUICK_ARGS } else { &[] };
    quick
        .iter()
        .map(|s| s.to_string())
        .chain(opts.extra.iter().cloned())
        .collect()
}

fn workspace_benches(ws: &Workspace, opts: &BenchOpts) -> Result<()> {
    let meta = Metadata::load(ws)?;
    let count = meta
        .packages
        .iter()
        .flat_map(|p| p.targets_of_kind("bench"))
        .count();
    if count == 0 {
        eprintln!("no benchmark targets in the workspace yet");
        return Ok(());
    }
    // `--bench '*'` selects the bench targets only: the libtest harness of lib and bin
    // targets would reject criterion's options.
    let mut cmd = ws.cargo();
    cmd.args(["bench", "--workspace", "--bench", "*", "--"]);
    cmd.args(criterion_args(opts));
    steps::run(&mut cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_args_come_before_extra_args() {
        let opts = BenchOpts {
            quick: true,
            extra: vec!["timers".into()],
        };
        let args = criterion_args(&opts);
        assert_eq!(args.first().map(String::as_str), Some("--warm-up-time"));
        assert_eq!(args.last().map(String::as_str), Some("timers"));
        assert!(criterion_args(&BenchOpts::default()).is_empty());
    }
}
