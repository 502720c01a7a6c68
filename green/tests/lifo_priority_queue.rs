//! LifoQueue and PriorityQueue: their own order, with the Queue API
//! (bounds, blocking, close, rendezvous) shared.

mod common;
use common::until;
use std::cmp::Reverse;

use thicket_green::{spawn, LifoQueue, PriorityQueue, TryPutError, WaitError};

#[test]
fn lifo_hands_out_the_newest_item_first() {
    let q = LifoQueue::unbounded();
    for i in 0..5 {
        q.put(i).unwrap();
    }
    let out: Vec<_> = (0..5).map(|_| q.get().unwrap()).collect();
    assert_eq!(out, vec![4, 3, 2, 1, 0]);
}

#[test]
fn priority_hands_out_the_smallest_item_first() {
    let q = PriorityQueue::unbounded();
    for i in [5, 1, 4, 2, 3, 1] {
        q.put(i).unwrap();
    }
    let out: Vec<_> = (0..6).map(|_| q.get().unwrap()).collect();
    assert_eq!(out, vec![1, 1, 2, 3, 4, 5]);
}

#[test]
fn priority_with_reverse_hands_out_the_largest_first() {
    let q = PriorityQueue::unbounded();
    for i in [2, 9, 4] {
        q.put(Reverse(i)).unwrap();
    }
    assert_eq!(q.get(), Ok(Reverse(9)));
}

#[test]
fn a_blocked_getter_gets_the_smallest_item_present_when_it_runs() {
    let q = PriorityQueue::unbounded();
    let q2 = q.clone();
    let getter = spawn(move || q2.get());
    until(|| q.getting() == 1);
    q.put(3).unwrap();
    q.put(1).unwrap(); // arrives before the woken getter runs
    assert_eq!(getter.join().unwrap(), Ok(1));
    assert_eq!(q.get(), Ok(3));
}

#[test]
fn bounded_lifo_blocks_putters_and_admits_them_as_room_is_made() {
    let q = LifoQueue::bounded(2);
    q.put(1).unwrap();
    q.put(2).unwrap();
    assert_eq!(q.try_put(3), Err(TryPutError::Full(3)));
    let q2 = q.clone();
    let putter = spawn(move || q2.put(3));
    until(|| q.putting() == 1);
    assert_eq!(q.get(), Ok(2));
    // 3 was admitted on top of 1 when room was made.
    assert!(putter.join().unwrap().is_ok());
    assert_eq!(q.get(), Ok(3));
    assert_eq!(q.get(), Ok(1));
}

#[test]
fn bounded_priority_queue_blocks_putters() {
    let q = PriorityQueue::bounded(1);
    q.put(10).unwrap();
    let q2 = q.clone();
    let putter = spawn(move || q2.put(0));
    until(|| q.putting() == 1);
    assert_eq!(q.get(), Ok(10), "the blocked 0 was not in the queue yet");
    assert!(putter.join().unwrap().is_ok());
    assert_eq!(q.get(), Ok(0));
}

#[test]
fn both_close_like_queue() {
    let lifo = LifoQueue::unbounded();
    let prio = PriorityQueue::unbounded();
    lifo.put(1).unwrap();
    prio.put(1).unwrap();
    lifo.close();
    prio.close();
    assert_eq!(lifo.put(2).unwrap_err().into_inner(), 2);
    assert_eq!(prio.put(2).unwrap_err().into_inner(), 2);
    assert_eq!((lifo.get(), prio.get()), (Ok(1), Ok(1)));
    assert_eq!(lifo.get(), Err(WaitError::Closed));
    assert_eq!(prio.get(), Err(WaitError::Closed));
}

#[test]
fn rendezvous_kinds_hand_items_over_in_putter_order() {
    let lifo = LifoQueue::rendezvous();
    let prio = PriorityQueue::rendezvous();
    let putters: Vec<_> = [2, 1]
        .into_iter()
        .enumerate()
        .map(|(n, i)| {
            let (l, p) = (lifo.clone(), prio.clone());
            let gt = spawn(move || (l.put(i).is_ok(), p.put(i).is_ok()));
            until(|| lifo.putting() == n + 1);
            gt
        })
        .collect();
    assert_eq!(lifo.get(), Ok(2));
    until(|| prio.putting() == 1);
    assert_eq!(lifo.get(), Ok(1));
    until(|| prio.putting() == 2);
    assert_eq!(prio.get(), Ok(2));
    assert_eq!(prio.get(), Ok(1));
    for p in &putters {
        assert_eq!(p.join().unwrap(), (true, true));
    }
}

#[test]
fn task_done_and_join_work_for_both() {
    let lifo = LifoQueue::unbounded();
    let prio = PriorityQueue::unbounded();
    lifo.put('a').unwrap();
    prio.put('a').unwrap();
    lifo.get().unwrap();
    prio.get().unwrap();
    lifo.task_done().unwrap();
    prio.task_done().unwrap();
    assert_eq!((lifo.join(), prio.join()), (Ok(()), Ok(())));
    assert_eq!(
        format!("{lifo:?}"),
        "LifoQueue { len: 0, capacity: None, closed: false }"
    );
}
