//! The pool never runs more jobs at once than its bound; extra jobs queue.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use thicket_green::{spawn, tpool};

#[derive(Default)]
struct Gauge {
    state: Mutex<(usize, usize, usize)>, // (running, peak, arrived)
    cv: Condvar,
}

#[test]
fn at_most_max_threads_jobs_run_at_once() {
    tpool::set_max_threads(2);
    assert_eq!(tpool::max_threads(), 2);
    let gauge = Arc::new(Gauge::default());
    let jobs: Vec<_> = (0..6)
        .map(|_| {
            let g = gauge.clone();
            spawn(move || {
                tpool::execute(move || {
                    let mut st = g.state.lock().unwrap();
                    st.0 += 1;
                    st.1 = st.1.max(st.0);
                    st.2 += 1;
                    g.cv.notify_all();
                    // Hold the thread until a second job runs beside this one
                    // (or it is clear none will).
                    let target = st.2.div_ceil(2) * 2;
                    let (mut st, _) =
                        g.cv.wait_timeout_while(st, Duration::from_secs(30), |s| s.2 < target)
                            .unwrap();
                    st.0 -= 1;
                })
                .unwrap()
            })
        })
        .collect();
    for j in &jobs {
        j.join().unwrap();
    }
    let (running, peak, arrived) = *gauge.state.lock().unwrap();
    assert_eq!((running, arrived), (0, 6));
    assert_eq!(peak, 2, "jobs ran {peak} at once with a bound of 2");
    assert!(tpool::thread_count() <= 2);
}
