//! Closing a queue: getters drain what is left and then see Closed; putters,
//! blocked or not, get their item back with Closed.

mod common;
use common::until;
use std::cell::RefCell;
use std::rc::Rc;

use thicket_green::{spawn, Queue, TryGetError, TryPutError, WaitError};

#[test]
fn getters_drain_what_is_left_then_see_closed() {
    let q = Queue::unbounded();
    for i in 0..3 {
        q.put(i).unwrap();
    }
    q.close();
    assert!(q.is_closed());
    assert_eq!(q.len(), 3);
    assert_eq!(q.get(), Ok(0));
    assert_eq!(q.try_get(), Ok(1));
    assert_eq!(q.get(), Ok(2));
    assert_eq!(q.get(), Err(WaitError::Closed));
    assert_eq!(q.try_get(), Err(TryGetError::Closed));
}

#[test]
fn puts_after_close_hand_the_item_back() {
    let q = Queue::unbounded();
    q.close();
    let err = q.put(String::from("kept")).unwrap_err();
    assert_eq!(err.error(), WaitError::Closed);
    assert_eq!(err.into_inner(), "kept");
    assert_eq!(
        q.try_put(7.to_string()),
        Err(TryPutError::Closed("7".into()))
    );
    assert!(q.is_empty());
}

#[test]
fn closing_wakes_blocked_getters_with_closed() {
    let q = Queue::<u8>::unbounded();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let getters: Vec<_> = (0..3)
        .map(|_| {
            let (q, seen) = (q.clone(), seen.clone());
            spawn(move || {
                let r = q.get();
                seen.borrow_mut().push(r);
            })
        })
        .collect();
    until(|| q.getting() == 3);
    q.close();
    for g in &getters {
        g.join().unwrap();
    }
    assert_eq!(*seen.borrow(), vec![Err(WaitError::Closed); 3]);
}

#[test]
fn closing_hands_blocked_putters_their_items_back() {
    let q = Queue::bounded(1);
    q.put(0).unwrap();
    let putters: Vec<_> = (1..=2)
        .map(|i| {
            let q = q.clone();
            spawn(move || q.put(i).map_err(|e| (e.error(), e.into_inner())))
        })
        .collect();
    until(|| q.putting() == 2);
    q.close();
    assert_eq!(putters[0].join().unwrap(), Err((WaitError::Closed, 1)));
    assert_eq!(putters[1].join().unwrap(), Err((WaitError::Closed, 2)));
    // What had been accepted before the close is still there.
    assert_eq!(q.get(), Ok(0));
    assert_eq!(q.get(), Err(WaitError::Closed));
}

#[test]
fn closing_a_rendezvous_queue_hands_the_offer_back() {
    let q = Queue::rendezvous();
    let q2 = q.clone();
    let putter = spawn(move || q2.put('r').map_err(|e| (e.error(), e.into_inner())));
    until(|| q.putting() == 1);
    q.close();
    assert_eq!(putter.join().unwrap(), Err((WaitError::Closed, 'r')));
    assert_eq!(
        q.get(),
        Err(WaitError::Closed),
        "the offer was not accepted"
    );
}

#[test]
fn closing_twice_changes_nothing() {
    let q = Queue::unbounded();
    q.put(1).unwrap();
    q.close();
    q.close();
    assert_eq!(q.get(), Ok(1));
    assert_eq!(q.get(), Err(WaitError::Closed));
}

#[test]
fn a_consumer_loop_ends_when_the_producer_closes() {
    let q = Queue::bounded(2);
    let consumer = {
        let q = q.clone();
        spawn(move || {
            let mut got = Vec::new();
            while let Ok(v) = q.get() {
                got.push(v);
            }
            got
        })
    };
    for i in 0..10 {
        q.put(i).unwrap();
    }
    q.close();
    assert_eq!(consumer.join().unwrap(), (0..10).collect::<Vec<_>>());
}
