//! Runs one workload outside criterion, for profilers (callgrind, perf):
//! `thicket-peers <group> <peer> [iters]`, or no argument for the list.

#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(group), Some(peer)) = (args.first(), args.get(1)) else {
        eprintln!("usage: thicket-peers <group> <peer> [iters]\nworkloads:");
        for w in thicket_peers::WORKLOADS {
            eprintln!("  {} {}", w.group, w.peer);
        }
        return ExitCode::FAILURE;
    };
    let iters = match args.get(2).map(|s| s.parse::<u64>()) {
        None => 100_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("iters must be a positive integer, got {:?}", args[2]);
            return ExitCode::FAILURE;
        }
    };
    let Some(w) = thicket_peers::find(group, peer) else {
        eprintln!("no workload {group} {peer}; run without arguments for the list");
        return ExitCode::FAILURE;
    };
    let d = (w.run)(iters);
    let per_op = d.as_secs_f64() * 1e9 / iters as f64;
    println!("{group} {peer}: {iters} operations in {d:?}, {per_op:.1} ns each");
    ExitCode::SUCCESS
}
