'use strict';

// Pieces of the opening handshake shared by WebSocketServer (requests parsed
// by Node's http module) and accept() (requests parsed natively).

const { addon } = require('./native');

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
 * Serialises response lines.
 * @param {string[]} lines
 * @returns {string}
 */
function joinLines(lines) {
  return lines.join('\r\n') + '\r\n\r\n';
}

module.exports = { abortHandshake, selectProtocol, acceptLines, joinLines };
