//! A caller that times out or is killed while its job runs gets an error at
//! once; the job finishes on its own and its result is dropped, and the
//! hub's deadlock accounting returns to normal.

use std::sync::mpsc;
use std::time::Duration;

use thicket_green::tpool::{self, TpoolError};
use thicket_green::{spawn, with_timeout, yield_now, Elapsed, Event, JoinError, WaitError};

/// Reports on its channel when it is dropped.
struct Dropped(mpsc::Sender<&'static str>);

impl Drop for Dropped {
    fn drop(&mut self) {
        let _ = self.0.send("dropped");
    }
}

#[test]
fn a_timed_out_caller_returns_and_the_result_is_dropped_later() {
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (drop_tx, drop_rx) = mpsc::channel();
    let r = with_timeout(Duration::from_millis(10), move || {
        tpool::execute(move || {
            release_rx.recv().unwrap();
            Dropped(drop_tx)
        })
        .map(|_| ())
    });
    assert_eq!(r.unwrap_err(), Elapsed);
    // The job is still blocked; release it and see its result dropped.
    release_tx.send(()).unwrap();
    assert_eq!(drop_rx.recv_timeout(Duration::from_secs(30)), Ok("dropped"));
    // Once the job's completion is handled, nothing keeps this hub alive:
    // a wait that nothing can end is a deadlock again.
    assert!(matches!(
        Event::new().wait(),
        Err(WaitError::Deadlock { .. })
    ));
}

#[test]
fn the_timeout_error_is_a_wait_error() {
    let (_keep, rx) = mpsc::channel::<()>();
    let r = with_timeout(Duration::from_millis(5), move || {
        tpool::execute(move || {
            let _ = rx.recv_timeout(Duration::from_secs(30));
        })
    });
    // with_timeout reports its own scope; the inner error was Wait(TimedOut).
    assert_eq!(r.unwrap_err(), Elapsed);
    let gt = spawn(|| {
        with_timeout(Duration::from_secs(60), || {
            // An inner, shorter deadline: the error passes through as a value.
            let (_keep, rx) = mpsc::channel::<()>();
            with_timeout(Duration::from_millis(1), || {
                tpool::execute(move || {
                    let _ = rx.recv_timeout(Duration::from_millis(200));
                })
            })
        })
    });
    assert!(matches!(gt.join().unwrap(), Ok(Err(Elapsed))));
    let seen = tpool::execute(|| ()).map_err(|e| e.to_string());
    assert_eq!(seen, Ok(()));
    let err = TpoolError::Wait(WaitError::TimedOut);
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
}

#[test]
fn a_killed_caller_stops_waiting() {
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (drop_tx, drop_rx) = mpsc::channel();
    let (seen_tx, seen_rx) = mpsc::channel();
    let gt = spawn(move || {
        let r = tpool::execute(move || {
            release_rx.recv().unwrap();
            Dropped(drop_tx)
        });
        seen_tx.send(format!("{:?}", r.err())).unwrap();
    });
    yield_now().unwrap(); // let it submit and park
    gt.kill();
    assert!(matches!(gt.join(), Ok(()) | Err(JoinError::Killed)));
    assert_eq!(seen_rx.try_recv().unwrap(), "Some(Wait(Cancelled))");
    release_tx.send(()).unwrap();
    assert_eq!(drop_rx.recv_timeout(Duration::from_secs(30)), Ok("dropped"));
}
