'use strict';

// accept(socket): the WebSocket handshake on a raw socket, for servers written
// as `net.createServer(socket => …)`. This module is only a request source:
// it collects the request from the socket's data events (parsed natively,
// with handshakeTimeout and maxHeaderBytes) and hands it to the one server
// handshake (lib/handshake/server.js), as that handshake's host. Bytes that
// follow the header block go to the connection once it is open.

const { WebSocket } = require('./connection/websocket');
const { DEFAULTS, checkNumber, checkObject, checkOptionalInstance } = require('./options');
const { typeError, handshakeError, withCode } = require('./errors');
const { ServerHandshake } = require('./handshake/server');
const { parseRawRequest, writeRefusal } = require('./handshake/request');
const { CONNECTING, NOOP, kWebSocket } = require('./constants');
const { Topics } = require('./topics');

/**
 * Performs the server handshake on `socket` and returns a WebSocket that
 * emits 'open' (with the request) once the 101 response is written. A
 * refused request is answered (400/405/431 as WebSocketServer does, 401 or verifyClient's own
 * status, 500 if handleProtocols or verifyClient throws) and closed; the
 * WebSocket then emits 'error' (if listened to) and 'close' with 1006.
 * Before 'open' it may emit 'headers' (lines, req), as WebSocketServer does.
 * @param {import('stream').Duplex} socket
 * @param {object} [options]
 * @param {number} [options.maxPayload] bytes per message, default 100 MiB
 * @param {number} [options.closeTimeout] ms, default 30000
 * @param {number} [options.handshakeTimeout] ms to receive the request, default 10000 (0: none)
 * @param {number} [options.maxHeaderBytes] request header block limit, default 16 KiB
 * @param {boolean} [options.autoPong] default true
 * @param {number} [options.idleTimeout] seconds without data before a ping (0: off)
 * @param {number} [options.maxBackpressure] bytes queued beyond which send() is refused (0: no limit)
 * @param {'drop'|'close'} [options.backpressurePolicy]
 * @param {string} [options.path] accept only this path (400 otherwise)
 * @param {Function} [options.handleProtocols] (protocols: Set<string>, req) => string|false
 * @param {Function} [options.verifyClient] (info) => boolean, or (info, cb) => void; refusing answers 401
 * @param {boolean|object} [options.perMessageDeflate] RFC 7692 compression, as in ws (default false)
 * @param {Topics} [options.topics] the hub for ws.subscribe() and publish()
 * @returns {WebSocket}
 */
function accept(socket, options) {
  if (!socket || typeof socket.on !== 'function' || typeof socket.write !== 'function') {
    throw typeError('socket: must be a net.Socket or another stream.Duplex');
  }
  const settings = options === undefined ? defaultSettings() : settingsFor(options);
  const ws = new WebSocket(null);
  if (settings.topics) ws._topicHub = settings.topics;
  const pending = new PendingHandshake(ws, socket, settings);
  ws._opening = pending;
  socket[kWebSocket] = ws;
  socket.on('data', handshakeOnData);
  socket.on('end', handshakeOnGone);
  socket.on('close', handshakeOnGone);
  socket.on('error', handshakeOnError);
  if (settings.handshakeTimeout > 0) {
    pending.timer = setTimeout(handshakeTimedOut, settings.handshakeTimeout, pending);
  }
  return ws;
}

/**
 * Checks accept()'s options: its own (handshakeTimeout, maxHeaderBytes, topics), and the handshake's.
 * @param {object} options
 */
function acceptSettings(options) {
  checkObject(options);
  const handshakeTimeout = options.handshakeTimeout === undefined ? DEFAULTS.handshakeTimeout : options.handshakeTimeout;
  const maxHeaderBytes = options.maxHeaderBytes === undefined ? DEFAULTS.maxHeaderBytes : options.maxHeaderBytes;
  checkNumber(handshakeTimeout, 'handshakeTimeout');
  checkNumber(maxHeaderBytes, 'maxHeaderBytes');
  checkOptionalInstance(options.topics, Topics, 'topics', 'a Topics hub (new Topics())');
  return { handshakeTimeout, maxHeaderBytes, topics: options.topics || null, handshake: new ServerHandshake(options) };
}

// The settings of accept(socket) without options: checked once, never changed.
let defaults = null;
function defaultSettings() {
  if (defaults === null) defaults = acceptSettings({});
  return defaults;
}

// A server usually passes the same options object to every accept(): checking
// it and building its handshake each time cost more than the rest of the
// handshake's JS. Settings are kept per object, with a snapshot of its values,
// and made again when any value changed, so a changed option still counts.
const settingsCache = new WeakMap();

/**
 * The checked settings for `options`, reused while its values are unchanged.
 * @param {object} options
 */
function settingsFor(options) {
  const cached = typeof options === 'object' && options !== null ? settingsCache.get(options) : undefined;
  if (cached !== undefined && sameValues(options, cached.snapshot)) return cached.settings;
  const settings = acceptSettings(options);
  settingsCache.set(options, { settings, snapshot: snapshotOf(options) });
  return settings;
}

/**
 * The options' enumerable properties (own and inherited), as [name, value, …].
 * @param {object} options
 * @returns {Array}
 */
function snapshotOf(options) {
  const snapshot = [];
  for (const name in options) snapshot.push(name, options[name]);
  return snapshot;
}

/**
 * Whether `options` still has exactly the properties and values of `snapshot`.
 * @param {object} options
 * @param {Array} snapshot
 * @returns {boolean}
 */
function sameValues(options, snapshot) {
  let i = 0;
  for (const name in options) {
    if (i >= snapshot.length || snapshot[i] !== name || snapshot[i + 1] !== options[name]) return false;
    i += 2;
  }
  return i === snapshot.length;
}

// Handshake listeners, shared by every connection: `this` is the socket.
function handshakeOnData(chunk) {
  this[kWebSocket]._opening.data(chunk);
}

function handshakeOnGone() {
  const pending = this[kWebSocket]._opening;
  if (pending) pending.fail(null, 'connection closed during the handshake');
}

function handshakeOnError(err) {
  const pending = this[kWebSocket]._opening;
  if (pending) pending.fail(null, err.message);
}

function handshakeTimedOut(pending) {
  pending.fail(408, 'handshake timed out');
}

/**
 * One accept()ed socket until its handshake ends: collects the request, runs
 * the server handshake as its host, and fails the WebSocket when refused.
 */
class PendingHandshake {
  constructor(ws, socket, settings) {
    this.ws = ws;
    this.socket = socket;
    this.settings = settings;
    // Bytes of an unfinished request.
    this.received = null;
    // Bytes after the request, for the connection.
    this.rest = null;
    this.timer = null;
  }

  /** @param {Buffer} chunk */
  data(chunk) {
    const buffer = this.received === null ? chunk : Buffer.concat([this.received, chunk]);
    const parsed = parseRawRequest(buffer, this.settings.maxHeaderBytes, this.socket);
    if (parsed === null) {
      this.received = buffer;
      return;
    }
    // The request is complete (handshakeTimeout is the time to receive it):
    // what follows waits, paused, until the connection opens.
    this.received = null;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.socket.removeListener('data', handshakeOnData);
    this.socket.pause();
    this.rest = buffer.subarray(parsed.bytesUsed);
    this.settings.handshake.run({ req: parsed.req, socket: this.socket, parsed: parsed.parsed }, this);
  }

  /**
   * close()/terminate() before 'open'.
   * @param {string} message
   */
  abort(message) {
    this.fail(null, message);
  }

  /** Removes what the handshake put on the socket. */
  detach() {
    const { socket } = this;
    if (this.timer !== null) clearTimeout(this.timer);
    socket.removeListener('data', handshakeOnData);
    socket.removeListener('end', handshakeOnGone);
    socket.removeListener('close', handshakeOnGone);
    socket.removeListener('error', handshakeOnError);
  }

  /**
   * Fails the handshake: answers `status` (or just closes), then the
   * WebSocket's one failure path.
   * @param {number|null} status HTTP status to answer with, or null to just close
   * @param {string} message
   * @param {Error} [cause] what a user callback threw
   * @param {object} [headers] extra response headers
   */
  fail(status, message, cause, headers) {
    const { socket, ws } = this;
    if (ws.readyState !== CONNECTING) return;
    this.detach();
    socket.on('error', NOOP);
    if (status) writeRefusal(socket, status, message, headers);
    else socket.destroy();
    const err = cause || handshakeError(`WebSocket handshake failed: ${message}`);
    err.statusCode = status || undefined;
    if (!err.code) withCode(err, 'WS_ERR_HANDSHAKE');
    ws._failOpening(err, socket);
  }

  // HandshakeHost (lib/handshake/server.js).

  refuse(upgrade, refusal) {
    this.fail(refusal.status, refusal.message, refusal.cause, refusal.headers);
  }

  shouldHandle(req) {
    return this.settings.handshake.matchesPath(req.url);
  }

  stillWanted() {
    return this.ws.readyState === CONNECTING;
  }

  take() {}

  accepting() {
    return true;
  }

  wantsHeaders() {
    return this.ws.listenerCount('headers') > 0;
  }

  emitHeaders(lines, req) {
    this.ws.emit('headers', lines, req);
  }

  complete(upgrade) {
    const { socket, ws, settings, rest } = this;
    this.detach();
    ws._open(socket, undefined, settings.handshake.connection, upgrade.protocol, settings.handshake.agreedDeflate(upgrade), upgrade.req);
    if (rest.length > 0 && ws.readyState === WebSocket.OPEN) ws._onData(rest);
    if (!ws.isPaused && ws._seam !== null) ws._seam.resume();
  }
}

module.exports = { accept };
