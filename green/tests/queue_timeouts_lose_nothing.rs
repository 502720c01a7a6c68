//! A get or put that times out or is cancelled loses nothing: a failed get
//! took no item (one promised to it goes to the next getter), a failed put
//! hands its item back.

mod common;
use common::until;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use thicket_green::{spawn, with_timeout, Elapsed, Queue, WaitError};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn a_timed_out_get_takes_nothing() {
    let q = Queue::unbounded();
    assert_eq!(q.get_timeout(ms(2)), Err(WaitError::TimedOut));
    assert_eq!(q.getting(), 0, "the timed-out getter left the wait list");
    q.put(1).unwrap();
    assert_eq!(q.get_timeout(ms(2)), Ok(1));
}

#[test]
fn a_timed_out_put_hands_the_item_back() {
    let q = Queue::bounded(1);
    q.put(String::from("in")).unwrap();
    let err = q.put_timeout(String::from("out"), ms(2)).unwrap_err();
    assert_eq!(err.error(), WaitError::TimedOut);
    assert_eq!(err.into_inner(), "out");
    assert_eq!(q.putting(), 0);
    assert_eq!(q.len(), 1);
    assert_eq!(q.get().as_deref(), Ok("in"));
}

#[test]
fn a_zero_timeout_on_a_full_queue_fails_at_once_with_the_item() {
    let q = Queue::bounded(1);
    q.put(1).unwrap();
    let err = q.put_timeout(2, Duration::ZERO).unwrap_err();
    assert_eq!((err.error(), err.into_inner()), (WaitError::TimedOut, 2));
    assert_eq!(q.get_timeout(Duration::ZERO), Ok(1));
    assert_eq!(q.get_timeout(Duration::ZERO), Err(WaitError::TimedOut));
}

#[test]
fn with_timeout_around_a_get_loses_no_item() {
    let q = Queue::<u8>::unbounded();
    let keep = q.clone();
    assert_eq!(with_timeout(ms(2), || q.get()), Err(Elapsed));
    q.put(9).unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q.get(), Ok(9));
    drop(keep);
}

#[test]
fn with_timeout_around_a_put_hands_the_item_back() {
    let q = Queue::bounded(1);
    q.put(1).unwrap();
    let keep = q.clone();
    let mut back = None;
    let r = with_timeout(ms(2), || {
        if let Err(e) = q.put(2) {
            back = Some(e.into_inner());
        }
    });
    assert_eq!(r, Err(Elapsed));
    assert_eq!(back, Some(2));
    assert_eq!(q.len(), 1);
    drop(keep);
}

/// The lost-wake-up rule: a getter that was chosen for an item but is killed
/// before it runs must pass the item on to the next getter.
#[test]
fn killed_getter_passes_its_item_to_the_next_getter() {
    let q = Queue::unbounded();
    let results = Rc::new(RefCell::new(Vec::new()));
    let getters: Vec<_> = (0..2)
        .map(|i| {
            let (q2, results) = (q.clone(), results.clone());
            let g = spawn(move || {
                let r = q2.get();
                results.borrow_mut().push((i, r));
            });
            until(|| q.getting() == i + 1);
            g
        })
        .collect();
    getters[0].kill(); // runnable now, but has not run yet
    q.put("only").unwrap(); // promised to getter 0, the longest waiter
    for g in &getters {
        // A generous bound turns a lost wake-up into a failure, not a hang.
        let _ = g.join_timeout(Duration::from_secs(30));
    }
    let mut results = results.borrow().clone();
    results.sort_by_key(|(i, _)| *i);
    assert_eq!(
        results,
        vec![(0, Err(WaitError::Cancelled)), (1, Ok("only"))]
    );
    assert!(q.is_empty());
}

/// With nobody to pass it to, the promised item is released for anyone.
#[test]
fn killed_getter_releases_its_item_when_no_one_else_waits() {
    let q = Queue::unbounded();
    let q2 = q.clone();
    let getter = spawn(move || q2.get());
    until(|| q.getting() == 1);
    getter.kill();
    q.put(5).unwrap();
    assert!(getter.join().is_err());
    assert_eq!(q.try_get(), Ok(5));
}

#[test]
fn a_killed_blocked_putter_gets_its_item_back() {
    let q = Queue::bounded(1);
    q.put(0).unwrap();
    let seen = Rc::new(RefCell::new(None));
    let (q2, s) = (q.clone(), seen.clone());
    let putter = spawn(move || {
        let r = q2.put(1).map_err(|e| (e.error(), e.into_inner()));
        *s.borrow_mut() = Some(r);
    });
    until(|| q.putting() == 1);
    putter.kill();
    let _ = putter.join();
    assert_eq!(*seen.borrow(), Some(Err((WaitError::Cancelled, 1))));
    assert_eq!(q.get(), Ok(0));
    assert!(q.is_empty());
}

/// A putter whose item was accepted before its wait ended reports success,
/// even if it was killed in the same instant: the item is in the queue, not
/// both in the queue and handed back.
#[test]
fn a_putter_accepted_before_it_ran_reports_the_put() {
    let q = Queue::bounded(1);
    q.put(0).unwrap();
    let seen = Rc::new(RefCell::new(None));
    let (q2, s) = (q.clone(), seen.clone());
    let putter = spawn(move || *s.borrow_mut() = Some(q2.put(1).is_ok()));
    until(|| q.putting() == 1);
    putter.kill();
    assert_eq!(q.get(), Ok(0)); // admits the blocked item
    let _ = putter.join();
    assert_eq!(*seen.borrow(), Some(true));
    assert_eq!(q.get(), Ok(1));
}

#[test]
fn timed_out_rendezvous_put_leaves_nothing_behind() {
    let q = Queue::rendezvous();
    let err = q.put_timeout('x', ms(2)).unwrap_err();
    assert_eq!((err.error(), err.into_inner()), (WaitError::TimedOut, 'x'));
    assert_eq!(q.putting(), 0);
    assert_eq!(q.get_timeout(ms(1)), Err(WaitError::TimedOut));
}
