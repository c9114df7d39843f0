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

// Memory benchmark hook: on 'rss', collect garbage (when --expose-gc) and report RSS.
if (process.send) {
  process.on('message', (message) => {
    if (message !== 'rss') return;
    if (global.gc) global.gc();
    setTimeout(() => process.send(process.memoryUsage()), 100);
  });
}

// Exit cleanly on SIGINT so --cpu-prof can write its profile.
process.on('SIGINT', () => process.exit(0));
