//! A small job pipeline in plain blocking style: a producer feeds a bounded
//! queue, a pool of 50 green workers "fetches" each job (a sleep standing in
//! for network latency), a deadline cuts slow jobs short, and a second hub
//! thread in a `Runtime` tallies results sent to it over a cross-thread
//! queue. 1,000 jobs of 1-20 ms each finish in well under a second on one
//! core, because the waits overlap. Ends by itself.

use std::time::{Duration, Instant};

use thicket_green::{sleep, spawn, with_timeout, GreenPool, Queue, Runtime, WaitError};

const JOBS: u64 = 1_000;
const WORKERS: usize = 50;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let jobs: Queue<u64> = Queue::bounded(100);
    let results: Queue<Result<u64, u64>> = Queue::unbounded();

    // The tally lives on another hub thread; queues work across threads.
    let rt = Runtime::new(1)?;
    let tally = {
        let results = results.clone();
        rt.spawn(move || {
            let (mut ok, mut late) = (0u64, 0u64);
            while let Ok(r) = results.get() {
                match r {
                    Ok(_) => ok += 1,
                    Err(_) => late += 1,
                }
            }
            (ok, late)
        })
    };

    let producer = {
        let jobs = jobs.clone();
        spawn(move || {
            for id in 0..JOBS {
                jobs.put(id).map_err(|e| e.error())?;
            }
            jobs.close();
            Ok::<_, WaitError>(())
        })
    };

    let pool = GreenPool::new(WORKERS);
    for _ in 0..WORKERS {
        let (jobs, results) = (jobs.clone(), results.clone());
        pool.spawn_n(move || {
            while let Ok(id) = jobs.get() {
                // Pretend to fetch: 1-20 ms, and give up after 15 ms.
                let latency = Duration::from_millis(1 + (id * 7919) % 20);
                let outcome = with_timeout(Duration::from_millis(15), || sleep(latency));
                let sent = match outcome {
                    Ok(Ok(())) => results.put(Ok(id)),
                    _ => results.put(Err(id)),
                };
                if sent.is_err() {
                    return;
                }
            }
        })?;
    }

    producer.join()??;
    pool.waitall()?;
    results.close();
    let (ok, late) = tally.join()?;
    println!(
        "{} jobs: {ok} done, {late} cut off by their deadline, in {:?} with {WORKERS} green workers",
        ok + late,
        started.elapsed()
    );
    assert_eq!(ok + late, JOBS);
    Ok(())
}
