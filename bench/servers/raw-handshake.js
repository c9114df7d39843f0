'use strict';
// The ceiling of a net.Socket design for handshakes: the least any JS server
// on net must do per connection (find the key, answer 101, answer the close
// frame, end), with no validation, no parser and no WebSocket object.
const net = require('node:net');
const crypto = require('node:crypto');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const CLOSE_1000 = Buffer.from([0x88, 0x02, 0x03, 0xe8]);

net
  .createServer({ backlog: 4096 }, (socket) => {
    let upgraded = false;
    socket.on('data', (chunk) => {
      if (!upgraded) {
        const key = /sec-websocket-key:\s*(\S+)/i.exec(chunk.toString('latin1'))[1];
        const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        upgraded = true;
        return;
      }
      socket.end(CLOSE_1000);
    });
    socket.on('error', () => {});
  })
  .listen(Number(process.env.PORT), '127.0.0.1', 4096, () => console.log('ready'));

require('./report-memory');
