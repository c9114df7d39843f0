'use strict';

// ws 8 compatibility of the public API: WebSocketServer options, events and
// methods; WebSocket send/ping/pong/close/terminate, events, EventTarget
// surface, binaryType, readyState constants.

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const crypto = require('node:crypto');
const { once } = require('node:events');
const h = require('./helpers');

const { OP } = h;
const lib = h.lib;
const { WebSocket, WebSocketServer } = lib;
const T = { timeout: 10000 };

afterEach(h.closeAll);

/** An http.Server on 127.0.0.1:0, closed (with its connections) after the test. */
async function httpServer() {
  const server = h.trackServer(http.createServer((req, res) => res.end('plain http')));
  await new Promise((resolve) => server.listen(0, h.HOST, resolve));
  return server;
}

describe('module exports', () => {
  it('exports WebSocket (the module itself), WebSocketServer, Server, accept', () => {
    assert.equal(lib, WebSocket);
    assert.equal(lib.WebSocket, WebSocket);
    assert.equal(typeof WebSocketServer, 'function');
    assert.equal(lib.Server, WebSocketServer);
    assert.equal(typeof lib.accept, 'function');
  });

  it('readyState constants on the class and on instances', T, async () => {
    const expected = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 };
    for (const [name, value] of Object.entries(expected)) {
      assert.equal(WebSocket[name], value, `WebSocket.${name}`);
    }
    const srv = await h.startServer('wss');
    const { conn } = await h.connectPair(srv);
    for (const [name, value] of Object.entries(expected)) {
      assert.equal(conn.ws[name], value, `ws.${name}`);
    }
    assert.ok(conn.ws instanceof WebSocket);
    assert.equal(conn.ws.readyState, WebSocket.OPEN);
  });
});

describe('WebSocketServer options and lifecycle', () => {
  it('needs exactly one of port, server, noServer (TypeError otherwise)', () => {
    const server = http.createServer();
    const bad = [{}, { port: 0, noServer: true }, { port: 0, server }, { server, noServer: true }, { port: 0, server, noServer: true }];
    for (const options of bad) {
      assert.throws(
        () => new WebSocketServer(options),
        (err) => err instanceof TypeError && /port/.test(err.message) && /noServer/.test(err.message),
        JSON.stringify(Object.keys(options))
      );
    }
    assert.throws(() => new WebSocketServer(), TypeError);
    assert.throws(() => new WebSocketServer(null), TypeError);
  });

  it("emits 'listening', calls the callback, and address() gives the bound port", T, async () => {
    let callbackCalled = false;
    const wss = h.trackServer(
      new WebSocketServer({ port: 0, host: h.HOST }, () => {
        callbackCalled = true;
      })
    );
    await once(wss, 'listening');
    assert.equal(callbackCalled, true);
    const address = wss.address();
    assert.equal(address.address, h.HOST);
    assert.equal(typeof address.port, 'number');
    assert.ok(address.port > 0);
    await new Promise((resolve) => wss.close(resolve));
  });

  it('address() throws in noServer mode', () => {
    const wss = h.trackServer(new WebSocketServer({ noServer: true }));
    assert.throws(() => wss.address(), /noServer/);
  });

  it("the server option: 'listening' is forwarded and upgrades are handled", T, async () => {
    const server = h.trackServer(http.createServer((req, res) => res.end('plain')));
    const wss = h.trackServer(new WebSocketServer({ server }));
    const listening = once(wss, 'listening');
    server.listen(0, h.HOST);
    await listening;
    const connection = once(wss, 'connection');
    const client = await h.connect(server.address().port);
    const [ws, req] = await connection;
    assert.equal(req.headers.upgrade, 'websocket');
    ws.send('hi');
    assert.equal((await client.nextFrame()).payload.toString(), 'hi');
    assert.ok(wss.clients.has(ws));
    client.destroy();
    await once(ws, 'close');
    await new Promise((resolve) => wss.close(resolve));
  });

  it('noServer + handleUpgrade from your own http server', T, async () => {
    const wss = h.trackServer(new WebSocketServer({ noServer: true }));
    const server = await httpServer();
    server.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    const connection = once(wss, 'connection');
    // Listeners are added synchronously in 'connection', as ws users do.
    const message = new Promise((resolve) => wss.on('connection', (ws) => ws.on('message', (...args) => resolve(args))));
    const client = await h.connect(server.address().port, { path: '/custom', head: h.text('in the head') });
    const [ws, req] = await connection;
    assert.equal(req.url, '/custom');
    const [data, isBinary] = await message;
    assert.equal(data.toString(), 'in the head');
    assert.equal(isBinary, false);
    assert.equal(wss.clients.size, 1);
    client.destroy();
    await once(ws, 'close');
    assert.equal(wss.clients.size, 0);
  });

  it('handleUpgrade twice with the same socket throws', T, async () => {
    const wss = h.trackServer(new WebSocketServer({ noServer: true }));
    const server = await httpServer();
    const thrown = new Promise((resolve) => {
      server.on('upgrade', (req, socket, head) => {
        wss.handleUpgrade(req, socket, head, () => {
          try {
            wss.handleUpgrade(req, socket, head, () => {});
            resolve(null);
          } catch (err) {
            resolve(err);
          }
        });
      });
    });
    const client = await h.connect(server.address().port);
    const err = await thrown;
    assert.ok(err instanceof Error);
    assert.match(err.message, /more than once/);
    client.destroy();
  });

  it("the 'connection' event gets the request", T, async () => {
    const srv = await h.startServer('wss');
    const { conn } = await h.connectPair(srv, { path: '/p?q=1', headers: { 'X-Hello': 'world' } });
    assert.ok(conn.req instanceof http.IncomingMessage);
    assert.equal(conn.req.url, '/p?q=1');
    assert.equal(conn.req.headers['x-hello'], 'world');
  });

  it('clients tracks open connections and drops closed ones', T, async () => {
    const srv = await h.startServer('wss');
    const a = await h.connectPair(srv);
    const b = await h.connectPair(srv);
    const { clients } = srv.wss;
    assert.ok(clients instanceof Set);
    assert.equal(clients.size, 2);
    assert.ok(clients.has(a.conn.ws));
    assert.ok(clients.has(b.conn.ws));
    a.client.end();
    await a.conn.closed;
    assert.equal(clients.size, 1);
    assert.ok(!clients.has(a.conn.ws));
    b.conn.ws.close(1000);
    await b.client.nextFrame();
    await b.client.write(h.close(1000));
    await b.conn.closed;
    assert.equal(clients.size, 0);
  });

  it('clientTracking: false leaves clients undefined', T, async () => {
    const srv = await h.startServer('wss', { clientTracking: false });
    await h.connectPair(srv);
    assert.equal(srv.wss.clients, undefined);
  });

  it("close(cb) emits 'close' and calls cb (port mode, no clients)", T, async () => {
    const wss = h.trackServer(new WebSocketServer({ port: 0, host: h.HOST }));
    await once(wss, 'listening');
    const port = wss.address().port;
    let closeEvents = 0;
    wss.on('close', () => closeEvents++);
    const err = await new Promise((resolve) => wss.close(resolve));
    assert.equal(err, undefined);
    assert.equal(closeEvents, 1);
    // The port no longer accepts connections.
    const socket = net.connect({ port, host: h.HOST });
    const [error] = await once(socket, 'error');
    assert.equal(error.code, 'ECONNREFUSED');
  });

  it("close(cb) in port mode waits for the open connections, then emits 'close'", T, async () => {
    const wss = h.trackServer(new WebSocketServer({ port: 0, host: h.HOST }));
    await once(wss, 'listening');
    const connection = once(wss, 'connection');
    const client = await h.connect(wss.address().port);
    const [ws] = await connection;
    const wsClosed = once(ws, 'close');
    let closed = false;
    const done = new Promise((resolve) =>
      wss.close(() => {
        closed = true;
        resolve();
      })
    );
    for (let i = 0; i < 5; i++) await h.yieldToLoop();
    assert.equal(ws.readyState, WebSocket.OPEN, 'ws 8 leaves open connections alone');
    assert.equal(closed, false);
    ws.send('still works');
    assert.equal((await client.nextFrame()).payload.toString(), 'still works');
    client.end();
    await done;
    assert.deepEqual((await wsClosed)[0], 1006);
  });

  it("noServer: close(cb) emits 'close' once the last client has closed; then new upgrades get 503", T, async () => {
    const wss = h.trackServer(new WebSocketServer({ noServer: true }));
    const server = await httpServer();
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
    const connection = once(wss, 'connection');
    const client = await h.connect(server.address().port);
    const [ws] = await connection;
    let closed = false;
    const done = new Promise((resolve) =>
      wss.close((err) => {
        closed = true;
        resolve(err);
      })
    );
    for (let i = 0; i < 5; i++) await h.yieldToLoop();
    assert.equal(closed, false, "no 'close' while a client is open");
    const res = await h.rawHttp(server.address().port, h.upgradeRequest());
    assert.equal(res.status, 503);
    client.end();
    assert.equal(await done, undefined);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  it('close(cb) on a closed server calls cb with an error', T, async () => {
    const wss = h.trackServer(new WebSocketServer({ noServer: true }));
    await new Promise((resolve) => wss.close(resolve));
    const err = await new Promise((resolve) => wss.close(resolve));
    assert.ok(err instanceof Error);
    assert.match(err.message, /not running/);
  });

  it("'wsClientError' lets the user answer a bad upgrade", T, async () => {
    const srv = await h.startServer('wss');
    srv.wss.on('wsClientError', (err, socket, req) => {
      assert.equal(err.statusCode, 405);
      assert.equal(err.message, 'Invalid HTTP method');
      assert.equal(req.method, 'POST');
      socket.end('HTTP/1.1 418 I\'m a teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    const res = await h.rawHttp(srv.port, h.upgradeRequest({ method: 'POST' }));
    assert.equal(res.status, 418);
  });

  it('a plain HTTP request to the port server gets 426', T, async () => {
    const srv = await h.startServer('wss');
    const res = await h.rawHttp(srv.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 426);
  });

  it('invalid maxPayload / closeTimeout options throw', () => {
    assert.throws(() => new WebSocketServer({ noServer: true, maxPayload: -1 }), (err) => err instanceof RangeError && /maxPayload/.test(err.message));
    assert.throws(() => new WebSocketServer({ noServer: true, closeTimeout: 'x' }), (err) => err instanceof TypeError && /closeTimeout/.test(err.message));
  });

  it('without handleProtocols the first offered subprotocol is selected (ws 8)', T, async () => {
    const srv = await h.startServer('wss');
    const { client, conn } = await h.connectPair(srv, { protocols: ['first', 'second'] });
    assert.equal(client.response.headers['sec-websocket-protocol'], 'first');
    assert.equal(conn.ws.protocol, 'first');
  });
});

for (const kind of h.KINDS) {
  describe(`WebSocket API (${kind})`, () => {
    it("a client ping emits 'ping' with its data and is answered (autoPong)", T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const pinged = once(conn.ws, 'ping');
      await client.write(h.ping('are you there'));
      const [data] = await pinged;
      assert.ok(Buffer.isBuffer(data));
      assert.equal(data.toString(), 'are you there');
      const f = await client.nextFrame();
      assert.equal(f.opcode, OP.PONG);
      assert.equal(f.payload.toString(), 'are you there');
    });

    it("autoPong: false emits 'ping' but sends no pong; ws.pong() answers by hand", T, async () => {
      const srv = await h.startServer(kind, { autoPong: false });
      const { client, conn } = await h.connectPair(srv);
      const pinged = once(conn.ws, 'ping');
      await client.write(h.ping('quiet'));
      await pinged;
      conn.ws.pong('manual');
      await client.write(h.close(1000));
      await client.closed;
      assert.deepEqual(
        client.frames.map((f) => [f.opcode, f.opcode === OP.CLOSE ? f.closeCode : f.payload.toString()]),
        [
          [OP.PONG, 'manual'],
          [OP.CLOSE, 1000],
        ]
      );
    });

    it("a client pong emits 'pong' with its data", T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const ponged = once(conn.ws, 'pong');
      await client.write(h.pong('heartbeat'));
      const [data] = await ponged;
      assert.equal(data.toString(), 'heartbeat');
      assert.equal(client.frames.length, 0);
    });

    it('send: string → text frame, Buffer → binary, {binary:true} string → binary; callbacks fire', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const ws = conn.ws;
      const callbacks = [];
      const cb = (i) => (err) => callbacks.push([i, err]);
      ws.send('text', cb(0));
      ws.send(Buffer.from([1, 2, 3]), cb(1));
      ws.send('as binary', { binary: true }, cb(2));
      ws.send(Buffer.from('as text'), { binary: false }, cb(3));
      ws.send(new Uint8Array([4, 5]), cb(4));
      ws.send(new Uint16Array([0x0201]).buffer, cb(5));
      ws.send(42, cb(6));
      ws.send('', cb(7));
      const frames = [];
      for (let i = 0; i < 8; i++) frames.push(await client.nextFrame());
      assert.deepEqual(
        frames.map((f) => [f.opcode, f.fin, f.masked, f.payload.toString('hex')]),
        [
          [OP.TEXT, true, false, Buffer.from('text').toString('hex')],
          [OP.BINARY, true, false, '010203'],
          [OP.BINARY, true, false, Buffer.from('as binary').toString('hex')],
          [OP.TEXT, true, false, Buffer.from('as text').toString('hex')],
          [OP.BINARY, true, false, '0405'],
          [OP.BINARY, true, false, '0102'],
          [OP.TEXT, true, false, Buffer.from('42').toString('hex')],
          [OP.TEXT, true, false, ''],
        ]
      );
      while (callbacks.length < 8) await h.yieldToLoop();
      assert.deepEqual(callbacks.map(([i]) => i).sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
      for (const [i, err] of callbacks) assert.ok(err == null, `callback ${i} got ${err}`);
    });

    it('send uses the 16-bit and 64-bit length forms (200 B, 70 KiB)', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const small = crypto.randomBytes(200);
      const big = crypto.randomBytes(70 * 1024);
      const bigText = 'ü'.repeat(40000);
      conn.ws.send(small);
      conn.ws.send(big);
      conn.ws.send(bigText);
      const f1 = await client.nextFrame();
      const f2 = await client.nextFrame();
      const f3 = await client.nextFrame();
      assert.equal(f1.headerLength, 4);
      assert.deepEqual(f1.payload, small);
      assert.equal(f2.headerLength, 10);
      assert.deepEqual(f2.payload, big);
      assert.equal(f3.opcode, OP.TEXT);
      assert.equal(f3.headerLength, 10);
      assert.equal(f3.payload.toString(), bigText);
    });

    it('fragmented send: {fin:false} then fin:true gives text + continuation frames', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const ws = conn.ws;
      ws.send('one', { fin: false });
      ws.send('two', { fin: false });
      ws.send('three', { fin: true });
      ws.send(Buffer.from([9]), { fin: false });
      ws.send(Buffer.from([8]));
      ws.send('next');
      const frames = [];
      for (let i = 0; i < 6; i++) frames.push(await client.nextFrame());
      assert.deepEqual(
        frames.map((f) => [f.opcode, f.fin, f.payload.toString('hex')]),
        [
          [OP.TEXT, false, Buffer.from('one').toString('hex')],
          [OP.CONT, false, Buffer.from('two').toString('hex')],
          [OP.CONT, true, Buffer.from('three').toString('hex')],
          [OP.BINARY, false, '09'],
          [OP.CONT, true, '08'],
          [OP.TEXT, true, Buffer.from('next').toString('hex')],
        ]
      );
    });

    it('ws.ping(data) sends a ping; 126 bytes is a RangeError', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      let pinged = false;
      conn.ws.ping('probe', false, (err) => {
        assert.ok(err == null);
        pinged = true;
      });
      conn.ws.ping();
      conn.ws.ping(Buffer.alloc(125, 1));
      const f1 = await client.nextFrame();
      const f2 = await client.nextFrame();
      const f3 = await client.nextFrame();
      assert.deepEqual([f1.opcode, f1.payload.toString()], [OP.PING, 'probe']);
      assert.deepEqual([f2.opcode, f2.payload.length], [OP.PING, 0]);
      assert.deepEqual([f3.opcode, f3.payload.length], [OP.PING, 125]);
      assert.throws(() => conn.ws.ping(Buffer.alloc(126)), RangeError);
      assert.throws(() => conn.ws.pong('x'.repeat(126)), RangeError);
      while (!pinged) await h.yieldToLoop();
      // The client's pong reaches the server as a 'pong' event.
      const ponged = once(conn.ws, 'pong');
      await client.write(h.pong('probe'));
      assert.equal((await ponged)[0].toString(), 'probe');
    });

    it('addEventListener/removeEventListener and onmessage', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const ws = conn.ws;
      const seen = [];
      const listener = (event) => seen.push(['listener', event.type, event.data, event.target === ws]);
      ws.addEventListener('message', listener);
      ws.addEventListener('message', listener); // added once only
      const onmessage = (event) => seen.push(['onmessage', event.type, event.data]);
      ws.onmessage = onmessage;
      assert.equal(ws.onmessage, onmessage);
      await client.write(Buffer.concat([h.text('hello'), h.binary([1, 2])]));
      await conn.waitMessages(2);
      assert.deepEqual(seen, [
        ['listener', 'message', 'hello', true],
        ['onmessage', 'message', 'hello'],
        ['listener', 'message', Buffer.from([1, 2]), true],
        ['onmessage', 'message', Buffer.from([1, 2])],
      ]);
      ws.removeEventListener('message', listener);
      ws.onmessage = null;
      assert.equal(ws.onmessage, null);
      seen.length = 0;
      await client.write(h.text('again'));
      await conn.waitMessages(3);
      assert.deepEqual(seen, []);
    });

    it('addEventListener("close") gets a CloseEvent with code, reason string and wasClean', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const events = [];
      conn.ws.addEventListener('close', (event) => events.push(event));
      await client.write(h.close(4000, 'done'));
      await conn.closed;
      assert.equal(events.length, 1);
      assert.equal(events[0].type, 'close');
      assert.equal(events[0].code, 4000);
      assert.equal(events[0].reason, 'done');
      assert.equal(events[0].wasClean, true);
    });

    it("binaryType 'arraybuffer' gives ArrayBuffers with the right bytes", T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      assert.equal(conn.ws.binaryType, 'nodebuffer');
      conn.ws.binaryType = 'arraybuffer';
      assert.equal(conn.ws.binaryType, 'arraybuffer');
      conn.ws.binaryType = 'blob-or-nonsense';
      assert.equal(conn.ws.binaryType, 'arraybuffer', 'an unknown type is ignored');
      const got = [];
      conn.ws.on('message', (data, isBinary) => got.push([data, isBinary]));
      await client.write(Buffer.concat([h.binary([1, 2, 3]), h.binary([4, 5, 6, 7]), h.binary([9], { fin: false }), h.cont([8])]));
      await conn.waitMessages(3);
      assert.equal(got.length, 3);
      for (const [data, isBinary] of got) {
        assert.ok(data instanceof ArrayBuffer);
        assert.equal(isBinary, true);
      }
      assert.deepEqual(got.map(([d]) => [...new Uint8Array(d)]), [[1, 2, 3], [4, 5, 6, 7], [9, 8]]);
    });

    it("binaryType 'fragments' gives an array of Buffers", T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      conn.ws.binaryType = 'fragments';
      const got = once(conn.ws, 'message');
      await client.write(h.binary([1, 2]));
      const [data] = await got;
      assert.ok(Array.isArray(data));
      assert.deepEqual(Buffer.concat(data), Buffer.from([1, 2]));
    });

    it('bufferedAmount is a number', T, async () => {
      const srv = await h.startServer(kind);
      const { conn } = await h.connectPair(srv);
      assert.equal(typeof conn.ws.bufferedAmount, 'number');
      assert.ok(conn.ws.bufferedAmount >= 0);
      conn.ws.send(Buffer.alloc(1024));
      assert.equal(typeof conn.ws.bufferedAmount, 'number');
    });

    it('protocol and extensions are empty strings by default', T, async () => {
      const srv = await h.startServer(kind);
      const { conn } = await h.connectPair(srv);
      assert.equal(conn.ws.protocol, '');
      assert.equal(conn.ws.extensions, '');
      assert.equal(conn.ws.isPaused, false);
    });

    it('terminate() destroys the socket without a close frame: close 1006', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      conn.ws.terminate();
      assert.equal(conn.ws.readyState, WebSocket.CLOSING);
      const info = await client.closed;
      assert.equal(info.serverEndedFirst, true);
      assert.equal(client.frames.length, 0, 'no close frame');
      const event = await conn.closed;
      assert.equal(event.code, 1006);
      assert.equal(conn.ws.readyState, WebSocket.CLOSED);
      assert.equal(conn.closeEvents.length, 1);
    });

    it('terminate() while closing also ends with 1006', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      conn.ws.close(1000);
      await client.nextFrame();
      conn.ws.terminate();
      assert.equal((await conn.closed).code, 1006);
    });

    it('pause() stops message delivery until resume()', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      conn.ws.pause();
      assert.equal(conn.ws.isPaused, true);
      await client.write(h.text('while paused'));
      // A ping sent later on a second connection proves the loop went round.
      const other = await h.connectPair(srv);
      await other.client.write(h.ping('x'));
      await other.client.nextFrame();
      assert.equal(conn.messages.length, 0);
      conn.ws.resume();
      await conn.waitMessages(1);
      assert.equal(conn.messages[0].data.toString(), 'while paused');
    });
  });
}

describe('accept() WebSocket before open', () => {
  it('send() and ping() throw while CONNECTING; close() aborts the handshake', T, async () => {
    const srv = await h.startServer('accept');
    const accepted = once(srv, 'accepted');
    const socket = net.connect({ port: srv.port, host: h.HOST });
    socket.on('error', () => {});
    const [conn] = await accepted;
    assert.equal(conn.ws.readyState, WebSocket.CONNECTING);
    assert.throws(() => conn.ws.send('early'), /not open/);
    assert.throws(() => conn.ws.ping(), /not open/);
    conn.ws.close();
    const event = await conn.closed;
    assert.equal(event.code, 1006);
    assert.equal(conn.opened, false);
    socket.resume();
    await once(socket, 'close');
  });

  it('accept() checks its arguments', () => {
    assert.throws(() => lib.accept(null), (err) => err instanceof TypeError && /socket/.test(err.message));
    const fake = new net.Socket();
    assert.throws(() => lib.accept(fake, { maxPayload: -1 }), (err) => err instanceof RangeError && /maxPayload/.test(err.message));
    fake.destroy();
  });

  it('one options object passed to every accept(): a value changed between calls counts at the next call', T, async () => {
    const options = { path: '/a' };
    const thrown = [];
    const server = h.trackServer(net.createServer((socket) => {
      try {
        lib.accept(socket, options).on('error', () => {});
      } catch (err) {
        thrown.push(err);
        socket.destroy();
      }
    }));
    await new Promise((resolve) => server.listen(0, h.HOST, resolve));
    const url = (path) => `ws://${h.HOST}:${server.address().port}${path}`;
    const outcome = (path) => new Promise((resolve) => {
      const client = new WebSocket(url(path));
      client.on('open', () => {
        client.terminate();
        resolve('open');
      });
      client.on('unexpected-response', (req, res) => {
        req.destroy();
        resolve(res.statusCode);
      });
      client.on('error', (err) => resolve(err.message));
    });
    assert.equal(await outcome('/a'), 'open');
    assert.equal(await outcome('/b'), 400);
    options.path = '/b';
    assert.equal(await outcome('/b'), 'open');
    assert.equal(await outcome('/a'), 400);
    options.maxPayload = -1;
    await outcome('/b');
    assert.equal(thrown.length, 1);
    assert.ok(thrown[0] instanceof RangeError && /maxPayload/.test(thrown[0].message));
    delete options.maxPayload;
    assert.equal(await outcome('/b'), 'open');
  });
});
