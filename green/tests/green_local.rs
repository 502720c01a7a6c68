//! green_local!: one lazily initialised value per green thread (and per OS
//! thread's plain code), dropped when its green thread finishes.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use thicket_green::{green_local, sleep, spawn, yield_now, Semaphore};

green_local! {
    static COUNTER: Cell<u32> = Cell::new(0);
    static NAMES: RefCell<Vec<String>> = RefCell::new(Vec::new());
}

#[test]
fn each_green_thread_has_its_own_value() {
    let threads: Vec<_> = (1..=3)
        .map(|n| {
            spawn(move || {
                for _ in 0..n {
                    COUNTER.set(COUNTER.get() + 1);
                    yield_now().unwrap(); // interleave with the others
                }
                COUNTER.get()
            })
        })
        .collect();
    let counts: Vec<u32> = threads.iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(counts, [1, 2, 3]);
}

#[test]
fn plain_code_has_its_own_value_per_os_thread() {
    NAMES.with_borrow_mut(|v| v.push("main".into()));
    let green = spawn(|| NAMES.with_borrow(Vec::len)).join().unwrap();
    assert_eq!(green, 0, "a green thread starts from the initialiser");
    let other = std::thread::spawn(|| {
        NAMES.with_borrow_mut(|v| v.push("other".into()));
        NAMES.take()
    })
    .join()
    .unwrap();
    assert_eq!(other, ["other"]);
    assert_eq!(NAMES.take(), ["main"]);
}

static INITS: AtomicUsize = AtomicUsize::new(0);

green_local!(static LAZY: u64 = {
    INITS.fetch_add(1, Ordering::SeqCst);
    7
});

#[test]
fn values_are_initialised_lazily_once_per_green_thread() {
    let untouched = spawn(|| ());
    untouched.join().unwrap();
    assert_eq!(INITS.load(Ordering::SeqCst), 0);
    let touched = spawn(|| LAZY.with(|v| *v) + LAZY.with(|v| *v) + LAZY.with(|v| *v));
    assert_eq!(touched.join().unwrap(), 21);
    assert_eq!(INITS.load(Ordering::SeqCst), 1);
}

static DROPS: AtomicUsize = AtomicUsize::new(0);

struct Tracked;

impl Drop for Tracked {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

green_local!(static TRACKED: Tracked = Tracked);

#[test]
fn values_are_dropped_when_their_green_thread_finishes() {
    let gate = Semaphore::new(0);
    let g = gate.clone();
    let holder = spawn(move || {
        TRACKED.with(|_| ());
        g.acquire().unwrap().forget();
    });
    yield_now().unwrap();
    assert_eq!(DROPS.load(Ordering::SeqCst), 0, "alive while its thread is");
    gate.release();
    holder.join().unwrap();
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        1,
        "dropped by the time join returns"
    );

    let killed = spawn(|| {
        TRACKED.with(|_| ());
        let _ = sleep(Duration::from_secs(3600));
    });
    yield_now().unwrap();
    killed.kill();
    let _ = killed.join();
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        2,
        "a killed thread's value too"
    );
}

green_local! {
    static OUTER: Cell<u32> = Cell::new(INNER.with(Cell::get) + 1);
    static INNER: Cell<u32> = Cell::new(10);
}

#[test]
fn initialisers_and_closures_may_use_other_keys_and_block() {
    let gt = spawn(|| {
        let outer = OUTER.get(); // its initialiser reads INNER
        INNER.with(|inner| {
            inner.set(20);
            OUTER.with(|o| {
                sleep(Duration::from_millis(1)).unwrap(); // blocking inside with
                o.set(o.get() + inner.get());
            });
        });
        (outer, OUTER.get())
    });
    assert_eq!(gt.join().unwrap(), (11, 31));
}

#[test]
fn cell_and_refcell_helpers() {
    let gt = spawn(|| {
        COUNTER.set(5);
        let old = COUNTER.replace(6);
        let taken = COUNTER.take();
        NAMES.set(vec!["x".into()]);
        let replaced = NAMES.replace(vec!["y".into()]);
        NAMES.with_borrow_mut(|v| v.push("z".into()));
        (
            old,
            taken,
            COUNTER.get(),
            replaced,
            NAMES.with_borrow(Vec::clone),
        )
    });
    let (old, taken, now, replaced, names) = gt.join().unwrap();
    assert_eq!((old, taken, now), (5, 6, 0));
    assert_eq!(replaced, ["x"]);
    assert_eq!(names, ["y", "z"]);
}
