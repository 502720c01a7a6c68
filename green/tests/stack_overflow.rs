//! A green thread that overflows its stack is named on stderr before the
//! process aborts, instead of dying with a bare SIGSEGV.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

const CHILD: &str = "THICKET_OVERFLOW_CHILD";

fn recurse(depth: u64) -> u64 {
    let buf = [depth as u8; 512];
    std::hint::black_box(&buf);
    if depth == u64::MAX {
        return 0;
    }
    recurse(depth + 1) + u64::from(std::hint::black_box(buf[7]))
}

#[test]
fn overflow_names_the_green_thread() {
    if std::env::var_os(CHILD).is_some() {
        let gt = thicket_green::Builder::new()
            .name("deep-diver")
            .stack_size(64 * 1024)
            .spawn(|| recurse(0))
            .unwrap();
        let _ = gt.join();
        unreachable!("the overflow aborts the process");
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "overflow_names_the_green_thread",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
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
        fn deep(n: u64) -> u64 {
            let buf = [n as u8; 4096];
            std::hint::black_box(&buf);
            if n == u64::MAX {
                return 0;
            }
            deep(n + 1) + u64::from(std::hint::black_box(buf[1]))
        }
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| deep(0))
            .unwrap()
            .join()
            .unwrap();
        unreachable!();
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_fault_outside_any_green_stack_still_reaches_rusts_handler",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
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
