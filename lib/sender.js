'use strict';

// Frames outgoing messages and writes them to the socket.
//
// While the receiver dispatches a chunk (between cork() and uncork()), and
// otherwise until the end of the current tick, small unmasked frames are
// gathered in a slab: payloads are copied in behind gaps
// for their headers, one native call writes every header, and the batch
// leaves in a single socket.write. Other frames go out at once: header and
// payload merged when small, or header plus the caller's own payload buffer.

const crypto = require('node:crypto');
const { addon, call } = require('./native');

const MAX_HEADER = 14;
// Up to this size a payload is copied next to its header: one write (or one
// slab slot) is cheaper than two for small frames.
const MERGE_LIMIT = 16 * 1024;
const SLAB_SIZE = 128 * 1024;
const ENTRY_WORDS = 3;
const MAX_BATCH = 1024;

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
  return { buffer: Buffer.allocUnsafeSlow(SLAB_SIZE), position: 0 };
}

/**
 * Header length for an unmasked payload; writeFrameHeaders refuses a gap
 * that does not match the header it writes.
 * @param {number} length
 */
function headerLength(length) {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

class Sender {
  /**
   * @param {import('stream').Duplex} socket
   * @param {{ client?: boolean }} [options] client frames are masked (RFC 6455 §5.3)
   */
  constructor(socket, options = {}) {
    this._socket = socket;
    this._client = !!options.client;
    this._corked = 0;
    // The batch being built: slab.buffer[_batchStart, _position) plus its table.
    this._slab = null;
    this._position = 0;
    this._batchStart = 0;
    this._table = null;
    this._entries = 0;
    this._callbacks = [];
  }

  /** Bytes framed but not yet handed to the socket. */
  get pendingBytes() {
    return this._position - this._batchStart;
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
   */
  frame(data, opcode, fin, rsv1, cb) {
    const isString = typeof data === 'string';
    const length = isString ? Buffer.byteLength(data) : data.length;
    if (this._corked === 0 && !this._client && length <= MERGE_LIMIT) {
      // Outside a dispatch, gather what the current tick sends and write it
      // once, before any I/O callback runs.
      this._corked = 1;
      process.nextTick(uncorkSender, this);
    }
    if (this._corked > 0 && !this._client && length <= MERGE_LIMIT) {
      this._batch(data, isString, length, opcode | (fin ? 0x10 : 0) | (rsv1 ? 0x20 : 0), cb);
      return;
    }
    this.flush();
    if (length <= MERGE_LIMIT || this._client) {
      this._writeMerged(data, isString, length, opcode, fin, rsv1, cb);
      return;
    }
    const header = Buffer.allocUnsafe(MAX_HEADER);
    const headerLength = call(addon.writeFrameHeader, header, 0, opcode, fin, rsv1, length, undefined);
    const payload = isString ? Buffer.from(data) : data;
    this._socket.cork();
    this._socket.write(header.subarray(0, headerLength));
    this._socket.write(payload, cb);
    this._socket.uncork();
  }

  _writeMerged(data, isString, length, opcode, fin, rsv1, cb) {
    const mask = this._client ? crypto.randomBytes(4) : undefined;
    const frame = Buffer.allocUnsafe(MAX_HEADER + length);
    const headerLength = call(addon.writeFrameHeader, frame, 0, opcode, fin, rsv1, length, mask);
    if (isString) frame.utf8Write(data, headerLength, length);
    else data.copy(frame, headerLength);
    const out = frame.subarray(0, headerLength + length);
    if (mask) addon.applyMask(out.subarray(headerLength), mask);
    this._socket.write(out, cb);
  }

  _batch(data, isString, length, flags, cb) {
    const gap = headerLength(length);
    if (this._slab !== null && (this._position + gap + length > this._slab.buffer.length || this._entries === MAX_BATCH)) {
      this.flush();
    }
    if (this._slab === null) {
      this._slab = borrowSlab(gap + length);
      this._position = this._batchStart = this._slab.position;
      this._table = spareTables.pop() || new Uint32Array(MAX_BATCH * ENTRY_WORDS);
    }
    const at = this._entries * ENTRY_WORDS;
    this._table[at] = this._position;
    this._table[at + 1] = length;
    this._table[at + 2] = flags | (gap << 8);
    this._entries++;
    const payloadAt = this._position + gap;
    if (isString) this._slab.buffer.utf8Write(data, payloadAt, length);
    else this._slab.buffer.set(data, payloadAt);
    this._position = payloadAt + length;
    if (cb) this._callbacks.push(cb);
  }

  /** Writes the batch gathered so far, if any. */
  flush() {
    if (this._entries === 0) return;
    const slab = this._slab;
    call(addon.writeFrameHeaders, slab.buffer, this._table, this._entries);
    const out = slab.buffer.subarray(this._batchStart, this._position);
    slab.position = this._position;
    spareSlabs.push(slab);
    spareTables.push(this._table);
    this._slab = null;
    this._table = null;
    this._batchStart = this._position = 0;
    this._entries = 0;
    const callbacks = this._callbacks;
    if (callbacks.length === 0) {
      this._socket.write(out);
      return;
    }
    this._callbacks = [];
    this._socket.write(out, callbacks.length === 1 ? callbacks[0] : (err) => {
      for (const cb of callbacks) cb(err);
    });
  }
}

function uncorkSender(sender) {
  sender.uncork();
}

module.exports = { Sender };
