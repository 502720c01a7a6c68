//! A Room broadcasts to every member; a member that stops reading is
//! dropped (its connection cut) without holding up the others.

mod ws_support;

use std::time::Duration;

use thicket_http::ws::{self, Message, Room};
use thicket_http::{Request, RunningServer, Server};

/// Each connection joins `room`, is told "joined", and its text messages
/// are broadcast to the others.
fn room_server(room: Room) -> RunningServer {
    room_server_on(room, 1)
}

fn room_server_on(room: Room, hubs: usize) -> RunningServer {
    let config = ws::Config::new().compression(false);
    Server::bind("127.0.0.1:0")
        .unwrap()
        .hubs(hubs)
        .start(move |req: Request| {
            let room = room.clone();
            ws::upgrade(&req, &config, move |mut socket| {
                let me = room.join(socket.sender());
                socket.send(Message::text("joined")).unwrap();
                while let Ok(msg) = socket.recv() {
                    if let Message::Text(_) = msg {
                        room.broadcast_except(me, msg);
                    }
                }
                room.leave(me);
            })
        })
        .unwrap()
}

fn join(server: &RunningServer) -> ws::WebSocket {
    let mut s = ws::connect(&ws_support::url(server, "/")).unwrap();
    assert_eq!(s.recv().unwrap(), Message::text("joined"));
    s
}

#[test]
fn messages_reach_every_other_member() {
    let room = Room::new();
    let server = room_server(room.clone());
    let mut a = join(&server);
    let mut b = join(&server);
    let mut c = join(&server);
    assert_eq!(room.len(), 3);
    a.send(Message::text("from a")).unwrap();
    assert_eq!(b.recv().unwrap(), Message::text("from a"));
    assert_eq!(c.recv().unwrap(), Message::text("from a"));
    assert_eq!(room.broadcast(Message::text("to all")), 3);
    for s in [&mut a, &mut b, &mut c] {
        assert_eq!(s.recv().unwrap(), Message::text("to all"));
    }
    // A member that leaves is no longer sent to.
    c.close(1000, "").unwrap();
    b.send(Message::text("from b")).unwrap();
    assert_eq!(a.recv().unwrap(), Message::text("from b"));
}

#[test]
fn a_member_that_stops_reading_is_dropped_and_the_others_keep_up() {
    let room = Room::with_queue_len(2);
    let server = room_server(room.clone());
    let mut fast = join(&server);
    // A raw client that reads its "joined" and then nothing more.
    let (mut slow, _) = ws_support::RawClient::handshake(server.local_addr(), "");
    assert_eq!(slow.read_frame(), Some((true, 1, b"joined".to_vec())));
    assert_eq!(room.len(), 2);
    let big = vec![7u8; 1 << 20];
    let mut sent = 0u32;
    while room.len() == 2 {
        assert!(sent < 500, "the slow member was never dropped");
        let mut msg = big.clone();
        msg[..4].copy_from_slice(&sent.to_be_bytes());
        room.broadcast(Message::binary(msg));
        let got = fast.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(
            got.as_bytes()[..4],
            sent.to_be_bytes(),
            "in order, none lost"
        );
        sent += 1;
    }
    assert!(sent > 2, "dropped only once its queue was full");
    // The fast member still gets everything.
    room.broadcast(Message::text("after"));
    assert_eq!(fast.recv().unwrap(), Message::text("after"));
    // The slow one's connection was cut: after what was in flight, the end.
    slow.s
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut frames = 0;
    while slow.read_frame().is_some() {
        frames += 1;
    }
    assert!(
        frames < sent as usize + 1,
        "{frames} frames reached the slow member"
    );
}

#[test]
fn a_room_spans_hubs() {
    // Members on two hubs (OS threads): the queues, senders and the
    // room's lock work across them.
    let room = Room::new();
    let server = room_server_on(room.clone(), 2);
    let mut members: Vec<ws::WebSocket> = (0..6).map(|_| join(&server)).collect();
    assert_eq!(room.len(), 6);
    for (i, m) in members.iter().enumerate() {
        m.send(Message::text(format!("line {i}"))).unwrap();
    }
    for (i, m) in members.iter_mut().enumerate() {
        let mut got: Vec<String> = (0..5)
            .map(|_| {
                let msg = m.recv_timeout(Duration::from_secs(10)).unwrap();
                msg.as_text().unwrap().to_owned()
            })
            .collect();
        got.sort();
        let want: Vec<String> = (0..6)
            .filter(|&j| j != i)
            .map(|j| format!("line {j}"))
            .collect();
        assert_eq!(got, want, "member {i}");
    }
}
