'use strict';

// The WebSocket object, server and client side: owns the connection's state
// (readyState is written here only), its timers and the closing handshake;
// bytes go through the native core via Receiver and Sender, and the transport
// is reached only through a SocketSeam. The opening handshake that precedes
// it is another object's (lib/handshake/); it reports back through
// _open()/_failOpening().

const EventEmitter = require('node:events');
const { addon, call } = require('../native');
const { OPCODE, CLOSE, LIMITS } = require('../abi');
const { Receiver } = require('./receiver');
const { Sender } = require('./sender');
const { SocketSeam, whenClosed } = require('./socket-seam');
const { installEventTarget } = require('../event-target');
const { EXTENSION, MessageCompressor } = require('../permessage-deflate');
const {
  CONNECTING,
  OPEN,
  CLOSING,
  CLOSED,
  READY_STATES,
  BINARY_TYPES,
  EMPTY_BUFFER,
  NOOP,
} = require('../constants');
const { DEFAULTS, describe, connectionOptions } = require('../options');
const {
  typeError,
  rangeError,
  notOpenError,
  backpressureError,
  usageError,
  controlPayloadError,
  blobClosedError,
  closeCodeError,
  closeReasonError,
  closeReasonTypeError,
} = require('../errors');

// Opcodes, close codes and limits are the core's (lib/abi.js reads them from the addon).
const OP_CONTINUATION = OPCODE.CONTINUATION;
const OP_TEXT = OPCODE.TEXT;
const OP_BINARY = OPCODE.BINARY;
const OP_CLOSE = OPCODE.CLOSE;
const OP_PING = OPCODE.PING;
const OP_PONG = OPCODE.PONG;
const MAX_CONTROL_PAYLOAD = LIMITS.MAX_CONTROL_PAYLOAD;

class WebSocket extends EventEmitter {
  /**
   * `new WebSocket(url, protocols, options)` opens a client connection (the
   * handshake is lib/handshake/client.js's); server-side WebSockets (address
   * null) are made by the server handshake (WebSocketServer and accept()).
   * @param {string|URL|null} address
   * @param {string|string[]} [protocols]
   * @param {object} [options]
   */
  constructor(address, protocols, options) {
    super();
    this._binaryType = 'nodebuffer';
    this._bufferedAmount = 0;
    this._closeCode = CLOSE.ABNORMAL;
    this._closeEmitted = false;
    this._closeFrameReceived = false;
    this._closeFrameSent = false;
    this._closeMessage = EMPTY_BUFFER;
    this._closeTimeout = DEFAULTS.closeTimeout;
    this._closeTimer = null;
    this._closeGraceTimeout = DEFAULTS.closeGraceTimeout;
    this._closeGraceTimer = null;
    this._compressor = null;
    this._idleTimeout = 0;
    this._idleTimer = null;
    this._lastSeen = 0;
    this._awaitingPong = false;
    this._maxBackpressure = 0;
    this._backpressurePolicy = 'drop';
    this._autoPong = true;
    // ws's maxPendingAutoPongs: automatic pongs not yet flushed; past the
    // limit, a peer that pings without reading is cut off.
    this._pendingAutoPongs = 0;
    this._maxPendingAutoPongs = 0;
    this._autoPongComplete = NOOP;
    this._errorEmitted = false;
    this._extensions = {};
    this._failed = false;
    this._fragmenting = false;
    // The opening handshake in progress (client, or accept()'s): its abort(message) runs on close()/terminate().
    this._opening = null;
    // Redirects the client's handshake followed (ws's `_redirects`), kept once it is over.
    this._redirectCount = 0;
    this._isServer = true;
    this._paused = false;
    this._protocol = '';
    this._readyState = CONNECTING;
    this._receiver = null;
    this._sender = null;
    this._seam = null;
    this._url = undefined;
    // Topics (lib/topics.js): the hub this server-side socket publishes
    // through, and the topics it is subscribed to.
    this._topicHub = null;
    this._topics = null;
    // Sends waiting behind a Blob being read (null when none is read: the
    // common case costs one comparison), and the payload bytes they hold.
    this._blobQueue = null;
    this._blobQueueBytes = 0;
    if (address !== null) {
      if (openClient === null) throw usageError('native-ws: the client handshake is not loaded (require the package, not lib/connection)');
      this._isServer = false;
      this._opening = openClient(this, address, protocols, options);
      this._opening.start(address);
    }
  }

  /** How binary messages are delivered: 'nodebuffer' (default), 'arraybuffer', 'fragments' or 'blob'. */
  get binaryType() {
    return this._binaryType;
  }

  set binaryType(type) {
    if (BINARY_TYPES.includes(type)) this._binaryType = type;
  }

  /**
   * Bytes sent and not yet handed to the OS: what the socket queues, the
   * frames batched for the end of the tick, what waits behind a Blob being
   * read, and what was sent after the connection closed (as in ws).
   */
  get bufferedAmount() {
    if (!this._seam) return this._bufferedAmount;
    return this._seam.queuedBytes + this._sender.pendingBytes + this._blobQueueBytes + this._bufferedAmount;
  }

  /** The negotiated extensions, as ws reports them ('permessage-deflate' or ''). */
  get extensions() {
    return Object.keys(this._extensions).join();
  }

  /** Whether pause() stopped reading. */
  get isPaused() {
    return this._paused;
  }

  /** The agreed subprotocol ('' for none). */
  get protocol() {
    return this._protocol;
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3); written only by this class. */
  get readyState() {
    return this._readyState;
  }

  /** The client's URL (undefined on the server side). */
  get url() {
    return this._url;
  }

  /**
   * The transport, for code written against ws's internals (ws's own tests
   * read `ws._socket`); the WebSocket itself goes through its SocketSeam.
   * @returns {import('stream').Duplex|null}
   */
  get _socket() {
    return this._seam === null ? null : this._seam.socket;
  }

  /**
   * How many redirects the client's handshake followed (ws's `_redirects`).
   * @returns {number}
   */
  get _redirects() {
    const opening = this._opening;
    return opening !== null && opening.redirects !== undefined ? opening.redirects : this._redirectCount;
  }

  /**
   * The client's HTTP request in flight, or null (ws's `_req`); owned by the
   * opening handshake.
   * @returns {import('http').ClientRequest|null}
   */
  get _req() {
    const opening = this._opening;
    return opening !== null && opening.request !== undefined ? opening.request : null;
  }

  /**
   * Attaches an upgraded socket and opens the connection (no 'open' event:
   * see _open()). Internal: used by the handshakes (and the benchmarks).
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
    this._receiver = new Receiver(receiverHandlers, this, {
      client: !this._isServer,
      maxPayload: options.maxPayload === undefined ? DEFAULTS.maxPayload : options.maxPayload,
      skipUTF8Validation: options.skipUTF8Validation,
      maxFragments: options.maxFragments === undefined ? DEFAULTS.maxFragments : options.maxFragments,
      maxBufferedChunks: options.maxBufferedChunks === undefined ? DEFAULTS.maxBufferedChunks : options.maxBufferedChunks,
      allowSynchronousEvents: options.allowSynchronousEvents,
    });
    const seam = new SocketSeam(socket, this, head);
    this._sender = new Sender(seam, { client: !this._isServer, generateMask: options.generateMask });
    if (deflate) this._enableDeflate(deflate);
    if (options.closeTimeout !== undefined) this._closeTimeout = options.closeTimeout;
    if (options.closeGraceTimeout !== undefined) this._closeGraceTimeout = options.closeGraceTimeout;
    if (options.autoPong !== undefined) this._autoPong = !!options.autoPong;
    this._maxPendingAutoPongs = options.maxPendingAutoPongs === undefined ? DEFAULTS.maxPendingAutoPongs : options.maxPendingAutoPongs | 0;
    if (options.maxBackpressure) this._maxBackpressure = options.maxBackpressure;
    if (options.backpressurePolicy) this._backpressurePolicy = options.backpressurePolicy;
    this._protocol = protocol || '';
    this._seam = seam;
    this._endOpening();
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
    if (this._seam.ended) return;
    this._sender.flush();
    this._seam.end();
  }

  /**
   * Our FIN is out and nothing more will be read: the peer gets
   * closeGraceTimeout to close its side (closeTimeout, if sooner, still applies).
   */
  _onFinished() {
    if (this._closeGraceTimeout > 0 && this._closeGraceTimeout < 2 ** 31 && !this._seam.destroyed) {
      this._closeGraceTimer = setTimeout(destroyAfterGrace, this._closeGraceTimeout, this);
    }
  }

  /** The peer's close frame arrived. Echo it and close TCP (§5.5.1, §7.1.1). */
  _receivedClose(code, reason) {
    this._closeFrameReceived = true;
    this._closeCode = code;
    this._closeMessage = reason;
    this._seam.stopReading();
    if (this._readyState === OPEN) {
      this._readyState = CLOSING;
      const payload = code === CLOSE.NO_STATUS ? EMPTY_BUFFER : reason.length === 0 ? closeEcho(code) : call(addon.encodeClose, code, reason);
      this._sendClose(payload);
    }
    if (this._closeFrameSent) this._endSocket();
    this._setCloseTimer();
  }

  /** The peer broke the protocol. Fail the connection (§7.1.7). */
  _violated(err) {
    this._failed = true;
    this._seam.stopReading();
    if (this._readyState === OPEN) {
      this._readyState = CLOSING;
      this._sendClose(call(addon.encodeClose, err.closeCode, undefined));
    }
    this._endSocket();
    this._setCloseTimer();
    this._emitError(err);
  }

  /**
   * Emits 'error' once per connection, as ws does. A server-side socket with
   * no 'error' listener does not throw (a peer must not be able to crash the
   * server: a deliberate difference from ws); a client does, as in ws, so
   * that a server breaking the protocol is never invisible.
   * @param {Error} err
   */
  _emitError(err) {
    if (this._errorEmitted) return;
    this._errorEmitted = true;
    if (!this._isServer || this.listenerCount('error') > 0) this.emit('error', err);
  }

  _sendClose(payload) {
    if (this._blobQueue !== null) {
      // After the messages that wait behind a Blob, as in ws.
      this._queueSend(frameQueuedClose, payload, undefined, undefined, 0);
      return;
    }
    this._closeFrameSent = true;
    this._sender.frame(payload, OP_CLOSE, true, false, NOOP);
  }

  _setCloseTimer() {
    if (this._closeTimer) return;
    this._closeTimer = setTimeout(destroyAfterCloseTimeout, this._closeTimeout, this);
  }

  _onEnd() {
    // The peer closed its side: answer in kind. Without a close frame first, this reports 1006.
    this._readyState = CLOSING;
    this._endSocket();
  }

  _onSocketFailure() {
    this._readyState = CLOSING;
    this._seam.destroyAfterError();
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
      this._abortOpening();
      return;
    }
    if (this._readyState === CLOSING) {
      if (this._closeFrameSent && (this._closeFrameReceived || this._failed)) this._endSocket();
      return;
    }
    const payload = closeArguments(code, reason);
    this._readyState = CLOSING;
    this._sendClose(payload);
    // Nothing follows a close frame: it leaves now rather than at the end of the tick.
    if (this._blobQueue === null) this._sender.flush();
    this._setCloseTimer();
  }

  /**
   * Sends a ping.
   * @param {*} [data] at most 125 bytes (a Blob is read first, in order with the sends around it)
   * @param {boolean} [mask] whether to mask the payload (default: on the client side only)
   * @param {(err?: Error) => void} [cb]
   */
  ping(data, mask, cb) {
    this._control(OP_PING, data, mask, cb);
  }

  /**
   * Sends a pong.
   * @param {*} [data] at most 125 bytes (a Blob is read first, in order with the sends around it)
   * @param {boolean} [mask] whether to mask the payload (default: on the client side only)
   * @param {(err?: Error) => void} [cb]
   */
  pong(data, mask, cb) {
    this._control(OP_PONG, data, mask, cb);
  }

  _control(opcode, data, mask, cb) {
    if (this._readyState === CONNECTING) throw notOpen(this._readyState);
    if (typeof data === 'function') {
      cb = data;
      data = mask = undefined;
    } else if (typeof mask === 'function') {
      cb = mask;
      mask = undefined;
    }
    if (typeof data === 'number') data = data.toString();
    const blob = isBlob(data);
    const payload = blob ? data : data === undefined || data === null ? EMPTY_BUFFER : toBuffer(data, 'data');
    // As in ws: after the close, the size is not checked; the bytes count in bufferedAmount.
    if (this._readyState !== OPEN) {
      this._sendAfterClose(payload, cb);
      return;
    }
    if ((blob ? payload.size : payload.length) > MAX_CONTROL_PAYLOAD) throw controlPayloadError(MAX_CONTROL_PAYLOAD);
    const frameIt = opcode === OP_PING ? frameQueuedPing : frameQueuedPong;
    if (blob) this._sendBlob(payload, frameIt, mask, cb);
    else if (this._blobQueue !== null) this._queueSend(frameIt, payload, mask, cb, payload.length);
    else this._sender.frame(payload, opcode, true, false, cb, mask);
  }

  /**
   * Sends a message. Strings go as text unless `binary` is set; no data sends
   * an empty binary message.
   * @param {string|Buffer|ArrayBuffer|ArrayBufferView|Blob|number} [data] a Blob
   *   is read first, and the sends made meanwhile wait for it, in order
   * @param {{ binary?: boolean, compress?: boolean, fin?: boolean, mask?: boolean }} [options]
   * @param {(err?: Error) => void} [cb] called once the data is flushed to the socket
   */
  send(data, options, cb) {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    if (this._readyState === CONNECTING) throw notOpen(this._readyState);
    if (typeof data === 'number') data = data.toString();
    const isString = typeof data === 'string';
    let payload = data;
    let blob = false;
    if (!isString && !Buffer.isBuffer(data)) {
      blob = isBlob(data);
      if (!blob) payload = data === undefined || data === null ? EMPTY_BUFFER : toBuffer(data, 'data');
    }
    if (this._readyState !== OPEN) {
      this._sendAfterClose(payload, cb);
      return;
    }
    if (this._maxBackpressure && this._seam.queuedBytes + this._sender.pendingBytes > this._maxBackpressure && !this._fragmenting) {
      this._refuseForBackpressure(cb);
      return;
    }
    // The common case, framed without reading options: a whole message, no
    // compression, nothing queued behind a Blob.
    if (options === undefined && !blob && this._blobQueue === null && this._compressor === null && !this._fragmenting) {
      this._sender.frame(payload, isString ? OP_TEXT : OP_BINARY, true, false, cb, undefined);
    } else if (blob) this._sendBlob(payload, frameQueuedMessage, options, cb);
    else if (this._blobQueue !== null) {
      this._queueSend(frameQueuedMessage, payload, options, cb, isString ? Buffer.byteLength(payload) : payload.length);
    } else this._sendMessage(payload, isString, options, cb);
  }

  /** Frames a message (send()'s second half; also for a Blob once read). */
  _sendMessage(payload, isString, options, cb) {
    const binary = options && options.binary !== undefined ? !!options.binary : !isString;
    const fin = options && options.fin !== undefined ? !!options.fin : true;
    const mask = options && options.mask !== undefined ? !!options.mask : undefined;
    const opcode = this._fragmenting ? OP_CONTINUATION : binary ? OP_BINARY : OP_TEXT;
    const compressor = this._compressor;
    // Only whole messages are compressed; a fragmented send goes out uncompressed.
    if (compressor && fin && opcode !== OP_CONTINUATION && !(options && options.compress === false)) {
      const length = isString ? Buffer.byteLength(payload) : payload.length;
      if (length >= compressor.threshold) {
        const bytes = isString ? Buffer.from(payload) : payload;
        this._sender.frame(compressor.compress(bytes), opcode, true, true, cb, mask);
        return;
      }
    }
    this._fragmenting = !fin;
    this._sender.frame(payload, opcode, fin, false, cb, mask);
  }

  /**
   * Reads a Blob, then frames it with `frameIt`; sends made meanwhile wait
   * in _blobQueue (ws 8.18 keeps the order too).
   */
  _sendBlob(blob, frameIt, arg, cb) {
    const entry = { blob, data: null, frameIt, arg, cb, bytes: blob.size };
    if (this._blobQueue === null) {
      this._blobQueue = [];
      this._readBlob(entry);
    } else {
      this._blobQueue.push(entry);
      this._blobQueueBytes += entry.bytes;
    }
  }

  _queueSend(frameIt, data, arg, cb, bytes) {
    this._blobQueue.push({ blob: null, data, frameIt, arg, cb, bytes });
    this._blobQueueBytes += bytes;
  }

  _readBlob(entry) {
    this._blobQueueBytes += entry.bytes;
    entry.blob.arrayBuffer().then(
      (arrayBuffer) => this._blobRead(entry, arrayBuffer),
      // Outside the promise chain, so that a throwing callback or 'error' listener is not swallowed.
      (err) => process.nextTick(blobFailed, this, entry, err)
    );
  }

  /** A Blob was read: frame it, then the sends that waited for it (up to the next Blob). */
  _blobRead(entry, arrayBuffer) {
    this._blobQueueBytes -= entry.bytes;
    if (this._seam.destroyed || this._seam.ended) {
      process.nextTick(failBlobQueue, this, entry, blobClosedError());
      return;
    }
    entry.frameIt(this, Buffer.from(arrayBuffer), entry.arg, entry.cb);
    const queue = this._blobQueue;
    while (queue.length > 0) {
      const next = queue.shift();
      if (next.blob !== null) {
        this._blobQueueBytes -= next.bytes;
        this._readBlob(next);
        return;
      }
      this._blobQueueBytes -= next.bytes;
      next.frameIt(this, next.data, next.arg, next.cb);
    }
    this._blobQueue = null;
  }

  /**
   * The peer reads slower than we send: drop this message (its callback gets
   * an error) or, with policy 'close', close the connection with 1008.
   */
  _refuseForBackpressure(cb) {
    const err = backpressureError(`send refused: ${this._seam.queuedBytes} bytes already queued (maxBackpressure ${this._maxBackpressure})`);
    if (this._backpressurePolicy === 'close') this.close(CLOSE.POLICY_VIOLATION, 'backpressure limit exceeded');
    if (cb) process.nextTick(cb, err);
  }

  // send()/ping()/pong() once CLOSING or CLOSED: the bytes count in bufferedAmount, the callback gets ws's error.
  _sendAfterClose(payload, cb) {
    if (payload) {
      this._bufferedAmount += typeof payload === 'string' ? Buffer.byteLength(payload) : isBlob(payload) ? payload.size : payload.length;
    }
    if (cb) process.nextTick(cb, notOpen(this._readyState));
  }

  /** Stops reading from the socket. */
  pause() {
    // No socket: CONNECTING, CLOSED, or a handshake that failed (CLOSING).
    if (!this._seam || this._readyState === CONNECTING || this._readyState === CLOSED) return;
    this._paused = true;
    this._seam.pause();
  }

  /** Reads from the socket again after pause(). */
  resume() {
    if (!this._seam || this._readyState === CONNECTING || this._readyState === CLOSED) return;
    this._paused = false;
    if (!this._closeFrameReceived && !this._failed) this._seam.resume();
  }

  /** Destroys the connection at once, without a closing handshake. */
  terminate() {
    if (this._readyState === CLOSED) return;
    if (this._readyState === CONNECTING) {
      this._abortOpening();
      return;
    }
    if (!this._seam) return; // the handshake failed; 'close' is already on its way
    this._readyState = CLOSING;
    this._seam.destroy();
  }

  /** close()/terminate() while CONNECTING: the opening handshake gives up. */
  _abortOpening() {
    const opening = this._endOpening();
    if (opening !== null) opening.abort('WebSocket was closed before the connection was established');
  }

  /**
   * The opening handshake is over: let go of it, keeping only what ws
   * exposes of it (the redirect count).
   * @returns {object|null} the handshake that was in progress
   */
  _endOpening() {
    const opening = this._opening;
    if (opening === null) return null;
    this._opening = null;
    if (opening.redirects > 0) this._redirectCount = opening.redirects;
    return opening;
  }

  /**
   * The opening handshake succeeded: attach the socket, emit 'open'.
   * @param {import('stream').Duplex} socket
   * @param {Buffer|undefined} head bytes read past the handshake
   * @param {object} options per-connection options (see _setSocket)
   * @param {string} protocol
   * @param {{ options: object, params: object }|undefined} deflate
   * @param {...*} openArgs arguments of the 'open' event (accept() gives the request)
   */
  _open(socket, head, options, protocol, deflate, ...openArgs) {
    this._setSocket(socket, head, options, protocol, deflate);
    this.emit('open', ...openArgs);
  }

  /**
   * The opening handshake failed: the one failure path of every handshake
   * (client, accept()). The caller has answered or destroyed the socket;
   * once it has closed (or at once, without one), 'error' is emitted (on a
   * server-side socket only if listened to) and 'close' with 1006.
   * @param {Error} err
   * @param {import('stream').Duplex|null} socket
   */
  _failOpening(err, socket) {
    if (this._readyState !== CONNECTING) return;
    this._endOpening();
    this._readyState = CLOSING;
    whenClosed(socket, () => this._emitErrorAndClose(err));
  }

  _emitErrorAndClose(err) {
    // A client that could not connect says so even with no 'error' listener
    // (the unhandled 'error' throws, as in ws); accept() only when listened to.
    this._emitError(err);
    this._emitClose();
  }
}

/**
 * Installs the client handshake (lib/handshake/client.js does, when loaded),
 * so that this module does not depend on the handshake layer above it.
 * @param {(ws: WebSocket, address: string|URL, protocols: any, options: any) => { start(address: string|URL): void, abort(message: string): void }} opener
 *   makes the handshake (checking the arguments); start() sends the first request
 */
function setClientOpener(opener) {
  openClient = opener;
}

let openClient = null;

function destroyAfterCloseTimeout(ws) {
  ws._seam.destroy();
}

for (const [index, name] of READY_STATES.entries()) {
  Object.defineProperty(WebSocket, name, { enumerable: true, value: index });
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true, value: index });
}

// ws's attributes are enumerable, configurable accessors on the prototype (class getters are not enumerable).
for (const name of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url']) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true });
}

installEventTarget(WebSocket);

// What the receiver calls for a WebSocket: module-level, so that nothing of it
// sits on the public object (a user's `ws.onClose = fn` changes nothing here).
const receiverHandlers = {
  // binaryType shapes binary messages only; text always comes as a Buffer, as in ws.
  message(ws, data, isBinary) {
    if (!isBinary) {
      ws.emit('message', data, false);
      return;
    }
    if (ws._binaryType === 'arraybuffer') {
      data = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
    } else if (ws._binaryType === 'fragments') {
      data = [data];
    } else if (ws._binaryType === 'blob') {
      data = new Blob([data]);
    }
    ws.emit('message', data, isBinary);
  },
  // A ping is answered at once unless autoPong is off, through the public
  // pong() as in ws (an app or a test that overrides it is obeyed); a peer
  // with maxPendingAutoPongs pongs unflushed is terminated.
  ping(ws, data) {
    if (ws._autoPong && ws._readyState === OPEN) {
      if (ws._maxPendingAutoPongs <= 0) {
        ws.pong(data, !ws._isServer, NOOP);
      } else if (ws._pendingAutoPongs >= ws._maxPendingAutoPongs) {
        ws.terminate();
      } else {
        ws._pendingAutoPongs++;
        // Made on the first ping, so that an idle connection holds no closure.
        if (ws._autoPongComplete === NOOP) ws._autoPongComplete = () => ws._pendingAutoPongs--;
        ws.pong(data, !ws._isServer, ws._autoPongComplete);
      }
    }
    ws.emit('ping', data);
  },
  pong(ws, data) {
    ws.emit('pong', data);
  },
  close(ws, code, reason) {
    ws._receivedClose(code, reason);
  },
  error(ws, err) {
    ws._violated(err);
  },
};

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

// closeGraceTimeout ran out: the peer never closed its side of TCP.
function destroyAfterGrace(ws) {
  ws._closeGraceTimer = null;
  ws._seam.destroy();
}

/**
 * A close frame payload (the encodeClose primitive's), with argument errors
 * that name the argument.
 * @param {number} [code]
 * @param {string|Buffer} [reason]
 * @returns {Buffer}
 */
function encodeClosePayload(code, reason) {
  if (code !== undefined && (typeof code !== 'number' || !Number.isInteger(code))) {
    throw typeError(`code: must be an integer close code, got ${describe(code)}`);
  }
  let reasonBytes;
  if (reason !== undefined && reason !== null) {
    reasonBytes = typeof reason === 'string' ? Buffer.from(reason) : toBuffer(reason, 'reason');
  }
  if (code === undefined && reasonBytes && reasonBytes.length > 0) {
    throw typeError('code: a reason needs a close code');
  }
  if (code !== undefined && (code < 0 || code > 0xffff)) {
    throw rangeError(`code: ${code} is not a status code that may be sent (1000, 1001-1003, 1007-1014, 3000-4999)`);
  }
  return call(addon.encodeClose, code, reasonBytes);
}

/**
 * close(code, reason)'s payload, with ws's errors and messages (the core
 * decides which codes and lengths are valid).
 * @param {number} [code]
 * @param {string|Uint8Array} [reason]
 * @returns {Buffer}
 */
function closeArguments(code, reason) {
  if (code !== undefined && (typeof code !== 'number' || !Number.isInteger(code))) throw closeCodeError();
  if (reason !== undefined && reason !== null && typeof reason !== 'string' && !(reason instanceof Uint8Array)) {
    throw closeReasonTypeError();
  }
  try {
    return encodeClosePayload(code, reason);
  } catch (err) {
    // A reason without a code keeps its own error (ws would drop the reason silently).
    if (code === undefined) throw err;
  }
  // Which argument the core refused: the code alone, or the reason's length.
  try {
    encodeClosePayload(code, undefined);
  } catch {
    throw closeCodeError();
  }
  throw closeReasonError();
}

const hasBlob = typeof Blob === 'function';

/** Whether `value` is a Blob (or File), which send()/ping()/pong() read before sending. */
function isBlob(value) {
  return hasBlob && value instanceof Blob;
}

// How a send that waited behind a Blob is framed: (ws, data, arg, cb).
function frameQueuedMessage(ws, data, options, cb) {
  ws._sendMessage(data, typeof data === 'string', options, cb);
}

function frameQueuedPing(ws, data, mask, cb) {
  ws._sender.frame(data, OP_PING, true, false, cb, mask);
}

function frameQueuedPong(ws, data, mask, cb) {
  ws._sender.frame(data, OP_PONG, true, false, cb, mask);
}

function frameQueuedClose(ws, payload) {
  ws._closeFrameSent = true;
  ws._sender.frame(payload, OP_CLOSE, true, false, NOOP);
  if (ws._closeFrameReceived || ws._failed) ws._endSocket();
}

/** The socket closed before a Blob was read: its send and those behind it get `err`. */
function failBlobQueue(ws, entry, err) {
  const queue = ws._blobQueue || [];
  ws._blobQueue = null;
  ws._blobQueueBytes = 0;
  if (entry.cb) entry.cb(err);
  for (const next of queue) if (next.cb) next.cb(err);
}

/**
 * A Blob could not be read: as in ws, the sends fail, our side of the
 * connection ends (what the peer still sends is dropped) and 'error' is
 * emitted once.
 */
function blobFailed(ws, entry, err) {
  failBlobQueue(ws, entry, err);
  if (ws._readyState === CLOSED) return;
  if (ws._readyState === OPEN) {
    ws._readyState = CLOSING;
    ws._setCloseTimer();
  }
  const alreadyFailed = ws._failed;
  ws._failed = true;
  ws._seam.stopReading();
  ws._endSocket();
  if (!alreadyFailed) ws.emit('error', err);
}

function notOpen(readyState) {
  return notOpenError(readyState, READY_STATES[readyState]);
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
  throw typeError(`${name}: must be a string, Buffer, ArrayBuffer, ArrayBufferView or an array of Buffers, got ${describe(data)}`);
}

module.exports = { WebSocket, setClientOpener, toBuffer, encodeClosePayload };
