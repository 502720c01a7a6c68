//! Queues shared between OS threads and hubs: plain std threads and green
//! threads on other hubs put and get, and every item arrives exactly once.

use std::cell::RefCell;
use std::rc::Rc;

use thicket_green::{spawn, Event, Queue, Runtime, WaitError};

#[test]
fn a_std_thread_puts_while_green_code_gets() {
    let q = Queue::unbounded();
    let q2 = q.clone(); // kept alive in the other thread: the wait is not a deadlock
    let producer = std::thread::spawn(move || {
        for i in 0..1000 {
            q2.put(i).unwrap();
        }
    });
    let consumer = {
        let q = q.clone();
        spawn(move || (0..1000).map(|_| q.get().unwrap()).collect::<Vec<_>>())
    };
    assert_eq!(consumer.join().unwrap(), (0..1000).collect::<Vec<_>>());
    producer.join().unwrap();
}

#[test]
fn a_std_thread_blocks_on_a_full_queue_until_green_code_makes_room() {
    let q = Queue::bounded(1);
    let q2 = q.clone();
    let producer = std::thread::spawn(move || {
        for i in 0..200 {
            q2.put(i).unwrap();
        }
        q2.close();
    });
    let mut got = Vec::new();
    loop {
        match q.get() {
            Ok(v) => got.push(v),
            Err(WaitError::Closed) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(got, (0..200).collect::<Vec<_>>());
    producer.join().unwrap();
}

#[test]
fn a_std_thread_gets_from_a_rendezvous_queue_green_code_puts_to() {
    let q = Queue::rendezvous();
    let q2 = q.clone();
    let consumer = std::thread::spawn(move || {
        let mut got = Vec::new();
        while let Ok(v) = q2.get() {
            got.push(v);
        }
        got
    });
    for i in 0..100 {
        q.put(i).unwrap(); // returns once the other thread has taken it
    }
    q.close();
    assert_eq!(consumer.join().unwrap(), (0..100).collect::<Vec<_>>());
}

#[test]
fn std_and_green_producers_and_consumers_deliver_every_item_once() {
    const PER: u32 = 300;
    let q = Queue::bounded(3);
    let producers: Vec<_> = (0..2u32)
        .map(|p| {
            let (q, done) = (q.clone(), Event::new());
            let d = done.clone();
            let t = std::thread::spawn(move || {
                for i in 0..PER {
                    q.put(p * PER + i).unwrap();
                }
                d.set();
            });
            (t, done)
        })
        .collect();
    let std_consumer = {
        let q = q.clone();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            while let Ok(v) = q.get() {
                got.push(v);
            }
            got
        })
    };
    let green_got = Rc::new(RefCell::new(Vec::new()));
    let green_consumers: Vec<_> = (0..3)
        .map(|_| {
            let (q, got) = (q.clone(), green_got.clone());
            spawn(move || {
                while let Ok(v) = q.get() {
                    got.borrow_mut().push(v);
                }
            })
        })
        .collect();
    // Wait the green way, so the green consumers keep running meanwhile.
    for (_, done) in &producers {
        done.wait().unwrap();
    }
    q.close();
    for c in &green_consumers {
        c.join().unwrap();
    }
    let mut all = std_consumer.join().unwrap();
    all.extend(green_got.borrow().iter().copied());
    for (t, _) in producers {
        t.join().unwrap();
    }
    all.sort_unstable();
    assert_eq!(all, (0..2 * PER).collect::<Vec<_>>());
}

#[test]
fn green_threads_on_several_hubs_share_a_queue() {
    const PER: u64 = 200;
    let rt = Runtime::new(2).unwrap();
    let q = Queue::bounded(4);
    let producers: Vec<_> = (0..4u64)
        .map(|p| {
            let q = q.clone();
            rt.spawn(move || {
                for i in 0..PER {
                    q.put(p * PER + i).unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let q = q.clone();
            rt.spawn(move || {
                let mut got = Vec::new();
                while let Ok(v) = q.get() {
                    got.push(v);
                }
                got
            })
        })
        .collect();
    for p in &producers {
        p.join().unwrap();
    }
    q.close();
    let mut all: Vec<u64> = consumers.iter().flat_map(|c| c.join().unwrap()).collect();
    all.sort_unstable();
    assert_eq!(all, (0..4 * PER).collect::<Vec<_>>());
}

#[test]
fn task_done_from_another_thread_ends_a_join() {
    let q = Queue::unbounded();
    for i in 0..10 {
        q.put(i).unwrap();
    }
    let q2 = q.clone();
    let worker = std::thread::spawn(move || {
        while let Ok(_item) = q2.get() {
            q2.task_done().unwrap();
        }
    });
    q.join().unwrap();
    assert_eq!(q.unfinished_tasks(), 0);
    q.close();
    worker.join().unwrap();
}
