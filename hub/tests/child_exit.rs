//! Child watchers on real processes.

// The Child watcher under test reaps the processes, not std::process::Child.
#![allow(clippy::zombie_processes)]

use std::cell::RefCell;
use std::process::Command;
use std::rc::Rc;

use thicket_hub::{Child, Loop};

#[test]
fn reports_exit_code_and_stops_itself() {
    let lp = Loop::new().unwrap();
    let p = Command::new("sh").args(["-c", "exit 7"]).spawn().unwrap();
    let got = Rc::new(RefCell::new(None));
    let g = got.clone();
    let w = Child::new(&lp, p.id(), move |_, s| *g.borrow_mut() = Some(s.unwrap())).unwrap();
    assert_eq!(w.pid(), p.id());
    w.start();
    lp.run().unwrap();
    assert_eq!(got.borrow().unwrap().code(), Some(7));
    assert!(!w.is_active());
}

#[test]
fn reports_death_by_signal() {
    use std::os::unix::process::ExitStatusExt;
    let lp = Loop::new().unwrap();
    let p = Command::new("sh")
        .args(["-c", "kill -TERM $$"])
        .spawn()
        .unwrap();
    let got = Rc::new(RefCell::new(None));
    let g = got.clone();
    let w = Child::new(&lp, p.id(), move |_, s| *g.borrow_mut() = Some(s.unwrap())).unwrap();
    w.start();
    lp.run().unwrap();
    let status = got.borrow().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    assert_eq!(status.code(), None);
}

#[test]
fn reaps_only_the_watched_pid() {
    let lp = Loop::new().unwrap();
    let watched = Command::new("sh").args(["-c", "exit 1"]).spawn().unwrap();
    let mut other = Command::new("sh").args(["-c", "exit 2"]).spawn().unwrap();
    let w = Child::new(&lp, watched.id(), |_, s| {
        assert_eq!(s.unwrap().code(), Some(1))
    })
    .unwrap();
    w.start();
    lp.run().unwrap();
    // The other child is still ours to wait for.
    assert_eq!(other.wait().unwrap().code(), Some(2));
}

#[test]
fn a_child_reaped_elsewhere_reports_echild() {
    let lp = Loop::new().unwrap();
    let mut p = Command::new("true").spawn().unwrap();
    let w = Child::new(&lp, p.id(), |_, s| {
        assert_eq!(s.unwrap_err().raw_os_error(), Some(libc::ECHILD));
    })
    .unwrap();
    p.wait().unwrap();
    w.start();
    lp.run().unwrap();
    assert!(!w.is_active());
}

#[test]
fn an_unknown_pid_is_an_error() {
    let lp = Loop::new().unwrap();
    // pid_max on Linux is at most 2^22.
    let err = Child::new(&lp, 1 << 23, |_, _| {}).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ESRCH));
}
