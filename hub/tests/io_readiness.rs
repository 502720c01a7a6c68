//! Io watchers on real descriptors: pipes and TCP sockets on 127.0.0.1.

use std::cell::RefCell;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

use thicket_hub::{Interest, Io, Loop, Ready, Timer};

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

#[test]
fn readable_edge_runs_callback_once() {
    let lp = Loop::new().unwrap();
    let (mut a, b) = pair();
    let calls = Rc::new(RefCell::new(Vec::new()));
    let c = calls.clone();
    let io = Io::new(&lp, &b, Interest::READABLE, move |_, r| {
        c.borrow_mut().push(r)
    })
    .unwrap();
    io.start();
    a.write_all(b"x").unwrap();
    lp.run_once(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(calls.borrow().len(), 1);
    assert!(calls.borrow()[0].is_readable());
    // No new edge: the readiness persists but the callback does not run again.
    lp.run_nowait().unwrap();
    lp.run_nowait().unwrap();
    assert_eq!(calls.borrow().len(), 1);
    assert!(io.readiness().is_readable());
}

#[test]
fn readiness_that_arrives_while_stopped_is_reported_on_start() {
    let lp = Loop::new().unwrap();
    let (mut a, b) = pair();
    let calls = Rc::new(RefCell::new(0));
    let c = calls.clone();
    let io = Io::new(&lp, &b, Interest::READABLE, move |io, _| {
        *c.borrow_mut() += 1;
        io.stop();
    })
    .unwrap();
    a.write_all(b"x").unwrap();
    lp.run_nowait().unwrap(); // the edge arrives while the watcher is stopped
    assert_eq!(*calls.borrow(), 0);
    assert!(io.readiness().is_readable());
    io.start();
    lp.run().unwrap();
    assert_eq!(*calls.borrow(), 1);
}

#[test]
fn cleared_readiness_is_not_reported_until_the_next_edge() {
    let lp = Loop::new().unwrap();
    let (mut a, mut b) = pair();
    let calls = Rc::new(RefCell::new(0));
    let c = calls.clone();
    let io = Io::new(&lp, &b, Interest::READABLE, move |_, _| {
        *c.borrow_mut() += 1
    })
    .unwrap();
    a.write_all(b"x").unwrap();
    lp.run_nowait().unwrap();
    let mut buf = [0; 8];
    assert_eq!(b.read(&mut buf).unwrap(), 1);
    assert_eq!(b.read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
    io.clear_readiness(Ready::READABLE);
    io.start();
    lp.run_nowait().unwrap();
    assert_eq!(*calls.borrow(), 0);
    a.write_all(b"y").unwrap();
    lp.run_once(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(*calls.borrow(), 1);
}

#[test]
fn writable_and_interest_change() {
    let lp = Loop::new().unwrap();
    let (_a, b) = pair();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    let io = Io::new(&lp, &b, Interest::READABLE, move |io, r| {
        s.borrow_mut().push(r);
        io.stop();
    })
    .unwrap();
    io.start();
    lp.run_nowait().unwrap();
    // A fresh socket is writable, not readable: nothing for READABLE interest.
    assert!(seen.borrow().is_empty());
    assert!(io.readiness().is_writable());
    io.set_interest(Interest::WRITABLE);
    assert_eq!(io.interest(), Interest::WRITABLE);
    lp.run().unwrap();
    assert_eq!(seen.borrow().len(), 1);
    assert!(seen.borrow()[0].is_writable());
    assert!(!seen.borrow()[0].is_readable());
}

#[test]
fn peer_close_wakes_a_reader() {
    let lp = Loop::new().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    server.set_nonblocking(true).unwrap();
    let seen = Rc::new(RefCell::new(None));
    let s = seen.clone();
    let io = Io::new(&lp, &server, Interest::READABLE, move |io, r| {
        *s.borrow_mut() = Some(r);
        io.stop();
    })
    .unwrap();
    io.start();
    drop(client);
    lp.run().unwrap();
    let r = seen.borrow().unwrap();
    assert!(r.is_readable() && r.is_read_closed(), "{r:?}");
    let mut buf = [0; 4];
    assert_eq!((&server).read(&mut buf).unwrap(), 0);
}

#[test]
fn dropping_the_watcher_deregisters_the_fd() {
    let lp = Loop::new().unwrap();
    let (mut a, b) = pair();
    let io = Io::new(&lp, &b, Interest::READABLE, |_, _| {
        panic!("dropped watcher ran")
    })
    .unwrap();
    io.start();
    drop(io);
    assert_eq!(lp.active_count(), 0);
    a.write_all(b"x").unwrap();
    lp.run_nowait().unwrap();
    // The same fd can be registered again by a new watcher.
    let again = Io::new(&lp, &b, Interest::READABLE, |io, _| io.stop()).unwrap();
    again.start();
    a.write_all(b"y").unwrap();
    lp.run().unwrap();
}

#[test]
fn regular_files_are_refused_with_an_error() {
    let lp = Loop::new().unwrap();
    let f = std::fs::File::open("/proc/self/status").unwrap();
    let err = Io::new(&lp, &f, Interest::READABLE, |_, _| {}).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EPERM));
    assert_eq!(lp.active_count(), 0);
}

#[test]
fn a_timer_and_a_pipe_together() {
    let lp = Loop::new().unwrap();
    let (mut a, b) = pair();
    let got = Rc::new(RefCell::new(Vec::new()));
    let timer = Timer::new(&lp, move |_| a.write_all(b"tick").unwrap());
    timer.start(Duration::from_millis(2));
    let g = got.clone();
    let mut reader = b.try_clone().unwrap();
    let io = Io::new(&lp, &b, Interest::READABLE, move |io, _| {
        let mut buf = [0; 16];
        let n = reader.read(&mut buf).unwrap();
        g.borrow_mut().extend_from_slice(&buf[..n]);
        io.stop();
    })
    .unwrap();
    io.start();
    lp.run().unwrap();
    assert_eq!(&*got.borrow(), b"tick");
}

#[test]
fn rearm_forgets_sets_interest_and_starts_with_one_reference() {
    let lp = Loop::new().unwrap();
    let (_a, b) = pair();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    let io = Io::new(&lp, &b, Interest::READABLE, move |_, r| {
        s.borrow_mut().push(r)
    })
    .unwrap();
    lp.run_nowait().unwrap(); // remembers that the fresh socket is writable
    assert!(io.readiness().is_writable());
    // Rearming an active watcher restarts it; it must not count twice
    // towards keeping the loop alive.
    io.rearm(Ready::EMPTY, Interest::WRITABLE);
    io.rearm(Ready::EMPTY, Interest::WRITABLE);
    assert!(io.is_active());
    assert_eq!(io.interest(), Interest::WRITABLE);
    lp.run_nowait().unwrap();
    assert_eq!(
        seen.borrow().len(),
        1,
        "remembered readiness runs the callback once"
    );
    assert!(seen.borrow()[0].is_writable());
    io.rearm(Ready::WRITABLE, Interest::WRITABLE);
    assert!(!io.readiness().is_writable());
    lp.run_nowait().unwrap();
    assert_eq!(
        seen.borrow().len(),
        1,
        "forgotten readiness is not reported"
    );
    io.stop();
    assert!(!lp.is_alive(), "one stop undoes any number of rearms");
}

#[test]
fn rearm_that_leaves_nothing_due_cancels_an_earlier_start() {
    let lp = Loop::new().unwrap();
    let (mut a, mut b) = pair();
    let calls = Rc::new(RefCell::new(0));
    let c = calls.clone();
    let io = Io::new(&lp, &b, Interest::READABLE, move |_, _| {
        *c.borrow_mut() += 1
    })
    .unwrap();
    a.write_all(b"x").unwrap();
    lp.run_nowait().unwrap(); // readable, remembered while stopped
    io.start(); // due: queued for the next dispatch
    let mut buf = [0; 8];
    assert_eq!(b.read(&mut buf).unwrap(), 1);
    io.rearm(Ready::READABLE, Interest::READABLE);
    lp.run_nowait().unwrap();
    assert_eq!(*calls.borrow(), 0, "the queued start no longer applies");
    a.write_all(b"y").unwrap();
    lp.run_once(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(*calls.borrow(), 1, "the next edge is reported");
}
