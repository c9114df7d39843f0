'use strict';

/**
 * native-ws: a WebSocket server for Node.js whose protocol engine is Rust.
 * The server API follows ws 8; the native primitives are exported too.
 */

const { WebSocket } = require('./lib/connection/websocket');
// Installs the client handshake under `new WebSocket(url)`.
require('./lib/handshake/client');
const { WebSocketServer } = require('./lib/websocket-server');
const { accept } = require('./lib/accept');
const { createWebSocketStream } = require('./lib/stream');
const { ProtocolError } = require('./lib/errors');
const primitives = require('./lib/primitives');

WebSocket.WebSocket = WebSocket;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.Server = WebSocketServer;
WebSocket.accept = accept;
WebSocket.createWebSocketStream = createWebSocketStream;
WebSocket.ProtocolError = ProtocolError;
Object.assign(WebSocket, primitives);

module.exports = WebSocket;
