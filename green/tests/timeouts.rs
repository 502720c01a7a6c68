//! with_timeout scopes: nesting, and that expiry is sticky inside the scope.

use std::time::Duration;

use thicket_green::{sleep, spawn, with_timeout, Elapsed, WaitError};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn the_scope_deadline_interrupts_a_long_wait() {
    assert_eq!(with_timeout(ms(2), || sleep(ms(3_600_000))), Err(Elapsed));
}

#[test]
fn a_scope_that_does_not_expire_returns_the_value() {
    assert_eq!(
        with_timeout(ms(3_600_000), || sleep(ms(1)).map(|_| 9)),
        Ok(Ok(9))
    );
}

#[test]
fn after_expiry_every_blocking_call_in_the_scope_fails_at_once() {
    let r = with_timeout(ms(2), || {
        let a = sleep(ms(3_600_000));
        let b = sleep(ms(3_600_000));
        (a, b)
    });
    assert_eq!(r, Err(Elapsed));
    // Outside the scope, waits work again.
    assert_eq!(sleep(ms(1)), Ok(()));
}

#[test]
fn nested_inner_shorter_fires_only_inner() {
    let outer = with_timeout(ms(3_600_000), || {
        let inner = with_timeout(ms(2), || sleep(ms(3_600_000)));
        (inner, sleep(ms(1)))
    });
    assert_eq!(outer, Ok((Err(Elapsed), Ok(()))));
}

#[test]
fn nested_outer_shorter_fires_outer_and_inner_sees_timeout() {
    let mut inner_result = None;
    let outer = with_timeout(ms(2), || {
        inner_result = Some(with_timeout(ms(3_600_000), || sleep(ms(3_600_000))));
    });
    assert_eq!(outer, Err(Elapsed));
    // The inner scope did not expire: it returned the call's own error.
    assert_eq!(inner_result, Some(Ok(Err(WaitError::TimedOut))));
}

#[test]
fn timeouts_apply_inside_green_threads_independently() {
    let a = spawn(|| with_timeout(ms(2), || sleep(ms(3_600_000))).is_err());
    let b = spawn(|| with_timeout(ms(3_600_000), || sleep(ms(5))).is_ok());
    assert!(a.join().unwrap());
    assert!(b.join().unwrap());
}

#[test]
fn join_timeout_takes_nothing() {
    // The green thread finishes only once the gate opens, after the timed-out join.
    let gate = thicket_green::Event::new();
    let g = gate.clone();
    let gt = spawn(move || {
        g.wait().unwrap();
        42
    });
    assert!(matches!(
        gt.join_timeout(ms(1)),
        Err(thicket_green::JoinError::Wait(WaitError::TimedOut))
    ));
    gate.set();
    assert_eq!(gt.join().unwrap(), 42);
}

#[test]
fn an_expired_timeout_still_lets_others_run() {
    use std::cell::Cell;
    use std::rc::Rc;
    // A green thread polling with zero timeouts must not starve its hub.
    let q: thicket_green::Queue<u32> = thicket_green::Queue::unbounded();
    let ticks = Rc::new(Cell::new(0u32));
    let t = ticks.clone();
    let other = spawn(move || {
        for _ in 0..10 {
            t.set(t.get() + 1);
            thicket_green::yield_now().unwrap();
        }
    });
    let q2 = q.clone();
    let seen = ticks.clone();
    let poller = spawn(move || {
        for _ in 0..50 {
            assert!(q2.get_timeout(Duration::ZERO).is_err());
        }
        // What the other green thread managed meanwhile.
        seen.get()
    });
    // Without a yield per failed attempt, the other green thread would have
    // run once (before the poller started) and no more.
    assert_eq!(poller.join().unwrap(), 10);
    other.join().unwrap();
}
