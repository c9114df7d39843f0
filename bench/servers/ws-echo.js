'use strict';
// Echo server on ws 8 (with bufferutil and utf-8-validate installed) for comparison.
const { WebSocketServer } = require('ws');

const port = Number(process.env.PORT);
const deflate = process.env.DEFLATE === '1';
const wss = new WebSocketServer({ port, host: '127.0.0.1', backlog: 4096, perMessageDeflate: deflate, clientTracking: true }, () =>
  console.log('ready')
);
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});

require('./report-memory');
