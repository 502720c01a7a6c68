//! The pool's limits: idle connections per host, connections per host (the
//! next request waits), the idle timeout, and closing idle connections.

mod client_support;

use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

use client_support::{answer_all, ServerConn, TestServer};
use thicket_http::{Client, ErrorKind};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// Answers each connection's first request only once `n` connections have
/// a request in flight, so that `n` requests are surely concurrent.
fn concurrent(n: usize) -> impl Fn(&mut ServerConn) + Send + Sync + 'static {
    let barrier = Arc::new(Barrier::new(n));
    move |c: &mut ServerConn| {
        let mut first = true;
        while c.read_request().is_some() {
            if first && c.index < n {
                barrier.wait();
            }
            first = false;
            c.write(OK);
        }
    }
}

fn get_concurrently(client: &Client, url: &str, n: usize) {
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (client, url) = (client.clone(), url.to_string());
            thicket_green::spawn(move || client.get(url).send().unwrap().text().unwrap())
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), "ok");
    }
}

#[test]
fn at_most_max_idle_connections_are_kept() {
    let server = TestServer::start(concurrent(3));
    let client = Client::builder().pool_max_idle_per_host(1).build().unwrap();
    get_concurrently(&client, &server.url("/"), 3);
    assert_eq!(server.accepted(), 3);
    // One connection was kept: the next two concurrent requests need one
    // new connection between them.
    get_concurrently(&client, &server.url("/"), 2);
    assert_eq!(server.accepted(), 4);
}

#[test]
fn max_connections_per_host_makes_requests_wait() {
    let server = TestServer::start(answer_all(OK));
    let client = Client::builder()
        .max_connections_per_host(1)
        .build()
        .unwrap();
    let held = client.get(server.url("/")).send().unwrap();
    // The only connection is busy until `held`'s body is read.
    let e = client
        .get(server.url("/"))
        .timeout(Duration::from_millis(100))
        .send()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    assert!(
        e.to_string().contains("waiting for a free connection"),
        "{e}"
    );
    assert!(e.to_string().contains("at most 1 per host"), "{e}");

    // A waiter gets the connection as soon as the body is read.
    let waiter = {
        let (client, url) = (client.clone(), server.url("/"));
        thicket_green::spawn(move || client.get(url).send().unwrap().text().unwrap())
    };
    thicket_green::yield_now().unwrap();
    assert_eq!(held.text().unwrap(), "ok");
    assert_eq!(waiter.join().unwrap(), "ok");
    assert_eq!(server.accepted(), 1);
}

#[test]
fn idle_connections_expire() {
    let server = TestServer::start(answer_all(OK));
    // Long enough that the first two requests surely fall within it.
    let idle = Duration::from_millis(300);
    let client = Client::builder().pool_idle_timeout(idle).build().unwrap();
    client.get(server.url("/")).send().unwrap().text().unwrap();
    client.get(server.url("/")).send().unwrap().text().unwrap();
    assert_eq!(server.accepted(), 1);
    // Let the connection sit idle past the timeout: what is tested is the
    // passing of time itself.
    let start = Instant::now();
    thicket_green::sleep(idle * 2).unwrap();
    assert!(start.elapsed() > idle);
    client.get(server.url("/")).send().unwrap().text().unwrap();
    assert_eq!(server.accepted(), 2);
}

#[test]
fn close_idle_connections_closes_them() {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let server = TestServer::start(move |c| {
        while c.read_request().is_some() {
            c.write(OK);
        }
        let _ = tx.lock().unwrap().send(c.index);
    });
    let client = Client::new();
    client.get(server.url("/")).send().unwrap().text().unwrap();
    client.close_idle_connections();
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 0);
}
