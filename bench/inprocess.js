'use strict';

// In-process benchmarks: receive (masked client frames in 64 KiB chunks
// through a Duplex into a server-side WebSocket until every message event
// fired) and send (ws.send() into a byte-counting Duplex).

const { serverSocket, clientFrames, alternate } = require('./common');

const LIBS = ['native-ws', 'ws'];
const CHUNK = 64 * 1024;

/** Total bytes of input per measurement, so every size runs a similar time. */
function messageCount(size) {
  return Math.max(16, Math.min(400000, Math.floor((16 * 1024 * 1024) / (size + 14))));
}

// Each measurement repeats its batch until this much timed work accumulated.
const MIN_SECONDS = 0.25;

/** Repeats `batch()` (which returns [items, seconds]) until MIN_SECONDS; returns items/s. */
async function repeat(batch) {
  let items = 0;
  let seconds = 0;
  while (seconds < MIN_SECONDS) {
    const [n, s] = await batch();
    items += n;
    seconds += s;
    // Untimed: let the event loop turn, as it does between socket reads, so
    // deferred work (N-API finalizers of collected Buffers) runs.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return items / seconds;
}

async function receiveOnce(lib, pristine, count) {
  return repeat(() => receiveBatch(lib, pristine, count));
}

async function receiveBatch(lib, pristine, count) {
  const { ws, socket } = serverSocket(lib);
  const input = Buffer.from(pristine); // unmasking happens in place: fresh bytes each run
  const chunks = [];
  for (let at = 0; at < input.length; at += CHUNK) chunks.push(input.subarray(at, at + CHUNK));
  let seen = 0;
  const done = new Promise((resolve) => {
    ws.on('message', () => {
      if (++seen === count) resolve();
    });
  });
  const start = process.hrtime.bigint();
  for (const chunk of chunks) socket.push(chunk);
  await done;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  ws.terminate();
  return [count, seconds];
}

/**
 * @returns {Promise<Array<{ name: string, size: number, results: Record<string, number> }>>}
 */
async function receive(rounds) {
  const cases = [
    [16, false],
    [125, false],
    [1024, false],
    [16 * 1024, false],
    [1024 * 1024, false],
    [16, true],
    [125, true],
    [1024, true],
    [16 * 1024, true],
    [1024 * 1024, true],
  ];
  const rows = [];
  for (const [size, text] of cases) {
    const count = messageCount(size);
    const pristine = clientFrames(size, count, text);
    await receiveOnce('native-ws', pristine, count);
    await receiveOnce('ws', pristine, count);
    const results = await alternate(LIBS, rounds, (lib) => receiveOnce(lib, pristine, count));
    rows.push({ name: `receive ${label(size)} ${text ? 'text' : 'binary'}`, size, results });
  }
  return rows;
}

async function sendOnce(lib, payload, count, asText) {
  return repeat(() => sendBatch(lib, payload, count, asText));
}

async function sendBatch(lib, payload, count, asText) {
  const { ws, socket } = serverSocket(lib);
  const data = asText ? payload.toString('latin1') : payload;
  let flushed = 0;
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  const cb = () => {
    if (++flushed === count) resolveDone();
  };
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) ws.send(data, cb);
  await done;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (socket.bytesOut < count * payload.length) throw new Error(`${lib}: short write`);
  ws.terminate();
  return [count, seconds];
}

async function send(rounds) {
  const rows = [];
  for (const [size, text] of [
    [16, false],
    [125, false],
    [1024, false],
    [16, true],
    [1024, true],
    [64 * 1024, false],
  ]) {
    const count = Math.max(64, Math.min(100000, Math.floor((16 * 1024 * 1024) / (size + 14))));
    const payload = Buffer.alloc(size, 'b');
    await sendOnce('native-ws', payload, count, text);
    await sendOnce('ws', payload, count, text);
    const results = await alternate(LIBS, rounds, (lib) => sendOnce(lib, payload, count, text));
    rows.push({ name: `send ${label(size)} ${text ? 'text' : 'binary'}`, size, results });
  }
  return rows;
}

function label(size) {
  if (size >= 1024 * 1024) return `${size / 1024 / 1024} MiB`;
  if (size >= 1024) return `${size / 1024} KiB`;
  return `${size} B`;
}

module.exports = { receive, send, label };

/**
 * Echo of ~1 KiB JSON messages with permessage-deflate: compressed client
 * frames (one zlib stream, as a browser keeps) pushed in, every echo
 * compressed out; measured until every send callback fired.
 */
async function deflateEcho(rounds) {
  const zlib = require('node:zlib');
  const { deflateServerSocket } = require('./common');
  const count = 20000;
  const messages = [];
  for (let i = 0; i < count; i++) {
    messages.push(JSON.stringify({ type: 'tick', seq: i, user: `user-${i % 97}`, items: Array.from({ length: 26 }, (_, k) => ({ id: k, price: (i * 7 + k) % 1000, name: `item-${k}` })) }));
  }
  const stream = zlib.createDeflateRaw();
  const frames = [];
  for (const text of messages) {
    stream.write(text);
    const out = await new Promise((resolve) => {
      const parts = [];
      const onData = (d) => parts.push(d);
      stream.on('data', onData);
      stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        stream.removeListener('data', onData);
        resolve(Buffer.concat(parts));
      });
    });
    const payload = out.subarray(0, out.length - 4);
    const frame = require('..').encodeFrame({ opcode: 1, rsv1: true, payload, mask: Buffer.from([1, 2, 3, 4]) });
    frames.push(frame);
  }
  const pristine = Buffer.concat(frames);
  const bytesIn = messages.reduce((n, m) => n + m.length, 0) / count;

  async function once(lib) {
    return repeat(async () => {
      const { ws, socket } = deflateServerSocket(lib);
      let echoed = 0;
      let resolveDone;
      const done = new Promise((resolve) => (resolveDone = resolve));
      const cb = () => {
        if (++echoed === count) resolveDone();
      };
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }, cb));
      const input = Buffer.from(pristine);
      const start = process.hrtime.bigint();
      for (let at = 0; at < input.length; at += CHUNK) socket.push(input.subarray(at, at + CHUNK));
      await done;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      ws.terminate();
      return [count, seconds];
    });
  }
  await once('native-ws');
  await once('ws');
  const results = await alternate(LIBS, rounds, once);
  return [{ name: `echo ${Math.round(bytesIn)} B JSON, permessage-deflate`, size: bytesIn, results }];
}

/** Unmasking bandwidth of 1 MiB in place, against Buffer.copy of 1 MiB. */
async function unmask(rounds) {
  const { addon } = require('../lib/native');
  const bufferutil = require('bufferutil');
  const data = Buffer.alloc(1024 * 1024, 7);
  const target = Buffer.alloc(1024 * 1024);
  const key = Buffer.from([1, 2, 3, 4]);
  const ops = {
    'native-ws applyMask': () => addon.applyMask(data, key),
    'bufferutil unmask': () => bufferutil.unmask(data, key),
    'Buffer.copy': () => data.copy(target),
  };
  const rates = {};
  for (const [name, op] of Object.entries(ops)) {
    const samples = [];
    for (let r = 0; r < rounds; r++) {
      samples.push(
        await repeat(async () => {
          const start = process.hrtime.bigint();
          for (let i = 0; i < 200; i++) op();
          return [200 * data.length, Number(process.hrtime.bigint() - start) / 1e9];
        })
      );
    }
    rates[name] = samples.sort((a, b) => a - b)[samples.length >> 1];
  }
  return rates;
}

/**
 * Where receiving 16 KiB messages meets memory bandwidth: the native parser
 * alone over the same input (no Duplex, no message events), as chunked for
 * the receive case and with chunks cut at frame boundaries (no message spans
 * two chunks, so none is copied), beside ws's whole receive path.
 */
async function receiveFloor(rounds) {
  const { addon } = require('../lib/native');
  const { newRecordTable, recordCount, recordsConsumed } = require('../lib/abi');
  const size = 16 * 1024;
  const count = messageCount(size);
  const pristine = clientFrames(size, count, false);
  const frameBytes = pristine.length / count;
  const table = newRecordTable();

  function parserAlone(chunkSize) {
    return repeat(async () => {
      const input = Buffer.from(pristine);
      const parser = new addon.StreamParser(false, 0);
      let seen = 0;
      const start = process.hrtime.bigint();
      for (let at = 0; at < input.length; at += chunkSize) {
        const chunk = input.subarray(at, at + chunkSize);
        let from = 0;
        do {
          parser.parse(chunk, from, table);
          seen += recordCount(table);
          from = recordsConsumed(table);
        } while (from < chunk.length);
      }
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (seen !== count) throw new Error(`parser alone: ${seen} of ${count} messages`);
      return [count, seconds];
    });
  }
  const measures = {
    'native parser alone, 64 KiB chunks': () => parserAlone(CHUNK),
    'native parser alone, chunks at frame boundaries': () => parserAlone(4 * frameBytes),
    'native-ws': () => receiveOnce('native-ws', pristine, count),
    ws: () => receiveOnce('ws', pristine, count),
  };
  return alternate(Object.keys(measures), rounds, (name) => measures[name]());
}

module.exports.receiveFloor = receiveFloor;
module.exports.deflateEcho = deflateEcho;
module.exports.unmask = unmask;
