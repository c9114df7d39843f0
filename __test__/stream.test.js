'use strict';

// createWebSocketStream(ws): a Duplex over a WebSocket, as in ws.

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { once } = require('node:events');
const { Readable, Writable, pipeline } = require('node:stream');
const WS = require('ws');
const lib = require('..');

const { WebSocket, WebSocketServer, createWebSocketStream } = lib;
const HOST = '127.0.0.1';
const T = { timeout: 15000 };

const closers = [];
afterEach(async () => {
  while (closers.length) await closers.pop()();
});

/** A client WebSocket, terminated after the test if still open. */
function client(...args) {
  const ws = new WebSocket(...args);
  closers.push(async () => {
    if (ws.readyState === WebSocket.CLOSED) return;
    ws.terminate();
    await once(ws, 'close');
  });
  return ws;
}

/** A native-ws server; `onConnection(ws, conn)` per connection; conn.closed resolves with [code, reason]. */
async function startServer(onConnection = () => {}, Server = WebSocketServer) {
  const wss = new Server({ port: 0, host: HOST });
  const conns = [];
  const waiting = [];
  wss.on('connection', (ws) => {
    const conn = {
      ws,
      messages: [],
      closed: new Promise((resolve) => ws.on('close', (code, reason) => resolve([code, reason.toString()]))),
    };
    ws.on('message', (data, isBinary) => conn.messages.push(isBinary ? Buffer.from(data) : data.toString()));
    conns.push(conn);
    onConnection(ws, conn);
    if (waiting.length) waiting.shift()(conn);
  });
  await once(wss, 'listening');
  closers.push(async () => {
    for (const { ws } of conns) ws.terminate();
    await new Promise((resolve) => wss.close(() => resolve()));
  });
  return {
    url: `ws://${HOST}:${wss.address().port}`,
    connection: () => (conns.length > waiting.length ? Promise.resolve(conns[waiting.length]) : new Promise((r) => waiting.push(r))),
  };
}

async function until(condition) {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('createWebSocketStream', () => {
  it('writes become messages, messages become chunks; end() closes the WebSocket', T, async () => {
    const srv = await startServer((ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    const ws = client(srv.url);
    const duplex = createWebSocketStream(ws);
    // Written while still connecting: sent once open.
    duplex.write('first');
    duplex.write(Buffer.from([1, 2, 3]));
    const conn = await srv.connection();
    const chunks = [];
    duplex.on('data', (chunk) => chunks.push(chunk));
    await until(() => chunks.length === 2);
    // As in ws, a non-object-mode Duplex hands send() Buffers: messages go out binary.
    assert.deepEqual(conn.messages, [Buffer.from('first'), Buffer.from([1, 2, 3])]);
    assert.equal(chunks[0].toString(), 'first');
    assert.deepEqual(chunks[1], Buffer.from([1, 2, 3]));
    duplex.end();
    await once(duplex, 'close');
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.equal((await conn.closed)[0], 1005);
  });

  it('the server closing ends the readable side', T, async () => {
    const srv = await startServer((ws) => {
      ws.send('a');
      ws.send('b');
      ws.close(1000, 'bye');
    });
    const ws = client(srv.url);
    const duplex = createWebSocketStream(ws, { encoding: 'utf8' });
    let text = '';
    for await (const chunk of duplex) text += chunk;
    assert.equal(text, 'ab');
    assert.equal(ws.readyState, WebSocket.CLOSED);
    duplex.destroy();
  });

  it('pipeline into and out of a WebSocket', T, async () => {
    const srv = await startServer((ws) => ws.on('message', (data) => ws.send(data.toString().toUpperCase())));
    const ws = client(srv.url);
    const duplex = createWebSocketStream(ws);
    const received = [];
    const sink = new Writable({
      write(chunk, encoding, cb) {
        received.push(chunk.toString());
        if (received.length === 3) duplex.end();
        cb();
      },
    });
    pipeline(duplex, sink, () => {});
    await new Promise((resolve, reject) =>
      pipeline(Readable.from(['x', 'y', 'z']), new Writable({
        write(chunk, encoding, cb) {
          duplex.write(chunk, cb);
        },
      }), (err) => (err ? reject(err) : resolve()))
    );
    await once(sink, 'finish');
    assert.deepEqual(received, ['X', 'Y', 'Z']);
    if (!duplex.destroyed) await once(duplex, 'close');
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  it('destroy() terminates the connection', T, async () => {
    const srv = await startServer();
    const ws = client(srv.url);
    const duplex = createWebSocketStream(ws);
    await once(ws, 'open');
    const conn = await srv.connection();
    duplex.destroy();
    await once(duplex, 'close');
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.equal((await conn.closed)[0], 1006);
  });

  it('a failed handshake errors the stream', T, async () => {
    const sockets = new Set();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('data', () => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
    });
    await new Promise((resolve) => server.listen(0, HOST, resolve));
    closers.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    });
    const ws = client(`ws://${HOST}:${server.address().port}`);
    const duplex = createWebSocketStream(ws);
    const closed = new Promise((resolve) => duplex.once('close', resolve)); // events.once would reject on 'error'
    const [err] = await once(duplex, 'error');
    assert.equal(err.message, 'Unexpected server response: 403');
    await closed;
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  it('pauses the WebSocket while the readable side is full, resumes on read', T, async () => {
    const srv = await startServer((ws) => {
      for (let i = 0; i < 5; i++) ws.send(`message ${i}`);
    });
    const ws = client(srv.url);
    const duplex = createWebSocketStream(ws, { readableHighWaterMark: 1 });
    await until(() => ws.isPaused);
    const chunks = [];
    duplex.on('data', (chunk) => chunks.push(chunk.toString()));
    await until(() => chunks.length === 5);
    assert.deepEqual(chunks, [0, 1, 2, 3, 4].map((i) => `message ${i}`));
    assert.equal(ws.isPaused, false);
    duplex.destroy();
    await once(duplex, 'close');
  });

  it('readableObjectMode delivers text messages as strings; works on server-side WebSockets too', T, async () => {
    let serverStream;
    const srv = await startServer((ws) => {
      serverStream = createWebSocketStream(ws, { readableObjectMode: true });
    });
    const peer = new WS(srv.url);
    closers.push(async () => {
      if (peer.readyState !== WS.CLOSED) {
        peer.terminate();
        await once(peer, 'close');
      }
    });
    await once(peer, 'open');
    await srv.connection();
    const chunks = [];
    serverStream.on('data', (chunk) => chunks.push(chunk));
    peer.send('text');
    peer.send(Buffer.from('bin'));
    await until(() => chunks.length === 2);
    assert.equal(chunks[0], 'text');
    assert.ok(Buffer.isBuffer(chunks[1]));
    assert.equal(chunks[1].toString(), 'bin');
    const reply = once(peer, 'message');
    serverStream.write('reply');
    assert.equal((await reply)[0].toString(), 'reply');
    const streamClosed = once(serverStream, 'close');
    const peerClosed = once(peer, 'close');
    serverStream.end();
    await peerClosed;
    await streamClosed;
  });
});
