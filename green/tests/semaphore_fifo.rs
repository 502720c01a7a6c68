//! A Semaphore serves waiters in arrival order and hands a released permit
//! straight to the longest waiter, so nobody can take it first.

use std::cell::RefCell;
use std::rc::Rc;

use thicket_green::{spawn, yield_now, Semaphore, WaitError};

#[test]
fn waiters_are_served_in_arrival_order() {
    let sem = Semaphore::new(0);
    let order = Rc::new(RefCell::new(Vec::new()));
    let waiters: Vec<_> = (0..5)
        .map(|i| {
            let (sem, order) = (sem.clone(), order.clone());
            spawn(move || {
                let _permit = sem.acquire()?;
                order.borrow_mut().push(i);
                Ok::<(), WaitError>(())
            })
        })
        .collect();
    yield_now().unwrap(); // every waiter runs once and parks
    assert_eq!(sem.waiting(), 5);
    sem.release(); // passed from each waiter to the next as it drops it
    for w in &waiters {
        w.join().unwrap().unwrap();
    }
    assert_eq!(*order.borrow(), [0, 1, 2, 3, 4]);
    assert_eq!(sem.available(), 1);
    assert_eq!(sem.waiting(), 0);
}

#[test]
fn a_release_hands_the_permit_to_the_waiter_not_to_a_newcomer() {
    let sem = Semaphore::new(1);
    let held = sem.acquire().unwrap();
    let s = sem.clone();
    let waiter = spawn(move || s.acquire().map(|p| p.forget()));
    yield_now().unwrap();
    assert_eq!(sem.waiting(), 1);

    drop(held);
    // The permit now belongs to the waiter, which has not run yet.
    assert_eq!(sem.waiting(), 0);
    assert_eq!(sem.available(), 0);
    assert!(sem.try_acquire().is_none(), "a newcomer barged in");
    assert_eq!(waiter.join().unwrap(), Ok(()));
    assert_eq!(sem.available(), 0, "the waiter forgot its permit");
}

#[test]
fn a_blocking_newcomer_queues_behind_earlier_waiters() {
    let sem = Semaphore::new(0);
    let order = Rc::new(RefCell::new(Vec::new()));
    let spawn_waiter = |name: &'static str| {
        let (sem, order) = (sem.clone(), order.clone());
        spawn(move || {
            sem.acquire()?.forget();
            order.borrow_mut().push(name);
            Ok::<(), WaitError>(())
        })
    };
    let first = spawn_waiter("first");
    yield_now().unwrap();
    sem.release(); // handed to `first`, which has not run yet
    let late = spawn_waiter("late");
    yield_now().unwrap();
    first.join().unwrap().unwrap();
    assert_eq!(
        sem.waiting(),
        1,
        "the late waiter must wait for its own release"
    );
    sem.release();
    late.join().unwrap().unwrap();
    assert_eq!(*order.borrow(), ["first", "late"]);
}

#[test]
fn a_failed_try_acquire_gives_nothing_back() {
    let sem = Semaphore::new(1);
    let p = sem.try_acquire().expect("one permit is free");
    assert!(sem.try_acquire().is_none());
    assert_eq!(
        sem.available(),
        0,
        "the failed try must not release a permit"
    );
    drop(p);
    assert_eq!(sem.available(), 1);
}

#[test]
fn release_without_acquire_grows_the_count() {
    let sem = Semaphore::new(0);
    sem.release();
    sem.release();
    assert_eq!(sem.available(), 2);
    let a = sem.acquire().unwrap();
    let b = sem.acquire().unwrap();
    assert!(sem.try_acquire().is_none());
    drop((a, b));
    assert_eq!(sem.available(), 2);
}
