'use strict';

// WebSocketServer with ws 8's options, events and methods.

const EventEmitter = require('node:events');
const http = require('node:http');
const { addon } = require('./native');
const { WebSocket, connectionOptions } = require('./websocket');
const { abortHandshake, selectProtocol, acceptLines, joinLines, acceptResponse } = require('./upgrade');
const deflate = require('./permessage-deflate');
const { DEFAULT_MAX_PAYLOAD, DEFAULT_CLOSE_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT, kWebSocket } = require('./constants');
const { Topics } = require('./topics');

const NO_PROTOCOLS = [];
const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;
// On a socket of the server created for `port`: its handshakeTimeout timer.
const kHandshakeTimer = Symbol('native-ws.handshakeTimer');

class WebSocketServer extends EventEmitter {
  /**
   * @param {object} options
   * @param {number} [options.port] create an HTTP server listening here
   * @param {string} [options.host]
   * @param {number} [options.backlog]
   * @param {import('http').Server} [options.server] attach to this server
   * @param {boolean} [options.noServer] upgrades come through handleUpgrade()
   * @param {string} [options.path] accept only this path
   * @param {number} [options.maxPayload] bytes per message, default 100 MiB
   * @param {number} [options.closeTimeout] ms to wait for the peer's close frame, default 30000
   * @param {number} [options.closeGraceTimeout] ms the peer gets to close TCP once close frames are exchanged and our FIN is sent, default 3000 (0: off)
   * @param {number} [options.handshakeTimeout] with `port`: ms from TCP accept to a complete upgrade request, default 10000 (0: Node's http defaults)
   * @param {boolean} [options.autoPong] answer pings automatically, default true
   * @param {number} [options.idleTimeout] seconds without data before a ping; terminate if the next period is silent too (0: off)
   * @param {number} [options.maxBackpressure] bytes queued per connection beyond which send() is refused (0: no limit)
   * @param {'drop'|'close'} [options.backpressurePolicy] refused sends are dropped (callback gets an error) or close with 1008
   * @param {boolean} [options.clientTracking] keep `clients`, default true
   * @param {Function} [options.handleProtocols] (protocols: Set<string>, req) => string|false
   * @param {boolean|object} [options.perMessageDeflate] RFC 7692 compression, as in ws (default false)
   * @param {Function} [options.verifyClient] (info, cb?) => boolean
   * @param {object} [options.backplane] carries publishes to other processes, e.g. redisBackplane({ url })
   * @param {Function} [callback] listening callback when `port` is given
   */
  constructor(options, callback) {
    super();
    if (options === null || typeof options !== 'object') {
      throw typeError('options: must be an object');
    }
    options = {
      maxPayload: DEFAULT_MAX_PAYLOAD,
      closeTimeout: DEFAULT_CLOSE_TIMEOUT,
      handshakeTimeout: DEFAULT_HANDSHAKE_TIMEOUT,
      autoPong: true,
      clientTracking: true,
      perMessageDeflate: false,
      handleProtocols: null,
      verifyClient: null,
      path: null,
      host: null,
      port: null,
      server: null,
      noServer: false,
      backlog: null,
      ...options,
    };
    const modes = [options.port != null, !!options.server, !!options.noServer].filter(Boolean).length;
    if (modes !== 1) {
      throw typeError('One and only one of the "port", "server", or "noServer" options must be specified');
    }
    checkNumber(options.handshakeTimeout, 'handshakeTimeout', 0);
    this._connectionOptions = connectionOptions(options);
    this._deflateOptions = deflate.normalizeOptions(options.perMessageDeflate);
    /** The topics of this server's sockets (lib/topics.js). */
    this.topics = new Topics({ backplane: options.backplane });

    if (options.port != null) {
      this._server = http.createServer((req, res) => {
        const body = http.STATUS_CODES[426];
        res.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' });
        res.end(body);
      });
      const limit = options.handshakeTimeout;
      // Beyond 2^31-1 ms setTimeout would fire at once: treat such a limit as none.
      if (limit > 0 && limit < 2 ** 31) this._server.on('connection', (socket) => armHandshakeTimer(socket, limit));
      this._server.listen(options.port, options.host, options.backlog, callback);
    } else if (options.server) {
      this._server = options.server;
    }
    if (this._server) {
      this._removeListeners = attachToServer(this._server, {
        listening: this.emit.bind(this, 'listening'),
        error: this.emit.bind(this, 'error'),
        upgrade: (req, socket, head) => {
          if (socket[kHandshakeTimer] !== undefined) disarmHandshakeTimer(socket);
          this.handleUpgrade(req, socket, head, (ws) => this.emit('connection', ws, req));
        },
      });
    }
    if (options.clientTracking) {
      this.clients = new Set();
      this._shouldEmitClose = false;
    }
    this.options = options;
    this._state = RUNNING;
  }

  /**
   * The bound address of the underlying server.
   * @returns {object|string|null}
   */
  address() {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    if (!this._server) return null;
    return this._server.address();
  }

  /**
   * Stops accepting connections. Open connections are left alone (as in ws 8);
   * 'close' fires once they have all closed.
   * @param {(err?: Error) => void} [cb]
   */
  close(cb) {
    if (this._state === CLOSED) {
      if (cb) this.once('close', () => cb(new Error('The server is not running')));
      process.nextTick(emitClose, this);
      return;
    }
    if (cb) this.once('close', cb);
    if (this._state === CLOSING) return;
    this._state = CLOSING;
    this.topics.close().catch((err) => this.emit('error', err));
    if (this.options.noServer || this.options.server) {
      if (this._server) {
        this._removeListeners();
        this._removeListeners = this._server = null;
      }
      if (this.clients && this.clients.size) this._shouldEmitClose = true;
      else process.nextTick(emitClose, this);
      return;
    }
    const server = this._server;
    this._removeListeners();
    this._removeListeners = this._server = null;
    server.close(() => emitClose(this));
  }

  /**
   * Whether a request is for this server (the `path` option).
   * @param {import('http').IncomingMessage} req
   * @returns {boolean}
   */
  shouldHandle(req) {
    if (this.options.path) {
      const index = req.url.indexOf('?');
      const pathname = index !== -1 ? req.url.slice(0, index) : req.url;
      if (pathname !== this.options.path) return false;
    }
    return true;
  }

  /**
   * Completes an upgrade that Node's http server received.
   * @param {import('http').IncomingMessage} req
   * @param {import('stream').Duplex} socket
   * @param {Buffer} head
   * @param {(ws: WebSocket, req: import('http').IncomingMessage) => void} cb
   */
  handleUpgrade(req, socket, head, cb) {
    socket.on('error', socketOnError);
    // The key alone for a valid request that offers no subprotocol and no extension.
    const version = req.httpVersionMinor + 10 * (req.httpVersionMajor - 1);
    const raw = req.rawHeaders;
    // One joined string crosses to the native side faster than one per header;
    // null only if a value held a newline, which Node's HTTP parser refuses.
    let check = addon.validateUpgradeJoined(req.method, version, raw.join('\n'), raw.length);
    if (check === null) check = addon.validateUpgrade(req.method, version, raw);
    let key = check;
    let protocols = NO_PROTOCOLS;
    let extensions;
    if (typeof check !== 'string') {
      if (check.status !== 0) {
        this._refuse(socket, req, check.status, check.message);
        return;
      }
      ({ key, protocols, extensions } = check);
    }
    if (!this.shouldHandle(req)) {
      abortHandshake(socket, 400, 'Unexpected path');
      return;
    }
    const negotiated = deflate.negotiate(extensions, this._deflateOptions);
    if (negotiated && negotiated.status !== 0) {
      abortHandshake(socket, negotiated.status, negotiated.message);
      return;
    }
    let protocol;
    try {
      protocol = selectProtocol(this.options.handleProtocols, protocols, req);
    } catch (err) {
      abortHandshake(socket, 500, 'Internal Server Error');
      throw err;
    }
    const verify = this.options.verifyClient;
    if (!verify) {
      this._completeUpgrade(key, protocol, negotiated, req, socket, head, cb);
      return;
    }
    const proceed = () => this._completeUpgrade(key, protocol, negotiated, req, socket, head, cb);
    const info = {
      origin: req.headers[`${+req.headers['sec-websocket-version'] === 8 ? 'sec-websocket-origin' : 'origin'}`],
      secure: !!(req.socket.authorized || req.socket.encrypted),
      req,
    };
    if (verify.length === 2) {
      verify(info, (verified, code, message, headers) => {
        if (!verified) return abortHandshake(socket, code || 401, message || http.STATUS_CODES[code || 401], headers);
        proceed();
      });
      return;
    }
    if (!verify(info)) return abortHandshake(socket, 401, http.STATUS_CODES[401]);
    proceed();
  }

  /**
   * Sends a message to the subscribers of `topic` (see lib/topics.js).
   * @param {string} topic
   * @param {*} data
   * @param {{ binary?: boolean, compress?: boolean }} [options]
   * @returns {number} local recipients
   */
  publish(topic, data, options) {
    return this.topics.publish(topic, data, options);
  }

  /**
   * @param {string} topic
   * @returns {number} local subscribers of `topic`
   */
  subscriberCount(topic) {
    return this.topics.subscriberCount(topic);
  }

  _refuse(socket, req, status, message) {
    if (this.listenerCount('wsClientError') > 0) {
      const err = new Error(message);
      err.code = 'WS_ERR_HANDSHAKE';
      err.statusCode = status;
      this.emit('wsClientError', err, socket, req);
      return;
    }
    abortHandshake(socket, status, message);
  }

  _completeUpgrade(key, protocol, negotiated, req, socket, head, cb) {
    if (!socket.readable || !socket.writable) return socket.destroy();
    if (socket[kWebSocket]) {
      throw new Error(
        'server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration'
      );
    }
    if (this._state > RUNNING) return abortHandshake(socket, 503, 'Service Unavailable');
    const extensions = negotiated ? negotiated.response : undefined;
    if (this.listenerCount('headers') > 0) {
      const lines = acceptLines(key, protocol, extensions);
      this.emit('headers', lines, req);
      socket.write(joinLines(lines));
    } else {
      socket.write(acceptResponse(key, protocol, extensions));
    }
    socket.removeListener('error', socketOnError);

    const ws = new WebSocket(null);
    const agreed = negotiated ? { options: this._deflateOptions, params: negotiated.params } : undefined;
    ws._setSocket(socket, head, this._connectionOptions, protocol, agreed);
    ws._topicHub = this.topics;
    if (this.clients) {
      this.clients.add(ws);
      ws.on('close', () => {
        this.clients.delete(ws);
        if (this._shouldEmitClose && !this.clients.size) process.nextTick(emitClose, this);
      });
    }
    cb(ws, req);
  }
}

function attachToServer(server, map) {
  for (const event of Object.keys(map)) server.on(event, map[event]);
  return function removeListeners() {
    for (const event of Object.keys(map)) server.removeListener(event, map[event]);
  };
}

// The server created for `port` drops a connection that has not sent a complete
// upgrade request within handshakeTimeout of its accept. Node's headersTimeout
// alone is not enough: it restarts at a request's first byte and is checked only
// every connectionsCheckingInterval, so a slow client holds on twice as long or more.
function armHandshakeTimer(socket, ms) {
  socket[kHandshakeTimer] = setTimeout(handshakeTimedOut, ms, socket);
  socket.on('close', handshakeTimerOnClose);
}

function disarmHandshakeTimer(socket) {
  clearTimeout(socket[kHandshakeTimer]);
  socket[kHandshakeTimer] = undefined;
  socket.removeListener('close', handshakeTimerOnClose);
}

function handshakeTimerOnClose() {
  disarmHandshakeTimer(this);
}

function handshakeTimedOut(socket) {
  disarmHandshakeTimer(socket);
  // A 408 unless a response is still being written (as Node's request timeout);
  // destroyed at once, not after 'finish', which a client that does not read could hold back.
  if (socket.writable && socket.writableLength === 0) socket.write(addon.errorResponse(408, 'Request Timeout'));
  socket.destroy();
}

function emitClose(server) {
  server._state = CLOSED;
  server.emit('close');
}

function socketOnError() {
  this.destroy();
}

function typeError(message) {
  const err = new TypeError(message);
  err.code = 'ERR_INVALID_ARG_TYPE';
  return err;
}

function checkNumber(value, name, min) {
  if (typeof value !== 'number' || Number.isNaN(value)) throw typeError(`${name}: must be a number`);
  if (value < min) {
    const err = new RangeError(`${name}: must be >= ${min}, got ${value}`);
    err.code = 'ERR_OUT_OF_RANGE';
    throw err;
  }
}

module.exports = { WebSocketServer, checkNumber, typeError };
