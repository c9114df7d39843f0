'use strict';
// Echo server on native-ws for the end-to-end benchmarks. MODE=accept uses net + accept().
const net = require('node:net');
const { WebSocketServer, accept } = require('../..');

const port = Number(process.env.PORT);
const deflate = process.env.DEFLATE === '1';
function echo(ws) {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
}
if (process.env.MODE === 'accept') {
  net.createServer({ backlog: 4096 }, (socket) => echo(accept(socket))).listen(port, '127.0.0.1', 4096, () => console.log('ready'));
} else {
  const wss = new WebSocketServer({ port, host: '127.0.0.1', backlog: 4096, perMessageDeflate: deflate }, () => console.log('ready'));
  wss.on('connection', echo);
}

require('./report-memory');
