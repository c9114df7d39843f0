'use strict';

// An echo server on WebSocketServer: every message goes back as it came.
// Used for the Autobahn|Testsuite runs and the benchmarks.
//   PORT=9001 node examples/echo-server.js [--accept] [--deflate]
// With --accept it serves through net.createServer + accept() instead;
// --deflate turns permessage-deflate on.

const net = require('node:net');
const { WebSocketServer, accept } = require('..');

const port = Number(process.env.PORT || 9001);
const host = process.env.HOST || '127.0.0.1';
const options = { maxPayload: 100 * 1024 * 1024, perMessageDeflate: process.argv.includes('--deflate') };

function echo(ws) {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
}

if (process.argv.includes('--accept')) {
  net
    .createServer((socket) => echo(accept(socket, options)))
    .listen(port, host, () => console.log(`echo (accept) on ws://${host}:${port}`));
} else {
  const wss = new WebSocketServer({ port, host, ...options }, () => console.log(`echo on ws://${host}:${port}`));
  wss.on('connection', echo);
}
