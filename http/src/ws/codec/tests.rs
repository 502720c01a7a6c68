use proptest::prelude::*;

use super::*;

/// A raw frame: `op` with FIN and RSV1 as given, masked with `mask`.
fn frame(fin: bool, rsv1: bool, op: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut b0 = op;
    if fin {
        b0 |= 0x80;
    }
    if rsv1 {
        b0 |= 0x40;
    }
    let mut out = vec![b0];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(m | n as u8),
        n if n < 65536 => {
            out.push(m | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let start = out.len();
    if let Some(k) = mask {
        out.extend_from_slice(&k);
    }
    out.extend_from_slice(payload);
    if let Some(k) = mask {
        apply_mask(&mut out[start + 4..], k, 0);
    }
    out
}

const K: Option<[u8; 4]> = Some([0x12, 0x34, 0x56, 0x78]);

/// A masked frame from a client.
fn c(fin: bool, op: u8, payload: &[u8]) -> Vec<u8> {
    frame(fin, false, op, K, payload)
}

/// Decodes everything; stops at the first error.
fn decode_all(d: &mut Decoder, mut input: &[u8]) -> Result<Vec<Message>, ProtocolError> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (n, m) = d.decode(input)?;
        input = &input[n..];
        out.extend(m);
    }
    Ok(out)
}

fn server() -> Decoder {
    Decoder::new(Role::Server, Limits::default())
}

fn cat(frames: &[Vec<u8>]) -> Vec<u8> {
    frames.concat()
}

#[test]
fn decoding_table() {
    use Message as M;
    let text = |s: &str| M::Text(s.into());
    type Case = (&'static str, Vec<u8>, Result<Vec<Message>, u16>);
    let cases: Vec<Case> = vec![
        ("masked text", c(true, 1, b"Hello"), Ok(vec![text("Hello")])),
        ("empty text", c(true, 1, b""), Ok(vec![text("")])),
        (
            "binary",
            c(true, 2, &[0, 1, 2]),
            Ok(vec![M::binary(vec![0, 1, 2])]),
        ),
        (
            "unmasked from a client",
            frame(true, false, 1, None, b"x"),
            Err(1002),
        ),
        (
            "fragments",
            cat(&[c(false, 1, b"Hel"), c(false, 0, b""), c(true, 0, b"lo")]),
            Ok(vec![text("Hello")]),
        ),
        (
            "ping between fragments",
            cat(&[c(false, 2, b"ab"), c(true, 9, b"p"), c(true, 0, b"cd")]),
            Ok(vec![M::Ping("p".into()), M::binary(&b"abcd"[..])]),
        ),
        ("continuation first", c(true, 0, b"x"), Err(1002)),
        (
            "text inside text",
            cat(&[c(false, 1, b"a"), c(true, 1, b"b")]),
            Err(1002),
        ),
        ("fragmented ping", c(false, 9, b""), Err(1002)),
        ("ping of 126 bytes", c(true, 9, &[0; 126]), Err(1002)),
        (
            "ping of 125 bytes",
            c(true, 9, &[7; 125]),
            Ok(vec![M::Ping(vec![7; 125].into())]),
        ),
        ("pong", c(true, 10, b"x"), Ok(vec![M::Pong("x".into())])),
        (
            "rsv1 without an extension",
            frame(true, true, 1, K, b"x"),
            Err(1002),
        ),
        (
            "rsv2",
            {
                let mut f = c(true, 1, b"x");
                f[0] |= 0x20;
                f
            },
            Err(1002),
        ),
        (
            "rsv3",
            {
                let mut f = c(true, 1, b"x");
                f[0] |= 0x10;
                f
            },
            Err(1002),
        ),
        ("opcode 3", c(true, 3, b""), Err(1002)),
        ("opcode 0xB", c(true, 0xB, b""), Err(1002)),
        (
            "close without payload",
            c(true, 8, b""),
            Ok(vec![M::Close(None)]),
        ),
        ("close with 1 byte", c(true, 8, &[3]), Err(1002)),
        (
            "close 1000 with reason",
            c(true, 8, b"\x03\xe8bye"),
            Ok(vec![M::Close(Some(CloseFrame::new(1000, "bye")))]),
        ),
        ("close 1005", c(true, 8, &1005u16.to_be_bytes()), Err(1002)),
        ("close 999", c(true, 8, &999u16.to_be_bytes()), Err(1002)),
        ("close 5000", c(true, 8, &5000u16.to_be_bytes()), Err(1002)),
        (
            "close 4999",
            c(true, 8, &4999u16.to_be_bytes()),
            Ok(vec![M::Close(Some(CloseFrame::new(4999, "")))]),
        ),
        (
            "close reason not UTF-8",
            c(true, 8, b"\x03\xe8\xff"),
            Err(1007),
        ),
        ("text not UTF-8", c(true, 1, b"ok\xff"), Err(1007)),
        (
            "text ends mid-character",
            c(true, 1, b"\xe2\x82"),
            Err(1007),
        ),
        (
            "character across fragments",
            cat(&[
                c(false, 1, b"\xe2"),
                c(false, 0, b"\x82"),
                c(true, 0, b"\xac"),
            ]),
            Ok(vec![text("€")]),
        ),
        ("surrogate", c(true, 1, b"\xed\xa0\x80"), Err(1007)),
    ];
    for (name, bytes, want) in cases {
        let got = decode_all(&mut server(), &bytes).map_err(|e| e.close_code());
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn client_refuses_masked_frames() {
    let mut d = Decoder::new(Role::Client, Limits::default());
    assert_eq!(
        decode_all(&mut d, &c(true, 1, b"x"))
            .unwrap_err()
            .close_code(),
        1002
    );
    let mut d = Decoder::new(Role::Client, Limits::default());
    let got = decode_all(&mut d, &frame(true, false, 1, None, b"x")).unwrap();
    assert_eq!(got, vec![Message::text("x")]);
}

#[test]
fn invalid_text_fails_before_the_frame_is_complete() {
    // Autobahn 6.4.x: the bad byte arrives, the rest of the frame does not.
    let mut payload = "κόσμε".as_bytes().to_vec();
    payload.extend_from_slice(b"\xf4\x90\x80\x80");
    payload.extend_from_slice(b"-edited-");
    let bytes = c(true, 1, &payload);
    let cut = bytes.len() - 8;
    let mut d = server();
    // The valid start is fine...
    assert_eq!(d.decode(&bytes[..cut - 4]).unwrap(), (cut - 4, None));
    // ...and \xf4\x90 already cannot begin a character.
    let e = d.decode(&bytes[cut - 4..cut - 2]).unwrap_err();
    assert_eq!(e.close_code(), 1007);

    // Across fragments too: the first fragment ends with a bad prefix.
    let mut d = server();
    let e = d.decode(&c(false, 1, b"ok\xc0")).unwrap_err();
    assert_eq!(e.close_code(), 1007);
}

#[test]
fn limits_fail_fast_with_1009() {
    let limits = Limits {
        max_frame: 100,
        max_message: 10,
    };
    let mut d = Decoder::new(Role::Server, limits);
    // The header alone is enough to refuse.
    let f = c(true, 2, &[0; 11]);
    assert_eq!(d.decode(&f[..6]).unwrap_err().close_code(), 1009);
    let mut d = Decoder::new(Role::Server, limits);
    let f = cat(&[c(false, 2, &[0; 6]), c(true, 0, &[0; 6])]);
    assert_eq!(decode_all(&mut d, &f).unwrap_err().close_code(), 1009);
    let mut d = Decoder::new(
        Role::Server,
        Limits {
            max_frame: 5,
            max_message: 100,
        },
    );
    assert_eq!(
        decode_all(&mut d, &c(true, 2, &[0; 6]))
            .unwrap_err()
            .close_code(),
        1009
    );
    // Exactly at the limit is fine.
    let mut d = Decoder::new(Role::Server, limits);
    assert_eq!(decode_all(&mut d, &c(true, 2, &[1; 10])).unwrap().len(), 1);
}

#[test]
fn compressed_messages_need_the_extension_on_the_first_frame_only() {
    let p = Params::default();
    let mut enc = Encoder::with_deflate(Role::Client, Some(p), 6);
    let mut bytes = Vec::new();
    enc.encode(&Message::text("hello hello hello"), &mut bytes)
        .unwrap();
    assert_eq!(bytes[0] & 0x40, 0x40, "RSV1 marks a compressed message");
    let mut d = Decoder::with_deflate(Role::Server, Limits::default(), Some(p));
    assert_eq!(
        decode_all(&mut d, &bytes).unwrap(),
        vec![Message::text("hello hello hello")]
    );
    // RSV1 on a continuation or a control frame is an error.
    let mut d = Decoder::with_deflate(Role::Server, Limits::default(), Some(p));
    let bad = cat(&[c(false, 2, b""), frame(true, true, 0, K, b"")]);
    assert_eq!(decode_all(&mut d, &bad).unwrap_err().close_code(), 1002);
    let mut d = Decoder::with_deflate(Role::Server, Limits::default(), Some(p));
    assert_eq!(
        decode_all(&mut d, &frame(true, true, 9, K, b""))
            .unwrap_err()
            .close_code(),
        1002
    );
    // A bomb: a small frame that inflates past the limit.
    let mut z = Vec::new();
    Deflater::new(6, 15, false).compress(&[b'a'; 100_000], &mut z);
    let limits = Limits {
        max_frame: 1 << 20,
        max_message: 50_000,
    };
    let mut d = Decoder::with_deflate(Role::Server, limits, Some(p));
    let e = decode_all(&mut d, &frame(true, true, 2, K, &z)).unwrap_err();
    assert_eq!(e.close_code(), 1009);
}

#[test]
fn encoder_checks_what_it_sends() {
    let mut e = Encoder::new(Role::Server);
    let mut out = Vec::new();
    assert!(e
        .encode(&Message::Ping(vec![0; 126].into()), &mut out)
        .is_err());
    assert!(e
        .encode(&Message::Close(Some(CloseFrame::new(1006, ""))), &mut out)
        .is_err());
    assert!(out.is_empty());
    // A long reason is cut at a character boundary, to 123 bytes at most.
    let reason = "é".repeat(100);
    e.encode(
        &Message::Close(Some(CloseFrame::new(1000, reason))),
        &mut out,
    )
    .unwrap();
    assert_eq!(out[1] as usize, 2 + 122);
    let mut d = Decoder::new(Role::Client, Limits::default());
    match decode_all(&mut d, &out).unwrap().as_slice() {
        [Message::Close(Some(f))] => assert_eq!(f.reason.len(), 122),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_split_frame_is_the_whole_frame_in_two_parts() {
    let long = Message::binary(vec![7u8; 70_000]);
    let cases = [
        (Role::Server, long.clone(), 16_384, true),
        (
            Role::Server,
            Message::text("é".repeat(20_000)),
            16_384,
            true,
        ),
        (Role::Server, Message::binary(vec![1u8; 100]), 16_384, false),
        (
            Role::Server,
            Message::Ping(Bytes::from_static(b"p")),
            0,
            false,
        ),
        (Role::Server, Message::Close(None), 0, false),
        // Clients mask, so their payloads are always copied.
        (Role::Client, long.clone(), 16_384, false),
    ];
    for (role, msg, min, split) in cases {
        let mut whole = Vec::new();
        let mut e = Encoder::new(role);
        e.encode(&msg, &mut whole).unwrap();
        let mut head = b"fed".to_vec();
        let tail = Encoder::new(role)
            .encode_split(&msg, &mut head, min)
            .unwrap();
        assert_eq!(tail.is_some(), split, "{msg:?}");
        let mut joined = head[3..].to_vec();
        joined.extend_from_slice(tail.unwrap_or_default());
        if role == Role::Server {
            assert_eq!(joined, whole, "{msg:?}");
        } else {
            let got = decode_all(&mut server(), &joined).unwrap();
            assert_eq!(got, vec![msg]);
        }
    }
    // With compression on, data is compressed into the buffer, never split.
    let params = crate::ws::deflate::Params::default();
    let mut e = Encoder::with_deflate(Role::Server, Some(params), 6);
    let mut out = Vec::new();
    assert_eq!(e.encode_split(&long, &mut out, 0).unwrap(), None);
    assert!(out.len() < 1000, "compressed: {} bytes", out.len());
}

#[test]
fn client_frames_are_masked_with_fresh_keys() {
    let mut e = Encoder::new(Role::Client);
    let mut keys = std::collections::HashSet::new();
    for _ in 0..100 {
        let mut out = Vec::new();
        e.encode(&Message::text("x"), &mut out).unwrap();
        assert_eq!(out[1] & 0x80, 0x80);
        keys.insert([out[2], out[3], out[4], out[5]]);
    }
    // 100 random 32-bit keys: a repeat would be a broken generator.
    assert!(keys.len() >= 99, "{}", keys.len());
}

fn any_message() -> impl Strategy<Value = Message> {
    prop_oneof![
        ".{0,40}".prop_map(Message::Text),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Message::binary),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(|b| Message::Ping(b.into())),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(|b| Message::Pong(b.into())),
        (
            prop_oneof![Just(1000u16), Just(1001), Just(1011), 3000u16..5000],
            ".{0,20}"
        )
            .prop_map(|(code, reason)| Message::Close(Some(CloseFrame::new(code, reason)))),
    ]
}

/// Decodes `input` cut into pieces at `cuts`.
fn decode_in_pieces(d: &mut Decoder, input: &[u8], cuts: &[usize]) -> Vec<Message> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.push(0);
    points.push(input.len());
    points.sort_unstable();
    let mut out = Vec::new();
    for w in points.windows(2) {
        let mut piece = &input[w[0]..w[1]];
        while !piece.is_empty() {
            let (n, m) = d.decode(piece).expect("valid input");
            piece = &piece[n..];
            out.extend(m);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn messages_round_trip_split_anywhere(
        msgs in proptest::collection::vec(any_message(), 1..8),
        compress in any::<bool>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let p = compress.then(Params::default);
        for (from, to) in [(Role::Client, Role::Server), (Role::Server, Role::Client)] {
            let mut e = Encoder::with_deflate(from, p, 6);
            let mut bytes = Vec::new();
            for m in &msgs {
                e.encode(m, &mut bytes).unwrap();
            }
            let mut d = Decoder::with_deflate(to, Limits::default(), p);
            prop_assert_eq!(&decode_in_pieces(&mut d, &bytes, &cuts), &msgs);
        }
    }

    #[test]
    fn fragmented_messages_reassemble(
        data in proptest::collection::vec(any::<u8>(), 0..400),
        sizes in proptest::collection::vec(0usize..50, 1..10),
        pings in proptest::collection::vec(any::<bool>(), 10),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        // Fragments of the given sizes (the last takes the rest), a ping
        // after some of them.
        let mut frames = Vec::new();
        let mut rest = &data[..];
        let mut expected = Vec::new();
        for (i, &size) in sizes.iter().enumerate() {
            let last = i == sizes.len() - 1;
            let n = if last { rest.len() } else { size.min(rest.len()) };
            let op = if i == 0 { 2 } else { 0 };
            frames.push(c(last, op, &rest[..n]));
            rest = &rest[n..];
            if !last && pings[i % pings.len()] {
                frames.push(c(true, 9, &[i as u8]));
                expected.push(Message::Ping(vec![i as u8].into()));
            }
        }
        expected.push(Message::binary(data.clone()));
        let bytes = cat(&frames);
        let mut d = server();
        prop_assert_eq!(decode_in_pieces(&mut d, &bytes, &cuts), expected);
    }

    #[test]
    fn every_single_split_point_gives_the_same(text in "\\PC{0,30}", split in any::<usize>()) {
        let bytes = cat(&[c(true, 9, b"ping"), c(true, 1, text.as_bytes())]);
        let mut d = server();
        let got = decode_in_pieces(&mut d, &bytes, &[split]);
        prop_assert_eq!(got, vec![Message::Ping("ping".into()), Message::Text(text)]);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        for role in [Role::Server, Role::Client] {
            let mut d = Decoder::with_deflate(role, Limits::default(), Some(Params::default()));
            let _ = decode_all(&mut d, &bytes);
        }
    }
}
