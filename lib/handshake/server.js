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
 * @property {object|null} req an http.IncomingMessage or an UpgradeRequest (null if it could not be parsed)
 * @property {import('stream').Duplex} socket
 * @property {{ status: number, message?: string, key?: string, protocols?: string[], extensions?: string }} parsed
 *   what the native validation found: status 0 and the key, offered subprotocols and extensions, or the refusal
 * @property {*} [context] the host's own (e.g. the handleUpgrade callback)
 * @property {string} [key]
 * @property {string} [protocol] the subprotocol chosen ('' for none)
 * @property {{ status: 0, response: string, params: object } | null} [negotiated] permessage-deflate
 */

/**
 * Why a request is refused.
 * @typedef {object} Refusal
 * @property {number|null} status HTTP status to answer with; null: close without an answer
 * @property {string} message
 * @property {Record<string, string|number>} [headers] extra response headers (from verifyClient)
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

/**
 * The checks, in the order they run: each reads and fills in the upgrade and
 * returns a Refusal or null. The order of this list and the statuses in it
 * are the one place to change them (verifyClient and the 101 follow).
 * @type {Array<(upgrade: Upgrade, handshake: ServerHandshake, host: HandshakeHost) => Refusal|null>}
 */
const CHECKS = [
  // Method, HTTP version, Upgrade/Connection, key, version, the grammar of
  // the subprotocol and extension headers (native: 400, 426, 431).
  function validRequest(upgrade) {
    const { parsed } = upgrade;
    if (parsed.status !== 0) return refusal(parsed.status, parsed.message, { clientError: true });
    upgrade.key = parsed.key;
    return null;
  },
  // The `path` option (through the host: WebSocketServer#shouldHandle may be overridden, as in ws).
  function expectedPath(upgrade, handshake, host) {
    return host.shouldHandle(upgrade.req) ? null : refusal(400, 'Unexpected path');
  },
  // permessage-deflate offers against the `perMessageDeflate` option.
  function extensionsNegotiated(upgrade, handshake) {
    const negotiated = deflate.negotiate(upgrade.parsed.extensions, handshake.deflateOptions);
    if (negotiated && negotiated.status !== 0) return refusal(negotiated.status, negotiated.message);
    upgrade.negotiated = negotiated;
    return null;
  },
  // handleProtocols (or the first offer); a handler that throws is answered 500.
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
    this.handleProtocols = typeof options.handleProtocols === 'function' ? options.handleProtocols : null;
    this.verifyClient = typeof options.verifyClient === 'function' ? options.verifyClient : null;
    this.deflateOptions = deflate.normalizeOptions(options.perMessageDeflate);
    this.connection = connectionOptions(options);
  }

  /**
   * Takes one request through the checks, verifyClient and the 101.
   * @param {Upgrade} upgrade
   * @param {HandshakeHost} host
   */
  run(upgrade, host) {
    for (const check of CHECKS) {
      const refused = check(upgrade, this, host);
      if (refused !== null) {
        host.refuse(upgrade, refused);
        return;
      }
    }
    this._verify(upgrade, host);
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

  _verify(upgrade, host) {
    const verifyClient = this.verifyClient;
    if (verifyClient === null) {
      respond(upgrade, host);
      return;
    }
    const { req } = upgrade;
    const socket = req.socket || upgrade.socket;
    const info = { origin: req.headers.origin, secure: !!(socket.authorized || socket.encrypted), req };
    if (verifyClient.length >= 2) {
      const done = (verified, code, message, headers) => {
        if (!host.stillWanted(upgrade)) return;
        if (verified) {
          respond(upgrade, host);
          return;
        }
        const status = code || 401;
        host.refuse(upgrade, refusal(status, message || http.STATUS_CODES[status], { headers }));
      };
      let threw = null;
      try {
        verifyClient(info, done);
      } catch (err) {
        threw = err;
      }
      if (threw !== null) host.refuse(upgrade, refusal(500, http.STATUS_CODES[500], { cause: threw }));
      return;
    }
    let verified;
    try {
      verified = verifyClient(info);
    } catch (err) {
      host.refuse(upgrade, refusal(500, http.STATUS_CODES[500], { cause: err }));
      return;
    }
    if (!verified) {
      host.refuse(upgrade, refusal(401, http.STATUS_CODES[401]));
      return;
    }
    respond(upgrade, host);
  }
}

/** Writes the 101 (after 'headers') and hands the socket to the host. */
function respond(upgrade, host) {
  const { socket } = upgrade;
  if (!socket.readable || !socket.writable) {
    host.refuse(upgrade, refusal(null, 'connection closed during the handshake'));
    return;
  }
  host.take(upgrade);
  if (!host.accepting()) {
    host.refuse(upgrade, refusal(503, http.STATUS_CODES[503]));
    return;
  }
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
