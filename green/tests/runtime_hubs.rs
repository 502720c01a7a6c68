//! A runtime with several hubs: placement, cross-hub joins and kills.

use std::time::Duration;

use thicket_green::{current, sleep, JoinError, Runtime};

#[test]
fn spawn_places_work_round_robin_on_distinct_threads() {
    let rt = Runtime::new(2).unwrap();
    assert_eq!(rt.hubs(), 2);
    let names: Vec<String> = (0..4)
        .map(|_| rt.spawn(|| std::thread::current().name().unwrap().to_string()))
        .collect::<Vec<_>>()
        .iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "thicket-hub-0",
            "thicket-hub-1",
            "thicket-hub-0",
            "thicket-hub-1"
        ]
    );
}

#[test]
fn a_green_thread_on_one_hub_joins_one_on_another() {
    let rt = std::sync::Arc::new(Runtime::new(2).unwrap());
    let r = rt.clone();
    let outer = rt.spawn_on(0, move || {
        let inner = r.spawn_on(1, || {
            sleep(Duration::from_millis(2)).unwrap();
            current().id()
        });
        inner.join().unwrap()
    });
    assert_ne!(outer.join().unwrap(), 0);
}

#[test]
fn kill_reaches_a_green_thread_on_another_hub() {
    let rt = Runtime::new(1).unwrap();
    let gt = rt.spawn(|| sleep(Duration::from_secs(3600)));
    // Wait until it is parked in its sleep: poll its hub through a join of a
    // no-op on the same hub, which runs after the sleeper has started.
    rt.spawn_on(0, || ()).join().unwrap();
    gt.kill();
    assert!(matches!(gt.join(), Err(JoinError::Killed)));
}

#[test]
fn dropping_the_runtime_stops_its_threads() {
    let rt = Runtime::new(2).unwrap();
    let _parked = rt.spawn(|| sleep(Duration::from_secs(3600)));
    drop(rt); // returns: hub threads stopped, parked green threads unwound
}
