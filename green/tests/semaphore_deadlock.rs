//! Plain code waiting on a Semaphore that nothing else holds gets a
//! Deadlock error instead of hanging.

use thicket_green::{spawn, Semaphore, WaitError};

#[test]
fn waiting_on_the_only_handle_is_a_deadlock() {
    let sem = Semaphore::new(0);
    let r = sem.acquire().map(|p| p.forget());
    assert_eq!(
        r,
        Err(WaitError::Deadlock {
            waiting_for: "Semaphore::acquire"
        })
    );
    assert_eq!(sem.waiting(), 0, "the failed wait left nothing queued");
}

#[test]
fn a_clone_held_by_a_green_thread_is_not_a_deadlock() {
    let sem = Semaphore::new(0);
    let s = sem.clone();
    let releaser = spawn(move || s.release());
    assert!(sem.acquire().is_ok());
    releaser.join().unwrap();
}
