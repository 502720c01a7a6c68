//! The frame layer of RFC 6455 §5.2, sans I/O: opcodes, the header of a
//! frame (parsed and written), masking, and which close codes may appear on
//! the wire.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! ```

use std::fmt;

/// The most bytes a frame header takes: 2, 8 of extended length, 4 of mask.
pub const MAX_HEADER_LEN: usize = 14;

/// The largest payload of a control frame (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// What a frame carries (§5.2, §11.8). Reserved opcodes are refused when
/// parsing, so they have no variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// A further fragment of the message in progress.
    Continuation,
    /// The first (or only) frame of a UTF-8 text message.
    Text,
    /// The first (or only) frame of a binary message.
    Binary,
    /// The closing handshake.
    Close,
    /// A ping, to be answered with a pong carrying the same payload.
    Ping,
    /// A pong.
    Pong,
}

impl Opcode {
    /// The opcode of a 4-bit value; `None` for the reserved ones (3–7,
    /// 11–15).
    pub fn from_u8(v: u8) -> Option<Opcode> {
        Some(match v {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    /// The 4-bit value on the wire.
    pub fn as_u8(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Whether this is a control frame (close, ping, pong).
    pub fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The final fragment of a message.
    pub fin: bool,
    /// RSV1: with permessage-deflate, "this message is compressed".
    pub rsv1: bool,
    /// RSV2 (no extension here uses it).
    pub rsv2: bool,
    /// RSV3 (no extension here uses it).
    pub rsv3: bool,
    /// What the frame carries.
    pub opcode: Opcode,
    /// The masking key: clients mask every frame, servers none.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub len: u64,
}

/// Why bytes are not a frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderError {
    /// A reserved opcode (the value is given).
    ReservedOpcode(u8),
    /// A 64-bit length with its most significant bit set.
    LengthOverflow,
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::ReservedOpcode(v) => write!(f, "reserved opcode {v:#x}"),
            HeaderError::LengthOverflow => {
                f.write_str("a 64-bit payload length with its most significant bit set")
            }
        }
    }
}

/// How long a header is, from its second byte: 2 to 14.
pub fn header_len(b1: u8) -> usize {
    let ext = match b1 & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + if b1 & 0x80 != 0 { 4 } else { 0 }
}

impl FrameHeader {
    /// Parses a header from the start of `buf`: `Ok(None)` when more bytes
    /// are needed, else the header and how many bytes it took.
    ///
    /// # Errors
    ///
    /// A reserved opcode, or a length whose top bit is set.
    pub fn parse(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, HeaderError> {
        let [b0, b1, ..] = *buf else {
            return Ok(None);
        };
        let opcode = Opcode::from_u8(b0 & 0x0F).ok_or(HeaderError::ReservedOpcode(b0 & 0x0F))?;
        let need = header_len(b1);
        if buf.len() < need {
            return Ok(None);
        }
        let (len, mut at) = match b1 & 0x7F {
            126 => (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
            127 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&buf[2..10]);
                let len = u64::from_be_bytes(b);
                if len >> 63 != 0 {
                    return Err(HeaderError::LengthOverflow);
                }
                (len, 10)
            }
            n => (u64::from(n), 2),
        };
        let mask = if b1 & 0x80 != 0 {
            let m = [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
            at += 4;
            Some(m)
        } else {
            None
        };
        let header = FrameHeader {
            fin: b0 & 0x80 != 0,
            rsv1: b0 & 0x40 != 0,
            rsv2: b0 & 0x20 != 0,
            rsv3: b0 & 0x10 != 0,
            opcode,
            mask,
            len,
        };
        Ok(Some((header, at)))
    }

    /// Appends the header to `out`, with the shortest length encoding.
    pub fn write(&self, out: &mut Vec<u8>) {
        let flag = |on: bool, bit: u8| if on { bit } else { 0 };
        let b0 = self.opcode.as_u8()
            | flag(self.fin, 0x80)
            | flag(self.rsv1, 0x40)
            | flag(self.rsv2, 0x20)
            | flag(self.rsv3, 0x10);
        let m = flag(self.mask.is_some(), 0x80);
        // Built whole, then appended at once.
        let mut head = [0u8; MAX_HEADER_LEN];
        head[0] = b0;
        let mut n = if self.len < 126 {
            head[1] = m | self.len as u8;
            2
        } else if let Ok(len) = u16::try_from(self.len) {
            head[1] = m | 126;
            head[2..4].copy_from_slice(&len.to_be_bytes());
            4
        } else {
            head[1] = m | 127;
            head[2..10].copy_from_slice(&self.len.to_be_bytes());
            10
        };
        if let Some(key) = self.mask {
            head[n..n + 4].copy_from_slice(&key);
            n += 4;
        }
        out.extend_from_slice(&head[..n]);
    }
}

/// XORs `data` with the masking key, as if `data` began `offset` bytes into
/// the payload (§5.3). Masking and unmasking are the same operation.
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let mut k = [0u8; 4];
    for (i, b) in k.iter_mut().enumerate() {
        *b = key[(offset + i) % 4];
    }
    let wide = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut chunks = data.chunks_exact_mut(8);
    for c in &mut chunks {
        let v = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) ^ wide;
        c.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= k[i % 4];
    }
}

/// Appends `data` XORed with the masking key to `out`, as if `data` began
/// `offset` bytes into the payload: [`apply_mask`] and a copy in one pass.
///
/// One pass is not only shorter: a plain copy of tens of KiB goes through
/// the C library's `memcpy`, which on some CPUs (AMD Zen, glibc 2.36) is
/// ten times slower for some alignments of source and destination; this
/// loop has none of that.
///
/// # Examples
///
/// ```
/// use thicket_http::ws::frame::{apply_mask, extend_masked};
///
/// let mut out = b"head:".to_vec();
/// extend_masked(&mut out, b"Hello", [0x37, 0xfa, 0x21, 0x3d], 0);
/// apply_mask(&mut out[5..], [0x37, 0xfa, 0x21, 0x3d], 0);
/// assert_eq!(out, b"head:Hello");
/// ```
pub fn extend_masked(out: &mut Vec<u8>, data: &[u8], key: [u8; 4], offset: usize) {
    let mut k = [0u8; 4];
    for (i, b) in k.iter_mut().enumerate() {
        *b = key[(offset + i) % 4];
    }
    let wide = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let start = out.len();
    // Zeroing first costs less than it seems (no read), and keeps this safe.
    out.resize(start + data.len(), 0);
    let mut dst = out[start..].chunks_exact_mut(32);
    let mut src = data.chunks_exact(32);
    for (d, s) in (&mut dst).zip(&mut src) {
        for (d, s) in d.chunks_exact_mut(8).zip(s.chunks_exact(8)) {
            let v = u64::from_ne_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]) ^ wide;
            d.copy_from_slice(&v.to_ne_bytes());
        }
    }
    for (i, (d, s)) in dst
        .into_remainder()
        .iter_mut()
        .zip(src.remainder())
        .enumerate()
    {
        *d = s ^ k[i % 4];
    }
}

/// Whether a close code may be sent in a close frame (§7.4): the defined
/// codes 1000–1003 and 1007–1011, the IANA-registered 1012–1014 (service
/// restart, try again later, bad gateway), and 3000–4999 (libraries and
/// applications). 1004 is reserved; 1005, 1006 and 1015 are only ever
/// reported locally ("no code", "abnormal closure", "TLS failure") and must
/// not appear on the wire; everything else is unassigned.
pub fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_table() {
        // (bytes, expected header or None for "need more")
        type Want = Option<(bool, Opcode, Option<[u8; 4]>, u64, usize)>;
        let cases: &[(&[u8], Want)] = &[
            (&[], None),
            (&[0x81], None),
            (&[0x81, 0x05], Some((true, Opcode::Text, None, 5, 2))),
            (&[0x02, 0x00], Some((false, Opcode::Binary, None, 0, 2))),
            (&[0x89, 0x7D], Some((true, Opcode::Ping, None, 125, 2))),
            (&[0x82, 0x7E, 0x01], None),
            (
                &[0x82, 0x7E, 0x01, 0x00],
                Some((true, Opcode::Binary, None, 256, 4)),
            ),
            (
                &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0],
                Some((true, Opcode::Binary, None, 65536, 10)),
            ),
            (&[0x81, 0x85, 1, 2, 3], None),
            (
                &[0x81, 0x85, 1, 2, 3, 4],
                Some((true, Opcode::Text, Some([1, 2, 3, 4]), 5, 6)),
            ),
            (
                &[0x80, 0xFE, 0xFF, 0xFF, 9, 8, 7, 6],
                Some((true, Opcode::Continuation, Some([9, 8, 7, 6]), 65535, 8)),
            ),
        ];
        for (bytes, want) in cases {
            let got = FrameHeader::parse(bytes).unwrap();
            match (got, want) {
                (None, None) => {}
                (Some((h, n)), Some((fin, op, mask, len, hl))) => {
                    assert_eq!(
                        (h.fin, h.opcode, h.mask, h.len, n),
                        (*fin, *op, *mask, *len, *hl)
                    );
                }
                (got, want) => panic!("{bytes:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn reserved_opcodes_and_huge_lengths_are_refused() {
        for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            assert_eq!(
                FrameHeader::parse(&[0x80 | op, 0]),
                Err(HeaderError::ReservedOpcode(op))
            );
        }
        let huge = [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(FrameHeader::parse(&huge), Err(HeaderError::LengthOverflow));
    }

    #[test]
    fn rsv_bits_are_read() {
        let (h, _) = FrameHeader::parse(&[0xF1, 0]).unwrap().unwrap();
        assert!(h.rsv1 && h.rsv2 && h.rsv3 && h.fin);
        let (h, _) = FrameHeader::parse(&[0x41, 0]).unwrap().unwrap();
        assert!(h.rsv1 && !h.rsv2 && !h.rsv3 && !h.fin);
    }

    #[test]
    fn write_uses_the_shortest_length() {
        for (len, header_bytes) in [(0u64, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)] {
            let h = FrameHeader {
                fin: true,
                rsv1: false,
                rsv2: false,
                rsv3: false,
                opcode: Opcode::Binary,
                mask: None,
                len,
            };
            let mut out = Vec::new();
            h.write(&mut out);
            assert_eq!(out.len(), header_bytes, "len {len}");
            assert_eq!(FrameHeader::parse(&out).unwrap(), Some((h, header_bytes)));
        }
    }

    #[test]
    fn masking_matches_the_rfc_example() {
        // RFC 6455 §5.7: a masked "Hello".
        let mut data = *b"Hello";
        apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        // In pieces at any offset, the same.
        let mut long: Vec<u8> = (0..100u8).collect();
        let mut whole = long.clone();
        apply_mask(&mut whole, [1, 2, 3, 4], 0);
        let (a, b) = long.split_at_mut(13);
        apply_mask(a, [1, 2, 3, 4], 0);
        apply_mask(b, [1, 2, 3, 4], 13);
        assert_eq!(long, whole);
    }

    #[test]
    fn extend_masked_is_a_copy_then_apply_mask() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for len in [0, 1, 7, 8, 31, 32, 33, 100, 1000] {
            for offset in 0..4 {
                let mut want = b"xy".to_vec();
                want.extend_from_slice(&data[..len]);
                apply_mask(&mut want[2..], [9, 8, 7, 6], offset);
                let mut got = b"xy".to_vec();
                extend_masked(&mut got, &data[..len], [9, 8, 7, 6], offset);
                assert_eq!(got, want, "len {len}, offset {offset}");
            }
        }
    }

    #[test]
    fn close_codes_on_the_wire() {
        for ok in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
        ] {
            assert!(is_valid_close_code(ok), "{ok}");
        }
        for bad in [
            0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            assert!(!is_valid_close_code(bad), "{bad}");
        }
    }
}
