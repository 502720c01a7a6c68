//! Property tests: each queue kind behaves like a plain collection model
//! under random non-blocking operations, and concurrent green producers and
//! consumers (with timeouts and give-ups) deliver every item exactly once.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use proptest::prelude::*;
use thicket_green::{
    spawn, yield_now, LifoQueue, PriorityQueue, Queue, TryGetError, TryPutError, WaitError,
};

#[derive(Debug, Clone)]
enum Op {
    TryPut(u8),
    PutZeroTimeout(u8),
    TryGet,
    GetZeroTimeout,
    Resize(Option<usize>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<u8>().prop_map(Op::TryPut),
        2 => any::<u8>().prop_map(Op::PutZeroTimeout),
        3 => Just(Op::TryGet),
        1 => Just(Op::GetZeroTimeout),
        1 => proptest::option::of(0usize..5).prop_map(Op::Resize),
    ]
}

fn make_capacity() -> impl Strategy<Value = Option<usize>> {
    proptest::option::of(0usize..5)
}

/// Runs `ops` against a queue kind and a model with `push`/`pop` closures.
macro_rules! check_against_model {
    ($queue:ident, $cap:expr, $ops:expr, $model:expr, $push:expr, $pop:expr) => {{
        let mut cap: Option<usize> = $cap;
        let q = match cap {
            None => $queue::unbounded(),
            Some(0) => $queue::rendezvous(),
            Some(n) => $queue::bounded(n),
        };
        let mut model = $model;
        let len = |m: &_| -> usize { ::std::iter::Iterator::count(IntoIterator::into_iter(m)) };
        for op in $ops {
            let room = cap.is_none_or(|c| len(&model) < c);
            match op {
                Op::TryPut(x) => {
                    let r = q.try_put(x);
                    if room {
                        prop_assert_eq!(r, Ok(()));
                        $push(&mut model, x);
                    } else {
                        prop_assert_eq!(r, Err(TryPutError::Full(x)));
                    }
                }
                Op::PutZeroTimeout(x) => match q.put_timeout(x, Duration::ZERO) {
                    Ok(()) => {
                        prop_assert!(room, "put succeeded without room");
                        $push(&mut model, x);
                    }
                    Err(e) => {
                        prop_assert!(!room, "put failed with room");
                        prop_assert_eq!(e.error(), WaitError::TimedOut);
                        prop_assert_eq!(e.into_inner(), x, "the item came back");
                    }
                },
                Op::TryGet => match $pop(&mut model) {
                    Some(x) => prop_assert_eq!(q.try_get(), Ok(x)),
                    None => prop_assert_eq!(q.try_get(), Err(TryGetError::Empty)),
                },
                Op::GetZeroTimeout => match $pop(&mut model) {
                    Some(x) => prop_assert_eq!(q.get_timeout(Duration::ZERO), Ok(x)),
                    None => {
                        prop_assert_eq!(q.get_timeout(Duration::ZERO), Err(WaitError::TimedOut))
                    }
                },
                Op::Resize(c) => {
                    q.resize(c);
                    cap = c;
                }
            }
            prop_assert_eq!(q.len(), len(&model));
            prop_assert_eq!(q.capacity(), cap);
            prop_assert_eq!(q.is_full(), !cap.is_none_or(|c| len(&model) < c));
            prop_assert_eq!(q.getting() + q.putting(), 0, "nobody left waiting");
        }
        // Closing drains exactly what the model holds, in its order.
        q.close();
        while let Some(x) = $pop(&mut model) {
            prop_assert_eq!(q.get(), Ok(x));
        }
        prop_assert_eq!(q.get(), Err(WaitError::Closed));
    }};
}

proptest! {
    #[test]
    fn queue_matches_a_vecdeque_model(
        cap in make_capacity(),
        ops in proptest::collection::vec(op(), 0..80),
    ) {
        check_against_model!(
            Queue, cap, ops, VecDeque::<u8>::new(),
            |m: &mut VecDeque<u8>, x| m.push_back(x),
            |m: &mut VecDeque<u8>| m.pop_front()
        );
    }

    #[test]
    fn lifo_queue_matches_a_vec_model(
        cap in make_capacity(),
        ops in proptest::collection::vec(op(), 0..80),
    ) {
        check_against_model!(
            LifoQueue, cap, ops, Vec::<u8>::new(),
            |m: &mut Vec<u8>, x| m.push(x),
            |m: &mut Vec<u8>| m.pop()
        );
    }

    #[test]
    fn priority_queue_matches_a_heap_model(
        cap in make_capacity(),
        ops in proptest::collection::vec(op(), 0..80),
    ) {
        check_against_model!(
            PriorityQueue, cap, ops, BinaryHeap::<Reverse<u8>>::new(),
            |m: &mut BinaryHeap<Reverse<u8>>, x| m.push(Reverse(x)),
            |m: &mut BinaryHeap<Reverse<u8>>| m.pop().map(|Reverse(x)| x)
        );
    }
}

/// How a producer or consumer waits in the delivery property.
#[derive(Debug, Clone, Copy)]
enum Patience {
    /// Plain `put`/`get`.
    Forever,
    /// `put_timeout`/`get_timeout` with this many microseconds, retrying
    /// (with the handed-back item) after each timeout and a yield.
    Micros(u64),
}

fn patience() -> impl Strategy<Value = Patience> {
    prop_oneof![
        Just(Patience::Forever),
        (0u64..200).prop_map(Patience::Micros)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn green_producers_and_consumers_deliver_every_item_exactly_once(
        cap in make_capacity(),
        producers in proptest::collection::vec((0u32..40, patience(), any::<bool>()), 1..5),
        consumers in proptest::collection::vec((patience(), any::<bool>()), 1..5),
    ) {
        let q = Queue::<u32>::unbounded();
        q.resize(cap);
        let producer_threads: Vec<_> = producers
            .iter()
            .enumerate()
            .map(|(p, &(count, patience, yields))| {
                let q = q.clone();
                spawn(move || {
                    for i in 0..count {
                        let mut item = (p as u32) * 1000 + i;
                        loop {
                            let r = match patience {
                                Patience::Forever => q.put(item),
                                Patience::Micros(us) => {
                                    q.put_timeout(item, Duration::from_micros(us))
                                }
                            };
                            match r {
                                Ok(()) => break,
                                Err(e) => {
                                    assert_eq!(e.error(), WaitError::TimedOut);
                                    item = e.into_inner();
                                    // A deadline already past fails without
                                    // parking: let the others run.
                                    yield_now().unwrap();
                                }
                            }
                        }
                        if yields {
                            yield_now().unwrap();
                        }
                    }
                })
            })
            .collect();
        let delivered = Rc::new(RefCell::new(Vec::new()));
        let consumer_threads: Vec<_> = consumers
            .iter()
            .map(|&(patience, yields)| {
                let (q, delivered) = (q.clone(), delivered.clone());
                spawn(move || loop {
                    let r = match patience {
                        Patience::Forever => q.get(),
                        Patience::Micros(us) => q.get_timeout(Duration::from_micros(us)),
                    };
                    match r {
                        Ok(v) => delivered.borrow_mut().push(v),
                        Err(WaitError::TimedOut) => yield_now().unwrap(),
                        Err(WaitError::Closed) => break,
                        Err(e) => panic!("unexpected {e}"),
                    }
                    if yields {
                        yield_now().unwrap();
                    }
                })
            })
            .collect();
        for p in &producer_threads {
            p.join().unwrap();
        }
        q.close();
        for c in &consumer_threads {
            c.join().unwrap();
        }
        let mut got = delivered.borrow().clone();
        got.sort_unstable();
        let mut expected: Vec<u32> = producers
            .iter()
            .enumerate()
            .flat_map(|(p, &(count, _, _))| (0..count).map(move |i| p as u32 * 1000 + i))
            .collect();
        expected.sort_unstable();
        prop_assert_eq!(got, expected);
        prop_assert!(q.is_empty());
        let total: usize = producers.iter().map(|p| p.0 as usize).sum();
        prop_assert_eq!(q.unfinished_tasks(), total, "every item put was counted once");
    }
}
