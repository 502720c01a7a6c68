//! Rendezvous queues (capacity 0): a put completes only when a getter takes
//! the item, like gevent's Channel and eventlet's Queue(0).

mod common;
use common::until;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use thicket_green::{spawn, yield_now, Queue, TryGetError, TryPutError, WaitError};

#[test]
fn put_blocks_until_a_getter_takes_the_item() {
    let q = Queue::rendezvous();
    let done = Rc::new(RefCell::new(false));
    let (q2, d) = (q.clone(), done.clone());
    let putter = spawn(move || {
        q2.put(1).unwrap();
        *d.borrow_mut() = true;
    });
    until(|| q.putting() == 1);
    for _ in 0..5 {
        yield_now().unwrap();
    }
    assert!(!*done.borrow(), "put returned with no getter");
    assert_eq!(q.len(), 0, "a rendezvous queue holds nothing");
    assert!(q.is_full());
    assert_eq!(q.get(), Ok(1));
    putter.join().unwrap();
    assert!(*done.borrow());
}

#[test]
fn a_waiting_getter_is_handed_the_item() {
    let q = Queue::rendezvous();
    let q2 = q.clone();
    let getter = spawn(move || q2.get());
    until(|| q.getting() == 1);
    q.put("hi").unwrap(); // returns once the getter has taken it
    assert_eq!(getter.join().unwrap(), Ok("hi"));
}

#[test]
fn try_put_succeeds_only_when_a_getter_waits() {
    let q = Queue::rendezvous();
    assert_eq!(q.try_put(1), Err(TryPutError::Full(1)));
    let q2 = q.clone();
    let getter = spawn(move || q2.get());
    until(|| q.getting() == 1);
    assert_eq!(q.try_put(2), Ok(()));
    assert_eq!(
        q.try_put(3),
        Err(TryPutError::Full(3)),
        "one getter, one item"
    );
    assert_eq!(getter.join().unwrap(), Ok(2));
}

#[test]
fn try_get_takes_from_a_blocked_putter() {
    let q = Queue::rendezvous();
    assert_eq!(q.try_get(), Err(TryGetError::Empty));
    let q2 = q.clone();
    let putter = spawn(move || q2.put(7));
    until(|| q.putting() == 1);
    assert_eq!(q.try_get(), Ok(7));
    assert!(putter.join().unwrap().is_ok());
}

#[test]
fn putters_are_matched_to_getters_in_arrival_order() {
    let q = Queue::rendezvous();
    let putters: Vec<_> = (0..3)
        .map(|i| {
            let q2 = q.clone();
            let p = spawn(move || q2.put(i));
            until(|| q.putting() == i + 1);
            p
        })
        .collect();
    let out: Vec<_> = (0..3).map(|_| q.get().unwrap()).collect();
    assert_eq!(out, vec![0, 1, 2]);
    for p in &putters {
        assert!(p.join().unwrap().is_ok());
    }
}

#[test]
fn ping_pong_between_two_green_threads() {
    let (ping, pong) = (Queue::rendezvous(), Queue::rendezvous());
    let echo = {
        let (ping, pong) = (ping.clone(), pong.clone());
        spawn(move || {
            while let Ok(n) = ping.get() {
                pong.put(n + 1).unwrap();
            }
        })
    };
    let mut n = 0;
    for _ in 0..100 {
        ping.put(n).unwrap();
        n = pong.get().unwrap();
    }
    assert_eq!(n, 100);
    ping.close();
    echo.join().unwrap();
}

#[test]
fn resizing_to_bounded_admits_the_blocked_putters() {
    let q = Queue::rendezvous();
    let putters: Vec<_> = (0..2)
        .map(|i| {
            let q2 = q.clone();
            let p = spawn(move || q2.put(i));
            until(|| q.putting() == i + 1);
            p
        })
        .collect();
    q.resize(Some(2));
    assert_eq!(q.len(), 2);
    for p in &putters {
        assert!(p.join().unwrap().is_ok());
    }
    q.resize(Some(0));
    assert_eq!(q.get(), Ok(0));
    assert_eq!(q.get(), Ok(1));
    assert_eq!(q.try_put(2), Err(TryPutError::Full(2)));
}

#[test]
fn a_zero_timeout_put_hands_the_item_to_a_waiting_getter() {
    let q = Queue::rendezvous();
    let err = q.put_timeout('a', Duration::ZERO).unwrap_err();
    assert_eq!((err.error(), err.into_inner()), (WaitError::TimedOut, 'a'));
    let q2 = q.clone();
    let getter = spawn(move || q2.get());
    until(|| q.getting() == 1);
    assert_eq!(q.put_timeout('b', Duration::ZERO), Ok(()));
    assert_eq!(getter.join().unwrap(), Ok('b'));
}

/// The handed-over item outlives a getter that gives up before it runs: it
/// goes to the next getter, and with none waiting it stays for the next get.
#[test]
fn a_handed_over_item_survives_its_getter_being_killed() {
    let q = Queue::rendezvous();
    let getters: Vec<_> = (0..2)
        .map(|i| {
            let q2 = q.clone();
            let g = spawn(move || q2.get());
            until(|| q.getting() == i + 1);
            g
        })
        .collect();
    getters[0].kill();
    q.put(1).unwrap(); // handed to getter 0, which will not take it
    assert!(getters[0].join().is_err());
    // A generous bound turns a lost wake-up into a failure, not a hang.
    assert_eq!(
        getters[1].join_timeout(Duration::from_secs(30)).unwrap(),
        Ok(1)
    );

    let q2 = q.clone();
    let lone = spawn(move || q2.get());
    until(|| q.getting() == 1);
    lone.kill();
    q.put(2).unwrap();
    assert!(lone.join().is_err());
    assert_eq!(q.len(), 1, "kept, not lost");
    assert_eq!(q.try_get(), Ok(2));
}
