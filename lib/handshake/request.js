'use strict';

// The request side of the server handshake: the native validation of a
// request Node's http module parsed (or a framework's test tool built), the
// native parse of a raw request
// (accept()) into an UpgradeRequest, both giving one `parsed` shape to the
// handshake (lib/handshake/server.js); subprotocol selection; the 101 and
// refusal responses.

const http = require('node:http');
const { addon } = require('../native');
const { usageError } = require('../errors');
const { newUpgradeTable, upgradeBytesUsed, readUpgradeLayout } = require('../abi');

const NO_PROTOCOLS = [];

/**
 * Validates an upgrade request Node's http module parsed, or one a web
 * framework's in-process test tool built (`method`, `url` and `headers`
 * only, values possibly numbers): one native call. As ws, it sees what
 * `req.headers` holds, so what a middleware changed there counts, and
 * `server.maxHeadersCount` limits what is seen.
 * @param {import('http').IncomingMessage | { method: string, url: string, headers: object }} req
 * @returns {{ status: number, message?: string, headers?: object, key?: string, protocols?: string[], extensions?: string, protocolRefusal?: object }}
 *   status 0 with the key, offered subprotocols and extension header, or the refusal
 */
function validateParsedRequest(req) {
  const version = httpVersionCode(req);
  const method = String(req.method);
  const raw = untouchedRawHeaders(req) || flattenHeaders(req.headers);
  // One joined string crosses to the native side faster than one per header;
  // null only if a value held a newline, which Node's HTTP parser refuses
  // (a hand-made request may not).
  let check = addon.validateUpgradeJoined(method, version, raw.join('\n'), raw.length);
  if (check === null) check = addon.validateUpgrade(method, version, raw);
  // The key alone for a valid request that offers no subprotocol and no extension.
  if (typeof check === 'string') return { status: 0, key: check, protocols: NO_PROTOCOLS, extensions: undefined, protocolRefusal: undefined };
  return check;
}

// Node builds req.headers from req.rawHeaders on first read, and keeps it
// under a private symbol that stays null until then; a second one holds how
// many rawHeaders entries it reads (maxHeadersCount). While nobody has read
// or set req.headers, its contents are exactly those raw lines, which the
// native check reads as it would the joined object (a repeated header is
// seen as one comma-joined value either way), and building the object, the
// dearest part of a handshake's JS, is left to whoever reads it. Found once,
// by name, on the first IncomingMessage; without them (another Node, or a
// request object that is not an IncomingMessage) req.headers is read.
let headerSymbols;

/**
 * The lines req.headers would be built from, if it has not been read or set yet.
 * @param {object} req
 * @returns {string[]|null} null: read req.headers instead
 */
function untouchedRawHeaders(req) {
  if (headerSymbols === undefined) {
    if (!(req instanceof http.IncomingMessage)) return null;
    headerSymbols = findHeaderSymbols(req);
  }
  if (headerSymbols === null || req[headerSymbols.headers] !== null) return null;
  const raw = req.rawHeaders;
  const count = req[headerSymbols.count];
  if (!Array.isArray(raw) || typeof count !== 'number') return null;
  return count < raw.length ? raw.slice(0, count) : raw;
}

/**
 * Node's private symbols for req.headers and its count of raw entries, or
 * null when this Node has no such pair (then req.headers is always read).
 * @param {import('http').IncomingMessage} req
 */
function findHeaderSymbols(req) {
  const own = Object.getOwnPropertySymbols(req);
  const headers = own.find((symbol) => symbol.description === 'kHeaders');
  const count = own.find((symbol) => symbol.description === 'kHeadersCount');
  return headers !== undefined && count !== undefined && typeof req[headers] === 'object' && typeof req[count] === 'number' ? { headers, count } : null;
}

/**
 * The HTTP version as the native check takes it (minor + 10 × (major − 1):
 * 1 for HTTP/1.1, 0 for HTTP/1.0): from httpVersionMajor/Minor, else the
 * httpVersion string; HTTP/1.1 when the request object has neither.
 * @param {object} req
 * @returns {number}
 */
function httpVersionCode(req) {
  let major = req.httpVersionMajor;
  let minor = req.httpVersionMinor;
  if (typeof major !== 'number' || typeof minor !== 'number') {
    const match = /^(\d+)\.(\d+)$/.exec(typeof req.httpVersion === 'string' ? req.httpVersion : '');
    if (match === null) return 1;
    major = Number(match[1]);
    minor = Number(match[2]);
  }
  return Math.max(0, Math.min(255, minor + 10 * (major - 1)));
}

/**
 * A headers object as flat [name, value, …]: an array value gives one line
 * per element, other values are converted with String() (a test tool may
 * give Sec-WebSocket-Version as the number 13); undefined values are left out.
 * @param {object} [headers]
 * @returns {string[]}
 */
function flattenHeaders(headers) {
  const raw = [];
  if (headers === null || typeof headers !== 'object') return raw;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      for (const item of value) raw.push(name, String(item));
    } else {
      raw.push(name, String(value));
    }
  }
  return raw;
}

/**
 * Parses a raw upgrade request from the bytes received so far (one native call).
 * @param {Buffer} buffer
 * @param {number} maxHeaderBytes
 * @param {import('stream').Duplex} socket becomes the request's `socket`
 * @returns {null | { parsed: object, req: UpgradeRequest|null, bytesUsed: number }}
 *   null while the header block is incomplete; `parsed` as validateParsedRequest's
 */
function parseRawRequest(buffer, maxHeaderBytes, socket) {
  const result = addon.parseUpgradeInto(buffer, maxHeaderBytes, layout);
  if (result === 0) return null;
  if (result !== 1 && result.status !== 0) return { parsed: result, req: null, bytesUsed: 0 };
  const bytesUsed = upgradeBytesUsed(layout);
  const head = buffer.latin1Slice(0, bytesUsed);
  const parts = readUpgradeLayout(layout, head);
  const key = parts.key;
  const req = new UpgradeRequest(head, parts, socket);
  const parsed = result === 1
    ? { status: 0, key, protocols: NO_PROTOCOLS, extensions: undefined, protocolRefusal: undefined }
    : { status: 0, key, protocols: result.protocols, extensions: result.extensions, protocolRefusal: result.protocolRefusal };
  return { parsed, req, bytesUsed };
}

/**
 * Answers a refused request with an HTTP error response as ws writes it
 * (Connection: close, Content-Type, Content-Length, `headers`, the message
 * as body) and closes the socket. A header that would break the response
 * (CR/LF in a value, a name that is not a token) throws a TypeError, after
 * the socket is destroyed.
 * @param {import('stream').Duplex} socket
 * @param {number} status
 * @param {string} message
 * @param {Record<string, string|number>} [headers] extra headers (verifyClient's, or Sec-WebSocket-Version)
 */
function writeRefusal(socket, status, message, headers) {
  if (!socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  let response;
  try {
    response = addon.errorResponse(status, http.STATUS_CODES[status], message, headers ? flattenHeaders(headers) : undefined);
  } catch (err) {
    socket.destroy();
    throw err;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(response);
}

/**
 * The request did not arrive within handshakeTimeout: a 408 unless a response
 * is still being written (as Node's request timeout), and the socket destroyed
 * at once, not after 'finish', which a client that does not read could hold back.
 * @param {import('stream').Duplex} socket
 */
function writeTimeoutRefusal(socket) {
  if (socket.writable && socket.writableLength === 0) socket.write(addon.errorResponse(408, http.STATUS_CODES[408], http.STATUS_CODES[408]));
  socket.destroy();
}

/**
 * Chooses the subprotocol as ws 8 does: `handleProtocols(protocols, req)`,
 * or the client's first offer when there is no handler.
 * @param {Function|undefined} handleProtocols
 * @param {string[]} offered
 * @param {object} req
 * @returns {string} '' for none
 */
function selectProtocol(handleProtocols, offered, req) {
  if (offered.length === 0) return '';
  if (typeof handleProtocols !== 'function') return offered[0];
  const chosen = handleProtocols(new Set(offered), req);
  if (chosen === false || chosen === undefined || chosen === null) return '';
  if (!offered.includes(chosen)) {
    throw usageError(`handleProtocols returned ${JSON.stringify(chosen)}, which the client did not offer`);
  }
  return chosen;
}

/**
 * The 101 response's lines (status line first), ready for a `headers` event.
 * @param {string} key
 * @param {string} protocol
 * @param {string} [extensions]
 * @returns {string[]}
 */
function acceptLines(key, protocol, extensions) {
  return addon.acceptResponseLines(key, protocol || undefined, extensions || undefined);
}

/**
 * The complete 101 response (what joinLines(acceptLines(…)) gives), built in one native call.
 * @param {string} key
 * @param {string} protocol
 * @param {string} [extensions]
 * @returns {string}
 */
function acceptResponse(key, protocol, extensions) {
  return addon.acceptResponse(key, protocol || undefined, extensions || undefined);
}

// Filled by addon.parseUpgradeInto and read at once (lib/abi.js); shared by all handshakes.
const layout = newUpgradeTable();

/**
 * The request accept() parsed, as a minimal IncomingMessage-like object:
 * `method`, `url`, `httpVersion`, `headers`, `rawHeaders`, `socket`. It holds
 * the header block as one Latin-1 string and where each header lies in it;
 * `rawHeaders` and `headers` are built on first use (names lower-cased,
 * repeated headers joined with ', ', as before).
 */
class UpgradeRequest {
  #head;
  #spans;
  #rawHeaders = undefined;
  #headers = undefined;

  /**
   * @param {string} head the header block (Latin-1)
   * @param {{ method: string, url: string, httpVersion: string, spans: number[] }} parts as lib/abi.js readUpgradeLayout gives them
   * @param {import('stream').Duplex} socket
   */
  constructor(head, parts, socket) {
    this.method = parts.method;
    this.url = parts.url;
    this.httpVersion = parts.httpVersion;
    this.socket = socket;
    this.#head = head;
    this.#spans = parts.spans;
  }

  /** @type {string[]} */
  get rawHeaders() {
    if (this.#rawHeaders === undefined) {
      const head = this.#head;
      const spans = this.#spans;
      const raw = new Array(spans.length / 2);
      for (let i = 0; i < spans.length; i += 2) raw[i / 2] = head.slice(spans[i], spans[i + 1]);
      this.#rawHeaders = raw;
    }
    return this.#rawHeaders;
  }

  set rawHeaders(value) {
    this.#rawHeaders = value;
  }

  /** @type {Record<string, string>} */
  get headers() {
    if (this.#headers === undefined) {
      const headers = {};
      const raw = this.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i].toLowerCase();
        headers[name] = name in headers ? `${headers[name]}, ${raw[i + 1]}` : raw[i + 1];
      }
      this.#headers = headers;
    }
    return this.#headers;
  }

  set headers(value) {
    this.#headers = value;
  }
}

for (const name of ['rawHeaders', 'headers']) {
  Object.defineProperty(UpgradeRequest.prototype, name, { enumerable: true });
}

/**
 * Serialises response lines.
 * @param {string[]} lines
 * @returns {string}
 */
function joinLines(lines) {
  return lines.join('\r\n') + '\r\n\r\n';
}

module.exports = {
  writeTimeoutRefusal,
  validateParsedRequest,
  parseRawRequest,
  writeRefusal,
  selectProtocol,
  acceptLines,
  joinLines,
  acceptResponse,
  UpgradeRequest,
};
