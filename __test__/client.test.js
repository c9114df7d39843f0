'use strict';

// The client side: new WebSocket(url) against this project's server, the ws
// server and hand-written servers that break the handshake or the protocol.

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const { execFileSync } = require('node:child_process');
const WS = require('ws');
const lib = require('..');

const { WebSocket, WebSocketServer } = lib;
const HOST = '127.0.0.1';
const REASON = '孩子,地球太危险了,快回火星去吧!';
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const T = { timeout: 15000 };

// Everything a test opens is closed after it.
const clients = new Set();
const closers = [];

afterEach(async () => {
  for (const ws of clients) ws.terminate();
  await Promise.all([...clients].map((ws) => (ws.readyState === WebSocket.CLOSED ? null : once(ws, 'close'))));
  clients.clear();
  while (closers.length) await closers.pop()();
});

/** A client WebSocket, tracked for cleanup. */
function client(...args) {
  const ws = new WebSocket(...args);
  clients.add(ws);
  return ws;
}

/** Resolves on 'open'; rejects with the error (or a close) otherwise. */
function opened(ws) {
  return new Promise((resolve, reject) => {
    const onError = (err) => reject(err);
    const onClose = (code) => reject(new Error(`closed with ${code} before open`));
    ws.once('error', onError);
    ws.once('close', onClose);
    ws.once('open', () => {
      ws.removeListener('error', onError);
      ws.removeListener('close', onClose);
      resolve();
    });
  });
}

/** Resolves with [code, reason] of the close event. */
function closed(ws) {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
}

/** Resolves with { error, code } once the handshake failed. */
async function failure(ws) {
  const errors = [];
  ws.on('error', (err) => errors.push(err));
  const [code] = await closed(ws);
  assert.equal(ws.readyState, WebSocket.CLOSED);
  assert.equal(errors.length, 1, `one error expected, got ${errors.map((e) => e.message)}`);
  return { error: errors[0], code };
}

function nextMessage(ws) {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data, isBinary })));
}

/** This project's WebSocketServer (kind 'native') or ws's (kind 'ws'), echoing. */
async function startServer(kind, options = {}) {
  const Server = kind === 'ws' ? WS.WebSocketServer : WebSocketServer;
  const wss = new Server({ port: 0, host: HOST, ...options });
  const connections = [];
  const waiting = [];
  wss.on('connection', (ws, req) => {
    const conn = { ws, req, closed: closed(ws), messages: [] };
    ws.on('message', (data, isBinary) => conn.messages.push({ data: Buffer.from(data), isBinary }));
    connections.push(conn);
    if (waiting.length) waiting.shift()(conn);
  });
  await once(wss, 'listening');
  closers.push(async () => {
    for (const { ws } of connections) ws.terminate();
    await new Promise((resolve) => wss.close(() => resolve()));
  });
  const { port } = wss.address();
  return {
    wss,
    port,
    url: `ws://${HOST}:${port}`,
    connection: () => (connections.length > waiting.length ? Promise.resolve(connections[waiting.length]) : new Promise((r) => waiting.push(r))),
  };
}

/**
 * A raw TCP server: `onRequest(socket, request)` gets the parsed upgrade
 * request ({ key, headers, head }) and answers whatever the test needs.
 */
async function rawServer(onRequest) {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let received = Buffer.alloc(0);
    const onData = (chunk) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.removeListener('data', onData);
      const lines = received.subarray(0, end).toString('latin1').split('\r\n');
      const headers = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      onRequest(socket, { line: lines[0], headers, key: headers['sec-websocket-key'], head: received.subarray(end + 4) });
    };
    socket.on('data', onData);
  });
  await new Promise((resolve) => server.listen(0, HOST, resolve));
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(() => resolve()));
  });
  return { server, port: server.address().port, url: `ws://${HOST}:${server.address().port}`, sockets };
}

function accept(key) {
  return crypto.createHash('sha1').update(key + GUID).digest('base64');
}

function response101(key, extra = []) {
  return ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept(key)}`, ...extra]
    .join('\r\n') + '\r\n\r\n';
}

/** Reads frames sent by the client: { fin, opcode, masked, key, payload (unmasked) }. */
function frameReader(socket, initial) {
  let buffer = initial || Buffer.alloc(0);
  const frames = [];
  const waiters = [];
  const parse = () => {
    for (;;) {
      if (buffer.length < 2) return;
      let length = buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (buffer[1] & 0x80) !== 0;
      const key = masked ? buffer.subarray(offset, offset + 4) : null;
      if (masked) offset += 4;
      if (buffer.length < offset + length) return;
      const payload = Buffer.from(buffer.subarray(offset, offset + length));
      if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      frames.push({ fin: (buffer[0] & 0x80) !== 0, rsv1: (buffer[0] & 0x40) !== 0, opcode: buffer[0] & 0x0f, masked, key: key && Buffer.from(key), payload });
      buffer = buffer.subarray(offset + length);
      while (waiters.length && waiters[0].n <= frames.length) waiters.shift().resolve(frames);
    }
  };
  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    parse();
  });
  parse();
  return {
    frames,
    waitFor(n) {
      if (frames.length >= n) return Promise.resolve(frames);
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };
}

for (const kind of ['native', 'ws']) {
  describe(`client against the ${kind === 'ws' ? 'ws' : 'native-ws'} server`, () => {
    it('opens, reports url/protocol, echoes text and binary, emits upgrade before open', T, async () => {
      const srv = await startServer(kind, { handleProtocols: (set) => (set.has('chat') ? 'chat' : false) });
      const ws = client(`${srv.url}/path?q=1`, ['superchat', 'chat']);
      assert.equal(ws.readyState, WebSocket.CONNECTING);
      assert.equal(ws.url, `${srv.url}/path?q=1`);
      assert.throws(() => ws.send('too early'), /not open/);
      const events = [];
      ws.on('upgrade', (res) => events.push(`upgrade ${res.statusCode}`));
      ws.on('open', () => events.push('open'));
      await opened(ws);
      assert.deepEqual(events, ['upgrade 101', 'open']);
      assert.equal(ws.readyState, WebSocket.OPEN);
      assert.equal(ws.protocol, 'chat');
      const conn = await srv.connection();
      assert.equal(conn.req.url, '/path?q=1');
      conn.ws.on('message', (data, isBinary) => conn.ws.send(data, { binary: isBinary }));
      ws.send('héllo');
      let m = await nextMessage(ws);
      assert.equal(m.isBinary, false);
      assert.equal(m.data.toString(), 'héllo');
      ws.send(Buffer.from([0, 1, 2, 255]));
      m = await nextMessage(ws);
      assert.equal(m.isBinary, true);
      assert.deepEqual(m.data, Buffer.from([0, 1, 2, 255]));
      const big = crypto.randomBytes(200 * 1024);
      ws.send(big);
      m = await nextMessage(ws);
      assert.deepEqual(m.data, big);
      ws.close();
      await closed(ws);
    });

    it('client closes with code and reason: both sides see them', T, async () => {
      const srv = await startServer(kind);
      const ws = client(srv.url);
      await opened(ws);
      const conn = await srv.connection();
      ws.close(4001, REASON);
      assert.equal(ws.readyState, WebSocket.CLOSING);
      const [code, reason] = await closed(ws);
      assert.equal(code, 4001);
      assert.equal(reason, REASON);
      const serverSide = await conn.closed;
      assert.deepEqual(serverSide, [4001, REASON]);
      assert.equal(ws.readyState, WebSocket.CLOSED);
    });

    it('server closes with code and reason: the client echoes and both sides see them', T, async () => {
      const srv = await startServer(kind);
      const ws = client(srv.url);
      await opened(ws);
      const conn = await srv.connection();
      const clientClosed = closed(ws);
      conn.ws.close(1000, REASON);
      assert.deepEqual(await clientClosed, [1000, REASON]);
      assert.deepEqual(await conn.closed, [1000, REASON]);
    });

    it('answers pings with pongs and receives pongs', T, async () => {
      const srv = await startServer(kind);
      const ws = client(srv.url);
      await opened(ws);
      const conn = await srv.connection();
      const pong = once(conn.ws, 'pong');
      const ping = once(ws, 'ping');
      conn.ws.ping('are you there');
      assert.equal((await ping)[0].toString(), 'are you there');
      assert.equal((await pong)[0].toString(), 'are you there');
      const clientPong = once(ws, 'pong');
      ws.ping('me too');
      assert.equal((await clientPong)[0].toString(), 'me too');
      ws.close();
      await closed(ws);
    });

    it('permessage-deflate is negotiated and compresses in both directions', T, async () => {
      const srv = await startServer(kind, { perMessageDeflate: { threshold: 0 } });
      const ws = client(srv.url);
      let offered;
      await opened(ws);
      const conn = await srv.connection();
      offered = conn.req.headers['sec-websocket-extensions'];
      assert.equal(offered, 'permessage-deflate; client_max_window_bits');
      assert.equal(ws.extensions, 'permessage-deflate');
      const text = 'all work and no play makes jack a dull boy. '.repeat(3000);
      const written = ws._seam.socket.bytesWritten;
      ws.send(text);
      await new Promise((resolve) => (conn.messages.length ? resolve() : conn.ws.once('message', () => setImmediate(resolve))));
      assert.equal(conn.messages[0].data.toString(), text);
      assert.ok(ws._seam.socket.bytesWritten - written < text.length / 10, 'the client compressed its message');
      const read = ws._seam.socket.bytesRead;
      const echoed = nextMessage(ws);
      conn.ws.send(text);
      assert.equal((await echoed).data.toString(), text);
      assert.ok(ws._seam.socket.bytesRead - read < text.length / 10, 'the server compressed its message');
      // Several messages in a row (context takeover on both sides).
      for (let i = 0; i < 3; i++) {
        const next = nextMessage(ws);
        conn.ws.send(`${i} ${text}`);
        assert.equal((await next).data.toString(), `${i} ${text}`);
      }
      ws.close(1000, 'done');
      assert.deepEqual(await closed(ws), [1000, 'done']);
    });

    it('permessage-deflate with parameters: no context takeover, restricted windows', T, async () => {
      const srv = await startServer(kind, { perMessageDeflate: { threshold: 0, serverNoContextTakeover: true } });
      const ws = client(srv.url, {
        perMessageDeflate: { serverMaxWindowBits: 10, clientMaxWindowBits: 9, clientNoContextTakeover: true, threshold: 0 },
      });
      let response;
      ws.on('upgrade', (res) => (response = res.headers['sec-websocket-extensions']));
      await opened(ws);
      const conn = await srv.connection();
      assert.equal(
        conn.req.headers['sec-websocket-extensions'],
        'permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9'
      );
      assert.match(response, /server_no_context_takeover/);
      assert.match(response, /server_max_window_bits=10/);
      assert.match(response, /client_max_window_bits=9/);
      const params = ws._extensions['permessage-deflate'];
      assert.deepEqual(
        [params.serverNoContextTakeover, params.clientNoContextTakeover, params.serverMaxWindowBits, params.clientMaxWindowBits],
        [true, true, 10, 9]
      );
      conn.ws.on('message', (data, isBinary) => conn.ws.send(data, { binary: isBinary }));
      for (let i = 0; i < 4; i++) {
        const payload = `${i}: ${'abcdefgh'.repeat(2000 + i)}`;
        const next = nextMessage(ws);
        ws.send(payload);
        assert.equal((await next).data.toString(), payload);
      }
      ws.close();
      await closed(ws);
    });

    it('perMessageDeflate: false sends no offer; a server without deflate gets none', T, async () => {
      const srv = await startServer(kind);
      const off = client(srv.url, { perMessageDeflate: false });
      await opened(off);
      assert.equal((await srv.connection()).req.headers['sec-websocket-extensions'], undefined);
      assert.equal(off.extensions, '');
      off.close();
      await closed(off);
    });
  });
}

describe('client rules', () => {
  it('every frame is masked, with a fresh key each', T, async () => {
    let reader;
    const srv = await rawServer((socket, req) => {
      socket.write(response101(req.key));
      reader = frameReader(socket, req.head);
    });
    const ws = client(srv.url, { perMessageDeflate: false });
    await opened(ws);
    ws.send('one');
    ws.send('two');
    ws.send(Buffer.alloc(70000, 7));
    ws.ping('p');
    const frames = await reader.waitFor(4);
    assert.ok(frames.every((f) => f.masked), 'all client frames are masked');
    assert.deepEqual(frames.map((f) => f.payload.length), [3, 3, 70000, 1]);
    assert.equal(frames[0].payload.toString(), 'one');
    assert.ok(frames[2].payload.every((b) => b === 7), 'the large frame unmasks to its payload');
    const keys = new Set(frames.map((f) => f.key.toString('hex')));
    assert.equal(keys.size, 4, 'a fresh masking key per frame');
  });

  it('a masked frame from the server fails the connection with 1002', T, async () => {
    let reader;
    const srv = await rawServer((socket, req) => {
      reader = frameReader(socket, req.head);
      socket.write(response101(req.key));
      socket.write(lib.encodeFrame({ opcode: 1, payload: 'masked', mask: true }));
    });
    const ws = client(srv.url);
    const messages = [];
    ws.on('message', (m) => messages.push(m));
    const errors = [];
    ws.on('error', (err) => errors.push(err));
    await opened(ws);
    await closed(ws);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].closeCode, 1002);
    assert.deepEqual(messages, []);
    const frames = await reader.waitFor(1);
    assert.equal(frames[0].opcode, 8);
    assert.equal(frames[0].masked, true);
    assert.equal(frames[0].payload.readUInt16BE(0), 1002);
  });

  it('bytes right after the 101 (in the same packet) are the first frames', T, async () => {
    const srv = await rawServer((socket, req) => {
      socket.write(Buffer.concat([Buffer.from(response101(req.key)), lib.encodeFrame({ opcode: 1, payload: 'early' })]));
    });
    const ws = client(srv.url);
    const first = nextMessage(ws);
    await opened(ws);
    assert.equal((await first).data.toString(), 'early');
  });

  it('maxPayload applies to server messages (1009)', T, async () => {
    const srv = await startServer('native');
    const ws = client(srv.url, { maxPayload: 10 });
    await opened(ws);
    const conn = await srv.connection();
    const errors = [];
    ws.on('error', (err) => errors.push(err));
    conn.ws.send('x'.repeat(11));
    await closed(ws);
    assert.equal(errors[0].closeCode, 1009);
    assert.equal((await conn.closed)[0], 1009);
  });
});

describe('handshake failures', () => {
  it('a wrong Sec-WebSocket-Accept fails with a clear error and close 1006', T, async () => {
    const srv = await rawServer((socket) => {
      socket.write(response101('not the key'));
    });
    const ws = client(srv.url);
    const { error, code } = await failure(ws);
    assert.equal(error.message, 'Invalid Sec-WebSocket-Accept header');
    assert.equal(error.code, 'WS_ERR_HANDSHAKE');
    assert.equal(code, 1006);
  });

  it('a 4xx response fails with "Unexpected server response" and its statusCode', T, async () => {
    const srv = await rawServer((socket) => {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nConnection: close\r\n\r\nForbidden');
    });
    const ws = client(srv.url);
    const { error, code } = await failure(ws);
    assert.equal(error.message, 'Unexpected server response: 403');
    assert.equal(error.statusCode, 403);
    assert.equal(code, 1006);
  });

  it('the native server refusing a request is a 4xx for the client', T, async () => {
    const srv = await startServer('native', { verifyClient: () => false });
    const ws = client(srv.url);
    const { error } = await failure(ws);
    assert.equal(error.statusCode, 401);
  });

  it("'unexpected-response' hands over the response; terminate() then ends the attempt", T, async () => {
    const srv = await rawServer((socket) => {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope');
    });
    const ws = client(srv.url);
    const [req, res] = await once(ws, 'unexpected-response');
    assert.equal(typeof req.destroy, 'function');
    assert.equal(res.statusCode, 404);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    let body = '';
    for await (const chunk of res) body += chunk;
    assert.equal(body, 'nope');
    const result = failure(ws);
    ws.terminate();
    const { error, code } = await result;
    assert.equal(error.message, 'WebSocket was closed before the connection was established');
    assert.equal(code, 1006);
  });

  it('handshakeTimeout: a server that never answers fails with a timeout error', T, async () => {
    const gone = [];
    const srv = await rawServer((socket) => {
      gone.push(once(socket, 'close'));
    });
    const ws = client(srv.url, { handshakeTimeout: 50 });
    const { error, code } = await failure(ws);
    assert.equal(error.message, 'Opening handshake has timed out');
    assert.equal(code, 1006);
    await Promise.all(gone); // the connection was dropped
  });

  it('a refused TCP connection gives the socket error and close 1006', T, async () => {
    const server = net.createServer();
    await new Promise((resolve) => server.listen(0, HOST, resolve));
    const { port } = server.address();
    await new Promise((resolve) => server.close(resolve));
    const ws = client(`ws://${HOST}:${port}`);
    // A common pattern: terminate from the error listener (no socket was ever attached).
    ws.on('error', () => {
      assert.equal(ws.readyState, WebSocket.CLOSING);
      ws.terminate();
      ws.pause();
      ws.resume();
      ws.close();
    });
    const { error, code } = await failure(ws);
    assert.equal(error.code, 'ECONNREFUSED');
    assert.equal(code, 1006);
  });

  it('close() and terminate() while connecting abort the request', T, async () => {
    const srv = await rawServer(() => {});
    for (const method of ['close', 'terminate']) {
      const ws = client(srv.url);
      const result = failure(ws);
      ws[method]();
      assert.equal(ws.readyState, WebSocket.CLOSING);
      const { error, code } = await result;
      assert.equal(error.message, 'WebSocket was closed before the connection was established');
      assert.equal(code, 1006);
    }
  });

  it("close() from an 'upgrade' listener aborts before open", T, async () => {
    const srv = await startServer('native');
    const ws = client(srv.url);
    ws.on('upgrade', () => ws.close());
    let openFired = false;
    ws.on('open', () => (openFired = true));
    const { error } = await failure(ws);
    assert.match(error.message, /closed before the connection was established/);
    assert.equal(openFired, false);
  });

  const bad101 = [
    ['no Upgrade header', (key) => `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n\r\n`, 'Invalid Upgrade header'],
    ['no Connection: Upgrade', (key) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Accept: ${accept(key)}\r\n\r\n`, 'Invalid Connection header'],
    ['a subprotocol that was not requested', (key) => response101(key, ['Sec-WebSocket-Protocol: chat']), 'Server sent a subprotocol but none was requested'],
    ['an extension that was not offered', (key) => response101(key, ['Sec-WebSocket-Extensions: x-foo']), 'Server indicated an extension that was not requested'],
    ['a deflate parameter that was not offered', (key) => response101(key, ['Sec-WebSocket-Extensions: permessage-deflate; foo']), 'Invalid Sec-WebSocket-Extensions header'],
    ['a client window over the offer', (key) => response101(key, ['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12']), 'Invalid Sec-WebSocket-Extensions header'],
    ['a broken extensions header', (key) => response101(key, ['Sec-WebSocket-Extensions: permessage-deflate;;']), 'Invalid Sec-WebSocket-Extensions header'],
  ];
  for (const [what, answer, expected] of bad101) {
    it(`a 101 with ${what} fails the connection`, T, async () => {
      const srv = await rawServer((socket, req) => socket.write(answer(req.key)));
      const ws = client(srv.url, { perMessageDeflate: { clientMaxWindowBits: 10 } });
      const { error, code } = await failure(ws);
      if (typeof expected === 'string') assert.equal(error.message, expected);
      else assert.match(error.message, expected);
      assert.equal(code, 1006);
    });
  }

  it('an extension answered to a client that offered none fails it', T, async () => {
    const srv = await rawServer((socket, req) => socket.write(response101(req.key, ['Sec-WebSocket-Extensions: permessage-deflate'])));
    const ws = client(srv.url, { perMessageDeflate: false });
    const { error } = await failure(ws);
    assert.equal(error.message, 'Server sent a Sec-WebSocket-Extensions header but no extension was requested');
  });

  it('subprotocol: one not in the list, or none when some were requested, fails it', T, async () => {
    for (const [header, message] of [
      [['Sec-WebSocket-Protocol: other'], 'Server sent an invalid subprotocol'],
      [[], 'Server sent no subprotocol'],
    ]) {
      const srv = await rawServer((socket, req) => socket.write(response101(req.key, header)));
      const ws = client(srv.url, ['chat', 'json']);
      const { error } = await failure(ws);
      assert.equal(error.message, message);
    }
  });
});

describe('client options', () => {
  it('headers, origin, subprotocols and the fixed upgrade headers are sent', T, async () => {
    let request;
    const srv = await rawServer((socket, req) => {
      request = req;
      socket.write(response101(req.key, ['Sec-WebSocket-Protocol: b']));
    });
    const ws = client(`http://${HOST}:${srv.port}/p`, ['a', 'b'], {
      headers: { 'X-Custom': 'yes', 'sec-websocket-key': 'ignored', Connection: 'close' },
      origin: 'https://example.com',
    });
    assert.equal(ws.url, `ws://${HOST}:${srv.port}/p`);
    await opened(ws);
    assert.equal(request.line, 'GET /p HTTP/1.1');
    assert.equal(request.headers['x-custom'], 'yes');
    assert.equal(request.headers.origin, 'https://example.com');
    assert.equal(request.headers['sec-websocket-protocol'], 'a,b');
    assert.equal(request.headers['sec-websocket-version'], '13');
    assert.equal(request.headers.connection, 'Upgrade');
    assert.equal(request.headers.upgrade, 'websocket');
    assert.equal(Buffer.from(request.key, 'base64').length, 16);
    assert.equal(ws.protocol, 'b');
  });

  it('credentials in the URL become a Basic Authorization header', T, async () => {
    const srv = await startServer('native');
    const ws = client(`ws://user:p%40ss@${HOST}:${srv.port}/`);
    await opened(ws);
    const { req } = await srv.connection();
    assert.equal(req.headers.authorization, `Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });

  it('bad arguments throw at once', () => {
    assert.throws(() => new WebSocket('not a url'), { name: 'SyntaxError', message: 'Invalid URL: not a url' });
    assert.throws(() => new WebSocket('ftp://example.com'), { name: 'SyntaxError', message: /protocol must be one of/ });
    assert.throws(() => new WebSocket('ws://example.com/#frag'), { name: 'SyntaxError', message: /fragment/ });
    assert.throws(() => new WebSocket('ws://example.com', ['a', 'a']), { name: 'SyntaxError', message: /subprotocol/ });
    assert.throws(() => new WebSocket('ws://example.com', 'bad protocol'), { name: 'SyntaxError' });
    assert.throws(() => new WebSocket('ws://example.com', { protocolVersion: 1000 }), {
      name: 'RangeError',
      message: 'Unsupported protocol version: 1000 (supported versions: 8, 13)',
    });
    assert.throws(() => new WebSocket('ws://example.com', { perMessageDeflate: { serverMaxWindowBits: 16 } }), RangeError);
    assert.throws(() => new WebSocket('ws://example.com', { handshakeTimeout: -1 }), RangeError);
    assert.throws(() => new WebSocket('ws://example.com', { maxPayload: 'big' }), TypeError);
  });

  it('ws+unix: connects over a Unix domain socket', T, async (t) => {
    if (process.platform === 'win32') return t.skip('no Unix sockets');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-ws-unix-'));
    const socketPath = path.join(dir, 'ws.sock');
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws, req) => ws.send(req.url));
    await new Promise((resolve) => server.listen(socketPath, resolve));
    closers.push(async () => {
      await new Promise((resolve) => wss.close(() => resolve()));
      await new Promise((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const ws = client(`ws+unix:${socketPath}:/over/unix?x=1`);
    const first = nextMessage(ws);
    await opened(ws);
    assert.equal((await first).data.toString(), '/over/unix?x=1');
    ws.close();
    await closed(ws);
  });
});

describe('redirects', () => {
  /** An HTTP server: /ws upgrades, /r/<n> redirects n times (then to /ws), /away redirects to `elsewhere`. */
  async function redirectServer(elsewhere) {
    const server = http.createServer();
    const wss = new WebSocketServer({ noServer: true });
    const seen = [];
    server.on('upgrade', (req, socket, head) => {
      seen.push(req);
      const hops = /^\/r\/(\d+)$/.exec(req.url);
      const location = hops ? (Number(hops[1]) > 1 ? `/r/${Number(hops[1]) - 1}` : '/ws') : req.url === '/away' ? elsewhere : null;
      if (location) {
        socket.end(`HTTP/1.1 302 Found\r\nLocation: ${location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => ws.send(`at ${req.url}`));
    });
    await new Promise((resolve) => server.listen(0, HOST, resolve));
    closers.push(async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    });
    return { port: server.address().port, seen };
  }

  it('followRedirects follows 3xx Location, emitting redirect', T, async () => {
    const srv = await redirectServer();
    const ws = client(`ws://${HOST}:${srv.port}/r/2`, { followRedirects: true });
    const redirects = [];
    ws.on('redirect', (url, req) => redirects.push([url, typeof req.setHeader]));
    const first = nextMessage(ws);
    await opened(ws);
    assert.equal((await first).data.toString(), 'at /ws');
    assert.deepEqual(redirects, [
      [`ws://${HOST}:${srv.port}/r/1`, 'function'],
      [`ws://${HOST}:${srv.port}/ws`, 'function'],
    ]);
    assert.equal(ws.url, `ws://${HOST}:${srv.port}/ws`);
  });

  it('more than maxRedirects fails; without followRedirects a 3xx is an unexpected response', T, async () => {
    const srv = await redirectServer();
    const tooMany = client(`ws://${HOST}:${srv.port}/r/3`, { followRedirects: true, maxRedirects: 2 });
    assert.equal((await failure(tooMany)).error.message, 'Maximum redirects exceeded');
    const notFollowed = client(`ws://${HOST}:${srv.port}/r/1`);
    const { error } = await failure(notFollowed);
    assert.equal(error.message, 'Unexpected server response: 302');
    assert.equal(error.statusCode, 302);
  });

  it('credentials do not follow a redirect to another host', T, async () => {
    const target = await startServer('native');
    // Another port is another host (URL.host includes the port), as in ws and curl.
    const srv = await redirectServer(`ws://${HOST}:${target.port}/there`);
    const ws = client(`ws://u:p@${HOST}:${srv.port}/away`, {
      followRedirects: true,
      headers: { Authorization: 'Bearer secret', Cookie: 'a=b', 'X-Keep': '1' },
    });
    await opened(ws);
    assert.equal(srv.seen[0].headers.authorization, 'Bearer secret');
    const { req } = await target.connection();
    assert.equal(req.url, '/there');
    assert.equal(req.headers.authorization, undefined);
    assert.equal(req.headers.cookie, undefined);
    assert.equal(req.headers['x-keep'], '1');
  });
});

/** A self-signed certificate for 127.0.0.1: openssl when present, else built with node:crypto. */
function selfSignedCertificate() {
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-ws-cert-'));
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ], { stdio: 'ignore' });
      return {
        key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'),
        cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
        source: 'openssl',
      };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  } catch {
    return nodeCryptoCertificate();
  }
}

/** A minimal X.509 v3 certificate (ECDSA P-256, SAN 127.0.0.1/localhost) in DER, signed with node:crypto. */
function nodeCryptoCertificate() {
  const der = (tag, ...parts) => {
    const body = Buffer.concat(parts);
    let len;
    if (body.length < 128) len = Buffer.from([body.length]);
    else {
      const bytes = [];
      for (let n = body.length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
      len = Buffer.from([0x80 | bytes.length, ...bytes]);
    }
    return Buffer.concat([Buffer.from([tag]), len, body]);
  };
  const seq = (...parts) => der(0x30, ...parts);
  const oid = (dotted) => {
    const [a, b, ...rest] = dotted.split('.').map(Number);
    const out = [40 * a + b];
    for (let v of rest) {
      const enc = [v & 0x7f];
      for (v >>= 7; v > 0; v >>= 7) enc.unshift(0x80 | (v & 0x7f));
      out.push(...enc);
    }
    return der(0x06, Buffer.from(out));
  };
  const time = (date) => der(0x17, Buffer.from(`${date.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`));
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const name = seq(der(0x31, seq(oid('2.5.4.3'), der(0x0c, Buffer.from('localhost')))));
  const algorithm = seq(oid('1.2.840.10045.4.3.2'));
  const now = Date.now();
  const extensions = der(0xa3, seq(
    seq(oid('2.5.29.19'), der(0x01, Buffer.from([0xff])), der(0x04, seq(der(0x01, Buffer.from([0xff]))))),
    seq(oid('2.5.29.17'), der(0x04, seq(der(0x82, Buffer.from('localhost')), der(0x87, Buffer.from([127, 0, 0, 1]))))),
  ));
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, Buffer.concat([Buffer.from([1]), crypto.randomBytes(8)])),
    algorithm,
    name,
    seq(time(new Date(now - 3600e3)), time(new Date(now + 86400e3))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions,
  );
  const signature = crypto.sign('sha256', tbs, privateKey);
  const cert = seq(tbs, algorithm, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const pem = `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: pem, source: 'node:crypto' };
}

describe('wss:', () => {
  async function secureServer({ key, cert }, kind) {
    const server = https.createServer({ key, cert });
    const wss = kind === 'ws' ? new WS.WebSocketServer({ server }) : new WebSocketServer({ server });
    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.on('close', (code, reason) => (wss.lastClose = [code, reason.toString()]));
    });
    await new Promise((resolve) => server.listen(0, HOST, resolve));
    closers.push(async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    });
    return { url: `wss://${HOST}:${server.address().port}`, wss };
  }

  const credentials = selfSignedCertificate();
  const generators = credentials.source === 'openssl' ? [credentials, nodeCryptoCertificate()] : [credentials];
  for (const creds of generators) {
    for (const kind of ['native', 'ws']) {
      it(`talks to a ${kind} server with a self-signed certificate (${creds.source}), trusted through ca`, T, async () => {
        const srv = await secureServer(creds, kind);
        const ws = client(srv.url, { ca: creds.cert });
        await opened(ws);
        assert.equal(ws._seam.socket.encrypted, true);
        const echo = nextMessage(ws);
        ws.send(REASON);
        assert.equal((await echo).data.toString(), REASON);
        ws.close(1000, 'bye');
        assert.deepEqual(await closed(ws), [1000, 'bye']);
      });
    }
  }

  it('an untrusted self-signed certificate fails the connection', T, async () => {
    const srv = await secureServer(credentials, 'native');
    const ws = client(srv.url);
    const { error, code } = await failure(ws);
    assert.equal(error.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.equal(code, 1006);
  });
});
