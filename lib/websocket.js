'use strict';

// The WebSocket object (server side for now): owns the socket, the timers and
// the close handshake; the bytes go through the native core via Receiver and
// Sender.

const EventEmitter = require('node:events');
const { addon, call } = require('./native');
const { Receiver } = require('./receiver');
const { Sender } = require('./sender');
const { installEventTarget } = require('./event-target');
const { EXTENSION, MessageCompressor } = require('./permessage-deflate');
const {
  CONNECTING,
  OPEN,
  CLOSING,
  CLOSED,
  READY_STATES,
  BINARY_TYPES,
  EMPTY_BUFFER,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_CLOSE_GRACE_TIMEOUT,
  kWebSocket,
  NOOP,
} = require('./constants');

const OP_CONTINUATION = 0;
const OP_TEXT = 1;
const OP_BINARY = 2;
const OP_CLOSE = 8;
const OP_PING = 9;
const OP_PONG = 10;

class WebSocket extends EventEmitter {
  /**
   * `new WebSocket(url, protocols, options)` opens a client connection (see
   * lib/client.js); server-side WebSockets (address null) are created by
   * WebSocketServer and accept().
   * @param {string|URL|null} address
   * @param {string|string[]} [protocols]
   * @param {object} [options]
   */
  constructor(address, protocols, options) {
    super();
    this._binaryType = 'nodebuffer';
    this._bufferedAmount = 0;
    this._closeCode = 1006;
    this._closeEmitted = false;
    this._closeFrameReceived = false;
    this._closeFrameSent = false;
    this._closeMessage = EMPTY_BUFFER;
    this._closeTimeout = DEFAULT_CLOSE_TIMEOUT;
    this._closeTimer = null;
    this._closeGraceTimeout = DEFAULT_CLOSE_GRACE_TIMEOUT;
    this._closeGraceTimer = null;
    this._compressor = null;
    this._idleTimeout = 0;
    this._idleTimer = null;
    this._lastSeen = 0;
    this._awaitingPong = false;
    this._maxBackpressure = 0;
    this._backpressurePolicy = 'drop';
    this._autoPong = true;
    this._extensions = {};
    this._failed = false;
    this._fragmenting = false;
    // accept()'s handshake in progress (see lib/accept.js).
    this._handshake = null;
    this._isServer = true;
    this._paused = false;
    this._protocol = '';
    this._readyState = CONNECTING;
    this._receiver = null;
    this._sender = null;
    this._socket = null;
    this._url = undefined;
    // Topics (lib/topics.js): the hub this server-side socket publishes
    // through, and the topics it is subscribed to.
    this._topicHub = null;
    this._topics = null;
    if (address !== null) {
      this._isServer = false;
      require('./client').initAsClient(this, address, protocols, options);
    }
  }

  get binaryType() {
    return this._binaryType;
  }

  set binaryType(type) {
    if (BINARY_TYPES.includes(type)) this._binaryType = type;
  }

  /** Bytes queued for the socket and not yet handed to the OS. */
  get bufferedAmount() {
    if (!this._socket) return this._bufferedAmount;
    return this._socket.writableLength + this._sender.pendingBytes + this._bufferedAmount;
  }

  get extensions() {
    return Object.keys(this._extensions).join();
  }

  get isPaused() {
    return this._paused;
  }

  get protocol() {
    return this._protocol;
  }

  get readyState() {
    return this._readyState;
  }

  get url() {
    return this._url;
  }

  /**
   * Attaches an upgraded socket. Internal: used by WebSocketServer and accept().
   * @param {import('stream').Duplex} socket
   * @param {Buffer} head bytes that followed the handshake
   * @param {object} options
   * @param {number} [options.maxPayload]
   * @param {number} [options.closeTimeout]
   * @param {number} [options.closeGraceTimeout] ms the peer gets to close TCP after our FIN (0: off)
   * @param {boolean} [options.autoPong]
   * @param {number} [options.idleTimeout] seconds of silence before a ping; as long again without a pong terminates
   * @param {number} [options.maxBackpressure] bytes queued for the socket beyond which sends are refused
   * @param {'drop'|'close'} [options.backpressurePolicy]
   * @param {string} [protocol] the agreed subprotocol (default: options.protocol)
   * @param {{ options: object, params: object }} [deflate] negotiated permessage-deflate (default: options.deflate)
   */
  _setSocket(socket, head, options, protocol = options.protocol, deflate = options.deflate) {
    this._receiver = new Receiver(this, {
      client: !this._isServer,
      maxPayload: options.maxPayload === undefined ? DEFAULT_MAX_PAYLOAD : options.maxPayload,
    });
    this._sender = new Sender(socket, { client: !this._isServer });
    if (deflate) this._enableDeflate(deflate);
    if (options.closeTimeout !== undefined) this._closeTimeout = options.closeTimeout;
    if (options.closeGraceTimeout !== undefined) this._closeGraceTimeout = options.closeGraceTimeout;
    if (options.autoPong !== undefined) this._autoPong = !!options.autoPong;
    if (options.maxBackpressure) this._maxBackpressure = options.maxBackpressure;
    if (options.backpressurePolicy) this._backpressurePolicy = options.backpressurePolicy;
    this._protocol = protocol || '';
    this._socket = socket;
    socket[kWebSocket] = this;
    if (typeof socket.setTimeout === 'function') socket.setTimeout(0);
    if (typeof socket.setNoDelay === 'function') socket.setNoDelay();
    if (head && head.length > 0) socket.unshift(head);
    socket.on('close', socketOnClose);
    socket.on('data', socketOnData);
    socket.on('end', socketOnEnd);
    socket.on('error', socketOnError);
    this._readyState = OPEN;
    if (options.idleTimeout > 0) this._startHeartbeat(options.idleTimeout * 1000);
  }

  /**
   * ws's name for attaching an upgraded socket, which frameworks call on a
   * `new WebSocket(null)`: checks the per-connection options as the server
   * does, keeps a subprotocol set beforehand, and emits 'open' as ws does.
   * @param {import('stream').Duplex} socket
   * @param {Buffer} [head] bytes that followed the handshake
   * @param {object} [options] maxPayload, closeTimeout, autoPong, idleTimeout, …
   */
  setSocket(socket, head, options = {}) {
    this._setSocket(socket, head, connectionOptions(options), this._protocol, undefined);
    this.emit('open');
  }

  /**
   * Pings after `ms` without incoming data; terminates when another `ms`
   * passes without any (a pong included). One timer per period, not per chunk.
   */
  _startHeartbeat(ms) {
    this._idleTimeout = ms;
    this._lastSeen = Date.now();
    const check = () => {
      if (this._readyState !== OPEN) return;
      const quiet = Date.now() - this._lastSeen;
      if (quiet < ms) {
        this._idleTimer = setTimeout(check, ms - quiet);
        return;
      }
      if (this._awaitingPong) {
        this.terminate();
        return;
      }
      this._awaitingPong = true;
      this._sender.frame(EMPTY_BUFFER, OP_PING, true, false, NOOP);
      this._idleTimer = setTimeout(check, ms);
    };
    this._idleTimer = setTimeout(check, ms);
  }

  _enableDeflate({ options, params }) {
    const ours = this._isServer ? 'server' : 'client';
    const theirs = this._isServer ? 'client' : 'server';
    this._receiver.enableInflate(params[`${theirs}MaxWindowBits`], params[`${theirs}NoContextTakeover`]);
    this._compressor = new MessageCompressor(options, params[`${ours}MaxWindowBits`], params[`${ours}NoContextTakeover`]);
    this._extensions[EXTENSION] = params;
  }

  /**
   * Parses a socket chunk. Sends made by listeners meanwhile are corked and
   * leave in one write.
   * @param {Buffer} chunk
   */
  _onData(chunk) {
    if (this._idleTimeout) {
      this._lastSeen = Date.now();
      this._awaitingPong = false;
    }
    const sender = this._sender;
    sender.cork();
    try {
      this._receiver.write(chunk);
    } finally {
      sender.uncork();
    }
  }

  /** Ends our side of TCP after whatever frames are still batched. */
  _endSocket() {
    // Ending twice costs an error object inside Node; skip it.
    if (this._socket.writableEnded) return;
    this._sender.flush();
    this._socket.once('finish', socketOnFinish);
    this._socket.end();
  }

  /**
   * Our FIN is out and nothing more will be read: the peer gets
   * closeGraceTimeout to close its side (closeTimeout, if sooner, still applies).
   */
  _onFinish() {
    if (this._closeGraceTimeout > 0 && this._closeGraceTimeout < 2 ** 31 && !this._socket.destroyed) {
      this._closeGraceTimer = setTimeout(destroySocket, this._closeGraceTimeout, this._socket);
    }
  }

  // Receiver handler: a complete message. binaryType shapes binary messages
  // only; text always comes as a Buffer, as in ws.
  onMessage(data, isBinary) {
    if (!isBinary) {
      this.emit('message', data, false);
      return;
    }
    if (this._binaryType === 'arraybuffer') {
      data = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
    } else if (this._binaryType === 'fragments') {
      data = [data];
    }
    this.emit('message', data, true);
  }

  // Receiver handler: a ping; answered at once unless autoPong is off.
  onPing(data) {
    if (this._autoPong && this._readyState === OPEN) this._sender.frame(data, OP_PONG, true, false, NOOP);
    this.emit('ping', data);
  }

  onPong(data) {
    this.emit('pong', data);
  }

  // Receiver handler: the peer's close frame. Echo it and close TCP (§5.5.1, §7.1.1).
  onClose(code, reason) {
    this._closeFrameReceived = true;
    this._closeCode = code;
    this._closeMessage = reason;
    this._socket.removeListener('data', socketOnData);
    this._socket.resume();
    if (this._readyState === OPEN) {
      this._readyState = CLOSING;
      const payload = code === 1005 ? EMPTY_BUFFER : reason.length === 0 ? closeEcho(code) : call(addon.encodeClose, code, reason);
      this._sendClose(payload);
    }
    if (this._closeFrameSent) this._endSocket();
    this._setCloseTimer();
  }

  // Receiver handler: the peer broke the protocol. Fail the connection (§7.1.7).
  onError(err) {
    this._failed = true;
    this._socket.removeListener('data', socketOnData);
    this._socket.resume();
    if (this._readyState === OPEN) {
      this._readyState = CLOSING;
      this._sendClose(call(addon.encodeClose, err.closeCode, undefined));
    }
    this._endSocket();
    this._setCloseTimer();
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  _sendClose(payload) {
    this._closeFrameSent = true;
    this._sender.frame(payload, OP_CLOSE, true, false, NOOP);
  }

  _setCloseTimer() {
    if (this._closeTimer) return;
    this._closeTimer = setTimeout(() => this._socket.destroy(), this._closeTimeout);
  }

  _onEnd() {
    // The peer closed its side: answer in kind. Without a close frame first, this reports 1006.
    this._readyState = CLOSING;
    this._endSocket();
  }

  _onSocketFailure() {
    const socket = this._socket;
    socket.removeListener('error', socketOnError);
    socket.on('error', NOOP);
    this._readyState = CLOSING;
    socket.destroy();
  }

  _onClose() {
    this._readyState = CLOSING;
    if (this._closeTimer) {
      clearTimeout(this._closeTimer);
      this._closeTimer = null;
    }
    if (this._idleTimer) {
      clearTimeout(this._idleTimer);
      this._idleTimer = null;
    }
    if (this._closeGraceTimer) {
      clearTimeout(this._closeGraceTimer);
      this._closeGraceTimer = null;
    }
    this._receiver.stop();
    this._socket.removeListener('data', socketOnData);
    if (this._compressor) this._compressor.release();
    this._emitClose();
  }

  _emitClose() {
    if (this._closeEmitted) return;
    this._closeEmitted = true;
    this._readyState = CLOSED;
    if (this._topics !== null) this._topicHub._leaveAll(this);
    this.emit('close', this._closeCode, this._closeMessage);
  }

  /**
   * Starts the closing handshake: sends a close frame, waits for the peer's,
   * then ends the TCP connection; destroys the socket after closeTimeout.
   * @param {number} [code] 1000, 1001-1003, 1007-1014 or 3000-4999
   * @param {string|Buffer} [reason] at most 123 UTF-8 bytes
   */
  close(code, reason) {
    if (this._readyState === CLOSED) return;
    if (this._readyState === CONNECTING) {
      this._abortConnecting('WebSocket was closed before the connection was established');
      return;
    }
    if (this._readyState === CLOSING) {
      if (this._closeFrameSent && (this._closeFrameReceived || this._failed)) this._endSocket();
      return;
    }
    const payload = encodeClosePayload(code, reason);
    this._readyState = CLOSING;
    this._sendClose(payload);
    this._setCloseTimer();
  }

  /**
   * Sends a ping.
   * @param {*} [data] at most 125 bytes
   * @param {boolean} [mask] ignored on the server side
   * @param {(err?: Error) => void} [cb]
   */
  ping(data, mask, cb) {
    this._control(OP_PING, data, mask, cb);
  }

  /**
   * Sends a pong.
   * @param {*} [data] at most 125 bytes
   * @param {boolean} [mask] ignored on the server side
   * @param {(err?: Error) => void} [cb]
   */
  pong(data, mask, cb) {
    this._control(OP_PONG, data, mask, cb);
  }

  _control(opcode, data, mask, cb) {
    if (this._readyState === CONNECTING) throw notOpenError(this._readyState);
    if (typeof data === 'function') {
      cb = data;
      data = undefined;
    } else if (typeof mask === 'function') {
      cb = mask;
    }
    if (typeof data === 'number') data = data.toString();
    const payload = data === undefined ? EMPTY_BUFFER : toBuffer(data, 'data');
    if (payload.length > 125) {
      const err = new RangeError('data: the data size must not be greater than 125 bytes');
      err.code = 'ERR_OUT_OF_RANGE';
      throw err;
    }
    if (this._readyState !== OPEN) {
      this._sendAfterClose(payload, cb);
      return;
    }
    this._sender.frame(payload, opcode, true, false, cb);
  }

  /**
   * Sends a message. Strings go as text unless `binary` is set.
   * @param {string|Buffer|ArrayBuffer|ArrayBufferView|number} data
   * @param {{ binary?: boolean, compress?: boolean, fin?: boolean, mask?: boolean }} [options]
   * @param {(err?: Error) => void} [cb] called once the data is flushed to the socket
   */
  send(data, options, cb) {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    if (this._readyState === CONNECTING) throw notOpenError(this._readyState);
    if (typeof data === 'number') data = data.toString();
    const isString = typeof data === 'string';
    const payload = isString ? data : toBuffer(data, 'data');
    if (this._readyState !== OPEN) {
      this._sendAfterClose(payload, cb);
      return;
    }
    if (this._maxBackpressure && this._socket.writableLength + this._sender.pendingBytes > this._maxBackpressure && !this._fragmenting) {
      this._refuseForBackpressure(cb);
      return;
    }
    const binary = options && options.binary !== undefined ? !!options.binary : !isString;
    const fin = options && options.fin !== undefined ? !!options.fin : true;
    const opcode = this._fragmenting ? OP_CONTINUATION : binary ? OP_BINARY : OP_TEXT;
    const compressor = this._compressor;
    // Only whole messages are compressed; a fragmented send goes out uncompressed.
    if (compressor && fin && opcode !== OP_CONTINUATION && !(options && options.compress === false)) {
      const length = isString ? Buffer.byteLength(payload) : payload.length;
      if (length >= compressor.threshold) {
        const bytes = isString ? Buffer.from(payload) : payload;
        this._sender.frame(compressor.compress(bytes), opcode, true, true, cb);
        return;
      }
    }
    this._fragmenting = !fin;
    this._sender.frame(payload, opcode, fin, false, cb);
  }

  /**
   * The peer reads slower than we send: drop this message (its callback gets
   * an error) or, with policy 'close', close the connection with 1008.
   */
  _refuseForBackpressure(cb) {
    const err = new Error(`send refused: ${this._socket.writableLength} bytes already queued (maxBackpressure ${this._maxBackpressure})`);
    err.code = 'WS_ERR_BACKPRESSURE';
    if (this._backpressurePolicy === 'close') this.close(1008, 'backpressure limit exceeded');
    if (cb) process.nextTick(cb, err);
  }

  _sendAfterClose(payload, cb) {
    if (payload) this._bufferedAmount += typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (cb) process.nextTick(cb, notOpenError(this._readyState));
  }

  /** Stops reading from the socket. */
  pause() {
    // No socket: CONNECTING, CLOSED, or a handshake that failed (CLOSING).
    if (!this._socket || this._readyState === CONNECTING || this._readyState === CLOSED) return;
    this._paused = true;
    this._socket.pause();
  }

  /** Reads from the socket again after pause(). */
  resume() {
    if (!this._socket || this._readyState === CONNECTING || this._readyState === CLOSED) return;
    this._paused = false;
    if (!this._closeFrameReceived && !this._failed) this._socket.resume();
  }

  /** Destroys the connection at once, without a closing handshake. */
  terminate() {
    if (this._readyState === CLOSED) return;
    if (this._readyState === CONNECTING) {
      this._abortConnecting('WebSocket was closed before the connection was established');
      return;
    }
    if (!this._socket) return; // the handshake failed; 'close' is already on its way
    this._readyState = CLOSING;
    this._socket.destroy();
  }

  // close()/terminate() while CONNECTING; the client overrides it.
  _abortConnecting(message) {
    if (this._handshake !== null) {
      this._handshake.fail(null, message);
      return;
    }
    const err = new Error(message);
    this._readyState = CLOSING;
    if (this._socket) this._socket.destroy();
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this._emitClose();
  }
}

for (const [index, name] of READY_STATES.entries()) {
  Object.defineProperty(WebSocket, name, { enumerable: true, value: index });
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true, value: index });
}

installEventTarget(WebSocket);

// The payloads that echo a close frame without a reason, by code, as the core
// encodes them; a sent payload is copied or only read, never changed.
const closeEchoes = new Map();

function closeEcho(code) {
  let payload = closeEchoes.get(code);
  if (payload === undefined) {
    payload = call(addon.encodeClose, code, undefined);
    if (closeEchoes.size < 64) closeEchoes.set(code, payload);
  }
  return payload;
}

// Socket listeners, shared by every connection: `this` is the socket.
function socketOnData(chunk) {
  this[kWebSocket]._onData(chunk);
}

function socketOnClose() {
  this[kWebSocket]._onClose();
}

function socketOnEnd() {
  this[kWebSocket]._onEnd();
}

function socketOnError() {
  this[kWebSocket]._onSocketFailure();
}

function socketOnFinish() {
  this[kWebSocket]._onFinish();
}

function destroySocket(socket) {
  socket.destroy();
}

/**
 * A close frame payload for `close(code, reason)`, with argument errors.
 * @param {number} [code]
 * @param {string|Buffer} [reason]
 * @returns {Buffer}
 */
function encodeClosePayload(code, reason) {
  if (code !== undefined && (typeof code !== 'number' || !Number.isInteger(code))) {
    const err = new TypeError(`code: must be an integer close code, got ${describe(code)}`);
    err.code = 'ERR_INVALID_ARG_TYPE';
    throw err;
  }
  let reasonBytes;
  if (reason !== undefined && reason !== null) {
    reasonBytes = typeof reason === 'string' ? Buffer.from(reason) : toBuffer(reason, 'reason');
  }
  if (code === undefined && reasonBytes && reasonBytes.length > 0) {
    const err = new TypeError('code: a reason needs a close code');
    err.code = 'ERR_INVALID_ARG_TYPE';
    throw err;
  }
  if (code !== undefined && (code < 0 || code > 0xffff)) {
    const err = new RangeError(`code: ${code} is not a status code that may be sent (1000, 1001-1003, 1007-1014, 3000-4999)`);
    err.code = 'ERR_OUT_OF_RANGE';
    throw err;
  }
  return call(addon.encodeClose, code, reasonBytes);
}

function notOpenError(readyState) {
  const err = new Error(`WebSocket is not open: readyState ${readyState} (${READY_STATES[readyState]})`);
  err.code = 'ERR_WS_NOT_OPEN';
  return err;
}

/**
 * Views any binary value as a Buffer without copying.
 * @param {*} data
 * @param {string} name argument name for the error
 * @returns {Buffer}
 */
function toBuffer(data, name) {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data);
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // A message received with binaryType 'fragments' (ws's RawData) sends as its concatenation.
  if (Array.isArray(data) && data.every((piece) => Buffer.isBuffer(piece))) return Buffer.concat(data);
  const err = new TypeError(`${name}: must be a string, Buffer, ArrayBuffer, ArrayBufferView or an array of Buffers, got ${describe(data)}`);
  err.code = 'ERR_INVALID_ARG_TYPE';
  throw err;
}

function describe(value) {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an instance of ${value.constructor ? value.constructor.name : 'Object'}`;
  return `${typeof value} ${String(value)}`;
}

const CONNECTION_OPTION_DEFAULTS = {
  maxPayload: DEFAULT_MAX_PAYLOAD,
  closeTimeout: DEFAULT_CLOSE_TIMEOUT,
  closeGraceTimeout: DEFAULT_CLOSE_GRACE_TIMEOUT,
  autoPong: true,
  idleTimeout: 0,
  maxBackpressure: 0,
  backpressurePolicy: 'drop',
};

/**
 * Checks the per-connection options shared by WebSocketServer and accept()
 * and returns them with defaults filled in.
 * @param {object} options
 * @returns {{ maxPayload: number, closeTimeout: number, closeGraceTimeout: number, autoPong: boolean, idleTimeout: number, maxBackpressure: number, backpressurePolicy: string }}
 */
function connectionOptions(options) {
  const picked = {};
  for (const name of Object.keys(CONNECTION_OPTION_DEFAULTS)) {
    picked[name] = options[name] === undefined ? CONNECTION_OPTION_DEFAULTS[name] : options[name];
  }
  for (const name of ['maxPayload', 'closeTimeout', 'closeGraceTimeout', 'idleTimeout', 'maxBackpressure']) {
    const value = picked[name];
    if (typeof value !== 'number' || Number.isNaN(value)) {
      const err = new TypeError(`${name}: must be a number, got ${describe(value)}`);
      err.code = 'ERR_INVALID_ARG_TYPE';
      throw err;
    }
    if (value < 0) {
      const err = new RangeError(`${name}: must be >= 0, got ${value}`);
      err.code = 'ERR_OUT_OF_RANGE';
      throw err;
    }
  }
  if (picked.backpressurePolicy !== 'drop' && picked.backpressurePolicy !== 'close') {
    const err = new RangeError(`backpressurePolicy: must be 'drop' or 'close', got ${describe(picked.backpressurePolicy)}`);
    err.code = 'ERR_OUT_OF_RANGE';
    throw err;
  }
  picked.autoPong = !!picked.autoPong;
  return picked;
}

module.exports = { WebSocket, toBuffer, encodeClosePayload, connectionOptions };
