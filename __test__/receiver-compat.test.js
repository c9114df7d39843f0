'use strict';

// ws 8.23's receiving side: the error object of each peer violation (class,
// code, message, closeCode), error handling on both sides, the receiver
// options (skipUTF8Validation, maxFragments, maxBufferedChunks,
// allowSynchronousEvents, maxPendingAutoPongs) with ws's defaults and int32
// coercion, and the automatic pong going through the public pong().

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const { Duplex } = require('node:stream');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const h = require('./helpers');

const lib = h.lib;
const { WebSocket, ProtocolError } = lib;
const T = { timeout: 15000 };

afterEach(h.closeAll);

/**
 * A server-side WebSocket on an in-memory transport: push() delivers one
 * chunk to it as one 'data' event; what it writes is kept in `written`
 * (with `holdWrites`, the write callbacks never run: a peer that does not read).
 */
async function memorySocket(options = {}, { holdWrites = false } = {}) {
  const written = [];
  const transport = new Duplex({
    read() {},
    write(chunk, encoding, cb) {
      written.push(chunk);
      if (!holdWrites) cb();
    },
  });
  const ws = new WebSocket(null);
  const events = [];
  ws.on('message', (data, isBinary) => events.push(['message', Buffer.from(data).toString('latin1'), isBinary]));
  ws.on('ping', (data) => events.push(['ping', data.toString()]));
  ws.on('error', (err) => events.push(['error', err]));
  ws.on('close', (code) => events.push(['close', code]));
  ws.setSocket(transport, Buffer.alloc(0), options);
  // The transport starts flowing on the next tick; from then on a push is one synchronous 'data' event.
  await new Promise((resolve) => setImmediate(resolve));
  return { ws, transport, written, events, push: (bytes) => transport.push(bytes) };
}

/** Opcodes of the frames a server-side socket wrote (unmasked, one write may hold several). */
function writtenFrames(written) {
  const reader = new h.FrameReader();
  for (const chunk of written) reader.push(chunk);
  return reader.frames;
}

function errorsOf(events) {
  return events.filter(([kind]) => kind === 'error').map(([, err]) => err);
}

describe('peer violations: the error object ws emits', () => {
  const cases = [
    ['a reserved opcode', h.frame({ opcode: 5, payload: '' }), RangeError, 'WS_ERR_INVALID_OPCODE', 'Invalid WebSocket frame: invalid opcode 5', 1002],
    // @fastify/websocket's test: unmasked AND RSV2 set; ws checks RSV2/RSV3 first.
    ['an unmasked frame with RSV2 set', Buffer.from([0xa2, 0x00]), RangeError, 'WS_ERR_UNEXPECTED_RSV_2_3', 'Invalid WebSocket frame: RSV2 and RSV3 must be clear', 1002],
    ['RSV1 without permessage-deflate', h.frame({ opcode: 1, rsv1: true, payload: 'x' }), RangeError, 'WS_ERR_UNEXPECTED_RSV_1', 'Invalid WebSocket frame: RSV1 must be clear', 1002],
    ['an unmasked frame', h.frame({ opcode: 1, payload: 'x', mask: false }), RangeError, 'WS_ERR_EXPECTED_MASK', 'Invalid WebSocket frame: MASK must be set', 1002],
    ['a fragmented ping', h.frame({ opcode: 9, fin: false, payload: '' }), RangeError, 'WS_ERR_EXPECTED_FIN', 'Invalid WebSocket frame: FIN must be set', 1002],
    ['a 126-byte ping', h.frame({ opcode: 9, payload: Buffer.alloc(126) }), RangeError, 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 'Invalid WebSocket frame: invalid payload length 126', 1002],
    ['close code 1005', h.close(1005), RangeError, 'WS_ERR_INVALID_CLOSE_CODE', 'Invalid WebSocket frame: invalid status code 1005', 1002],
    ['invalid UTF-8 text', h.frame({ opcode: 1, payload: Buffer.from([0xce, 0xba, 0xff]) }), Error, 'WS_ERR_INVALID_UTF8', 'Invalid WebSocket frame: invalid UTF-8 sequence', 1007],
    ['a close reason that is not UTF-8', h.frame({ opcode: 8, payload: Buffer.from([0x03, 0xe8, 0xff]) }), Error, 'WS_ERR_INVALID_UTF8', 'Invalid WebSocket frame: invalid UTF-8 sequence', 1007],
    [
      'a 64-bit length over 2^53 - 1',
      Buffer.from([0x82, 0xff, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]),
      RangeError,
      'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
      'Unsupported WebSocket frame: payload length > 2^53 - 1',
      1009,
    ],
  ];
  for (const [what, wire, Class, code, message, closeCode] of cases) {
    it(`${what}: ${Class.name} ${code}, closeCode ${closeCode}, and a close frame with it`, async () => {
      const { push, events, written } = await memorySocket();
      push(wire);
      const [err] = errorsOf(events);
      assert.ok(err, 'an error was emitted');
      assert.equal(Object.getPrototypeOf(err), Class.prototype, `class ${err.constructor.name}`);
      assert.deepEqual([err.code, err.message, err.closeCode], [code, message, closeCode]);
      assert.ok(err instanceof ProtocolError, 'still an instance of the exported ProtocolError');
      const frames = writtenFrames(written);
      assert.equal(frames.at(-1).opcode, h.OP.CLOSE);
      assert.equal(frames.at(-1).closeCode, closeCode);
    });
  }

  it('new ProtocolError() is a RangeError with closeCode and code', () => {
    const err = new ProtocolError('boom', 1002, 'WS_ERR_INVALID_OPCODE');
    assert.ok(err instanceof RangeError && err instanceof ProtocolError);
    assert.deepEqual([err.message, err.closeCode, err.code], ['boom', 1002, 'WS_ERR_INVALID_OPCODE']);
  });

  it("a corrupt deflate stream in a binary message is zlib's data error (Z_DATA_ERROR, errno -3, 1007), not invalid UTF-8", T, async () => {
    const fixture = await h.startServer('wss', { perMessageDeflate: true });
    const { client, conn } = await h.connectPair(fixture, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } });
    await client.write(h.frame({ opcode: 2, rsv1: true, payload: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]) }));
    await h.expectFailure(client, 1007);
    await conn.closed;
    const [err] = conn.errors;
    assert.equal(Object.getPrototypeOf(err), Error.prototype);
    assert.deepEqual([err.code, err.errno, err.closeCode], ['Z_DATA_ERROR', -3, 1007]);
  });
});

describe('error handling', () => {
  it("emits 'error' once, then 'close' with 1006 after the peer's close frame too", async () => {
    const { push, events, transport } = await memorySocket();
    push(Buffer.concat([h.frame({ opcode: 5, payload: '' }), h.close(1000), h.frame({ opcode: 6, payload: '' })]));
    push(h.frame({ opcode: 7, payload: '' }));
    transport.destroy();
    return new Promise((resolve) => setImmediate(resolve)).then(() => {
      assert.deepEqual(
        events.map(([kind, x]) => (kind === 'error' ? [kind, x.code] : [kind, x])),
        [
          ['error', 'WS_ERR_INVALID_OPCODE'],
          ['close', 1006],
        ]
      );
    });
  });

  it('a server-side socket with no error listener does not crash the process on a violation', T, async () => {
    const fixture = await h.startServer('wss');
    const connection = new Promise((resolve) => fixture.wss.once('connection', resolve));
    const client = await h.connect(fixture.port);
    const ws = await connection;
    ws.removeAllListeners('error');
    // (events.once would listen for 'error' too)
    const closed = new Promise((resolve) => ws.on('close', (...args) => resolve(args)));
    await client.write(h.frame({ opcode: 5, payload: '' }));
    await h.expectFailure(client, 1002);
    const [code] = await closed;
    assert.equal(code, 1006);
  });

  it('a client with no error listener throws when the server breaks the protocol (as ws)', T, async () => {
    const server = h.trackServer(http.createServer());
    server.on('upgrade', (req, socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${h.computeAccept(req.headers['sec-websocket-key'])}\r\n\r\n`
      );
      socket.on('error', () => {});
      socket.write(Buffer.from([0x85, 0x00]));
    });
    await new Promise((resolve) => server.listen(0, h.HOST, resolve));
    const script = `
      const { WebSocket } = require(${JSON.stringify(path.join(__dirname, '..'))});
      const ws = new WebSocket(process.argv[1]);
      ws.on('close', () => setTimeout(() => process.exit(0), 200));
    `;
    const child = spawn(process.execPath, ['-e', script, `ws://${h.HOST}:${server.address().port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const [code] = await once(child, 'exit');
    assert.notEqual(code, 0, 'the violation should have thrown');
    assert.match(stderr, /RangeError: Invalid WebSocket frame: invalid opcode 5/);
  });
});

describe('receiver options', () => {
  it("have ws's defaults: 16384 fragments, 262144 chunks, 60 pending pongs, UTF-8 checked, synchronous events", async () => {
    const { DEFAULTS } = require('../lib/options');
    assert.deepEqual(
      [DEFAULTS.maxFragments, DEFAULTS.maxBufferedChunks, DEFAULTS.maxPendingAutoPongs, DEFAULTS.skipUTF8Validation, DEFAULTS.allowSynchronousEvents],
      [16384, 262144, 60, false, true]
    );
    const { ws } = await memorySocket();
    assert.deepEqual([ws._receiver._maxFragments, ws._receiver._maxBufferedChunks], [16384, 262144]);
  });

  it('skipUTF8Validation: text that is not UTF-8 arrives as it is', async () => {
    const { push, events } = await memorySocket({ skipUTF8Validation: true });
    push(h.frame({ opcode: 1, payload: Buffer.from([0x61, 0xff]) }));
    assert.deepEqual(events, [['message', 'a\xff', false]]);
  });

  it("maxFragments: one fragment too many fails with 1008 and ws's error", async () => {
    const three = Buffer.concat([h.frame({ opcode: 1, fin: false, payload: 'a' }), h.cont('b', { fin: false }), h.cont('c')]);
    const ok = await memorySocket({ maxFragments: 3 });
    ok.push(Buffer.from(three));
    assert.deepEqual(ok.events, [['message', 'abc', false]]);
    const refused = await memorySocket({ maxFragments: 2 });
    refused.push(three);
    const [err] = errorsOf(refused.events);
    assert.equal(Object.getPrototypeOf(err), RangeError.prototype);
    assert.deepEqual([err.code, err.message, err.closeCode], ['WS_ERR_TOO_MANY_BUFFERED_PARTS', 'Too many message fragments', 1008]);
    assert.equal(writtenFrames(refused.written).at(-1).closeCode, 1008);
  });

  it('maxBufferedChunks: a frame may span that many socket chunks, not one more', async () => {
    const wire = h.binary(Buffer.alloc(10, 7)); // 16 bytes with its mask
    const deliver = async (limit) => {
      const socket = await memorySocket({ maxBufferedChunks: limit });
      for (const byte of wire) socket.push(Buffer.from([byte]));
      return socket.events;
    };
    assert.deepEqual(await deliver(16), [['message', '\x07'.repeat(10), true]]);
    const [err] = errorsOf(await deliver(15));
    assert.deepEqual([err.code, err.message, err.closeCode], ['WS_ERR_TOO_MANY_BUFFERED_PARTS', 'Too many buffered chunks', 1008]);
  });

  it('numeric limits are coerced to int32 as ws does (| 0), and must be numbers', async () => {
    const three = Buffer.concat([h.frame({ opcode: 1, fin: false, payload: 'a' }), h.cont('b', { fin: false }), h.cont('c')]);
    // 2^32 + 2 | 0 === 2: the limit is 2.
    const coerced = await memorySocket({ maxFragments: 2 ** 32 + 2 });
    coerced.push(Buffer.from(three));
    assert.equal(errorsOf(coerced.events)[0].code, 'WS_ERR_TOO_MANY_BUFFERED_PARTS');
    // 2^32 | 0 === 0: no limit.
    const off = await memorySocket({ maxFragments: 2 ** 32 });
    off.push(three);
    assert.deepEqual(off.events, [['message', 'abc', false]]);
    assert.throws(() => new WebSocket(null).setSocket(new Duplex({ read() {}, write() {} }), Buffer.alloc(0), { maxFragments: '2' }), {
      name: 'TypeError',
      message: /^maxFragments: /,
    });
  });

  it('allowSynchronousEvents false: one message or ping per event-loop turn, in order, close after them', async () => {
    const wire = Buffer.concat([h.text('a'), h.ping('p'), h.text('b'), h.close(1000)]);
    const eager = await memorySocket();
    eager.push(Buffer.from(wire)); // (unmasked in place)
    assert.deepEqual(eager.events.slice(0, 3), [['message', 'a', false], ['ping', 'p'], ['message', 'b', false]]);

    const deferred = await memorySocket({ allowSynchronousEvents: false });
    deferred.ws.on('close', () => {});
    deferred.push(Buffer.from(wire));
    const turns = [];
    for (let i = 0; i < 4; i++) {
      turns.push(deferred.events.length);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(turns, [0, 1, 2, 3], JSON.stringify(deferred.events));
    assert.deepEqual(deferred.events.slice(0, 3), [['message', 'a', false], ['ping', 'p'], ['message', 'b', false]]);
    await once(deferred.ws, 'close');
    assert.equal(deferred.ws._closeCode, 1000);

    // The transport closes while messages wait: they still come, before 'close'.
    const cut = await memorySocket({ allowSynchronousEvents: false });
    cut.push(Buffer.concat([h.text('x'), h.text('y')]));
    cut.transport.destroy();
    await once(cut.ws, 'close');
    assert.deepEqual(cut.events, [['message', 'x', false], ['message', 'y', false], ['close', 1006]]);
  });
});

describe('automatic pong', () => {
  it('goes through the public pong(), so overriding it silences the answer (graphql-ws keep-alive)', async () => {
    const answered = await memorySocket();
    answered.push(h.ping('hi'));
    assert.deepEqual(
      writtenFrames(answered.written).map((f) => [f.opcode, f.payload.toString()]),
      [[h.OP.PONG, 'hi']]
    );
    const silenced = await memorySocket();
    const calls = [];
    silenced.ws.pong = (...args) => calls.push(args);
    silenced.push(h.ping('hi'));
    assert.equal(writtenFrames(silenced.written).length, 0);
    assert.equal(calls.length, 1);
    assert.equal(calls[0][0].toString(), 'hi');
  });

  it('maxPendingAutoPongs: a peer that pings without reading is terminated past the limit', async () => {
    const { push, ws } = await memorySocket({ maxPendingAutoPongs: 2 }, { holdWrites: true });
    push(h.ping('1'));
    push(h.ping('2'));
    assert.equal(ws.readyState, WebSocket.OPEN);
    push(h.ping('3'));
    assert.notEqual(ws.readyState, WebSocket.OPEN);
  });
});
