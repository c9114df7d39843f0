'use strict';

// The opening handshake through accept() on a raw net server and through
// WebSocketServer: refusals, fragmented requests, early frames,
// subprotocols, verifyClient, path, the headers event, handshakeTimeout.

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { once } = require('node:events');
const h = require('./helpers');

const { OP } = h;
const { WebSocket, WebSocketServer } = h.lib;
const T = { timeout: 10000 };

afterEach(h.closeAll);

/**
 * Sends `request` and checks the refusal: `status`, the connection closed by
 * the server, and no WebSocket opened (accept(): 'close' 1006 and an 'error'
 * with that statusCode).
 */
async function refused(srv, request, status, { oneByteAtATime = false } = {}) {
  const res = await h.rawHttp(srv.port, request, { oneByteAtATime });
  assert.equal(res.status, status, `status (${res.lines[0]}: ${res.body})`);
  if (srv.kind === 'accept') {
    const info = await res.client.closed;
    assert.equal(info.serverEndedFirst, true, 'the server closes the connection after refusing');
    assert.equal(srv.conns.length, 1);
    const conn = srv.conns[0];
    const event = await conn.closed;
    assert.equal(event.code, 1006);
    assert.equal(conn.opened, false, "no 'open' event");
    assert.equal(conn.errors.length, 1);
    assert.equal(conn.errors[0].statusCode, status);
    assert.equal(conn.ws.readyState, WebSocket.CLOSED);
  } else {
    if (res.headers.connection === 'close') {
      const info = await res.client.closed;
      assert.equal(info.serverEndedFirst, true, 'the server closes the connection after refusing');
    }
    assert.equal(srv.conns.length, 0, "no 'connection' event");
  }
  return res;
}

// [what, request, status, the response body (ws's message)]
const KEY = 'Missing or invalid Sec-WebSocket-Key header';
const VERSION = 'Missing or invalid Sec-WebSocket-Version header';
const BAD_REQUESTS = [
  ['a POST', { method: 'POST' }, 405, 'Invalid HTTP method'],
  ['a PUT', { method: 'PUT' }, 405, 'Invalid HTTP method'],
  ['HTTP/1.0', { httpVersion: '1.0' }, 400, 'Invalid HTTP version: the upgrade needs HTTP/1.1 or later'],
  ['an invalid Upgrade header (h2c)', { headers: { Upgrade: 'h2c' } }, 400, 'Invalid Upgrade header'],
  ['a key of the wrong length (20 chars)', { key: 'dGhlIHNhbXBsZSBub25j' }, 400, KEY],
  ['a key that decodes to 15 bytes', { key: 'AAAAAAAAAAAAAAAAAAAA' }, 400, KEY],
  ['a 24-char key that is not base64', { key: '!!!!!!!!!!!!!!!!!!!!!!==' }, 400, KEY],
  ['a 24-char base64 key of 18 bytes', { key: 'AAAAAAAAAAAAAAAAAAAAAAAA' }, 400, KEY],
  ['a missing Sec-WebSocket-Key', { headers: { 'Sec-WebSocket-Key': null } }, 400, KEY],
  ['a missing Sec-WebSocket-Version', { headers: { 'Sec-WebSocket-Version': null } }, 400, VERSION],
];

for (const kind of h.KINDS) {
  describe(`opening handshake (${kind})`, () => {
    for (const [name, request, status, message] of BAD_REQUESTS) {
      it(`${name} is refused with ${status} and ws's message`, T, async () => {
        const srv = await h.startServer(kind);
        const res = await refused(srv, h.upgradeRequest(request), status);
        assert.equal(res.body, message);
      });
    }

    // accept() is the HTTP server: HTTP/1.1 requires Host (RFC 9112 §3.2).
    // WebSocketServer leaves HTTP's rules to the user's server, as ws does.
    if (kind === 'accept') {
      it('a missing Host header is refused with 400', T, async () => {
        const srv = await h.startServer(kind);
        const res = await refused(srv, h.upgradeRequest({ headers: { Host: null } }), 400);
        assert.equal(res.body, 'Missing Host header');
      });
    } else {
      it('a request without Host is accepted', T, async () => {
        const srv = await h.startServer(kind);
        const connection = srv.nextConnection();
        const client = await h.connect(srv.port, { headers: { Host: null } });
        await connection;
        assert.equal(client.response.status, 101);
      });
    }

    // Without both the Upgrade header and the Upgrade token in Connection,
    // Node's HTTP server does not emit 'upgrade' at all: WebSocketServer's
    // own request handler answers 426 as ws 8 does. accept() sees the request
    // itself and refuses it with 400.
    const notUpgrade = kind === 'accept' ? 400 : 426;
    it(`a missing Upgrade header is refused with ${notUpgrade}`, T, async () => {
      const srv = await h.startServer(kind);
      await refused(srv, h.upgradeRequest({ headers: { Upgrade: null } }), notUpgrade);
    });

    it(`a Connection header without the Upgrade token is refused with ${notUpgrade}`, T, async () => {
      const srv = await h.startServer(kind);
      await refused(srv, h.upgradeRequest({ headers: { Connection: 'keep-alive' } }), notUpgrade);
    });

    for (const version of ['14', '7', '13, 8', 'x']) {
      it(`Sec-WebSocket-Version: ${version} is refused with 400 and Sec-WebSocket-Version: 13, 8`, T, async () => {
        const srv = await h.startServer(kind);
        const res = await refused(srv, h.upgradeRequest({ headers: { 'Sec-WebSocket-Version': version } }), 400);
        assert.equal(res.headers['sec-websocket-version'], '13, 8');
        assert.equal(res.body, VERSION);
      });
    }

    for (const version of ['8']) {
      it(`Sec-WebSocket-Version: ${version} is accepted`, T, async () => {
        const srv = await h.startServer(kind);
        const connection = srv.nextConnection();
        const client = await h.connect(srv.port, { headers: { 'Sec-WebSocket-Version': version } });
        const conn = await connection;
        assert.equal(client.response.status, 101);
        assert.equal(conn.ws.readyState, WebSocket.OPEN);
      });
    }

    it('a refusal sent one byte at a time is still refused', T, async () => {
      const srv = await h.startServer(kind);
      await refused(srv, h.upgradeRequest({ httpVersion: '1.0' }), 400, { oneByteAtATime: true });
    });

    it('Upgrade and Connection tokens are case-insensitive and Connection may list several tokens', T, async () => {
      const srv = await h.startServer(kind);
      const connection = srv.nextConnection();
      const client = await h.connect(srv.port, { headers: { Upgrade: 'WebSocket', Connection: 'keep-alive, UPGRADE' } });
      const conn = await connection;
      assert.equal(conn.ws.readyState, WebSocket.OPEN);
      assert.equal(client.response.status, 101);
    });

    it('header names in lower case are accepted', T, async () => {
      const srv = await h.startServer(kind);
      const key = h.randomKey();
      const request =
        'GET / HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n' +
        `sec-websocket-key: ${key}\r\nsec-websocket-version: 13\r\n\r\n`;
      const res = await h.rawHttp(srv.port, request);
      assert.equal(res.status, 101);
      assert.equal(res.headers['sec-websocket-accept'], h.computeAccept(key));
    });

    it('two Sec-WebSocket-Key headers are refused with 400', T, async () => {
      const srv = await h.startServer(kind);
      const request = h.upgradeRequest().replace('\r\n\r\n', `\r\nSec-WebSocket-Key: ${h.randomKey()}\r\n\r\n`);
      await refused(srv, request, 400);
    });

    it('a request written one byte at a time is accepted', { timeout: 20000 }, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv, { oneByteAtATime: true });
      assert.equal(conn.ws.readyState, WebSocket.OPEN);
      await client.write(h.text('after a slow handshake'));
      await conn.waitMessages(1);
      assert.equal(conn.messages[0].data.toString(), 'after a slow handshake');
      conn.ws.send('reply');
      const f = await client.nextFrame();
      assert.equal(f.payload.toString(), 'reply');
    });

    it('frames sent in the same write as the request are delivered after the connection opens', T, async () => {
      const srv = await h.startServer(kind);
      const head = Buffer.concat([h.text('first'), h.binary([1, 2, 3]), h.ping('early')]);
      const { client, conn } = await h.connectPair(srv, { head });
      await conn.waitMessages(2);
      assert.deepEqual(
        conn.messages.map((m) => [m.data.toString('hex'), m.isBinary]),
        [
          [Buffer.from('first').toString('hex'), false],
          ['010203', true],
        ]
      );
      if (kind === 'accept') assert.deepEqual(conn.log.slice(0, 3), ['open', 'message', 'message']);
      const f = await client.nextFrame();
      assert.equal(f.opcode, OP.PONG);
      assert.equal(f.payload.toString(), 'early');
    });

    it('a frame split between the request write and a later write is delivered', T, async () => {
      const srv = await h.startServer(kind);
      const whole = h.text('x'.repeat(300));
      const { client, conn } = await h.connectPair(srv, { head: whole.subarray(0, 5) });
      await client.write(whole.subarray(5));
      await conn.waitMessages(1);
      assert.equal(conn.messages[0].data.toString(), 'x'.repeat(300));
    });

    it('handleProtocols selects a subprotocol: response header and ws.protocol', T, async () => {
      let offered;
      let sawReq;
      const srv = await h.startServer(kind, {
        handleProtocols: (protocols, req) => {
          offered = protocols;
          sawReq = req;
          return protocols.has('superchat') ? 'superchat' : false;
        },
      });
      const { client, conn } = await h.connectPair(srv, { protocols: ['chat', 'superchat'] });
      assert.ok(offered instanceof Set);
      assert.deepEqual([...offered], ['chat', 'superchat']);
      assert.equal(sawReq.headers['sec-websocket-protocol'], 'chat, superchat');
      assert.equal(client.response.headers['sec-websocket-protocol'], 'superchat');
      assert.equal(conn.ws.protocol, 'superchat');
    });

    it('handleProtocols returning false: no Sec-WebSocket-Protocol, ws.protocol is empty', T, async () => {
      const srv = await h.startServer(kind, { handleProtocols: () => false });
      const { client, conn } = await h.connectPair(srv, { protocols: ['chat'] });
      assert.equal(client.response.headers['sec-websocket-protocol'], undefined);
      assert.equal(conn.ws.protocol, '');
    });

    it('no protocols offered: handleProtocols is not consulted', T, async () => {
      let called = false;
      const srv = await h.startServer(kind, {
        handleProtocols: () => {
          called = true;
          return 'x';
        },
      });
      const { client, conn } = await h.connectPair(srv);
      assert.equal(called, false);
      assert.equal(client.response.headers['sec-websocket-protocol'], undefined);
      assert.equal(conn.ws.protocol, '');
    });

    it('a duplicated subprotocol is refused with 400', T, async () => {
      const srv = await h.startServer(kind);
      await refused(srv, h.upgradeRequest({ protocols: ['chat', 'chat'] }), 400);
    });

    it('verifyClient returning false is refused with 401', T, async () => {
      let info;
      const srv = await h.startServer(kind, {
        verifyClient: (i) => {
          info = i;
          return false;
        },
      });
      await refused(srv, h.upgradeRequest({ headers: { Origin: 'http://example.com' } }), 401);
      assert.equal(info.origin, 'http://example.com');
      assert.equal(info.secure, false);
      assert.equal(info.req.headers.origin, 'http://example.com');
    });

    it('verifyClient returning true accepts', T, async () => {
      const srv = await h.startServer(kind, { verifyClient: () => true });
      const { conn } = await h.connectPair(srv);
      assert.equal(conn.ws.readyState, WebSocket.OPEN);
    });
  });
}

for (const kind of h.KINDS) {
  // One server handshake serves both: these once differed between them.
  describe(`opening handshake, the same on both servers (${kind})`, () => {
    /** Listens to 'headers' where this kind of server emits it. */
    function onHeaders(srv, listener) {
      if (kind === 'wss') srv.wss.on('headers', listener);
      else srv.on('accepted', (conn) => conn.ws.on('headers', listener));
    }

    it('verifyClient with a callback can refuse with its own status and headers', T, async () => {
      const srv = await h.startServer(kind, {
        verifyClient: (info, cb) => setImmediate(() => cb(false, 403, 'Go away', { 'X-Reason': 'test' })),
      });
      const res = await refused(srv, h.upgradeRequest(), 403);
      assert.equal(res.headers['x-reason'], 'test');
    });

    it('verifyClient with a callback can accept; frames sent meanwhile are kept', T, async () => {
      const srv = await h.startServer(kind, { verifyClient: (info, cb) => setTimeout(() => cb(true), 20) });
      const { conn } = await h.connectPair(srv, { head: h.text('while verifying') });
      assert.equal(conn.ws.readyState, WebSocket.OPEN);
      await conn.waitMessages(1);
      assert.equal(conn.messages[0].data.toString(), 'while verifying');
    });

    it('verifyClient sees secure: false on plain TCP and the origin header', T, async () => {
      let seen;
      const srv = await h.startServer(kind, {
        verifyClient: (info) => {
          seen = info;
          return true;
        },
      });
      const { conn } = await h.connectPair(srv, { headers: { Origin: 'http://example.test' } });
      assert.equal(seen.secure, false);
      assert.equal(seen.origin, 'http://example.test');
      assert.equal(seen.req, conn.req);
    });

    it('a throwing verifyClient or handleProtocols is answered 500', T, async () => {
      for (const make of [() => ({ verifyClient: () => { throw new Error('boom'); } }), () => ({ handleProtocols: () => { throw new Error('boom'); } })]) {
        const options = make();
        if (kind === 'accept') {
          const srv = await h.startServer(kind, options);
          const res = await h.rawHttp(srv.port, h.upgradeRequest({ protocols: ['chat'] }));
          assert.equal(res.status, 500);
          const conn = srv.conns[0];
          await conn.closed;
          // accept(): the error reaches the WebSocket's 'error' listeners.
          assert.equal(conn.errors.length, 1);
          assert.equal(conn.errors[0].message, 'boom');
          assert.equal(conn.errors[0].statusCode, 500);
          await srv.close();
          continue;
        }
        // WebSocketServer: handleUpgrade answers 500, then rethrows to its caller.
        const wss = new WebSocketServer({ noServer: true, ...options });
        const thrown = [];
        const server = h.trackServer(http.createServer());
        server.on('upgrade', (req, socket, head) => {
          try {
            wss.handleUpgrade(req, socket, head, () => assert.fail('must not open'));
          } catch (err) {
            thrown.push(err);
          }
        });
        await new Promise((resolve) => server.listen(0, h.HOST, resolve));
        const res = await h.rawHttp(server.address().port, h.upgradeRequest({ protocols: ['chat'] }));
        assert.equal(res.status, 500);
        assert.equal(thrown.length, 1);
        assert.equal(thrown[0].message, 'boom');
      }
    });

    if (kind === 'wss') {
      it('an overridden shouldHandle() decides which requests are refused with 400 (as in ws)', T, async () => {
        const srv = await h.startServer(kind);
        srv.wss.shouldHandle = (req) => req.url.startsWith('/yes');
        await refused(srv, h.upgradeRequest({ path: '/no' }), 400);
        const { conn } = await h.connectPair(srv, { path: '/yes/please' });
        assert.equal(conn.req.url, '/yes/please');
      });
    }

    it('a path that does not match the path option is refused with 400', T, async () => {
      const srv = await h.startServer(kind, { path: '/chat' });
      await refused(srv, h.upgradeRequest({ path: '/other' }), 400);
    });

    it('the path option matches with a query string', T, async () => {
      const srv = await h.startServer(kind, { path: '/chat' });
      const { conn } = await h.connectPair(srv, { path: '/chat?room=1' });
      assert.equal(conn.req.url, '/chat?room=1');
    });

    it("the 'headers' event lets the user add a header the client sees", T, async () => {
      const srv = await h.startServer(kind);
      let seenReq;
      onHeaders(srv, (headers, req) => {
        assert.ok(Array.isArray(headers));
        assert.equal(headers[0], 'HTTP/1.1 101 Switching Protocols');
        seenReq = req;
        headers.push('X-Custom: hello');
        headers.push('Set-Cookie: a=b');
      });
      const { client, conn } = await h.connectPair(srv);
      assert.equal(client.response.headers['x-custom'], 'hello');
      assert.equal(client.response.headers['set-cookie'], 'a=b');
      assert.equal(seenReq, conn.req);
    });
  });
}

describe('opening handshake: accept() only', () => {
  it('a header block over 16 KiB is refused with 431', T, async () => {
    const srv = await h.startServer('accept');
    await refused(srv, h.upgradeRequest({ headers: { 'X-Big': 'a'.repeat(17 * 1024) } }), 431);
  });

  it('an unfinished header block over 16 KiB is refused with 431 without waiting for its end', T, async () => {
    const srv = await h.startServer('accept');
    const start = h.upgradeRequest().replace(/\r\n\r\n$/, '\r\n') + `X-Big: ${'a'.repeat(17 * 1024)}`;
    await refused(srv, start, 431);
  });

  it('maxHeaderBytes lowers the limit', T, async () => {
    const srv = await h.startServer('accept', { maxHeaderBytes: 200 });
    await refused(srv, h.upgradeRequest({ headers: { 'X-Pad': 'p'.repeat(200) } }), 431);
  });

  it('more than 100 header lines is refused with 431', T, async () => {
    const srv = await h.startServer('accept');
    const headers = {};
    for (let i = 0; i < 120; i++) headers[`X-H${i}`] = 'v';
    await refused(srv, h.upgradeRequest({ headers }), 431);
  });

  it('handshakeTimeout drops a client that never finishes its request', T, async () => {
    const srv = await h.startServer('accept', { handshakeTimeout: 150 });
    const accepted = once(srv, 'accepted');
    const socket = net.connect({ port: srv.port, host: h.HOST });
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const [conn] = await accepted;
    const closed = once(socket, 'close');
    socket.resume();
    await closed;
    const event = await conn.closed;
    assert.equal(event.code, 1006);
    assert.equal(conn.opened, false);
    assert.equal(conn.ws.readyState, WebSocket.CLOSED);
  });

  it('handshakeTimeout drops a client that sends nothing', T, async () => {
    const srv = await h.startServer('accept', { handshakeTimeout: 150 });
    const accepted = once(srv, 'accepted');
    const socket = net.connect({ port: srv.port, host: h.HOST });
    socket.on('error', () => {});
    const [conn] = await accepted;
    socket.resume();
    await once(socket, 'close');
    assert.equal((await conn.closed).code, 1006);
  });

  it('a listener added in the open handler still gets the frames sent with the request', T, async () => {
    const server = h.trackServer(
      net.createServer((socket) => {
        const ws = h.lib.accept(socket);
        ws.on('open', () => {
          ws.on('message', (data, isBinary) => server.emit('got', data.toString(), isBinary));
        });
      })
    );
    await new Promise((resolve) => server.listen(0, h.HOST, resolve));
    const got = once(server, 'got');
    await h.connect(server.address().port, { head: h.text('early bird') });
    assert.deepEqual(await got, ['early bird', false]);
  });

  it('req.headers and req.rawHeaders are built on first read, from that request only', T, async () => {
    const reqs = [];
    const srv = await h.startServer('accept', {
      verifyClient: (info) => {
        reqs.push(info.req);
        return true;
      },
    });
    const key = h.randomKey();
    // Repeated names in any case, whitespace around values, Latin-1 bytes, an empty value.
    const head =
      'GET /a/b?c=%20d HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key:   ${key} \r\nSec-WebSocket-Version: 13\r\n` +
      'X-Dup: one\r\nx-dup:  two  \r\nX-DUP: three\r\nX-Latin: caf\xe9\r\nX-Empty:\r\nCookie: a=1\r\ncookie: b=2\r\n\r\n';
    const res = await h.rawHttp(srv.port, Buffer.from(head, 'latin1'));
    assert.equal(res.status, 101);
    assert.equal(res.headers['sec-websocket-accept'], h.computeAccept(key));
    await h.connectPair(srv, { path: '/second', headers: { 'X-Dup': 'other' } });
    assert.equal(reqs.length, 2);
    const [req] = reqs;
    assert.equal(req.method, 'GET');
    assert.equal(req.url, '/a/b?c=%20d');
    assert.equal(req.httpVersion, '1.1');
    assert.deepEqual(req.rawHeaders, [
      'Host', 'example.test', 'Upgrade', 'websocket', 'Connection', 'Upgrade',
      'Sec-WebSocket-Key', key, 'Sec-WebSocket-Version', '13',
      'X-Dup', 'one', 'x-dup', 'two', 'X-DUP', 'three', 'X-Latin', 'caf\u00e9', 'X-Empty', '',
      'Cookie', 'a=1', 'cookie', 'b=2',
    ]);
    assert.deepEqual(req.headers, {
      host: 'example.test',
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': key,
      'sec-websocket-version': '13',
      'x-dup': 'one, two, three',
      'x-latin': 'caf\u00e9',
      'x-empty': '',
      cookie: 'a=1, b=2',
    });
    assert.equal(req.headers, req.headers, 'built once');
    assert.equal(req.rawHeaders, req.rawHeaders, 'built once');
    assert.equal(reqs[1].url, '/second');
    assert.equal(reqs[1].headers['x-dup'], 'other');
    assert.equal(req.socket, srv.conns[0].socket);
    assert.equal(srv.conns[0].openRequest, req, "'open' carries the request");
    assert.equal('upgradeReq' in srv.conns[0].ws, false);
    req.headers = { replaced: 'yes' };
    assert.deepEqual(req.headers, { replaced: 'yes' });
    assert.ok('headers' in req && 'rawHeaders' in req);
  });

  it('the request object passed to callbacks has method, url and headers', T, async () => {
    let req;
    const srv = await h.startServer('accept', {
      verifyClient: (info) => {
        req = info.req;
        return true;
      },
    });
    await h.connectPair(srv, { path: '/room?x=1', headers: { 'X-Test': 'yes' } });
    assert.equal(req.method, 'GET');
    assert.equal(req.url, '/room?x=1');
    assert.equal(req.headers['x-test'], 'yes');
    assert.equal(req.httpVersion, '1.1');
  });
});
