//! Spawning and joining green threads, from plain code and from green threads.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use thicket_green::{
    current, join_all, sleep, spawn, spawn_after, spawn_n, yield_now, Builder, JoinError,
};

#[test]
fn join_returns_the_value() {
    assert_eq!(spawn(|| "done").join().unwrap(), "done");
}

#[test]
fn second_join_reports_already_joined() {
    let gt = spawn(|| 1);
    assert_eq!(gt.join().unwrap(), 1);
    assert!(matches!(gt.join(), Err(JoinError::AlreadyJoined)));
    assert!(gt.is_finished());
}

#[test]
fn green_threads_run_in_spawn_order_and_interleave_at_yields() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let threads: Vec<_> = (0..3)
        .map(|i| {
            let log = log.clone();
            spawn(move || {
                log.borrow_mut().push((i, 'a'));
                yield_now().unwrap();
                log.borrow_mut().push((i, 'b'));
            })
        })
        .collect();
    for r in join_all(&threads) {
        r.unwrap();
    }
    assert_eq!(
        *log.borrow(),
        vec![(0, 'a'), (1, 'a'), (2, 'a'), (0, 'b'), (1, 'b'), (2, 'b')]
    );
}

#[test]
fn a_green_thread_can_spawn_and_join_another() {
    let outer = spawn(|| {
        let inner = spawn(|| current().id());
        let inner_id = inner.join().unwrap();
        (current().id(), inner_id)
    });
    let (outer_id, inner_id) = outer.join().unwrap();
    assert_ne!(outer_id, 0);
    assert_ne!(inner_id, 0);
    assert_ne!(outer_id, inner_id);
    assert_eq!(current().id(), 0, "plain code has id 0");
}

#[test]
fn names_and_ids() {
    let gt = Builder::new()
        .name("named")
        .spawn(|| current().name().map(str::to_owned))
        .unwrap();
    assert_eq!(gt.name(), Some("named"));
    assert_eq!(gt.join().unwrap().as_deref(), Some("named"));
}

#[test]
fn sleepers_wake_in_deadline_order() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let threads: Vec<_> = [30u64, 10, 20]
        .into_iter()
        .map(|ms| {
            let log = log.clone();
            spawn(move || {
                sleep(Duration::from_millis(ms)).unwrap();
                log.borrow_mut().push(ms);
            })
        })
        .collect();
    join_all(&threads);
    assert_eq!(*log.borrow(), vec![10, 20, 30]);
}

#[test]
fn spawn_after_runs_after_its_delay_and_can_be_cancelled() {
    let ran = Rc::new(RefCell::new(false));
    let r = ran.clone();
    let later = spawn_after(Duration::from_secs(3600), move || *r.borrow_mut() = true);
    let soon = spawn_after(Duration::from_millis(1), || 7);
    assert_eq!(soon.join().unwrap(), 7);
    later.kill();
    assert!(matches!(later.join(), Err(JoinError::Killed)));
    assert!(!*ran.borrow());
}

#[test]
fn spawn_n_runs_detached() {
    let hits = Rc::new(RefCell::new(0));
    for _ in 0..100 {
        let h = hits.clone();
        spawn_n(move || *h.borrow_mut() += 1);
    }
    thicket_green::run();
    assert_eq!(*hits.borrow(), 100);
}

#[test]
fn a_small_stack_is_enough_for_small_work() {
    let gt = Builder::new()
        .stack_size(16 * 1024)
        .spawn(|| (0..100).sum::<u32>())
        .unwrap();
    assert_eq!(gt.join().unwrap(), 4950);
}

#[test]
fn hundred_thousand_green_threads_blocked_at_once_then_woken() {
    use std::cell::Cell;
    use thicket_green::Event;
    let n = 100_000;
    // Each stack is two memory mappings (guard page + stack); .ci/run raises
    // the limit, which is 65530 by default.
    let max_maps: usize = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        max_maps > 2 * n + 10_000,
        "vm.max_map_count is {max_maps}: run `sysctl -w vm.max_map_count=262144` (as .ci/run does)"
    );
    let gate = Event::new();
    let blocked = Rc::new(Cell::new(0usize));
    let done = Rc::new(Cell::new(0usize));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (gate, blocked, done) = (gate.clone(), blocked.clone(), done.clone());
            Builder::new()
                .stack_size(16 * 1024)
                .spawn(move || {
                    blocked.set(blocked.get() + 1);
                    gate.wait().unwrap();
                    done.set(done.get() + 1);
                })
                .unwrap()
        })
        .collect();
    // One scheduler turn runs every ready green thread once (128 per poll),
    // so yield until all of them have started and blocked on the event.
    while blocked.get() < n {
        yield_now().unwrap();
    }
    assert_eq!(done.get(), 0);
    gate.set();
    for t in &threads {
        t.join().unwrap();
    }
    assert_eq!(done.get(), n);
}
