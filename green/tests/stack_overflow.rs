//! A green thread that overflows its stack is named on stderr before the
//! process aborts, instead of dying with a bare SIGSEGV.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

const CHILD: &str = "THICKET_OVERFLOW_CHILD";

/// Runs this test binary again with only `test` selected, as the child whose
/// crash the parent inspects.
fn run_child(test: &str) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap()
}

/// Recurses with `FRAME` bytes of stack per call until the stack runs out.
fn recurse<const FRAME: usize>(depth: u64) -> u64 {
    let buf = [depth as u8; FRAME];
    std::hint::black_box(&buf);
    if depth == u64::MAX {
        return 0;
    }
    recurse::<FRAME>(depth + 1) + u64::from(std::hint::black_box(buf[7]))
}

#[test]
fn overflow_names_the_green_thread() {
    if std::env::var_os(CHILD).is_some() {
        let gt = thicket_green::Builder::new()
            .name("deep-diver")
            .stack_size(64 * 1024)
            .spawn(|| recurse::<512>(0))
            .unwrap();
        let _ = gt.join();
        unreachable!("the overflow aborts the process");
    }
    let out = run_child("overflow_names_the_green_thread");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "stderr: {stderr}");
    assert!(
        stderr.contains("green thread 'deep-diver' (id ")
            && stderr.contains("overflowed its stack of 64 KiB"),
        "stderr: {stderr}"
    );
}

#[test]
fn a_fault_outside_any_green_stack_still_reaches_rusts_handler() {
    if std::env::var_os(CHILD).is_some() {
        // Install thicket's handler, then overflow the *OS* thread's stack.
        thicket_green::spawn(|| ()).join().unwrap();
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| recurse::<4096>(0))
            .unwrap()
            .join()
            .unwrap();
        unreachable!();
    }
    let out = run_child("a_fault_outside_any_green_stack_still_reaches_rusts_handler");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Rust's own handler reports the thread overflow and aborts.
    assert!(
        stderr.contains("has overflowed its stack"),
        "stderr: {stderr}"
    );
    assert!(
        !stderr.contains("thicket: green thread"),
        "stderr: {stderr}"
    );
}
