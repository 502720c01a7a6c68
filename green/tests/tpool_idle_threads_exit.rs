//! Pool threads that stay idle past the idle timeout exit, and the pool
//! starts new ones for later jobs.

use std::sync::mpsc;
use std::time::Duration;

use thicket_green::tpool;

/// Sends on its channel when the pool thread that holds it exits.
struct ExitSignal(mpsc::Sender<std::thread::ThreadId>);

impl Drop for ExitSignal {
    fn drop(&mut self) {
        let _ = self.0.send(std::thread::current().id());
    }
}

thread_local! {
    static ON_EXIT: std::cell::RefCell<Option<ExitSignal>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn idle_threads_exit_and_the_pool_restarts() {
    tpool::set_idle_timeout(Duration::from_millis(20));
    let (tx, rx) = mpsc::channel();
    let first = tpool::execute(move || {
        ON_EXIT.with(|e| *e.borrow_mut() = Some(ExitSignal(tx)));
        std::thread::current().id()
    })
    .unwrap();
    // Nothing else is queued: the thread must exit by itself.
    let exited = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("an idle pool thread never exited");
    assert_eq!(exited, first);
    assert_eq!(tpool::thread_count(), 0);

    // A later job starts a fresh thread.
    let second = tpool::execute(|| std::thread::current().id()).unwrap();
    assert_ne!(second, first);
    assert_eq!(tpool::execute(|| 5).unwrap(), 5);
}
