//! A green thread's deadline timer stays armed after a wait ends early, so
//! that a connection waiting once per request with the same idle timeout
//! does not update the timer heap twice per request. These tests pin down
//! what that must never change: each wait ends at its own deadline, not an
//! earlier or later one left from a previous wait, and a timer left armed
//! keeps nothing alive.

use std::time::{Duration, Instant};

use thicket_green::{spawn, Event, WaitError};

/// Ends a wait early: a green thread sets the event once the waiter parks.
fn set_soon(e: &Event) {
    let e = e.clone();
    spawn(move || e.set());
}

#[test]
fn a_longer_wait_after_a_short_one_ended_early_lasts_its_full_time() {
    spawn(|| {
        let early = Event::new();
        set_soon(&early);
        // Arms the timer for 30 ms; the event ends the wait at once.
        early.wait_timeout(Duration::from_millis(30)).unwrap();
        // The timer fires at 30 ms for this wait of 300 ms, and must re-arm.
        let never = Event::new();
        let _keep = never.clone();
        let start = Instant::now();
        let r = never.wait_timeout(Duration::from_millis(300));
        assert_eq!(r, Err(WaitError::TimedOut));
        assert!(
            start.elapsed() >= Duration::from_millis(300),
            "{:?}",
            start.elapsed()
        );
    })
    .join()
    .unwrap();
}

#[test]
fn a_shorter_wait_after_a_long_one_ended_early_ends_at_its_own_deadline() {
    spawn(|| {
        let early = Event::new();
        set_soon(&early);
        early.wait_timeout(Duration::from_secs(60)).unwrap();
        let never = Event::new();
        let _keep = never.clone();
        let start = Instant::now();
        let r = never.wait_timeout(Duration::from_millis(20));
        assert_eq!(r, Err(WaitError::TimedOut));
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(20), "{took:?}");
        // Not the 60 s the timer was armed for.
        assert!(took < Duration::from_secs(30), "{took:?}");
    })
    .join()
    .unwrap();
}

#[test]
fn a_wait_without_deadline_is_not_held_up_by_a_timer_left_armed() {
    // The root waits with a long timeout that a green thread ends early,
    // then waits on an event nothing can set: that is a deadlock, reported
    // at once, not when the old timer would have fired.
    let early = Event::new();
    set_soon(&early);
    early.wait_timeout(Duration::from_secs(60)).unwrap();
    let orphan = Event::new();
    let start = Instant::now();
    let r = orphan.wait();
    assert!(matches!(r, Err(WaitError::Deadlock { .. })), "{r:?}");
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn many_waits_in_a_row_each_get_their_own_deadline() {
    spawn(|| {
        let never = Event::new();
        let _keep = never.clone();
        for ms in [5u64, 40, 1, 25, 10] {
            let start = Instant::now();
            let r = never.wait_timeout(Duration::from_millis(ms));
            assert_eq!(r, Err(WaitError::TimedOut));
            assert!(
                start.elapsed() >= Duration::from_millis(ms),
                "{ms} ms: {:?}",
                start.elapsed()
            );
        }
    })
    .join()
    .unwrap();
}
