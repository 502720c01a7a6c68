//! Runs one workload outside criterion, for profilers (callgrind, perf, strace):
//! `thicket-peers <group> <peer> [iters] [runs]`, or no argument for the list. With `runs`
//! above 1 the workload runs that many times in one process and each run is printed, so that
//! what criterion's later samples reuse (a hub's pooled stacks, a runtime, registered
//! descriptors) is warm in all but the first.

#![forbid(unsafe_code)]

use std::process::ExitCode;

/// A positive integer argument, or the reason it is not one.
fn positive(name: &str, arg: Option<&String>, default: u64) -> Result<u64, String> {
    match arg.map(|s| s.parse::<u64>()) {
        None => Ok(default),
        Some(Ok(n)) if n > 0 => Ok(n),
        Some(_) => Err(format!(
            "{name} must be a positive integer, got {:?}",
            arg.map_or("", |s| s.as_str())
        )),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(group), Some(peer)) = (args.first(), args.get(1)) else {
        eprintln!("usage: thicket-peers <group> <peer> [iters] [runs]\nworkloads:");
        for w in thicket_peers::WORKLOADS {
            eprintln!("  {} {}", w.group, w.peer);
        }
        return ExitCode::FAILURE;
    };
    let (iters, runs) = match (
        positive("iters", args.get(2), 100_000),
        positive("runs", args.get(3), 1),
    ) {
        (Ok(i), Ok(r)) => (i, r),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(w) = thicket_peers::find(group, peer) else {
        eprintln!("no workload {group} {peer}; run without arguments for the list");
        return ExitCode::FAILURE;
    };
    for _ in 0..runs {
        let d = (w.run)(iters);
        let per_op = d.as_secs_f64() * 1e9 / iters as f64;
        println!("{group} {peer}: {iters} operations in {d:?}, {per_op:.1} ns each");
    }
    ExitCode::SUCCESS
}
