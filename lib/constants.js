'use strict';

module.exports = {
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3,
  READY_STATES: ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'],
  BINARY_TYPES: ['nodebuffer', 'arraybuffer', 'fragments'],
  EMPTY_BUFFER: Buffer.alloc(0),
  DEFAULT_MAX_PAYLOAD: 100 * 1024 * 1024,
  DEFAULT_CLOSE_TIMEOUT: 30 * 1000,
  // After the close frames are exchanged and our FIN is sent: how long the peer gets to close TCP.
  DEFAULT_CLOSE_GRACE_TIMEOUT: 3 * 1000,
  DEFAULT_HANDSHAKE_TIMEOUT: 10 * 1000,
  DEFAULT_MAX_HEADER_BYTES: 16 * 1024,
  kWebSocket: Symbol('native-ws.websocket'),
  NOOP: () => {},
};
