'use strict';

// The pre-framed broadcast path socket.io uses with ws: the static
// WebSocket.Sender.frame() frames a payload once (bytes identical to ws's)
// and each socket's `_sender.sendFrame(list, cb)` queues those same bytes,
// in order with the socket's other sends.

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const WS = require('ws');
const lib = require('..');

const { WebSocket, WebSocketServer, Sender } = lib;
const T = { timeout: 15000 };

const servers = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(
      (wss) =>
        new Promise((resolve) => {
          // A failed test may leave connections open; the server's close waits for them.
          for (const ws of wss.clients) ws.terminate();
          wss.close(resolve);
        })
    ));
});

const fixedMask = (mask) => mask.set([0x11, 0x22, 0x33, 0x44]);

describe('Sender.frame', () => {
  it('is exported where ws has it: require(...).Sender and WebSocket.Sender', () => {
    assert.equal(typeof Sender.frame, 'function');
    assert.equal(WebSocket.Sender, Sender);
  });

  const cases = [
    ['text', 'hello', { opcode: 1, fin: true }],
    ['empty binary', Buffer.alloc(0), { opcode: 2, fin: true }],
    ['126-byte binary (16-bit length)', Buffer.alloc(126, 7), { opcode: 2, fin: true }],
    ['64 KiB binary (64-bit length)', Buffer.alloc(65536, 9), { opcode: 2, fin: true }],
    ['compressed first fragment', Buffer.from([1, 2, 3]), { opcode: 2, fin: false, rsv1: true }],
    ['continuation', 'more', { opcode: 0, fin: true }],
    ['ping', 'p', { opcode: 9, fin: true }],
    ['Uint8Array', new Uint8Array([5, 6, 7]), { opcode: 2, fin: true }],
    ['masked text', 'masked', { opcode: 1, fin: true, mask: true, generateMask: fixedMask }],
    ['masked 300 bytes', Buffer.alloc(300, 3), { opcode: 2, fin: true, mask: true, generateMask: fixedMask }],
  ];
  for (const [name, data, options] of cases) {
    it(`frames ${name} byte for byte as ws does`, () => {
      const ours = Sender.frame(data, { readOnly: true, ...options });
      const theirs = WS.Sender.frame(typeof data === 'string' ? data : Buffer.from(data), { readOnly: true, ...options });
      assert.ok(Array.isArray(ours) && ours.every((piece) => Buffer.isBuffer(piece)));
      assert.deepEqual(Buffer.concat(ours), Buffer.concat(theirs));
    });
  }

  it('never writes to the payload, and hands an unmasked one back by reference', () => {
    const payload = Buffer.from('unchanged');
    const copy = Buffer.from(payload);
    const unmasked = Sender.frame(payload, { opcode: 2, fin: true, readOnly: false });
    assert.equal(unmasked[1], payload);
    Sender.frame(payload, { opcode: 2, fin: true, mask: true, readOnly: false });
    assert.deepEqual(payload, copy);
  });

  it('writes the masking key it used into maskBuffer', () => {
    const maskBuffer = Buffer.alloc(4);
    const [framed] = Sender.frame('k', { opcode: 1, fin: true, mask: true, maskBuffer });
    assert.deepEqual(framed.subarray(2, 6), maskBuffer);
  });

  it('refuses what the core refuses (a control frame over 125 bytes)', () => {
    assert.throws(() => Sender.frame(Buffer.alloc(126), { opcode: 9, fin: true }), RangeError);
    assert.throws(() => Sender.frame({}, { opcode: 2, fin: true }), { name: 'TypeError', message: /^data: / });
  });
});

describe('_sender.sendFrame', () => {
  it('one frame set reaches every socket, in order with its other sends, and calls back once written', T, async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    servers.push(wss);
    await once(wss, 'listening');
    const url = `ws://127.0.0.1:${wss.address().port}`;
    const clients = [new WS(url), new WS(url), new WS(url)];
    const sockets = [];
    while (sockets.length < clients.length) sockets.push((await once(wss, 'connection'))[0]);
    await Promise.all(clients.map((c) => (c.readyState === WS.OPEN ? null : once(c, 'open'))));
    const received = clients.map(
      (client) =>
        new Promise((resolve) => {
          const got = [];
          client.on('message', (data, isBinary) => {
            got.push(`${isBinary ? 'b' : 't'}:${data}`);
            if (got.length === 3) resolve(got);
          });
        })
    );
    const frames = Sender.frame('broadcast', { opcode: 1, fin: true, readOnly: true, mask: false, rsv1: false });
    let callbacks = 0;
    for (const socket of sockets) {
      assert.equal(typeof socket._sender.sendFrame, 'function');
      socket.send('before');
      socket._sender.sendFrame(frames, (err) => {
        assert.ifError(err);
        callbacks++;
      });
      socket.send(Buffer.from('after'));
    }
    for (const got of await Promise.all(received)) assert.deepEqual(got, ['t:before', 't:broadcast', 'b:after']);
    assert.equal(callbacks, sockets.length);
    for (const client of clients) client.terminate();
  });
});
