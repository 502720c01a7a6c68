//! Async watchers woken from other threads.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Barrier};

use thicket_hub::{Async, Loop};

#[test]
fn sends_from_many_threads_all_arrive() {
    let lp = Loop::new().unwrap();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let w = Async::new(&lp, move |w| {
        c.set(c.get() + 1);
        if done_rx.try_recv().is_ok() {
            w.stop();
        }
    });
    w.start();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let s = w.sender();
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    s.send();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    done_tx.send(()).unwrap();
    w.sender().send();
    lp.run().unwrap();
    assert!(calls.get() >= 1);
    assert!(calls.get() <= 4001);
}

#[test]
fn many_sends_before_the_loop_runs_coalesce_into_one_call() {
    let lp = Loop::new().unwrap();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let w = Async::new(&lp, move |_| c.set(c.get() + 1));
    w.start();
    let s = w.sender();
    let barrier = Arc::new(Barrier::new(2));
    let b = barrier.clone();
    let t = std::thread::spawn(move || {
        for _ in 0..100 {
            s.send();
        }
        b.wait();
    });
    barrier.wait();
    t.join().unwrap();
    lp.run_once(None).unwrap();
    assert_eq!(calls.get(), 1);
    lp.run_nowait().unwrap();
    assert_eq!(calls.get(), 1);
}

#[test]
fn a_send_to_a_stopped_watcher_is_delivered_on_start() {
    let lp = Loop::new().unwrap();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let w = Async::new(&lp, move |w| {
        c.set(c.get() + 1);
        w.stop();
    });
    let s = w.sender();
    std::thread::spawn(move || s.send()).join().unwrap();
    lp.run_nowait().unwrap();
    assert_eq!(calls.get(), 0);
    w.start();
    lp.run().unwrap();
    assert_eq!(calls.get(), 1);
}

#[test]
fn an_unreferenced_async_still_wakes_run_once() {
    let lp = Loop::new().unwrap();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let w = Async::new(&lp, move |_| c.set(c.get() + 1));
    w.start();
    w.set_ref(false);
    assert!(!lp.is_alive());
    let s = w.sender();
    let t = std::thread::spawn(move || s.send());
    // Blocks until the other thread's send arrives.
    while calls.get() == 0 {
        lp.run_once(None).unwrap();
    }
    t.join().unwrap();
    assert_eq!(calls.get(), 1);
}

#[test]
fn sending_after_the_loop_is_gone_is_harmless() {
    let s = {
        let lp = Loop::new().unwrap();
        let w = Async::new(&lp, |_| {});
        w.sender()
    };
    s.send();
    s.send();
}
