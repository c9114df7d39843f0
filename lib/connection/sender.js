'use strict';

// Frames outgoing messages and writes them, as send batches, to the
// connection's SocketSeam (write/cork/uncork).
//
// Frames are gathered while the receiver dispatches a chunk (between cork()
// and uncork()), and otherwise until the end of the current tick: payloads
// are copied into a slab behind gaps for their headers, except large server
// payloads, which stay where they are while only their headers go into the
// slab. One native call writes every header of the batch (and masks the
// client's payloads in place), and the batch leaves in one socket write (or
// one corked run of writes when it holds large payloads).

const crypto = require('node:crypto');
const { addon } = require('../native');
const { typeError } = require('../errors');
const { describe } = require('../options');
const {
  BATCH_MAX_ENTRIES,
  BATCH_MASKED,
  BATCH_PAYLOAD_ELSEWHERE,
  newBatchTable,
  headerLength,
  frameFlags,
  writeBatchEntry,
} = require('../abi');

// Up to this size a server payload is copied next to its header: one write
// (or one slab slot) is cheaper than two for small frames.
const MERGE_LIMIT = 16 * 1024;
const SLAB_SIZE = 128 * 1024;
const MASK_KEY_BYTES = 4;

// Client masking keys (RFC 6455 §5.3: unpredictable, one per frame) are
// taken from a pool filled by the CSPRNG, 2048 keys per fill.
const maskKeys = Buffer.allocUnsafeSlow(8192);
let maskKeyAt = maskKeys.length;

function nextMaskKey() {
  if (maskKeyAt === maskKeys.length) {
    crypto.randomFillSync(maskKeys);
    maskKeyAt = 0;
  }
  const key = maskKeys.readUInt32LE(maskKeyAt);
  maskKeyAt += MASK_KEY_BYTES;
  return key;
}

// Slabs and header tables are lent to a sender for one batch and returned at
// flush, so an idle connection holds neither. A slab's region handed to a
// socket is never written again: the next borrower continues after it.
const spareSlabs = [];
const spareTables = [];

function borrowSlab(need) {
  while (spareSlabs.length > 0) {
    const slab = spareSlabs.pop();
    if (slab.buffer.length - slab.position >= need) return slab;
  }
  // A client frame larger than a slab gets a slab of its own, never pooled.
  return { buffer: Buffer.allocUnsafeSlow(Math.max(SLAB_SIZE, need)), position: 0 };
}

function returnSlab(slab) {
  if (slab.buffer.length === SLAB_SIZE) spareSlabs.push(slab);
}

class Sender {
  /**
   * @param {import('stream').Duplex} socket
   * @param {{ client?: boolean, generateMask?: (mask: Buffer) => void }} [options]
   *   client frames are masked (RFC 6455 §5.3); generateMask (ws's client
   *   option) fills each frame's 4-byte key instead of the CSPRNG pool
   */
  constructor(socket, options = {}) {
    this._socket = socket;
    this._client = !!options.client;
    this._generateMask = typeof options.generateMask === 'function' ? options.generateMask : null;
    this._maskBytes = this._generateMask === null ? null : Buffer.alloc(MASK_KEY_BYTES);
    this._corked = 0;
    // The batch being built: slab.buffer[_batchStart, _position) plus its table.
    this._slab = null;
    this._position = 0;
    this._batchStart = 0;
    this._table = null;
    this._entries = 0;
    this._callbacks = [];
    // Large payloads of the batch: [headerEnd, payload, …], written by reference.
    this._elsewhere = [];
    this._elsewhereBytes = 0;
  }

  /**
   * Frames one payload on its own, as ws's static `Sender.frame()` does, for
   * code that frames a broadcast once and hands the result to every socket's
   * `_sender.sendFrame(list, cb)` (socket.io's adapter). The bytes are the
   * core's; the payload is never changed: an unmasked payload is returned by
   * reference after its header, a masked one is copied and masked.
   * @param {string|Buffer|ArrayBuffer|ArrayBufferView} data
   * @param {{ opcode: number, fin?: boolean, rsv1?: boolean, mask?: boolean, readOnly?: boolean,
   *   maskBuffer?: Buffer, generateMask?: (mask: Buffer) => void }} options
   *   readOnly is accepted for ws's sake (the payload is never written to);
   *   maskBuffer receives the key used; generateMask fills it instead of the CSPRNG
   * @returns {Buffer[]} [header, payload], [header] for an empty payload, or [frame] when masked
   */
  static frame(data, options) {
    if (options === null || typeof options !== 'object') throw typeError('options: must be an object with an opcode');
    const payload = typeof data === 'string' ? Buffer.from(data) : toBytes(data, 'data');
    const length = payload.length;
    const masked = !!options.mask;
    const flags = frameFlags(options.opcode, !!options.fin, !!options.rsv1);
    const table = frameTable;
    if (!masked) {
      const gap = headerLength(length, false);
      const header = Buffer.allocUnsafe(gap);
      writeBatchEntry(table, 0, 0, length, flags | BATCH_PAYLOAD_ELSEWHERE, gap, 0);
      addon.writeFrameHeaders(header, table, 1);
      return length === 0 ? [header] : [header, payload];
    }
    let maskKey;
    const maskBuffer = options.maskBuffer;
    if (typeof options.generateMask === 'function') {
      const key = maskBuffer || Buffer.alloc(MASK_KEY_BYTES);
      options.generateMask(key);
      maskKey = key.readUInt32LE(0);
    } else {
      maskKey = nextMaskKey();
      if (maskBuffer) maskBuffer.writeUInt32LE(maskKey, 0);
    }
    const gap = headerLength(length, true);
    const target = Buffer.allocUnsafe(gap + length);
    target.set(payload, gap);
    writeBatchEntry(table, 0, 0, length, flags | BATCH_MASKED, gap, maskKey);
    addon.writeFrameHeaders(target, table, 1);
    return [target];
  }

  /** Bytes framed but not yet handed to the socket. */
  get pendingBytes() {
    return this._position - this._batchStart + this._elsewhereBytes;
  }

  /** Starts gathering frames (the receiver is dispatching a chunk). */
  cork() {
    this._corked++;
  }

  /** Ends a cork(); the outermost one writes the batch. */
  uncork() {
    if (--this._corked === 0) this.flush();
  }

  /**
   * Frames and writes (or batches) one payload.
   * @param {Buffer|string} data a string is written as UTF-8 straight into the frame
   * @param {number} opcode
   * @param {boolean} fin
   * @param {boolean} rsv1
   * @param {(err?: Error) => void} [cb] called when the socket has flushed it
   * @param {boolean} [mask] send's `mask` option (default: masked on the client only)
   */
  frame(data, opcode, fin, rsv1, cb, mask) {
    const isString = typeof data === 'string';
    const length = isString ? Buffer.byteLength(data) : data.length;
    if (this._corked === 0) {
      // Outside a dispatch, gather what the current tick sends and write it
      // once, before any I/O callback runs.
      this._corked = 1;
      process.nextTick(uncorkSender, this);
    }
    const flags = frameFlags(opcode, fin, rsv1);
    const masked = mask === undefined ? this._client : mask;
    if (masked || length <= MERGE_LIMIT) this._batch(data, isString, length, flags, cb, masked);
    else this._batchHeaderOnly(isString ? Buffer.from(data) : data, flags, cb);
  }

  /**
   * Queues frames that are already encoded (a publish's shared frame, ws's
   * `sendFrame(list, cb)`): the buffers join the batch as they are, by
   * reference, in order with the frames around them, and are never written to.
   * @param {Buffer[]} list the bytes of whole frames, in order
   * @param {(err?: Error) => void} [cb] called when the socket has flushed them
   */
  sendFrame(list, cb) {
    if (!Array.isArray(list)) throw typeError(`list: must be an array of Buffers (Sender.frame()'s result), got ${describe(list)}`);
    if (this._corked === 0) {
      this._corked = 1;
      process.nextTick(uncorkSender, this);
    }
    for (let i = 0; i < list.length; i++) {
      const piece = typeof list[i] === 'string' ? Buffer.from(list[i]) : list[i];
      this._elsewhere.push(this._position, piece);
      this._elsewhereBytes += piece.length;
    }
    if (cb) this._callbacks.push(cb);
  }

  /** Reserves `gap + inSlab` bytes of the slab and a table entry for one frame. */
  _reserve(gap, inSlab, length, flags, maskKey) {
    if (this._slab !== null && (this._position + gap + inSlab > this._slab.buffer.length || this._entries === BATCH_MAX_ENTRIES)) {
      this.flush();
    }
    if (this._slab === null) {
      this._slab = borrowSlab(gap + inSlab);
      this._position = this._batchStart = this._slab.position;
      this._table = spareTables.pop() || newBatchTable();
    }
    writeBatchEntry(this._table, this._entries, this._position, length, flags, gap, maskKey);
    this._entries++;
    const payloadAt = this._position + gap;
    this._position = payloadAt + inSlab;
    return payloadAt;
  }

  // A small payload, or any client payload (masking needs a copy anyway):
  // copied into the slab behind its header.
  _batch(data, isString, length, flags, cb, masked) {
    const gap = headerLength(length, masked);
    const payloadAt = masked
      ? this._reserve(gap, length, length, flags | BATCH_MASKED, this._generateMask === null ? nextMaskKey() : this._userMaskKey())
      : this._reserve(gap, length, length, flags, 0);
    if (isString) this._slab.buffer.utf8Write(data, payloadAt, length);
    else this._slab.buffer.set(data, payloadAt);
    if (cb) this._callbacks.push(cb);
  }

  // The client's generateMask option: the user's function fills the key.
  _userMaskKey() {
    this._generateMask(this._maskBytes);
    return this._maskBytes.readUInt32LE(0);
  }

  // A large payload: only its header goes into the slab; the payload is
  // written by reference right after it.
  _batchHeaderOnly(payload, flags, cb) {
    const headerEnd = this._reserve(headerLength(payload.length, false), 0, payload.length, flags | BATCH_PAYLOAD_ELSEWHERE, 0);
    this._elsewhere.push(headerEnd, payload);
    this._elsewhereBytes += payload.length;
    if (cb) this._callbacks.push(cb);
  }

  /** Writes the batch gathered so far, if any. */
  flush() {
    if (this._entries === 0) {
      if (this._elsewhere.length > 0) this._flushReadyFrames();
      return;
    }
    const slab = this._slab;
    addon.writeFrameHeaders(slab.buffer, this._table, this._entries);
    const start = this._batchStart;
    const end = this._position;
    slab.position = end;
    returnSlab(slab);
    spareTables.push(this._table);
    const elsewhere = this._elsewhere;
    this._slab = null;
    this._table = null;
    this._batchStart = this._position = 0;
    this._entries = 0;
    const done = this._takeCallbacks();
    if (elsewhere.length === 0) {
      this._socket.write(slab.buffer.subarray(start, end), done);
      return;
    }
    this._elsewhere = [];
    this._elsewhereBytes = 0;
    writeInterleaved(this._socket, slab.buffer, start, end, elsewhere, done);
  }

  /**
   * The callbacks of the batch being written, as the one write callback
   * (undefined when there are none); the next batch starts a list of its own.
   * @returns {((err?: Error) => void) | undefined}
   */
  _takeCallbacks() {
    const callbacks = this._callbacks;
    if (callbacks.length === 0) return undefined;
    this._callbacks = [];
    if (callbacks.length === 1) return callbacks[0];
    return (err) => {
      for (const cb of callbacks) cb(err);
    };
  }

  // A batch of ready frames only (sendFrame): no slab, no native call.
  _flushReadyFrames() {
    const elsewhere = this._elsewhere;
    this._elsewhere = [];
    this._elsewhereBytes = 0;
    const done = this._takeCallbacks();
    if (elsewhere.length === 2) {
      this._socket.write(elsewhere[1], done);
      return;
    }
    writeInterleaved(this._socket, EMPTY_SLAB, 0, 0, elsewhere, done);
  }
}

const EMPTY_SLAB = Buffer.alloc(0);

// The one-entry table of Sender.frame() (synchronous, so one serves every call).
const frameTable = newBatchTable();

/**
 * A binary payload as a Buffer, without copying.
 * @param {*} data
 * @param {string} name the argument named in the error
 * @returns {Buffer}
 */
function toBytes(data, name) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw typeError(`${name}: must be a string, Buffer, ArrayBuffer or ArrayBufferView, got ${describe(data)}`);
}

/**
 * Writes slab[start, end) with large payloads spliced in after their headers,
 * as one corked run of writes; `done` goes with the last write.
 * @param {import('stream').Duplex} socket
 * @param {Buffer} slab
 * @param {number} start
 * @param {number} end
 * @param {Array<number|Buffer>} elsewhere [headerEnd, payload, headerEnd, payload, …]
 * @param {((err?: Error) => void) | undefined} done
 */
function writeInterleaved(socket, slab, start, end, elsewhere, done) {
  socket.cork();
  let from = start;
  const last = elsewhere.length - 2;
  for (let i = 0; i <= last; i += 2) {
    const headerEnd = elsewhere[i];
    // Ready frames (sendFrame) may follow each other with no slab bytes
    // between, or come before the batch had a slab (position 0).
    if (headerEnd > from) {
      socket.write(slab.subarray(from, headerEnd));
      from = headerEnd;
    }
    if (i === last && from === end) socket.write(elsewhere[i + 1], done);
    else socket.write(elsewhere[i + 1]);
  }
  if (from < end) socket.write(slab.subarray(from, end), done);
  socket.uncork();
}

function uncorkSender(sender) {
  sender.uncork();
}

module.exports = { Sender };
