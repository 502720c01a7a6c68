//! permessage-deflate (RFC 7692): negotiating its parameters, and the
//! compressor and decompressor of one connection.
//!
//! What is supported, on the flate2 zlib-rs backend (pure Rust):
//!
//! - `server_no_context_takeover` and `client_no_context_takeover` in both
//!   directions: the side that agreed to it resets its compressor after each
//!   message (the other side resets its decompressor too, which costs
//!   nothing and frees the window).
//! - `server_max_window_bits` 9 to 15: a server honours the client's limit
//!   by compressing with that window. An offer asking for 8 is declined
//!   (the next offer is tried, else the connection runs uncompressed):
//!   zlib, like every deflate encoder derived from it, cannot produce
//!   streams with a 256-byte window.
//! - `client_max_window_bits`: a server accepts the offer with or without a
//!   value and never limits the client (its decompressor has a 32 KiB
//!   window, which reads any smaller one). The client offers it without a
//!   value and compresses with whatever window the server answers (9 to 15;
//!   8 fails the handshake, as above).
//!
//! Decompression is capped: a message that inflates past the message size
//! limit fails the connection with 1009 before more memory is taken.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The name of the extension in `Sec-WebSocket-Extensions`.
pub(crate) const NAME: &str = "permessage-deflate";

/// The agreed parameters, seen from one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Params {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// The server's compression window, 9 to 15.
    pub server_max_window_bits: u8,
    /// The client's compression window, 9 to 15.
    pub client_max_window_bits: u8,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

/// One extension of a `Sec-WebSocket-Extensions` list: its name and
/// parameters (values unquoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extension {
    pub name: String,
    pub params: Vec<(String, Option<String>)>,
}

/// Parses the values of every `Sec-WebSocket-Extensions` field, in order.
/// `None` when the syntax is broken (a quote left open, an empty name).
pub(crate) fn parse_extensions<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
) -> Option<Vec<Extension>> {
    let mut out = Vec::new();
    for value in values {
        let value = std::str::from_utf8(value).ok()?;
        for item in split_outside_quotes(value, ',')? {
            if item.trim().is_empty() {
                continue;
            }
            let mut parts = split_outside_quotes(item, ';')?.into_iter();
            let name = parts.next()?.trim();
            if name.is_empty() || !is_token(name) {
                return None;
            }
            let mut params = Vec::new();
            for p in parts {
                let (k, v) = match p.split_once('=') {
                    Some((k, v)) => (k.trim(), Some(unquote(v.trim())?)),
                    None => (p.trim(), None),
                };
                if k.is_empty() || !is_token(k) {
                    return None;
                }
                params.push((k.to_ascii_lowercase(), v));
            }
            out.push(Extension {
                name: name.to_ascii_lowercase(),
                params,
            });
        }
    }
    Some(out)
}

fn split_outside_quotes(s: &str, sep: char) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    if quoted {
        return None;
    }
    out.push(&s[start..]);
    Some(out)
}

fn unquote(v: &str) -> Option<String> {
    match v.strip_prefix('"') {
        Some(rest) => {
            let inner = rest.strip_suffix('"')?;
            let mut out = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                out.push(if c == '\\' { chars.next()? } else { c });
            }
            Some(out)
        }
        None if is_token(v) => Some(v.to_owned()),
        None => None,
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn window_bits(v: &str) -> Option<u8> {
    // RFC 7692 §7.1.2: 1*DIGIT, 8 to 15, no leading zero.
    if v.starts_with('0') || v.len() > 2 {
        return None;
    }
    v.parse::<u8>().ok().filter(|b| (8..=15).contains(b))
}

/// The server's side: picks the first acceptable `permessage-deflate` offer
/// and returns the agreed parameters and the response's extension value.
pub(crate) fn accept_offer(offers: &[Extension]) -> Option<(Params, String)> {
    'offers: for offer in offers.iter().filter(|e| e.name == NAME) {
        let mut p = Params::default();
        let (mut snct, mut cnct, mut smwb, mut cmwb) = (false, false, None::<u8>, false);
        for (k, v) in &offer.params {
            match (k.as_str(), v.as_deref()) {
                ("server_no_context_takeover", None) if !snct => snct = true,
                ("client_no_context_takeover", None) if !cnct => cnct = true,
                ("server_max_window_bits", Some(v)) if smwb.is_none() => match window_bits(v) {
                    // zlib cannot compress with a 256-byte window.
                    Some(8) | None => continue 'offers,
                    Some(b) => smwb = Some(b),
                },
                ("client_max_window_bits", v) if !cmwb => {
                    if v.is_some_and(|v| window_bits(v).is_none()) {
                        continue 'offers;
                    }
                    cmwb = true;
                }
                _ => continue 'offers,
            }
        }
        let mut response = String::from(NAME);
        if snct {
            p.server_no_context_takeover = true;
            response.push_str("; server_no_context_takeover");
        }
        if cnct {
            p.client_no_context_takeover = true;
            response.push_str("; client_no_context_takeover");
        }
        if let Some(b) = smwb {
            p.server_max_window_bits = b;
            response.push_str(&format!("; server_max_window_bits={b}"));
        }
        return Some((p, response));
    }
    None
}

/// What a client offers.
pub(crate) const CLIENT_OFFER: &str = "permessage-deflate; client_max_window_bits";

/// The client's side: checks the server's answer to [`CLIENT_OFFER`].
/// `Ok(None)`: the server did not enable the extension.
///
/// # Errors
///
/// What is wrong with the answer (the handshake then fails).
pub(crate) fn check_response(answer: &[Extension]) -> Result<Option<Params>, String> {
    let mut agreed = None;
    for ext in answer {
        if ext.name != NAME {
            return Err(format!(
                "the server enabled extension {:?}, which was not offered",
                ext.name
            ));
        }
        if agreed.is_some() {
            return Err("the server enabled permessage-deflate twice".into());
        }
        let mut p = Params::default();
        let mut seen = Vec::new();
        for (k, v) in &ext.params {
            if seen.contains(k) {
                return Err(format!("permessage-deflate parameter {k} given twice"));
            }
            seen.push(k.clone());
            match (k.as_str(), v.as_deref()) {
                ("server_no_context_takeover", None) => p.server_no_context_takeover = true,
                ("client_no_context_takeover", None) => p.client_no_context_takeover = true,
                ("server_max_window_bits", Some(v)) => {
                    p.server_max_window_bits = window_bits(v)
                        .ok_or_else(|| format!("invalid server_max_window_bits {v:?}"))?;
                }
                ("client_max_window_bits", Some(v)) => match window_bits(v) {
                    Some(8) => {
                        return Err("client_max_window_bits=8 cannot be honoured (zlib compresses with 9 bits at least)".into())
                    }
                    Some(b) => p.client_max_window_bits = b,
                    None => return Err(format!("invalid client_max_window_bits {v:?}")),
                },
                _ => return Err(format!("unexpected permessage-deflate parameter {k}")),
            }
        }
        agreed = Some(p);
    }
    Ok(agreed)
}

/// Why a message could not be decompressed.
#[derive(Debug)]
pub(crate) enum InflateError {
    /// Not a valid deflate stream.
    Invalid(String),
    /// It inflates past the limit.
    TooLarge,
}

/// Compresses the messages one side sends. The zlib state (about 300 KiB
/// with a 15-bit window) is made on the first message, so a connection
/// that sends nothing costs nothing.
pub(crate) struct Deflater {
    c: Option<Box<Compress>>,
    level: u32,
    window_bits: u8,
    reset_each: bool,
}

impl Deflater {
    pub fn new(level: u32, window_bits: u8, no_context_takeover: bool) -> Deflater {
        Deflater {
            c: None,
            level,
            window_bits: window_bits.max(9),
            reset_each: no_context_takeover,
        }
    }

    /// Appends `data` compressed to `out`, without the final
    /// `00 00 FF FF` (RFC 7692 §7.2.1).
    pub fn compress(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let (level, bits) = (self.level, self.window_bits);
        let c = self.c.get_or_insert_with(|| {
            Box::new(Compress::new_with_window_bits(
                Compression::new(level),
                false,
                bits,
            ))
        });
        let start = out.len();
        let mut input = data;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(input.len() / 2 + 1024);
            }
            let before = c.total_in();
            c.compress_vec(input, out, FlushCompress::Sync)
                .expect("deflate accepts any input");
            input = &input[(c.total_in() - before) as usize..];
            // Done when everything was taken and the flush fitted.
            if input.is_empty() && out.capacity() > out.len() {
                break;
            }
        }
        if out[start..].ends_with(&[0, 0, 0xFF, 0xFF]) {
            out.truncate(out.len() - 4);
        }
        if out.len() == start {
            // Nothing new since the last flush (an empty message): zlib
            // emits nothing, and the receiver's appended 00 00 FF FF needs
            // a block header before it (RFC 7692 §7.2.3.6).
            out.push(0);
        }
        if self.reset_each {
            c.reset();
        }
    }
}

/// Decompresses the messages one side receives; its state (about 40 KiB)
/// is made on the first compressed message.
pub(crate) struct Inflater {
    d: Option<Box<Decompress>>,
    reset_each: bool,
    ended: bool,
}

impl Inflater {
    pub fn new(no_context_takeover: bool) -> Inflater {
        Inflater {
            d: None,
            reset_each: no_context_takeover,
            ended: false,
        }
    }

    /// Inflates a piece of a compressed message onto `out`, which may grow
    /// to `limit` bytes and no further.
    pub fn inflate(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), InflateError> {
        let d = self
            .d
            .get_or_insert_with(|| Box::new(Decompress::new(false)));
        while !self.ended {
            if out.len() > limit {
                return Err(InflateError::TooLarge);
            }
            if out.len() == out.capacity() {
                // Never more room than one byte past the limit.
                out.reserve_exact((limit + 1 - out.len()).min(32 * 1024 + input.len() * 2));
            }
            let (before_in, before_out) = (d.total_in(), d.total_out());
            let status = d
                .decompress_vec(input, out, FlushDecompress::Sync)
                .map_err(|e| InflateError::Invalid(e.to_string()))?;
            let used = (d.total_in() - before_in) as usize;
            input = &input[used..];
            if status == Status::StreamEnd {
                // A final block: what follows it in this message is ignored
                // and the next message starts a new stream.
                self.ended = true;
            } else if input.is_empty() && out.len() < out.capacity() {
                break;
            } else if used == 0 && d.total_out() == before_out {
                return Err(InflateError::Invalid(
                    "the deflate stream makes no progress".into(),
                ));
            }
        }
        if out.len() > limit {
            return Err(InflateError::TooLarge);
        }
        Ok(())
    }

    /// Ends a message: inflates the `00 00 FF FF` that the sender removed.
    pub fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), InflateError> {
        self.inflate(&[0, 0, 0xFF, 0xFF], out, limit)?;
        if self.reset_each || self.ended {
            if let Some(d) = &mut self.d {
                d.reset(false);
            }
            self.ended = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offers(s: &str) -> Vec<Extension> {
        parse_extensions([s.as_bytes()]).expect("parses")
    }

    #[test]
    fn parses_extension_lists() {
        let e = offers("permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=\"10\" , x-foo");
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].params, vec![("client_max_window_bits".into(), None)]);
        assert_eq!(
            e[1].params,
            vec![("server_max_window_bits".into(), Some("10".into()))]
        );
        assert_eq!(e[2].name, "x-foo");
        assert!(parse_extensions([&b"a; b=\"open"[..]]).is_none());
        assert!(parse_extensions([&b"; b"[..]]).is_none());
    }

    #[test]
    fn server_negotiation_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("permessage-deflate", Some("permessage-deflate")),
            (
                "permessage-deflate; client_max_window_bits",
                Some("permessage-deflate"),
            ),
            (
                "permessage-deflate; client_max_window_bits=10",
                Some("permessage-deflate"),
            ),
            (
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
            ),
            (
                "permessage-deflate; server_max_window_bits=12",
                Some("permessage-deflate; server_max_window_bits=12"),
            ),
            // 8 bits cannot be honoured: the next offer is taken.
            (
                "permessage-deflate; server_max_window_bits=8, permessage-deflate",
                Some("permessage-deflate"),
            ),
            ("permessage-deflate; server_max_window_bits=8", None),
            ("permessage-deflate; server_max_window_bits", None),
            ("permessage-deflate; server_max_window_bits=16", None),
            ("permessage-deflate; server_max_window_bits=09", None),
            ("permessage-deflate; client_max_window_bits=7", None),
            ("permessage-deflate; foo", None),
            ("permessage-deflate; server_no_context_takeover=1", None),
            (
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                None,
            ),
            ("x-webkit-deflate-frame", None),
        ];
        for (offer, want) in cases {
            let got = accept_offer(&offers(offer)).map(|(_, r)| r);
            assert_eq!(got.as_deref(), *want, "{offer}");
        }
    }

    #[test]
    fn client_checks_the_answer() {
        let ok = check_response(&offers(
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=10",
        ))
        .unwrap()
        .unwrap();
        assert!(ok.server_no_context_takeover);
        assert_eq!(ok.client_max_window_bits, 10);
        assert_eq!(check_response(&[]).unwrap(), None);
        for bad in [
            "x-other",
            "permessage-deflate, permessage-deflate",
            "permessage-deflate; client_max_window_bits=8",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; mystery",
        ] {
            assert!(check_response(&offers(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn round_trips_with_and_without_context() {
        for (bits, nct) in [(15, false), (15, true), (9, false)] {
            let mut d = Deflater::new(6, bits, nct);
            let mut i = Inflater::new(nct);
            for msg in [
                &b"hello hello hello hello"[..],
                b"",
                b"hello again hello",
                &[7u8; 70000],
            ] {
                let mut z = Vec::new();
                d.compress(msg, &mut z);
                let mut out = Vec::new();
                // Fed in two pieces, as frames would bring it.
                let (a, b) = z.split_at(z.len() / 2);
                i.inflate(a, &mut out, 1 << 20).unwrap();
                i.inflate(b, &mut out, 1 << 20).unwrap();
                i.finish(&mut out, 1 << 20).unwrap();
                assert_eq!(out, msg);
            }
        }
    }

    #[test]
    fn rfc_7692_example_inflates() {
        // §7.2.3.1: "Hello" compressed.
        let mut i = Inflater::new(false);
        let mut out = Vec::new();
        i.inflate(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], &mut out, 100)
            .unwrap();
        i.finish(&mut out, 100).unwrap();
        assert_eq!(out, b"Hello");
    }

    #[test]
    fn inflating_past_the_limit_fails() {
        let mut d = Deflater::new(6, 15, false);
        let mut z = Vec::new();
        d.compress(&[0u8; 1 << 20], &mut z);
        assert!(z.len() < 4096);
        let mut i = Inflater::new(false);
        let mut out = Vec::new();
        let r = i
            .inflate(&z, &mut out, 10_000)
            .and_then(|()| i.finish(&mut out, 10_000));
        assert!(matches!(r, Err(InflateError::TooLarge)), "{r:?}");
        assert!(out.capacity() <= 10_000 + 64 * 1024, "{}", out.capacity());
    }

    #[test]
    fn garbage_is_invalid() {
        let mut i = Inflater::new(false);
        let mut out = Vec::new();
        let r = i.inflate(&[0xFF; 16], &mut out, 1000);
        assert!(matches!(r, Err(InflateError::Invalid(_))), "{r:?}");
    }
}
