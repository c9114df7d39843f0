'use strict';

// Issue 5: a panic in the native core fails only its connection (1011),
// the idle heartbeat, backpressure limits, pause()/resume(), and send callbacks.

const { test, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const {
  KINDS,
  OP,
  frame,
  text,
  pong,
  startServer,
  connectPair,
  closeAll,
  expectFailure,
  withTimeout,
} = require('./helpers');

afterEach(closeAll);

for (const kind of KINDS) {
  test(`${kind}: a panic in the native parser closes that connection with 1011 and others go on`, async () => {
    const fixture = await startServer(kind);
    const victim = await connectPair(fixture);
    const bystander = await connectPair(fixture);
    victim.conn.ws._receiver._nativeParser()._testOnlyPanicOnNextParse();
    await victim.client.write(text('boom'));
    await expectFailure(victim.client, 1011);
    const closed = await victim.conn.closed;
    assert.equal(closed.code, 1006);
    assert.equal(victim.conn.errors.length, 1);
    assert.equal(victim.conn.errors[0].code, 'ERR_NATIVE_WS_PANIC');
    assert.equal(victim.conn.errors[0].closeCode, 1011);
    assert.match(victim.conn.errors[0].message, /deliberate panic/);
    assert.equal(victim.conn.messages.length, 0);

    await bystander.client.write(text('still here'));
    const [message] = await withTimeout(bystander.conn.waitMessages(1), 5000, 'the other connection');
    assert.equal(message.data.toString(), 'still here');
  });
}

test('idleTimeout: a quiet client is pinged, and terminated when it does not answer', { timeout: 10000 }, async () => {
  const fixture = await startServer('wss', { idleTimeout: 0.1 });
  const { client, conn } = await connectPair(fixture);
  const ping = await withTimeout(client.nextFrame(), 5000, 'a ping');
  assert.equal(ping.opcode, OP.PING);
  const closed = await withTimeout(conn.closed, 5000, 'termination');
  assert.equal(closed.code, 1006);
  await client.closed;
});

test('idleTimeout: a client that answers pings stays connected', { timeout: 10000 }, async () => {
  const fixture = await startServer('accept', { idleTimeout: 0.05 });
  const { client, conn } = await connectPair(fixture);
  for (let i = 0; i < 4; i++) {
    const frame = await withTimeout(client.nextFrame(), 5000, `ping ${i}`);
    assert.equal(frame.opcode, OP.PING);
    await client.write(pong(frame.payload));
  }
  assert.equal(conn.ws.readyState, conn.ws.OPEN);
  assert.equal(conn.closeEvents.length, 0);
});

/** Fills the server's socket queue: the raw client does not read. */
async function saturate(ws) {
  const chunk = Buffer.alloc(256 * 1024, 1);
  // Sends reach the socket at the end of the tick; fill until the socket
  // itself holds more than the limit after the kernel took what it could.
  while (ws._seam.queuedBytes <= ws._maxBackpressure) {
    while (ws.bufferedAmount <= ws._maxBackpressure) ws.send(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('maxBackpressure with policy drop refuses sends past the limit and reports it', async () => {
  const fixture = await startServer('wss', { maxBackpressure: 1024 * 1024 });
  const { client, conn } = await connectPair(fixture);
  client.socket.pause(); // the client stops reading
  await saturate(conn.ws);
  const queued = conn.ws.bufferedAmount;
  const [err] = await new Promise((resolve) => conn.ws.send('dropped', (...args) => resolve(args)));
  assert.equal(err.code, 'WS_ERR_BACKPRESSURE');
  assert.equal(conn.ws.bufferedAmount, queued, 'the refused message was not queued');
  assert.equal(conn.ws.readyState, conn.ws.OPEN);
});

test('maxBackpressure with policy close closes with 1008', async () => {
  const fixture = await startServer('accept', { maxBackpressure: 1024 * 1024, backpressurePolicy: 'close' });
  const { client, conn } = await connectPair(fixture);
  client.socket.pause();
  await saturate(conn.ws);
  const [err] = await new Promise((resolve) => conn.ws.send('refused', (...args) => resolve(args)));
  assert.equal(err.code, 'WS_ERR_BACKPRESSURE');
  assert.equal(conn.ws.readyState, conn.ws.CLOSING);
  client.socket.resume();
  await client.closed;
  const last = client.frames[client.frames.length - 1];
  assert.equal(last.opcode, OP.CLOSE);
  assert.equal(last.closeCode, 1008);
});

test('backpressure options are checked', () => {
  const { WebSocketServer } = require('..');
  assert.throws(() => new WebSocketServer({ noServer: true, maxBackpressure: -1 }), { name: 'RangeError', message: /maxBackpressure/ });
  assert.throws(() => new WebSocketServer({ noServer: true, backpressurePolicy: 'ignore' }), { name: 'RangeError', message: /backpressurePolicy/ });
  assert.throws(() => new WebSocketServer({ noServer: true, idleTimeout: 'soon' }), { name: 'TypeError', message: /idleTimeout/ });
});

test('bufferedAmount counts queued bytes and send callbacks fire once flushed', async () => {
  const fixture = await startServer('wss');
  const { client, conn } = await connectPair(fixture);
  client.socket.pause();
  const chunk = Buffer.alloc(1024 * 1024, 2);
  let flushed = 0;
  for (let i = 0; i < 8; i++) conn.ws.send(chunk, () => flushed++);
  assert.ok(conn.ws.bufferedAmount > 0, 'data is queued while the peer does not read');
  assert.ok(conn.ws.bufferedAmount <= 8 * (chunk.length + 10));
  assert.ok(flushed < 8, 'not everything can be flushed while the peer does not read');
  client.socket.resume();
  await withTimeout(
    (async () => {
      while (flushed < 8) await new Promise((r) => setTimeout(r, 5));
    })(),
    10000,
    'all send callbacks'
  );
  assert.equal(flushed, 8);
  assert.equal(conn.ws.bufferedAmount, 0);
});

test('pause() stops reading the socket and resume() delivers what waited', async () => {
  const fixture = await startServer('wss');
  const { client, conn } = await connectPair(fixture);
  conn.ws.pause();
  assert.equal(conn.ws.isPaused, true);
  await client.write(text('while paused'));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(conn.messages.length, 0, 'no message while paused');
  assert.equal(conn.ws._seam.socket.isPaused(), true, 'the socket itself is paused');
  conn.ws.resume();
  const [message] = await withTimeout(conn.waitMessages(1), 5000, 'the message after resume');
  assert.equal(message.data.toString(), 'while paused');
});

test('terminate(), pause() and resume() after a failed client handshake do nothing and do not throw', async () => {
  const http = require('node:http');
  const server = http.createServer((req, res) => res.writeHead(403).end());
  server.on('upgrade', (req, socket) => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { WebSocket } = require('..');
    const ws = new WebSocket(`ws://127.0.0.1:${server.address().port}/`);
    const closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
    const failed = new Promise((resolve) =>
      ws.on('error', (err) => {
        ws.terminate();
        ws.pause();
        ws.resume();
        resolve(err);
      })
    );
    const err = await withTimeout(failed, 5000, 'the handshake error');
    assert.match(err.message, /403/);
    assert.equal(await withTimeout(closed, 5000, 'close'), 1006);
  } finally {
    server.close();
  }
});

test('the native batch header writer refuses a header gap that does not fit the payload', () => {
  const { addon } = require('../lib/native');
  const slab = Buffer.alloc(64);
  const entry = (gap) => new Uint32Array([0, 5, 0x1 | 0x10 | (gap << 8), 0]);
  assert.throws(() => addon.writeFrameHeaders(slab, entry(4), 1), /header gap/);
  addon.writeFrameHeaders(slab, entry(2), 1);
  assert.deepEqual([...slab.subarray(0, 2)], [0x81, 0x05]);
  // A payload written elsewhere (flag 0x40) needs room for its header only.
  const large = (at, flags) => new Uint32Array([at, 70000, 0x2 | 0x10 | flags | (10 << 8), 0]);
  assert.throws(() => addon.writeFrameHeaders(slab, large(54, 0), 1), /outside the slab/);
  addon.writeFrameHeaders(slab, large(54, 0x40), 1);
  assert.deepEqual([...slab.subarray(54, 64)], [0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
  assert.throws(() => addon.writeFrameHeaders(slab, large(55, 0x40), 1), /outside the slab/);
});

test('the native batch header writer masks client payloads in place with the entry key', () => {
  const { addon, decodeFrame } = { addon: require('../lib/native').addon, decodeFrame: require('..').decodeFrame };
  const slab = Buffer.alloc(32);
  slab.write('hello', 6);
  const key = 0x44332211; // bytes 11 22 33 44 in the frame
  addon.writeFrameHeaders(slab, new Uint32Array([0, 5, 0x1 | 0x10 | 0x80 | (6 << 8), key]), 1);
  assert.deepEqual([...slab.subarray(0, 6)], [0x81, 0x85, 0x11, 0x22, 0x33, 0x44]);
  const frame = decodeFrame(slab.subarray(0, 11));
  assert.equal(frame.masked, true);
  assert.equal(frame.payload.toString(), 'hello');
  assert.throws(() => addon.writeFrameHeaders(slab, new Uint32Array([0, 5, 0x1 | 0x10 | 0x80 | (2 << 8), key]), 1), /header gap/);
  assert.throws(() => addon.writeFrameHeaders(slab, new Uint32Array([0, 5, 0x1 | 0x10 | 0xc0 | (6 << 8), key]), 1), /masked payload/);
});

test('batched sends of every header size arrive intact and in order', async () => {
  const fixture = await startServer('wss');
  const { client, conn } = await connectPair(fixture);
  const sizes = [0, 1, 125, 126, 127, 1000, 16 * 1024, 16 * 1024 + 1, 65535, 65536, 70000];
  const payloads = sizes.map((n, i) => Buffer.alloc(n, i + 1));
  const flushed = [];
  // One tick: small payloads copied into the batch, large ones written by reference.
  payloads.forEach((p, i) => conn.ws.send(p, (err) => flushed.push([i, err == null])));
  const total = payloads.reduce((n, p) => n + p.length, 0);
  assert.ok(conn.ws.bufferedAmount >= total, `bufferedAmount ${conn.ws.bufferedAmount} counts all ${total} payload bytes`);
  for (const p of payloads) {
    const frame = await withTimeout(client.nextFrame(), 5000, `frame of ${p.length} bytes`);
    assert.equal(frame.opcode, OP.BINARY);
    assert.deepEqual(frame.payload, p);
  }
  while (flushed.length < payloads.length) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(flushed, payloads.map((_, i) => [i, true]), 'every callback fired once, in order, without an error');
});

test('a connection holds no native parser until its first bytes arrive, then parses them', async () => {
  const fixture = await startServer('wss');
  const { client, conn } = await connectPair(fixture);
  assert.equal(conn.ws._receiver._parser, null, 'idle since the handshake: no native parser');
  assert.equal(conn.ws._receiver.bufferedBytes, 0);
  await client.write(text('first'));
  const [message] = await withTimeout(conn.waitMessages(1), 5000, 'the first message');
  assert.equal(message.data.toString(), 'first');
  assert.notEqual(conn.ws._receiver._parser, null);
});

test('a closed connection lets go of its native parser and the partial message it held', async () => {
  const fixture = await startServer('wss');
  const { client, conn } = await connectPair(fixture);
  // A header that promises 200000 bytes, and half of them.
  await client.write(frame({ opcode: OP.BINARY, payload: Buffer.alloc(100000, 1), length: 200000 }));
  await withTimeout(
    (async () => {
      while (conn.ws._receiver.bufferedBytes === 0) await new Promise((resolve) => setImmediate(resolve));
    })(),
    5000,
    'the partial message to be buffered'
  );
  assert.ok(conn.ws._receiver.bufferedBytes > 0);
  conn.ws.terminate();
  await conn.closed;
  assert.equal(conn.ws._receiver._parser, null, 'the parser is released at close');
  assert.equal(conn.ws._receiver.bufferedBytes, 0);
});

// Native parsers of closed connections serve later ones (lib/connection/receiver.js).
for (const kind of KINDS) {
  test(`${kind}: a connection after one that closed mid-message reads only its own frames, without the other's inflater`, async () => {
    const fixture = await startServer(kind, { perMessageDeflate: true });
    const first = await connectPair(fixture, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } });
    assert.equal(first.conn.ws.extensions, 'permessage-deflate');
    await first.client.write(text('stale-', { fin: false }));
    await first.client.write(frame({ opcode: OP.CONT, payload: 'half', fin: false }));
    first.client.destroy();
    assert.equal((await first.conn.closed).code, 1006);

    const second = await connectPair(fixture);
    assert.equal(second.conn.ws.extensions, '');
    await second.client.write(text('fresh'));
    const [message] = await withTimeout(second.conn.waitMessages(1), 5000, 'the message');
    assert.equal(message.data.toString(), 'fresh');
    // Compressed frames were not agreed on this connection: RSV1 is a protocol error (1002), not inflated.
    await second.client.write(frame({ opcode: OP.TEXT, payload: 'not deflated', rsv1: true }));
    await expectFailure(second.client, 1002);
    assert.equal(second.conn.errors[0].code, 'WS_ERR_UNEXPECTED_RSV_1');
  });

  test(`${kind}: a parser let go by a server with a small maxPayload is not used under another limit`, async () => {
    const strict = await startServer(kind, { maxPayload: 8 });
    const lenient = await startServer(kind);
    const before = await connectPair(strict);
    await before.client.write(text('x'.repeat(9)));
    await expectFailure(before.client, 1009);
    await before.conn.closed;
    const after = await connectPair(lenient);
    await after.client.write(text('y'.repeat(100)));
    const [message] = await withTimeout(after.conn.waitMessages(1), 5000, 'the message');
    assert.equal(message.data.toString(), 'y'.repeat(100));
    const again = await connectPair(strict);
    await again.client.write(text('z'.repeat(9)));
    await expectFailure(again.client, 1009);
  });
}
