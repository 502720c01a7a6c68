//! A queue wait that nothing could ever end is reported, naming the call,
//! instead of hanging.

use thicket_green::{LifoQueue, PriorityQueue, Queue, WaitError};

#[test]
fn get_on_an_empty_queue_nobody_else_holds() {
    assert_eq!(
        Queue::<i32>::unbounded().get(),
        Err(WaitError::Deadlock {
            waiting_for: "Queue::get"
        })
    );
    assert_eq!(
        LifoQueue::<i32>::unbounded().get(),
        Err(WaitError::Deadlock {
            waiting_for: "LifoQueue::get"
        })
    );
    assert_eq!(
        PriorityQueue::<i32>::unbounded().get(),
        Err(WaitError::Deadlock {
            waiting_for: "PriorityQueue::get"
        })
    );
}

#[test]
fn put_on_a_full_queue_nobody_else_holds_hands_the_item_back() {
    let q = Queue::bounded(1);
    q.put(1).unwrap();
    let err = q.put(2).unwrap_err();
    assert_eq!(
        err.error(),
        WaitError::Deadlock {
            waiting_for: "Queue::put"
        }
    );
    assert_eq!(err.into_inner(), 2);
    assert_eq!(q.len(), 1);
    assert_eq!(q.putting(), 0, "the failed put left no offer behind");
}

#[test]
fn put_on_a_rendezvous_queue_with_no_getter() {
    let q = Queue::rendezvous();
    let err = q.put("x").unwrap_err();
    assert_eq!(
        err.error(),
        WaitError::Deadlock {
            waiting_for: "Queue::put"
        }
    );
    assert_eq!(*err.item(), "x");
}

#[test]
fn join_with_unfinished_work_nobody_else_could_finish() {
    let q = Queue::unbounded();
    q.put(1).unwrap();
    assert_eq!(
        q.join(),
        Err(WaitError::Deadlock {
            waiting_for: "Queue::join"
        })
    );
}
