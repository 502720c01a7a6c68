//! A panic in a tpool job comes back to the caller as an error with the
//! payload, and the pool keeps working.

use thicket_green::{spawn, tpool, tpool::TpoolError};

#[test]
fn the_payload_comes_back_and_the_pool_survives() {
    let gt = spawn(|| tpool::execute(|| -> u32 { panic!("job failed: {}", 42) }));
    let err = gt.join().unwrap().unwrap_err();
    assert!(matches!(err, TpoolError::Panicked(_)), "{err:?}");
    assert_eq!(err.panic_message(), Some("job failed: 42"));
    assert_eq!(err.to_string(), "tpool job panicked: job failed: 42");

    // Non-string payloads survive too.
    let err = tpool::execute(|| std::panic::panic_any(17u8)).unwrap_err();
    assert_eq!(err.panic_message(), None);
    assert_eq!(err.into_panic().unwrap().downcast_ref::<u8>(), Some(&17));

    // The pool still runs jobs afterwards.
    assert_eq!(tpool::execute(|| 1 + 1).unwrap(), 2);
}

#[test]
fn a_panic_maps_to_an_io_error_naming_it() {
    let err = tpool::execute(|| -> () { panic!("disk on fire") }).unwrap_err();
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::Other);
    assert!(io.to_string().contains("disk on fire"), "{io}");
}
