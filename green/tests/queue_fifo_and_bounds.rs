//! Queue: FIFO order, capacity and the blocking it causes, fairness among
//! blocked getters and putters, resize, and the small accessors.

mod common;
use common::until;
use std::cell::RefCell;
use std::rc::Rc;

use thicket_green::{spawn, Queue, TryGetError, TryPutError};

#[test]
fn items_come_out_in_the_order_they_went_in() {
    let q = Queue::unbounded();
    for i in 0..100 {
        q.put(i).unwrap();
    }
    assert_eq!(q.len(), 100);
    let out: Vec<_> = (0..100).map(|_| q.get().unwrap()).collect();
    assert_eq!(out, (0..100).collect::<Vec<_>>());
    assert!(q.is_empty());
}

#[test]
fn constructors_report_their_capacity() {
    assert_eq!(Queue::<u8>::unbounded().capacity(), None);
    assert_eq!(Queue::<u8>::default().capacity(), None);
    assert_eq!(Queue::<u8>::bounded(3).capacity(), Some(3));
    assert_eq!(Queue::<u8>::rendezvous().capacity(), Some(0));
}

#[test]
#[should_panic(expected = "Queue::bounded(0): capacity must be at least 1")]
fn bounded_zero_is_refused_with_a_pointer_to_rendezvous() {
    let _ = Queue::<u8>::bounded(0);
}

#[test]
fn a_full_bounded_queue_refuses_try_put_and_gives_the_item_back() {
    let q = Queue::bounded(2);
    q.try_put('a').unwrap();
    assert!(!q.is_full());
    q.try_put('b').unwrap();
    assert!(q.is_full());
    assert_eq!(q.try_put('c'), Err(TryPutError::Full('c')));
    assert_eq!(q.try_get(), Ok('a'));
    q.try_put('c').unwrap();
    assert_eq!(q.len(), 2);
}

#[test]
fn try_get_on_an_empty_queue_is_empty() {
    let q = Queue::<u8>::unbounded();
    assert_eq!(q.try_get(), Err(TryGetError::Empty));
}

#[test]
fn put_blocks_while_full_and_resumes_when_a_get_makes_room() {
    let q = Queue::bounded(1);
    q.put(1).unwrap();
    let q2 = q.clone();
    let putter = spawn(move || q2.put(2));
    until(|| q.putting() == 1);
    assert!(!putter.is_finished());
    assert_eq!(q.len(), 1, "the blocked item is not in the queue yet");
    assert_eq!(q.get(), Ok(1));
    // The get moved the waiting item in at once.
    assert_eq!(q.len(), 1);
    assert_eq!(q.putting(), 0);
    assert!(putter.join().unwrap().is_ok());
    assert_eq!(q.get(), Ok(2));
}

#[test]
fn blocked_getters_are_served_in_arrival_order() {
    let q = Queue::unbounded();
    let got = Rc::new(RefCell::new(Vec::new()));
    let getters: Vec<_> = (0..3)
        .map(|i| {
            let (q2, got) = (q.clone(), got.clone());
            let g = spawn(move || {
                let v = q2.get().unwrap();
                got.borrow_mut().push((i, v));
            });
            until(|| q.getting() == i + 1);
            g
        })
        .collect();
    for v in ["x", "y", "z"] {
        q.put(v).unwrap();
    }
    // A newcomer cannot take items promised to the woken getters.
    assert_eq!(q.try_get(), Err(TryGetError::Empty));
    for g in &getters {
        g.join().unwrap();
    }
    assert_eq!(*got.borrow(), vec![(0, "x"), (1, "y"), (2, "z")]);
}

#[test]
fn blocked_putters_are_served_in_arrival_order() {
    let q = Queue::bounded(1);
    q.put(0).unwrap();
    let putters: Vec<_> = (1..=3)
        .map(|i| {
            let q2 = q.clone();
            let p = spawn(move || q2.put(i));
            until(|| q.putting() == i);
            p
        })
        .collect();
    // A newcomer waits behind them, even right after room is made.
    assert_eq!(q.get(), Ok(0));
    assert_eq!(q.try_put(99), Err(TryPutError::Full(99)));
    let out: Vec<_> = (0..3).map(|_| q.get().unwrap()).collect();
    assert_eq!(out, vec![1, 2, 3]);
    for p in &putters {
        assert!(p.join().unwrap().is_ok());
    }
}

#[test]
fn growing_admits_blocked_putters_oldest_first() {
    let q = Queue::bounded(1);
    q.put(0).unwrap();
    let putters: Vec<_> = (1..=3)
        .map(|i| {
            let q2 = q.clone();
            let p = spawn(move || q2.put(i));
            until(|| q.putting() == i);
            p
        })
        .collect();
    q.resize(Some(3));
    assert_eq!(q.len(), 3);
    assert_eq!(q.putting(), 1);
    assert!(putters[0].join().unwrap().is_ok());
    assert!(putters[1].join().unwrap().is_ok());
    assert!(!putters[2].is_finished());
    q.resize(None);
    assert!(putters[2].join().unwrap().is_ok());
    let out: Vec<_> = (0..4).map(|_| q.get().unwrap()).collect();
    assert_eq!(out, vec![0, 1, 2, 3]);
}

#[test]
fn shrinking_keeps_every_item() {
    let q = Queue::unbounded();
    for i in 0..5 {
        q.put(i).unwrap();
    }
    q.resize(Some(2));
    assert_eq!(q.capacity(), Some(2));
    assert_eq!(q.len(), 5);
    assert!(q.is_full());
    assert_eq!(q.try_put(5), Err(TryPutError::Full(5)));
    let out: Vec<_> = (0..5).map(|_| q.try_get().unwrap()).collect();
    assert_eq!(out, vec![0, 1, 2, 3, 4]);
    q.try_put(5).unwrap();
}

#[test]
fn queue_debug_shows_len_capacity_and_closed() {
    let q = Queue::bounded(4);
    q.put(1).unwrap();
    assert_eq!(
        format!("{q:?}"),
        "Queue { len: 1, capacity: Some(4), closed: false }"
    );
}

#[test]
fn handles_are_send_sync_and_clone_for_send_items() {
    fn check<T: Send + Sync + Clone>() {}
    check::<Queue<String>>();
    check::<thicket_green::LifoQueue<String>>();
    check::<thicket_green::PriorityQueue<String>>();
}
