//! A thicket client and server exchange every kind of message: text,
//! binary (large ones too), pings, and the closing handshake.

mod ws_support;

use thicket_http::ws::{self, CloseFrame, Message};
use thicket_http::ErrorKind;
use ws_support::{echo_server, url};

#[test]
fn text_binary_and_large_messages_echo() {
    let server = echo_server(ws::Config::new());
    let mut socket = ws::connect(&url(&server, "/echo")).unwrap();
    assert!(
        socket.is_compressed(),
        "both sides offer permessage-deflate by default"
    );
    socket.send(Message::text("hello")).unwrap();
    assert_eq!(socket.recv().unwrap(), Message::text("hello"));
    socket.send(Message::text("")).unwrap();
    assert_eq!(socket.recv().unwrap(), Message::text(""));
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    socket.send(Message::binary(big.clone())).unwrap();
    assert_eq!(socket.recv().unwrap(), Message::binary(big));
    let unicode = "κόσμε €𐍈".repeat(1000);
    socket.send(Message::text(unicode.clone())).unwrap();
    assert_eq!(socket.recv().unwrap(), Message::text(unicode));
    socket.close(1000, "bye").unwrap();
    assert_eq!(socket.recv().unwrap_err().kind(), ErrorKind::Closed);
    server.stop();
}

#[test]
fn uncompressed_when_either_side_says_so() {
    let server = echo_server(ws::Config::new().compression(false));
    let mut socket = ws::connect(&url(&server, "/")).unwrap();
    assert!(!socket.is_compressed());
    socket.send(Message::text("plain")).unwrap();
    assert_eq!(socket.recv().unwrap(), Message::text("plain"));
    drop(socket);
    let server2 = echo_server(ws::Config::new());
    let mut socket = ws::Connector::new(url(&server2, "/"))
        .config(ws::Config::new().compression(false))
        .connect()
        .unwrap();
    assert!(!socket.is_compressed());
    socket.send(Message::text("plain")).unwrap();
    assert_eq!(socket.recv().unwrap(), Message::text("plain"));
}

#[test]
fn pings_are_answered_and_returned() {
    let server = echo_server(ws::Config::new());
    let mut socket = ws::connect(&url(&server, "/")).unwrap();
    socket.send(Message::Ping("are you there".into())).unwrap();
    assert_eq!(
        socket.recv().unwrap(),
        Message::Pong("are you there".into())
    );
}

#[test]
fn the_server_closes_with_a_code_and_the_client_sees_it() {
    let config = ws::Config::new();
    let server = thicket_http::Server::bind("127.0.0.1:0")
        .unwrap()
        .start(move |req: thicket_http::Request| {
            ws::upgrade(&req, &config, |mut socket| {
                socket.send(Message::text("going")).unwrap();
                socket.close(4001, "shift over").unwrap();
            })
        })
        .unwrap();
    let mut socket = ws::connect(&url(&server, "/")).unwrap();
    assert_eq!(socket.recv().unwrap(), Message::text("going"));
    assert_eq!(
        socket.recv().unwrap(),
        Message::Close(Some(CloseFrame::new(4001, "shift over")))
    );
    let e = socket.recv().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed);
    assert!(socket.send(Message::text("late")).is_err());
}

#[test]
fn subprotocols_are_negotiated() {
    let server = echo_server(ws::Config::new().protocols(["chat.v2", "chat.v1"]));
    let socket = ws::Connector::new(url(&server, "/"))
        .config(ws::Config::new().protocols(["chat.v1", "chat.v2"]))
        .connect()
        .unwrap();
    assert_eq!(
        socket.protocol(),
        Some("chat.v2"),
        "the server's preference wins"
    );
    let socket = ws::Connector::new(url(&server, "/"))
        .config(ws::Config::new().protocols(["chat.v1"]))
        .connect()
        .unwrap();
    assert_eq!(socket.protocol(), Some("chat.v1"));
    let socket = ws::connect(&url(&server, "/")).unwrap();
    assert_eq!(socket.protocol(), None);
}
