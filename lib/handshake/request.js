'use strict';

// Pieces of the opening handshake shared by WebSocketServer (requests parsed
// by Node's http module) and accept() (requests parsed natively).

const { addon } = require('../native');

/**
 * Writes a refusal and closes the socket.
 * @param {import('stream').Duplex} socket
 * @param {number} status
 * @param {string} message
 * @param {Record<string, string|number>} [headers] extra headers (e.g. from verifyClient)
 */
function abortHandshake(socket, status, message, headers) {
  if (socket.writable && !socket.destroyed) {
    let response = addon.errorResponse(status, message);
    if (headers) {
      const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
      const split = response.indexOf('\r\n\r\n') + 2;
      response = response.slice(0, split) + extra + response.slice(split);
    }
    socket.once('finish', () => socket.destroy());
    socket.end(response);
  } else {
    socket.destroy();
  }
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
    throw new Error(`handleProtocols returned ${JSON.stringify(chosen)}, which the client did not offer`);
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

// Words of the table addon.parseUpgradeInto fills: 9, then 4 per header (at most 100).
const LAYOUT_WORDS = 9;
const LAYOUT_TABLE_WORDS = LAYOUT_WORDS + 4 * 100;

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
   * @param {Uint32Array} table as filled by addon.parseUpgradeInto; read now, not kept
   * @param {import('stream').Duplex} socket
   */
  constructor(head, table, socket) {
    this.method = head.slice(table[2], table[3]);
    this.url = head.slice(table[4], table[5]);
    this.httpVersion = `1.${table[1]}`;
    this.socket = socket;
    const words = 4 * table[8];
    const spans = new Array(words);
    for (let i = 0; i < words; i++) spans[i] = table[LAYOUT_WORDS + i];
    this.#head = head;
    this.#spans = spans;
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
  abortHandshake,
  selectProtocol,
  acceptLines,
  joinLines,
  acceptResponse,
  UpgradeRequest,
  LAYOUT_TABLE_WORDS,
};
