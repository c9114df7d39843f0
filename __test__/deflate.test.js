'use strict';

// permessage-deflate (RFC 7692): negotiation, compressed traffic both ways
// checked against Node's own zlib (independent of the library), context
// takeover, the decompression-bomb limit, bad RSV1 use, and interop with the
// ws client and Node's built-in WebSocket client.

const { test, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const zlib = require('node:zlib');
const { execFile } = require('node:child_process');
const {
  lib,
  KINDS,
  OP,
  frame,
  ping,
  upgradeRequest,
  rawHttp,
  computeAccept,
  randomKey,
  startServer,
  closeAll,
  expectFailure,
  withTimeout,
} = require('./helpers');
const WS = require('ws');

afterEach(closeAll);

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Compresses one message as RFC 7692 §7.2.1 says, with Node's zlib. */
function compress(data, stream) {
  if (stream) {
    const out = [];
    stream.write(data);
    return new Promise((resolve) => {
      stream.on('data', (d) => out.push(d));
      stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        stream.removeAllListeners('data');
        const all = Buffer.concat(out);
        resolve(all.subarray(0, all.length - 4));
      });
    });
  }
  const all = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return Promise.resolve(all.subarray(0, all.length - 4));
}

/** Inflates one server message with Node's zlib (a fresh context: no takeover). */
function inflate(payload) {
  return zlib.inflateRawSync(Buffer.concat([payload, TAIL]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

/** Opens a raw connection offering `extensions`; resolves with the response and client. */
async function handshake(port, extensions) {
  const key = randomKey();
  const headers = extensions === undefined ? {} : { 'Sec-WebSocket-Extensions': extensions };
  const res = await rawHttp(port, Buffer.from(upgradeRequest({ key, headers })));
  if (res.status === 101) assert.equal(res.headers['sec-websocket-accept'], computeAccept(key));
  return res;
}

const compressed = (opcode, payload, opts = {}) => frame({ opcode, payload, rsv1: true, ...opts });

for (const kind of KINDS) {
  test(`${kind}: negotiation matrix`, async () => {
    const cases = [
      // [server option, offer, expected response (null: declined), expected status]
      [true, 'permessage-deflate', 'permessage-deflate', 101],
      // A valueless client_max_window_bits is only answered when the server sets one (as ws).
      [true, 'permessage-deflate; client_max_window_bits', 'permessage-deflate', 101],
      [{ serverNoContextTakeover: true }, 'permessage-deflate', 'permessage-deflate; server_no_context_takeover', 101],
      [{ clientNoContextTakeover: true }, 'permessage-deflate', 'permessage-deflate; client_no_context_takeover', 101],
      [true, 'permessage-deflate; server_max_window_bits=10', 'permessage-deflate; server_max_window_bits=10', 101],
      [{ serverMaxWindowBits: 9 }, 'permessage-deflate; server_max_window_bits=12', 'permessage-deflate; server_max_window_bits=9', 101],
      [{ clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits', 'permessage-deflate; client_max_window_bits=10', 101],
      // Declined offers: the handshake still succeeds, without the extension.
      [{ clientMaxWindowBits: 10 }, 'permessage-deflate', null, 101],
      [true, 'permessage-deflate; unknown_param', null, 101],
      [true, 'permessage-deflate; server_max_window_bits=7', null, 101],
      [true, 'permessage-deflate; server_max_window_bits=16', null, 101],
      [true, 'permessage-deflate; server_no_context_takeover; server_no_context_takeover', null, 101],
      [true, 'x-webkit-deflate-frame', null, 101],
      [false, 'permessage-deflate', null, 101],
      // The first acceptable offer wins; quoted values and odd spacing parse.
      [true, 'permessage-deflate; bogus, permessage-deflate; server_max_window_bits="11"', 'permessage-deflate; server_max_window_bits=11', 101],
      [true, 'PerMessage-Deflate ;  Client_Max_Window_Bits = 12', 'permessage-deflate; client_max_window_bits=12', 101],
      // A header that does not parse fails the handshake.
      [true, 'permessage-deflate; =', null, 400],
      [true, 'permessage-deflate; server_max_window_bits="10', null, 400],
    ];
    for (const [option, offer, expected, status] of cases) {
      const fixture = await startServer(kind, { perMessageDeflate: option });
      const res = await handshake(fixture.port, offer);
      const what = `${JSON.stringify(option)} / ${offer}`;
      assert.equal(res.status, status, what);
      if (status === 101) {
        const answer = res.headers['sec-websocket-extensions'];
        if (expected === null) assert.equal(answer, undefined, what);
        else assert.deepEqual(canonical(answer), canonical(expected), what);
        const conn = await fixture.nextConnection();
        assert.equal(conn.ws.extensions, expected === null ? '' : 'permessage-deflate', what);
      }
      await closeAll();
    }
  });
}

/** Extension parameters as a sorted list, so their order does not matter. */
function canonical(value) {
  const [name, ...params] = value.split(';').map((p) => p.trim());
  return [name, ...params.sort()];
}

test('server messages at or over the threshold are compressed, smaller ones are not', async () => {
  const fixture = await startServer('wss', { perMessageDeflate: { threshold: 100 } });
  const res = await handshake(fixture.port, 'permessage-deflate; client_max_window_bits');
  const conn = await fixture.nextConnection();
  const client = res.client;
  const big = JSON.stringify({ items: Array.from({ length: 50 }, (_, i) => ({ id: i, name: `item ${i}` })) });
  conn.ws.send('short');
  conn.ws.send(big);
  conn.ws.send(Buffer.alloc(5000, 7));
  conn.ws.send(Buffer.alloc(5000, 7), { compress: false });
  const frames = [await client.nextFrame(), await client.nextFrame(), await client.nextFrame(), await client.nextFrame()];
  assert.deepEqual(frames.map((f) => [f.opcode, f.rsv1]), [[OP.TEXT, false], [OP.TEXT, true], [OP.BINARY, true], [OP.BINARY, false]]);
  assert.equal(frames[0].payload.toString(), 'short');
  assert.ok(frames[1].payload.length < big.length / 2, 'JSON shrinks');
  // A fresh zlib can read the first compressed message; the second used the
  // same context (takeover), so inflate both through one stream.
  const inflater = zlib.createInflateRaw();
  const readAll = async (payload) => {
    const out = [];
    inflater.write(Buffer.concat([payload, TAIL]));
    await new Promise((r) => inflater.flush(zlib.constants.Z_SYNC_FLUSH, r));
    let chunk;
    while ((chunk = inflater.read()) !== null) out.push(chunk);
    return Buffer.concat(out);
  };
  assert.equal((await readAll(frames[1].payload)).toString(), big);
  assert.deepEqual(await readAll(frames[2].payload), Buffer.alloc(5000, 7));
  assert.deepEqual(frames[3].payload, Buffer.alloc(5000, 7));
});

test('server context takeover on by default, off with serverNoContextTakeover', async () => {
  const message = 'the quick brown fox jumps over the lazy dog, '.repeat(40);
  const sizes = {};
  for (const serverNoContextTakeover of [false, true]) {
    const fixture = await startServer('wss', { perMessageDeflate: { serverNoContextTakeover, threshold: 0 } });
    const res = await handshake(fixture.port, 'permessage-deflate');
    const conn = await fixture.nextConnection();
    conn.ws.send(message);
    conn.ws.send(message);
    const first = await res.client.nextFrame();
    const second = await res.client.nextFrame();
    if (serverNoContextTakeover) {
      // Each message stands alone: a fresh inflater reads each one.
      assert.equal(inflate(first.payload).toString(), message);
      assert.equal(inflate(second.payload).toString(), message);
    }
    sizes[serverNoContextTakeover] = [first.payload.length, second.payload.length];
    await closeAll();
  }
  assert.ok(sizes.false[1] < sizes.false[0] / 2, `takeover shrinks the repeat: ${sizes.false}`);
  assert.equal(sizes.true[1], sizes.true[0], `no takeover: same size twice: ${sizes.true}`);
});

for (const kind of KINDS) {
  test(`${kind}: compressed client messages (whole, fragmented, with takeover, split per byte) arrive whole`, async () => {
    const fixture = await startServer(kind, { perMessageDeflate: true });
    const res = await handshake(fixture.port, 'permessage-deflate; client_max_window_bits');
    const conn = await fixture.nextConnection();
    const client = res.client;
    const text = '孩子,地球太危险了,快回火星去吧! '.repeat(30);
    const stream = zlib.createDeflateRaw();
    const one = await compress(Buffer.from(text), stream);
    const two = await compress(Buffer.from(text), stream); // refers back to message one
    assert.ok(two.length < one.length);
    const third = Buffer.from(await compress(Buffer.from('binary payload '.repeat(20)), stream));
    // Sent in the order they were compressed: each may refer back to the ones before.
    await client.write(compressed(OP.TEXT, one));
    await client.write(compressed(OP.TEXT, two), { oneByteAtATime: true });
    const cut = third.length >> 1;
    await client.write(
      Buffer.concat([
        frame({ opcode: OP.BINARY, payload: third.subarray(0, cut), rsv1: true, fin: false }),
        ping('between'),
        frame({ opcode: OP.CONT, payload: third.subarray(cut) }),
      ])
    );
    await client.write(frame({ opcode: OP.TEXT, payload: 'plain' }));
    const messages = await withTimeout(conn.waitMessages(4), 10000, 'four messages');
    assert.deepEqual(
      messages.map((m) => [m.data.toString(), m.isBinary]),
      [[text, false], [text, false], ['binary payload '.repeat(20), true], ['plain', false]]
    );
  });
}

test('maxPayload applies to the inflated size: a small bomb closes with 1009', async () => {
  const fixture = await startServer('wss', { perMessageDeflate: true, maxPayload: 1024 * 1024 });
  const res = await handshake(fixture.port, 'permessage-deflate');
  const conn = await fixture.nextConnection();
  const bomb = await compress(Buffer.alloc(10 * 1024 * 1024));
  assert.ok(bomb.length < 20 * 1024, `bomb is small on the wire: ${bomb.length}`);
  await res.client.write(compressed(OP.BINARY, bomb));
  await expectFailure(res.client, 1009);
  assert.equal(conn.messages.length, 0);
});

test('corrupt deflate data closes with 1007', async () => {
  const fixture = await startServer('accept', { perMessageDeflate: true });
  const res = await handshake(fixture.port, 'permessage-deflate');
  await fixture.nextConnection();
  await res.client.write(compressed(OP.TEXT, Buffer.from([0xff, 0xff, 0xff])));
  await expectFailure(res.client, 1007);
});

test('RSV1 on a control frame or a continuation, or without the extension, closes with 1002', async () => {
  const cases = [
    [true, frame({ opcode: OP.PING, payload: 'x', rsv1: true })],
    [true, Buffer.concat([frame({ opcode: OP.TEXT, payload: 'a', fin: false }), frame({ opcode: OP.CONT, payload: 'b', rsv1: true })])],
    [false, compressed(OP.TEXT, Buffer.from([0x4a, 0x04, 0x00]))],
  ];
  for (const [deflate, bytes] of cases) {
    const fixture = await startServer('wss', { perMessageDeflate: deflate });
    const res = await handshake(fixture.port, 'permessage-deflate');
    await fixture.nextConnection();
    await res.client.write(bytes);
    await expectFailure(res.client, 1002);
    await closeAll();
  }
});

test('interop: the ws client with perMessageDeflate, both directions, across the threshold', async () => {
  const fixture = await startServer('wss', { perMessageDeflate: { threshold: 512 } });
  fixture.wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const client = new WS(`ws://127.0.0.1:${fixture.port}/`, { perMessageDeflate: { threshold: 0 } });
  await new Promise((resolve, reject) => {
    client.once('open', resolve);
    client.once('error', reject);
  });
  assert.match(client.extensions, /permessage-deflate/);
  const payloads = ['small', 'x'.repeat(511), JSON.stringify({ a: 'b'.repeat(5000) }), Buffer.alloc(100000, 3), Buffer.alloc(0)];
  const received = [];
  const done = new Promise((resolve) =>
    client.on('message', (data, isBinary) => {
      received.push([Buffer.from(data), isBinary]);
      if (received.length === payloads.length) resolve();
    })
  );
  for (const p of payloads) client.send(p);
  await withTimeout(done, 10000, 'echoes');
  for (let i = 0; i < payloads.length; i++) {
    assert.deepEqual(received[i][0], Buffer.from(payloads[i]));
    assert.equal(received[i][1], typeof payloads[i] !== 'string');
  }
  const closed = new Promise((resolve) => client.on('close', (code, reason) => resolve([code, reason.toString()])));
  client.close(1000, 'bye');
  assert.deepEqual(await closed, [1000, 'bye']);
});

test("interop: Node's built-in WebSocket client (as browsers do)", async () => {
  const fixture = await startServer('wss', { perMessageDeflate: { threshold: 0 } });
  fixture.wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const script = `
    const ws = new WebSocket('ws://127.0.0.1:${fixture.port}/');
    const text = JSON.stringify({ hello: 'world'.repeat(500) });
    ws.onopen = () => ws.send(text);
    ws.onmessage = (e) => { console.log(JSON.stringify({ extensions: ws.extensions, same: e.data === text })); ws.close(1000, 'done'); };
    ws.onclose = (e) => console.log(JSON.stringify({ code: e.code }));
  `;
  const out = await new Promise((resolve, reject) =>
    execFile(process.execPath, ['--experimental-websocket', '-e', script], { timeout: 10000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim().split('\n').map((l) => JSON.parse(l)))
    )
  );
  assert.equal(out[0].same, true);
  assert.equal(out[1].code, 1000);
  // Whether this client offers permessage-deflate depends on its version; when
  // it does, the extension must have been agreed.
  const conn = fixture.conns[0];
  assert.equal(out[0].extensions, conn.ws.extensions);
});

test('perMessageDeflate options are checked', () => {
  assert.throws(() => new lib.WebSocketServer({ noServer: true, perMessageDeflate: { serverMaxWindowBits: 16 } }), { name: 'RangeError', message: /server_max_window_bits|serverMaxWindowBits/ });
  assert.throws(() => new lib.WebSocketServer({ noServer: true, perMessageDeflate: { level: 10 } }), { name: 'RangeError', message: /level/ });
  assert.throws(() => new lib.WebSocketServer({ noServer: true, perMessageDeflate: { memLevel: 0 } }), { name: 'RangeError', message: /mem_?level/i });
});
