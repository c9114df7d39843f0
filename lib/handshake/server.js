'use strict';

// The one server-side opening handshake, shared by WebSocketServer
// (handleUpgrade: requests Node's http module parsed) and accept() (requests
// parsed natively from a raw socket). It owns the order of the checks, the
// refusals they give, verifyClient (sync and async), the 'headers' event and
// the 101. What differs between the two lives in their host (see
// HandshakeHost): where a refusal goes, whether the server still accepts, who
// hears 'headers', what becomes of the socket once the 101 is written.

const http = require('node:http');
const deflate = require('../permessage-deflate');
const { connectionOptions } = require('../options');
const { selectProtocol, acceptLines, joinLines, acceptResponse } = require('./request');

/**
 * A request going through the handshake. The request source fills in the
 * first four fields; the checks fill in the rest.
 * @typedef {object} Upgrade
 * @property {object|null} req an http.IncomingMessage, a request object of a framework's test tool, or an UpgradeRequest (null if it could not be parsed)
 * @property {import('stream').Duplex} socket
 * @property {{ status: number, message?: string, headers?: Record<string, string>, key?: string, protocols?: string[], extensions?: string, protocolRefusal?: { status: number, message: string } }} parsed
 *   what the native validation found: status 0 and the key, offered subprotocols (or
 *   protocolRefusal for a malformed offer) and extensions, or the refusal
 * @property {*} [context] the host's own (e.g. the handleUpgrade callback)
 * @property {string} [key]
 * @property {string} [protocol] the subprotocol chosen ('' for none)
 * @property {{ status: 0, response: string, params: object } | null} [negotiated] permessage-deflate
 */

/**
 * Why a request is refused.
 * @typedef {object} Refusal
 * @property {number|null} status HTTP status to answer with; null: close without an answer
 * @property {string} message the response body (ws's words), and the message of 'wsClientError'
 * @property {Record<string, string|number>} [headers] extra response headers (verifyClient's, or Sec-WebSocket-Version)
 * @property {Error} [cause] a user callback threw this
 * @property {boolean} clientError the request itself is malformed ('wsClientError' may take it)
 */

/**
 * What the two servers provide.
 * @typedef {object} HandshakeHost
 * @property {(upgrade: Upgrade, refusal: Refusal) => void} refuse answer (or hand over) a refused request
 * @property {(req: object) => boolean} shouldHandle whether the request is for this server (ServerHandshake#matchesPath by default)
 * @property {(upgrade: Upgrade) => boolean} stillWanted false once the host gave up on this request (accept(): the WebSocket was closed)
 * @property {(upgrade: Upgrade) => void} take the socket is about to be answered 101: WebSocketServer throws if another call took it already
 * @property {() => boolean} accepting false while the server is closing (answered 503)
 * @property {() => boolean} wantsHeaders someone listens to 'headers'
 * @property {(lines: string[], req: object) => void} emitHeaders
 * @property {(upgrade: Upgrade) => void} complete the 101 is written: make the connection
 */

/**
 * @param {number|null} status
 * @param {string} message
 * @param {{ headers?: object, cause?: Error, clientError?: boolean }} [details]
 * @returns {Refusal}
 */
function refusal(status, message, details = {}) {
  return { status, message, headers: details.headers, cause: details.cause, clientError: !!details.clientError };
}

/** What a check returns when it will resume the handshake itself (an asynchronous verifyClient). */
const PENDING = Symbol('native-ws.pending');

/**
 * The handshake's checks, in the order they run: ws 8's order, with the
 * rules ws leaves out in the native check (see validate_upgrade in
 * src/http/server.rs). Each reads and fills in the upgrade and returns null
 * (go on), a Refusal, or PENDING. This list is the one place that orders
 * the checks and gives their statuses; after the last, the 101 is written.
 * @type {Array<(upgrade: Upgrade, handshake: ServerHandshake, host: HandshakeHost) => Refusal|null|typeof PENDING>}
 */
const CHECKS = [
  // Native, in this order: method (405), HTTP version, Upgrade, Host (only
  // where native-ws parsed the request), Connection, key, version (400 with
  // Sec-WebSocket-Version: 13, 8); and the header block's own limits (431).
  function validRequest(upgrade) {
    const { parsed } = upgrade;
    if (parsed.status !== 0) return refusal(parsed.status, parsed.message, { headers: parsed.headers, clientError: true });
    upgrade.key = parsed.key;
    return null;
  },
  // The `path` option (through the host: WebSocketServer#shouldHandle may be
  // overridden, as in ws). A request for another path is not malformed: a
  // plain 400, not for 'wsClientError'.
  function expectedPath(upgrade, handshake, host) {
    return host.shouldHandle(upgrade.req) ? null : refusal(400, http.STATUS_CODES[400]);
  },
  // The Sec-WebSocket-Protocol header's grammar (parsed natively with the request).
  function validProtocolHeader(upgrade) {
    const refused = upgrade.parsed.protocolRefusal;
    return refused === undefined ? null : refusal(refused.status, refused.message, { clientError: true });
  },
  // permessage-deflate offers against the `perMessageDeflate` option (the
  // header is read only when it is on, as in ws). A header that does not
  // parse is refused (400); an offer with a bad parameter is declined.
  function extensionsNegotiated(upgrade, handshake) {
    const negotiated = deflate.negotiate(upgrade.parsed.extensions, handshake.deflateOptions);
    if (negotiated && negotiated.status !== 0) {
      return refusal(negotiated.status, negotiated.message, { clientError: negotiated.status === 400 });
    }
    upgrade.negotiated = negotiated;
    return null;
  },
  // verifyClient: false answers 401, or the status, message and headers the
  // asynchronous form gives; a throw answers 500 (and is rethrown by the host).
  function clientVerified(upgrade, handshake, host) {
    return handshake.verifyClient === null ? null : verify(upgrade, handshake, host);
  },
  // The client went away meanwhile (its FIN arrived): close without an answer.
  function stillConnected(upgrade) {
    const { socket } = upgrade;
    return socket.readable && socket.writable ? null : refusal(null, 'connection closed during the handshake');
  },
  // WebSocketServer: a second handleUpgrade() with the same socket throws.
  function notTakenYet(upgrade, handshake, host) {
    host.take(upgrade);
    return null;
  },
  // The server is closing: 503.
  function serverAccepting(upgrade, handshake, host) {
    return host.accepting() ? null : refusal(503, http.STATUS_CODES[503]);
  },
  // handleProtocols (or the first offer), after verifyClient as in ws; a
  // handler that throws is answered 500.
  function subprotocolSelected(upgrade, handshake) {
    try {
      upgrade.protocol = selectProtocol(handshake.handleProtocols, upgrade.parsed.protocols, upgrade.req);
    } catch (err) {
      return refusal(500, http.STATUS_CODES[500], { cause: err });
    }
    return null;
  },
];

/** One server's handshake settings, checked once; run() takes each request through them. */
class ServerHandshake {
  /**
   * @param {object} options the server's (or accept()'s) options
   * @param {string} [options.path]
   * @param {Function} [options.handleProtocols] (protocols: Set<string>, req) => string|false
   * @param {Function} [options.verifyClient] (info) => boolean, or (info, cb) => void
   * @param {boolean|object} [options.perMessageDeflate]
   */
  constructor(options) {
    this.path = options.path || null;
    // Read at each request, as ws reads them: frameworks (graphql-ws) set
    // `wss.options.handleProtocols` after the server is made.
    this._options = options;
    this.deflateOptions = deflate.normalizeOptions(options.perMessageDeflate);
    this.connection = connectionOptions(options);
  }

  /** @returns {Function|null} the options' handleProtocols, as it is now */
  get handleProtocols() {
    const handler = this._options.handleProtocols;
    return typeof handler === 'function' ? handler : null;
  }

  /** @returns {Function|null} the options' verifyClient, as it is now */
  get verifyClient() {
    const handler = this._options.verifyClient;
    return typeof handler === 'function' ? handler : null;
  }

  /**
   * Takes one request through the checks and, if none refuses it, the 101.
   * @param {Upgrade} upgrade
   * @param {HandshakeHost} host
   */
  run(upgrade, host) {
    this._runFrom(0, upgrade, host);
  }

  /**
   * Runs the checks from index `first` on (a check that returned PENDING
   * resumes with the one after it).
   * @param {number} first
   * @param {Upgrade} upgrade
   * @param {HandshakeHost} host
   */
  _runFrom(first, upgrade, host) {
    for (let i = first; i < CHECKS.length; i++) {
      const outcome = CHECKS[i](upgrade, this, host);
      if (outcome === null) continue;
      if (outcome !== PENDING) host.refuse(upgrade, outcome);
      return;
    }
    respond(upgrade, host);
  }

  /**
   * Whether a request URL is for this server: its path (before any query)
   * is the `path` option, or there is no such option.
   * @param {string} url
   * @returns {boolean}
   */
  matchesPath(url) {
    const path = this.path;
    if (!path) return true;
    const index = url.indexOf('?');
    return (index !== -1 ? url.slice(0, index) : url) === path;
  }

  /**
   * The deflate agreement a connection is made with, or undefined.
   * @param {Upgrade} upgrade
   */
  agreedDeflate(upgrade) {
    return upgrade.negotiated ? { options: this.deflateOptions, params: upgrade.negotiated.params } : undefined;
  }
}

/**
 * Calls verifyClient: its answer as a check's outcome, or PENDING for the
 * asynchronous form (whose callback resumes or refuses).
 * @returns {Refusal|null|typeof PENDING}
 */
function verify(upgrade, handshake, host) {
  const { verifyClient } = handshake;
  const { req } = upgrade;
  const socket = req.socket || upgrade.socket;
  const headers = req.headers;
  // A version 8 client sends its origin as Sec-WebSocket-Origin (as ws reads it).
  const origin = String(headers['sec-websocket-version']).trim() === '8' ? headers['sec-websocket-origin'] : headers.origin;
  const info = { origin, secure: !!(socket.authorized || socket.encrypted), req };
  if (verifyClient.length >= 2) {
    const done = (verified, code, message, extraHeaders) => {
      if (!host.stillWanted(upgrade)) return;
      if (verified) {
        handshake._runFrom(CLIENT_VERIFIED + 1, upgrade, host);
        return;
      }
      const status = code || 401;
      host.refuse(upgrade, refusal(status, message || http.STATUS_CODES[status] || '', { headers: extraHeaders }));
    };
    try {
      verifyClient(info, done);
    } catch (err) {
      return refusal(500, http.STATUS_CODES[500], { cause: err });
    }
    return PENDING;
  }
  let verified;
  try {
    verified = verifyClient(info);
  } catch (err) {
    return refusal(500, http.STATUS_CODES[500], { cause: err });
  }
  return verified ? null : refusal(401, http.STATUS_CODES[401]);
}

// Where an asynchronous verifyClient resumes from.
const CLIENT_VERIFIED = CHECKS.findIndex((check) => check.name === 'clientVerified');

/** Writes the 101 (after 'headers') and hands the socket to the host. */
function respond(upgrade, host) {
  const { socket } = upgrade;
  const extensions = upgrade.negotiated ? upgrade.negotiated.response : undefined;
  if (host.wantsHeaders()) {
    const lines = acceptLines(upgrade.key, upgrade.protocol, extensions);
    host.emitHeaders(lines, upgrade.req);
    socket.write(joinLines(lines));
  } else {
    socket.write(acceptResponse(upgrade.key, upgrade.protocol, extensions));
  }
  host.complete(upgrade);
}

module.exports = { ServerHandshake, CHECKS };
