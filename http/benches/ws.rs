//! WebSockets: the frame codec alone (decoding masked client frames,
//! encoding, text validation) and a loopback echo between the thicket
//! client and server, plain and compressed.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use thicket_http::ws::{self, Decoder, Encoder, Limits, Message, Role};
use thicket_http::{Request, Server};

fn codec(c: &mut Criterion) {
    let mut g = c.benchmark_group("ws_codec");
    for (name, msg) in [
        ("binary_64k", Message::binary(vec![0x5a; 64 * 1024])),
        (
            "text_64k",
            Message::text("κόσμε ascii ".repeat(64 * 1024 / 16)),
        ),
        (
            "text_32b",
            Message::text("a short chat line, 32 bytes long"),
        ),
    ] {
        // What a server receives: client frames, masked.
        let mut frame = Vec::new();
        Encoder::new(Role::Client).encode(&msg, &mut frame).unwrap();
        g.throughput(Throughput::Bytes(frame.len() as u64));
        g.bench_function(format!("decode_{name}"), |b| {
            let mut d = Decoder::new(Role::Server, Limits::default());
            b.iter(|| black_box(d.decode(black_box(&frame)).unwrap()))
        });
        g.bench_function(format!("encode_{name}"), |b| {
            let mut e = Encoder::new(Role::Server);
            let mut out = Vec::new();
            b.iter(|| {
                out.clear();
                e.encode(black_box(&msg), &mut out).unwrap();
                black_box(out.len())
            })
        });
    }
    g.finish();
}

fn echo(c: &mut Criterion) {
    let mut g = c.benchmark_group("ws_echo_loopback");
    for compress in [false, true] {
        let config = ws::Config::new().compression(compress);
        let server = Server::bind("127.0.0.1:0")
            .unwrap()
            .start(move |req: Request| {
                ws::upgrade(&req, &config, |mut socket| {
                    while let Ok(m) = socket.recv() {
                        if m.is_data() && socket.send(m).is_err() {
                            break;
                        }
                    }
                })
            })
            .unwrap();
        let url = format!("ws://{}/", server.local_addr());
        let mut socket = ws::Connector::new(url)
            .config(ws::Config::new().compression(compress))
            .connect()
            .unwrap();
        let name = if compress { "deflate" } else { "plain" };
        let small = Message::text(r#"{"user":"guest-12","line":"hello there"}"#);
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("{name}_small_round_trip"), |b| {
            b.iter(|| {
                socket.send(small.clone()).unwrap();
                black_box(socket.recv().unwrap())
            })
        });
        let big = Message::binary(
            (0..64 * 1024u32)
                .map(|i| (i % 61) as u8)
                .collect::<Vec<u8>>(),
        );
        g.throughput(Throughput::Bytes(64 * 1024));
        g.bench_function(format!("{name}_64k_round_trip"), |b| {
            b.iter(|| {
                socket.send(big.clone()).unwrap();
                black_box(socket.recv().unwrap())
            })
        });
        socket.close(1000, "").unwrap();
        server.stop();
    }
    g.finish();
}

criterion_group!(benches, codec, echo);
criterion_main!(benches);
