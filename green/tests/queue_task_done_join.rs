//! task_done/join: join waits until every item put has been marked done,
//! like Python's queue.Queue.

mod common;
use common::until;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use thicket_green::{spawn, yield_now, Queue, TaskDoneError, WaitError};

#[test]
fn join_returns_at_once_with_no_work_outstanding() {
    let q = Queue::<u8>::unbounded();
    assert_eq!(q.unfinished_tasks(), 0);
    assert_eq!(q.join(), Ok(()));
    assert_eq!(q.join_timeout(Duration::ZERO), Ok(()));
}

#[test]
fn join_waits_until_every_item_is_marked_done() {
    let q = Queue::unbounded();
    let processed = Rc::new(Cell::new(0));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (q, processed) = (q.clone(), processed.clone());
            spawn(move || {
                while let Ok(n) = q.get() {
                    yield_now().unwrap(); // the work takes a while
                    processed.set(processed.get() + n);
                    q.task_done().unwrap();
                }
            })
        })
        .collect();
    for n in 1..=20 {
        q.put(n).unwrap();
    }
    assert_eq!(q.unfinished_tasks(), 20);
    q.join().unwrap();
    assert_eq!(processed.get(), (1..=20).sum::<i32>());
    assert_eq!(q.unfinished_tasks(), 0);
    q.close();
    for w in &workers {
        w.join().unwrap();
    }
}

#[test]
fn taking_an_item_is_not_finishing_it() {
    let q = Queue::unbounded();
    q.put(1).unwrap();
    assert_eq!(q.get(), Ok(1));
    assert_eq!(q.unfinished_tasks(), 1);
    let keep = q.clone();
    assert_eq!(
        q.join_timeout(Duration::from_millis(2)),
        Err(WaitError::TimedOut)
    );
    q.task_done().unwrap();
    assert_eq!(q.join(), Ok(()));
    drop(keep);
}

#[test]
fn task_done_too_many_times_is_an_error() {
    let q = Queue::unbounded();
    assert_eq!(q.task_done(), Err(TaskDoneError));
    q.put(()).unwrap();
    q.task_done().unwrap();
    let err = q.task_done().unwrap_err();
    assert!(err.to_string().contains("task_done()"), "{err}");
}

#[test]
fn every_joiner_is_woken() {
    let q = Queue::unbounded();
    q.put('w').unwrap();
    let woken = Rc::new(Cell::new(0));
    let joiners: Vec<_> = (0..3)
        .map(|_| {
            let (q, woken) = (q.clone(), woken.clone());
            spawn(move || {
                q.join().unwrap();
                woken.set(woken.get() + 1);
            })
        })
        .collect();
    yield_now().unwrap();
    assert_eq!(woken.get(), 0);
    q.get().unwrap();
    q.task_done().unwrap();
    for j in &joiners {
        j.join().unwrap();
    }
    assert_eq!(woken.get(), 3);
}

#[test]
fn items_of_blocked_putters_count_once_accepted() {
    let q = Queue::rendezvous();
    let q2 = q.clone();
    let putter = spawn(move || q2.put(1));
    until(|| q.putting() == 1);
    assert_eq!(q.unfinished_tasks(), 0, "not accepted yet");
    assert_eq!(q.get(), Ok(1));
    assert_eq!(q.unfinished_tasks(), 1);
    q.task_done().unwrap();
    assert!(putter.join().unwrap().is_ok());
    assert_eq!(q.join(), Ok(()));
}
