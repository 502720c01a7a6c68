//! Panics are caught at the green thread's boundary.

use std::sync::{Arc, Mutex};

use thicket_green::{set_panic_handler, spawn, spawn_n, JoinError};

#[test]
fn join_returns_the_panic_and_the_hub_keeps_going() {
    let gt = spawn(|| -> u8 { panic!("green boom") });
    match gt.join() {
        Err(e @ JoinError::Panicked(_)) => assert_eq!(e.panic_message(), Some("green boom")),
        other => panic!("unexpected {other:?}"),
    }
    // The hub still runs green threads.
    assert_eq!(spawn(|| 3).join().unwrap(), 3);
}

#[test]
fn detached_panics_go_to_the_handler() {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let r = reports.clone();
    set_panic_handler(move |p| {
        r.lock()
            .unwrap()
            .push((p.name.map(String::from), p.message().map(String::from)))
    });
    thicket_green::Builder::new()
        .name("doomed")
        .spawn_n(|| panic!("detached boom"))
        .unwrap();
    spawn_n(|| {});
    thicket_green::run();
    let reports = reports.lock().unwrap();
    assert!(reports.contains(&(Some("doomed".into()), Some("detached boom".into()))));
}
