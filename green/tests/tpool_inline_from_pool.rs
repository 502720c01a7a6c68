//! execute called on a pool thread runs the closure right there instead of
//! queueing it (which could deadlock a full pool).

use thicket_green::tpool;

#[test]
fn nested_execute_runs_inline_on_the_same_thread() {
    assert!(!tpool::in_pool());
    let (outer, inner, in_pool) = tpool::execute(|| {
        let outer = std::thread::current().id();
        let (inner, in_pool) =
            tpool::execute(|| (std::thread::current().id(), tpool::in_pool())).unwrap();
        (outer, inner, in_pool)
    })
    .unwrap();
    assert_eq!(outer, inner);
    assert!(in_pool);
    assert_ne!(outer, std::thread::current().id());
}

#[test]
fn a_nested_panic_comes_back_to_the_nested_caller() {
    let r = tpool::execute(|| {
        let inner = tpool::execute(|| -> u8 { panic!("inner") });
        inner.unwrap_err().panic_message().map(str::to_owned)
    });
    assert_eq!(r.unwrap().as_deref(), Some("inner"));
}
