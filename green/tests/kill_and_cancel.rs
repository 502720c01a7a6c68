//! Sticky cancellation with kill(), cancel() before start, and link().

use std::sync::{Arc, Mutex};
use std::time::Duration;

use thicket_green::{sleep, spawn, yield_now, JoinError, WaitError};

#[test]
fn kill_wakes_a_sleeper_with_cancelled_and_stays_sticky() {
    let gt = spawn(|| {
        let first = sleep(Duration::from_secs(3600));
        // Every later blocking call fails too, at once.
        let second = sleep(Duration::from_secs(3600));
        let third = yield_now();
        (first, second, third)
    });
    yield_now().unwrap(); // let it start and park
    gt.kill();
    match gt.join() {
        Err(JoinError::Killed) => {}
        other => panic!("expected Killed, got {other:?}"),
    }
}

#[test]
fn the_killed_green_thread_sees_cancelled() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let gt = spawn(move || {
        s.lock().unwrap().push(sleep(Duration::from_secs(3600)));
        s.lock().unwrap().push(sleep(Duration::from_millis(1)));
    });
    yield_now().unwrap();
    gt.kill();
    let _ = gt.join();
    assert_eq!(
        *seen.lock().unwrap(),
        vec![Err(WaitError::Cancelled), Err(WaitError::Cancelled)]
    );
}

#[test]
fn cancel_only_before_start() {
    let ran = Arc::new(Mutex::new(false));
    let r = ran.clone();
    let gt = spawn(move || *r.lock().unwrap() = true);
    assert!(gt.cancel());
    assert!(matches!(gt.join(), Err(JoinError::Killed)));
    assert!(!*ran.lock().unwrap());

    let started = spawn(|| sleep(Duration::from_millis(1)));
    yield_now().unwrap();
    assert!(!started.cancel());
    assert_eq!(started.join().unwrap(), Ok(()));
}

#[test]
fn link_runs_at_exit_with_the_outcome() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let ok = spawn(|| 5);
    let l = log.clone();
    ok.link(move |r| l.lock().unwrap().push(format!("{:?}", r.ok())));
    let bad = spawn(|| -> i32 { panic!("nope") });
    let l = log.clone();
    bad.link(move |r| l.lock().unwrap().push(r.unwrap_err().to_string()));
    ok.join().unwrap();
    let _ = bad.join();
    // Linking after exit runs at once.
    let l = log.clone();
    ok.link(move |r| l.lock().unwrap().push(format!("late {:?}", r.is_err())));
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            "Some(5)".to_string(),
            "green thread panicked: nope".to_string(),
            "late true".to_string()
        ]
    );
}
