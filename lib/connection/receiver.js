'use strict';

// Feeds socket chunks to the native parser (one native call per chunk) and
// turns the compact record table it fills into calls on a handler object.

const { addon, ProtocolError, translateError } = require('../native');

const FLAG_OWNED = 1 << 8;
const FLAG_COMPRESSED = 1 << 9;
// With FLAG_OWNED: the payload is [offset, offset + length) of the slab at
// owned[word0 >>> 16] (a message spanning chunks, lent from a shared slab).
const FLAG_IN_SLAB = 1 << 10;
const HEADER_WORDS = 4;
const RECORD_WORDS = 3;
// Records per call; a chunk with more frames is parsed in several calls.
const TABLE_RECORDS = 4096;
const TABLE_WORDS = HEADER_WORDS + TABLE_RECORDS * RECORD_WORDS;

// Record tables are shared by all connections (48 KiB each would dominate an
// idle connection's memory). A listener may make another connection receive
// synchronously while a table is in use, so tables are lent from a pool.
const spareTables = [];

function borrowTable() {
  return spareTables.pop() || new Uint32Array(TABLE_WORDS);
}

function returnTable(table) {
  spareTables.push(table);
}

const OP_TEXT = 1;
const OP_BINARY = 2;
const OP_CLOSE = 8;
const OP_PING = 9;
const OP_PONG = 10;

/**
 * What a receiver calls, each with its target first. One module-level object
 * per kind of target (the WebSocket's lives in websocket.js), so nothing of
 * it is on the target's public surface and no closure is made per connection.
 * @typedef {object} ReceiverHandlers
 * @property {(target: any, data: Buffer, isBinary: boolean, compressed: boolean) => void} message
 * @property {(target: any, data: Buffer) => void} ping
 * @property {(target: any, data: Buffer) => void} pong
 * @property {(target: any, code: number, reason: Buffer) => void} close
 * @property {(target: any, err: ProtocolError) => void} error
 */

class Receiver {
  /**
   * @param {ReceiverHandlers} handlers
   * @param {*} target passed first to every handler
   * @param {{ client?: boolean, maxPayload?: number }} [options]
   */
  constructor(handlers, target, options = {}) {
    this._handlers = handlers;
    this._target = target;
    this._client = !!options.client;
    this._maxPayload = options.maxPayload || 0;
    // The native parser is made on the first chunk: a connection that has
    // received nothing since its handshake holds none (about 1 KiB each).
    this._parser = null;
    this._inflate = null;
    this._stopped = false;
  }

  /**
   * permessage-deflate was negotiated: inflate compressed messages natively.
   * @param {number} windowBits the peer's window
   * @param {boolean} noContextTakeover the peer resets its context every message
   */
  enableInflate(windowBits, noContextTakeover) {
    // Made now, so that bad window bits throw here and not on the first chunk.
    this._inflate = { windowBits, noContextTakeover };
    if (this._parser === null) this._nativeParser();
    else this._parser.enableInflate(windowBits, noContextTakeover);
  }

  /** Bytes held natively for incomplete frames or messages. */
  get bufferedBytes() {
    return this._parser === null ? 0 : this._parser.bufferedBytes;
  }

  _nativeParser() {
    if (this._parser === null) {
      this._parser = new addon.FrameParser(this._client, this._maxPayload);
      if (this._inflate !== null) this._parser.enableInflate(this._inflate.windowBits, this._inflate.noContextTakeover);
    }
    return this._parser;
  }

  /**
   * Parses one socket chunk and dispatches what it completes.
   * @param {Buffer} chunk
   */
  write(chunk) {
    if (this._stopped) return;
    const table = borrowTable();
    try {
      this._parseChunk(chunk, table);
    } finally {
      returnTable(table);
    }
  }

  _parseChunk(chunk, table) {
    const parser = this._nativeParser();
    let start = 0;
    do {
      let owned;
      try {
        owned = parser.parse(chunk, start, table);
      } catch (cause) {
        // A bug in the native core (a caught panic): fail this connection only.
        this._stopped = true;
        const err = new ProtocolError(`internal error in the native parser: ${translateError(cause).message}`, 1011);
        err.code = 'ERR_NATIVE_WS_PANIC';
        err.cause = cause;
        this._handlers.error(this._target, err);
        return;
      }
      const count = table[0];
      const consumed = table[1];
      const errorCode = table[2];
      for (let i = 0, at = HEADER_WORDS; i < count; i++, at += RECORD_WORDS) {
        this._dispatch(chunk, owned, table[at], table[at + 1], table[at + 2]);
        if (this._stopped) return;
      }
      if (errorCode !== 0) {
        this._stopped = true;
        this._handlers.error(this._target, new ProtocolError(parser.lastError() || 'protocol error', errorCode));
        return;
      }
      start = consumed;
    } while (start < chunk.length);
  }

  /** Ignores everything from now on (after a close frame or an error). */
  stop() {
    this._stopped = true;
    // Let go of the native parser now, with any partly received message it
    // holds (up to maxPayload), rather than when the WebSocket is collected.
    this._parser = null;
  }

  _dispatch(chunk, owned, word0, offset, length) {
    const data = (word0 & FLAG_OWNED) === 0
      ? chunk.subarray(offset, offset + length)
      : (word0 & FLAG_IN_SLAB) === 0
        ? owned[offset]
        : owned[word0 >>> 16].subarray(offset, offset + length);
    switch (word0 & 0xff) {
      case OP_TEXT:
        this._handlers.message(this._target, data, false, (word0 & FLAG_COMPRESSED) !== 0);
        break;
      case OP_BINARY:
        this._handlers.message(this._target, data, true, (word0 & FLAG_COMPRESSED) !== 0);
        break;
      case OP_PING:
        this._handlers.ping(this._target, data);
        break;
      case OP_PONG:
        this._handlers.pong(this._target, data);
        break;
      case OP_CLOSE:
        this._stopped = true;
        this._handlers.close(this._target, word0 >>> 16, data);
        break;
    }
  }
}

module.exports = { Receiver };
