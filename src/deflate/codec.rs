//! permessage-deflate payload transform (RFC 7692 §7.2) on raw DEFLATE
//! streams from zlib-rs, the pure-Rust zlib that flate2's "zlib-rs" backend
//! wraps. It is used directly because flate2's API cannot set memLevel and
//! asserts 9..=15 window bits.
//!
//! # Memory
//! Contexts are created on first use and, when the peer agreed to no context
//! takeover, dropped after every message, so an idle connection with
//! `*_no_context_takeover` holds no native memory. zlib-rs (unlike C zlib,
//! whose costs are `(1 << (windowBits+2)) + (1 << (memLevel+9))` and
//! `(1 << windowBits) + ~7 KiB`) spends per context:
//! - deflate: `4 << windowBits` (window + chain) + 128 KiB (hash heads, fixed
//!   size) + `7 << (memLevel+6)` (symbol buffers) + ≈ 3 KiB; measured 371 KiB
//!   at windowBits 15 / memLevel 8, 260 KiB at 15/1, 134 KiB at 9/1;
//! - inflate: ≈ 47 KiB whatever the window bits (zlib-rs always allocates
//!   the 32 KiB window, plus ≈ 14 KiB of state and code tables).
//!
//! # 8-bit windows
//! zlib (C and zlib-rs alike) cannot deflate with a 256-byte window: it
//! refuses raw 8 and silently turns zlib-wrapped 8 into 9. Compressing with 9
//! is nevertheless correct for a peer that negotiated 8: zlib never emits a
//! distance above `w_size - MIN_LOOKAHEAD` = 512 - 262 = 250 bytes, which
//! fits a 256-byte window (the test `window_8_output_fits_a_256_byte_window`
//! decodes it with a reference decoder that refuses longer references).
//! Node's zlib, and so `ws`, does the same. Inflating needs no such care:
//! zlib-rs' inflater keeps a 32 KiB window whatever the bits, so it reads
//! any peer's data (even one that overshoots the negotiated window).

use std::cell::RefCell;
use std::fmt;

use zlib_rs::{Deflate, DeflateFlush, Inflate, InflateFlush, Status};

use crate::proto::error::Violation;
use crate::deflate::negotiate::{check_range, check_window_bits, ConfigError};

/// The empty stored block a sync flush ends with. The sender strips it, the
/// receiver appends it back (RFC 7692 §7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// Compressed form of an empty message (RFC 7692 §7.2.3.6).
const EMPTY_MESSAGE: u8 = 0x00;
/// Output grows by at most this much per inflate step, so a size limit is
/// noticed before much more than it has been allocated.
const INFLATE_STEP: usize = 64 * 1024;
/// Smallest inflate step, so small messages do not reserve 64 KiB each.
const MIN_INFLATE_STEP: usize = 1024;
/// Output reserved per compress step, at most.
const DEFLATE_STEP: usize = 64 * 1024;
/// The smallest window zlib can actually deflate with (see module docs).
const MIN_ZLIB_WINDOW_BITS: u8 = 9;

/// Compressing failed; zlib's reason, or an internal inconsistency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeflateError {
    Zlib(&'static str),
    /// zlib neither consumed input nor produced output.
    NoProgress,
    /// The sync-flushed output did not end with `00 00 ff ff`.
    MissingFlushMarker,
}

impl fmt::Display for DeflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeflateError::Zlib(msg) => write!(f, "deflate failed: {msg}"),
            DeflateError::NoProgress => f.write_str("deflate made no progress"),
            DeflateError::MissingFlushMarker => f.write_str("deflate output lacks the sync flush marker"),
        }
    }
}

impl std::error::Error for DeflateError {}

/// Inflating a peer's message failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InflateError {
    /// The inflated message would exceed `max_total` (close 1009).
    TooBig,
    /// Not valid DEFLATE data (close 1007, as `ws` does).
    Corrupt(String),
}

impl fmt::Display for InflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InflateError::TooBig => f.write_str("Max payload size exceeded"),
            InflateError::Corrupt(msg) => write!(f, "invalid compressed data: {msg}"),
        }
    }
}

impl std::error::Error for InflateError {}

impl From<&InflateError> for Violation {
    fn from(e: &InflateError) -> Self {
        match e {
            InflateError::TooBig => Violation::MessageTooBig,
            InflateError::Corrupt(_) => Violation::InvalidCompressedData,
        }
    }
}

// ---------------------------------------------------------------------------
// Deflater
// ---------------------------------------------------------------------------

/// Compresses our outgoing messages for one connection.
pub struct Deflater {
    level: u8,
    mem_level: u8,
    window_bits: u8,
    no_context_takeover: bool,
    /// Created on first use; `None` between messages when no context takeover.
    stream: Option<Deflate>,
}

impl fmt::Debug for Deflater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deflater")
            .field("level", &self.level)
            .field("mem_level", &self.mem_level)
            .field("window_bits", &self.window_bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .field("holds_context", &self.holds_context())
            .finish()
    }
}

impl Deflater {
    /// `window_bits` is the negotiated limit (8..=15); allocates nothing yet.
    pub fn new(level: u32, mem_level: u8, window_bits: u8, no_context_takeover: bool) -> Result<Self, ConfigError> {
        check_range("level", u64::from(level), 0, 9)?;
        check_range("memLevel", u64::from(mem_level), 1, 9)?;
        check_window_bits("windowBits", window_bits)?;
        let level = u8::try_from(level).unwrap_or(9); // 0..=9, checked above
        Ok(Self { level, mem_level, window_bits, no_context_takeover, stream: None })
    }

    /// Whether a zlib context is allocated now.
    pub fn holds_context(&self) -> bool {
        self.stream.is_some()
    }

    /// Frees the context between messages. Always valid: the peer's inflater
    /// only needs us to not refer back to bytes it lacks, and a fresh context
    /// refers to none; with context takeover it costs the next message some
    /// compression. Meant for connections that go idle.
    pub fn release(&mut self) {
        self.recycle();
    }

    /// Hands the context to the pool (reset) for the next message or connection.
    fn recycle(&mut self) {
        if let Some(stream) = self.stream.take() {
            pool::give_deflate((self.level, self.mem_level, self.window_bits), stream);
        }
    }

    /// Appends the payload of one compressed message to `out`: the data
    /// sync-flushed, minus the trailing `00 00 ff ff` (RFC 7692 §7.2.1).
    /// On error `out` is left as it was and the context is dropped.
    pub fn compress_message(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), DeflateError> {
        if input.is_empty() {
            // zlib answers a second sync flush without input with no output at
            // all; the RFC's one-byte form needs no context either.
            out.push(EMPTY_MESSAGE);
            return Ok(());
        }
        let start = out.len();
        let result = self.sync_flush(input, out).and_then(|()| strip_tail(out, start));
        if result.is_err() {
            out.truncate(start);
            self.stream = None;
        } else if self.no_context_takeover {
            self.recycle();
        }
        result
    }

    fn stream(&mut self) -> &mut Deflate {
        let (level, mem_level, window_bits) = (self.level, self.mem_level, self.window_bits);
        self.stream.get_or_insert_with(|| {
            pool::take_deflate((level, mem_level, window_bits)).unwrap_or_else(|| new_raw_deflate(level, mem_level, window_bits))
        })
    }

    /// Feeds all of `input` with `SyncFlush` until zlib has flushed everything.
    fn sync_flush(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), DeflateError> {
        let stream = self.stream();
        loop {
            let bound = zlib_rs::compress_bound(input.len()).saturating_add(16);
            out.reserve(bound.clamp(64, DEFLATE_STEP));
            let spare = out.spare_capacity_mut();
            let room = spare.len();
            let (in_before, out_before) = (stream.total_in(), stream.total_out());
            let status = stream
                .compress_uninit(input, spare, DeflateFlush::SyncFlush)
                .map_err(|e| DeflateError::Zlib(stream.error_message().unwrap_or(e.as_str())))?;
            let consumed = delta(stream.total_in(), in_before);
            let produced = delta(stream.total_out(), out_before);
            // SAFETY: zlib initialised exactly `produced` bytes of the spare
            // capacity it was handed (`produced <= room`).
            unsafe { out.set_len(out.len() + produced.min(room)) };
            input = &input[consumed.min(input.len())..];
            // Done once all input is in and zlib left output room unused.
            if input.is_empty() && produced < room {
                return Ok(());
            }
            if consumed == 0 && produced == 0 && status == Status::BufError {
                return Err(DeflateError::NoProgress);
            }
        }
    }
}

/// A raw (headerless) deflate context. Parameters were range-checked by
/// [`Deflater::new`], so zlib-rs' init (which asserts success) cannot fail.
fn new_raw_deflate(level: u8, mem_level: u8, window_bits: u8) -> Deflate {
    let bits = window_bits.max(MIN_ZLIB_WINDOW_BITS);
    Deflate::new_with_config(zlib_rs::DeflateConfig {
        level: i32::from(level),
        mem_level: i32::from(mem_level),
        // Negative: raw deflate, no zlib header or checksum.
        window_bits: -i32::from(bits),
        ..zlib_rs::DeflateConfig::default()
    })
}

fn strip_tail(out: &mut Vec<u8>, start: usize) -> Result<(), DeflateError> {
    if out.len() < start + TAIL.len() || !out.ends_with(&TAIL) {
        return Err(DeflateError::MissingFlushMarker);
    }
    out.truncate(out.len() - TAIL.len());
    Ok(())
}

/// Bytes moved in one zlib call (a u64 counter difference that fits in the
/// buffer it was bounded by).
fn delta(after: u64, before: u64) -> usize {
    usize::try_from(after.saturating_sub(before)).unwrap_or(usize::MAX)
}

// ---------------------------------------------------------------------------
// Inflater
// ---------------------------------------------------------------------------

/// Inflates the peer's compressed messages for one connection, piece by
/// piece as frames (or parts of frames) arrive.
pub struct Inflater {
    window_bits: u8,
    no_context_takeover: bool,
    /// Created on first use; `None` between messages when no context takeover.
    stream: Option<Inflate>,
    /// The current stream has taken data of this message, so the tail must
    /// be fed to complete its last block.
    needs_tail: bool,
}

impl fmt::Debug for Inflater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inflater")
            .field("window_bits", &self.window_bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .field("holds_context", &self.holds_context())
            .finish()
    }
}

impl Inflater {
    /// `window_bits` is the negotiated limit of the peer's window (8..=15).
    /// Allocates nothing yet.
    pub fn new(window_bits: u8, no_context_takeover: bool) -> Result<Self, ConfigError> {
        check_window_bits("windowBits", window_bits)?;
        Ok(Self { window_bits, no_context_takeover, stream: None, needs_tail: false })
    }

    /// Whether a zlib context is allocated now.
    pub fn holds_context(&self) -> bool {
        self.stream.is_some()
    }

    /// Inflates one piece of the current message's compressed payload,
    /// appending to `out`. `max_total` (0 = no limit) bounds `out.len()`:
    /// output grows in steps of at most 64 KiB and never past `max_total + 1`
    /// bytes, so a compression bomb fails with `TooBig` cheaply. After an
    /// error the context is dropped; fail the connection.
    pub fn inflate_piece(&mut self, input: &[u8], out: &mut Vec<u8>, max_total: u64) -> Result<(), InflateError> {
        let result = self.inflate_all(input, out, max_total, false);
        if result.is_err() {
            self.drop_context();
        }
        result
    }

    /// Ends the current message: feeds the `00 00 ff ff` tail (which can
    /// still produce output, so `max_total` applies) and, with no context
    /// takeover, frees the context. A message with an empty payload inflates
    /// to nothing and leaves the context untouched: zlib could not have
    /// produced it, and feeding a lone tail would leave the inflater in the
    /// middle of a stored block.
    pub fn finish_message(&mut self, out: &mut Vec<u8>, max_total: u64) -> Result<(), InflateError> {
        let result = if self.needs_tail { self.inflate_all(&TAIL, out, max_total, true) } else { Ok(()) };
        self.needs_tail = false;
        if result.is_err() || self.no_context_takeover {
            self.drop_context();
        }
        result
    }

    fn drop_context(&mut self) {
        if let Some(stream) = self.stream.take() {
            pool::give_inflate(stream);
        }
        self.needs_tail = false;
    }

    fn stream(&mut self) -> &mut Inflate {
        let bits = self.window_bits;
        // `false`: raw deflate, no zlib header. Bits were checked to be
        // 8..=15, which zlib-rs' init (asserting success) accepts.
        self.stream.get_or_insert_with(|| pool::take_inflate().unwrap_or_else(|| Inflate::new(false, bits)))
    }

    /// Inflates all of `input`; `is_tail` when it is our appended tail, which
    /// is dropped rather than started as a new stream after a final block.
    fn inflate_all(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        max_total: u64,
        is_tail: bool,
    ) -> Result<(), InflateError> {
        check_limit(out.len(), max_total)?;
        loop {
            let room = step_room(out.len(), out.capacity() - out.len(), input.len(), max_total);
            reserve_step(out, room, max_total);
            let step = self.inflate_step(input, out, room)?;
            check_limit(out.len(), max_total)?;
            input = &input[step.consumed.min(input.len())..];
            if step.stream_end {
                // A block with BFINAL set ends the deflate stream; RFC 7692
                // §7.2.3.4 lets peers do that and go on, so what follows
                // (e.g. the tail) starts a fresh stream. Such a peer cannot
                // refer back past it (its own compressor restarted).
                self.drop_context();
                if input.is_empty() || is_tail {
                    return Ok(());
                }
                continue;
            }
            if input.is_empty() && step.produced < room {
                return Ok(());
            }
            if step.consumed == 0 && step.produced == 0 {
                return Err(InflateError::Corrupt("inflate made no progress".into()));
            }
        }
    }

    /// One zlib call into at most `room` bytes of `out`'s spare capacity.
    fn inflate_step(&mut self, input: &[u8], out: &mut Vec<u8>, room: usize) -> Result<Step, InflateError> {
        if !input.is_empty() {
            self.needs_tail = true;
        }
        let stream = self.stream();
        let spare = &mut out.spare_capacity_mut()[..room];
        let (in_before, out_before) = (stream.total_in(), stream.total_out());
        let status = stream.decompress_uninit(input, spare, InflateFlush::SyncFlush).map_err(|e| {
            let reason = stream.error_message().unwrap_or(e.as_str());
            InflateError::Corrupt(reason.to_owned())
        })?;
        let consumed = delta(stream.total_in(), in_before);
        let produced = delta(stream.total_out(), out_before).min(room);
        // SAFETY: zlib initialised exactly `produced` bytes of the `room`
        // bytes of spare capacity it was handed.
        unsafe { out.set_len(out.len() + produced) };
        Ok(Step { consumed, produced, stream_end: status == Status::StreamEnd })
    }
}

/// What one inflate call did.
struct Step {
    consumed: usize,
    produced: usize,
    stream_end: bool,
}

fn check_limit(len: usize, max_total: u64) -> Result<(), InflateError> {
    if max_total != 0 && len as u64 > max_total {
        Err(InflateError::TooBig)
    } else {
        Ok(())
    }
}

/// Output room for the next step: what `out` has spare, or about 4x the
/// input (typical for text), within 1-64 KiB; and at most one byte past the
/// limit, so that exceeding it is seen without inflating further.
fn step_room(len: usize, spare: usize, input_len: usize, max_total: u64) -> usize {
    let room = input_len.saturating_mul(4).clamp(MIN_INFLATE_STEP, INFLATE_STEP);
    let room = room.max(spare).min(INFLATE_STEP);
    if max_total == 0 {
        return room;
    }
    let allowed = max_total.saturating_sub(len as u64).saturating_add(1);
    usize::try_from(allowed.min(room as u64)).unwrap_or(room)
}

/// Makes room for `room` more bytes, doubling capacity as `Vec` does but
/// never past `max_total + 1` when there is a limit.
fn reserve_step(out: &mut Vec<u8>, room: usize, max_total: u64) {
    let needed = out.len().saturating_add(room);
    if needed <= out.capacity() {
        return;
    }
    let mut target = out.capacity().saturating_mul(2).max(needed);
    if max_total != 0 {
        let cap = usize::try_from(max_total.saturating_add(1)).unwrap_or(usize::MAX);
        target = target.min(cap.max(needed));
    }
    out.reserve_exact(target - out.len());
}

/// Contexts freed by one message (no context takeover, an idle release) and
/// reused by the next, on any connection of this thread. Without it every
/// message of a no-context-takeover connection allocates and frees ~400 KiB,
/// which costs time and leaves the allocator's memory fragmented.
mod pool {
    use super::{Deflate, Inflate, RefCell};

    /// Contexts kept per kind; beyond this they are freed.
    const LIMIT: usize = 8;

    /// Deflate contexts are keyed by (level, memLevel, window bits).
    type DeflateKey = (u8, u8, u8);

    thread_local! {
        static DEFLATES: RefCell<Vec<(DeflateKey, Deflate)>> = const { RefCell::new(Vec::new()) };
        static INFLATES: RefCell<Vec<Inflate>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn take_deflate(key: DeflateKey) -> Option<Deflate> {
        DEFLATES.with(|pool| {
            let mut pool = pool.borrow_mut();
            let index = pool.iter().rposition(|(k, _)| *k == key)?;
            Some(pool.swap_remove(index).1)
        })
    }

    pub(super) fn give_deflate(key: DeflateKey, mut stream: Deflate) {
        stream.reset();
        DEFLATES.with(|pool| {
            let mut pool = pool.borrow_mut();
            if pool.len() < LIMIT {
                pool.push((key, stream));
            }
        });
    }

    /// Inflate contexts always keep a 32 KiB window in zlib-rs, so any serves.
    pub(super) fn take_inflate() -> Option<Inflate> {
        INFLATES.with(|pool| pool.borrow_mut().pop())
    }

    pub(super) fn give_inflate(mut stream: Inflate) {
        stream.reset(false);
        INFLATES.with(|pool| {
            let mut pool = pool.borrow_mut();
            if pool.len() < LIMIT {
                pool.push(stream);
            }
        });
    }
}

#[cfg(test)]
mod tests;
