//! 10,000 connections open at once through `serve`, on one hub. The clients
//! run in a child process (this test binary again), so that neither process
//! needs 20,000 descriptors.

use std::cell::Cell;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::Command;
use std::rc::Rc;

use thicket_green::net::{self, Server, TcpStream};
use thicket_green::{spawn, Event, Semaphore};

const CONNECTIONS: usize = 10_000;
const CHILD_ENV: &str = "THICKET_NET_10K_SERVER";
const TEST: &str = "ten_thousand_concurrent_connections_through_serve";

/// Raises the soft descriptor limit to the hard one.
fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct given.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        lim.rlim_cur = lim.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
    lim.rlim_cur
}

#[test]
fn ten_thousand_concurrent_connections_through_serve() {
    let limit = raise_fd_limit();
    assert!(
        limit > CONNECTIONS as u64 + 100,
        "RLIMIT_NOFILE hard limit {limit} is too low for {CONNECTIONS} connections"
    );
    if let Ok(addr) = std::env::var(CHILD_ENV) {
        return clients(addr.parse().unwrap());
    }
    let server = Server::new(net::listen("127.0.0.1:0").unwrap()).concurrency(CONNECTIONS);
    let addr = server.local_addr().unwrap();
    let stop = server.handle();
    let (live, most, served) = (
        Rc::new(Cell::new(0usize)),
        Rc::new(Cell::new(0usize)),
        Rc::new(Cell::new(0usize)),
    );
    let (l, m, s) = (live.clone(), most.clone(), served.clone());
    let serving = spawn(move || {
        server.serve(move |mut conn: TcpStream, _| {
            l.set(l.get() + 1);
            m.set(m.get().max(l.get()));
            let mut msg = [0; 8];
            if conn.read_exact(&mut msg).is_ok() && conn.write_all(&msg).is_ok() {
                // Stay connected until the client hangs up.
                let mut rest = Vec::new();
                if conn.read_to_end(&mut rest).is_ok() && rest.is_empty() {
                    s.set(s.get() + 1);
                }
            }
            l.set(l.get() - 1);
        })
    });
    let exe = std::env::current_exe().unwrap();
    let out = thicket_green::tpool::execute(move || {
        Command::new(exe)
            .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, addr.to_string())
            .output()
    })
    .unwrap()
    .unwrap();
    assert!(
        out.status.success(),
        "client process failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // The child has exited, so every connection is closed; let the
    // handlers see it.
    stop.stop();
    serving.join().unwrap().unwrap();
    assert_eq!(served.get(), CONNECTIONS);
    assert_eq!(
        most.get(),
        CONNECTIONS,
        "not all connections were open at once"
    );
}

/// The child: opens every connection, checks its echo, and hangs up only
/// once all are open.
fn clients(addr: SocketAddr) {
    let all_open = Event::new();
    let opened = Rc::new(Cell::new(0usize));
    // Bounds the handshakes in flight, so the listen backlog never overflows.
    let connecting = Semaphore::new(256);
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            let (all_open, opened, connecting) =
                (all_open.clone(), opened.clone(), connecting.clone());
            spawn(move || {
                let permit = connecting.acquire().unwrap();
                let mut c = TcpStream::connect(addr).unwrap();
                let msg = (i as u64).to_le_bytes();
                c.write_all(&msg).unwrap();
                let mut back = [0; 8];
                c.read_exact(&mut back).unwrap();
                assert_eq!(back, msg);
                drop(permit);
                opened.set(opened.get() + 1);
                if opened.get() == CONNECTIONS {
                    all_open.set();
                }
                all_open.wait().unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}
