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
    // Large payloads of the batch: [headerEnd, payload, …], written by reference.
    this._elsewhere = [];
    this._elsewhereBytes = 0;
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
   */
  frame(data, opcode, fin, rsv1, cb) {
    const isString = typeof data === 'string';
    const length = isString ? Buffer.byteLength(data) : data.length;
    if (this._corked === 0) {
      // Outside a dispatch, gather what the current tick sends and write it
      // once, before any I/O callback runs.
      this._corked = 1;
      process.nextTick(uncorkSender, this);
    }
    const flags = frameFlags(opcode, fin, rsv1);
    if (this._client || length <= MERGE_LIMIT) this._batch(data, isString, length, flags, cb);
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
    if (this._corked === 0) {
      this._corked = 1;
      process.nextTick(uncorkSender, this);
    }
    for (let i = 0; i < list.length; i++) {
      this._elsewhere.push(this._position, list[i]);
      this._elsewhereBytes += list[i].length;
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
  _batch(data, isString, length, flags, cb) {
    const masked = this._client;
    const gap = headerLength(length, masked);
    const payloadAt = masked
      ? this._reserve(gap, length, length, flags | BATCH_MASKED, nextMaskKey())
      : this._reserve(gap, length, length, flags, 0);
    if (isString) this._slab.buffer.utf8Write(data, payloadAt, length);
    else this._slab.buffer.set(data, payloadAt);
    if (cb) this._callbacks.push(cb);
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
    const callbacks = this._callbacks;
    this._slab = null;
    this._table = null;
    this._batchStart = this._position = 0;
    this._entries = 0;
    let done;
    if (callbacks.length > 0) {
      this._callbacks = [];
      done = callbacks.length === 1 ? callbacks[0] : (err) => {
        for (const cb of callbacks) cb(err);
      };
    }
    if (elsewhere.length === 0) {
      this._socket.write(slab.buffer.subarray(start, end), done);
      return;
    }
    this._elsewhere = [];
    this._elsewhereBytes = 0;
    writeInterleaved(this._socket, slab.buffer, start, end, elsewhere, done);
  }

  // A batch of ready frames only (sendFrame): no slab, no native call.
  _flushReadyFrames() {
    const elsewhere = this._elsewhere;
    const callbacks = this._callbacks;
    this._elsewhere = [];
    this._elsewhereBytes = 0;
    let done;
    if (callbacks.length > 0) {
      this._callbacks = [];
      done = callbacks.length === 1 ? callbacks[0] : (err) => {
        for (const cb of callbacks) cb(err);
      };
    }
    if (elsewhere.length === 2) {
      this._socket.write(elsewhere[1], done);
      return;
    }
    writeInterleaved(this._socket, EMPTY_SLAB, 0, 0, elsewhere, done);
  }
}

const EMPTY_SLAB = Buffer.alloc(0);

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
