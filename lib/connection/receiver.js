'use strict';

// Feeds socket chunks to the native parser (one native call per chunk) and
// turns the records it fills (read by lib/abi.js) into calls on a
// module-level handlers object, with the receiver's target first; with ws's
// allowSynchronousEvents off, it hands on one message, ping or pong per
// event-loop turn.

const { addon } = require('../native');
const { OPCODE, CLOSE, newRecordTable, dispatchRecords } = require('../abi');
const { ProtocolError, protocolError } = require('../errors');

// Record tables are shared by all connections (48 KiB each would dominate an
// idle connection's memory). A listener may make another connection receive
// synchronously while a table is in use, so tables are lent from a pool.
const spareTables = [];

function borrowTable() {
  return spareTables.pop() || newRecordTable();
}

function returnTable(table) {
  spareTables.push(table);
}

// Native parsers let go by closed connections, for the next ones: making one
// (a native object with a finalizer) costs more than the rest of a
// connection's native set-up, and a server making many short connections
// makes one each. A released parser holds nothing; a few are kept.
const SPARE_PARSERS_MAX = 64;
const spareParsers = [];

/**
 * A parser with these limits: a spare one if the last one released has them, else a new one.
 * @returns {import('../native').StreamParser}
 */
function takeParser(client, maxPayload, skipUTF8Validation, maxFragments, maxBufferedChunks) {
  const spare = spareParsers.pop();
  if (spare !== undefined && spare.hasLimits(client, maxPayload, skipUTF8Validation, maxFragments, maxBufferedChunks)) return spare;
  return new addon.StreamParser(client, maxPayload, skipUTF8Validation, maxFragments, maxBufferedChunks);
}

/**
 * Keeps a parser whose connection is done, emptied, if there is room.
 * @param {import('../native').StreamParser} parser
 */
function releaseParser(parser) {
  if (spareParsers.length >= SPARE_PARSERS_MAX) return;
  try {
    parser.release();
  } catch {
    // A parser that cannot be emptied is not reused; it goes with its connection.
    return;
  }
  spareParsers.push(parser);
}

const OP_TEXT = OPCODE.TEXT;
const OP_BINARY = OPCODE.BINARY;
const OP_CLOSE = OPCODE.CLOSE;
const OP_PING = OPCODE.PING;
const OP_PONG = OPCODE.PONG;

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
   * @param {{ client?: boolean, maxPayload?: number, skipUTF8Validation?: boolean, maxFragments?: number,
   *   maxBufferedChunks?: number, allowSynchronousEvents?: boolean }} [options] ws's receiver options,
   *   checked and defaulted by lib/options.js connectionOptions(); a limit of 0 (the default here) is off
   */
  constructor(handlers, target, options = {}) {
    this._handlers = handlers;
    this._target = target;
    this._client = !!options.client;
    this._maxPayload = options.maxPayload || 0;
    this._skipUTF8Validation = !!options.skipUTF8Validation;
    this._maxFragments = options.maxFragments | 0;
    this._maxBufferedChunks = options.maxBufferedChunks | 0;
    // allowSynchronousEvents false: records wait here, one message/ping/pong per turn.
    this._deferred = options.allowSynchronousEvents === false ? [] : null;
    this._draining = false;
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
      this._parser = takeParser(this._client, this._maxPayload, this._skipUTF8Validation, this._maxFragments, this._maxBufferedChunks);
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
      } catch (err) {
        this._fail(err);
        return;
      }
      start = dispatchRecords(chunk, owned, table, this);
    } while (start >= 0 && start < chunk.length);
  }

  /** The parser threw: a violation by the peer, or a bug in the native core (a caught panic). */
  _fail(err) {
    this._stopped = true;
    if (this._deferred !== null && this._deferred.length > 0) {
      // After the messages that came before it.
      this._deferred.push(FAILED, err, false, 0);
      return;
    }
    this._failNow(err);
  }

  _failNow(err) {
    if (err instanceof ProtocolError) {
      this._handlers.error(this._target, err);
      return;
    }
    // Fail this connection only.
    const wrapped = protocolError(`internal error in the native parser: ${err.message}`, 'ERR_NATIVE_WS_PANIC', CLOSE.INTERNAL_ERROR);
    wrapped.cause = err;
    this._handlers.error(this._target, wrapped);
  }

  /**
   * Ignores everything from now on (after a close frame or an error, or when
   * the transport has closed). Messages, pings and pongs still waiting for
   * their turn (allowSynchronousEvents false) are handed on now, before the
   * connection reports its close; a waiting close frame or error is not.
   */
  stop() {
    this._stopped = true;
    const queue = this._deferred;
    if (queue !== null && queue.length > 0) {
      const waiting = queue.splice(0);
      for (let i = 0; i < waiting.length; i += DEFERRED_FIELDS) {
        const kind = waiting[i];
        if (kind !== OP_CLOSE && kind !== FAILED) this._dispatch(kind, waiting[i + 1], waiting[i + 2], waiting[i + 3]);
      }
    }
    // Let go of the native parser now, with any partly received message it
    // holds (up to maxPayload), rather than when the WebSocket is collected.
    if (this._parser !== null) {
      releaseParser(this._parser);
      this._parser = null;
    }
  }

  /** One record of the table (see lib/abi.js dispatchRecords). */
  _record(kind, data, compressed, closeCode) {
    if (this._deferred !== null) {
      if (kind === OP_CLOSE) this._stopped = true;
      this._deferred.push(kind, data, compressed, closeCode);
      if (!this._draining) {
        this._draining = true;
        setImmediate(drainDeferred, this);
      }
      return;
    }
    this._dispatch(kind, data, compressed, closeCode);
  }

  _dispatch(kind, data, compressed, closeCode) {
    switch (kind) {
      case OP_TEXT:
        this._handlers.message(this._target, data, false, compressed);
        break;
      case OP_BINARY:
        this._handlers.message(this._target, data, true, compressed);
        break;
      case OP_PING:
        this._handlers.ping(this._target, data);
        break;
      case OP_PONG:
        this._handlers.pong(this._target, data);
        break;
      case OP_CLOSE:
        this._stopped = true;
        this._handlers.close(this._target, closeCode, data);
        break;
      case FAILED:
        this._failNow(data);
        break;
    }
  }
}

// A queued parser error (not an opcode).
const FAILED = -1;
const DEFERRED_FIELDS = 4;

/**
 * allowSynchronousEvents false: hands on the next waiting record, and
 * whatever close or error follows it, then waits for the next turn (as ws,
 * which emits one 'message', 'ping' or 'pong' per setImmediate).
 * @param {Receiver} receiver
 */
function drainDeferred(receiver) {
  const queue = receiver._deferred;
  let taken = 0;
  do {
    const kind = queue[taken];
    receiver._dispatch(kind, queue[taken + 1], queue[taken + 2], queue[taken + 3]);
    taken += DEFERRED_FIELDS;
    // stop() may have emptied the queue meanwhile.
  } while (taken < queue.length && (queue[taken] === OP_CLOSE || queue[taken] === FAILED));
  queue.splice(0, taken);
  if (queue.length > 0) setImmediate(drainDeferred, receiver);
  else receiver._draining = false;
}

module.exports = { Receiver };
