//! A full `serve` loop accepts nothing: connections stay in the listen
//! backlog for another loop on the same socket (or for later), and a stop
//! still ends it.

use std::io::{Read, Write};
use std::time::Duration;

use thicket_green::net::{self, Server, TcpStream};
use thicket_green::{spawn, Event};

#[test]
fn a_full_loop_leaves_the_next_connection_to_another_loop() {
    let listener = net::listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let second_listener = listener.try_clone().unwrap();

    let entered = Event::new();
    let release = Event::new();
    let (e, r) = (entered.clone(), release.clone());
    let full = Server::new(listener).concurrency(1);
    let full_stop = full.handle();
    let full_loop = spawn(move || {
        full.serve(move |mut conn: TcpStream, _| {
            e.set();
            let _ = r.wait();
            let _ = conn.write_all(b"A");
        })
    });
    let mut first = TcpStream::connect(addr).unwrap();
    entered.wait().unwrap();

    // Only now a second loop starts; the first is full.
    let other = Server::new(second_listener).concurrency(10);
    let other_stop = other.handle();
    let other_loop = spawn(move || {
        other.serve(|mut conn: TcpStream, _| {
            let _ = conn.write_all(b"B");
        })
    });
    let mut second = TcpStream::connect(addr).unwrap();
    second
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut b = [0u8; 1];
    second.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"B", "the full loop took the connection");

    release.set();
    first.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"A");
    full_stop.stop();
    other_stop.stop();
    full_loop.join().unwrap().unwrap();
    other_loop.join().unwrap().unwrap();
}

#[test]
fn stop_ends_a_full_loop() {
    let listener = net::listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let entered = Event::new();
    let e = entered.clone();
    let server = Server::new(listener)
        .concurrency(1)
        .grace(Duration::from_millis(50));
    let stop = server.handle();
    let serving = spawn(move || {
        server.serve(move |_conn: TcpStream, _| {
            e.set();
            // Never finishes by itself: the grace period's kill ends it.
            let _ = thicket_green::sleep(Duration::from_secs(3600));
        })
    });
    let _held = TcpStream::connect(addr).unwrap();
    entered.wait().unwrap();
    stop.stop();
    serving.join().unwrap().unwrap();
    assert!(stop.is_finished());
}
