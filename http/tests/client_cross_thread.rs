//! One client shared by OS threads (each with its own hub) and green
//! threads: a connection pooled by one thread is reused by another.

mod client_support;

use client_support::{answer_all, TestServer};
use thicket_green::GreenPool;
use thicket_http::Client;

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

#[test]
fn a_connection_pooled_on_one_thread_serves_another() {
    let server = TestServer::start(answer_all(OK));
    let client = Client::new();
    for _ in 0..3 {
        let (client, url) = (client.clone(), server.url("/"));
        std::thread::spawn(move || client.get(url).send().unwrap().text().unwrap())
            .join()
            .map(|body| assert_eq!(body, "ok"))
            .unwrap();
    }
    assert_eq!(server.accepted(), 1, "three threads, one connection");
}

#[test]
fn threads_and_green_threads_share_the_pool() {
    let server = TestServer::start(answer_all(OK));
    let client = Client::new();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let (client, url) = (client.clone(), server.url("/"));
            std::thread::spawn(move || {
                let pool = GreenPool::new(4);
                let results: Vec<_> = (0..20)
                    .map(|_| {
                        let (client, url) = (client.clone(), url.clone());
                        pool.spawn(move || client.get(url).send().unwrap().text().unwrap())
                            .unwrap()
                    })
                    .collect();
                results
                    .into_iter()
                    .map(|r| r.join().unwrap())
                    .filter(|b| b == "ok")
                    .count()
            })
        })
        .collect();
    let ok: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(ok, 60);
    assert_eq!(server.requests().len(), 60);
    assert!(
        server.accepted() <= 12,
        "at most one connection per concurrent request: {}",
        server.accepted()
    );
}
