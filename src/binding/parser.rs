//! The stream parser for JS (`StreamParser`, wrapped by lib/native.js): one call per socket chunk fills a parse record table
//! (layout in crate::abi) and returns the Buffers owned records point at.

use std::cell::Cell;
use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::buffers::{external_buffer, JsBuffer, JsLent};
use super::{argument_error, guard, violation_error};
use crate::abi::{self, record, Lending, SlabCursor};
use crate::deflate::codec::Inflater;
use crate::deflate::negotiate::window_bits_option;
use crate::proto::error::{ArgumentError, Violation};
use crate::proto::frame::opcode;
use crate::proto::parser::{Event, EventSink, ParserConfig, Payload, Role, StreamParser};

/// The slab a connection lends from while messages keep spanning its chunks.
struct LendSlab {
    buffer: Rc<JsBuffer>,
    cursor: SlabCursor,
}

/// A payload the table points at by index.
enum OwnedPayload {
    Bytes(Vec<u8>),
    Lent(JsBuffer),
    /// The slab of an `IN_SLAB` record; the record says where in it.
    Slab(Rc<JsBuffer>),
}

/// Writes events into the caller's Uint32Array; owned payloads are moved out
/// as Buffers without copying.
struct TableSink<'a> {
    env: &'a Env,
    table: &'a mut [u32],
    capacity: usize,
    count: usize,
    owned: Vec<OwnedPayload>,
    slab: &'a mut Option<LendSlab>,
}

impl TableSink<'_> {
    fn record(&mut self, word0: u32, data: Payload<JsLent>) {
        let (flags, start, len) = match data {
            Payload::InChunk { start, len } => (0, start as u32, len as u32),
            Payload::Owned(bytes) => {
                let index = self.owned.len() as u32;
                let len = bytes.len() as u32;
                self.owned.push(OwnedPayload::Bytes(bytes));
                (record::OWNED, index, len)
            }
            Payload::Lent(JsLent::Whole(buffer)) => {
                let index = self.owned.len() as u32;
                let len = buffer.len as u32;
                self.owned.push(OwnedPayload::Lent(buffer));
                (record::OWNED, index, len)
            }
            Payload::Lent(JsLent::InSlab { slab, offset, len }) => {
                // Data messages only (control frames are never lent), so the
                // high half of word0 is free for the slab's index.
                let index = self.owned.len() as u32;
                self.owned.push(OwnedPayload::Slab(slab));
                (record::OWNED | record::IN_SLAB | (index << record::HIGH_SHIFT), offset as u32, len as u32)
            }
        };
        abi::write_record(self.table, self.count, word0 | flags, start, len);
        self.count += 1;
    }
}

impl EventSink for TableSink<'_> {
    type Lent = JsLent;

    fn push(&mut self, event: Event<JsLent>) {
        match event {
            Event::Message { binary, compressed, data } => {
                let op = if binary { opcode::BINARY } else { opcode::TEXT } as u32;
                self.record(op | if compressed { record::COMPRESSED } else { 0 }, data)
            }
            Event::Ping(data) => self.record(opcode::PING as u32, data),
            Event::Pong(data) => self.record(opcode::PONG as u32, data),
            Event::Close { code, reason } => self.record(opcode::CLOSE as u32 | ((code as u32) << record::HIGH_SHIFT), reason),
        }
    }

    fn is_full(&self) -> bool {
        self.count >= self.capacity
    }

    fn lend(&mut self, len: usize) -> Option<JsLent> {
        // Without a buffer (allocation refused) the parser grows a Vec instead.
        let cursor = self.slab.as_ref().map_or(SlabCursor::default(), |slab| slab.cursor);
        let offset = match cursor.plan(self.slab.is_some(), len) {
            Lending::OwnBuffer => return JsBuffer::new(self.env, len).ok().map(JsLent::Whole),
            Lending::NewSlab => {
                let buffer = JsBuffer::new(self.env, abi::LEND_SLAB_SIZE).ok()?;
                *self.slab = Some(LendSlab { buffer: Rc::new(buffer), cursor: SlabCursor::default() });
                0
            }
            Lending::InSlab(offset) => offset,
        };
        let slab = self.slab.as_mut()?;
        slab.cursor.take(offset, len);
        Some(JsLent::InSlab { slab: Rc::clone(&slab.buffer), offset, len })
    }
}

thread_local! {
    /// Test hook, kept out of the parser: the address of the parser whose
    /// next `parse` panics, as a bug would.
    static PANIC_ON_NEXT_PARSE: Cell<usize> = const { Cell::new(0) };
}

/// The streaming parser for one connection.
#[napi(js_name = "StreamParser")]
pub struct JsStreamParser {
    core: StreamParser<JsLent>,
    /// Where the next message spanning chunks is lent from; let go whenever
    /// no message is in progress, so an idle connection holds no slab.
    lend_slab: Option<LendSlab>,
    /// A violation found after records that JS must dispatch first; thrown by the next call.
    pending: Option<Violation>,
}

#[napi]
impl JsStreamParser {
    /// `client: true` reads frames from a server (unmasked); `maxPayload`,
    /// `maxFragments` and `maxBufferedChunks` 0 mean no limit (see ParserConfig).
    #[napi(constructor)]
    pub fn new(
        client: bool,
        max_payload: f64,
        skip_utf8_validation: Option<bool>,
        max_fragments: Option<f64>,
        max_buffered_chunks: Option<f64>,
    ) -> Result<Self> {
        guard(|| {
            let role = if client { Role::Client } else { Role::Server };
            let max_payload = if max_payload.is_finite() && max_payload > 0.0 { max_payload as u64 } else { 0 };
            let count = |n: Option<f64>| match n {
                Some(n) if n.is_finite() && n > 0.0 => n.min(u32::MAX as f64) as u32,
                _ => 0,
            };
            let config = ParserConfig {
                role,
                max_payload,
                skip_utf8: skip_utf8_validation.unwrap_or(false),
                max_fragments: count(max_fragments),
                max_buffered_chunks: count(max_buffered_chunks),
            };
            Ok(JsStreamParser { core: StreamParser::new(config), lend_slab: None, pending: None })
        })
    }

    /// Parses `chunk[start..]`, writing records into `table` (crate::abi::record).
    /// Returns the Buffers that owned records point at, or null when there are
    /// none. A violation is thrown; when records precede it, they are returned
    /// first with `consumed` left at `start`, and the next call throws it.
    #[napi(ts_return_type = "Array<Buffer> | null")]
    pub fn parse<'env>(
        &mut self,
        env: &'env Env,
        mut chunk: BufferSlice,
        start: u32,
        mut table: Uint32ArraySlice,
    ) -> Result<Option<Array<'env>>> {
        guard(|| {
            if let Some(violation) = self.pending.take() {
                return Err(violation_error(violation));
            }
            let chunk: &mut [u8] = &mut chunk;
            // SAFETY: JS is blocked inside this call, so nothing else touches the array meanwhile.
            let table: &mut [u32] = unsafe { table.as_mut() };
            let capacity = abi::record_capacity(table.len());
            if capacity == 0 {
                return Err(argument_error(ArgumentError::range("table: too small")));
            }
            if PANIC_ON_NEXT_PARSE.with(|p| p.get() == self as *const Self as usize) {
                PANIC_ON_NEXT_PARSE.with(|p| p.set(0));
                panic!("deliberate panic requested by a test");
            }
            let start = (start as usize).min(chunk.len());
            let mut sink = TableSink { env, table, capacity, count: 0, owned: Vec::new(), slab: &mut self.lend_slab };
            let result = self.core.parse(&mut chunk[start..], &mut sink);
            let (count, owned) = (sink.count, sink.owned);
            if self.core.buffered_bytes() == 0 {
                self.lend_slab = None;
            }
            abi::shift_chunk_offsets(table, count, start as u32);
            table[record::COUNT] = count as u32;
            match result {
                Ok(progress) => table[record::CONSUMED] = (start + progress.consumed) as u32,
                Err(violation) if count == 0 => return Err(violation_error(violation)),
                Err(violation) => {
                    self.pending = Some(violation);
                    table[record::CONSUMED] = start as u32;
                }
            }
            if owned.is_empty() {
                return Ok(None);
            }
            let mut buffers = env.create_array(owned.len() as u32)?;
            for (index, payload) in owned.into_iter().enumerate() {
                let value = match payload {
                    OwnedPayload::Bytes(bytes) => {
                        buffers.set(index as u32, &external_buffer(env, bytes)?)?;
                        continue;
                    }
                    OwnedPayload::Lent(buffer) => buffer.value()?,
                    OwnedPayload::Slab(slab) => slab.value()?,
                };
                // SAFETY: a live Buffer value in the current handle scope.
                buffers.set(index as u32, unsafe { Unknown::from_raw_unchecked(env.raw(), value) })?;
            }
            Ok(Some(buffers))
        })
    }

    /// Test hook: the next `parse` of this parser panics inside the binding.
    #[napi(js_name = "_testOnlyPanicOnNextParse")]
    pub fn test_only_panic_on_next_parse(&self) {
        PANIC_ON_NEXT_PARSE.with(|p| p.set(self as *const Self as usize));
    }

    /// permessage-deflate was negotiated: inflate RSV1 messages from now on, with
    /// the peer's window bits and context-takeover setting.
    #[napi]
    pub fn enable_inflate(&mut self, window_bits: u32, no_context_takeover: bool) -> Result<()> {
        guard(|| {
            let bits = window_bits_option("windowBits", window_bits).map_err(|e| argument_error(e.into()))?;
            let inflater = Inflater::new(bits, no_context_takeover).map_err(|e| argument_error(e.into()))?;
            self.core.enable_inflate(inflater);
            Ok(())
        })
    }

    /// Drops everything this parser holds (frames or a message in progress,
    /// the inflater, a violation not yet thrown) and makes it as new with the
    /// same limits: lib/connection/receiver.js keeps a few released parsers
    /// for the next connections, since making one costs more than the rest of
    /// a connection's native set-up.
    #[napi]
    pub fn release(&mut self) -> Result<()> {
        guard(|| {
            // A test's panic request stays with the connection it was made for.
            PANIC_ON_NEXT_PARSE.with(|p| {
                if p.get() == self as *const Self as usize {
                    p.set(0);
                }
            });
            self.core.reset();
            self.lend_slab = None;
            self.pending = None;
            Ok(())
        })
    }

    /// Bytes held for frames or messages not yet complete.
    #[napi(getter)]
    pub fn buffered_bytes(&self) -> u32 {
        self.core.buffered_bytes().min(u32::MAX as usize) as u32
    }
}
