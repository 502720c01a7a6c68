//! A BoundedSemaphore refuses releases that would take it past its bound.

use thicket_green::{spawn, yield_now, BoundedSemaphore, ReleaseError};

#[test]
fn release_beyond_the_bound_is_an_error() {
    let sem = BoundedSemaphore::new(2);
    let err: ReleaseError = sem.release().unwrap_err();
    assert_eq!(err.bound(), 2);
    let text = err.to_string();
    assert!(
        text.contains("BoundedSemaphore") && text.contains('2'),
        "{text}"
    );
    assert_eq!(sem.available(), 2, "a refused release changes nothing");
}

#[test]
fn releases_matching_acquires_are_fine() {
    let sem = BoundedSemaphore::new(2);
    sem.acquire().unwrap().forget();
    sem.acquire().unwrap().forget();
    assert!(sem.try_acquire().is_none());
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.release(), Ok(()));
    assert!(sem.release().is_err());
    assert_eq!(sem.available(), 2);
}

#[test]
fn a_bound_of_zero_refuses_every_release() {
    let sem = BoundedSemaphore::new(0);
    assert!(sem.try_acquire().is_none());
    assert_eq!(sem.release().map_err(|e| e.bound()), Err(0));
    assert_eq!(sem.available(), 0);
}

#[test]
fn release_hands_the_permit_to_a_waiter() {
    let sem = BoundedSemaphore::new(1);
    sem.acquire().unwrap().forget();
    let s = sem.clone();
    let waiter = spawn(move || s.acquire().map(|p| p.forget()));
    yield_now().unwrap();
    assert_eq!(sem.waiting(), 1);
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(waiter.join().unwrap(), Ok(()));
    assert_eq!(sem.available(), 0);
}

#[test]
fn the_count_never_exceeds_the_bound() {
    let sem = BoundedSemaphore::new(1);
    let permit = sem.acquire().unwrap();
    // Unmatched, but indistinguishable from the permit's own release.
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.available(), 1);
    drop(permit); // finds the count full: gives nothing back
    assert_eq!(sem.available(), 1);
    assert_eq!(sem.bound(), 1);
}
