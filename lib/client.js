'use strict';

// The client side: `new WebSocket(address, protocols, options)` as in ws 8.
// The opening handshake goes through Node's http/https `request` (so the
// `upgrade`, `unexpected-response` and `redirect` events and agents work as
// in ws); once the 101 is verified the socket is handed to the same
// WebSocket machinery the server uses, in the client role: every frame we
// send is masked natively with a fresh key from crypto.randomBytes, and a
// masked frame from the server fails the connection with 1002.

const crypto = require('node:crypto');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const querystring = require('node:querystring');
const tls = require('node:tls');
const { addon, call } = require('./native');
const deflate = require('./permessage-deflate');
const { CONNECTING, CLOSING, NOOP } = require('./constants');

// 8 is hybi-08 (framing as 13; the origin goes in Sec-WebSocket-Origin), as in ws.
const PROTOCOL_VERSIONS = [8, 13];
// RFC 6455 §4.1: a subprotocol is a token (RFC 7230 §3.2.6).
const SUBPROTOCOL = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;
const DEFAULT_MAX_REDIRECTS = 10;
const kAborted = Symbol('native-ws.aborted');

/**
 * Starts the opening handshake of a client WebSocket. Called by the
 * WebSocket constructor with `websocket._isServer` already false.
 * @param {import('./websocket').WebSocket} websocket
 * @param {string|URL} address ws:, wss:, http:, https: or ws+unix: URL
 * @param {string|string[]|object} [protocols] subprotocols, or the options
 * @param {object} [options] see ClientOptions in index.d.ts
 */
function initAsClient(websocket, address, protocols, options) {
  if (typeof protocols === 'object' && protocols !== null && !Array.isArray(protocols)) {
    options = protocols;
    protocols = undefined;
  }
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw typeError('options: must be an object');
  // Without the argument, the `protocols` option (ws 8.22) gives the subprotocols.
  if (protocols === undefined) protocols = options.protocols === undefined ? [] : options.protocols;
  if (!Array.isArray(protocols)) protocols = [protocols];

  const protocolVersion = options.protocolVersion === undefined ? 13 : options.protocolVersion;
  if (!PROTOCOL_VERSIONS.includes(protocolVersion)) {
    const err = new RangeError(
      `Unsupported protocol version: ${protocolVersion} (supported versions: ${PROTOCOL_VERSIONS.join(', ')})`
    );
    err.code = 'ERR_OUT_OF_RANGE';
    throw err;
  }
  const protocolSet = new Set();
  for (const protocol of protocols) {
    if (typeof protocol !== 'string' || !SUBPROTOCOL.test(protocol) || protocolSet.has(protocol)) {
      throw new SyntaxError('An invalid or duplicated subprotocol was specified');
    }
    protocolSet.add(protocol);
  }
  const handshakeTimeout = options.handshakeTimeout === undefined ? 0 : options.handshakeTimeout;
  checkNonNegative(handshakeTimeout, 'handshakeTimeout');
  const maxRedirects = options.maxRedirects === undefined ? DEFAULT_MAX_REDIRECTS : options.maxRedirects;
  checkNonNegative(maxRedirects, 'maxRedirects');
  const deflateOptions = deflate.normalizeOptions(options.perMessageDeflate === undefined ? true : options.perMessageDeflate);

  const state = {
    protocolVersion,
    protocols,
    protocolSet,
    options,
    handshakeTimeout,
    followRedirects: !!options.followRedirects,
    maxRedirects,
    connection: connectionSettings(options),
    deflateOptions,
    deflateOffer: deflateOptions ? call(addon.deflateClientOffer, deflateOptions) : undefined,
    // A copy of the user's headers (redirects may drop some of them).
    headers: { ...options.headers },
    original: null,
    attempt: null,
  };
  websocket._redirects = 0;
  websocket._req = null;
  websocket._abortConnecting = (message) => {
    const attempt = state.attempt;
    if (attempt) abortHandshake(websocket, attempt, message);
  };
  openRequest(websocket, address, state);
}

/**
 * One HTTP request of the handshake (there is one more per redirect).
 * Throws for a bad address on the first request; later ones fail the WebSocket.
 */
function openRequest(websocket, address, state) {
  let url;
  try {
    url = address instanceof URL ? new URL(address.href) : new URL(address);
  } catch {
    return invalidAddress(websocket, new SyntaxError(`Invalid URL: ${address}`));
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  websocket._url = url.href;

  const isSecure = url.protocol === 'wss:';
  const isIpc = url.protocol === 'ws+unix:';
  if (url.protocol !== 'ws:' && !isSecure && !isIpc) {
    return invalidAddress(websocket, new SyntaxError('The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"'));
  }
  if (isIpc && !url.pathname) return invalidAddress(websocket, new SyntaxError("The URL's pathname is empty"));
  if (url.hash) return invalidAddress(websocket, new SyntaxError('The URL contains a fragment identifier'));

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

  if (websocket._redirects === 0) {
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
    if (state.followRedirects && websocket._redirects === 0) {
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
  websocket._req = req;
  if (websocket._redirects > 0) websocket.emit('redirect', websocket._url, req);

  if (state.handshakeTimeout > 0) {
    attempt.timer = setTimeout(() => abortHandshake(websocket, attempt, 'Opening handshake has timed out'), state.handshakeTimeout);
  }

  req.on('error', (err) => {
    if (req[kAborted] || websocket.readyState !== CONNECTING) return;
    settle(websocket, attempt);
    emitErrorAndClose(websocket, err);
  });

  req.on('response', (res) => {
    if (req[kAborted] || websocket.readyState !== CONNECTING) return;
    clearTimeout(attempt.timer);
    const location = res.headers.location;
    const status = res.statusCode;
    if (location && state.followRedirects && status >= 300 && status < 400) {
      if (++websocket._redirects > state.maxRedirects) {
        abortHandshake(websocket, attempt, 'Maximum redirects exceeded');
        return;
      }
      req[kAborted] = true;
      req.destroy();
      let next;
      try {
        next = new URL(location, url);
      } catch {
        settle(websocket, attempt);
        emitErrorAndClose(websocket, new SyntaxError(`Invalid URL: ${location}`));
        return;
      }
      openRequest(websocket, next, state);
    } else if (!websocket.emit('unexpected-response', req, res)) {
      // Node reports a 101 without the upgrade headers as an ordinary response.
      const message = (status === 101 && upgradeHeadersProblem(res)) || `Unexpected server response: ${status}`;
      abortHandshake(websocket, attempt, message, { statusCode: status });
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
    websocket._req = null;
    const problem = checkResponse(res, key, state);
    if (problem) {
      abortHandshake(websocket, attempt, problem);
      return;
    }
    const negotiated = res.headers['sec-websocket-extensions'] === undefined
      ? undefined
      : acceptExtensions(res.headers['sec-websocket-extensions'], state.deflateOptions);
    if (typeof negotiated === 'string') {
      abortHandshake(websocket, attempt, negotiated);
      return;
    }
    state.attempt = null;
    delete websocket._abortConnecting;
    websocket._setSocket(socket, head, {
      ...state.connection,
      protocol: res.headers['sec-websocket-protocol'] || '',
      deflate: negotiated ? { options: state.deflateOptions, params: negotiated } : undefined,
    });
    websocket.emit('open');
  });

  if (typeof options.finishRequest === 'function') options.finishRequest(req, websocket);
  else req.end();
}

/**
 * What is wrong with a 101 response (RFC 6455 §4.1, client rules 1-6), or null.
 * @returns {string|null}
 */
function checkResponse(res, key, state) {
  const problem = upgradeHeadersProblem(res);
  if (problem) return problem;
  if (res.headers['sec-websocket-accept'] !== addon.acceptKey(key)) return 'Invalid Sec-WebSocket-Accept header';
  const protocol = res.headers['sec-websocket-protocol'];
  if (protocol !== undefined) {
    if (!state.protocolSet.size) return 'Server sent a subprotocol but none was requested';
    if (!state.protocolSet.has(protocol)) return 'Server sent an invalid subprotocol';
  } else if (state.protocolSet.size) {
    return 'Server sent no subprotocol';
  }
  return null;
}

/** `Upgrade: websocket` and `Connection: Upgrade` are required (RFC 6455 §4.1). */
function upgradeHeadersProblem(res) {
  const upgrade = res.headers.upgrade;
  if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') return 'Invalid Upgrade header';
  const connection = res.headers.connection;
  if (connection === undefined || !connection.split(',').some((token) => token.trim().toLowerCase() === 'upgrade')) {
    return 'Invalid Connection header';
  }
  return null;
}

/**
 * Checks the server's Sec-WebSocket-Extensions against our offer natively.
 * @returns {object|string} the deflate params in force, or the failure message
 */
function acceptExtensions(header, deflateOptions) {
  if (!deflateOptions) return 'Server sent a Sec-WebSocket-Extensions header but no extension was requested';
  const result = addon.acceptDeflateResponse(header, deflateOptions);
  if (!result.ok) return `Invalid Sec-WebSocket-Extensions header: ${result.message}`;
  return {
    serverNoContextTakeover: result.serverNoContextTakeover,
    clientNoContextTakeover: result.clientNoContextTakeover,
    serverMaxWindowBits: result.serverMaxWindowBits,
    clientMaxWindowBits: result.clientMaxWindowBits,
  };
}

/** The handshake of this attempt is over (failed): no timer, no more aborts. */
function settle(websocket, attempt) {
  clearTimeout(attempt.timer);
  websocket._req = null;
}

/**
 * Fails the handshake: aborts the request (or destroys the upgraded socket),
 * then emits 'error' and 'close' (1006), as ws's abortHandshake.
 * @param {object} attempt { req, socket, timer }
 * @param {string} message
 * @param {object} [extra] properties for the error (statusCode)
 */
function abortHandshake(websocket, attempt, message, extra) {
  if (websocket.readyState !== CONNECTING) return;
  websocket._readyState = CLOSING;
  settle(websocket, attempt);
  const err = new Error(message);
  Error.captureStackTrace(err, abortHandshake);
  err.code = 'WS_ERR_HANDSHAKE';
  if (extra) Object.assign(err, extra);
  const { req, socket } = attempt;
  if (socket) {
    socket.on('error', NOOP);
    socket.destroy();
    if (socket.closed) process.nextTick(emitErrorAndClose, websocket, err);
    else socket.once('close', () => emitErrorAndClose(websocket, err));
    return;
  }
  req[kAborted] = true;
  req.on('error', NOOP);
  req.destroy();
  if (req.socket && !req.socket.destroyed) req.socket.destroy();
  process.nextTick(emitErrorAndClose, websocket, err);
}

/**
 * 'error' then 'close' with 1006. A client that could not connect says so even
 * with no 'error' listener: the unhandled 'error' throws, as in ws.
 */
function emitErrorAndClose(websocket, err) {
  websocket._readyState = CLOSING;
  websocket.emit('error', err);
  websocket._emitClose();
}

/** A bad address: thrown by the constructor, or an error event after a redirect. */
function invalidAddress(websocket, err) {
  if (websocket._redirects === 0) throw err;
  emitErrorAndClose(websocket, err);
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

/**
 * Per-connection options (maxPayload, closeTimeout, autoPong, …) checked the
 * way the server side checks them.
 */
function connectionSettings(options) {
  const { connectionOptions } = require('./websocket');
  if (typeof connectionOptions === 'function') return connectionOptions(options);
  const picked = {};
  for (const name of ['maxPayload', 'closeTimeout']) {
    if (options[name] !== undefined) {
      checkNonNegative(options[name], name);
      picked[name] = options[name];
    }
  }
  if (options.autoPong !== undefined) picked.autoPong = !!options.autoPong;
  return picked;
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

function checkNonNegative(value, name) {
  if (typeof value !== 'number' || Number.isNaN(value)) throw typeError(`${name}: must be a number`);
  if (value < 0) {
    const err = new RangeError(`${name}: must be >= 0, got ${value}`);
    err.code = 'ERR_OUT_OF_RANGE';
    throw err;
  }
}

function typeError(message) {
  const err = new TypeError(message);
  err.code = 'ERR_INVALID_ARG_TYPE';
  return err;
}

module.exports = { initAsClient };
