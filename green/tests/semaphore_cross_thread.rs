//! A Semaphore shared with OS threads and with green threads on other hubs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use thicket_green::{yield_now, Runtime, Semaphore};

#[test]
fn ping_pong_with_an_os_thread() {
    let ping = Semaphore::new(0);
    let pong = Semaphore::new(0);
    let (pi, po) = (ping.clone(), pong.clone());
    let other = std::thread::spawn(move || {
        for _ in 0..200 {
            // Plain code on another OS thread: parks on its own hub.
            pi.acquire().unwrap().forget();
            po.release();
        }
    });
    for _ in 0..200 {
        ping.release();
        pong.acquire().unwrap().forget();
    }
    other.join().unwrap();
    assert_eq!(ping.available(), 0);
    assert_eq!(pong.available(), 0);
}

#[test]
fn green_threads_on_two_hubs_share_one_permit() {
    let rt = Runtime::new(2).unwrap();
    let sem = Semaphore::new(1);
    let inside = Arc::new(AtomicUsize::new(0));
    let overlaps = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let (sem, inside, overlaps) = (sem.clone(), inside.clone(), overlaps.clone());
            rt.spawn(move || {
                for _ in 0..50 {
                    let _p = sem.acquire().unwrap();
                    if inside.fetch_add(1, Ordering::SeqCst) != 0 {
                        overlaps.fetch_add(1, Ordering::SeqCst);
                    }
                    yield_now().unwrap(); // hold the permit across a switch
                    inside.fetch_sub(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for w in &workers {
        w.join().unwrap();
    }
    assert_eq!(overlaps.load(Ordering::SeqCst), 0);
    assert_eq!(sem.available(), 1);
    assert_eq!(sem.waiting(), 0);
}
