//! Signals sent to the process itself. Each test uses its own signal number,
//! since signals are process-wide and tests may share a process.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use thicket_hub::{Loop, Signal, Timer};

fn raise(sig: i32) {
    // SAFETY: raise only queues a signal for this thread.
    assert_eq!(unsafe { libc::raise(sig) }, 0);
}

fn rt(n: i32) -> i32 {
    libc::SIGRTMIN() + n
}

#[test]
fn several_watchers_of_one_signal_all_run() {
    let lp = Loop::new().unwrap();
    let sig = rt(1);
    let hits = Rc::new(RefCell::new(Vec::new()));
    let watchers: Vec<Signal> = (0..3)
        .map(|i| {
            let h = hits.clone();
            Signal::new(&lp, sig, move |w| {
                h.borrow_mut().push(i);
                w.stop();
            })
            .unwrap()
        })
        .collect();
    for w in &watchers {
        w.start().unwrap();
    }
    raise(sig);
    lp.run().unwrap();
    assert_eq!(*hits.borrow(), vec![0, 1, 2]);
}

#[test]
fn signal_arriving_while_the_loop_is_busy_is_not_lost() {
    let lp = Loop::new().unwrap();
    let sig = rt(2);
    let got = Rc::new(RefCell::new(0));
    let g = got.clone();
    let w = Signal::new(&lp, sig, move |w| {
        *g.borrow_mut() += 1;
        w.stop();
    })
    .unwrap();
    w.start().unwrap();
    // The signal arrives inside a callback, i.e. while the loop is not polling.
    let t = Timer::new(&lp, move |_| raise(sig));
    t.start(Duration::ZERO);
    lp.run().unwrap();
    assert_eq!(*got.borrow(), 1);
}

#[test]
fn signals_are_delivered_to_every_loop_watching_them() {
    let sig = rt(3);
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let handle = std::thread::spawn(move || {
                let lp = Loop::new().unwrap();
                let w = Signal::new(&lp, sig, |w| w.stop()).unwrap();
                w.start().unwrap();
                tx.send(()).unwrap();
                lp.run().unwrap();
            });
            rx.recv().unwrap();
            handle
        })
        .collect();
    // SAFETY: kill with our own pid sends a process-directed signal.
    assert_eq!(unsafe { libc::kill(libc::getpid(), sig) }, 0);
    for t in threads {
        t.join().unwrap();
    }
}

fn disposition(sig: i32) -> libc::sighandler_t {
    // SAFETY: a zeroed sigaction is valid, and a null new action only queries.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(sig, std::ptr::null(), &mut old), 0);
        old.sa_sigaction
    }
}

#[test]
fn the_previous_disposition_is_restored_when_the_last_watcher_stops() {
    let sig = rt(4);
    let before = disposition(sig);
    let lp = Loop::new().unwrap();
    let a = Signal::new(&lp, sig, |_| {}).unwrap();
    let b = Signal::new(&lp, sig, |_| {}).unwrap();
    a.start().unwrap();
    b.start().unwrap();
    assert_ne!(disposition(sig), before);
    a.stop();
    assert_ne!(disposition(sig), before);
    drop(b);
    assert_eq!(disposition(sig), before);
}

#[test]
fn invalid_signals_are_refused() {
    let lp = Loop::new().unwrap();
    for bad in [0, -1, 65, libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV] {
        let err = Signal::new(&lp, bad, |_| {}).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad}");
        assert!(err.to_string().contains(&bad.to_string()));
    }
}

#[test]
fn stopped_signal_watcher_does_not_keep_the_loop_alive() {
    let lp = Loop::new().unwrap();
    let w = Signal::new(&lp, rt(5), |_| {}).unwrap();
    w.start().unwrap();
    assert_eq!(lp.active_count(), 1);
    w.set_ref(false);
    assert_eq!(lp.active_count(), 0);
    lp.run().unwrap();
    assert!(w.is_active());
}
