'use strict';

// WebSockets over a plain stream.Duplex test double (no TCP at all): accept()
// and WebSocketServer.handleUpgrade work on any Duplex.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Duplex } = require('node:stream');
const crypto = require('node:crypto');
const { accept, WebSocketServer, FrameParser } = require('..');
const { frame, close, OP, upgradeRequest, computeAccept } = require('./helpers');

/** Two Duplex ends: what one writes, the other reads. */
function duplexPair() {
  const a = new Duplex({ read() {}, write(chunk, enc, cb) { b.push(chunk); cb(); }, final(cb) { b.push(null); cb(); } });
  const b = new Duplex({ read() {}, write(chunk, enc, cb) { a.push(chunk); cb(); }, final(cb) { a.push(null); cb(); } });
  return [a, b];
}

/** Collects what the server end writes: the HTTP head, then parsed frames. */
function collect(peer) {
  const out = { head: '', events: [], ended: false };
  const parser = new FrameParser({ client: true });
  let pending = Buffer.alloc(0);
  peer.on('data', (chunk) => {
    if (!out.head) {
      pending = Buffer.concat([pending, chunk]);
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      out.head = pending.subarray(0, end).toString();
      chunk = pending.subarray(end + 4);
    }
    if (chunk.length) out.events.push(...parser.push(Buffer.from(chunk)));
  });
  peer.on('end', () => (out.ended = true));
  return out;
}

/** An IncomingMessage-like GET / request with these raw headers, as a user may build for handleUpgrade. */
function handMadeRequest(socket, rawHeaders) {
  const headers = {};
  for (let i = 0; i < rawHeaders.length; i += 2) headers[rawHeaders[i].toLowerCase()] = rawHeaders[i + 1];
  return { method: 'GET', url: '/', httpVersionMajor: 1, httpVersionMinor: 1, headers, rawHeaders, socket };
}

const until = async (predicate) => {
  for (let i = 0; i < 500 && !predicate(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(predicate(), 'condition not reached');
};

test('accept() on a stream.Duplex: handshake, echo and close handshake', async () => {
  const [serverEnd, clientEnd] = duplexPair();
  const ws = accept(serverEnd);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve([code, reason.toString()])));
  const seen = collect(clientEnd);
  const key = crypto.randomBytes(16).toString('base64');
  clientEnd.write(Buffer.concat([Buffer.from(upgradeRequest({ key })), frame({ opcode: OP.TEXT, payload: 'over a Duplex' })]));
  await until(() => seen.events.length === 1);
  assert.match(seen.head, /^HTTP\/1\.1 101 /);
  assert.ok(seen.head.includes(`Sec-WebSocket-Accept: ${computeAccept(key)}`));
  assert.deepEqual(seen.events[0], { type: 'message', data: Buffer.from('over a Duplex'), isBinary: false });
  clientEnd.write(close(1000, '再见'));
  await until(() => seen.events.length === 2);
  assert.deepEqual(seen.events[1], { type: 'close', code: 1000, reason: '再见' });
  assert.deepEqual(await closed, [1000, '再见']);
  await until(() => seen.ended);
});

test('WebSocketServer.handleUpgrade on a stream.Duplex', async () => {
  const wss = new WebSocketServer({ noServer: true });
  const [serverEnd, clientEnd] = duplexPair();
  const key = crypto.randomBytes(16).toString('base64');
  const req = handMadeRequest(serverEnd, ['Host', 'localhost', 'Upgrade', 'websocket', 'Connection', 'Upgrade',
    'Sec-WebSocket-Key', key, 'Sec-WebSocket-Version', '13']);
  const seen = collect(clientEnd);
  const ws = await new Promise((resolve) => wss.handleUpgrade(req, serverEnd, Buffer.alloc(0), resolve));
  ws.send(Buffer.from([1, 2, 3]));
  await until(() => seen.events.length === 1);
  assert.ok(seen.head.includes(`Sec-WebSocket-Accept: ${computeAccept(key)}`));
  assert.deepEqual(seen.events[0], { type: 'message', data: Buffer.from([1, 2, 3]), isBinary: true });
  ws.terminate();
  await new Promise((resolve) => wss.close(resolve));
});

test('handleUpgrade: a header value holding a newline is one value, not headers smuggled in', async () => {
  // Node's HTTP parser refuses such values; a request built by hand may not.
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has('evil') ? 'evil' : false) });
  const [serverEnd, clientEnd] = duplexPair();
  const key = crypto.randomBytes(16).toString('base64');
  const req = handMadeRequest(serverEnd, ['Host', 'localhost', 'X-Note', 'a\nSec-WebSocket-Protocol\nevil', 'Upgrade', 'websocket',
    'Connection', 'Upgrade', 'Sec-WebSocket-Key', key, 'Sec-WebSocket-Version', '13']);
  const seen = collect(clientEnd);
  const ws = await new Promise((resolve) => wss.handleUpgrade(req, serverEnd, Buffer.alloc(0), resolve));
  await until(() => seen.head !== '');
  assert.ok(seen.head.includes(`Sec-WebSocket-Accept: ${computeAccept(key)}`));
  assert.ok(!/Sec-WebSocket-Protocol/i.test(seen.head), seen.head);
  assert.equal(ws.protocol, '');
  ws.terminate();
  await new Promise((resolve) => wss.close(resolve));
});
