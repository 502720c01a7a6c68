//! Condvar: arrival-order wake-ups, timeouts that relock, cancellation that
//! passes the notification on, and use across OS threads.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use thicket_green::{spawn, with_timeout, yield_now, Condvar, Elapsed, Mutex, WaitError};

type Shared<T> = Rc<(Mutex<T>, Condvar)>;

fn shared<T>(value: T) -> Shared<T> {
    Rc::new((Mutex::new(value), Condvar::new()))
}

#[test]
fn notify_one_wakes_the_longest_waiter() {
    let pair = shared(Vec::new());
    let waiters: Vec<_> = (0..3)
        .map(|i| {
            let pair = pair.clone();
            spawn(move || {
                let (m, cv) = &*pair;
                let mut g = cv.wait(m.lock()?)?;
                g.push(i);
                Ok::<(), WaitError>(())
            })
        })
        .collect();
    yield_now().unwrap();
    let (m, cv) = &*pair;
    assert_eq!(cv.waiting(), 3);
    assert!(!m.is_locked(), "waiting releases the mutex");

    cv.notify_one();
    waiters[0].join().unwrap().unwrap();
    assert_eq!(cv.waiting(), 2);
    assert_eq!(*m.lock().unwrap(), [0]);

    cv.notify_all();
    for w in &waiters[1..] {
        w.join().unwrap().unwrap();
    }
    assert_eq!(*m.lock().unwrap(), [0, 1, 2]);
}

#[test]
fn a_notification_with_no_waiter_is_not_kept() {
    let pair = shared(());
    let (m, cv) = &*pair;
    cv.notify_one();
    let (_g, timed_out) = cv
        .wait_timeout(m.lock().unwrap(), Duration::from_millis(1))
        .unwrap();
    assert!(timed_out);
}

#[test]
fn wait_timeout_times_out_with_the_mutex_locked_again() {
    let pair = shared(5);
    let (m, cv) = &*pair;
    let (mut g, timed_out) = cv
        .wait_timeout(m.lock().unwrap(), Duration::from_millis(2))
        .unwrap();
    assert!(timed_out);
    assert!(m.is_locked());
    assert!(m.try_lock().is_none());
    *g += 1;
    drop(g);
    assert_eq!(*m.lock().unwrap(), 6);
    assert_eq!(cv.waiting(), 0);
}

#[test]
fn wait_timeout_reports_a_notification_in_time() {
    let pair = shared(false);
    let p = pair.clone();
    let notifier = spawn(move || {
        let (m, cv) = &*p;
        *m.lock().unwrap() = true;
        cv.notify_one();
    });
    let (m, cv) = &*pair;
    let (g, timed_out) = cv
        .wait_timeout(m.lock().unwrap(), Duration::from_secs(60))
        .unwrap();
    assert!(!timed_out);
    assert!(*g);
    drop(g);
    notifier.join().unwrap();
}

#[test]
fn wait_while_returns_once_the_condition_is_false() {
    let pair = shared(0u32);
    let p = pair.clone();
    let producer = spawn(move || {
        let (m, cv) = &*p;
        for _ in 0..5 {
            *m.lock().unwrap() += 1;
            cv.notify_all();
            yield_now().unwrap();
        }
    });
    let (m, cv) = &*pair;
    let g = cv.wait_while(m.lock().unwrap(), |n| *n < 3).unwrap();
    assert!(*g >= 3);
    drop(g);
    producer.join().unwrap();
}

#[test]
fn wait_timeout_while_reports_whether_the_condition_still_holds() {
    let pair = shared(0u32);
    let (m, cv) = &*pair;
    let (g, still) = cv
        .wait_timeout_while(m.lock().unwrap(), Duration::from_millis(2), |n| *n == 0)
        .unwrap();
    assert!(still);
    assert_eq!(*g, 0);
    drop(g);
    let (g, still) = cv
        .wait_timeout_while(m.lock().unwrap(), Duration::from_millis(2), |n| *n != 0)
        .unwrap();
    assert!(!still, "false at once: no wait at all");
    drop(g);
}

#[test]
fn a_killed_waiter_returns_cancelled_with_the_mutex_unlocked() {
    let pair = shared(());
    let seen = Rc::new(RefCell::new(None));
    let (p, out) = (pair.clone(), seen.clone());
    let waiter = spawn(move || {
        let (m, cv) = &*p;
        let g = m.lock().unwrap();
        *out.borrow_mut() = Some(cv.wait(g).map(drop));
    });
    yield_now().unwrap();
    waiter.kill();
    let _ = waiter.join();
    assert_eq!(*seen.borrow(), Some(Err(WaitError::Cancelled)));
    let (m, cv) = &*pair;
    assert!(!m.is_locked());
    assert_eq!(cv.waiting(), 0);
}

#[test]
fn a_notification_reaching_a_waiter_being_killed_goes_to_the_next() {
    let pair = shared(Vec::new());
    let log = Rc::new(RefCell::new(Vec::new()));
    let waiter = |name: &'static str| {
        let (pair, log) = (pair.clone(), log.clone());
        spawn(move || {
            let (m, cv) = &*pair;
            let g = m.lock().unwrap();
            let r = cv.wait(g).map(|mut g| g.push(name));
            log.borrow_mut().push((name, r));
        })
    };
    let doomed = waiter("doomed");
    let next = waiter("next");
    yield_now().unwrap();
    let (m, cv) = &*pair;
    assert_eq!(cv.waiting(), 2);

    // The kill wakes `doomed`; notify_one then picks it before it has run.
    doomed.kill();
    cv.notify_one();
    let _ = doomed.join();
    assert_eq!(cv.waiting(), 0, "the notification was not passed on");
    next.join().unwrap();
    assert_eq!(
        *log.borrow(),
        [("doomed", Err(WaitError::Cancelled)), ("next", Ok(()))]
    );
    assert_eq!(*m.lock().unwrap(), ["next"]);
}

#[test]
fn an_enclosing_deadline_is_an_error_not_a_timeout() {
    let pair = shared(());
    let (m, cv) = &*pair;
    let r = with_timeout(Duration::from_millis(2), || {
        let g = m.lock().unwrap();
        // Its own timeout is far off; the scope's passes first.
        cv.wait_timeout(g, Duration::from_secs(60)).map(|(_, t)| t)
    });
    assert_eq!(r, Err(Elapsed));
    assert!(!m.is_locked());
}

#[test]
fn producer_and_consumer_on_different_os_threads() {
    let pair = Arc::new((Mutex::new(VecDeque::new()), Condvar::new()));
    let p = pair.clone();
    let producer = std::thread::spawn(move || {
        let (m, cv) = &*p;
        for i in 0..100u32 {
            m.lock().unwrap().push_back(i);
            cv.notify_one();
        }
    });
    let consumer = spawn({
        let pair = pair.clone();
        move || {
            let (m, cv) = &*pair;
            let mut got = Vec::new();
            while got.len() < 100 {
                let mut g = cv.wait_while(m.lock().unwrap(), |q| q.is_empty()).unwrap();
                got.extend(g.drain(..));
            }
            got
        }
    });
    assert_eq!(consumer.join().unwrap(), (0..100).collect::<Vec<_>>());
    producer.join().unwrap();
}

#[test]
fn an_os_thread_waits_for_a_green_notifier() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let p = pair.clone();
    let waiter = std::thread::spawn(move || {
        let (m, cv) = &*p;
        let g = cv.wait_while(m.lock().unwrap(), |ready| !*ready).unwrap();
        *g
    });
    let notifier = spawn({
        let pair = pair.clone();
        move || {
            let (m, cv) = &*pair;
            *m.lock().unwrap() = true;
            cv.notify_all();
        }
    });
    notifier.join().unwrap();
    assert!(waiter.join().unwrap());
}
