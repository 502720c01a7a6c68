//! Waiting for a green child reaps only that child: a child spawned by
//! other code, which exits meanwhile, is still there for its own wait.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;

use thicket_green::process::{Command, Stdio};

/// Blocks until `pid` has exited, without reaping it.
fn wait_exited_no_reap(pid: u32) {
    // SAFETY: siginfo_t is plain data; waitid writes into it and keeps no
    // pointer; WNOWAIT leaves the child reapable.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT,
        );
        assert_eq!(r, 0, "{}", std::io::Error::last_os_error());
    }
}

#[test]
fn a_std_child_stays_reapable_by_its_owner() {
    let mut other = std::process::Command::new("sh")
        .args(["-c", "exit 7"])
        .spawn()
        .unwrap();
    let mut green = Command::new("sh")
        .args(["-c", "read line; exit 5"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    // The other child is now a zombie while the green one still runs.
    wait_exited_no_reap(other.id());
    green.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
    assert_eq!(green.wait().unwrap().code(), Some(5));
    assert_eq!(green.try_wait().unwrap().unwrap().code(), Some(5));
    // Had the green wait reaped anything else, this would fail with ECHILD.
    let status = other.wait().unwrap();
    assert_eq!(status.code(), Some(7));
    assert_eq!(status.signal(), None);
}

#[test]
fn a_green_child_taken_from_std_is_waited_for_greenly() {
    let std_child = std::process::Command::new("sh")
        .args(["-c", "exit 4"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = thicket_green::process::Child::from_std(std_child).unwrap();
    assert!(child.stdout.is_some());
    assert_eq!(child.wait().unwrap().code(), Some(4));
}
