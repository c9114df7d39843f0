'use strict';

/**
 * native-ws: WebSocket server and client for Node.js whose protocol engine is
 * Rust. The package's surface: ws 8's API (WebSocket, WebSocketServer,
 * createWebSocketStream), accept() for raw sockets, ProtocolError and the
 * native primitives. Loading it wires the layers of lib/ together.
 */

const { WebSocket } = require('./lib/connection/websocket');
const { Sender } = require('./lib/connection/sender');
// Installs the client handshake under `new WebSocket(url)`.
require('./lib/handshake/client');
const { WebSocketServer } = require('./lib/websocket-server');
const { accept } = require('./lib/accept');
const { createWebSocketStream } = require('./lib/stream');
const { ProtocolError } = require('./lib/errors');
const primitives = require('./lib/primitives');
const { Topics } = require('./lib/topics');
const { redisBackplane } = require('./lib/redis-backplane');

WebSocket.WebSocket = WebSocket;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.Server = WebSocketServer;
WebSocket.accept = accept;
WebSocket.createWebSocketStream = createWebSocketStream;
WebSocket.ProtocolError = ProtocolError;
// ws's Sender, for its static frame(): code that frames a broadcast once (socket.io's adapter) checks for it.
WebSocket.Sender = Sender;
WebSocket.Topics = Topics;
WebSocket.redisBackplane = redisBackplane;
Object.assign(WebSocket, primitives);

module.exports = WebSocket;
