//! run/run_once/break, ref counting, idle/prepare/check order, call_soon,
//! and panics in callbacks.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Duration;

use thicket_hub::{Check, Idle, Loop, Prepare, Timer};

type Log = Rc<RefCell<Vec<&'static str>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

#[test]
fn run_returns_at_once_with_nothing_to_do() {
    let lp = Loop::new().unwrap();
    lp.run().unwrap();
    assert_eq!(lp.iteration(), 0);
}

#[test]
fn unreferenced_watchers_do_not_keep_run_going() {
    let lp = Loop::new().unwrap();
    let t = Timer::new(&lp, |_| panic!("must not fire: run should have returned"));
    t.start(Duration::from_secs(3600));
    t.set_ref(false);
    assert!(!t.is_ref());
    lp.run().unwrap();
    assert!(t.is_active());
    t.set_ref(true);
    assert_eq!(lp.active_count(), 1);
}

#[test]
fn break_loop_returns_after_the_current_iteration() {
    let lp = Loop::new().unwrap();
    let l = log();
    let l2 = l.clone();
    let t = Timer::new(&lp, move |t| {
        l2.borrow_mut().push("tick");
        t.get_loop().break_loop();
    });
    t.start_repeat(Duration::ZERO, Duration::from_millis(1));
    lp.run().unwrap();
    assert_eq!(*l.borrow(), vec!["tick"]);
    assert!(t.is_active());
    // A later run starts fresh and is broken out of again.
    lp.run().unwrap();
    assert_eq!(l.borrow().len(), 2);
}

#[test]
fn prepare_then_check_then_callbacks_then_call_soon() {
    let lp = Loop::new().unwrap();
    let l = log();
    let (a, b, c, d) = (l.clone(), l.clone(), l.clone(), l.clone());
    let p = Prepare::new(&lp, move |w| {
        a.borrow_mut().push("prepare");
        w.stop();
    });
    let k = Check::new(&lp, move |w| {
        b.borrow_mut().push("check");
        w.stop();
    });
    let t = Timer::new(&lp, move |t| {
        c.borrow_mut().push("timer");
        let d = d.clone();
        t.get_loop().call_soon(move |_| d.borrow_mut().push("soon"));
    });
    p.start();
    k.start();
    t.start(Duration::ZERO);
    lp.run().unwrap();
    assert_eq!(*l.borrow(), vec!["prepare", "check", "timer", "soon"]);
}

#[test]
fn idle_runs_only_when_nothing_else_is_due() {
    let lp = Loop::new().unwrap();
    let l = log();
    let (a, b) = (l.clone(), l.clone());
    let idle = Idle::new(&lp, move |w| {
        a.borrow_mut().push("idle");
        w.stop();
    });
    let t = Timer::new(&lp, move |_| b.borrow_mut().push("timer"));
    idle.start();
    t.start(Duration::ZERO);
    lp.run().unwrap();
    // The timer is due in the first iteration, so the idle watcher waits.
    assert_eq!(*l.borrow(), vec!["timer", "idle"]);
}

#[test]
fn active_idle_keeps_the_loop_from_sleeping() {
    let lp = Loop::new().unwrap();
    let count = Rc::new(RefCell::new(0));
    let c = count.clone();
    let idle = Idle::new(&lp, move |w| {
        *c.borrow_mut() += 1;
        if *c.borrow() == 100 {
            w.stop();
        }
    });
    idle.start();
    // Pending an hour-long timer, the loop must still spin through idle.
    let t = Timer::new(&lp, |_| {});
    t.start(Duration::from_secs(3600));
    t.set_ref(false);
    lp.run().unwrap();
    assert_eq!(*count.borrow(), 100);
}

#[test]
fn call_soon_keeps_run_alive_and_runs_in_order() {
    let lp = Loop::new().unwrap();
    let l = log();
    for name in ["one", "two", "three"] {
        let l = l.clone();
        lp.call_soon(move |_| l.borrow_mut().push(name));
    }
    assert_eq!(lp.pending_count(), 3);
    lp.run().unwrap();
    assert_eq!(*l.borrow(), vec!["one", "two", "three"]);
}

#[test]
fn a_panic_in_a_callback_propagates_and_leaves_the_loop_usable() {
    let lp = Loop::new().unwrap();
    let l = log();
    let boom = Timer::new(&lp, |_| panic!("boom"));
    let l2 = l.clone();
    let after = Timer::new(&lp, move |_| l2.borrow_mut().push("after"));
    boom.start(Duration::ZERO);
    after.start(Duration::ZERO);
    let err = catch_unwind(AssertUnwindSafe(|| lp.run())).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"boom"));
    // The callback that was due after the panicking one runs on the next run.
    lp.run().unwrap();
    assert_eq!(*l.borrow(), vec!["after"]);
    // The panicking watcher kept its callback and can fire again.
    boom.start(Duration::ZERO);
    assert!(catch_unwind(AssertUnwindSafe(|| lp.run())).is_err());
}

#[test]
fn callbacks_may_start_and_stop_other_watchers() {
    let lp = Loop::new().unwrap();
    let l = log();
    let second = {
        let l = l.clone();
        Rc::new(Timer::new(&lp, move |_| l.borrow_mut().push("second")))
    };
    let third = {
        let l = l.clone();
        Rc::new(Timer::new(&lp, move |_| l.borrow_mut().push("third")))
    };
    let first = {
        let (l, second, third) = (l.clone(), second.clone(), third.clone());
        Timer::new(&lp, move |_| {
            l.borrow_mut().push("first");
            second.start(Duration::from_millis(1));
            third.stop();
        })
    };
    first.start(Duration::ZERO);
    third.start(Duration::from_millis(2));
    lp.run().unwrap();
    assert_eq!(*l.borrow(), vec!["first", "second"]);
}

#[test]
fn now_is_cached_until_updated() {
    let lp = Loop::new().unwrap();
    let a = lp.now();
    let later = std::time::Instant::now() + Duration::from_millis(1);
    while std::time::Instant::now() < later {
        std::hint::spin_loop();
    }
    assert_eq!(lp.now(), a);
    lp.update_now();
    assert!(lp.now() > a);
}
