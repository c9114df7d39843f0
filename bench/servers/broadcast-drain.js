'use strict';

// Subscribers for bench/broadcast.js: opens CONNECTIONS raw WebSocket
// connections to PORT (DEFLATE=1 offers permessage-deflate), then only drains:
// it walks the frame headers to count messages and never decodes a payload.
// Messages from the parent: { expect: n } answers { reached: n } once n
// messages in total have arrived (over all connections); { count } answers
// { messages }.

const net = require('node:net');
const crypto = require('node:crypto');

const PORT = Number(process.env.PORT);
const CONNECTIONS = Number(process.env.CONNECTIONS);
const OFFER = process.env.DEFLATE === '1' ? 'Sec-WebSocket-Extensions: permessage-deflate\r\n' : '';
const PARALLEL_OPENS = 200;

let messages = 0;
let expected = Infinity;

function checkExpected() {
  if (messages >= expected) {
    const reached = expected;
    expected = Infinity;
    process.send({ reached });
  }
}

/** Counts frames in a byte stream, carrying a partial header or payload across chunks. */
class FrameCounter {
  constructor() {
    this.skip = 0; // payload bytes still to skip
    this.header = null; // bytes of an incomplete header
  }

  push(chunk) {
    let at = 0;
    if (this.header !== null) {
      chunk = Buffer.concat([this.header, chunk]);
      this.header = null;
    }
    const length = chunk.length;
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, length - at);
        this.skip -= n;
        at += n;
        if (this.skip > 0) return;
      }
      if (at === length) return;
      if (length - at < 2) {
        this.header = chunk.subarray(at);
        return;
      }
      let payload = chunk[at + 1] & 0x7f;
      let headerLength = 2;
      if (payload === 126) headerLength = 4;
      else if (payload === 127) headerLength = 10;
      if (length - at < headerLength) {
        this.header = chunk.subarray(at);
        return;
      }
      if (payload === 126) payload = chunk.readUInt16BE(at + 2);
      else if (payload === 127) payload = Number(chunk.readBigUInt64BE(at + 2));
      at += headerLength;
      this.skip = payload;
      messages++;
    }
  }
}

function open() {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: PORT, host: '127.0.0.1' });
    const key = crypto.randomBytes(16).toString('base64');
    socket.setNoDelay(true);
    let head = Buffer.alloc(0);
    const counter = new FrameCounter();
    socket.on('error', reject);
    socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${OFFER}\r\n`
    );
    const onHead = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!head.subarray(0, 12).toString().includes('101')) {
        reject(new Error(`handshake refused: ${head.subarray(0, end).toString()}`));
        return;
      }
      socket.removeListener('data', onHead);
      socket.on('data', (data) => {
        counter.push(data);
        checkExpected();
      });
      const rest = head.subarray(end + 4);
      if (rest.length > 0) counter.push(rest);
      resolve(socket);
    };
    socket.on('data', onHead);
  });
}

async function main() {
  let next = 0;
  const workers = [];
  for (let w = 0; w < Math.min(PARALLEL_OPENS, CONNECTIONS); w++) {
    workers.push((async () => {
      while (next < CONNECTIONS) {
        next++;
        await open();
      }
    })());
  }
  await Promise.all(workers);
  process.send({ opened: CONNECTIONS });
}

process.on('message', (msg) => {
  if (msg.expect !== undefined) {
    expected = msg.expect;
    checkExpected();
  } else if (msg.count) {
    process.send({ messages });
  }
});

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
