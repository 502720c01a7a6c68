//! A lock that times out or is cancelled leaves the mutex as it was, and a
//! lock handed to a locker that is giving up is passed on.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use thicket_green::{spawn, with_timeout, yield_now, Elapsed, JoinError, Mutex, WaitError};

#[test]
fn lock_timeout_expires_and_leaves_the_lock_with_its_holder() {
    let m = Mutex::new(1);
    let held = m.lock().unwrap();
    let r = m.lock_timeout(Duration::from_millis(2)).map(drop);
    assert_eq!(r, Err(WaitError::TimedOut));
    assert!(m.is_locked());
    drop(held);
    assert!(!m.is_locked(), "the timed-out locker left nothing queued");
    assert!(m.try_lock().is_some());
}

#[test]
fn lock_timeout_gets_a_lock_freed_in_time() {
    let m = Rc::new(Mutex::new(0));
    let held = m.lock().unwrap();
    let m2 = m.clone();
    let waiter = spawn(move || {
        m2.lock_timeout(Duration::from_secs(60))
            .map(|mut g| *g += 1)
    });
    yield_now().unwrap();
    drop(held);
    assert_eq!(waiter.join().unwrap(), Ok(()));
    assert_eq!(*m.lock().unwrap(), 1);
}

#[test]
fn an_enclosing_deadline_ends_the_wait() {
    let m = Mutex::new(());
    let _held = m.lock().unwrap();
    let r = with_timeout(Duration::from_millis(2), || m.lock().map(drop));
    assert_eq!(r, Err(Elapsed));
}

#[test]
fn a_killed_locker_returns_cancelled_without_the_lock() {
    let m = Rc::new(Mutex::new(()));
    let held = m.lock().unwrap();
    let seen = Rc::new(RefCell::new(None));
    let (m2, out) = (m.clone(), seen.clone());
    let locker = spawn(move || *out.borrow_mut() = Some(m2.lock().map(drop)));
    yield_now().unwrap();
    locker.kill();
    assert!(matches!(locker.join(), Err(JoinError::Killed)));
    assert_eq!(*seen.borrow(), Some(Err(WaitError::Cancelled)));
    drop(held);
    assert!(!m.is_locked());
}

#[test]
fn a_lock_handed_to_a_locker_being_killed_goes_to_the_next() {
    let m = Rc::new(Mutex::new(Vec::new()));
    let log = Rc::new(RefCell::new(Vec::new()));
    let locker = |name: &'static str| {
        let (m, log) = (m.clone(), log.clone());
        spawn(move || {
            let r = m.lock().map(|mut g| g.push(name));
            log.borrow_mut().push((name, r));
        })
    };
    let held = m.lock().unwrap();
    let doomed = locker("doomed");
    let next = locker("next");
    yield_now().unwrap();

    // The kill wakes `doomed`; the unlock then hands it the lock before it
    // has run. It must pass the lock on rather than keep it locked.
    doomed.kill();
    drop(held);
    let _ = doomed.join();
    yield_now().unwrap(); // `next` runs if the lock was passed on
    assert!(next.is_finished(), "the lock was kept by the killed locker");
    next.join().unwrap();
    assert_eq!(
        *log.borrow(),
        [("doomed", Err(WaitError::Cancelled)), ("next", Ok(()))]
    );
    assert!(!m.is_locked());
    assert_eq!(*m.lock().unwrap(), ["next"]);
}

#[test]
fn a_lock_handed_to_the_last_locker_being_killed_is_unlocked() {
    let m = Rc::new(Mutex::new(()));
    let held = m.lock().unwrap();
    let m2 = m.clone();
    let doomed = spawn(move || m2.lock().map(drop));
    yield_now().unwrap();
    doomed.kill();
    drop(held);
    assert!(matches!(doomed.join(), Err(JoinError::Killed)));
    assert!(!m.is_locked());
}
