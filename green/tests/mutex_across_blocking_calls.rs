//! A green Mutex may be held across blocking green calls: waiting for it
//! parks the green thread, and the hub keeps running everything else.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use thicket_green::{sleep, spawn, yield_now, Mutex, Semaphore, WaitError};

#[test]
fn nobody_gets_in_while_the_holder_sleeps() {
    let m = Rc::new(Mutex::new(0u32));
    let inside = Rc::new(Cell::new(0));
    let overlaps = Rc::new(Cell::new(0));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (m, inside, overlaps) = (m.clone(), inside.clone(), overlaps.clone());
            spawn(move || {
                for _ in 0..3 {
                    let mut g = m.lock()?;
                    inside.set(inside.get() + 1);
                    if inside.get() > 1 {
                        overlaps.set(overlaps.get() + 1);
                    }
                    sleep(Duration::from_micros(200))?; // held across a park
                    *g += 1;
                    inside.set(inside.get() - 1);
                }
                Ok::<(), WaitError>(())
            })
        })
        .collect();
    for w in &workers {
        w.join().unwrap().unwrap();
    }
    assert_eq!(overlaps.get(), 0);
    assert_eq!(*m.lock().unwrap(), 12);
}

#[test]
fn other_green_threads_run_while_the_lock_is_held_across_a_wait() {
    let m = Rc::new(Mutex::new(Vec::new()));
    let gate = Semaphore::new(0);
    let (m1, g1) = (m.clone(), gate.clone());
    let holder = spawn(move || {
        let mut v = m1.lock()?;
        v.push("holder in");
        g1.acquire()?.forget(); // blocks with the lock held
        v.push("holder out");
        Ok::<(), WaitError>(())
    });
    let m2 = m.clone();
    let contender = spawn(move || {
        m2.lock()?.push("contender");
        Ok::<(), WaitError>(())
    });
    let bystander_ran = Rc::new(Cell::new(false));
    let b = bystander_ran.clone();
    let bystander = spawn(move || b.set(true));
    bystander.join().unwrap();
    assert!(
        bystander_ran.get(),
        "the hub kept running other green threads"
    );
    assert!(m.is_locked());
    assert!(!contender.is_finished());

    gate.release();
    holder.join().unwrap().unwrap();
    contender.join().unwrap().unwrap();
    assert_eq!(*m.lock().unwrap(), ["holder in", "holder out", "contender"]);
}

#[test]
fn plain_code_waiting_for_the_lock_drives_the_hub() {
    let m = Rc::new(Mutex::new(0));
    let log = Rc::new(RefCell::new(Vec::new()));
    let (m1, l1) = (m.clone(), log.clone());
    let holder = spawn(move || {
        let mut g = m1.lock().unwrap();
        l1.borrow_mut().push("locked");
        sleep(Duration::from_millis(1)).unwrap();
        *g = 7;
        l1.borrow_mut().push("unlocking");
    });
    yield_now().unwrap();
    // main (not a green thread) parks here until the holder hands it over.
    let g = m.lock().unwrap();
    assert_eq!(*g, 7);
    assert_eq!(*log.borrow(), ["locked", "unlocking"]);
    drop(g);
    holder.join().unwrap();
}

#[test]
fn get_mut_and_into_inner_need_no_lock() {
    let mut m = Mutex::new(String::from("a"));
    m.get_mut().push('b');
    assert_eq!(m.into_inner(), "ab");
}
