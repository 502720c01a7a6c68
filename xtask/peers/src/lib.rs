#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod hello;
pub mod may_rt;
/// thicket's side: the very workloads of `green/benches`, compiled here as well.
#[path = "../../../green/benches/workloads.rs"]
pub mod thicket;
/// thicket's socket workloads: those of `green/benches/net.rs`.
#[path = "../../../green/benches/net_workloads.rs"]
pub mod thicket_net;
pub mod tokio_ct;
pub mod tokio_net;
pub mod tokio_time;

use std::time::Duration;

/// One workload as one runtime does it: `run(iters)` does `iters` operations and returns the
/// time they took, leaving set-up (threads, runtimes, channels) out of it where it can.
/// Fits criterion's `iter_custom`.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// The criterion group, shared by the runtimes doing the same work (`spawn_join`).
    pub group: &'static str,
    /// `thicket`, `tokio` or `may`: the criterion function name inside the group.
    pub peer: &'static str,
    /// Runs `iters` operations and returns how long they took.
    pub run: fn(u64) -> Duration,
}

const fn w(group: &'static str, peer: &'static str, run: fn(u64) -> Duration) -> Workload {
    Workload { group, peer, run }
}

/// Every workload, grouped: within a group each runtime does the same work.
///
/// - `spawn_join`: spawn a green thread (task, coroutine) returning a number and join it; the
///   joiner is itself a green thread (a spawned task, a coroutine).
/// - `spawn_join_plain`: the same, joined from plain code: the thread's root for thicket, the
///   `block_on` future for tokio, the main OS thread for may.
/// - `spawn_batch`: spawn [`BATCH`] detached green threads, then run until all are done
///   (thicket `spawn_n` + `run`; tokio and may spawn and join each, as they have no
///   "run until idle"; may's joiner is a coroutine, as a plain-thread join costs a thread park).
/// - `yield_now`: one green thread yields to the scheduler and is resumed; per yield.
/// - `ping_pong`: two green threads on one thread pass a number back and forth over two
///   unbounded queues (tokio `mpsc::unbounded_channel`, may `sync::mpsc`); per round trip.
/// - `ping_pong_threads`: the same between two OS threads. thicket: a green thread on each
///   thread's hub; tokio: a task on each of two `current_thread` runtimes; may: a coroutine on
///   may's one worker and the main OS thread (may's only way to have a second thread).
/// - `event_wake`: two green threads waking each other in turn through two flags; per round
///   trip (two wake-ups). thicket: `Event` set / wait / clear; tokio: `sync::Notify`
///   (`notify_one` / `notified`); may: `sync::Semphore` (`post` / `wait`), the nearest each
///   has to a resettable event.
/// - `timer_cancel`: `event_wake` with a 1 s timeout around every wait, never reached: each
///   wait arms a timer that the wake-up cancels (thicket `Event::wait_timeout`, tokio
///   `time::timeout` around `notified()`, may `Semphore::wait_timeout`); per round trip.
/// - `timer_fire`: 4,000 green threads (tasks, coroutines) each sleeping 100 µs again and
///   again (thicket `sleep`, tokio `time::sleep`, which rounds up to its 1 ms tick, may
///   `coroutine::sleep`); per sleep armed and fired.
/// - `tcp_echo_rtt`: a 64-byte message echoed back over one loopback connection, client and
///   server on one thread; per round trip.
/// - `tcp_throughput_1`: one connection, both ends on one thread; per 64 KiB chunk sent.
/// - `tcp_throughput_1000`: 1,000 connections at once on one thread; per 64 KiB written at
///   once on each, read 1 KiB at a time; connecting and closing are not timed.
/// - `tcp_echo_1000`: 1,000 connections on one thread, each a client and an echo server;
///   per iteration every connection makes one 64-byte round trip; timed once each connection
///   has made one.
/// - `forward`: 1 MiB per iteration from a plain sender thread through a forwarder on its own
///   thread to a plain receiver thread. thicket: two green threads with `net::copy` (64 KiB
///   buffer) or `net::copy_splice`; tokio: `copy_bidirectional`; `direct`: no forwarder at all.
pub const WORKLOADS: &[Workload] = &[
    w("spawn_join", "thicket", thicket::spawn_join),
    w("spawn_join", "tokio", tokio_ct::spawn_join),
    w("spawn_join", "may", may_rt::spawn_join),
    w("spawn_join_plain", "thicket", thicket::spawn_join_plain),
    w("spawn_join_plain", "tokio", tokio_ct::spawn_join_plain),
    w("spawn_join_plain", "may", may_rt::spawn_join_plain),
    w("spawn_batch", "thicket", thicket::spawn_batch),
    w("spawn_batch", "tokio", tokio_ct::spawn_batch),
    w("spawn_batch", "may", may_rt::spawn_batch),
    w("yield_now", "thicket", thicket::yield_now),
    w("yield_now", "tokio", tokio_ct::yield_now),
    w("yield_now", "may", may_rt::yield_now),
    w("ping_pong", "thicket", thicket::ping_pong),
    w("ping_pong", "tokio", tokio_ct::ping_pong),
    w("ping_pong", "may", may_rt::ping_pong),
    w("ping_pong_threads", "thicket", thicket::ping_pong_threads),
    w("ping_pong_threads", "tokio", tokio_ct::ping_pong_threads),
    w("ping_pong_threads", "may", may_rt::ping_pong_threads),
    w("event_wake", "thicket", thicket::event_wake),
    w("event_wake", "tokio", tokio_ct::event_wake),
    w("event_wake", "may", may_rt::event_wake),
    w("timer_cancel", "thicket", thicket::timer_cancel),
    w("timer_cancel", "tokio", tokio_time::timer_cancel),
    w("timer_cancel", "may", may_rt::timer_cancel),
    w("timer_fire", "thicket", thicket::timer_fire),
    w("timer_fire", "tokio", tokio_time::timer_fire),
    w("timer_fire", "may", may_rt::timer_fire),
    w("tcp_echo_rtt", "thicket", thicket_net::tcp_echo_rtt),
    w("tcp_echo_rtt", "tokio", tokio_net::tcp_echo_rtt),
    w("tcp_throughput_1", "thicket", thicket_net::tcp_throughput_1),
    w("tcp_throughput_1", "tokio", tokio_net::tcp_throughput_1),
    w(
        "tcp_throughput_1000",
        "thicket",
        thicket_net::tcp_throughput_1000,
    ),
    w(
        "tcp_throughput_1000",
        "tokio",
        tokio_net::tcp_throughput_1000,
    ),
    w("tcp_echo_1000", "thicket", thicket_net::tcp_echo_1000),
    w("tcp_echo_1000", "tokio", tokio_net::tcp_echo_1000),
    w("forward", "thicket", thicket_net::forward),
    w("forward", "thicket_splice", thicket_net::forward_splice),
    w("forward", "tokio", tokio_net::forward),
    w("forward", "direct", thicket_net::forward_direct),
];

/// How many green threads `spawn_batch` spawns before running them.
pub const BATCH: u64 = thicket::BATCH;

/// The workloads of `group`, in table order.
pub fn group(name: &str) -> impl Iterator<Item = &'static Workload> + '_ {
    WORKLOADS.iter().filter(move |w| w.group == name)
}

/// The group names, in table order, each once.
pub fn groups() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for w in WORKLOADS {
        if !out.contains(&w.group) {
            out.push(w.group);
        }
    }
    out
}

/// Looks one workload up by group and peer.
pub fn find(group: &str, peer: &str) -> Option<&'static Workload> {
    WORKLOADS
        .iter()
        .find(|w| w.group == group && w.peer == peer)
}
