//! The closing handshake and the ways a connection fails, seen from a raw
//! client that sends exact frames: close codes are echoed, protocol errors
//! get 1002, bad text 1007, oversized messages 1009, and the server
//! closes the TCP connection first.

mod ws_support;

use std::sync::mpsc;
use std::time::Duration;

use thicket_http::ws::{self, CloseFrame, Message};
use thicket_http::{ErrorKind, Request, RunningServer, Server};
use ws_support::RawClient;

/// A server whose handler reports what each `recv` returned.
fn reporting_server(
    config: ws::Config,
) -> (RunningServer, mpsc::Receiver<Result<Message, ErrorKind>>) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(move |req: Request| {
            let tx = tx.lock().unwrap().clone();
            ws::upgrade(&req, &config, move |mut socket| loop {
                let r = socket.recv().map_err(|e| e.kind());
                let end = r.is_err() || matches!(r, Ok(Message::Close(_)));
                let _ = tx.send(r);
                if end {
                    break;
                }
            })
        })
        .unwrap();
    (server, rx)
}

fn next(rx: &mpsc::Receiver<Result<Message, ErrorKind>>) -> Result<Message, ErrorKind> {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the handler reports")
}

#[test]
fn a_close_from_the_client_is_echoed_and_the_server_closes_first() {
    let (server, rx) = reporting_server(ws::Config::new());
    let (mut c, _) = RawClient::handshake(server.local_addr(), "");
    c.send_frame(true, 8, b"\x0f\xa0see you");
    assert_eq!(
        c.read_frame(),
        Some((true, 8, vec![0x0f, 0xa0])),
        "code echoed"
    );
    assert!(c.closed_by_server(), "the server ends the TCP connection");
    drop(c);
    assert_eq!(
        next(&rx),
        Ok(Message::Close(Some(CloseFrame::new(4000, "see you"))))
    );
}

#[test]
fn protocol_errors_fail_with_the_right_code() {
    let cases: Vec<(&str, Vec<u8>, u16, ErrorKind)> = vec![
        (
            "unmasked frame",
            vec![0x81, 0x01, b'x'],
            1002,
            ErrorKind::Parse,
        ),
        (
            "reserved opcode",
            ws_support::masked_frame(true, 3, b""),
            1002,
            ErrorKind::Parse,
        ),
        (
            "close code 1005",
            ws_support::masked_frame(true, 8, &1005u16.to_be_bytes()),
            1002,
            ErrorKind::Parse,
        ),
        (
            "text not UTF-8",
            ws_support::masked_frame(true, 1, b"\xff"),
            1007,
            ErrorKind::Decode,
        ),
        (
            "too big",
            ws_support::masked_frame(true, 2, &[0; 2000]),
            1009,
            ErrorKind::TooLarge,
        ),
    ];
    let (server, rx) = reporting_server(ws::Config::new().max_message_size(1000));
    for (name, bytes, code, kind) in cases {
        let (mut c, _) = RawClient::handshake(server.local_addr(), "");
        std::io::Write::write_all(&mut c.s, &bytes).unwrap();
        let (fin, op, payload) = c.read_frame().expect("a close frame");
        assert_eq!((fin, op), (true, 8), "{name}");
        assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), code, "{name}");
        assert!(
            c.closed_by_server(),
            "{name}: the server ends the connection"
        );
        // The server drains until the client closes too, then reports.
        drop(c);
        assert_eq!(next(&rx), Err(kind), "{name}");
    }
}

#[test]
fn a_peer_that_vanishes_is_closed_1006() {
    let (server, rx) = reporting_server(ws::Config::new());
    let (c, _) = RawClient::handshake(server.local_addr(), "");
    drop(c);
    assert_eq!(next(&rx), Err(ErrorKind::Closed));
}

#[test]
fn a_handler_that_returns_closes_with_1001() {
    let config = ws::Config::new();
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(move |req: Request| ws::upgrade(&req, &config, drop))
        .unwrap();
    let (mut c, _) = RawClient::handshake(server.local_addr(), "");
    assert_eq!(
        c.read_frame(),
        Some((true, 8, 1001u16.to_be_bytes().to_vec()))
    );
    assert!(c.closed_by_server());
}

#[test]
fn recv_timeout_loses_nothing() {
    let config = ws::Config::new();
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(move |req: Request| {
            ws::upgrade(&req, &config, |mut socket| {
                let e = socket.recv_timeout(Duration::from_millis(200)).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::TimedOut);
                socket.send(Message::text("timed out")).unwrap();
                let got = socket.recv_timeout(Duration::from_secs(10)).unwrap();
                socket
                    .send(Message::text(format!("got {}", got.as_text().unwrap())))
                    .unwrap();
            })
        })
        .unwrap();
    let (mut c, _) = RawClient::handshake(server.local_addr(), "");
    let frame = ws_support::masked_frame(true, 1, b"split in two");
    // Half a frame, then wait for the server to time out on it.
    std::io::Write::write_all(&mut c.s, &frame[..9]).unwrap();
    assert_eq!(c.read_frame(), Some((true, 1, b"timed out".to_vec())));
    std::io::Write::write_all(&mut c.s, &frame[9..]).unwrap();
    assert_eq!(
        c.read_frame(),
        Some((true, 1, b"got split in two".to_vec()))
    );
}

#[test]
fn a_peer_that_ignores_pings_is_dropped() {
    let (server, rx) =
        reporting_server(ws::Config::new().ping_interval(Some(Duration::from_millis(100))));
    let (mut c, _) = RawClient::handshake(server.local_addr(), "");
    // The raw client reads the ping and does not answer.
    assert_eq!(c.read_frame(), Some((true, 9, Vec::new())));
    assert_eq!(next(&rx), Err(ErrorKind::TimedOut));
    assert!(c.read_frame().is_none(), "the connection was cut");
}

#[test]
fn keep_alive_pings_are_answered_by_a_live_peer() {
    let server = ws_support::echo_server(ws::Config::new());
    let mut socket = ws::Connector::new(ws_support::url(&server, "/"))
        .config(ws::Config::new().ping_interval(Some(Duration::from_millis(50))))
        .connect()
        .unwrap();
    // Idle: the client pings, the server's automatic pong comes back.
    for _ in 0..3 {
        let got = socket.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(got, Message::Pong(Default::default()));
    }
}

#[test]
fn a_sender_can_start_the_close_while_another_thread_reads() {
    let server = ws_support::echo_server(ws::Config::new());
    let mut socket = ws::connect(&ws_support::url(&server, "/")).unwrap();
    let tx = socket.sender();
    let closer = thicket_green::spawn(move || tx.close(1000, "from another thread"));
    // The echo server answers the close; recv returns it.
    assert_eq!(
        socket.recv_timeout(Duration::from_secs(10)).unwrap(),
        Message::Close(Some(CloseFrame::new(1000, "")))
    );
    closer.join().unwrap().unwrap();
    assert_eq!(socket.recv().unwrap_err().kind(), ErrorKind::Closed);
    assert!(socket.sender().is_closed());
}
