'use strict';

// WebSocketServer with ws 8's options, events and methods: owns the HTTP
// server (its own or the user's), the `clients` set and the server's
// closing; each upgrade goes through the one server handshake
// (lib/handshake/server.js), this module being its host for requests Node's
// http module parsed.

const EventEmitter = require('node:events');
const http = require('node:http');
const { WebSocket } = require('./connection/websocket');
const { serverOptions } = require('./options');
const { handshakeError, usageError } = require('./errors');
const { ServerHandshake } = require('./handshake/server');
const { validateParsedRequest, writeRefusal, writeTimeoutRefusal } = require('./handshake/request');
const { Topics } = require('./topics');
const { kWebSocket } = require('./constants');

// The server's states (its own, unrelated to a WebSocket's readyState).
const SERVER_RUNNING = 0;
const SERVER_CLOSING = 1;
const SERVER_CLOSED = 2;
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
   * @param {Function} [options.verifyClient] (info) => boolean, or (info, cb) => void for an asynchronous answer
   * @param {object} [options.backplane] carries publishes to other processes, e.g. redisBackplane({ url })
   * @param {Function} [options.WebSocket] the class of the connections: WebSocket (default) or a class that extends it
   * @param {boolean} [options.allowSynchronousEvents] ws's receiver option, default true
   * @param {boolean} [options.skipUTF8Validation] ws's receiver option, default false
   * @param {number} [options.maxFragments] fragments per message, default 16384
   * @param {number} [options.maxBufferedChunks] chunks buffered per message, default 262144
   * @param {number} [options.maxPendingAutoPongs] automatic pongs waiting to be written, default 60
   * @param {Function} [callback] listening callback when `port` is given
   */
  constructor(options, callback) {
    super();
    options = serverOptions(options, WebSocket);
    this._handshake = new ServerHandshake(options);
    this._host = new NodeRequestHost(this);
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
    this._state = SERVER_RUNNING;
  }

  /**
   * The bound address of the underlying server.
   * @returns {object|string|null}
   */
  address() {
    if (this.options.noServer) throw usageError('The server is operating in "noServer" mode');
    if (!this._server) return null;
    return this._server.address();
  }

  /**
   * Stops accepting connections. Open connections are left alone (as in ws 8);
   * 'close' fires once they have all closed.
   * @param {(err?: Error) => void} [cb]
   */
  close(cb) {
    if (this._state === SERVER_CLOSED) {
      if (cb) this.once('close', () => cb(usageError('The server is not running')));
      process.nextTick(emitClose, this);
      return;
    }
    if (cb) this.once('close', cb);
    if (this._state === SERVER_CLOSING) return;
    this._state = SERVER_CLOSING;
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
    return this._handshake.matchesPath(req.url);
  }

  /**
   * Completes an upgrade that Node's http server received (or one a web
   * framework's test tool made up: `req` needs only `method`, `url` and
   * `headers`): the one server handshake, then `cb(ws, req)`. A refused request is answered and closed
   * (or, for a malformed one, handed to 'wsClientError' listeners). If
   * handleProtocols or verifyClient throws, the request is answered 500 and
   * the error is rethrown here (from verifyClient's callback when it is
   * asynchronous).
   * @param {import('http').IncomingMessage} req
   * @param {import('stream').Duplex} socket
   * @param {Buffer} head
   * @param {(ws: WebSocket, req: import('http').IncomingMessage) => void} cb
   */
  handleUpgrade(req, socket, head, cb) {
    socket.on('error', socketOnError);
    this._handshake.run({ req, socket, parsed: validateParsedRequest(req), context: { head, cb } }, this._host);
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
}

/** WebSocketServer's side of the server handshake (see HandshakeHost in lib/handshake/server.js). */
class NodeRequestHost {
  /** @param {WebSocketServer} server */
  constructor(server) {
    this.server = server;
  }

  refuse(upgrade, refusal) {
    const { server } = this;
    const { socket, req } = upgrade;
    if (refusal.clientError && server.listenerCount('wsClientError') > 0) {
      server.emit('wsClientError', handshakeError(refusal.message, refusal.status), socket, req);
      return;
    }
    if (refusal.status === null) socket.destroy();
    else writeRefusal(socket, refusal.status, refusal.message, refusal.headers);
    if (refusal.cause) throw refusal.cause;
  }

  shouldHandle(req) {
    return this.server.shouldHandle(req);
  }

  stillWanted() {
    return true;
  }

  take(upgrade) {
    if (upgrade.socket[kWebSocket]) {
      throw usageError(
        'server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration'
      );
    }
  }

  accepting() {
    return this.server._state === SERVER_RUNNING;
  }

  wantsHeaders() {
    return this.server.listenerCount('headers') > 0;
  }

  emitHeaders(lines, req) {
    this.server.emit('headers', lines, req);
  }

  complete(upgrade) {
    const { server } = this;
    const { socket, req, context } = upgrade;
    socket.removeListener('error', socketOnError);
    const ws = new server.options.WebSocket(null, undefined, server.options);
    const handshake = server._handshake;
    ws._setSocket(socket, context.head, handshake.connection, upgrade.protocol, handshake.agreedDeflate(upgrade));
    ws._topicHub = server.topics;
    if (server.clients) {
      server.clients.add(ws);
      ws.on('close', () => {
        server.clients.delete(ws);
        if (server._shouldEmitClose && !server.clients.size) process.nextTick(emitClose, server);
      });
    }
    context.cb(ws, req);
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
  writeTimeoutRefusal(socket);
}

function emitClose(server) {
  server._state = SERVER_CLOSED;
  server.emit('close');
}

function socketOnError() {
  this.destroy();
}

module.exports = { WebSocketServer };
