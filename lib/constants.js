'use strict';

// Fixed values of the WebSocket object: ready states, binary types, and the
// symbol that links a socket to its WebSocket. Defaults live in options.js.

module.exports = {
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3,
  READY_STATES: ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'],
  BINARY_TYPES: ['nodebuffer', 'arraybuffer', 'fragments', 'blob'],
  EMPTY_BUFFER: Buffer.alloc(0),
  kWebSocket: Symbol('native-ws.websocket'),
  NOOP: () => {},
};
