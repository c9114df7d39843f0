'use strict';

/**
 * native-ws: a WebSocket server for Node.js whose protocol engine is Rust.
 * The server API follows ws 8; the native primitives are exported too.
 */

const { WebSocket } = require('./lib/websocket');
const { WebSocketServer } = require('./lib/websocket-server');
const { accept } = require('./lib/accept');
const { createWebSocketStream } = require('./lib/stream');
const { ProtocolError } = require('./lib/native');
const primitives = require('./lib/primitives');
const { Topics } = require('./lib/topics');
const { redisBackplane } = require('./lib/redis-backplane');

WebSocket.WebSocket = WebSocket;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.Server = WebSocketServer;
WebSocket.accept = accept;
WebSocket.createWebSocketStream = createWebSocketStream;
WebSocket.ProtocolError = ProtocolError;
WebSocket.Topics = Topics;
WebSocket.redisBackplane = redisBackplane;
Object.assign(WebSocket, primitives);

module.exports = WebSocket;
