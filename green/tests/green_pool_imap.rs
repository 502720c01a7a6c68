//! GreenPool::imap and imap_unordered: order, bounded work in flight,
//! errors in place, laziness, and a consumer's failed wait losing nothing.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use thicket_green::{sleep, with_timeout, Elapsed, GreenPool, JoinError, Semaphore};

#[test]
fn imap_yields_results_in_input_order() {
    let pool = GreenPool::new(4);
    // Later items finish first.
    let out: Vec<u64> = pool
        .imap(
            |ms: u64| {
                sleep(Duration::from_millis(ms)).unwrap();
                ms
            },
            [8, 6, 4, 2, 0],
        )
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, [8, 6, 4, 2, 0]);
}

#[test]
fn imap_keeps_at_most_size_calls_in_flight() {
    let pool = GreenPool::new(3);
    let started = Rc::new(Cell::new(0usize));
    let inside = Rc::new(Cell::new(0usize));
    let most_inside = Rc::new(Cell::new(0usize));
    let (s, i, m) = (started.clone(), inside.clone(), most_inside.clone());
    let results = pool.imap(
        move |n: usize| {
            s.set(s.get() + 1);
            i.set(i.get() + 1);
            m.set(m.get().max(i.get()));
            thicket_green::yield_now().unwrap();
            i.set(i.get() - 1);
            n
        },
        0..20,
    );
    let mut consumed = 0;
    let mut most_unread = 0;
    for r in results {
        assert_eq!(r.unwrap(), consumed);
        consumed += 1;
        // Started but not yet handed to us: results held at once.
        most_unread = most_unread.max(started.get() - consumed);
    }
    assert_eq!(consumed, 20);
    assert_eq!(most_inside.get(), 3);
    assert!(
        most_unread < 3,
        "held {most_unread} results beyond the pool size"
    );
    assert_eq!(pool.running(), 0);
}

#[test]
fn imap_is_lazy_on_an_endless_input() {
    let pool = GreenPool::new(2);
    let started = Rc::new(Cell::new(0u64));
    let s = started.clone();
    let first: Vec<u64> = pool
        .imap(
            move |n: u64| {
                s.set(s.get() + 1);
                n * n
            },
            0..,
        )
        .take(4)
        .map(Result::unwrap)
        .collect();
    assert_eq!(first, [0, 1, 4, 9]);
    assert!(started.get() <= 4 + 2, "started {} calls", started.get());
    pool.waitall().unwrap();
}

#[test]
fn a_panicking_call_yields_its_error_in_place() {
    let pool = GreenPool::new(2);
    let out: Vec<Result<u8, JoinError>> = pool
        .imap(
            |n: u8| {
                assert!(n != 1, "no ones");
                n
            },
            0..3,
        )
        .collect();
    assert!(matches!(out[0], Ok(0)));
    assert_eq!(
        out[1].as_ref().unwrap_err().panic_message(),
        Some("no ones")
    );
    assert!(matches!(out[2], Ok(2)));
    assert_eq!(pool.running(), 0);
}

#[test]
fn imap_unordered_yields_results_as_they_complete() {
    let pool = GreenPool::new(3);
    let gates: Rc<Vec<Semaphore>> = Rc::new((0..3).map(|_| Semaphore::new(0)).collect());
    let g = gates.clone();
    let mut results = pool.imap_unordered(
        move |i: usize| {
            g[i].acquire().unwrap().forget();
            i
        },
        0..3,
    );
    for expected in [2, 0, 1] {
        gates[expected].release();
        assert_eq!(results.next().unwrap().unwrap(), expected);
    }
    assert!(results.next().is_none());
}

#[test]
fn imap_unordered_keeps_at_most_size_calls_in_flight() {
    let pool = GreenPool::new(2);
    let inside = Rc::new(Cell::new(0usize));
    let most = Rc::new(Cell::new(0usize));
    let (i, m) = (inside.clone(), most.clone());
    let mut out: Vec<u32> = pool
        .imap_unordered(
            move |n: u32| {
                i.set(i.get() + 1);
                m.set(m.get().max(i.get()));
                sleep(Duration::from_micros(u64::from(n % 3) * 100)).unwrap();
                i.set(i.get() - 1);
                n
            },
            0..12,
        )
        .map(Result::unwrap)
        .collect();
    out.sort_unstable();
    assert_eq!(out, (0..12).collect::<Vec<_>>());
    assert_eq!(most.get(), 2);
}

#[test]
fn imap_unordered_reports_panicking_calls() {
    let pool = GreenPool::new(2);
    let errors = pool
        .imap_unordered(
            |n: u8| {
                assert!(n % 2 == 0, "odd");
                n
            },
            0..4,
        )
        .filter(Result::is_err)
        .count();
    assert_eq!(errors, 2);
}

#[test]
fn a_consumer_whose_wait_times_out_loses_nothing() {
    let pool = GreenPool::new(2);
    let gate = Semaphore::new(0);
    let g = gate.clone();
    let mut results = pool.imap(
        move |n: u32| {
            if n == 0 {
                g.acquire().unwrap().forget();
            }
            n
        },
        0..3,
    );
    let r = with_timeout(Duration::from_millis(2), || results.next());
    assert_eq!(r.map(|_| ()), Err(Elapsed));
    gate.release();
    let rest: Vec<u32> = results.map(Result::unwrap).collect();
    assert_eq!(rest, [0, 1, 2]);
}

#[test]
fn an_unordered_consumer_whose_wait_times_out_loses_nothing() {
    let pool = GreenPool::new(2);
    let gate = Semaphore::new(0);
    let g = gate.clone();
    let mut results = pool.imap_unordered(
        move |n: u32| {
            g.acquire().unwrap().forget();
            n
        },
        0..2,
    );
    let r = with_timeout(Duration::from_millis(2), || results.next());
    assert_eq!(r.map(|_| ()), Err(Elapsed));
    gate.release();
    gate.release();
    let mut rest: Vec<u32> = results.map(Result::unwrap).collect();
    rest.sort_unstable();
    assert_eq!(rest, [0, 1]);
}
