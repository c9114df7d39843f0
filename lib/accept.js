'use strict';

// accept(socket): the WebSocket handshake on a raw socket, for servers written
// as `net.createServer(socket => …)`. The request is parsed natively from the
// socket's data events; bytes that follow the header block go to the frame parser.

const { addon } = require('./native');
const { WebSocket, connectionOptions } = require('./websocket');
const { abortHandshake, selectProtocol, acceptResponse, UpgradeRequest, LAYOUT_TABLE_WORDS } = require('./upgrade');
const { checkNumber, typeError } = require('./websocket-server');
const deflate = require('./permessage-deflate');
const { Topics } = require('./topics');
const {
  CONNECTING,
  CLOSING,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_MAX_HEADER_BYTES,
  kWebSocket,
} = require('./constants');

// Filled by addon.parseUpgradeInto and read at once; shared by all handshakes.
const layout = new Uint32Array(LAYOUT_TABLE_WORDS);
const NO_PROTOCOLS = [];

/**
 * Performs the server handshake on `socket` and returns a WebSocket that
 * emits 'open' (with the request) once the 101 response is written; the
 * request also stays on `ws.upgradeReq`. A bad request is answered
 * with 400/426/431 and closed; the WebSocket then emits 'error' (if listened
 * to) and 'close' with 1006.
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
 * @param {Function} [options.handleProtocols] (protocols: Set<string>, req) => string|false
 * @param {Function} [options.verifyClient] (info) => boolean; false answers 401
 * @param {boolean|object} [options.perMessageDeflate] RFC 7692 compression, as in ws (default false)
 * @param {Topics} [options.topics] the hub for ws.subscribe() and publish()
 * @returns {WebSocket}
 */
function accept(socket, options) {
  if (!socket || typeof socket.on !== 'function' || typeof socket.write !== 'function') {
    throw typeError('socket: must be a net.Socket or another stream.Duplex');
  }
  const settings = options === undefined ? defaultSettings() : checkSettings(options);
  const ws = new WebSocket(null);
  if (settings.topics) ws._topicHub = settings.topics;
  const handshake = new PendingHandshake(ws, socket, settings);
  ws._handshake = handshake;
  socket[kWebSocket] = ws;
  socket.on('data', handshakeOnData);
  socket.on('end', handshakeOnGone);
  socket.on('close', handshakeOnGone);
  socket.on('error', handshakeOnError);
  if (settings.handshakeTimeout > 0) {
    handshake.timer = setTimeout(handshakeTimedOut, settings.handshakeTimeout, handshake);
  }
  return ws;
}

/**
 * Checks accept()'s options and fills in the defaults.
 * @param {object} options
 */
function checkSettings(options) {
  if (options === null || typeof options !== 'object') throw typeError('options: must be an object');
  const settings = {
    handshakeTimeout: DEFAULT_HANDSHAKE_TIMEOUT,
    maxHeaderBytes: DEFAULT_MAX_HEADER_BYTES,
    ...options,
  };
  for (const name of ['handshakeTimeout', 'maxHeaderBytes']) {
    checkNumber(settings[name], name, 0);
  }
  settings.connection = connectionOptions(settings);
  settings.deflateOptions = deflate.normalizeOptions(settings.perMessageDeflate);
  if (settings.topics !== undefined && settings.topics !== null && !(settings.topics instanceof Topics)) {
    throw typeError('topics: must be a Topics hub (new Topics())');
  }
  return settings;
}

// The settings of accept(socket) without options: checked once, never changed.
let defaults = null;
function defaultSettings() {
  if (defaults === null) defaults = checkSettings({});
  return defaults;
}

// Handshake listeners, shared by every connection: `this` is the socket.
function handshakeOnData(chunk) {
  this[kWebSocket]._handshake.data(chunk);
}

function handshakeOnGone() {
  this[kWebSocket]._handshake.fail(null, 'connection closed during the handshake');
}

function handshakeOnError(err) {
  this[kWebSocket]._handshake.fail(null, err.message);
}

function handshakeTimedOut(handshake) {
  handshake.fail(408, 'handshake timed out');
}

/** Collects the request from data events until its header block ends. */
class PendingHandshake {
  constructor(ws, socket, settings) {
    this.ws = ws;
    this.socket = socket;
    this.settings = settings;
    // Bytes of an unfinished request.
    this.received = null;
    this.timer = null;
  }

  data(chunk) {
    const buffer = this.received === null ? chunk : Buffer.concat([this.received, chunk]);
    const result = addon.parseUpgradeInto(buffer, this.settings.maxHeaderBytes, layout);
    if (result === 0) {
      this.received = buffer;
      return;
    }
    let protocols = NO_PROTOCOLS;
    let extensions;
    if (result !== 1) {
      if (result.status !== 0) {
        this.fail(result.status, result.message);
        return;
      }
      protocols = result.protocols;
      extensions = result.extensions;
    }
    const bytesUsed = layout[0];
    const head = buffer.latin1Slice(0, bytesUsed);
    const key = head.slice(layout[6], layout[7]);
    const req = new UpgradeRequest(head, layout, this.socket);
    const negotiated = deflate.negotiate(extensions, this.settings.deflateOptions);
    if (negotiated && negotiated.status !== 0) {
      this.fail(negotiated.status, negotiated.message);
      return;
    }
    let protocol;
    try {
      protocol = selectProtocol(this.settings.handleProtocols, protocols, req);
      if (typeof this.settings.verifyClient === 'function') {
        const info = { origin: req.headers.origin, secure: !!this.socket.encrypted, req };
        if (!this.settings.verifyClient(info)) {
          this.fail(401, 'Unauthorized');
          return;
        }
      }
    } catch (err) {
      this.fail(500, 'Internal Server Error', err);
      return;
    }
    this.succeed(key, protocol, negotiated, req, buffer.subarray(bytesUsed));
  }

  detach() {
    const { socket } = this;
    if (this.timer !== null) clearTimeout(this.timer);
    socket.removeListener('data', handshakeOnData);
    socket.removeListener('end', handshakeOnGone);
    socket.removeListener('close', handshakeOnGone);
    socket.removeListener('error', handshakeOnError);
    this.ws._handshake = null;
  }

  succeed(key, protocol, negotiated, req, rest) {
    const { socket, ws, settings } = this;
    this.detach();
    ws.upgradeReq = req;
    socket.write(acceptResponse(key, protocol, negotiated && negotiated.response));
    const agreed = negotiated ? { options: settings.deflateOptions, params: negotiated.params } : undefined;
    ws._setSocket(socket, undefined, settings.connection, protocol, agreed);
    ws.emit('open', req);
    if (rest.length > 0 && ws.readyState !== CLOSING) ws._onData(rest);
  }

  /**
   * @param {number|null} status HTTP status to answer with, or null to just close
   * @param {string} message
   * @param {Error} [cause]
   */
  fail(status, message, cause) {
    const { socket, ws } = this;
    if (ws.readyState !== CONNECTING) return;
    this.detach();
    socket.on('error', () => {});
    ws._readyState = CLOSING;
    if (status) abortHandshake(socket, status, message);
    else socket.destroy();
    const err = cause || new Error(`WebSocket handshake failed: ${message}`);
    err.statusCode = status || undefined;
    if (!err.code) err.code = 'WS_ERR_HANDSHAKE';
    const finish = () => {
      if (ws.listenerCount('error') > 0) ws.emit('error', err);
      ws._emitClose();
    };
    if (socket.destroyed) process.nextTick(finish);
    else socket.once('close', finish);
  }
}

module.exports = { accept };
