//! Resident memory per parked green thread: not a criterion timing, a printed figure.
//!
//! Spawns `N` green threads that each touch a little stack (a 1 KiB array) and then park in a
//! long `sleep`, reads VmRSS from /proc/self/status before and after, and prints KiB per green
//! thread against the target (at most 16 KiB). Criterion's arguments are accepted and ignored.

#![allow(missing_docs)]

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;
use std::time::Duration;

const N: usize = 10_000;
const TARGET_KIB: f64 = 16.0;

/// This process's resident set, in KiB.
fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

fn main() {
    // Warm the hub (and its first allocations) up before the first reading.
    thicket_green::spawn(|| ()).join().unwrap();
    let before = vm_rss_kib();

    let parked = Rc::new(Cell::new(0));
    let threads: Vec<_> = (0..N)
        .map(|i| {
            let parked = parked.clone();
            thicket_green::spawn(move || {
                let mut buf = [0u8; 1024];
                buf[i % 1024] = 1;
                black_box(&mut buf);
                parked.set(parked.get() + 1);
                // Woken by the kill below.
                let _ = thicket_green::sleep(Duration::from_secs(3600));
                black_box(&buf);
            })
        })
        .collect();
    while parked.get() < N {
        thicket_green::yield_now().unwrap();
    }
    let after = vm_rss_kib();

    let per_thread = (after.saturating_sub(before)) as f64 / N as f64;
    let verdict = if per_thread <= TARGET_KIB {
        "within"
    } else {
        "OVER"
    };
    println!(
        "green/parked_memory: {N} parked green threads, VmRSS {before} KiB -> {after} KiB: \
         {per_thread:.1} KiB per green thread ({verdict} the {TARGET_KIB} KiB target)"
    );

    thicket_green::kill_all(&threads);
    for t in &threads {
        let _ = t.join();
    }
}
