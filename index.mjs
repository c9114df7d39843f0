// ESM entry of native-ws: the CommonJS module's default export plus every
// name it carries as a named export, so `import WebSocket, { WebSocketServer }
// from 'native-ws'` works as it does with ws.

import nativeWs from './index.js';

export const {
  WebSocket,
  WebSocketServer,
  Server,
  createWebSocketStream,
  accept,
  ProtocolError,
  HandshakeError,
  Sender,
  acceptKey,
  parseUpgradeRequest,
  buildAcceptResponse,
  encodeFrame,
  decodeFrame,
  encodeClose,
  decodeClose,
  FrameParser,
  Topics,
  redisBackplane,
  CONNECTING,
  OPEN,
  CLOSING,
  CLOSED,
} = nativeWs;

export default nativeWs;
