'use strict';

// The client side: `new WebSocket(url, protocols, options)`. Not implemented yet.

/**
 * Starts the opening handshake of a client WebSocket.
 * @param {import('./websocket').WebSocket} websocket
 * @param {string|URL} address
 * @param {string|string[]} [protocols]
 * @param {object} [options]
 */
function initAsClient(websocket, address, protocols, options) {
  const err = new Error('native-ws: the client side (new WebSocket(url)) is not implemented yet');
  err.code = 'ERR_NATIVE_WS_NO_CLIENT';
  throw err;
}

module.exports = { initAsClient };
