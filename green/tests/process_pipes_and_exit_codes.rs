//! Green child processes: exit codes, signals, piped streams that park on
//! WouldBlock, environment and working directory.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::process::ExitStatusExt;

use thicket_green::process::{Command, Stdio};
use thicket_green::spawn;

#[test]
fn exit_codes_come_back() {
    for code in [0, 1, 3, 255] {
        let status = Command::new("sh")
            .args(["-c", &format!("exit {code}")])
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(code));
        assert_eq!(status.success(), code == 0);
    }
}

#[test]
fn output_collects_stdout_and_stderr_separately() {
    let out = Command::new("sh")
        .args(["-c", "echo out; echo err >&2; echo more; exit 2"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"out\nmore\n");
    assert_eq!(out.stderr, b"err\n");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn output_gives_an_empty_stdin() {
    // `cat` would hang on an inherited terminal; output() gives it /dev/null.
    let out = Command::new("cat").output().unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn a_megabyte_round_trips_through_cat_with_both_pipes_filling() {
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // The writer parks whenever the pipe is full; the reader, another green
    // thread on the same hub, must run meanwhile to drain it.
    let d = data.clone();
    let writer = spawn(move || stdin.write_all(&d)); // drops stdin: EOF
    let reader = spawn(move || {
        let mut back = Vec::new();
        stdout.read_to_end(&mut back).map(|_| back)
    });
    writer.join().unwrap().unwrap();
    assert_eq!(reader.join().unwrap().unwrap(), data);
    assert!(child.wait().unwrap().success());
}

#[test]
fn one_childs_stdout_feeds_the_next_childs_stdin() {
    let mut first = Command::new("echo")
        .arg("piped along")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = Command::new("tr")
        .args(["a-z", "A-Z"])
        .stdin(first.stdout.take().unwrap())
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"PIPED ALONG\n");
    assert!(first.wait().unwrap().success());
}

#[test]
fn kill_ends_the_child_with_sigkill() {
    let mut child = Command::new("cat").stdin(Stdio::piped()).spawn().unwrap();
    assert!(child.id() > 0);
    assert_eq!(child.try_wait().unwrap(), None);
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    // Once waited for, kill and wait are harmless and repeat the status.
    child.kill().unwrap();
    assert_eq!(child.wait().unwrap(), status);
    assert_eq!(child.try_wait().unwrap(), Some(status));
}

#[test]
fn try_wait_reaps_an_exited_child() {
    let mut child = Command::new("sh")
        .args(["-c", "read line; exit 9"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(child.try_wait().unwrap(), None);
    child.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
    // wait, then try_wait sees the cached status.
    assert_eq!(child.wait().unwrap().code(), Some(9));
    assert_eq!(child.try_wait().unwrap().unwrap().code(), Some(9));
}

#[test]
fn env_and_current_dir_reach_the_child() {
    let dir = std::env::temp_dir().canonicalize().unwrap();
    let out = Command::new("sh")
        .args(["-c", "echo \"$GREEN_VAR\"; pwd; echo \"${HOME-unset}\""])
        .env_clear()
        .env("GREEN_VAR", "leaf")
        .env("PATH", std::env::var_os("PATH").unwrap())
        .current_dir(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, format!("leaf\n{}\nunset\n", dir.display()));
}

#[test]
fn a_missing_program_is_not_found() {
    let err = Command::new("/definitely/not/here").spawn().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}
