//! Unix-domain streams (listener, connect, pair, half-close) and datagrams.

use std::io::{Read, Write};
use std::net::Shutdown;

use thicket_green::net::{UnixDatagram, UnixListener, UnixStream};
use thicket_green::spawn;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("thicket-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn listener_accepts_and_streams_echo_with_half_close() {
    let dir = temp_dir("unix-stream");
    let path = dir.join("sock");
    let listener = UnixListener::bind(&path).unwrap();
    let server = spawn(move || {
        for _ in 0..3 {
            let (conn, _) = listener.accept().unwrap();
            spawn(move || {
                let mut data = Vec::new();
                (&conn).read_to_end(&mut data).unwrap();
                (&conn).write_all(&data).unwrap();
            });
        }
    });
    let clients: Vec<_> = (0..3)
        .map(|i| {
            let path = path.clone();
            spawn(move || {
                let mut c = UnixStream::connect(&path).unwrap();
                let msg = format!("client {i}");
                c.write_all(msg.as_bytes()).unwrap();
                c.shutdown(Shutdown::Write).unwrap();
                let mut back = String::new();
                c.read_to_string(&mut back).unwrap();
                assert_eq!(back, msg);
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    server.join().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn datagrams_by_path_and_by_pair() {
    let dir = temp_dir("unix-dgram");
    let path = dir.join("dgram");
    let server = UnixDatagram::bind(&path).unwrap();
    let client = UnixDatagram::unbound().unwrap();
    let receiver = spawn(move || {
        let mut buf = [0; 16];
        let (n, _) = server.recv_from(&mut buf).unwrap();
        buf[..n].to_vec()
    });
    client.send_to(b"by path", &path).unwrap();
    assert_eq!(receiver.join().unwrap(), b"by path");

    let (a, b) = UnixDatagram::pair().unwrap();
    let r = spawn(move || {
        let mut buf = [0; 16];
        b.recv(&mut buf).map(|n| buf[..n].to_vec()).unwrap()
    });
    a.send(b"paired").unwrap();
    assert_eq!(r.join().unwrap(), b"paired");
    std::fs::remove_dir_all(&dir).unwrap();
}
