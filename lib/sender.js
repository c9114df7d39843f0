'use strict';

// Frames outgoing messages and writes them to the socket. Headers are
// written by the native core; small frames go out as one buffer (header and
// payload together), large ones as header + the caller's payload, uncopied.

const crypto = require('node:crypto');
const { addon, call } = require('./native');

const MAX_HEADER = 14;
// Up to this size header and payload are copied into one buffer: one write
// is cheaper than two for small frames.
const MERGE_LIMIT = 16 * 1024;

class Sender {
  /**
   * @param {import('stream').Duplex} socket
   * @param {{ client?: boolean }} [options] client frames are masked (RFC 6455 §5.3)
   */
  constructor(socket, options = {}) {
    this._socket = socket;
    this._client = !!options.client;
  }

  /**
   * Frames and writes one payload.
   * @param {Buffer|string} data a string is written as UTF-8 straight into the frame
   * @param {number} opcode
   * @param {boolean} fin
   * @param {boolean} rsv1
   * @param {(err?: Error) => void} [cb] called when the socket has flushed it
   */
  frame(data, opcode, fin, rsv1, cb) {
    const isString = typeof data === 'string';
    const length = isString ? Buffer.byteLength(data) : data.length;
    const mask = this._client ? crypto.randomBytes(4) : undefined;
    if (length <= MERGE_LIMIT || mask) {
      const frame = Buffer.allocUnsafe(MAX_HEADER + length);
      const headerLength = call(addon.writeFrameHeader, frame, 0, opcode, fin, rsv1, length, mask);
      if (isString) frame.utf8Write(data, headerLength, length);
      else data.copy(frame, headerLength);
      const total = headerLength + length;
      const out = frame.subarray(0, total);
      if (mask) addon.applyMask(out.subarray(headerLength), mask);
      this._socket.write(out, cb);
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
}

module.exports = { Sender };
