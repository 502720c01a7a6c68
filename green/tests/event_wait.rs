//! Event: set wakes every waiter in arrival order, clear, timeouts, kill,
//! deadlock detection and setting from another OS thread.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use thicket_green::{spawn, with_timeout, yield_now, Elapsed, Event, WaitError};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn wait_returns_at_once_when_already_set() {
    let ev = Event::new();
    ev.set();
    assert!(ev.is_set());
    assert_eq!(ev.wait(), Ok(()));
    assert_eq!(ev.wait_timeout(Duration::ZERO), Ok(()));
}

#[test]
fn set_wakes_every_waiter_in_arrival_order() {
    let ev = Event::new();
    let order = Rc::new(RefCell::new(Vec::new()));
    let waiters: Vec<_> = (0..4)
        .map(|i| {
            let (ev, order) = (ev.clone(), order.clone());
            spawn(move || {
                ev.wait().unwrap();
                order.borrow_mut().push(i);
            })
        })
        .collect();
    yield_now().unwrap(); // all four run and park
    assert!(order.borrow().is_empty(), "nobody passes an unset event");
    ev.set();
    for w in &waiters {
        w.join().unwrap();
    }
    assert_eq!(*order.borrow(), vec![0, 1, 2, 3]);
}

#[test]
fn clear_makes_later_waits_block_again() {
    let ev = Event::new();
    ev.set();
    ev.clear();
    assert!(!ev.is_set());
    assert_eq!(ev.wait_timeout(ms(1)), Err(WaitError::TimedOut));
}

#[test]
fn a_woken_waiter_returns_ok_even_if_cleared_before_it_ran() {
    let ev = Event::new();
    let e = ev.clone();
    let waiter = spawn(move || e.wait());
    yield_now().unwrap();
    ev.set();
    ev.clear(); // before the waiter gets to run
    assert_eq!(waiter.join().unwrap(), Ok(()));
}

#[test]
fn wait_timeout_times_out_when_never_set() {
    let ev = Event::new();
    assert_eq!(ev.wait_timeout(ms(2)), Err(WaitError::TimedOut));
    assert!(!ev.is_set());
}

#[test]
fn an_enclosing_with_timeout_ends_the_wait() {
    let ev = Event::new();
    let keep = ev.clone();
    assert_eq!(with_timeout(ms(2), || ev.wait()), Err(Elapsed));
    drop(keep);
}

#[test]
fn a_killed_waiter_gets_cancelled() {
    let ev = Event::new();
    let seen = Rc::new(RefCell::new(None));
    let (e, s) = (ev.clone(), seen.clone());
    let waiter = spawn(move || *s.borrow_mut() = Some(e.wait()));
    yield_now().unwrap();
    waiter.kill();
    assert!(waiter.join().is_err());
    assert_eq!(*seen.borrow(), Some(Err(WaitError::Cancelled)));
    // The event is unaffected and still works for others.
    ev.set();
    assert_eq!(ev.wait(), Ok(()));
}

#[test]
fn waiting_on_an_event_nobody_else_holds_is_a_deadlock() {
    assert_eq!(
        Event::new().wait(),
        Err(WaitError::Deadlock {
            waiting_for: "Event::wait"
        })
    );
}

#[test]
fn another_os_thread_can_set_it() {
    let ev = Event::new();
    let go = Event::new();
    let (e, g) = (ev.clone(), go.clone());
    let t = std::thread::spawn(move || {
        g.wait().unwrap();
        e.set();
    });
    go.set();
    assert_eq!(ev.wait(), Ok(()));
    t.join().unwrap();
}

#[test]
fn event_is_send_sync_clone_and_debug() {
    fn check<T: Send + Sync + Clone + std::fmt::Debug + Default>() {}
    check::<Event>();
    let text = format!("{:?}", Event::new());
    assert!(text.contains("set: false"), "{text}");
}
