//! A member of a GreenPool that spawns into its own full pool gets a slot at
//! once (the pool runs over its size for a while) instead of deadlocking.

use std::cell::Cell;
use std::rc::Rc;

use thicket_green::{spawn, yield_now, GreenPool, Semaphore};

#[test]
fn a_member_spawning_into_its_own_full_pool_does_not_wait() {
    let pool = GreenPool::new(1);
    let p = pool.clone();
    let most = Rc::new(Cell::new(0));
    let m = most.clone();
    let parent = pool
        .spawn(move || {
            let child = p.spawn(|| 21).unwrap(); // the pool is full: it is us
            m.set(p.running());
            child.join().unwrap() * 2
        })
        .unwrap();
    assert_eq!(parent.join().unwrap(), 42);
    assert_eq!(most.get(), 2, "ran over its size while the child ran");
    assert_eq!(pool.running(), 0);
}

fn fib(pool: &GreenPool, n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let p = pool.clone();
    let left = pool.spawn(move || fib(&p, n - 1)).unwrap();
    let right = fib(pool, n - 2);
    left.join().unwrap() + right
}

#[test]
fn a_recursive_fan_out_in_a_tiny_pool_completes() {
    let pool = GreenPool::new(2);
    let p = pool.clone();
    let root = pool.spawn(move || fib(&p, 12)).unwrap();
    assert_eq!(root.join().unwrap(), 144);
    assert_eq!(pool.running(), 0);
}

#[test]
fn outsiders_still_wait_while_members_run_over() {
    let pool = GreenPool::new(1);
    let child_gate = Semaphore::new(0);
    let parent_gate = Semaphore::new(0);
    let (p, cg, pg) = (pool.clone(), child_gate.clone(), parent_gate.clone());
    let parent = pool
        .spawn(move || {
            let child = p.spawn(move || cg.acquire().unwrap().forget()).unwrap();
            child.join().unwrap();
            pg.acquire().unwrap().forget();
        })
        .unwrap();
    yield_now().unwrap();
    assert_eq!(pool.running(), 2);

    let p = pool.clone();
    let outsider = spawn(move || p.spawn(|| "outsider").map(|gt| gt.join().unwrap()));
    yield_now().unwrap();
    assert_eq!(pool.waiting(), 1);

    child_gate.release(); // the child ends: 1 running, not fewer than the size
    yield_now().unwrap();
    assert_eq!((pool.running(), pool.waiting()), (1, 1));
    assert!(!outsider.is_finished());

    parent_gate.release();
    parent.join().unwrap();
    assert_eq!(outsider.join().unwrap(), Ok("outsider"));
    assert_eq!(pool.running(), 0);
}

#[test]
fn a_member_can_imap_over_its_own_full_pool() {
    let pool = GreenPool::new(1);
    let p = pool.clone();
    let member = pool
        .spawn(move || {
            p.imap(|n: u32| n + 1, 0..10)
                .map(Result::unwrap)
                .sum::<u32>()
        })
        .unwrap();
    assert_eq!(member.join().unwrap(), 55);
}
