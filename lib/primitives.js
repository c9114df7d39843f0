'use strict';

// The native protocol functions for direct use, as the tutorial's
// hand-written helpers were: handshake, frames, close payloads, a streaming
// parser. Arguments are checked here; the rules live in the Rust core.

const crypto = require('node:crypto');
const { addon, call } = require('./native');
const { Receiver } = require('./connection/receiver');
const { toBuffer, encodeClosePayload } = require('./connection/websocket');
const { typeError, rangeError, HandshakeError, handshakeRefusal } = require('./errors');
const { DEFAULTS, checkInteger } = require('./options');

/**
 * `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(sha1(key + GUID)).
 * @param {string} key
 * @returns {string}
 */
function acceptKey(key) {
  if (typeof key !== 'string') throw typeError('key: must be a string');
  return addon.acceptKey(key);
}


/**
 * Parses and validates an HTTP upgrade request (RFC 6455 §4.2.1) from the
 * bytes received so far.
 * @param {Buffer} buffer
 * @param {{ maxHeaderBytes?: number }} [options]
 * @returns {null | { method: string, url: string, httpVersion: string, rawHeaders: string[], headers: Record<string,string>, key: string, protocols: string[], extensions: string|null, bytesUsed: number }}
 *   null while the header block is incomplete
 * @throws {HandshakeError} with statusCode 400, 405 or 431 (a version refusal's response lists Sec-WebSocket-Version: 13, 8)
 */
function parseUpgradeRequest(buffer, options = {}) {
  if (!Buffer.isBuffer(buffer)) throw typeError('buffer: must be a Buffer');
  const maxHeaderBytes = options.maxHeaderBytes === undefined ? DEFAULTS.maxHeaderBytes : options.maxHeaderBytes;
  checkInteger(maxHeaderBytes, 'maxHeaderBytes', 1, 'a positive integer');
  const result = addon.parseRequest(buffer, Math.min(maxHeaderBytes, 0xffffffff));
  if (!result.complete) return null;
  if (result.status !== 0) {
    const headers = result.headers ? Object.entries(result.headers).flat() : undefined;
    throw handshakeRefusal(result.status, result.message, addon.errorResponse(result.status, undefined, result.message, headers));
  }
  const headers = {};
  for (let i = 0; i < result.rawHeaders.length; i += 2) {
    const name = result.rawHeaders[i].toLowerCase();
    headers[name] = name in headers ? `${headers[name]}, ${result.rawHeaders[i + 1]}` : result.rawHeaders[i + 1];
  }
  return {
    method: result.method,
    url: result.path,
    httpVersion: `1.${result.versionMinor}`,
    rawHeaders: result.rawHeaders,
    headers,
    key: result.key,
    protocols: result.protocols,
    extensions: result.extensions === undefined ? null : result.extensions,
    bytesUsed: result.bytesUsed,
  };
}

/**
 * The complete 101 response for a key.
 * @param {string} key the client's Sec-WebSocket-Key
 * @param {{ protocol?: string }} [options]
 * @returns {string}
 */
function buildAcceptResponse(key, options = {}) {
  if (typeof key !== 'string') throw typeError('key: must be a string');
  const lines = addon.acceptResponseLines(key, options.protocol || undefined, undefined);
  return lines.join('\r\n') + '\r\n\r\n';
}

/**
 * Encodes one frame.
 * @param {{ fin?: boolean, rsv1?: boolean, opcode?: number, payload?: string|Buffer|ArrayBufferView, mask?: boolean|Buffer }} frame
 *   opcode defaults to 1 (text) for a string payload and 2 otherwise; `mask: true` picks a random key
 * @returns {Buffer}
 */
function encodeFrame(frame) {
  if (frame === null || typeof frame !== 'object') throw typeError('frame: must be an object');
  const payload = frame.payload === undefined ? Buffer.alloc(0) : toBuffer(frame.payload, 'payload');
  const opcode = frame.opcode === undefined ? (typeof frame.payload === 'string' ? 1 : 2) : frame.opcode;
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 15) {
    throw rangeError(`opcode: must be an integer from 0 to 15, got ${opcode}`);
  }
  let mask;
  if (frame.mask === true) mask = crypto.randomBytes(4);
  else if (frame.mask) mask = toBuffer(frame.mask, 'mask');
  return call(addon.encodeFrame, payload, opcode, frame.fin !== false, !!frame.rsv1, mask);
}

/**
 * Decodes the first frame of `buffer`.
 * @param {Buffer} buffer
 * @returns {null | { fin: boolean, rsv1: boolean, rsv2: boolean, rsv3: boolean, opcode: number, masked: boolean, payload: Buffer, bytesUsed: number }}
 *   null while the frame is incomplete; the payload is unmasked
 * @throws {ProtocolError} for a 64-bit length over 2^53 - 1 (closeCode 1009, as in ws)
 */
function decodeFrame(buffer) {
  if (!Buffer.isBuffer(buffer)) throw typeError('buffer: must be a Buffer');
  return call(addon.decodeFrame, buffer);
}

/**
 * A close frame's payload: 2-byte code and UTF-8 reason.
 * @param {number} [code] 1000, 1001-1003, 1007-1014 or 3000-4999
 * @param {string|Buffer} [reason] at most 123 UTF-8 bytes
 * @returns {Buffer}
 */
function encodeClose(code, reason) {
  return encodeClosePayload(code, reason);
}

/**
 * Validates a received close payload.
 * @param {Buffer} payload
 * @returns {{ code: number, reason: string }} code 1005 for an empty payload
 * @throws {ProtocolError} closeCode 1002 or 1007
 */
function decodeClose(payload) {
  if (!Buffer.isBuffer(payload)) throw typeError('payload: must be a Buffer');
  const decoded = call(addon.decodeClose, payload);
  return { code: decoded.code, reason: decoded.reason.toString() };
}

/**
 * Streaming parser: feed it socket chunks, get back complete messages and
 * control frames. Payloads may be views of the chunk, unmasked in place.
 */
class FrameParser {
  /**
   * @param {{ maxPayload?: number, client?: boolean }} [options]
   *   client: true parses a server's (unmasked) frames; maxPayload 0 means no limit
   */
  constructor(options = {}) {
    const maxPayload = options.maxPayload === undefined ? DEFAULTS.maxPayload : options.maxPayload;
    if (typeof maxPayload !== 'number' || maxPayload < 0) throw rangeError('maxPayload: must be a number >= 0');
    this._events = [];
    this._error = null;
    this._receiver = new Receiver(parserHandlers, this, { client: !!options.client, maxPayload });
  }

  /**
   * Parses one chunk.
   * @param {Buffer} chunk
   * @returns {Array<{type: 'message', data: Buffer, isBinary: boolean} | {type: 'ping'|'pong', data: Buffer} | {type: 'close', code: number, reason: string}>}
   * @throws {ProtocolError} with `closeCode` on the first violation; events before it are on `error.events`
   */
  push(chunk) {
    if (!Buffer.isBuffer(chunk)) throw typeError('chunk: must be a Buffer');
    this._receiver.write(chunk);
    const events = this._events.splice(0);
    if (this._error) {
      const err = this._error;
      this._error = null;
      err.events = events;
      throw err;
    }
    return events;
  }
}

// The receiver's handlers for a FrameParser: each event becomes an object.
const parserHandlers = {
  message(parser, data, isBinary) {
    parser._events.push({ type: 'message', data, isBinary });
  },
  ping(parser, data) {
    parser._events.push({ type: 'ping', data });
  },
  pong(parser, data) {
    parser._events.push({ type: 'pong', data });
  },
  close(parser, code, reason) {
    parser._events.push({ type: 'close', code, reason: reason.toString() });
  },
  error(parser, err) {
    parser._error = err;
  },
};

module.exports = {
  acceptKey,
  parseUpgradeRequest,
  buildAcceptResponse,
  HandshakeError,
  encodeFrame,
  decodeFrame,
  encodeClose,
  decodeClose,
  FrameParser,
};
