'use strict';

// The client's opening handshake: `new WebSocket(address, protocols,
// options)` as in ws 8 makes one ClientHandshake, which owns the HTTP
// request(s) (through Node's http/https `request`, so the `upgrade`,
// `unexpected-response` and `redirect` events and agents work as in ws), the
// redirects and the timeout. Once the 101 is verified the socket is handed to
// the WebSocket (_open), in the client role: every frame it sends is masked
// with a fresh key from a CSPRNG-filled pool (lib/connection/sender.js), and
// a masked frame from the server fails the connection with 1002. A failure
// goes through the WebSocket's one failure path (_failOpening).

const crypto = require('node:crypto');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const querystring = require('node:querystring');
const tls = require('node:tls');
const { addon, call } = require('../native');
const deflate = require('../permessage-deflate');
const { CONNECTING, NOOP } = require('../constants');
const { DEFAULTS, checkNumber, checkObject, connectionOptions } = require('../options');
const { rangeError, handshakeError, syntaxError } = require('../errors');
const { setClientOpener } = require('../connection/websocket');

// 8 is hybi-08 (framing as 13; the origin goes in Sec-WebSocket-Origin), as in ws.
const PROTOCOL_VERSIONS = [8, DEFAULTS.protocolVersion];
// RFC 6455 §4.1: a subprotocol is a token (RFC 7230 §3.2.6).
const SUBPROTOCOL = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;
const kAborted = Symbol('native-ws.aborted');

/**
 * Checks the client's arguments and options and fills in the defaults.
 * @param {string|string[]|object} [protocols] subprotocols, or the options
 * @param {object} [options] see ClientOptions in index.d.ts
 */
function clientSettings(protocols, options) {
  if (typeof protocols === 'object' && protocols !== null && !Array.isArray(protocols)) {
    options = protocols;
    protocols = undefined;
  }
  if (options === undefined || options === null) options = {};
  checkObject(options);
  // Without the argument, the `protocols` option (ws 8.22) gives the subprotocols.
  if (protocols === undefined) protocols = options.protocols === undefined ? [] : options.protocols;
  if (!Array.isArray(protocols)) protocols = [protocols];

  const protocolVersion = options.protocolVersion === undefined ? DEFAULTS.protocolVersion : options.protocolVersion;
  if (!PROTOCOL_VERSIONS.includes(protocolVersion)) {
    throw rangeError(`Unsupported protocol version: ${protocolVersion} (supported versions: ${PROTOCOL_VERSIONS.join(', ')})`);
  }
  const protocolSet = new Set();
  for (const protocol of protocols) {
    if (typeof protocol !== 'string' || !SUBPROTOCOL.test(protocol) || protocolSet.has(protocol)) {
      throw syntaxError('An invalid or duplicated subprotocol was specified');
    }
    protocolSet.add(protocol);
  }
  const handshakeTimeout = options.handshakeTimeout === undefined ? DEFAULTS.clientHandshakeTimeout : options.handshakeTimeout;
  checkNumber(handshakeTimeout, 'handshakeTimeout');
  const maxRedirects = options.maxRedirects === undefined ? DEFAULTS.maxRedirects : options.maxRedirects;
  checkNumber(maxRedirects, 'maxRedirects');
  const deflateOptions = deflate.normalizeOptions(
    options.perMessageDeflate === undefined ? DEFAULTS.clientPerMessageDeflate : options.perMessageDeflate
  );

  return {
    protocolVersion,
    protocols,
    options,
    handshakeTimeout,
    followRedirects: !!options.followRedirects,
    maxRedirects,
    connection: connectionOptions(options),
    deflateOptions,
    deflateOffer: deflateOptions ? call(addon.deflateClientOffer, deflateOptions) : undefined,
    // A copy of the user's headers (redirects may drop some of them).
    headers: { ...options.headers },
  };
}

/**
 * One client WebSocket's opening handshake: its requests (one more per
 * redirect), the timeout, the checks of the 101. The WebSocket holds it
 * until the handshake ends and calls abort() on close()/terminate().
 */
class ClientHandshake {
  /**
   * @param {import('../connection/websocket').WebSocket} websocket
   * @param {string|URL} address ws:, wss:, http:, https: or ws+unix: URL (see start())
   * @param {string|string[]|object} [protocols]
   * @param {object} [options]
   */
  constructor(websocket, address, protocols, options) {
    Object.assign(this, clientSettings(protocols, options));
    this.websocket = websocket;
    this.redirects = 0;
    // The first request's destination, for the credential rules of redirects.
    this.original = null;
    // The request in flight: { req, socket, timer }.
    this.attempt = null;
  }

  /**
   * Sends the first request (once the WebSocket holds this handshake, so
   * that `finishRequest` sees `ws._req`). Throws for a bad address.
   * @param {string|URL} address
   */
  start(address) {
    openRequest(this, address);
  }

  /** The HTTP request in flight until the server's answer arrives, or null. */
  get request() {
    const attempt = this.attempt;
    return attempt !== null && attempt.socket === null ? attempt.req : null;
  }

  /**
   * Gives up (close() or terminate() before 'open').
   * @param {string} message
   */
  abort(message) {
    if (this.attempt) abortHandshake(this, this.attempt, message);
  }
}

/**
 * One HTTP request of the handshake (there is one more per redirect).
 * Throws for a bad address on the first request; later ones fail the WebSocket.
 */
function openRequest(state, address) {
  const { websocket } = state;
  let url;
  try {
    url = address instanceof URL ? new URL(address.href) : new URL(address);
  } catch {
    return invalidAddress(state, syntaxError(`Invalid URL: ${address}`));
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  websocket._url = url.href;

  const isSecure = url.protocol === 'wss:';
  const isIpc = url.protocol === 'ws+unix:';
  if (url.protocol !== 'ws:' && !isSecure && !isIpc) {
    return invalidAddress(state, syntaxError('The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"'));
  }
  if (isIpc && !url.pathname) return invalidAddress(state, syntaxError("The URL's pathname is empty"));
  if (url.hash) return invalidAddress(state, syntaxError('The URL contains a fragment identifier'));

  const { options } = state;
  const key = crypto.randomBytes(16).toString('base64');
  const defaultPort = isSecure ? 443 : 80;
  const headers = { ...state.headers };
  const opts = {
    ...options,
    createConnection: options.createConnection || (isSecure ? tlsConnect : netConnect),
    defaultPort: options.defaultPort || defaultPort,
    port: url.port || defaultPort,
    host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    path: url.pathname + url.search,
    method: 'GET',
    socketPath: undefined,
    hostname: undefined,
    protocol: undefined,
    protocols: undefined,
    timeout: undefined,
    headers,
  };
  if (isIpc) {
    const colon = opts.path.indexOf(':');
    opts.socketPath = colon === -1 ? opts.path : opts.path.slice(0, colon);
    opts.path = colon === -1 ? '' : opts.path.slice(colon + 1);
  }

  if (state.redirects === 0) {
    state.original = { ipc: isIpc, secure: isSecure, hostOrSocketPath: isIpc ? opts.socketPath : url.host };
  } else if (websocket.listenerCount('redirect') === 0) {
    // As ws (and curl): credentials do not follow a redirect to another host or from wss: to ws:.
    const original = state.original;
    const sameHost = isIpc
      ? original.ipc && opts.socketPath === original.hostOrSocketPath
      : !original.ipc && url.host === original.hostOrSocketPath;
    if (!sameHost || (original.secure && !isSecure)) {
      setHeader(headers, 'Authorization', undefined);
      setHeader(headers, 'Cookie', undefined);
      if (!sameHost) setHeader(headers, 'Host', undefined);
      opts.auth = undefined;
    }
  }
  if ((url.username || url.password) && getHeader(headers, 'authorization') === undefined) {
    const credentials = `${querystring.unescape(url.username)}:${querystring.unescape(url.password)}`;
    setHeader(headers, 'Authorization', `Basic ${Buffer.from(credentials).toString('base64')}`);
    // The first URL's credentials stay for same-host redirects, as in ws.
    if (state.followRedirects && state.redirects === 0) {
      setHeader(state.headers, 'Authorization', getHeader(headers, 'authorization'));
    }
  }
  if (options.origin) setHeader(headers, state.protocolVersion < 13 ? 'Sec-WebSocket-Origin' : 'Origin', options.origin);
  setHeader(headers, 'Sec-WebSocket-Extensions', state.deflateOffer);
  setHeader(headers, 'Sec-WebSocket-Protocol', state.protocols.length ? state.protocols.join(',') : undefined);
  setHeader(headers, 'Sec-WebSocket-Version', String(state.protocolVersion));
  setHeader(headers, 'Sec-WebSocket-Key', key);
  setHeader(headers, 'Connection', 'Upgrade');
  setHeader(headers, 'Upgrade', 'websocket');

  const request = isSecure ? https.request : http.request;
  const req = request(opts);
  const attempt = { req, socket: null, timer: null };
  state.attempt = attempt;
  if (state.redirects > 0) websocket.emit('redirect', websocket._url, req);

  if (state.handshakeTimeout > 0) {
    attempt.timer = setTimeout(() => abortHandshake(state, attempt, 'Opening handshake has timed out'), state.handshakeTimeout);
  }

  req.on('error', (err) => {
    if (req[kAborted] || websocket.readyState !== CONNECTING) return;
    clearTimeout(attempt.timer);
    state.attempt = null;
    websocket._failOpening(err, null);
  });

  req.on('response', (res) => {
    if (req[kAborted] || websocket.readyState !== CONNECTING) return;
    clearTimeout(attempt.timer);
    const location = res.headers.location;
    const status = res.statusCode;
    if (location && state.followRedirects && status >= 300 && status < 400) {
      if (++state.redirects > state.maxRedirects) {
        abortHandshake(state, attempt, 'Maximum redirects exceeded');
        return;
      }
      req[kAborted] = true;
      req.destroy();
      let next;
      try {
        next = new URL(location, url);
      } catch {
        state.attempt = null;
        websocket._failOpening(syntaxError(`Invalid URL: ${location}`), null);
        return;
      }
      openRequest(state, next);
    } else if (!websocket.emit('unexpected-response', req, res)) {
      // Node reports a 101 without the upgrade headers as an ordinary response.
      const message = (status === 101 && upgradeHeadersProblem(res)) || `Unexpected server response: ${status}`;
      abortHandshake(state, attempt, message, status);
    }
  });

  req.on('upgrade', (res, socket, head) => {
    clearTimeout(attempt.timer);
    attempt.socket = socket;
    websocket.emit('upgrade', res);
    // A listener of 'upgrade' may have closed the WebSocket.
    if (websocket.readyState !== CONNECTING) {
      socket.on('error', NOOP);
      socket.destroy();
      return;
    }
    let negotiated;
    try {
      negotiated = verifyAnswer(res, key, state);
    } catch (err) {
      abortHandshake(state, attempt, err.message);
      return;
    }
    state.attempt = null;
    websocket._open(
      socket,
      head,
      state.connection,
      res.headers['sec-websocket-protocol'] || '',
      negotiated ? { options: state.deflateOptions, params: negotiated } : undefined
    );
  });

  if (typeof options.finishRequest === 'function') options.finishRequest(req, websocket);
  else req.end();
}

/**
 * Every client check of the 101 (RFC 6455 §4.1, rules 1-6, and RFC 7692's
 * answer to our offer), made natively next to the server's checks.
 * @returns {object|null} the permessage-deflate parameters in force, or null
 * @throws {Error} WS_ERR_HANDSHAKE naming the broken rule
 */
function verifyAnswer(res, key, state) {
  const headers = res.headers;
  return addon.verifySwitchingProtocols(
    key,
    {
      upgrade: headers.upgrade,
      connection: headers.connection,
      accept: headers['sec-websocket-accept'],
      protocol: headers['sec-websocket-protocol'],
      extensions: headers['sec-websocket-extensions'],
    },
    state.protocols,
    state.deflateOptions || undefined
  );
}

/**
 * Why a 101 Node did not treat as an upgrade is not one (its Upgrade or
 * Connection header), or null.
 * @returns {string|null}
 */
function upgradeHeadersProblem(res) {
  try {
    addon.checkUpgradeHeaders(res.headers.upgrade, res.headers.connection);
  } catch (err) {
    return err.message;
  }
  return null;
}

/**
 * Fails the handshake: aborts the request (or destroys the upgraded socket),
 * then the WebSocket emits 'error' and 'close' (1006), as ws's abortHandshake.
 * @param {ClientHandshake} state
 * @param {object} attempt { req, socket, timer }
 * @param {string} message
 * @param {number} [statusCode] the server's answer, when it was not a 101
 */
function abortHandshake(state, attempt, message, statusCode) {
  const { websocket } = state;
  if (websocket.readyState !== CONNECTING) return;
  clearTimeout(attempt.timer);
  state.attempt = null;
  const err = handshakeError(message, statusCode);
  Error.captureStackTrace(err, abortHandshake);
  const { req, socket } = attempt;
  if (socket) {
    socket.on('error', NOOP);
    socket.destroy();
    websocket._failOpening(err, socket);
    return;
  }
  req[kAborted] = true;
  req.on('error', NOOP);
  req.destroy();
  if (req.socket && !req.socket.destroyed) req.socket.destroy();
  websocket._failOpening(err, null);
}

/** A bad address: thrown by the constructor, or an error event after a redirect. */
function invalidAddress(state, err) {
  if (state.redirects === 0) throw err;
  state.websocket._failOpening(err, null);
}

function netConnect(options) {
  options.path = options.socketPath;
  return net.connect(options);
}

function tlsConnect(options) {
  options.path = undefined;
  if (!options.servername && options.servername !== '') {
    options.servername = net.isIP(options.host) ? '' : options.host;
  }
  return tls.connect(options);
}

/** Sets (or, with undefined, removes) a header whatever the case of its existing name. */
function setHeader(headers, name, value) {
  const lower = name.toLowerCase();
  for (const existing of Object.keys(headers)) {
    if (existing.toLowerCase() === lower) delete headers[existing];
  }
  if (value !== undefined) headers[name] = value;
}

function getHeader(headers, lowerName) {
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === lowerName) return value;
  }
  return undefined;
}

setClientOpener((websocket, address, protocols, options) => new ClientHandshake(websocket, address, protocols, options));

module.exports = { ClientHandshake };
