'use strict';

// Topics in one process: subscribe/unsubscribe/publish on WebSocketServer and
// accept() sockets, frame-once broadcast, permessage-deflate, backpressure.

const { test, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const zlib = require('node:zlib');
const { once } = require('node:events');

const { lib, HOST, startServer, connectPair, closeAll, withTimeout, connect, OP } = require('./helpers');
const { addon } = require('../lib/native');
const { Sender } = require('../lib/connection/sender');
const { MessageCompressor } = require('../lib/permessage-deflate');

afterEach(closeAll);

/** A fixture of `kind` whose sockets have topics ('accept' gets a hub of its own). */
async function topicServer(kind, options = {}) {
  if (kind === 'wss') {
    const fixture = await startServer('wss', options);
    fixture.hub = fixture.wss.topics;
    return fixture;
  }
  const hub = new lib.Topics();
  const fixture = await startServer('accept', { ...options, topics: hub });
  fixture.hub = hub;
  return fixture;
}

function inflate(payload) {
  return zlib.inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

for (const kind of ['wss', 'accept']) {
  test(`${kind}: publish reaches the subscribers of a topic and no one else`, async () => {
    const fixture = await topicServer(kind);
    const a = await connectPair(fixture);
    const b = await connectPair(fixture);
    const c = await connectPair(fixture);
    assert.equal(a.conn.ws.subscribe('news'), true);
    assert.equal(a.conn.ws.subscribe('news'), false, 'subscribing twice is a no-op');
    assert.equal(b.conn.ws.subscribe('news'), true);
    assert.equal(c.conn.ws.subscribe('sport'), true);
    assert.equal(fixture.hub.subscriberCount('news'), 2);
    assert.equal(fixture.hub.subscriberCount('weather'), 0);
    assert.deepEqual(a.conn.ws.topics, ['news']);
    assert.equal(a.conn.ws.isSubscribed('news'), true);
    assert.equal(a.conn.ws.isSubscribed('sport'), false);

    assert.equal(fixture.hub.publish('news', 'héllo'), 2);
    assert.equal(fixture.hub.publish('news', Buffer.from([0, 1, 2, 255])), 2);
    assert.equal(fixture.hub.publish('news', Buffer.from('as text'), { binary: false }), 2);
    assert.equal(fixture.hub.publish('news', 'as binary', { binary: true }), 2);
    assert.equal(fixture.hub.publish('sport', 'goal'), 1);
    assert.equal(fixture.hub.publish('nobody', 'x'), 0);

    for (const { client } of [a, b]) {
      const frames = [await client.nextFrame(), await client.nextFrame(), await client.nextFrame(), await client.nextFrame()];
      assert.deepEqual(frames.map((f) => [f.opcode, f.fin, f.rsv1, f.masked]), [
        [OP.TEXT, true, false, false],
        [OP.BINARY, true, false, false],
        [OP.TEXT, true, false, false],
        [OP.BINARY, true, false, false],
      ]);
      assert.equal(frames[0].payload.toString(), 'héllo');
      assert.deepEqual([...frames[1].payload], [0, 1, 2, 255]);
      assert.equal(frames[2].payload.toString(), 'as text');
      assert.equal(frames[3].payload.toString(), 'as binary');
    }
    const goal = await c.client.nextFrame();
    assert.equal(goal.payload.toString(), 'goal');
    // Nothing else reached the sport subscriber, nor news subscribers.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(c.client.frames.length, 1);
    assert.equal(a.client.frames.length, 4);
  });

  test(`${kind}: unsubscribe and close stop delivery; a closed socket leaves all its topics`, async () => {
    const fixture = await topicServer(kind);
    const a = await connectPair(fixture);
    const b = await connectPair(fixture);
    for (const topic of ['t1', 't2', 't3']) {
      a.conn.ws.subscribe(topic);
      b.conn.ws.subscribe(topic);
    }
    assert.equal(a.conn.ws.unsubscribe('t1'), true);
    assert.equal(a.conn.ws.unsubscribe('t1'), false);
    assert.equal(a.conn.ws.isSubscribed('t1'), false);
    assert.deepEqual(a.conn.ws.topics.sort(), ['t2', 't3']);
    assert.equal(fixture.hub.publish('t1', 'one'), 1);
    assert.equal((await b.client.nextFrame()).payload.toString(), 'one');

    b.client.destroy();
    await b.conn.closed;
    assert.deepEqual(b.conn.ws.topics, []);
    assert.equal(fixture.hub.subscriberCount('t2'), 1);
    assert.deepEqual(fixture.hub.topics.sort(), ['t2', 't3']);
    assert.equal(b.conn.ws.subscribe('t9'), false, 'a closed socket is never subscribed');
    assert.equal(fixture.hub.subscriberCount('t9'), 0);
    assert.equal(fixture.hub.publish('t2', 'two'), 1);
    assert.equal((await a.client.nextFrame()).payload.toString(), 'two');

    a.conn.ws.close(1000);
    assert.equal((await a.client.nextFrame()).opcode, OP.CLOSE);
    a.client.destroy();
    await a.conn.closed;
    assert.equal(fixture.hub.subscriberCount('t2'), 0);
    assert.deepEqual(fixture.hub.topics, []);
    assert.equal(fixture.hub.publish('t3', 'three'), 0);
  });

  test(`${kind}: a publish frames once, in one native call, and queues the same bytes to each subscriber`, async () => {
    const fixture = await topicServer(kind);
    const pairs = [];
    for (let i = 0; i < 5; i++) pairs.push(await connectPair(fixture));
    for (const { conn } of pairs) conn.ws.subscribe('room');
    const queued = [];
    let headerCalls = 0;
    const originalSendFrame = Sender.prototype.sendFrame;
    const originalWriteHeaders = addon.writeFrameHeaders;
    Sender.prototype.sendFrame = function (list, cb) {
      queued.push(list[0]);
      return originalSendFrame.call(this, list, cb);
    };
    addon.writeFrameHeaders = function (...args) {
      headerCalls++;
      return originalWriteHeaders.apply(this, args);
    };
    const payload = 'x'.repeat(1000);
    let recipients;
    try {
      recipients = fixture.hub.publish('room', payload);
    } finally {
      Sender.prototype.sendFrame = originalSendFrame;
      addon.writeFrameHeaders = originalWriteHeaders;
    }
    assert.equal(recipients, 5);
    assert.equal(headerCalls, 1, 'one native call for the whole publish');
    assert.equal(queued.length, 5);
    for (const frame of queued) assert.equal(frame, queued[0], 'the same Buffer for every subscriber');
    // bufferedAmount counts the queued frame exactly until it is written.
    assert.equal(pairs[0].conn.ws.bufferedAmount, queued[0].length);
    for (const { client } of pairs) assert.equal((await client.nextFrame()).payload.toString(), payload);
  });
}

test('publish keeps its place among the socket\'s own sends in the same batch', async () => {
  const fixture = await topicServer('wss');
  const { client, conn } = await connectPair(fixture);
  conn.ws.subscribe('t');
  conn.ws.on('message', () => {
    // Inside a dispatch the sender is corked: all three leave in one batch.
    conn.ws.send('before');
    fixture.wss.publish('t', 'published');
    conn.ws.send('after');
  });
  conn.ws.send('first');
  fixture.wss.publish('t', 'second');
  conn.ws.send('third');
  await client.write(require('./helpers').text('go'));
  const got = [];
  for (let i = 0; i < 6; i++) got.push((await client.nextFrame()).payload.toString());
  assert.deepEqual(got, ['first', 'second', 'third', 'before', 'published', 'after']);
});

test('topics and data are checked: TypeError/RangeError naming the argument', async () => {
  const fixture = await topicServer('wss');
  const { conn } = await connectPair(fixture);
  const { MAX_TOPIC_LENGTH } = require('../lib/topics');
  assert.throws(() => conn.ws.subscribe(42), { name: 'TypeError', message: /^topic: must be a string/ });
  assert.throws(() => conn.ws.subscribe(''), { name: 'RangeError', message: /^topic: must be 1 to 1024/ });
  assert.throws(() => conn.ws.subscribe('a'.repeat(MAX_TOPIC_LENGTH + 1)), { name: 'RangeError', message: /^topic:/ });
  assert.equal(conn.ws.subscribe('a'.repeat(MAX_TOPIC_LENGTH)), true);
  assert.throws(() => conn.ws.unsubscribe(null), { name: 'TypeError', message: /^topic:/ });
  assert.throws(() => conn.ws.isSubscribed(undefined), { name: 'TypeError', message: /^topic:/ });
  assert.throws(() => fixture.wss.publish(undefined, 'x'), { name: 'TypeError', message: /^topic:/ });
  assert.throws(() => fixture.wss.publish('t', { not: 'data' }), { name: 'TypeError', message: /^data:/ });
  assert.throws(() => fixture.wss.subscriberCount(''), { name: 'RangeError', message: /^topic:/ });
  assert.throws(() => new lib.Topics({ backplane: {} }), { name: 'TypeError', message: /^backplane\.start:/ });
  assert.throws(() => lib.accept(new net.Socket(), { topics: {} }), { name: 'TypeError', message: /^topics:/ });
});

test('accept() without a hub: subscribe explains how to get one', async () => {
  const fixture = await startServer('accept');
  const { conn } = await connectPair(fixture);
  assert.throws(() => conn.ws.subscribe('t'), { code: 'ERR_WS_NO_TOPICS', message: /new Topics\(\)/ });
});

test('a subscriber over its maxBackpressure is skipped (drop) and never holds up the others', async () => {
  const fixture = await topicServer('wss', { maxBackpressure: 64 * 1024 });
  const slow = await connectPair(fixture);
  const fast = await connectPair(fixture);
  slow.conn.ws.subscribe('t');
  fast.conn.ws.subscribe('t');
  // The slow subscriber has a large message queued already.
  slow.conn.ws.send(Buffer.alloc(128 * 1024));
  assert.ok(slow.conn.ws.bufferedAmount > 64 * 1024);
  assert.equal(fixture.wss.publish('t', 'tick'), 1);
  assert.equal((await fast.client.nextFrame()).payload.toString(), 'tick');
  const big = await slow.client.nextFrame();
  assert.equal(big.payload.length, 128 * 1024);
  // Drained: it receives again; it was skipped, not closed.
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(slow.conn.ws.readyState, lib.OPEN);
  assert.equal(fixture.wss.publish('t', 'tock'), 2);
  assert.equal((await slow.client.nextFrame()).payload.toString(), 'tock');
});

test('backpressurePolicy close: the slow subscriber is closed with 1008, the others get the message', async () => {
  const fixture = await topicServer('accept', { maxBackpressure: 1024, backpressurePolicy: 'close' });
  const slow = await connectPair(fixture);
  const fast = await connectPair(fixture);
  slow.conn.ws.subscribe('t');
  fast.conn.ws.subscribe('t');
  slow.conn.ws.send(Buffer.alloc(4096));
  assert.equal(fixture.hub.publish('t', 'tick'), 1);
  assert.equal((await fast.client.nextFrame()).payload.toString(), 'tick');
  assert.equal((await slow.client.nextFrame()).payload.length, 4096);
  const closeFrame = await slow.client.nextFrame();
  assert.equal(closeFrame.opcode, OP.CLOSE);
  assert.equal(closeFrame.closeCode, 1008);
});

/** Connects a client offering permessage-deflate and waits for its server side. */
async function deflatePair(fixture) {
  const connection = fixture.nextConnection();
  const client = await connect(fixture.port, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } });
  return { client, conn: await connection };
}

test('permessage-deflate with serverNoContextTakeover: one compression per publish, the same bytes to all', async () => {
  const fixture = await topicServer('wss', { perMessageDeflate: { serverNoContextTakeover: true, threshold: 0 } });
  const pairs = [await deflatePair(fixture), await deflatePair(fixture), await deflatePair(fixture)];
  const plain = await connectPair(fixture);
  for (const { conn } of [...pairs, plain]) conn.ws.subscribe('t');
  let compressions = 0;
  const original = MessageCompressor.prototype.compress;
  MessageCompressor.prototype.compress = function (data) {
    compressions++;
    return original.call(this, data);
  };
  const message = 'compressible '.repeat(50);
  try {
    assert.equal(fixture.wss.publish('t', message), 4);
    assert.equal(fixture.wss.publish('t', message), 4);
  } finally {
    MessageCompressor.prototype.compress = original;
  }
  assert.equal(compressions, 2, 'one compression per publish');
  const firsts = [];
  for (const { client } of pairs) {
    for (let i = 0; i < 2; i++) {
      const f = await client.nextFrame();
      assert.equal(f.rsv1, true);
      assert.equal(inflate(f.payload).toString(), message);
      if (i === 0) firsts.push(f.payload);
    }
  }
  for (const payload of firsts) assert.deepEqual(payload, firsts[0]);
  const f = await plain.client.nextFrame();
  assert.equal(f.rsv1, false, 'a client without the extension gets the plain frame');
  assert.equal(f.payload.toString(), message);
});

test('permessage-deflate with context takeover: compressed per connection, each stream stays decodable', async () => {
  const fixture = await topicServer('wss', { perMessageDeflate: { threshold: 0 } });
  const pairs = [await deflatePair(fixture), await deflatePair(fixture)];
  for (const { conn } of pairs) conn.ws.subscribe('t');
  let compressions = 0;
  const original = MessageCompressor.prototype.compress;
  MessageCompressor.prototype.compress = function (data) {
    compressions++;
    return original.call(this, data);
  };
  try {
    for (let i = 0; i < 3; i++) assert.equal(fixture.wss.publish('t', `message ${i} `.repeat(20)), 2);
    assert.equal(fixture.wss.publish('t', 'not compressed', { compress: false }), 2);
  } finally {
    MessageCompressor.prototype.compress = original;
  }
  assert.equal(compressions, 6);
  for (const { client } of pairs) {
    const inflater = zlib.createInflateRaw();
    const chunks = [];
    inflater.on('data', (chunk) => chunks.push(chunk));
    for (let i = 0; i < 3; i++) {
      const f = await client.nextFrame();
      assert.equal(f.rsv1, true);
      inflater.write(Buffer.concat([f.payload, Buffer.from([0, 0, 0xff, 0xff])]));
      await new Promise((resolve) => inflater.flush(resolve));
      assert.equal(Buffer.concat(chunks.splice(0)).toString(), `message ${i} `.repeat(20));
    }
    const last = await client.nextFrame();
    assert.equal(last.rsv1, false);
    assert.equal(last.payload.toString(), 'not compressed');
  }
});

test('the server\'s close() stops the hub\'s backplane; a hub works with any object of the interface', async () => {
  const calls = [];
  let deliver = null;
  const backplane = {
    id: 'fake-1',
    start(fn) {
      deliver = fn;
      calls.push('start');
    },
    stop() {
      calls.push('stop');
    },
    subscribe(topic) {
      calls.push(`subscribe ${topic}`);
    },
    unsubscribe(topic) {
      calls.push(`unsubscribe ${topic}`);
    },
    publish(topic, payload, binary) {
      calls.push(`publish ${topic} ${payload.toString('hex')} ${binary}`);
    },
  };
  const wss = new lib.WebSocketServer({ port: 0, host: HOST, backplane });
  await once(wss, 'listening');
  const port = wss.address().port;
  const connection = once(wss, 'connection');
  const client = await connect(port);
  const [ws] = await connection;
  ws.subscribe('a');
  ws.subscribe('b');
  await wss.topics.synced();
  assert.equal(wss.publish('a', 'hi'), 1);
  assert.equal((await client.nextFrame()).payload.toString(), 'hi');
  deliver('b', Buffer.from([7, 8]), true);
  const remote = await client.nextFrame();
  assert.equal(remote.opcode, OP.BINARY);
  assert.deepEqual([...remote.payload], [7, 8]);
  ws.unsubscribe('a');
  client.destroy();
  await once(ws, 'close');
  await withTimeout(new Promise((resolve) => wss.close(resolve)), 5000, 'server close');
  await wss.topics.synced();
  assert.deepEqual(calls, ['start', 'subscribe a', 'subscribe b', 'publish a 6869 false', 'unsubscribe a', 'unsubscribe b', 'stop']);
});

test('Sender#sendFrame: ready frames keep their place among framed sends, large payloads included; the callback follows the write', async () => {
  const { Duplex } = require('node:stream');
  const written = [];
  const socket = new Duplex({
    read() {},
    write(chunk, encoding, cb) {
      written.push(Buffer.from(chunk));
      cb();
    },
  });
  const sender = new Sender(socket);
  const ready = (text) => lib.encodeFrame({ opcode: OP.TEXT, payload: text });
  const large = Buffer.alloc(20000, 7); // over the merge limit: written by reference
  const calls = [];
  sender.sendFrame([ready('r1'), ready('r2')], () => calls.push('ready'));
  sender.frame(Buffer.from('f1'), OP.BINARY, true, false);
  sender.sendFrame([ready('r3')]);
  sender.frame(large, OP.BINARY, true, false, () => calls.push('large'));
  sender.sendFrame([ready('r4')]);
  sender.frame('f2', OP.TEXT, true, false);
  assert.equal(sender.pendingBytes, 4 * 4 + 4 + (4 + 20000) + 4);
  await new Promise((resolve) => setImmediate(resolve));
  const reader = new (require('./helpers').FrameReader)();
  reader.push(Buffer.concat(written));
  assert.deepEqual(reader.frames.map((f) => (f.payload.length > 100 ? `large ${f.payload.length}` : f.payload.toString())),
    ['r1', 'r2', 'f1', 'r3', 'large 20000', 'r4', 'f2']);
  assert.deepEqual(calls.sort(), ['large', 'ready']);
  assert.equal(sender.pendingBytes, 0);
  // Ready frames alone: no slab and no native call.
  written.length = 0;
  sender.sendFrame([ready('only')]);
  sender.flush();
  assert.deepEqual(written.map((b) => b.subarray(2).toString()), ['only']);
});
