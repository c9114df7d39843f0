'use strict';
// The ceiling of a net.Socket design: bytes reflected as they come, one write per chunk.
const net = require('node:net');

net
  .createServer({ backlog: 4096 }, (socket) => {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => socket.write(chunk));
    socket.on('error', () => {});
  })
  .listen(Number(process.env.PORT), '127.0.0.1', 4096, () => console.log('ready'));

require('./report-memory');
