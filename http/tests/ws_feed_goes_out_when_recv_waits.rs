//! `feed` queues messages: they go out with the next `send` or `flush`,
//! when the receiving green thread has no message left and waits for more,
//! or at once if it already waits; never out of order.

use std::sync::Arc;
use std::time::Duration;

use thicket_green::Event;
use thicket_http::ws::{self, Message, WebSocket};
use thicket_http::{Request, Response, RunningServer, Server};

const WAIT: Duration = Duration::from_secs(10);

fn serve(
    handler: impl Fn(WebSocket) + Clone + Send + Sync + 'static,
) -> (RunningServer, WebSocket) {
    let config = ws::Config::new().compression(false);
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(move |req: Request| -> Response {
            let handler = handler.clone();
            ws::upgrade(&req, &config, handler)
        })
        .unwrap();
    let url = format!("ws://{}/", server.local_addr());
    let client = ws::Connector::new(url)
        .config(ws::Config::new().compression(false))
        .connect()
        .unwrap();
    (server, client)
}

fn expect(socket: &mut WebSocket, want: Message) {
    assert_eq!(socket.recv_timeout(WAIT).unwrap(), want);
}

#[test]
fn a_burst_fed_back_by_an_echo_arrives_whole_and_in_order() {
    let (server, mut client) = serve(|mut socket| {
        while let Ok(msg) = socket.recv() {
            if msg.is_data() && socket.feed(msg).is_err() {
                break;
            }
        }
    });
    // Fed by the client too, with a flush at the end: one burst each way.
    let sizes = [0, 1, 32, 125, 126, 4096, 16_384, 100_000, 7, 65_536];
    let sent: Vec<Message> = (0..300)
        .map(|i| Message::binary(vec![i as u8; sizes[i % sizes.len()]]))
        .collect();
    for m in &sent {
        client.feed(m.clone()).unwrap();
    }
    client.flush().unwrap();
    for m in sent {
        expect(&mut client, m);
    }
    client.close(1000, "done").unwrap();
    server.stop();
}

#[test]
fn send_and_close_write_what_was_fed_before_them() {
    let (server, mut client) = serve(|mut socket| {
        assert_eq!(socket.recv().unwrap(), Message::text("go"));
        socket.feed(Message::text("a")).unwrap();
        socket.feed(Message::text("b")).unwrap();
        socket.send(Message::text("c")).unwrap();
        socket.feed(Message::text("d")).unwrap();
        socket.close(1000, "bye").unwrap();
    });
    client.send(Message::text("go")).unwrap();
    for s in ["a", "b", "c", "d"] {
        expect(&mut client, Message::text(s));
    }
    match client.recv_timeout(WAIT).unwrap() {
        Message::Close(Some(f)) => assert_eq!(f.code, 1000),
        other => panic!("expected the close frame, got {other:?}"),
    }
    server.stop();
}

#[test]
fn a_feed_from_another_green_thread_goes_out_while_recv_waits() {
    let (server, mut client) = serve(|mut socket| {
        let tx = socket.sender();
        // Whether it feeds before or after the recv below starts waiting,
        // the message must go out without anything else happening.
        let pusher = thicket_green::spawn(move || tx.feed(Message::text("pushed")));
        assert_eq!(socket.recv().unwrap(), Message::text("thanks"));
        pusher.join().unwrap().unwrap();
        let _ = socket.recv();
    });
    expect(&mut client, Message::text("pushed"));
    client.send(Message::text("thanks")).unwrap();
    client.close(1000, "done").unwrap();
    server.stop();
}

#[test]
fn flush_writes_what_was_fed_with_no_recv_to_come() {
    let received = Arc::new(Event::new());
    let seen = received.clone();
    let (server, mut client) = serve(move |mut socket| {
        assert_eq!(socket.recv().unwrap(), Message::text("go"));
        socket.feed(Message::text("x")).unwrap();
        socket.flush().unwrap();
        // Not in `recv`: only the flush can have written "x".
        seen.wait().unwrap();
        let _ = socket.recv();
    });
    client.send(Message::text("go")).unwrap();
    expect(&mut client, Message::text("x"));
    received.set();
    client.close(1000, "done").unwrap();
    server.stop();
}
