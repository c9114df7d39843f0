//! The N-API binding: converts between JS values and the core's types and
//! nothing more. Every entry point runs under `guard`, so a Rust panic becomes
//! a JS exception instead of aborting Node.
//!
//! Errors cross as plain `Error`s whose message starts with a kind tag
//! (`TypeError|`, `RangeError|`, `Protocol|<code>|`); lib/native.js turns them
//! into the right JS error classes.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::proto::close;
use crate::deflate::codec::{self as deflate, Inflater};
use crate::deflate::negotiate::{self, DeflateConfig};
use crate::proto::error::{ArgumentError, ArgumentErrorKind, ProtocolError};
use crate::proto::frame::{self, FrameSpec};
use crate::http::server;
use crate::proto::parser::{Event, EventSink, FrameParser as CoreParser, LentBuffer, ParserConfig, Payload, Role};

fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Error::new(Status::GenericFailure, format!("Panic|native-ws internal error: {what}")))
    })
}

/// Hands a Vec to JS as a Buffer without copying. V8 is told about the
/// memory (and told again when the Buffer is collected): without that it does
/// not see large messages pile up, collects too late, and every new message
/// lands on fresh, page-faulting memory.
fn external_buffer(env: &Env, bytes: Vec<u8>) -> Result<BufferSlice<'_>> {
    if bytes.is_empty() {
        return BufferSlice::copy_from(env, []);
    }
    let mut bytes = bytes;
    let (data, len, capacity) = (bytes.as_mut_ptr(), bytes.len(), bytes.capacity() as i64);
    env.adjust_external_memory(capacity)?;
    // SAFETY: moving the Vec into the finalizer does not move its heap buffer,
    // which stays alive until the finalizer drops it.
    unsafe {
        BufferSlice::from_external(env, data, len, bytes, |env, bytes: Vec<u8>| {
            let _ = env.adjust_external_memory(-(bytes.capacity() as i64));
            drop(bytes);
        })
    }
}

fn argument_error(e: ArgumentError) -> Error {
    let kind = match e.kind {
        ArgumentErrorKind::Type => "TypeError",
        ArgumentErrorKind::Range => "RangeError",
    };
    Error::new(Status::InvalidArg, format!("{kind}|{}", e.message))
}

fn protocol_error(e: ProtocolError) -> Error {
    Error::new(Status::GenericFailure, format!("Protocol|{}|{}", e.close_code, e.message))
}

#[napi(js_name = "acceptKey")]
pub fn accept_key(key: String) -> Result<String> {
    guard(|| Ok(server::accept_key(&key)))
}

/// Result of parsing (and, when complete, validating) an upgrade request.
#[napi(object)]
pub struct RequestParse {
    /// false while the header block has not ended.
    pub complete: bool,
    /// 0 when valid; otherwise the HTTP status to refuse with.
    pub status: u32,
    pub message: String,
    pub method: String,
    pub path: String,
    pub version_minor: u32,
    /// Flat [name, value, name, value, …] as Node's `rawHeaders`.
    pub raw_headers: Vec<String>,
    pub bytes_used: u32,
    pub key: String,
    pub protocols: Vec<String>,
    pub extensions: Option<String>,
}

impl RequestParse {
    fn empty(complete: bool) -> Self {
        RequestParse {
            complete,
            status: 0,
            message: String::new(),
            method: String::new(),
            path: String::new(),
            version_minor: 0,
            raw_headers: Vec::new(),
            bytes_used: 0,
            key: String::new(),
            protocols: Vec::new(),
            extensions: None,
        }
    }

    fn refused(status: u16, message: String) -> Self {
        RequestParse { status: status as u32, message, ..Self::empty(true) }
    }

    fn fill_upgrade(&mut self, result: std::result::Result<server::Upgrade, server::HandshakeError>) {
        match result {
            Ok(up) => {
                self.key = up.key;
                self.protocols = up.protocols;
                self.extensions = up.extensions;
            }
            Err(e) => {
                self.status = e.status as u32;
                self.message = e.message;
            }
        }
    }
}

fn flatten(headers: &[(String, String)]) -> Vec<String> {
    headers.iter().flat_map(|(n, v)| [n.clone(), v.clone()]).collect()
}

fn pairs(raw: &[String]) -> Vec<(&str, &str)> {
    raw.chunks(2).map(|p| (p[0].as_str(), p.get(1).map_or("", String::as_str))).collect()
}

#[napi(js_name = "parseRequest")]
pub fn parse_request(buf: &[u8], max_header_bytes: u32) -> Result<RequestParse> {
    guard(|| {
        Ok(match server::parse_request(buf, max_header_bytes as usize) {
            Ok(None) => RequestParse::empty(false),
            Err(e) => RequestParse::refused(e.status, e.message),
            Ok(Some((req, used))) => {
                let mut out = RequestParse {
                    method: req.method.clone(),
                    path: req.path.clone(),
                    version_minor: req.version_minor as u32,
                    raw_headers: flatten(&req.headers),
                    bytes_used: used as u32,
                    ..RequestParse::empty(true)
                };
                out.fill_upgrade(server::validate_upgrade(&req.method, req.version_minor, &req.headers));
                out
            }
        })
    })
}

/// Words at the start of the `parseUpgradeInto` table (see lib/accept.js);
/// four more per header follow.
const LAYOUT_WORDS: usize = 9;
/// Table words for the most headers a request may have.
pub const LAYOUT_TABLE_WORDS: usize = LAYOUT_WORDS + 4 * server::MAX_HEADER_COUNT;

/// The parts of a parsed upgrade that do not fit the offset table: a refusal,
/// or the subprotocols and extensions a valid request offers.
#[napi(object)]
pub struct UpgradeDetails {
    /// 0 when valid; otherwise the HTTP status to refuse with.
    pub status: u32,
    pub message: String,
    pub protocols: Vec<String>,
    pub extensions: Option<String>,
}

/// Parses and validates an upgrade request, writing where its parts lie into
/// `table` instead of creating strings: [bytesUsed, versionMinor, method
/// start, end, path start, end, key start, end, header count, then name
/// start, end, value start, end per header]. Returns 0 while the header block
/// is incomplete, 1 for a valid request that offers no subprotocol and no
/// extension, and otherwise an `UpgradeDetails` (the table is filled when its
/// status is 0).
#[napi(js_name = "parseUpgradeInto")]
pub fn parse_upgrade_into(buf: &[u8], max_header_bytes: u32, mut table: Uint32ArraySlice) -> Result<Either<u32, UpgradeDetails>> {
    guard(|| {
        // SAFETY: the table is a JS Uint32Array that nothing else touches during this synchronous call.
        let table: &mut [u32] = unsafe { table.as_mut() };
        if table.len() < LAYOUT_TABLE_WORDS {
            return Err(argument_error(ArgumentError::range(format!("table: needs {LAYOUT_TABLE_WORDS} words"))));
        }
        let layout = match server::parse_upgrade(buf, max_header_bytes as usize) {
            Ok(None) => return Ok(Either::A(0)),
            Err(e) => return Ok(Either::B(refusal(e))),
            Ok(Some(layout)) => layout,
        };
        let (up, key) = match layout.upgrade {
            Ok(valid) => valid,
            Err(e) => return Ok(Either::B(refusal(e))),
        };
        let words = [
            layout.bytes_used,
            layout.version_minor as usize,
            layout.method.0,
            layout.method.1,
            layout.path.0,
            layout.path.1,
            key.0,
            key.1,
            layout.headers.len(),
        ];
        let spans = layout.headers.iter().flat_map(|&(n, v)| [n.0, n.1, v.0, v.1]);
        for (slot, word) in table.iter_mut().zip(words.into_iter().chain(spans)) {
            *slot = word as u32;
        }
        if up.protocols.is_empty() && up.extensions.is_none() {
            return Ok(Either::A(1));
        }
        Ok(Either::B(UpgradeDetails { status: 0, message: String::new(), protocols: up.protocols, extensions: up.extensions }))
    })
}

fn refusal(e: server::HandshakeError) -> UpgradeDetails {
    UpgradeDetails { status: e.status as u32, message: e.message, protocols: Vec::new(), extensions: None }
}

/// Validates a request Node's HTTP parser already read (`req.rawHeaders`).
/// A valid request that offers no subprotocol and no extension gives just
/// its key; anything else a `RequestParse` (status, key, protocols, extensions).
#[napi(js_name = "validateUpgrade")]
pub fn validate_upgrade(method: String, version_minor: u32, raw_headers: Vec<String>) -> Result<Either<String, RequestParse>> {
    guard(|| {
        let minor = version_minor.min(255) as u8;
        Ok(upgrade_check(server::validate_upgrade(&method, minor, &pairs(&raw_headers))))
    })
}

/// `validateUpgrade` with the raw headers joined by `\n` into one string: one
/// string crosses instead of one per name and value. `null` when the string
/// does not split into `count` parts (a value held a `\n`, which Node's HTTP
/// parser never lets through); the caller then uses `validateUpgrade`.
#[napi(js_name = "validateUpgradeJoined")]
pub fn validate_upgrade_joined(method: String, version_minor: u32, joined: String, count: u32) -> Result<Option<Either<String, RequestParse>>> {
    guard(|| {
        let parts: Vec<&str> = if joined.is_empty() && count == 0 { Vec::new() } else { joined.split('\n').collect() };
        if parts.len() != count as usize {
            return Ok(None);
        }
        let headers: Vec<(&str, &str)> = parts.chunks(2).map(|p| (p[0], p.get(1).copied().unwrap_or(""))).collect();
        Ok(Some(upgrade_check(server::validate_upgrade(&method, version_minor.min(255) as u8, &headers))))
    })
}

/// The key alone for a valid request that offers no subprotocol and no
/// extension (the common case, one string back); otherwise everything.
fn upgrade_check(result: std::result::Result<server::Upgrade, server::HandshakeError>) -> Either<String, RequestParse> {
    if let Ok(up) = &result {
        if up.protocols.is_empty() && up.extensions.is_none() {
            return Either::A(up.key.clone());
        }
    }
    let mut out = RequestParse::empty(true);
    out.fill_upgrade(result);
    Either::B(out)
}

#[napi(js_name = "acceptResponseLines")]
pub fn accept_response_lines(key: String, protocol: Option<String>, extensions: Option<String>) -> Result<Vec<String>> {
    guard(|| Ok(server::accept_response_lines(&key, protocol.as_deref(), extensions.as_deref())))
}

/// The complete 101 response in one string.
#[napi(js_name = "acceptResponse")]
pub fn accept_response(key: String, protocol: Option<String>, extensions: Option<String>) -> Result<String> {
    guard(|| Ok(server::accept_response(&key, protocol.as_deref(), extensions.as_deref())))
}

#[napi(js_name = "errorResponse")]
pub fn error_response(status: u32, message: String) -> Result<String> {
    guard(|| Ok(server::error_response(status.min(999) as u16, &message)))
}

/// A 4-byte masking key from JS; `name` is the argument named in the error.
fn mask_key(key: &[u8], name: &str) -> Result<[u8; 4]> {
    <[u8; 4]>::try_from(key).map_err(|_| argument_error(ArgumentError::range(format!("{name}: must be exactly 4 bytes"))))
}

/// The frame described by JS arguments; the opcode is range-checked by `check_spec`.
fn frame_spec(opcode: u32, fin: bool, rsv1: bool, mask: Option<&[u8]>) -> Result<FrameSpec> {
    let mask = mask.map(|m| mask_key(m, "mask")).transpose()?;
    Ok(FrameSpec { fin, rsv1, opcode: u8::try_from(opcode).unwrap_or(u8::MAX), mask })
}

#[napi(js_name = "encodeFrame")]
pub fn encode_frame(payload: &[u8], opcode: u32, fin: bool, rsv1: bool, mask: Option<&[u8]>) -> Result<Buffer> {
    guard(|| {
        let spec = frame_spec(opcode, fin, rsv1, mask)?;
        frame::encode_frame(spec, payload).map(Buffer::from).map_err(argument_error)
    })
}

#[napi(object)]
pub struct DecodedFrame {
    pub fin: bool,
    pub rsv1: bool,
    pub rsv2: bool,
    pub rsv3: bool,
    pub opcode: u32,
    pub masked: bool,
    pub payload: Buffer,
    pub bytes_used: u32,
}

#[napi(js_name = "decodeFrame")]
pub fn decode_frame(buf: &[u8]) -> Result<Option<DecodedFrame>> {
    guard(|| {
        let Some(f) = frame::decode_frame(buf).map_err(protocol_error)? else {
            return Ok(None);
        };
        Ok(Some(DecodedFrame {
            fin: f.header.fin,
            rsv1: f.header.rsv1,
            rsv2: f.header.rsv2,
            rsv3: f.header.rsv3,
            opcode: f.header.opcode as u32,
            masked: f.header.mask.is_some(),
            payload: f.payload.into(),
            bytes_used: f.consumed as u32,
        }))
    })
}

#[napi(js_name = "encodeClose")]
pub fn encode_close(code: Option<u32>, reason: Option<&[u8]>) -> Result<Buffer> {
    guard(|| {
        let code = match code {
            None => None,
            Some(c) => Some(u16::try_from(c).map_err(|_| {
                argument_error(ArgumentError::range(format!("code: {c} is not a status code that may be sent")))
            })?),
        };
        close::encode_close(code, reason.unwrap_or(&[])).map(Buffer::from).map_err(argument_error)
    })
}

#[napi(object)]
pub struct DecodedClose {
    pub code: u32,
    pub reason: Buffer,
}

#[napi(js_name = "decodeClose")]
pub fn decode_close(payload: &[u8]) -> Result<DecodedClose> {
    guard(|| {
        let info = close::decode_close(payload).map_err(protocol_error)?;
        Ok(DecodedClose { code: info.code as u32, reason: payload[info.reason_start..].to_vec().into() })
    })
}

/// Record kinds in the parse table; the payload kinds equal their opcodes.
const FLAG_OWNED: u32 = 1 << 8;
const FLAG_COMPRESSED: u32 = 1 << 9;
/// The payload is `[offset, offset + length)` of the slab at owned index `word0 >> 16`.
const FLAG_IN_SLAB: u32 = 1 << 10;
/// table[0] records, table[1] bytes consumed, table[2] close code of an error.
pub const TABLE_HEADER_WORDS: usize = 4;
const RECORD_WORDS: usize = 3;

/// Messages spanning chunks up to this size are lent from a shared slab
/// rather than given a Buffer each: one allocation (and one reference) per
/// slab instead of per message. A kept message keeps its slab alive, at most
/// `LEND_SLAB_SIZE` bytes, as a message that lay inside one socket chunk keeps
/// that chunk alive (in ws too).
const LEND_SLAB_MAX: usize = 16 * 1024;
const LEND_SLAB_SIZE: usize = 64 * 1024;

/// A Node Buffer held across parse calls: on the JS heap, so V8 frees it with
/// the rest of the garbage (no finalizer, no external memory), kept alive by
/// a reference until it is handed over or the parser drops it.
pub struct JsBuffer {
    env: napi::sys::napi_env,
    reference: napi::sys::napi_ref,
    data: *mut u8,
    len: usize,
}

impl JsBuffer {
    fn new(env: &Env, len: usize) -> Result<Self> {
        let env = env.raw();
        let mut data = std::ptr::null_mut();
        let mut value = std::ptr::null_mut();
        let mut reference = std::ptr::null_mut();
        // SAFETY: plain N-API calls on the JS thread with valid out-pointers.
        unsafe {
            check(napi::sys::napi_create_buffer(env, len, &mut data, &mut value))?;
            check(napi::sys::napi_create_reference(env, value, 1, &mut reference))?;
        }
        Ok(JsBuffer { env, reference, data: data.cast(), len })
    }

    /// The Buffer, to hand to JS (the reference goes when `self` drops).
    fn value(&self) -> Result<napi::sys::napi_value> {
        let mut value = std::ptr::null_mut();
        // SAFETY: the reference is alive until drop.
        unsafe { check(napi::sys::napi_get_reference_value(self.env, self.reference, &mut value))? };
        Ok(value)
    }

    /// Bytes `[offset, offset + len)` of the Buffer (empty if out of bounds).
    ///
    /// # Safety
    /// The caller is the only holder of that region: each region of a slab is
    /// lent to one message, and JS does not run during a parse call.
    #[allow(clippy::mut_from_ref)]
    unsafe fn region(&self, offset: usize, len: usize) -> &mut [u8] {
        if len == 0 || self.data.is_null() || offset.saturating_add(len) > self.len {
            return &mut [];
        }
        // SAFETY: inside the Buffer's backing store, kept alive by the reference.
        unsafe { std::slice::from_raw_parts_mut(self.data.add(offset), len) }
    }
}

fn check(status: napi::sys::napi_status) -> Result<()> {
    if status == napi::sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::GenericFailure, format!("N-API call failed with status {status}")))
    }
}

impl Drop for JsBuffer {
    fn drop(&mut self) {
        // SAFETY: runs on the JS thread (inside a parse call or the parser's finalizer).
        unsafe { napi::sys::napi_delete_reference(self.env, self.reference) };
    }
}

/// The slab a connection lends from while messages keep spanning its chunks.
struct LendSlab {
    buffer: Rc<JsBuffer>,
    used: usize,
}

/// A message buffer lent to the parser: a Buffer of its own, or a region of a slab.
pub enum JsLent {
    Whole(JsBuffer),
    InSlab { slab: Rc<JsBuffer>, offset: usize, len: usize },
}

impl LentBuffer for JsLent {
    fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: a lent buffer or slab region belongs to this message alone.
        match self {
            JsLent::Whole(buffer) => unsafe { buffer.region(0, buffer.len) },
            JsLent::InSlab { slab, offset, len } => unsafe { slab.region(*offset, *len) },
        }
    }
}

/// A payload the table points at by index.
enum OwnedPayload {
    Bytes(Vec<u8>),
    Lent(JsBuffer),
    /// The slab of an `FLAG_IN_SLAB` record; the record says where in it.
    Slab(Rc<JsBuffer>),
}

/// Writes events into the caller's Uint32Array; owned payloads are moved out
/// as Buffers without copying.
struct TableSink<'a> {
    env: &'a Env,
    table: &'a mut [u32],
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
                (FLAG_OWNED, index, len)
            }
            Payload::Lent(JsLent::Whole(buffer)) => {
                let index = self.owned.len() as u32;
                let len = buffer.len as u32;
                self.owned.push(OwnedPayload::Lent(buffer));
                (FLAG_OWNED, index, len)
            }
            Payload::Lent(JsLent::InSlab { slab, offset, len }) => {
                // Data messages only (control frames are never lent), so the
                // top half of word0 is free for the slab's index.
                let index = self.owned.len() as u32;
                self.owned.push(OwnedPayload::Slab(slab));
                (FLAG_OWNED | FLAG_IN_SLAB | (index << 16), offset as u32, len as u32)
            }
        };
        let at = TABLE_HEADER_WORDS + self.count * RECORD_WORDS;
        self.table[at] = word0 | flags;
        self.table[at + 1] = start;
        self.table[at + 2] = len;
        self.count += 1;
    }
}

impl EventSink for TableSink<'_> {
    type Lent = JsLent;

    fn push(&mut self, event: Event<JsLent>) {
        match event {
            Event::Message { binary, compressed, data } => {
                let op = if binary { frame::opcode::BINARY } else { frame::opcode::TEXT } as u32;
                self.record(op | if compressed { FLAG_COMPRESSED } else { 0 }, data)
            }
            Event::Ping(data) => self.record(frame::opcode::PING as u32, data),
            Event::Pong(data) => self.record(frame::opcode::PONG as u32, data),
            Event::Close { code, reason } => self.record(frame::opcode::CLOSE as u32 | ((code as u32) << 16), reason),
        }
    }

    fn is_full(&self) -> bool {
        TABLE_HEADER_WORDS + (self.count + 1) * RECORD_WORDS > self.table.len()
    }

    fn lend(&mut self, len: usize) -> Option<JsLent> {
        // Without a buffer (allocation refused) the parser grows a Vec instead.
        if len > LEND_SLAB_MAX {
            return JsBuffer::new(self.env, len).ok().map(JsLent::Whole);
        }
        if self.slab.as_ref().is_none_or(|slab| slab.used + len > LEND_SLAB_SIZE) {
            let buffer = JsBuffer::new(self.env, LEND_SLAB_SIZE).ok()?;
            *self.slab = Some(LendSlab { buffer: Rc::new(buffer), used: 0 });
        }
        let slab = self.slab.as_mut()?;
        let offset = slab.used;
        // The next region starts 8-aligned, where unmasking is fastest.
        slab.used = (offset + len + 7) & !7;
        Some(JsLent::InSlab { slab: Rc::clone(&slab.buffer), offset, len })
    }
}

/// The streaming parser for one connection.
#[napi]
pub struct FrameParser {
    core: CoreParser<JsLent>,
    /// Where the next message spanning chunks is lent from; let go whenever
    /// no message is in progress, so an idle connection holds no slab.
    lend_slab: Option<LendSlab>,
    last_error: Option<ProtocolError>,
    /// Set only by tests, to prove a panic inside parse becomes a JS error.
    panic_on_next_parse: bool,
}

#[napi]
impl FrameParser {
    /// `client: true` reads frames from a server (unmasked); `maxPayload` 0 means no limit.
    #[napi(constructor)]
    pub fn new(client: bool, max_payload: f64) -> Result<Self> {
        guard(|| {
            let role = if client { Role::Client } else { Role::Server };
            let max_payload = if max_payload.is_finite() && max_payload > 0.0 { max_payload as u64 } else { 0 };
            Ok(FrameParser {
                core: CoreParser::new(ParserConfig { role, max_payload }),
                lend_slab: None,
                last_error: None,
                panic_on_next_parse: false,
            })
        })
    }

    /// Parses `chunk[start..]`, writing records into `table` (see lib/receiver.js).
    /// Returns the Buffers that owned records point at, or null when there are none.
    #[napi(ts_return_type = "Array<Buffer> | null")]
    pub fn parse<'env>(
        &mut self,
        env: &'env Env,
        mut chunk: BufferSlice,
        start: u32,
        mut table: Uint32ArraySlice,
    ) -> Result<Option<Array<'env>>> {
        guard(|| {
            let chunk: &mut [u8] = &mut chunk;
            // SAFETY: JS is blocked inside this call, so nothing else touches the array meanwhile.
            let table: &mut [u32] = unsafe { table.as_mut() };
            if table.len() < TABLE_HEADER_WORDS + RECORD_WORDS {
                return Err(argument_error(ArgumentError::range("table: too small")));
            }
            if std::mem::take(&mut self.panic_on_next_parse) {
                panic!("deliberate panic requested by a test");
            }
            let start = (start as usize).min(chunk.len());
            table[2] = 0;
            let mut sink = TableSink { env, table, count: 0, owned: Vec::new(), slab: &mut self.lend_slab };
            let result = self.core.parse(&mut chunk[start..], &mut sink);
            let (count, owned) = (sink.count, sink.owned);
            if self.core.buffered_bytes() == 0 {
                self.lend_slab = None;
            }
            // Record offsets are relative to `start`; shift them to the whole chunk.
            for i in 0..count {
                let at = TABLE_HEADER_WORDS + i * RECORD_WORDS;
                if table[at] & FLAG_OWNED == 0 {
                    table[at + 1] += start as u32;
                }
            }
            table[0] = count as u32;
            match result {
                Ok(progress) => table[1] = (start + progress.consumed) as u32,
                Err(e) => {
                    table[1] = chunk.len() as u32;
                    table[2] = e.close_code as u32;
                    self.last_error = Some(e);
                }
            }
            if owned.is_empty() {
                return Ok(None);
            }
            let mut buffers = env.create_array(owned.len() as u32)?;
            for (index, payload) in owned.into_iter().enumerate() {
                match payload {
                    OwnedPayload::Bytes(bytes) => buffers.set(index as u32, &external_buffer(env, bytes)?)?,
                    OwnedPayload::Lent(buffer) => {
                        // SAFETY: a live Buffer value in the current handle scope.
                        let value = unsafe { Unknown::from_raw_unchecked(env.raw(), buffer.value()?) };
                        buffers.set(index as u32, value)?
                    }
                    OwnedPayload::Slab(slab) => {
                        // SAFETY: a live Buffer value in the current handle scope.
                        let value = unsafe { Unknown::from_raw_unchecked(env.raw(), slab.value()?) };
                        buffers.set(index as u32, value)?
                    }
                }
            }
            Ok(Some(buffers))
        })
    }

    /// Test hook: the next `parse` panics inside the binding, as a bug would.
    #[napi(js_name = "_testOnlyPanicOnNextParse")]
    pub fn test_only_panic_on_next_parse(&mut self) {
        self.panic_on_next_parse = true;
    }

    /// The message of the protocol error the last `parse` reported.
    #[napi]
    pub fn last_error(&self) -> Option<String> {
        self.last_error.map(|e| e.message.to_string())
    }

    /// permessage-deflate was negotiated: inflate RSV1 messages from now on, with
    /// the peer's window bits and context-takeover setting.
    #[napi]
    pub fn enable_inflate(&mut self, window_bits: u32, no_context_takeover: bool) -> Result<()> {
        guard(|| {
            let bits = u8::try_from(window_bits).unwrap_or(u8::MAX);
            let inflater = Inflater::new(bits, no_context_takeover).map_err(|e| argument_error(e.into()))?;
            self.core.enable_inflate(inflater);
            Ok(())
        })
    }

    /// Whether an inflate context is allocated now.
    #[napi(getter)]
    pub fn holds_inflate_context(&self) -> bool {
        self.core.holds_inflate_context()
    }

    /// Bytes held for frames or messages not yet complete.
    #[napi(getter)]
    pub fn buffered_bytes(&self) -> u32 {
        self.core.buffered_bytes().min(u32::MAX as usize) as u32
    }
}

/// Words per entry of the `writeFrameHeaders` table.
const BATCH_ENTRY_WORDS: usize = 4;
/// Entry flag: the payload is not in the slab (a large Buffer the caller
/// writes to the socket by reference right after this header).
const BATCH_PAYLOAD_ELSEWHERE: u32 = 0x40;
/// Entry flag: a client frame, masked with the key in the entry's fourth word.
const BATCH_MASKED: u32 = 0x80;

/// Writes the headers of a batch of frames into `slab`, each at the start of
/// a gap the caller sized for it, and masks the payloads of masked frames in
/// place. The payload follows its gap in the slab, or (unmasked frames only)
/// is written separately when the entry says so.
/// Table entries: [header offset, payload length,
/// opcode | fin << 4 | rsv1 << 5 | elsewhere << 6 | masked << 7 | gap << 8, mask key];
/// a gap that is not exactly the header's length is refused, so a JS slip
/// cannot corrupt a frame. One native call per batch of sends, whatever their number.
#[napi(js_name = "writeFrameHeaders")]
pub fn write_frame_headers(mut slab: BufferSlice, table: &[u32], count: u32) -> Result<()> {
    guard(|| {
        let slab: &mut [u8] = &mut slab;
        let entries = table.chunks_exact(BATCH_ENTRY_WORDS).take(count as usize);
        for entry in entries {
            let (at, len, flags) = (entry[0] as usize, entry[1] as usize, entry[2]);
            let op = (flags & 0x0f) as u8;
            let (fin, rsv1) = (flags & 0x10 != 0, flags & 0x20 != 0);
            let mask = (flags & BATCH_MASKED != 0).then(|| entry[3].to_le_bytes());
            let elsewhere = flags & BATCH_PAYLOAD_ELSEWHERE != 0;
            if elsewhere && mask.is_some() {
                return Err(argument_error(ArgumentError::range("table: a masked payload must be in the slab")));
            }
            let spec = FrameSpec { fin, rsv1, opcode: op, mask };
            frame::check_spec(&spec, len).map_err(argument_error)?;
            let header_len = frame::header_len(len, mask.is_some());
            if (flags >> 8) as usize != header_len {
                return Err(argument_error(ArgumentError::range("table: header gap does not match the payload length")));
            }
            let in_slab = if elsewhere { 0 } else { len };
            if at.saturating_add(header_len).saturating_add(in_slab) > slab.len() {
                return Err(argument_error(ArgumentError::range("table: a frame lies outside the slab")));
            }
            let mut header = [0u8; frame::MAX_HEADER_LEN];
            frame::write_header(&mut header, fin, rsv1, op, len, mask);
            slab[at..at + header_len].copy_from_slice(&header[..header_len]);
            if let Some(key) = mask {
                let payload_at = at + header_len;
                crate::proto::mask::apply_mask(&mut slab[payload_at..payload_at + len], key, 0);
            }
        }
        Ok(())
    })
}

/// Masks (or unmasks) `data` in place with a 4-byte key.
#[napi(js_name = "applyMask")]
pub fn apply_mask(mut data: BufferSlice, key: &[u8]) -> Result<()> {
    guard(|| {
        let key = mask_key(key, "key")?;
        crate::proto::mask::apply_mask(&mut data, key, 0);
        Ok(())
    })
}

/// permessage-deflate settings of a server, as ws's `perMessageDeflate` object.
#[napi(object)]
pub struct DeflateOptions {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: Option<u32>,
    pub client_max_window_bits: Option<u32>,
    pub level: u32,
    pub mem_level: u32,
    pub threshold: u32,
}

fn deflate_config(o: &DeflateOptions) -> DeflateConfig {
    let bits = |b: Option<u32>| b.map(|v| u8::try_from(v).unwrap_or(u8::MAX));
    DeflateConfig {
        server_no_context_takeover: o.server_no_context_takeover,
        client_no_context_takeover: o.client_no_context_takeover,
        server_max_window_bits: bits(o.server_max_window_bits),
        client_max_window_bits: bits(o.client_max_window_bits),
        level: o.level,
        mem_level: u8::try_from(o.mem_level).unwrap_or(u8::MAX),
        threshold: o.threshold as usize,
    }
}

/// Checks permessage-deflate options; throws a RangeError naming the bad field.
#[napi(js_name = "validateDeflateOptions")]
pub fn validate_deflate_options(options: DeflateOptions) -> Result<()> {
    guard(|| deflate_config(&options).validate().map_err(|e| argument_error(e.into())))
}

/// Outcome of permessage-deflate negotiation.
#[napi(object)]
pub struct DeflateNegotiation {
    /// 0, or the HTTP status the handshake fails with (a malformed header).
    pub status: u32,
    pub message: String,
    /// The response's Sec-WebSocket-Extensions value; absent when declined.
    pub response: Option<String>,
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: u32,
    pub client_max_window_bits: u32,
}

#[napi(js_name = "negotiateDeflate")]
pub fn negotiate_deflate(header: String, options: DeflateOptions) -> Result<DeflateNegotiation> {
    guard(|| {
        let mut out = DeflateNegotiation {
            status: 0,
            message: String::new(),
            response: None,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        };
        match negotiate::negotiate(&header, &deflate_config(&options)) {
            Ok(None) => {}
            Ok(Some((params, response))) => {
                out.response = Some(response);
                out.server_no_context_takeover = params.server_no_context_takeover;
                out.client_no_context_takeover = params.client_no_context_takeover;
                out.server_max_window_bits = params.server_max_window_bits as u32;
                out.client_max_window_bits = params.client_max_window_bits as u32;
            }
            Err(e) => {
                out.status = e.status() as u32;
                out.message = e.to_string();
            }
        }
        Ok(out)
    })
}

/// The compressor of one connection's outgoing messages.
#[napi]
pub struct Deflater {
    core: deflate::Deflater,
}

#[napi]
impl Deflater {
    #[napi(constructor)]
    pub fn new(level: u32, mem_level: u32, window_bits: u32, no_context_takeover: bool) -> Result<Self> {
        guard(|| {
            let mem = u8::try_from(mem_level).unwrap_or(u8::MAX);
            let bits = u8::try_from(window_bits).unwrap_or(u8::MAX);
            let core = deflate::Deflater::new(level, mem, bits, no_context_takeover).map_err(|e| argument_error(e.into()))?;
            Ok(Deflater { core })
        })
    }

    /// The compressed payload of one whole message (RFC 7692 §7.2.1).
    #[napi(ts_return_type = "Buffer")]
    pub fn compress<'env>(&mut self, env: &'env Env, data: &[u8]) -> Result<BufferSlice<'env>> {
        guard(|| {
            let mut out = Vec::with_capacity(data.len() / 2 + 64);
            self.core
                .compress_message(data, &mut out)
                .map_err(|e| Error::new(Status::GenericFailure, format!("deflate failed: {e}")))?;
            external_buffer(env, out)
        })
    }

    /// Frees the compression context of an idle connection.
    #[napi]
    pub fn release(&mut self) {
        self.core.release()
    }

    #[napi(getter)]
    pub fn holds_context(&self) -> bool {
        self.core.holds_context()
    }
}

// ---------------------------------------------------------------------------
// permessage-deflate, client side (lib/client.js)
// ---------------------------------------------------------------------------

/// The client's Sec-WebSocket-Extensions offer for its `perMessageDeflate`
/// options; throws a RangeError naming a bad field.
#[napi(js_name = "deflateClientOffer")]
pub fn deflate_client_offer(options: DeflateOptions) -> Result<String> {
    guard(|| negotiate::client_offer(&deflate_config(&options)).map_err(|e| argument_error(e.into())))
}

/// Outcome of checking a server's permessage-deflate answer.
#[napi(object)]
pub struct DeflateClientAcceptance {
    /// false: the client must fail the connection; `message` says why.
    pub ok: bool,
    pub message: String,
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: u32,
    pub client_max_window_bits: u32,
}

/// Checks the server's Sec-WebSocket-Extensions value against the offer made
/// for `options` and returns the parameters in force.
#[napi(js_name = "acceptDeflateResponse")]
pub fn accept_deflate_response(header: String, options: DeflateOptions) -> Result<DeflateClientAcceptance> {
    guard(|| {
        Ok(match negotiate::accept_response(&header, &deflate_config(&options)) {
            Ok(params) => DeflateClientAcceptance {
                ok: true,
                message: String::new(),
                server_no_context_takeover: params.server_no_context_takeover,
                client_no_context_takeover: params.client_no_context_takeover,
                server_max_window_bits: params.server_max_window_bits as u32,
                client_max_window_bits: params.client_max_window_bits as u32,
            },
            Err(e) => DeflateClientAcceptance {
                ok: false,
                message: e.message,
                server_no_context_takeover: false,
                client_no_context_takeover: false,
                server_max_window_bits: 15,
                client_max_window_bits: 15,
            },
        })
    })
}
