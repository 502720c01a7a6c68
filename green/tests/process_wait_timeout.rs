//! Waiting for a child parks only the waiting green thread, can time out or
//! be killed without reaping, and the child can be waited for again.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use thicket_green::process::{Command, Stdio};
use thicket_green::{spawn, with_timeout, yield_now, Elapsed};

fn cat() -> thicket_green::process::Child {
    // `cat` runs until its stdin closes: the test decides when it exits.
    Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn wait_timeout_returns_none_while_running_then_the_status() {
    let mut child = cat();
    assert_eq!(child.wait_timeout(Duration::from_millis(10)).unwrap(), None);
    assert_eq!(
        child.try_wait().unwrap(),
        None,
        "a timed-out wait reaped it"
    );
    drop(child.stdin.take());
    let status = child.wait_timeout(Duration::from_secs(60)).unwrap();
    assert!(status.unwrap().success());
}

#[test]
fn an_enclosing_deadline_is_an_error_not_none() {
    // A child that outlives every deadline below; killed at the end.
    let mut child = Command::new("sleep").arg("3600").spawn().unwrap();
    let r = with_timeout(Duration::from_millis(10), || {
        child.wait_timeout(Duration::from_secs(60))
    });
    assert_eq!(r.unwrap_err(), Elapsed);
    let r = with_timeout(Duration::from_millis(10), || child.wait());
    assert_eq!(r.unwrap_err(), Elapsed);
    assert_eq!(
        child.try_wait().unwrap(),
        None,
        "a timed-out wait reaped it"
    );
    child.kill().unwrap();
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
}

#[test]
fn other_green_threads_run_while_one_waits_and_end_the_child() {
    let mut child = cat();
    let mut stdin = child.stdin.take().unwrap();
    let waiter = spawn(move || child.wait_timeout(Duration::from_secs(60)));
    // Runs while the waiter is parked in its wait; closing stdin ends cat.
    let closer = spawn(move || {
        yield_now().unwrap();
        stdin.write_all(b"bye\n").unwrap();
        drop(stdin);
    });
    closer.join().unwrap();
    assert!(waiter.join().unwrap().unwrap().unwrap().success());
}

#[test]
fn a_killed_waiter_leaves_the_child_unreaped() {
    let child = cat();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = spawn(move || {
        let mut child = child;
        let mut stdin = child.stdin.take();
        let r = child.wait_timeout(Duration::from_secs(3600));
        tx.send(r.map_err(|e| e.kind())).unwrap();
        drop(stdin.take());
        child
    });
    yield_now().unwrap(); // the waiter parks
    waiter.kill();
    let _ = waiter.join();
    assert_eq!(rx.recv().unwrap(), Err(std::io::ErrorKind::Other));
    // Still our unreaped child: kill it and reap it ourselves.
    // SAFETY: pid is our own child that nobody has reaped.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) }, 0);
    let mut raw = 0;
    // SAFETY: waitpid writes the status into a local.
    let r = unsafe { libc::waitpid(pid as libc::pid_t, &mut raw, 0) };
    assert_eq!(r, pid as libc::pid_t);
}
