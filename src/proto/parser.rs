//! Streaming frame parser: socket chunks in, complete messages and control
//! frames out. One call per chunk, however frames fall across chunks.
//!
//! Payloads that lie wholly inside the chunk are unmasked in place and reported
//! as byte ranges of the chunk (no copy). A single-frame message that spans
//! chunks is unmasked straight into a buffer the sink lends for its announced
//! length (the binding lends buffers on the JS heap); everything else
//! (fragmented, compressed or very large messages) is assembled in a `Vec`. The first protocol violation is returned as an error carrying
//! its close code; after it, or after a close frame, all input is ignored.

use crate::proto::close::decode_close_with;
use crate::deflate::codec::{InflateError, Inflater};
use crate::proto::error::Violation;
use crate::proto::frame::{opcode, parse_header, FrameHeader, MAX_HEADER_LEN};
use crate::proto::mask::{apply_mask, extend_unmasked, unmask_into};
use crate::proto::rules::{check_lead, check_rules, RuleContext};
use crate::proto::utf8::{self, Utf8Validator};
pub use crate::proto::limits::{ParserConfig, Role, MAX_LENT};

/// Storage a sink lends for a message whose length is known before its bytes
/// arrive. Its whole length is filled before it comes back in an event.
pub trait LentBuffer {
    fn as_mut_slice(&mut self) -> &mut [u8];
}

impl LentBuffer for Vec<u8> {
    fn as_mut_slice(&mut self) -> &mut [u8] {
        self
    }
}

/// Where an event's bytes are. `L` is the sink's lent buffer type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload<L = Vec<u8>> {
    /// `len` bytes at `start` of the chunk passed to [`StreamParser::parse`], already unmasked.
    InChunk { start: usize, len: usize },
    /// Bytes assembled across frames or chunks.
    Owned(Vec<u8>),
    /// A single-frame message unmasked into a buffer the sink lent.
    Lent(L),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<L = Vec<u8>> {
    /// A complete message; a compressed one has already been inflated.
    Message { binary: bool, compressed: bool, data: Payload<L> },
    Ping(Payload<L>),
    Pong(Payload<L>),
    /// `code` is 1005 when the frame had no payload; `reason` excludes the code.
    Close { code: u16, reason: Payload<L> },
}

/// Receives events. `is_full` lets a bounded sink stop the parser at a frame boundary.
pub trait EventSink {
    type Lent: LentBuffer;
    fn push(&mut self, event: Event<Self::Lent>);
    fn is_full(&self) -> bool {
        false
    }
    /// A buffer of exactly `len` bytes (at most [`MAX_LENT`]) for a message
    /// spanning chunks, or `None` to let the parser grow a `Vec`.
    fn lend(&mut self, len: usize) -> Option<Self::Lent>;
}

/// Collects events; lends zeroed `Vec`s, so tests exercise the lending path.
impl EventSink for Vec<Event> {
    type Lent = Vec<u8>;
    fn push(&mut self, event: Event) {
        Vec::push(self, event)
    }
    fn lend(&mut self, len: usize) -> Option<Vec<u8>> {
        Some(vec![0; len])
    }
}

/// A data message whose frames or bytes are still arriving.
#[derive(Debug)]
struct Assembly<L> {
    binary: bool,
    compressed: bool,
    /// The message so far (inflated when compressed); unused while `lent` is set.
    bytes: Vec<u8>,
    /// A single-frame message: the lent buffer and how much of it is filled.
    lent: Option<(L, usize)>,
    /// Payload bytes received on the wire, which maxPayload also bounds.
    wire_len: u64,
    /// Data frames of the message so far (maxFragments).
    fragments: u32,
    /// A text message whose UTF-8 is checked (not with skipUTF8Validation).
    validate: bool,
    utf8: Utf8Validator,
}

impl<L> Assembly<L> {
    fn held_bytes(&self) -> usize {
        self.lent.as_ref().map_or(self.bytes.len(), |(_, filled)| *filled)
    }
}

/// What the parser is in the middle of.
#[derive(Debug, Clone, Copy)]
enum State {
    /// Between frames (possibly with a partial header stashed).
    Header,
    /// Inside a frame's payload that did not fit in one chunk.
    Payload { remaining: u64, key: Option<[u8; 4]>, offset: usize, opcode: u8, fin: bool },
    /// A close frame was received or the peer broke the protocol.
    Stopped,
}

pub struct StreamParser<L = Vec<u8>> {
    config: ParserConfig,
    state: State,
    header_stash: [u8; MAX_HEADER_LEN],
    header_stash_len: usize,
    message: Option<Assembly<L>>,
    control: Vec<u8>,
    /// Present once permessage-deflate is negotiated; RSV1 is refused without it.
    inflater: Option<Inflater>,
    /// `parse` calls so far, and the one in which the frame in progress began
    /// (maxBufferedChunks counts the chunks a frame spans).
    calls: u32,
    frame_first_call: u32,
}

/// How far one `parse` call got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the chunk consumed; less than its length only when the sink filled up.
    pub consumed: usize,
}

impl<L: LentBuffer> StreamParser<L> {
    pub fn new(config: ParserConfig) -> Self {
        Self {
            config,
            state: State::Header,
            header_stash: [0; MAX_HEADER_LEN],
            header_stash_len: 0,
            message: None,
            control: Vec::new(),
            inflater: None,
            calls: 0,
            frame_first_call: 0,
        }
    }

    /// permessage-deflate was negotiated: RSV1 marks compressed messages from now on.
    pub fn enable_inflate(&mut self, inflater: Inflater) {
        self.inflater = Some(inflater);
    }

    /// Whether an inflate context is allocated (for memory accounting).
    pub fn holds_inflate_context(&self) -> bool {
        self.inflater.as_ref().is_some_and(Inflater::holds_context)
    }

    /// Back to the state of a new parser with the same limits: whatever it
    /// held (a frame or message in progress, the inflater) is dropped, so that
    /// it can serve another connection.
    pub fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    /// True once a close frame arrived or the protocol was broken.
    pub fn is_stopped(&self) -> bool {
        matches!(self.state, State::Stopped)
    }

    /// Bytes held for a message or frame not yet complete.
    pub fn buffered_bytes(&self) -> usize {
        self.message.as_ref().map_or(0, Assembly::held_bytes) + self.control.len() + self.header_stash_len
    }

    /// Feeds one chunk. Payloads inside the chunk are unmasked in place, which
    /// is why it is `&mut`. Events go to `sink` in wire order.
    pub fn parse(&mut self, chunk: &mut [u8], sink: &mut impl EventSink<Lent = L>) -> Result<Progress, Violation> {
        self.calls = self.calls.wrapping_add(1);
        let max_chunks = self.config.max_buffered_chunks;
        if max_chunks > 0 && self.in_frame() && self.calls.wrapping_sub(self.frame_first_call) >= max_chunks {
            self.stop();
            return Err(Violation::TooManyBufferedChunks);
        }
        let result = self.parse_inner(chunk, sink);
        if result.is_err() {
            self.stop();
        }
        result
    }

    /// A frame has begun and not ended (its header or payload is incomplete).
    fn in_frame(&self) -> bool {
        self.header_stash_len > 0 || matches!(self.state, State::Payload { .. })
    }

    fn stop(&mut self) {
        self.state = State::Stopped;
        self.message = None;
        self.control = Vec::new();
        self.header_stash_len = 0;
    }

    fn parse_inner(&mut self, chunk: &mut [u8], sink: &mut impl EventSink<Lent = L>) -> Result<Progress, Violation> {
        let mut pos = 0;
        loop {
            match self.state {
                State::Stopped => return Ok(Progress { consumed: chunk.len() }),
                State::Header => {
                    if pos == chunk.len() || sink.is_full() {
                        return Ok(Progress { consumed: pos });
                    }
                    if self.header_stash_len == 0 {
                        self.frame_first_call = self.calls;
                    }
                    let Some(header) = self.take_header(chunk, &mut pos)? else {
                        return Ok(Progress { consumed: chunk.len() });
                    };
                    self.check_header(&header)?;
                    self.begin_payload(header, chunk, &mut pos, sink)?;
                }
                State::Payload { remaining, key, offset, opcode: op, fin } => {
                    let available = chunk.len() - pos;
                    let take = remaining.min(available as u64) as usize;
                    let piece = &mut chunk[pos..pos + take];
                    if !self.append_plain_piece(op, piece, key, offset)? {
                        if let Some(key) = key {
                            apply_mask(piece, key, offset);
                        }
                        self.append_piece(op, piece)?;
                    }
                    pos += take;
                    let remaining = remaining - take as u64;
                    if remaining > 0 {
                        self.state = State::Payload { remaining, key, offset: offset + take, opcode: op, fin };
                        return Ok(Progress { consumed: pos });
                    }
                    self.state = State::Header;
                    self.end_frame(op, fin, chunk, sink)?;
                }
            }
        }
    }

    /// Reads a header at `pos`, completing a stashed partial one if any.
    /// `None`: the chunk ended inside the header (the bytes are stashed).
    fn take_header(&mut self, chunk: &[u8], pos: &mut usize) -> Result<Option<FrameHeader>, Violation> {
        if self.header_stash_len == 0 {
            let parsed = parse_header(&chunk[*pos..]).map_err(|e| self.header_error(&chunk[*pos..], e))?;
            return match parsed {
                Some(header) => {
                    *pos += header.header_len;
                    Ok(Some(header))
                }
                None => {
                    let rest = &chunk[*pos..];
                    if rest.len() >= 2 {
                        self.check_lead(rest[0], rest[1])?;
                    }
                    self.header_stash[..rest.len()].copy_from_slice(rest);
                    self.header_stash_len = rest.len();
                    *pos = chunk.len();
                    Ok(None)
                }
            };
        }
        let stashed = self.header_stash_len;
        let take = (MAX_HEADER_LEN - stashed).min(chunk.len() - *pos);
        self.header_stash[stashed..stashed + take].copy_from_slice(&chunk[*pos..*pos + take]);
        let buf = &self.header_stash[..stashed + take];
        match parse_header(buf).map_err(|e| self.header_error(buf, e))? {
            Some(header) => {
                *pos += header.header_len - stashed;
                self.header_stash_len = 0;
                Ok(Some(header))
            }
            None => {
                if stashed < 2 && stashed + take >= 2 {
                    self.check_lead(self.header_stash[0], self.header_stash[1])?;
                }
                self.header_stash_len = stashed + take;
                *pos += take;
                Ok(None)
            }
        }
    }

    /// The error for a header `parse_header` refused (a broken length): a
    /// rule the first two bytes break wins, as when those bytes arrived alone.
    #[cold]
    fn header_error(&self, buf: &[u8], broken: Violation) -> Violation {
        match buf {
            [b0, b1, ..] => self.check_lead(*b0, *b1).err().unwrap_or(broken),
            _ => broken,
        }
    }

    /// RFC 6455 §5.1-§5.5 (and RFC 7692 §6 for RSV1) checks on a whole header.
    fn check_header(&self, h: &FrameHeader) -> Result<(), Violation> {
        check_rules(self.rule_context(), h)?;
        if opcode::is_control(h.opcode) {
            return Ok(());
        }
        let so_far = self.message.as_ref().map_or(0, |m| m.wire_len);
        let max = self.config.max_payload;
        if max > 0 && so_far.saturating_add(h.payload_len) > max {
            return Err(Violation::MessageTooBig);
        }
        Ok(())
    }

    /// What the header rules depend on besides the header.
    #[inline(always)]
    fn rule_context(&self) -> RuleContext {
        RuleContext { role: self.config.role, inflate: self.inflater.is_some(), in_message: self.message.is_some() }
    }

    fn check_lead(&self, b0: u8, b1: u8) -> Result<(), Violation> {
        check_lead(self.rule_context(), b0, b1)
    }

    /// Handles a checked header: finishes the frame at once when its payload is
    /// in this chunk, otherwise enters the Payload state.
    fn begin_payload(
        &mut self,
        h: FrameHeader,
        chunk: &mut [u8],
        pos: &mut usize,
        sink: &mut impl EventSink<Lent = L>,
    ) -> Result<(), Violation> {
        let start = *pos;
        let in_chunk = h.payload_len <= (chunk.len() - start) as u64;
        let control = opcode::is_control(h.opcode);
        // The zero-copy path: a whole unfragmented data frame, or a control frame, in this chunk.
        if in_chunk && (control || (h.fin && self.message.is_none())) {
            let len = h.payload_len as usize;
            let payload = &mut chunk[start..start + len];
            if let Some(key) = h.mask {
                apply_mask(payload, key, 0);
            }
            *pos = start + len;
            if control {
                return self.emit_control(h.opcode, Payload::InChunk { start, len }, chunk, sink);
            }
            let binary = h.opcode == opcode::BINARY;
            let validate = !binary && !self.config.skip_utf8;
            if h.rsv1 {
                let inflated = self.inflate_whole(payload, validate)?;
                if validate && !utf8::is_valid(&inflated) {
                    return Err(invalid_utf8());
                }
                sink.push(Event::Message { binary, compressed: true, data: Payload::Owned(inflated) });
                return Ok(());
            }
            if validate && !utf8::is_valid(payload) {
                return Err(invalid_utf8());
            }
            sink.push(Event::Message { binary, compressed: false, data: Payload::InChunk { start, len } });
            return Ok(());
        }
        if !control && self.message.is_none() {
            // A whole uncompressed message in this one frame: its length is known.
            let lent = if h.fin && !h.rsv1 && h.payload_len <= MAX_LENT {
                sink.lend(h.payload_len as usize).map(|buffer| (buffer, 0))
            } else {
                None
            };
            let reserve = if lent.is_some() || h.rsv1 { 0 } else { h.payload_len.min(MAX_LENT) as usize };
            self.message = Some(Assembly {
                binary: h.opcode == opcode::BINARY,
                compressed: h.rsv1,
                bytes: Vec::with_capacity(reserve),
                lent,
                wire_len: 0,
                fragments: 0,
                validate: h.opcode == opcode::TEXT && !self.config.skip_utf8,
                utf8: Utf8Validator::new(),
            });
        }
        if let Some(message) = self.message.as_mut() {
            if !control {
                message.wire_len += h.payload_len;
                message.fragments += 1;
                let max = self.config.max_fragments;
                if max > 0 && message.fragments > max {
                    return Err(Violation::TooManyFragments);
                }
            }
        }
        self.state = State::Payload { remaining: h.payload_len, key: h.mask, offset: 0, opcode: h.opcode, fin: h.fin };
        Ok(())
    }

    /// The hot path for large uncompressed messages: unmasks straight into the
    /// message buffer in one pass. Returns false when the piece is not of that kind.
    fn append_plain_piece(&mut self, op: u8, piece: &[u8], key: Option<[u8; 4]>, offset: usize) -> Result<bool, Violation> {
        let Some(message) = self.message.as_mut() else {
            return Ok(false);
        };
        if opcode::is_control(op) || message.compressed {
            return Ok(false);
        }
        if let Some((buffer, filled)) = message.lent.as_mut() {
            let start = *filled;
            let end = start + piece.len();
            let Some(target) = buffer.as_mut_slice().get_mut(start..end) else {
                return Err(Violation::Internal("lent buffer shorter than its frame"));
            };
            match key {
                Some(key) => unmask_into(target, piece, key, offset),
                None => target.copy_from_slice(piece),
            }
            *filled = end;
            if message.validate {
                message.utf8.feed(target).map_err(|_| invalid_utf8())?;
            }
            return Ok(true);
        }
        let before = message.bytes.len();
        match key {
            Some(key) => extend_unmasked(&mut message.bytes, piece, key, offset),
            None => message.bytes.extend_from_slice(piece),
        }
        if message.validate {
            message.utf8.feed(&message.bytes[before..]).map_err(|_| invalid_utf8())?;
        }
        Ok(true)
    }

    /// Adds unmasked payload bytes of the current frame to its buffer.
    fn append_piece(&mut self, op: u8, piece: &[u8]) -> Result<(), Violation> {
        if opcode::is_control(op) {
            self.control.extend_from_slice(piece);
            return Ok(());
        }
        let Some(message) = self.message.as_mut() else {
            return Ok(());
        };
        if message.compressed {
            let inflater = self.inflater.as_mut().ok_or(RSV1_WITHOUT_EXTENSION)?;
            let before = message.bytes.len();
            let result = inflater.inflate_piece(piece, &mut message.bytes, self.config.max_payload);
            return checked_inflate(result, message, before, self.config.max_payload);
        }
        if message.validate {
            message.utf8.feed(piece).map_err(|_| invalid_utf8())?;
        }
        message.bytes.extend_from_slice(piece);
        Ok(())
    }

    /// Inflates a compressed message that arrived in one frame inside one chunk.
    fn inflate_whole(&mut self, payload: &[u8], validate: bool) -> Result<Vec<u8>, Violation> {
        let inflater = self.inflater.as_mut().ok_or(RSV1_WITHOUT_EXTENSION)?;
        let max = self.config.max_payload;
        let mut out = Vec::new();
        let result = inflater.inflate_piece(payload, &mut out, max).and_then(|()| inflater.finish_message(&mut out, max));
        if let Err(e) = result {
            // Text checked up to the limit, as the piecewise path would have.
            if validate && matches!(e, InflateError::TooBig) && Utf8Validator::new().feed(within_limit(&out, max)).is_err() {
                return Err(invalid_utf8());
            }
            return Err(Violation::from(&e));
        }
        Ok(out)
    }

    /// A frame's last payload byte arrived.
    fn end_frame(&mut self, op: u8, fin: bool, chunk: &[u8], sink: &mut impl EventSink<Lent = L>) -> Result<(), Violation> {
        if opcode::is_control(op) {
            let bytes = std::mem::take(&mut self.control);
            return self.emit_control(op, Payload::Owned(bytes), chunk, sink);
        }
        if !fin {
            return Ok(());
        }
        let Some(mut message) = self.message.take() else {
            return Ok(());
        };
        if message.compressed {
            let inflater = self.inflater.as_mut().ok_or(RSV1_WITHOUT_EXTENSION)?;
            let before = message.bytes.len();
            let result = inflater.finish_message(&mut message.bytes, self.config.max_payload);
            checked_inflate(result, &mut message, before, self.config.max_payload)?;
        }
        if message.validate {
            message.utf8.finish().map_err(|_| invalid_utf8())?;
        }
        let data = match message.lent {
            Some((buffer, _)) => Payload::Lent(buffer),
            None => Payload::Owned(message.bytes),
        };
        sink.push(Event::Message { binary: message.binary, compressed: message.compressed, data });
        Ok(())
    }

    /// Ping, pong or close; `data` is the unmasked payload, possibly inside `chunk`.
    fn emit_control(&mut self, op: u8, data: Payload<L>, chunk: &[u8], sink: &mut impl EventSink<Lent = L>) -> Result<(), Violation> {
        match op {
            opcode::PING => sink.push(Event::Ping(data)),
            opcode::PONG => sink.push(Event::Pong(data)),
            _ => {
                let bytes = match &data {
                    Payload::InChunk { start, len } => &chunk[*start..*start + *len],
                    Payload::Owned(owned) => owned.as_slice(),
                    Payload::Lent(_) => return Err(Violation::Internal("control frame in a lent buffer")),
                };
                let info = decode_close_with(bytes, self.config.skip_utf8)?;
                let reason = match data {
                    Payload::InChunk { start, len } => Payload::InChunk {
                        start: start + info.reason_start,
                        len: len - info.reason_start,
                    },
                    Payload::Owned(mut owned) => {
                        owned.drain(..info.reason_start);
                        Payload::Owned(owned)
                    }
                    lent @ Payload::Lent(_) => lent,
                };
                sink.push(Event::Close { code: info.code, reason });
                self.stop();
            }
        }
        Ok(())
    }
}

/// The outcome of inflating into `message.bytes` from `before` on, with the
/// new text validated. Invalid UTF-8 within `max` wins over exceeding `max`,
/// so the close code does not depend on how the input was chunked.
fn checked_inflate<L>(
    result: Result<(), InflateError>,
    message: &mut Assembly<L>,
    before: usize,
    max: u64,
) -> Result<(), Violation> {
    if message.validate {
        let fresh = within_limit(&message.bytes, max).get(before..).unwrap_or(&[]);
        message.utf8.feed(fresh).map_err(|_| invalid_utf8())?;
    }
    result.map_err(|e| Violation::from(&e))
}

/// The bytes of `out` that fit within `max` (0: no limit).
fn within_limit(out: &[u8], max: u64) -> &[u8] {
    if max == 0 {
        return out;
    }
    &out[..out.len().min(usize::try_from(max).unwrap_or(usize::MAX))]
}

const RSV1_WITHOUT_EXTENSION: Violation = Violation::UnexpectedRsv1;

fn invalid_utf8() -> Violation {
    Violation::InvalidUtf8
}

#[cfg(test)]
mod tests;
