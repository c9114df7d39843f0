'use strict';

// Shared pieces of the benchmarks: the test Duplex, input generation,
// server-side WebSockets of each library over a Duplex, and statistics.

const { Duplex } = require('node:stream');
const crypto = require('node:crypto');
const nativeWs = require('..');
const WS = require('ws');

/** A Duplex standing in for a socket: reads are pushed, writes are counted. */
class BenchSocket extends Duplex {
  constructor() {
    super();
    this.bytesOut = 0;
    this.writes = 0;
  }
  _read() {}
  _write(chunk, encoding, cb) {
    this.bytesOut += chunk.length;
    this.writes += 1;
    cb();
  }
  _writev(chunks, cb) {
    for (const { chunk } of chunks) this.bytesOut += chunk.length;
    this.writes += 1;
    cb();
  }
  setTimeout() {}
  setNoDelay() {}
}

/** A server-side WebSocket of `lib` ('native-ws' or 'ws') over a BenchSocket. */
function serverSocket(lib) {
  const socket = new BenchSocket();
  let ws;
  if (lib === 'ws') {
    ws = new WS(null, undefined, {});
    ws.setSocket(socket, Buffer.alloc(0), { maxPayload: 0, allowSynchronousEvents: true, skipUTF8Validation: false });
  } else {
    ws = new nativeWs.WebSocket(null);
    ws._setSocket(socket, Buffer.alloc(0), { maxPayload: 0 });
  }
  return { ws, socket };
}

/** `count` masked client frames of `size` bytes, concatenated. */
function clientFrames(size, count, text) {
  const payload = text ? Buffer.alloc(size, 'a') : crypto.randomBytes(size);
  const one = nativeWs.encodeFrame({ opcode: text ? 1 : 2, payload, mask: Buffer.from([0x12, 0x34, 0x56, 0x78]) });
  return Buffer.concat(Array(count).fill(one));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function formatRate(perSecond) {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k`;
  return perSecond.toFixed(0);
}

function formatBytes(perSecond) {
  if (perSecond >= 1e9) return `${(perSecond / 1e9).toFixed(2)} GB/s`;
  return `${(perSecond / 1e6).toFixed(0)} MB/s`;
}

/**
 * Runs `measure(lib)` alternately for each library, `rounds` times; returns medians.
 * @param {string[]} libs
 * @param {number} rounds
 * @param {(lib: string) => Promise<number>|number} measure returns a rate
 */
async function alternate(libs, rounds, measure) {
  const samples = Object.fromEntries(libs.map((l) => [l, []]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...libs].reverse() : libs;
    for (const lib of order) samples[lib].push(await measure(lib));
  }
  return Object.fromEntries(libs.map((l) => [l, median(samples[l])]));
}

module.exports = { BenchSocket, serverSocket, clientFrames, median, alternate, formatRate, formatBytes };

/**
 * A server-side WebSocket of `lib` with permessage-deflate in force (default
 * parameters: context takeover both ways, 15-bit windows), over a BenchSocket.
 */
function deflateServerSocket(lib) {
  const socket = new BenchSocket();
  let ws;
  if (lib === 'ws') {
    // ws's extension object, set up the way its WebSocketServer does.
    const PerMessageDeflate = require(require.resolve('ws').replace(/index\.js$/, 'lib/permessage-deflate.js'));
    const extension = new PerMessageDeflate({ isServer: true, maxPayload: 0 });
    extension.accept([{}]);
    ws = new WS(null, undefined, {});
    ws._extensions = { [PerMessageDeflate.extensionName]: extension };
    ws.setSocket(socket, Buffer.alloc(0), { maxPayload: 0, allowSynchronousEvents: true, skipUTF8Validation: false });
  } else {
    const { normalizeOptions } = require('../lib/permessage-deflate');
    ws = new nativeWs.WebSocket(null);
    ws._setSocket(socket, Buffer.alloc(0), {
      maxPayload: 0,
      deflate: {
        options: normalizeOptions(true),
        params: { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
      },
    });
  }
  return { ws, socket };
}

module.exports.deflateServerSocket = deflateServerSocket;
