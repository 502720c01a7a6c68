//! GreenPool: bounded concurrency, fair spawners, waitall, resize, and
//! slots that always come back (return, panic, kill).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use thicket_green::{
    sleep, spawn, with_timeout, yield_now, Elapsed, GreenPool, JoinError, Semaphore, WaitError,
};

/// Spawns a member that holds its slot until `gate` gets a permit.
fn blocked_member(pool: &GreenPool, gate: &Semaphore) -> thicket_green::GreenThread<()> {
    let gate = gate.clone();
    pool.spawn(move || gate.acquire().unwrap().forget())
        .unwrap()
}

#[test]
fn spawn_waits_while_the_pool_is_full() {
    let pool = GreenPool::new(2);
    let gate = Semaphore::new(0);
    let a = blocked_member(&pool, &gate);
    let b = blocked_member(&pool, &gate);
    yield_now().unwrap();
    assert_eq!((pool.running(), pool.free(), pool.waiting()), (2, 0, 0));

    let p = pool.clone();
    let spawner = spawn(move || p.spawn(|| "third").map(|gt| gt.join().unwrap()));
    yield_now().unwrap();
    assert_eq!(pool.waiting(), 1);
    assert!(!spawner.is_finished());

    gate.release(); // one member finishes; its slot goes to the spawner
    assert_eq!(spawner.join().unwrap(), Ok("third"));
    gate.release();
    a.join().unwrap();
    b.join().unwrap();
    assert_eq!((pool.running(), pool.free(), pool.waiting()), (0, 2, 0));
}

#[test]
fn spawners_are_served_in_arrival_order() {
    let pool = GreenPool::new(1);
    let gate = Semaphore::new(0);
    let first = blocked_member(&pool, &gate);
    let order = Rc::new(RefCell::new(Vec::new()));
    let spawners: Vec<_> = (0..4)
        .map(|i| {
            let (pool, order) = (pool.clone(), order.clone());
            spawn(move || {
                let gt = pool.spawn(move || order.borrow_mut().push(i))?;
                gt.join().map_err(|_| WaitError::Cancelled)
            })
        })
        .collect();
    yield_now().unwrap();
    assert_eq!(pool.waiting(), 4);
    gate.release();
    for s in &spawners {
        s.join().unwrap().unwrap();
    }
    first.join().unwrap();
    assert_eq!(*order.borrow(), [0, 1, 2, 3]);
}

#[test]
fn waitall_waits_for_every_member() {
    let pool = GreenPool::new(3);
    let done = Rc::new(Cell::new(0));
    for i in 0..5u64 {
        let done = done.clone();
        pool.spawn_n(move || {
            sleep(Duration::from_millis(i)).unwrap();
            done.set(done.get() + 1);
        })
        .unwrap();
    }
    pool.waitall().unwrap();
    assert_eq!(done.get(), 5);
    assert_eq!(pool.running(), 0);
    pool.waitall().unwrap(); // an idle pool returns at once
}

#[test]
fn waitall_timeout_gives_up_while_a_member_runs() {
    let pool = GreenPool::new(1);
    let gate = Semaphore::new(0);
    let member = blocked_member(&pool, &gate);
    assert_eq!(
        pool.waitall_timeout(Duration::from_millis(2)),
        Err(WaitError::TimedOut)
    );
    gate.release();
    pool.waitall_timeout(Duration::from_secs(60)).unwrap();
    member.join().unwrap();
}

#[test]
fn waitall_from_a_member_is_a_deadlock_error() {
    let pool = GreenPool::new(2);
    let p = pool.clone();
    let member = pool.spawn(move || p.waitall()).unwrap();
    assert!(matches!(
        member.join().unwrap(),
        Err(WaitError::Deadlock { .. })
    ));
}

#[test]
fn growing_the_pool_lets_waiting_spawners_in() {
    let pool = GreenPool::new(1);
    let gate = Semaphore::new(0);
    let first = blocked_member(&pool, &gate);
    let (p, g) = (pool.clone(), gate.clone());
    let spawner = spawn(move || blocked_member(&p, &g));
    yield_now().unwrap();
    assert_eq!(pool.waiting(), 1);

    pool.resize(2);
    let second = spawner.join().unwrap(); // got in although `first` still runs
    assert_eq!((pool.size(), pool.running(), pool.waiting()), (2, 2, 0));
    gate.release();
    gate.release();
    first.join().unwrap();
    second.join().unwrap();
}

#[test]
fn shrinking_the_pool_lets_running_members_finish() {
    let pool = GreenPool::new(2);
    let gate = Semaphore::new(0);
    let a = blocked_member(&pool, &gate);
    let b = blocked_member(&pool, &gate);
    yield_now().unwrap();
    pool.resize(1);
    assert_eq!((pool.running(), pool.free()), (2, 0));

    let p = pool.clone();
    let spawner = spawn(move || p.spawn(|| ()).map(|gt| gt.join().unwrap()));
    yield_now().unwrap();
    gate.release();
    a.join().unwrap();
    assert_eq!(pool.running(), 1);
    assert_eq!(pool.waiting(), 1, "one running is still not fewer than 1");
    gate.release();
    b.join().unwrap();
    assert_eq!(spawner.join().unwrap(), Ok(()));
}

#[test]
fn a_killed_member_frees_its_slot() {
    let pool = GreenPool::new(1);
    let gate = Semaphore::new(0);
    let member = blocked_member(&pool, &gate);
    yield_now().unwrap();
    member.kill();
    assert!(member.join().is_err());
    assert_eq!((pool.running(), pool.free()), (0, 1));
}

#[test]
fn a_member_killed_before_it_starts_frees_its_slot() {
    let pool = GreenPool::new(1);
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    let member = pool.spawn(move || r.set(true)).unwrap();
    member.kill();
    assert!(matches!(member.join(), Err(JoinError::Killed)));
    assert!(!ran.get());
    assert_eq!(pool.running(), 0);
}

#[test]
fn a_panicking_member_frees_its_slot() {
    let pool = GreenPool::new(1);
    let member = pool.spawn(|| -> u8 { panic!("boom") }).unwrap();
    let err = member.join().unwrap_err();
    assert_eq!(err.panic_message(), Some("boom"));
    assert_eq!(pool.running(), 0);
    assert_eq!(pool.spawn(|| 1).unwrap().join().unwrap(), 1);
}

#[test]
fn a_spawner_killed_while_waiting_holds_no_slot() {
    let pool = GreenPool::new(1);
    let gate = Semaphore::new(0);
    let member = blocked_member(&pool, &gate);
    let seen = Rc::new(RefCell::new(None));
    let (p, out) = (pool.clone(), seen.clone());
    let spawner = spawn(move || {
        *out.borrow_mut() = Some(p.spawn(|| ()).map(drop));
    });
    yield_now().unwrap();
    spawner.kill();
    let _ = spawner.join();
    assert_eq!(*seen.borrow(), Some(Err(WaitError::Cancelled)));
    assert_eq!(pool.waiting(), 0);
    gate.release();
    member.join().unwrap();
    assert_eq!((pool.running(), pool.free()), (0, 1));
}

#[test]
fn a_slot_handed_to_a_spawner_being_killed_goes_to_the_next() {
    let pool = GreenPool::new(1);
    let gate = Semaphore::new(0);
    let member = blocked_member(&pool, &gate);
    let log = Rc::new(RefCell::new(Vec::new()));
    let spawner = |name: &'static str| {
        let (pool, log) = (pool.clone(), log.clone());
        spawn(move || {
            let r = pool.spawn(|| ()).map(drop);
            log.borrow_mut().push((name, r));
        })
    };
    let doomed = spawner("doomed");
    let next = spawner("next");
    yield_now().unwrap();
    assert_eq!(pool.waiting(), 2);

    doomed.kill(); // woken first...
    gate.release(); // ...then handed the member's slot before it runs
    member.join().unwrap();
    let _ = doomed.join();
    assert_eq!(pool.waiting(), 0, "the slot was lost with `doomed`");
    next.join().unwrap();
    assert_eq!(
        *log.borrow(),
        [("doomed", Err(WaitError::Cancelled)), ("next", Ok(()))]
    );
    pool.waitall().unwrap();
    assert_eq!(pool.free(), 1);
}

#[test]
fn an_enclosing_deadline_bounds_the_wait_for_a_slot() {
    let pool = GreenPool::new(1);
    let gate = Semaphore::new(0);
    let member = blocked_member(&pool, &gate);
    let r = with_timeout(Duration::from_millis(2), || pool.spawn(|| ()).map(drop));
    assert_eq!(r, Err(Elapsed));
    assert_eq!((pool.waiting(), pool.running()), (0, 1));
    gate.release();
    member.join().unwrap();
}

#[test]
fn spawn_n_members_count_and_their_panics_free_the_slot() {
    thicket_green::set_panic_handler(|_| {}); // keep the expected panic quiet
    let pool = GreenPool::new(1);
    pool.spawn_n(|| panic!("detached boom")).unwrap();
    assert_eq!(pool.running(), 1);
    pool.waitall().unwrap();
    assert_eq!(pool.running(), 0);
}
