//! A Semaphore acquire that times out or is cancelled holds no permit, even
//! when a permit was handed to it while it was giving up.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use thicket_green::{spawn, with_timeout, yield_now, Elapsed, JoinError, Semaphore, WaitError};

#[test]
fn acquire_timeout_expires_holding_nothing() {
    let sem = Semaphore::new(0);
    let r = sem
        .acquire_timeout(Duration::from_millis(2))
        .map(|p| p.forget());
    assert_eq!(r, Err(WaitError::TimedOut));
    assert_eq!(sem.waiting(), 0);
    assert_eq!(sem.available(), 0);
    sem.release();
    assert_eq!(sem.available(), 1, "nobody took the released permit");
}

#[test]
fn acquire_timeout_succeeds_when_a_permit_comes_in_time() {
    let sem = Semaphore::new(0);
    let s = sem.clone();
    let releaser = spawn(move || s.release());
    let permit = sem.acquire_timeout(Duration::from_secs(60));
    assert!(permit.is_ok());
    releaser.join().unwrap();
}

#[test]
fn an_enclosing_deadline_ends_the_wait_holding_nothing() {
    let sem = Semaphore::new(0);
    let r = with_timeout(Duration::from_millis(2), || {
        sem.acquire().map(|p| p.forget())
    });
    assert_eq!(r, Err(Elapsed));
    assert_eq!(sem.waiting(), 0);
    sem.release();
    assert_eq!(sem.available(), 1);
}

#[test]
fn a_killed_waiter_returns_cancelled_and_holds_nothing() {
    let sem = Semaphore::new(0);
    let seen = Rc::new(RefCell::new(None));
    let (s, out) = (sem.clone(), seen.clone());
    let waiter = spawn(move || {
        *out.borrow_mut() = Some(s.acquire().map(|p| p.forget()));
    });
    yield_now().unwrap();
    assert_eq!(sem.waiting(), 1);
    waiter.kill();
    assert!(matches!(waiter.join(), Err(JoinError::Killed)));
    assert_eq!(*seen.borrow(), Some(Err(WaitError::Cancelled)));
    assert_eq!(sem.waiting(), 0);
    sem.release();
    assert_eq!(sem.available(), 1);
}

#[test]
fn a_permit_handed_to_a_waiter_being_killed_goes_to_the_next() {
    let sem = Semaphore::new(0);
    let log = Rc::new(RefCell::new(Vec::new()));
    let waiter = |name: &'static str| {
        let (sem, log) = (sem.clone(), log.clone());
        spawn(move || {
            let r = sem.acquire().map(|p| p.forget());
            log.borrow_mut().push((name, r));
        })
    };
    let doomed = waiter("doomed");
    let next = waiter("next");
    yield_now().unwrap();
    assert_eq!(sem.waiting(), 2);

    // The kill wakes `doomed` first; the release then hands it the permit
    // before it has run. It must pass the permit on instead of dropping it.
    doomed.kill();
    sem.release();
    let _ = doomed.join();
    assert_eq!(sem.waiting(), 0, "the permit was lost with `doomed`");
    next.join().unwrap();
    assert_eq!(
        *log.borrow(),
        [("doomed", Err(WaitError::Cancelled)), ("next", Ok(()))]
    );
    assert_eq!(sem.available(), 0, "the one permit went to `next`");
}

#[test]
fn a_permit_handed_to_the_last_waiter_being_killed_returns_to_the_count() {
    let sem = Semaphore::new(0);
    let s = sem.clone();
    let doomed = spawn(move || s.acquire().map(|p| p.forget()));
    yield_now().unwrap();
    doomed.kill();
    sem.release();
    assert!(matches!(doomed.join(), Err(JoinError::Killed)));
    assert_eq!(sem.available(), 1);
    assert_eq!(sem.waiting(), 0);
}

#[test]
fn a_green_thread_killed_before_it_starts_takes_no_permit() {
    let sem = Semaphore::new(1);
    let s = sem.clone();
    let gt = spawn(move || s.acquire().map(|p| p.forget()));
    gt.kill(); // before it first runs: the body never runs at all
    assert!(matches!(gt.join(), Err(JoinError::Killed)));
    assert_eq!(sem.available(), 1);
}

#[test]
fn a_killed_green_thread_still_takes_a_free_permit_without_waiting() {
    let sem = Semaphore::new(1);
    let seen = Rc::new(RefCell::new(Vec::new()));
    let (s, out) = (sem.clone(), seen.clone());
    let gt = spawn(move || {
        let slept = thicket_green::sleep(Duration::from_secs(3600));
        // Like gevent: a call that need not wait does not see the kill.
        let got = s.acquire().map(|p| p.forget());
        // One that must wait does.
        let again = s.acquire().map(|p| p.forget());
        out.borrow_mut().extend([slept, got, again]);
    });
    yield_now().unwrap();
    gt.kill();
    let _ = gt.join();
    assert_eq!(
        *seen.borrow(),
        [Err(WaitError::Cancelled), Ok(()), Err(WaitError::Cancelled)]
    );
    assert_eq!(sem.available(), 0);
    assert_eq!(sem.waiting(), 0);
}
