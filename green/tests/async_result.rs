//! AsyncResult: set once, every getter gets a clone, timeouts, deadlock
//! detection and setting from another OS thread.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use thicket_green::{spawn, with_timeout, yield_now, AsyncResult, Elapsed, WaitError};

#[test]
fn set_succeeds_once_and_hands_back_later_values() {
    let r = AsyncResult::new();
    assert!(!r.is_ready());
    assert_eq!(r.try_get(), None);
    assert_eq!(r.set("first"), Ok(()));
    assert_eq!(r.set("second"), Err("second"));
    assert!(r.is_ready());
    assert_eq!(r.try_get(), Some("first"));
}

#[test]
fn every_getter_before_and_after_the_set_gets_the_value() {
    let r = AsyncResult::new();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let getters: Vec<_> = (0..3)
        .map(|i| {
            let (r, seen) = (r.clone(), seen.clone());
            spawn(move || {
                let v = r.get().unwrap();
                seen.borrow_mut().push((i, v));
            })
        })
        .collect();
    yield_now().unwrap();
    assert!(seen.borrow().is_empty());
    r.set(String::from("v")).unwrap();
    for g in &getters {
        g.join().unwrap();
    }
    let expected: Vec<_> = (0..3).map(|i| (i, String::from("v"))).collect();
    assert_eq!(*seen.borrow(), expected, "woken in arrival order");
    assert_eq!(r.get().as_deref(), Ok("v"));
    assert_eq!(r.get_timeout(Duration::ZERO).as_deref(), Ok("v"));
}

#[test]
fn get_timeout_times_out_and_a_later_set_still_works() {
    let r = AsyncResult::new();
    assert_eq!(
        r.get_timeout(Duration::from_millis(2)),
        Err(WaitError::TimedOut)
    );
    assert_eq!(
        r.wait_timeout(Duration::from_millis(1)),
        Err(WaitError::TimedOut)
    );
    r.set(3).unwrap();
    assert_eq!(r.get(), Ok(3));
}

#[test]
fn wait_needs_no_clone_and_takes_nothing() {
    struct NotClone(u8);
    let r = AsyncResult::new();
    let r2 = r.clone();
    let waiter = spawn(move || r2.wait());
    yield_now().unwrap();
    assert!(r.set(NotClone(4)).is_ok());
    assert_eq!(waiter.join().unwrap(), Ok(()));
    assert_eq!(r.wait(), Ok(()));
    assert!(matches!(r.set(NotClone(5)), Err(NotClone(5))));
}

#[test]
fn an_enclosing_with_timeout_ends_the_get() {
    let r = AsyncResult::<u8>::new();
    let keep = r.clone();
    assert_eq!(
        with_timeout(Duration::from_millis(2), || r.get()),
        Err(Elapsed)
    );
    drop(keep);
}

#[test]
fn a_killed_getter_gets_cancelled() {
    let r = AsyncResult::<u8>::new();
    let seen = Rc::new(RefCell::new(None));
    let (r2, s) = (r.clone(), seen.clone());
    let getter = spawn(move || *s.borrow_mut() = Some(r2.get()));
    yield_now().unwrap();
    getter.kill();
    assert!(getter.join().is_err());
    assert_eq!(*seen.borrow(), Some(Err(WaitError::Cancelled)));
}

#[test]
fn getting_a_result_nobody_else_holds_is_a_deadlock() {
    assert_eq!(
        AsyncResult::<u8>::new().get(),
        Err(WaitError::Deadlock {
            waiting_for: "AsyncResult::get"
        })
    );
    assert_eq!(
        AsyncResult::<u8>::new().wait(),
        Err(WaitError::Deadlock {
            waiting_for: "AsyncResult::wait"
        })
    );
}

#[test]
fn another_os_thread_can_set_it() {
    let r = AsyncResult::new();
    let r2 = r.clone();
    let t = std::thread::spawn(move || r2.set(vec![1, 2, 3]).unwrap());
    assert_eq!(r.get(), Ok(vec![1, 2, 3]));
    t.join().unwrap();
}

#[test]
fn async_result_is_send_sync_for_send_values() {
    fn check<T: Send + Sync + Clone + Default>() {}
    check::<AsyncResult<String>>();
    let text = format!("{:?}", AsyncResult::<u8>::new());
    assert!(text.contains("value: None"), "{text}");
}
