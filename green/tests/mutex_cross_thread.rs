//! A green Mutex shared by OS threads and green threads on several hubs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use thicket_green::{spawn, yield_now, Mutex, Runtime};

#[test]
fn os_threads_and_green_threads_share_a_mutex() {
    let m = Arc::new(Mutex::new(0u64));
    let os: Vec<_> = (0..3)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    *m.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    let green: Vec<_> = (0..3)
        .map(|_| {
            let m = m.clone();
            spawn(move || {
                for _ in 0..200 {
                    let mut g = m.lock().unwrap();
                    let before = *g;
                    yield_now().unwrap(); // hold it across a switch
                    *g = before + 1;
                }
            })
        })
        .collect();
    for g in &green {
        g.join().unwrap();
    }
    for t in os {
        t.join().unwrap();
    }
    assert_eq!(*m.lock().unwrap(), 1200);
}

#[test]
fn green_threads_on_two_hubs_share_a_mutex() {
    let rt = Runtime::new(2).unwrap();
    let m = Arc::new(Mutex::new(0u64));
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let m = m.clone();
            rt.spawn(move || {
                for _ in 0..100 {
                    let mut g = m.lock().unwrap();
                    let before = *g;
                    yield_now().unwrap();
                    *g = before + 1;
                }
            })
        })
        .collect();
    for w in &workers {
        w.join().unwrap();
    }
    assert_eq!(*m.lock().unwrap(), 600);
}

#[test]
fn a_guard_dropped_on_another_thread_wakes_a_green_waiter() {
    let m = Arc::new(Mutex::new(Vec::new()));
    let guard = m.lock().unwrap();
    let m2 = m.clone();
    let waiter = spawn(move || m2.lock().map(|mut g| g.push("waiter")));
    yield_now().unwrap();
    assert!(!waiter.is_finished());
    let dropped = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut guard = guard;
            guard.push("other thread");
            drop(guard);
            dropped.store(true, Ordering::SeqCst);
        });
    });
    assert!(dropped.load(Ordering::SeqCst));
    assert_eq!(waiter.join().unwrap(), Ok(()));
    assert_eq!(*m.lock().unwrap(), ["other thread", "waiter"]);
}
