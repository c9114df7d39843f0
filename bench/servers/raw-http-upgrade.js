'use strict';
// The ceiling of a server on Node's http 'upgrade' event (as WebSocketServer
// and ws are): the least it must do per connection once http has parsed the
// request (answer 101, answer the close frame, end), with no validation, no
// parser and no WebSocket object.
const http = require('node:http');
const crypto = require('node:crypto');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const CLOSE_1000 = Buffer.from([0x88, 0x02, 0x03, 0xe8]);

const server = http.createServer((req, res) => {
  res.writeHead(426);
  res.end();
});
server.on('upgrade', (req, socket) => {
  const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  socket.on('data', () => socket.end(CLOSE_1000));
  socket.on('error', () => {});
});
server.listen(Number(process.env.PORT), '127.0.0.1', 4096, () => console.log('ready'));

require('./report-memory');
