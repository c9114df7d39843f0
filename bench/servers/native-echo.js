'use strict';
// Echo server on native-ws for the end-to-end benchmarks. MODE=accept uses net + accept().
const net = require('node:net');
const { WebSocketServer, accept } = require('../..');

const port = Number(process.env.PORT);
const deflate = process.env.DEFLATE === '1';
// ws 8's default maxFragments (16384) fails Autobahn 9.3.1/9.3.2/9.4.1/9.4.2
// (4 MiB in 64/256-byte fragments) with 1008, in ws as here; raised as the
// Autobahn anchor (ws-echo.js) raises it, unless MAX_FRAGMENTS is given.
const maxFragments = Number(process.env.MAX_FRAGMENTS || 1048576);
function echo(ws) {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
}
if (process.env.MODE === 'accept') {
  net.createServer({ backlog: 4096 }, (socket) => echo(accept(socket, { maxFragments }))).listen(port, '127.0.0.1', 4096, () => console.log('ready'));
} else {
  const wss = new WebSocketServer({ port, host: '127.0.0.1', backlog: 4096, perMessageDeflate: deflate, maxFragments }, () => console.log('ready'));
  wss.on('connection', echo);
}

require('./report-memory');
