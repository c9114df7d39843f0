'use strict';

// What one short connection costs in JS and native code, without the kernel
// or Node's HTTP server: a server-side WebSocket of each library is set up on
// a test Duplex, receives a close frame, answers it and ends, 256 at a time;
// "bare stream" does only the Duplex part (a data listener that ends). Prints
// microseconds per connection, medians of alternated rounds.
//
//   node bench/lifecycle.js

const { BenchSocket, median } = require('./common');
const nativeWs = require('..');
const WS = require('ws');

const BATCH = 256;
const CONNECTIONS = 50000;
const ROUNDS = 5;

const closeFrame = nativeWs.encodeFrame({ opcode: 8, payload: Buffer.from([0x03, 0xe8]), mask: Buffer.from([1, 2, 3, 4]) });

const open = {
  'native-ws': (socket) => {
    const ws = new nativeWs.WebSocket(null);
    ws._setSocket(socket, undefined, { maxPayload: 0 });
    ws.on('close', () => {});
  },
  ws: (socket) => {
    const ws = new WS(null, undefined, {});
    ws.setSocket(socket, Buffer.alloc(0), { maxPayload: 0, allowSynchronousEvents: true, skipUTF8Validation: false });
    ws.on('close', () => {});
  },
  'bare stream': (socket) => {
    socket.on('data', () => socket.end());
  },
};

/** Microseconds per connection for one library. */
async function perConnection(name) {
  const start = process.hrtime.bigint();
  for (let done = 0; done < CONNECTIONS; done += BATCH) {
    const sockets = [];
    for (let i = 0; i < BATCH; i++) {
      const socket = new BenchSocket();
      open[name](socket);
      socket.push(Buffer.from(closeFrame));
      sockets.push(socket);
    }
    // The close frames are read on the next turn; then the sockets go.
    await new Promise(setImmediate);
    for (const socket of sockets) socket.destroy();
    await new Promise(setImmediate);
  }
  return Number(process.hrtime.bigint() - start) / 1000 / CONNECTIONS;
}

async function main() {
  const names = Object.keys(open);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (const name of names) await perConnection(name);
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of r % 2 ? [...names].reverse() : names) samples[name].push(await perConnection(name));
  }
  console.log('| connection life (in process) | µs per connection |');
  console.log('|---|---:|');
  for (const name of names) console.log(`| ${name} | ${median(samples[name]).toFixed(2)} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
