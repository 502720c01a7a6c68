//! Messages to and from frames, sans I/O: the [`Decoder`] takes bytes as
//! they arrive and returns whole messages (reassembling fragments, checking
//! every rule of RFC 6455 as early as the bytes allow); the [`Encoder`]
//! turns a message into a frame. Neither touches a socket, so both are
//! tested (and fuzzed) on plain byte slices.

use std::fmt;

use bytes::Bytes;

use super::deflate::{Deflater, InflateError, Inflater, Params};
use super::frame::{
    apply_mask, extend_masked, header_len, is_valid_close_code, FrameHeader, HeaderError, Opcode,
};
use super::{CloseFrame, Message};
use crate::error::{Error, ErrorKind};

/// Which end of the connection a codec serves: it decides who masks (the
/// client, every frame) and who must receive masked frames (the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that accepted the connection.
    Server,
    /// The end that opened it.
    Client,
}

/// The peer broke the protocol: the connection fails with
/// [`close_code`](Self::close_code) (1002 protocol error, 1007 invalid
/// data, 1009 too big).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    code: u16,
    message: String,
}

impl ProtocolError {
    fn new(code: u16, message: impl Into<String>) -> ProtocolError {
        ProtocolError {
            code,
            message: message.into(),
        }
    }

    fn protocol(message: impl Into<String>) -> ProtocolError {
        ProtocolError::new(CloseFrame::PROTOCOL_ERROR, message)
    }

    /// The close code to send the peer.
    pub fn close_code(&self) -> u16 {
        self.code
    }

    /// The error kind a caller sees: `TooLarge` for 1009, `Decode` for
    /// 1007, `Parse` otherwise.
    pub(crate) fn kind(&self) -> ErrorKind {
        match self.code {
            CloseFrame::TOO_BIG => ErrorKind::TooLarge,
            CloseFrame::INVALID_DATA => ErrorKind::Decode,
            _ => ErrorKind::Parse,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (close code {})", self.message, self.code)
    }
}

impl std::error::Error for ProtocolError {}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Error {
        Error::new(e.kind(), format!("WebSocket: {e}"))
    }
}

/// Limits on what the peer may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest frame payload.
    pub max_frame: u64,
    /// The largest message, after decompression.
    pub max_message: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_frame: 16 << 20,
            max_message: 16 << 20,
        }
    }
}

struct Frame {
    header: FrameHeader,
    remaining: u64,
    offset: usize,
}

struct Partial {
    text: bool,
    compressed: bool,
    data: Vec<u8>,
    /// How much of `data` is known to be valid UTF-8.
    checked: usize,
}

/// Reassembles the messages of one direction from bytes.
///
/// # Examples
///
/// ```
/// use thicket_http::ws::{Decoder, Message, Role};
///
/// let mut d = Decoder::new(Role::Client, Default::default());
/// // An unfragmented unmasked "Hello" (RFC 6455 §5.7), in two pieces.
/// let bytes = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
/// assert_eq!(d.decode(&bytes[..3]).unwrap(), (3, None));
/// assert_eq!(d.decode(&bytes[3..]).unwrap(), (4, Some(Message::Text("Hello".into()))));
/// ```
pub struct Decoder {
    role: Role,
    limits: Limits,
    inflater: Option<Inflater>,
    head: [u8; super::frame::MAX_HEADER_LEN],
    head_len: usize,
    frame: Option<Frame>,
    msg: Option<Partial>,
    control: Vec<u8>,
    scratch: Vec<u8>,
}

impl Decoder {
    /// A decoder for `role`'s side (a server decodes what clients send),
    /// without extensions.
    pub fn new(role: Role, limits: Limits) -> Decoder {
        Decoder::with_deflate(role, limits, None)
    }

    pub(crate) fn with_deflate(role: Role, limits: Limits, deflate: Option<Params>) -> Decoder {
        let inflater = deflate.map(|p| {
            Inflater::new(match role {
                Role::Server => p.client_no_context_takeover,
                Role::Client => p.server_no_context_takeover,
            })
        });
        Decoder {
            role,
            limits,
            inflater,
            head: [0; super::frame::MAX_HEADER_LEN],
            head_len: 0,
            frame: None,
            msg: None,
            control: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Takes bytes from the front of `input` until a message or control
    /// frame is complete (or `input` runs out): returns how many it took
    /// and the message, if one is complete. Feed the rest back in.
    ///
    /// Pings and pongs are returned as they arrive, also between the
    /// fragments of a message. After a `Close`, the caller should stop
    /// decoding.
    ///
    /// # Errors
    ///
    /// The peer broke a rule; the error says which and with what code the
    /// connection fails. The decoder is not usable afterwards.
    pub fn decode(&mut self, input: &[u8]) -> Result<(usize, Option<Message>), ProtocolError> {
        let mut at = 0;
        loop {
            if self.frame.is_none() && self.head_len == 0 {
                // The usual case: a whole header at hand, parsed where it is.
                if let [b0, b1, ..] = input[at..] {
                    let need = header_len(b1);
                    if input.len() - at >= need {
                        self.check_first_bytes(b0, b1)?;
                        let header = match FrameHeader::parse(&input[at..at + need]) {
                            Ok(Some((h, _))) => h,
                            Ok(None) => unreachable!("the whole header is here"),
                            Err(e) => return Err(ProtocolError::protocol(e.to_string())),
                        };
                        at += need;
                        self.start_frame(header)?;
                    }
                }
            }
            if self.frame.is_none() {
                while self.head_len < 2 && at < input.len() {
                    self.head[self.head_len] = input[at];
                    self.head_len += 1;
                    at += 1;
                    if self.head_len == 2 {
                        self.check_first_bytes(self.head[0], self.head[1])?;
                    }
                }
                if self.head_len < 2 {
                    return Ok((at, None));
                }
                let need = header_len(self.head[1]);
                let take = (need - self.head_len).min(input.len() - at);
                self.head[self.head_len..self.head_len + take]
                    .copy_from_slice(&input[at..at + take]);
                self.head_len += take;
                at += take;
                if self.head_len < need {
                    return Ok((at, None));
                }
                let header = match FrameHeader::parse(&self.head[..need]) {
                    Ok(Some((h, _))) => h,
                    Ok(None) => unreachable!("the whole header is here"),
                    Err(e @ HeaderError::ReservedOpcode(_))
                    | Err(e @ HeaderError::LengthOverflow) => {
                        return Err(ProtocolError::protocol(e.to_string()))
                    }
                };
                self.head_len = 0;
                self.start_frame(header)?;
            }
            let frame = self.frame.as_mut().expect("a frame is in progress");
            let take = usize::try_from(frame.remaining)
                .unwrap_or(usize::MAX)
                .min(input.len() - at);
            let chunk = &input[at..at + take];
            at += take;
            // The last bytes of a message are checked whole at its end.
            let last = frame.header.fin && take as u64 == frame.remaining;
            self.payload(chunk, last)?;
            let frame = self.frame.as_mut().expect("a frame is in progress");
            frame.remaining -= take as u64;
            frame.offset += take;
            if frame.remaining > 0 {
                return Ok((at, None));
            }
            let frame = self.frame.take().expect("a frame is in progress");
            if let Some(m) = self.end_frame(&frame.header)? {
                return Ok((at, Some(m)));
            }
        }
    }

    /// What the first two bytes of a header already tell (fail fast).
    fn check_first_bytes(&self, b0: u8, b1: u8) -> Result<(), ProtocolError> {
        let op = b0 & 0x0F;
        let Some(opcode) = Opcode::from_u8(op) else {
            return Err(ProtocolError::protocol(format!("reserved opcode {op:#x}")));
        };
        let (fin, rsv1) = (b0 & 0x80 != 0, b0 & 0x40 != 0);
        if b0 & 0x30 != 0 {
            return Err(ProtocolError::protocol(
                "RSV2 or RSV3 set, and no extension using them was negotiated",
            ));
        }
        if rsv1 {
            if self.inflater.is_none() {
                return Err(ProtocolError::protocol(
                    "RSV1 set, and no extension using it was negotiated",
                ));
            }
            if !matches!(opcode, Opcode::Text | Opcode::Binary) {
                return Err(ProtocolError::protocol(
                    "RSV1 set on a frame other than the first of a data message",
                ));
            }
        }
        let masked = b1 & 0x80 != 0;
        match (self.role, masked) {
            (Role::Server, false) => {
                return Err(ProtocolError::protocol("an unmasked frame from a client"))
            }
            (Role::Client, true) => {
                return Err(ProtocolError::protocol("a masked frame from a server"))
            }
            _ => {}
        }
        if opcode.is_control() {
            if !fin {
                return Err(ProtocolError::protocol("a fragmented control frame"));
            }
            if usize::from(b1 & 0x7F) > super::frame::MAX_CONTROL_PAYLOAD {
                return Err(ProtocolError::protocol(
                    "a control frame with a payload over 125 bytes",
                ));
            }
        }
        match (opcode, self.msg.is_some()) {
            (Opcode::Continuation, false) => Err(ProtocolError::protocol(
                "a continuation frame with no message in progress",
            )),
            (Opcode::Text | Opcode::Binary, true) => Err(ProtocolError::protocol(
                "a new data message before the previous one was finished",
            )),
            _ => Ok(()),
        }
    }

    fn start_frame(&mut self, header: FrameHeader) -> Result<(), ProtocolError> {
        if header.len > self.limits.max_frame {
            return Err(ProtocolError::new(
                CloseFrame::TOO_BIG,
                format!(
                    "a frame of {} bytes, over the {}-byte limit",
                    header.len, self.limits.max_frame
                ),
            ));
        }
        match header.opcode {
            Opcode::Text | Opcode::Binary => {
                self.msg = Some(Partial {
                    text: header.opcode == Opcode::Text,
                    compressed: header.rsv1,
                    data: Vec::new(),
                    checked: 0,
                });
            }
            Opcode::Continuation => {}
            Opcode::Close | Opcode::Ping | Opcode::Pong => self.control.clear(),
        }
        if !header.opcode.is_control() {
            let msg = self.msg.as_mut().expect("checked in check_first_bytes");
            let total = (msg.data.len() as u64).saturating_add(header.len);
            if !msg.compressed && total > self.limits.max_message as u64 {
                return Err(too_big(total, self.limits.max_message));
            }
            if !msg.compressed {
                // At most 1 MiB ahead: the peer may still not send it all.
                msg.data.reserve(header.len.min(1 << 20) as usize);
            }
        }
        self.frame = Some(Frame {
            header,
            remaining: header.len,
            offset: 0,
        });
        Ok(())
    }

    fn payload(&mut self, chunk: &[u8], last: bool) -> Result<(), ProtocolError> {
        let frame = self.frame.as_ref().expect("a frame is in progress");
        let (mask, offset) = (frame.header.mask, frame.offset);
        if frame.header.opcode.is_control() {
            let start = self.control.len();
            self.control.extend_from_slice(chunk);
            if let Some(key) = mask {
                apply_mask(&mut self.control[start..], key, offset);
            }
            return Ok(());
        }
        let msg = self.msg.as_mut().expect("a message is in progress");
        if msg.compressed {
            let inflater = self
                .inflater
                .as_mut()
                .expect("checked in check_first_bytes");
            let data = match mask {
                Some(key) => {
                    self.scratch.clear();
                    extend_masked(&mut self.scratch, chunk, key, offset);
                    &self.scratch[..]
                }
                None => chunk,
            };
            inflater
                .inflate(data, &mut msg.data, self.limits.max_message)
                .map_err(|e| inflate_error(e, self.limits.max_message))?;
        } else {
            match mask {
                Some(key) => extend_masked(&mut msg.data, chunk, key, offset),
                None => msg.data.extend_from_slice(chunk),
            }
        }
        // Fail fast (Autobahn 6.4.x): a message whose start cannot be
        // UTF-8 fails before the rest arrives.
        if msg.text && !last {
            check_utf8(msg)?;
        }
        Ok(())
    }

    fn end_frame(&mut self, header: &FrameHeader) -> Result<Option<Message>, ProtocolError> {
        match header.opcode {
            Opcode::Ping => return Ok(Some(Message::Ping(Bytes::copy_from_slice(&self.control)))),
            Opcode::Pong => return Ok(Some(Message::Pong(Bytes::copy_from_slice(&self.control)))),
            Opcode::Close => return parse_close(&self.control).map(|f| Some(Message::Close(f))),
            _ => {}
        }
        if !header.fin {
            return Ok(None);
        }
        let mut msg = self.msg.take().expect("a message is in progress");
        if msg.compressed {
            let inflater = self
                .inflater
                .as_mut()
                .expect("checked in check_first_bytes");
            inflater
                .finish(&mut msg.data, self.limits.max_message)
                .map_err(|e| inflate_error(e, self.limits.max_message))?;
        }
        if msg.text {
            let text = String::from_utf8(msg.data).map_err(|_| invalid_utf8())?;
            Ok(Some(Message::Text(text)))
        } else {
            Ok(Some(Message::Binary(Bytes::from(msg.data))))
        }
    }
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("role", &self.role)
            .field("limits", &self.limits)
            .field("deflate", &self.inflater.is_some())
            .field("in_message", &self.msg.is_some())
            .finish_non_exhaustive()
    }
}

fn too_big(len: u64, limit: usize) -> ProtocolError {
    ProtocolError::new(
        CloseFrame::TOO_BIG,
        format!("a message of {len} bytes or more, over the {limit}-byte limit"),
    )
}

fn invalid_utf8() -> ProtocolError {
    ProtocolError::new(CloseFrame::INVALID_DATA, "a text message that is not UTF-8")
}

fn inflate_error(e: InflateError, limit: usize) -> ProtocolError {
    match e {
        InflateError::TooLarge => ProtocolError::new(
            CloseFrame::TOO_BIG,
            format!("a compressed message that inflates past the {limit}-byte limit"),
        ),
        InflateError::Invalid(why) => ProtocolError::new(
            CloseFrame::INVALID_DATA,
            format!("a compressed message that does not inflate: {why}"),
        ),
    }
}

/// Checks what arrived since the last call; an incomplete character at the
/// end waits for the next bytes, an impossible one fails at once.
fn check_utf8(msg: &mut Partial) -> Result<(), ProtocolError> {
    match std::str::from_utf8(&msg.data[msg.checked..]) {
        Ok(_) => msg.checked = msg.data.len(),
        Err(e) if e.error_len().is_some() => return Err(invalid_utf8()),
        Err(e) => msg.checked += e.valid_up_to(),
    }
    Ok(())
}

fn parse_close(payload: &[u8]) -> Result<Option<CloseFrame>, ProtocolError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ProtocolError::protocol(
            "a close frame with a 1-byte payload",
        )),
        [a, b, reason @ ..] => {
            let code = u16::from_be_bytes([*a, *b]);
            if !is_valid_close_code(code) {
                return Err(ProtocolError::protocol(format!(
                    "close code {code}, which may not be sent"
                )));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| {
                ProtocolError::new(CloseFrame::INVALID_DATA, "a close reason that is not UTF-8")
            })?;
            Ok(Some(CloseFrame {
                code,
                reason: reason.to_owned(),
            }))
        }
    }
}

/// Unpredictable masking keys, drawn from the OS 64 at a time.
struct MaskKeys {
    pool: [u8; 256],
    used: usize,
}

impl MaskKeys {
    fn next(&mut self) -> Result<[u8; 4], Error> {
        if self.used == self.pool.len() {
            getrandom::getrandom(&mut self.pool).map_err(|e| {
                Error::with_source(ErrorKind::Io, "no randomness for WebSocket masking keys", e)
            })?;
            self.used = 0;
        }
        let k = &self.pool[self.used..self.used + 4];
        self.used += 4;
        Ok([k[0], k[1], k[2], k[3]])
    }
}

/// Turns messages into frames for one direction.
///
/// # Examples
///
/// ```
/// use thicket_http::ws::{Encoder, Message, Role};
///
/// let mut e = Encoder::new(Role::Server);
/// let mut out = Vec::new();
/// e.encode(&Message::Text("Hello".into()), &mut out)?;
/// assert_eq!(out, [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
/// # Ok::<(), thicket_http::Error>(())
/// ```
pub struct Encoder {
    role: Role,
    deflater: Option<Deflater>,
    keys: MaskKeys,
    scratch: Vec<u8>,
}

impl Encoder {
    /// An encoder for `role`'s side (a client masks), without extensions.
    pub fn new(role: Role) -> Encoder {
        Encoder::with_deflate(role, None, 6)
    }

    pub(crate) fn with_deflate(role: Role, deflate: Option<Params>, level: u32) -> Encoder {
        let deflater = deflate.map(|p| match role {
            Role::Server => Deflater::new(
                level,
                p.server_max_window_bits,
                p.server_no_context_takeover,
            ),
            Role::Client => Deflater::new(
                level,
                p.client_max_window_bits,
                p.client_no_context_takeover,
            ),
        });
        Encoder {
            role,
            deflater,
            keys: MaskKeys {
                pool: [0; 256],
                used: 256,
            },
            scratch: Vec::new(),
        }
    }

    /// For a data frame this side sends as it is (unmasked, uncompressed)
    /// with a payload of at least `min` bytes: appends only the header to
    /// `out` and returns the payload, for the caller to write right after
    /// it without copying it. Any other message is encoded whole, as by
    /// [`encode`](Self::encode), and `None` returned.
    pub(crate) fn encode_split<'m>(
        &mut self,
        msg: &'m Message,
        out: &mut Vec<u8>,
        min: usize,
    ) -> Result<Option<&'m [u8]>, Error> {
        let (opcode, payload) = match msg {
            Message::Text(t) => (Opcode::Text, t.as_bytes()),
            Message::Binary(b) => (Opcode::Binary, &b[..]),
            _ => (Opcode::Close, &[][..]),
        };
        let as_is = self.role == Role::Server && self.deflater.is_none();
        if !as_is || opcode.is_control() || payload.len() < min {
            return self.encode(msg, out).map(|()| None);
        }
        let header = FrameHeader {
            fin: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode,
            mask: None,
            len: payload.len() as u64,
        };
        header.write(out);
        Ok(Some(payload))
    }

    /// Appends `msg` to `out` as one frame (text and binary compressed when
    /// permessage-deflate was agreed; a close reason cut to 123 bytes at a
    /// character boundary).
    ///
    /// # Errors
    ///
    /// `InvalidRequest` for a ping or pong over 125 bytes or a close code
    /// that may not be sent; `Io` if the OS has no randomness for a
    /// masking key.
    pub fn encode(&mut self, msg: &Message, out: &mut Vec<u8>) -> Result<(), Error> {
        let mut close = [0u8; 125];
        let (opcode, payload): (Opcode, &[u8]) = match msg {
            Message::Text(t) => (Opcode::Text, t.as_bytes()),
            Message::Binary(b) => (Opcode::Binary, b),
            Message::Ping(p) | Message::Pong(p) => {
                if p.len() > super::frame::MAX_CONTROL_PAYLOAD {
                    return Err(Error::new(
                        ErrorKind::InvalidRequest,
                        format!("a ping or pong payload of {} bytes (125 at most)", p.len()),
                    ));
                }
                let op = if matches!(msg, Message::Ping(_)) {
                    Opcode::Ping
                } else {
                    Opcode::Pong
                };
                (op, p)
            }
            Message::Close(None) => (Opcode::Close, &[]),
            Message::Close(Some(f)) => {
                if !is_valid_close_code(f.code) {
                    return Err(Error::new(
                        ErrorKind::InvalidRequest,
                        format!("close code {} may not be sent", f.code),
                    ));
                }
                let mut end = f.reason.len().min(123);
                while !f.reason.is_char_boundary(end) {
                    end -= 1;
                }
                close[..2].copy_from_slice(&f.code.to_be_bytes());
                close[2..2 + end].copy_from_slice(&f.reason.as_bytes()[..end]);
                (Opcode::Close, &close[..2 + end])
            }
        };
        let mut rsv1 = false;
        let payload = match &mut self.deflater {
            Some(d) if matches!(opcode, Opcode::Text | Opcode::Binary) => {
                self.scratch.clear();
                d.compress(payload, &mut self.scratch);
                rsv1 = true;
                &self.scratch[..]
            }
            _ => payload,
        };
        let mask = match self.role {
            Role::Client => Some(self.keys.next()?),
            Role::Server => None,
        };
        let header = FrameHeader {
            fin: true,
            rsv1,
            rsv2: false,
            rsv3: false,
            opcode,
            mask,
            len: payload.len() as u64,
        };
        out.reserve(super::frame::MAX_HEADER_LEN + payload.len());
        header.write(out);
        match mask {
            Some(key) => extend_masked(out, payload, key, 0),
            None => out.extend_from_slice(payload),
        }
        if self.scratch.capacity() > 64 * 1024 {
            self.scratch = Vec::new();
        }
        Ok(())
    }
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder")
            .field("role", &self.role)
            .field("deflate", &self.deflater.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
