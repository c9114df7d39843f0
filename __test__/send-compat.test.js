'use strict';

// Sending as ws 8.23 does: Blobs (read in order with the sends around them),
// binaryType 'blob', send() with no data, sends after the close, control
// payload limits, close() argument errors, send's `mask` option and the
// client's generateMask; the WebSocket attributes as prototype accessors.

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { once } = require('node:events');
const lib = require('..');

const { WebSocket, WebSocketServer } = lib;
const T = { timeout: 15000 };

const servers = [];
const clients = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await Promise.all(servers.splice(0).map(
      (wss) =>
        new Promise((resolve) => {
          // A failed test may leave connections open; the server's close waits for them.
          for (const ws of wss.clients) ws.terminate();
          wss.close(resolve);
        })
    ));
});

/**
 * A native-ws server and a native-ws client connected to it.
 * @returns {Promise<{ client: WebSocket, server: WebSocket, raw: Buffer[] }>} raw: bytes the server received
 */
async function pair(clientOptions = {}, serverOptions = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...serverOptions });
  servers.push(wss);
  await once(wss, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${wss.address().port}`, clientOptions);
  clients.push(client);
  const [server] = await once(wss, 'connection');
  const raw = [];
  server._socket.prependListener('data', (chunk) => raw.push(Buffer.from(chunk)));
  if (client.readyState !== WebSocket.OPEN) await once(client, 'open');
  return { client, server, raw };
}

/** The next `count` messages `ws` emits, as [data, isBinary]. */
function messages(ws, count) {
  return new Promise((resolve) => {
    const got = [];
    ws.on('message', function onMessage(data, isBinary) {
      got.push([data, isBinary]);
      if (got.length === count) {
        ws.removeListener('message', onMessage);
        resolve(got);
      }
    });
  });
}

describe('send(Blob) and binaryType blob', () => {
  it('a Blob is sent as binary, and the sends made while it is read keep their order', T, async () => {
    const { client, server } = await pair();
    const received = messages(server, 5);
    client.send('first');
    client.send(new Blob(['second']));
    client.send('third');
    client.send(new Blob([Buffer.from('fourth')]));
    client.send(Buffer.from('fifth'));
    const got = await received;
    assert.deepEqual(
      got.map(([data, isBinary]) => [data.toString(), isBinary]),
      [['first', false], ['second', true], ['third', false], ['fourth', true], ['fifth', true]]
    );
  });

  it('ping(Blob) and a close() made while a Blob is read wait for it', T, async () => {
    const { client, server } = await pair();
    const order = [];
    server.on('message', (data) => order.push(`message ${data}`));
    server.on('ping', (data) => order.push(`ping ${data}`));
    client.send(new Blob(['blob']));
    client.ping(new Blob(['p']));
    client.close(1000, 'done');
    const [code, reason] = await once(server, 'close');
    assert.deepEqual(order, ['message blob', 'ping p']);
    assert.equal(code, 1000);
    assert.equal(reason.toString(), 'done');
  });

  it('a compressed connection sends a Blob too', T, async () => {
    const { client, server } = await pair({ perMessageDeflate: { threshold: 0 } }, { perMessageDeflate: { threshold: 0 } });
    assert.equal(client.extensions, 'permessage-deflate');
    const received = messages(server, 2);
    client.send(new Blob(['x'.repeat(1000)]));
    client.send('after');
    const got = await received;
    assert.equal(got[0][0].toString(), 'x'.repeat(1000));
    assert.equal(got[1][0].toString(), 'after');
  });

  it("binaryType 'blob' delivers binary messages as Blobs; text stays a Buffer", T, async () => {
    const { client, server } = await pair();
    client.binaryType = 'blob';
    assert.equal(client.binaryType, 'blob');
    const received = messages(client, 2);
    server.send(Buffer.from('bytes'));
    server.send('text');
    const got = await received;
    assert.ok(got[0][0] instanceof Blob);
    assert.equal(await got[0][0].text(), 'bytes');
    assert.ok(Buffer.isBuffer(got[1][0]));
  });

  it('a socket closed while a Blob is read fails it and the sends behind it with ws\'s error', T, async () => {
    const { client } = await pair();
    const errors = [];
    client.send(new Blob(['foo']), (err) => errors.push(err));
    client.send('bar', (err) => errors.push(err));
    assert.equal(client.bufferedAmount, 6, 'the Blob and the send behind it count as buffered');
    client.terminate();
    await once(client, 'close');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(errors.length, 2);
    for (const err of errors) assert.equal(err.message, 'The socket was closed while the blob was being read');
  });

  it('a Blob that cannot be read fails its send, emits the error once and ends the connection', T, async (t) => {
    if (typeof fs.openAsBlob !== 'function') return t.skip('fs.openAsBlob needs Node 19.8');
    const file = path.join(os.tmpdir(), `native-ws-${crypto.randomBytes(4).toString('hex')}.txt`);
    fs.writeFileSync(file, 'x'.repeat(64));
    t.after(() => fs.rmSync(file, { force: true }));
    const blob = await fs.openAsBlob(file);
    fs.writeFileSync(file, 'x'.repeat(32)); // the Blob no longer matches the file
    const { client, server } = await pair();
    const sendErrors = [];
    const emitted = [];
    client.on('error', (err) => emitted.push(err));
    // (events.once() would reject on the 'error' event.)
    const closed = new Promise((resolve) => client.on('close', resolve));
    client.send(blob, (err) => sendErrors.push(err));
    const code = await closed;
    assert.equal(sendErrors.length, 1);
    assert.equal(sendErrors[0].name, 'NotReadableError');
    assert.deepEqual(emitted, sendErrors);
    assert.equal(code, 1006);
    assert.equal(server.readyState === WebSocket.CLOSING || server.readyState === WebSocket.CLOSED, true);
  });
});

describe('send()/ping()/pong() arguments and states', () => {
  it('send() with no data sends an empty binary message', T, async () => {
    const { client, server } = await pair();
    const received = messages(server, 1);
    client.send();
    const [[data, isBinary]] = await received;
    assert.equal(data.length, 0);
    assert.equal(isBinary, true);
  });

  it('after close(), send/ping/pong add to bufferedAmount and call back with ws\'s error instead of throwing', T, async () => {
    const { client } = await pair();
    client.close();
    assert.equal(client.bufferedAmount, 0, 'the close frame is written at once');
    const errors = [];
    client.send('hello', (err) => errors.push(err.message));
    client.ping(Buffer.alloc(200), (err) => errors.push(err.message)); // no size check once closing, as in ws
    client.pong(new Blob(['ab']), (err) => errors.push(err.message));
    client.send();
    assert.equal(client.bufferedAmount, 5 + 200 + 2);
    await new Promise((resolve) => process.nextTick(resolve));
    assert.deepEqual(errors, Array(3).fill('WebSocket is not open: readyState 2 (CLOSING)'));
    await once(client, 'close');
    client.ping('hi', (err) => errors.push(err.message));
    assert.equal(client.bufferedAmount, 5 + 200 + 2 + 2);
    await new Promise((resolve) => process.nextTick(resolve));
    assert.equal(errors[3], 'WebSocket is not open: readyState 3 (CLOSED)');
  });

  it('ping/pong over 125 bytes throw ws\'s RangeError while open; 125 bytes are sent', T, async () => {
    const { client, server } = await pair();
    for (const method of ['ping', 'pong']) {
      assert.throws(() => client[method](Buffer.alloc(126)), { name: 'RangeError', message: 'The data size must not be greater than 125 bytes' });
      assert.throws(() => client[method]('é'.repeat(63)), { name: 'RangeError', message: 'The data size must not be greater than 125 bytes' });
    }
    const [data] = await Promise.all([once(server, 'ping').then(([d]) => d), client.ping(Buffer.alloc(125, 1))]);
    assert.equal(data.length, 125);
    assert.equal(client.readyState, WebSocket.OPEN);
  });

  it('close() with a bad code or reason throws ws\'s errors and leaves the socket open', T, async () => {
    const { client } = await pair();
    assert.throws(() => client.close(1005), { name: 'TypeError', message: 'First argument must be a valid error code number' });
    assert.throws(() => client.close('1000'), { name: 'TypeError', message: 'First argument must be a valid error code number' });
    assert.throws(() => client.close(1000, 'x'.repeat(124)), { name: 'RangeError', message: 'The message must not be greater than 123 bytes' });
    assert.throws(() => client.close(1000, {}), { name: 'TypeError', message: 'Second argument must be a string or a Uint8Array' });
    assert.equal(client.readyState, WebSocket.OPEN);
  });
});

describe('masking', () => {
  it("the client's generateMask fills each frame's masking key", T, async () => {
    let calls = 0;
    const { client, server, raw } = await pair({
      generateMask(mask) {
        calls++;
        mask.set([1, 2, 3, 4]);
      },
    });
    const received = messages(server, 1);
    client.send('hi');
    const [[data]] = await received;
    assert.equal(data.toString(), 'hi');
    assert.equal(calls, 1);
    const bytes = Buffer.concat(raw);
    assert.deepEqual([...bytes.subarray(2, 6)], [1, 2, 3, 4]);
    assert.deepEqual([...bytes.subarray(6, 8)], ['h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);
  });

  it('generateMask must be a function', () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', { generateMask: 42 }), { name: 'TypeError', message: /generateMask/ });
  });

  it("send's mask: false on the client sends an unmasked frame, which the server refuses with 1002", T, async () => {
    const { client, server, raw } = await pair();
    server.on('error', () => {});
    client.send('hi', { mask: false });
    const [code] = await once(client, 'close');
    assert.equal(code, 1002);
    assert.deepEqual([...Buffer.concat(raw).subarray(0, 2)], [0x81, 0x02]);
  });

  it("send's mask: true on the server sends a masked frame, which the client refuses with 1002", T, async () => {
    const { client, server } = await pair();
    client.on('error', () => {});
    const raw = [];
    client._socket.prependListener('data', (chunk) => raw.push(Buffer.from(chunk)));
    server.send('hi', { mask: true });
    const [code] = await once(server, 'close');
    assert.equal(code, 1002);
    assert.equal(Buffer.concat(raw)[1] & 0x80, 0x80);
  });
});

describe('attributes', () => {
  for (const name of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url']) {
    it(`${name} is an enumerable, configurable accessor on the prototype, not an own property`, () => {
      const descriptor = Object.getOwnPropertyDescriptor(WebSocket.prototype, name);
      assert.equal(descriptor.enumerable, true);
      assert.equal(descriptor.configurable, true);
      assert.equal(typeof descriptor.get, 'function');
      assert.equal(descriptor.set === undefined, name !== 'binaryType');
      const ws = new WebSocket(null);
      assert.equal(Object.prototype.hasOwnProperty.call(ws, name), false);
      assert.ok(Object.keys(Object.getPrototypeOf(ws)).includes(name) || name in ws);
    });
  }
});
