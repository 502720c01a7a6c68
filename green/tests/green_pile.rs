//! GreenPile: results read back in spawn order, through a bounded pool.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use thicket_green::{
    sleep, with_timeout, yield_now, Elapsed, GreenPile, GreenPool, JoinError, Semaphore,
};

#[test]
fn results_come_back_in_spawn_order() {
    let mut pile = GreenPile::new(8);
    for ms in [6u64, 0, 3, 1] {
        pile.spawn(move || {
            sleep(Duration::from_millis(ms)).unwrap();
            ms
        })
        .unwrap();
    }
    assert_eq!(pile.len(), 4);
    let out: Vec<u64> = pile.by_ref().map(Result::unwrap).collect();
    assert_eq!(out, [6, 0, 3, 1]);
    assert!(pile.is_empty());
}

#[test]
fn a_pile_on_a_shared_pool_respects_its_size() {
    let pool = GreenPool::new(2);
    let mut pile = GreenPile::with_pool(&pool);
    let inside = Rc::new(Cell::new(0));
    let most = Rc::new(Cell::new(0));
    for i in 0..6 {
        let (inside, most) = (inside.clone(), most.clone());
        // Waits here whenever two are running.
        pile.spawn(move || {
            inside.set(inside.get() + 1);
            most.set(most.get().max(inside.get()));
            yield_now().unwrap();
            inside.set(inside.get() - 1);
            i
        })
        .unwrap();
    }
    let out: Vec<i32> = pile.map(Result::unwrap).collect();
    assert_eq!(out, [0, 1, 2, 3, 4, 5]);
    assert_eq!(most.get(), 2);
    assert_eq!(pool.running(), 0);
}

#[test]
fn panics_come_back_as_errors_in_place() {
    let mut pile = GreenPile::new(4);
    let gate = Semaphore::new(0);
    pile.spawn(|| 1).unwrap();
    pile.spawn(|| panic!("two")).unwrap();
    let g = gate.clone();
    pile.spawn(move || {
        g.acquire().unwrap().forget();
        3
    })
    .unwrap();
    assert!(matches!(pile.next(), Some(Ok(1))));
    let err: JoinError = pile.next().unwrap().unwrap_err();
    assert_eq!(err.panic_message(), Some("two"));
    gate.release();
    assert!(matches!(pile.next(), Some(Ok(3))));
    assert!(pile.next().is_none());
    assert_eq!(pile.pool().running(), 0);
}

#[test]
fn more_can_be_spawned_after_reading() {
    let mut pile = GreenPile::new(2);
    pile.spawn(|| "a").unwrap();
    assert_eq!(pile.next().unwrap().unwrap(), "a");
    assert!(pile.next().is_none());
    pile.spawn(|| "b").unwrap();
    pile.spawn(|| "c").unwrap();
    let rest: Vec<&str> = pile.map(Result::unwrap).collect();
    assert_eq!(rest, ["b", "c"]);
}

#[test]
fn a_reader_whose_wait_times_out_loses_nothing() {
    let mut pile = GreenPile::new(2);
    let gate = Semaphore::new(0);
    let g = gate.clone();
    pile.spawn(move || {
        g.acquire().unwrap().forget();
        "slow"
    })
    .unwrap();
    let r = with_timeout(Duration::from_millis(2), || pile.next());
    assert_eq!(r.map(|_| ()), Err(Elapsed));
    assert_eq!(pile.len(), 1);
    gate.release();
    assert_eq!(pile.next().unwrap().unwrap(), "slow");
}
