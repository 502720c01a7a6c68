//! A second green thread sends while the first waits in `recv`, over TCP
//! and TLS, and messages from many senders are never interleaved.

mod ws_support;

use std::time::Duration;

use thicket_http::ws::{self, Message};
use thicket_http::{Request, RunningServer, Server};

/// A server that, per connection, receives in the handler's green thread
/// while four other green threads each send 50 large messages.
fn server(tls: Option<std::sync::Arc<thicket_green::tls::ServerConfig>>) -> RunningServer {
    let config = ws::Config::new().compression(false);
    let mut s = Server::bind("127.0.0.1:0").unwrap();
    if let Some(t) = tls {
        s = s.tls(t);
    }
    s.start(move |req: Request| {
        ws::upgrade(&req, &config, |mut socket| {
            let senders: Vec<_> = (0..4u8)
                .map(|id| {
                    let tx = socket.sender();
                    thicket_green::spawn(move || {
                        for i in 0..50u32 {
                            let mut body = vec![id; 100_000 + i as usize];
                            body[..4].copy_from_slice(&i.to_be_bytes());
                            tx.send(Message::binary(body)).unwrap();
                        }
                    })
                })
                .collect();
            // Meanwhile this green thread waits for the client's "stop".
            let got = socket.recv().unwrap();
            assert_eq!(got, Message::text("stop"));
            for s in senders {
                s.join().unwrap();
            }
            socket.send(Message::text("done")).unwrap();
            let _ = socket.recv();
        })
    })
    .unwrap()
}

fn check(mut socket: ws::WebSocket) {
    let mut next = [0u32; 4];
    for _ in 0..200 {
        let m = socket.recv_timeout(Duration::from_secs(30)).unwrap();
        let Message::Binary(b) = m else {
            panic!("expected binary, got {m:?}")
        };
        let id = b[4] as usize;
        let i = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        assert_eq!(i, next[id], "sender {id}'s messages arrive in order");
        next[id] += 1;
        assert_eq!(b.len(), 100_000 + i as usize);
        // Not interleaved: every byte past the counter is the sender's.
        assert!(
            b[4..].iter().all(|&x| x as usize == id),
            "a message was mixed"
        );
    }
    socket.send(Message::text("stop")).unwrap();
    assert_eq!(socket.recv().unwrap(), Message::text("done"));
    socket.close(1000, "").unwrap();
}

#[test]
fn senders_do_not_interleave_over_tcp() {
    let server = server(None);
    check(ws::connect(&ws_support::url(&server, "/")).unwrap());
}

#[test]
fn senders_do_not_interleave_over_tls() {
    let (server_tls, client_tls) = ws_support::tls_pair();
    let server = server(Some(server_tls));
    let url = format!("wss://localhost:{}/", server.local_addr().port());
    let socket = ws::Connector::new(url)
        .tls_config(client_tls)
        .connect()
        .unwrap();
    check(socket);
}

#[test]
fn a_tls_send_is_not_held_up_by_a_waiting_recv() {
    // The client waits in recv (nothing will come) while another green
    // thread sends: the server echoes, which ends the wait.
    let (server_tls, client_tls) = ws_support::tls_pair();
    let config = ws::Config::new();
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .tls(server_tls)
        .start(move |req: Request| ws::upgrade(&req, &config, ws_support::echo))
        .unwrap();
    let url = format!("wss://localhost:{}/", server.local_addr().port());
    let mut socket = ws::Connector::new(url)
        .tls_config(client_tls)
        .connect()
        .unwrap();
    let tx = socket.sender();
    let writer = thicket_green::spawn(move || tx.send(Message::text("through")));
    assert_eq!(
        socket.recv_timeout(Duration::from_secs(10)).unwrap(),
        Message::text("through")
    );
    writer.join().unwrap().unwrap();
}
