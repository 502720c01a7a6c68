//! Timers fire by deadline, ties in start order, and never in the iteration
//! that started them.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use proptest::prelude::*;
use thicket_hub::{Loop, Timer};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn fire_in_deadline_order_ties_in_start_order() {
    let lp = Loop::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let afters = [3, 1, 2, 1, 0, 3, 0];
    let timers: Vec<Timer> = afters
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let log = log.clone();
            Timer::new(&lp, move |_| log.borrow_mut().push(i))
        })
        .collect();
    for (t, a) in timers.iter().zip(afters) {
        t.start(ms(a));
    }
    lp.run().unwrap();
    assert_eq!(*log.borrow(), vec![4, 6, 1, 3, 2, 0, 5]);
}

#[test]
fn timer_started_in_callback_fires_in_later_iteration() {
    let lp = Loop::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let inner = {
        let log = log.clone();
        Rc::new(Timer::new(&lp, move |t| {
            log.borrow_mut().push(("inner", t.get_loop().iteration()))
        }))
    };
    let outer = {
        let log = log.clone();
        let inner = inner.clone();
        Timer::new(&lp, move |t| {
            log.borrow_mut().push(("outer", t.get_loop().iteration()));
            inner.start(Duration::ZERO);
        })
    };
    outer.start(Duration::ZERO);
    lp.run().unwrap();
    let log = log.borrow();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].0, "outer");
    assert_eq!(log[1].0, "inner");
    assert!(
        log[1].1 > log[0].1,
        "inner fired in the same iteration: {log:?}"
    );
}

#[test]
fn stopped_timer_never_fires() {
    let lp = Loop::new().unwrap();
    let fired = Rc::new(RefCell::new(0));
    let f = fired.clone();
    let t = Timer::new(&lp, move |_| *f.borrow_mut() += 1);
    t.start(ms(1));
    assert!(t.is_active());
    t.stop();
    assert!(!t.is_active());
    assert!(t.remaining().is_none());
    lp.run().unwrap();
    assert_eq!(*fired.borrow(), 0);
}

#[test]
fn timer_stopped_by_earlier_callback_in_same_iteration_does_not_run() {
    let lp = Loop::new().unwrap();
    let fired = Rc::new(RefCell::new(Vec::new()));
    let second = {
        let f = fired.clone();
        Rc::new(Timer::new(&lp, move |_| f.borrow_mut().push("second")))
    };
    let first = {
        let f = fired.clone();
        let second = second.clone();
        Timer::new(&lp, move |_| {
            f.borrow_mut().push("first");
            second.stop();
        })
    };
    // Both are due in the same iteration; the first cancels the second.
    first.start(Duration::ZERO);
    second.start(Duration::ZERO);
    lp.run().unwrap();
    assert_eq!(*fired.borrow(), vec!["first"]);
}

#[test]
fn repeat_and_again() {
    let lp = Loop::new().unwrap();
    let count = Rc::new(RefCell::new(0));
    let c = count.clone();
    let t = Timer::new(&lp, move |t| {
        *c.borrow_mut() += 1;
        if *c.borrow() == 5 {
            t.stop();
        }
    });
    t.start_repeat(ms(1), ms(1));
    assert_eq!(t.interval(), Some(ms(1)));
    lp.run().unwrap();
    assert_eq!(*count.borrow(), 5);

    // again() on a stopped repeating timer starts it one interval out.
    t.again();
    assert!(t.is_active());
    assert!(t.remaining().unwrap() <= ms(1));
    t.stop();

    // again() on a one-shot timer stops it.
    t.start(ms(50));
    t.again();
    assert!(!t.is_active());
}

#[test]
fn restarting_an_active_timer_moves_its_deadline() {
    let lp = Loop::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let a = {
        let l = log.clone();
        Timer::new(&lp, move |_| l.borrow_mut().push('a'))
    };
    let b = {
        let l = log.clone();
        Timer::new(&lp, move |_| l.borrow_mut().push('b'))
    };
    a.start(ms(1));
    b.start(ms(2));
    a.start(ms(3));
    lp.run().unwrap();
    assert_eq!(*log.borrow(), vec!['b', 'a']);
}

#[test]
fn dropping_a_timer_inside_its_own_callback() {
    let lp = Loop::new().unwrap();
    let holder: Rc<RefCell<Option<Timer>>> = Rc::new(RefCell::new(None));
    let h = holder.clone();
    let t = Timer::new(&lp, move |t| {
        t.start(ms(1)); // re-arm, then drop ourselves: the slot must be freed cleanly
        h.borrow_mut().take();
    });
    t.start(Duration::ZERO);
    *holder.borrow_mut() = Some(t);
    lp.run().unwrap();
    assert!(holder.borrow().is_none());
    assert_eq!(lp.active_count(), 0);
}

#[test]
fn many_pending_timers_fire_in_order() {
    let lp = Loop::new().unwrap();
    let n = 100_000u64;
    let last = Rc::new(RefCell::new((0u64, 0u64)));
    let timers: Vec<Timer> = (0..n)
        .map(|i| {
            let last = last.clone();
            // Deadlines from a permutation of 0..n microseconds... grouped in 1 ms.
            let key = (i * 7919) % n;
            let t = Timer::new(&lp, move |_| {
                let mut l = last.borrow_mut();
                assert!(
                    key / 1000 >= l.0 / 1000,
                    "out of order: {key} after {}",
                    l.0
                );
                *l = (key, l.1 + 1);
            });
            t.start(Duration::from_micros((key / 1000) * 1000));
            t
        })
        .collect();
    // Stop every other timer: they must not fire.
    for t in timers.iter().step_by(2) {
        t.stop();
    }
    lp.run().unwrap();
    assert_eq!(last.borrow().1, n / 2);
}

#[derive(Debug, Clone)]
struct Plan {
    afters: Vec<u64>,
    stopped_up_front: Vec<bool>,
    // timer i's callback stops timer cancels[i] (if any)
    cancels: Vec<Option<usize>>,
}

fn plan() -> impl Strategy<Value = Plan> {
    (1usize..24).prop_flat_map(|n| {
        (
            proptest::collection::vec(0u64..4, n),
            proptest::collection::vec(proptest::bool::weighted(0.2), n),
            proptest::collection::vec(proptest::option::weighted(0.3, 0..n), n),
        )
            .prop_map(|(afters, stopped_up_front, cancels)| Plan {
                afters,
                stopped_up_front,
                cancels,
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Against a model: sort by (deadline, start order), skip those stopped
    /// up front and those stopped by a callback that ran before them.
    #[test]
    fn timers_match_model(p in plan()) {
        let lp = Loop::new().unwrap();
        let n = p.afters.len();
        let log = Rc::new(RefCell::new(Vec::new()));
        let timers: Rc<RefCell<Vec<Timer>>> = Rc::new(RefCell::new(Vec::new()));
        for i in 0..n {
            let log = log.clone();
            let timers_c = Rc::downgrade(&timers);
            let cancel = p.cancels[i];
            let t = Timer::new(&lp, move |_| {
                log.borrow_mut().push(i);
                if let (Some(j), Some(ts)) = (cancel, timers_c.upgrade()) {
                    ts.borrow()[j].stop();
                }
            });
            timers.borrow_mut().push(t);
        }
        for (i, t) in timers.borrow().iter().enumerate() {
            t.start(ms(p.afters[i]));
        }
        for (i, t) in timers.borrow().iter().enumerate() {
            if p.stopped_up_front[i] {
                t.stop();
            }
        }
        lp.run().unwrap();

        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| (p.afters[i], i));
        let mut cancelled = p.stopped_up_front.clone();
        let mut expected = Vec::new();
        for i in order {
            if cancelled[i] {
                continue;
            }
            expected.push(i);
            cancelled[i] = true;
            if let Some(j) = p.cancels[i] {
                cancelled[j] = true;
            }
        }
        prop_assert_eq!(&*log.borrow(), &expected);
    }
}
