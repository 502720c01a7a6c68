//! A green Mutex is handed to lockers in arrival order; nobody barges in.

use std::cell::RefCell;
use std::rc::Rc;

use thicket_green::{spawn, yield_now, Mutex, WaitError};

#[test]
fn lockers_get_the_lock_in_arrival_order() {
    let m = Rc::new(Mutex::new(Vec::new()));
    let held = m.lock().unwrap();
    let lockers: Vec<_> = (0..5)
        .map(|i| {
            let m = m.clone();
            spawn(move || {
                m.lock()?.push(i);
                Ok::<(), WaitError>(())
            })
        })
        .collect();
    yield_now().unwrap(); // all five queue up
    drop(held);
    for l in &lockers {
        l.join().unwrap().unwrap();
    }
    assert_eq!(*m.lock().unwrap(), [0, 1, 2, 3, 4]);
}

#[test]
fn try_lock_cannot_barge_past_a_waiter() {
    let m = Rc::new(Mutex::new(()));
    let held = m.lock().unwrap();
    let m2 = m.clone();
    let waiter = spawn(move || m2.lock().map(drop));
    yield_now().unwrap();
    drop(held);
    // Handed to the waiter, which has not run yet.
    assert!(m.is_locked());
    assert!(m.try_lock().is_none(), "a newcomer barged in");
    assert_eq!(waiter.join().unwrap(), Ok(()));
    assert!(m.try_lock().is_some());
}

#[test]
fn a_blocking_newcomer_queues_behind_the_waiter_it_was_handed_to() {
    let m = Rc::new(Mutex::new(()));
    let order = Rc::new(RefCell::new(Vec::new()));
    let locker = |name: &'static str| {
        let (m, order) = (m.clone(), order.clone());
        spawn(move || {
            let _g = m.lock()?;
            order.borrow_mut().push(name);
            Ok::<(), WaitError>(())
        })
    };
    let held = m.lock().unwrap();
    let first = locker("first");
    yield_now().unwrap();
    drop(held); // handed to `first`
    let late = locker("late");
    first.join().unwrap().unwrap();
    late.join().unwrap().unwrap();
    assert_eq!(*order.borrow(), ["first", "late"]);
    assert!(!m.is_locked());
}
