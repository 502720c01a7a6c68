//! A tpool job blocks its pool thread, not the hub: other green threads run
//! meanwhile, and may even be what unblocks the job.

use std::sync::mpsc;
use std::time::Duration;

use thicket_green::{spawn, tpool, yield_now};

#[test]
fn a_green_thread_feeds_the_job_its_caller_waits_for() {
    let (tx, rx) = mpsc::channel::<u32>();
    let waiter = spawn(move || tpool::execute(move || rx.recv_timeout(Duration::from_secs(30))));
    // This green thread can only run if the waiter's job left the hub free.
    let feeder = spawn(move || {
        yield_now().unwrap();
        tx.send(7).unwrap();
        "fed"
    });
    assert_eq!(feeder.join().unwrap(), "fed");
    assert_eq!(waiter.join().unwrap().unwrap(), Ok(7));
}

#[test]
fn plain_code_waits_while_green_threads_run() {
    let (tx, rx) = mpsc::channel::<&'static str>();
    let feeder = spawn(move || tx.send("from a green thread").unwrap());
    // The root parks in execute; the feeder runs on this hub meanwhile.
    let got = tpool::execute(move || rx.recv_timeout(Duration::from_secs(30))).unwrap();
    assert_eq!(got, Ok("from a green thread"));
    feeder.join().unwrap();
}

#[test]
fn many_green_threads_share_the_pool() {
    let workers: Vec<_> = (0..50u64)
        .map(|i| spawn(move || tpool::execute(move || i * i).unwrap()))
        .collect();
    let sum: u64 = workers.iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(sum, (0..50u64).map(|i| i * i).sum());
}
