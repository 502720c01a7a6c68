//! Signals sent to this process reach the green thread waiting for them.
//! Each test uses its own real-time signal: the tests of this file run in
//! parallel and every subscription in the process sees every arrival.

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use thicket_green::signal::{self, Signals};
use thicket_green::{spawn, yield_now, WaitError};

fn rt(n: i32) -> i32 {
    libc::SIGRTMIN() + n
}

fn send_to_self(signum: i32) {
    // SAFETY: kill only sends a signal; the test has subscribed to it.
    assert_eq!(unsafe { libc::kill(libc::getpid(), signum) }, 0);
}

#[test]
fn wait_returns_the_signal_that_arrived() {
    let (a, b) = (rt(1), rt(2));
    let waiter = spawn(move || signal::wait(&[a, b]));
    yield_now().unwrap(); // the waiter subscribes and parks
    send_to_self(b);
    assert_eq!(waiter.join().unwrap().unwrap(), b);
}

#[test]
fn arrivals_queue_until_received_and_none_is_lost() {
    let (a, b) = (rt(3), rt(4));
    let signals = Signals::new(&[a, b]).unwrap();
    assert_eq!(signals.signals(), vec![a, b]);
    send_to_self(a);
    send_to_self(b);
    let mut got = vec![signals.recv().unwrap(), signals.recv().unwrap()];
    got.sort();
    assert_eq!(got, vec![a, b]);
    assert_eq!(signals.try_recv(), None);
    // Later arrivals queue again.
    send_to_self(a);
    assert_eq!(signals.iter().next(), Some(a));
}

#[test]
fn recv_timeout_times_out_and_takes_nothing() {
    let a = rt(5);
    let signals = Signals::new(&[a]).unwrap();
    assert_eq!(
        signals.recv_timeout(Duration::from_millis(5)),
        Err(WaitError::TimedOut)
    );
    send_to_self(a);
    assert_eq!(signals.recv_timeout(Duration::from_secs(30)), Ok(a));
}

#[test]
fn green_threads_share_a_subscription_and_others_keep_running() {
    let a = rt(6);
    let signals = Rc::new(Signals::new(&[a]).unwrap());
    let s = signals.clone();
    let waiter = spawn(move || s.recv());
    // Another green thread runs while the waiter is parked, and sends.
    let sender = spawn(move || {
        yield_now().unwrap();
        send_to_self(a);
        "sent"
    });
    assert_eq!(sender.join().unwrap(), "sent");
    assert_eq!(waiter.join().unwrap(), Ok(a));
}

#[test]
fn a_killed_receiver_takes_nothing_from_the_queue() {
    let a = rt(7);
    let signals = Rc::new(Signals::new(&[a]).unwrap());
    let s = signals.clone();
    let victim = spawn(move || s.recv());
    yield_now().unwrap();
    victim.kill();
    assert!(victim.join().is_err());
    send_to_self(a);
    assert_eq!(signals.recv(), Ok(a));
}

#[test]
fn plain_code_waiting_for_a_signal_is_not_a_deadlock() {
    let a = rt(8);
    let signals = Signals::new(&[a]).unwrap();
    // Another OS thread sends until told to stop; whether the first one
    // comes before or after the wait starts, the wait must end with it.
    let stop = Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    let sender = std::thread::spawn(move || {
        while !st.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(5));
            send_to_self(a);
        }
    });
    let got = signals.recv();
    stop.store(true, Ordering::Release);
    sender.join().unwrap();
    assert_eq!(got, Ok(a));
}
