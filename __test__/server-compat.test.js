'use strict';

// WebSocketServer as a ws 8 user meets it: the order of the handshake's
// checks and the answer each gives (status, ws's message as the body, the
// response's headers), 'wsClientError', verifyClient's refusals, requests
// built by a framework's test tool (handleUpgrade with method/url/headers
// only), and the constructor's options (no options, `WebSocket`, ws's
// receiver options and limits).

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { once } = require('node:events');
const h = require('./helpers');

const { WebSocket, WebSocketServer } = h.lib;
const T = { timeout: 10000 };

afterEach(h.closeAll);

const METHOD = 'Invalid HTTP method';
const UPGRADE = 'Invalid Upgrade header';
const KEY = 'Missing or invalid Sec-WebSocket-Key header';
const VERSION = 'Missing or invalid Sec-WebSocket-Version header';
const PROTOCOL = 'Invalid Sec-WebSocket-Protocol header';
const EXTENSIONS = 'Invalid or unacceptable Sec-WebSocket-Extensions header';

/** A WebSocketServer on a free port, tracked for closeAll(). */
async function listen(options = {}) {
  const wss = h.trackServer(new WebSocketServer({ port: 0, host: '127.0.0.1', ...options }));
  await once(wss, 'listening');
  wss.on('connection', (ws) => ws.on('error', () => {}));
  return wss;
}

/** Sends `request` (options for h.upgradeRequest) and returns the response. */
function ask(wss, request) {
  return h.rawHttp(wss.address().port, typeof request === 'string' ? request : h.upgradeRequest(request));
}

describe('server handshake: the order of the checks (ws 8)', () => {
  // Each request breaks the rule named and every rule after it in ws's
  // order; the answer must be the first one's.
  const cases = [
    ['the method', { method: 'POST', key: 'short', headers: { Upgrade: 'h2c', 'Sec-WebSocket-Version': '7' } }, 405, METHOD],
    ['the Upgrade header', { key: 'short', headers: { Upgrade: 'h2c', 'Sec-WebSocket-Version': '7' } }, 400, UPGRADE],
    ['the key', { key: 'short', path: '/elsewhere', headers: { 'Sec-WebSocket-Version': '7' } }, 400, KEY],
    ['the version', { path: '/elsewhere', headers: { 'Sec-WebSocket-Version': '7', 'Sec-WebSocket-Protocol': 'a;b' } }, 400, VERSION],
    ['the path', { path: '/elsewhere', headers: { 'Sec-WebSocket-Protocol': 'a;b' } }, 400, 'Bad Request'],
    ['the subprotocol header', { headers: { 'Sec-WebSocket-Protocol': 'a;b', 'Sec-WebSocket-Extensions': 'permessage-deflate;;' } }, 400, PROTOCOL],
    ['the extensions header', { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate;;' } }, 400, EXTENSIONS],
  ];
  for (const [rule, request, status, message] of cases) {
    it(`${rule} is checked first among what follows it: ${status} ${message}`, T, async () => {
      let verifyCalls = 0;
      const wss = await listen({
        path: '/',
        perMessageDeflate: true,
        verifyClient: () => {
          verifyCalls++;
          return false;
        },
      });
      const res = await ask(wss, request);
      assert.equal(res.status, status);
      assert.equal(res.body, message);
      assert.equal(verifyCalls, 0, 'verifyClient runs only once every earlier check passed');
    });
  }

  it('handleProtocols runs after verifyClient, and sees what it left on the request', T, async () => {
    const order = [];
    const wss = await listen({
      verifyClient: ({ req }) => {
        order.push('verifyClient');
        req.user = 'alice';
        return true;
      },
      handleProtocols: (protocols, req) => {
        order.push(`handleProtocols ${req.user}`);
        return 'chat';
      },
    });
    const connection = once(wss, 'connection');
    const res = await ask(wss, { protocols: ['chat'] });
    assert.equal(res.status, 101);
    assert.equal(res.headers['sec-websocket-protocol'], 'chat');
    await connection;
    assert.deepEqual(order, ['verifyClient', 'handleProtocols alice']);
  });
});

describe('server handshake: the answers (ws 8)', () => {
  it("a refusal has ws's shape: status text, Connection: close, Content-Type: text/html, Content-Length, the message as body", T, async () => {
    const wss = await listen();
    const res = await ask(wss, { key: 'P5l8BJcZwRc=' });
    assert.equal(res.lines[0], 'HTTP/1.1 400 Bad Request');
    assert.deepEqual(res.lines.slice(1), ['Connection: close', 'Content-Type: text/html', `Content-Length: ${KEY.length}`]);
    assert.equal(res.body, KEY);
    const info = await res.client.closed;
    assert.equal(info.serverEndedFirst, true);
  });

  it('a method other than GET is answered 405 Method Not Allowed', T, async () => {
    const wss = await listen();
    const res = await ask(wss, { method: 'DELETE' });
    assert.equal(res.lines[0], 'HTTP/1.1 405 Method Not Allowed');
    assert.equal(res.body, METHOD);
  });

  for (const version of ['8', ' 8']) {
    it(`Sec-WebSocket-Version: ${JSON.stringify(version)} is accepted`, T, async () => {
      const wss = await listen();
      const connection = once(wss, 'connection');
      const res = await ask(wss, { headers: { 'Sec-WebSocket-Version': version } });
      assert.equal(res.status, 101);
      const [ws] = await connection;
      assert.equal(ws.readyState, WebSocket.OPEN);
    });
  }

  it('a missing or unsupported version is answered 400 with Sec-WebSocket-Version: 13, 8', T, async () => {
    const wss = await listen();
    for (const headers of [{ 'Sec-WebSocket-Version': null }, { 'Sec-WebSocket-Version': '12' }, { 'Sec-WebSocket-Version': '13.0' }]) {
      const res = await ask(wss, { headers });
      assert.equal(res.status, 400);
      assert.equal(res.headers['sec-websocket-version'], '13, 8');
      assert.equal(res.body, VERSION);
    }
  });

  it('a Hixie-76 request (Sec-WebSocket-Key1/Key2) is refused for its missing key', T, async () => {
    const wss = await listen();
    const res = await ask(wss, {
      key: null,
      headers: { 'Sec-WebSocket-Key': null, 'Sec-WebSocket-Version': null, 'Sec-WebSocket-Key1': '4 @1  46546xW%0l 1 5', 'Sec-WebSocket-Key2': '12998 5 Y3 1  .P00' },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body, KEY);
  });

  it('an Upgrade header Node does not pass on (maxHeadersCount) is refused as missing', T, async () => {
    const wss = h.trackServer(new WebSocketServer({ noServer: true }));
    const server = h.trackServer(http.createServer());
    server.maxHeadersCount = 2;
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, () => assert.fail('no connection')));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    // Host and X-A are all Node keeps in req.headers.
    const request = h.upgradeRequest().replace('Upgrade: websocket', 'X-A: 1\r\nUpgrade: websocket');
    const res = await h.rawHttp(server.address().port, request);
    assert.equal(res.status, 400);
    assert.equal(res.body, UPGRADE);
  });

  it('what an upgrade listener changed in req.headers before handleUpgrade counts; an untouched request is read as sent', T, async () => {
    const wss = h.trackServer(new WebSocketServer({ noServer: true }));
    wss.on('connection', (ws) => ws.close());
    const server = h.trackServer(http.createServer());
    server.on('upgrade', (req, socket, head) => {
      const fix = req.rawHeaders.includes('x-fix-version');
      const drop = req.rawHeaders.includes('x-drop-upgrade');
      if (fix) req.headers['sec-websocket-version'] = '13';
      if (drop) delete req.headers.upgrade;
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const send = (request) => h.rawHttp(server.address().port, h.upgradeRequest(request));
    // Version 7 is refused as sent, accepted once the listener set 13.
    assert.equal((await send({ headers: { 'Sec-WebSocket-Version': '7' } })).status, 400);
    const fixed = await send({ headers: { 'Sec-WebSocket-Version': '7', 'x-fix-version': '1' } });
    assert.equal(fixed.status, 101);
    fixed.client.destroy();
    const dropped = await send({ headers: { 'x-drop-upgrade': '1' } });
    assert.equal(dropped.status, 400);
    assert.equal(dropped.body, UPGRADE);
  });

  it('repeated headers of an untouched request are judged as req.headers joins them', T, async () => {
    const wss = await listen({ perMessageDeflate: true });
    const key = h.randomKey();
    const twoKeys = h.upgradeRequest({ key }).replace(`Sec-WebSocket-Key: ${key}`, `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Key: ${key}`);
    const refusedKey = await ask(wss, twoKeys);
    assert.equal(refusedKey.status, 400);
    assert.equal(refusedKey.body, KEY);
    const twoVersions = h.upgradeRequest().replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13');
    assert.equal((await ask(wss, twoVersions)).body, VERSION);
    // Upgrade tokens, subprotocols and extension offers over several lines are one list each.
    const request = h.upgradeRequest({ protocols: ['a'] })
      .replace('Upgrade: websocket', 'Upgrade: h2c\r\nUpgrade: websocket')
      .replace('Sec-WebSocket-Protocol: a', 'Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b')
      .replace('\r\n\r\n', '\r\nSec-WebSocket-Extensions: x-unknown\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n');
    const connection = once(wss, 'connection');
    const res = await ask(wss, request);
    assert.equal(res.status, 101);
    assert.equal(res.headers['sec-websocket-protocol'], 'a');
    assert.match(res.headers['sec-websocket-extensions'], /^permessage-deflate/);
    const [ws, req] = await connection;
    assert.deepEqual(ws.protocol, 'a');
    assert.equal(req.headers['sec-websocket-protocol'], 'a, b');
    res.client.destroy();
  });

  it('an extensions header that does not parse is refused when perMessageDeflate is on, and ignored when it is off', T, async () => {
    const headers = { 'Sec-WebSocket-Extensions': 'permessage-deflate; =x' };
    const on = await listen({ perMessageDeflate: true });
    const refused = await ask(on, { headers });
    assert.equal(refused.status, 400);
    assert.equal(refused.body, EXTENSIONS);
    const off = await listen();
    const accepted = await ask(off, { headers });
    assert.equal(accepted.status, 101);
    assert.equal(accepted.headers['sec-websocket-extensions'], undefined);
  });
});

describe("server handshake: 'wsClientError' (ws 8)", () => {
  const malformed = [
    [{ method: 'PUT' }, METHOD, 405],
    [{ headers: { Upgrade: 'h2c' } }, UPGRADE, 400],
    [{ key: 'abc' }, KEY, 400],
    [{ headers: { 'Sec-WebSocket-Version': '9' } }, VERSION, 400],
    [{ headers: { 'Sec-WebSocket-Protocol': 'a, a' } }, PROTOCOL, 400],
    [{ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; =x' } }, EXTENSIONS, 400],
  ];
  for (const [request, message, status] of malformed) {
    it(`takes "${message}" with the request and the socket`, T, async () => {
      const wss = await listen({ perMessageDeflate: true });
      const seen = once(wss, 'wsClientError');
      const answered = ask(wss, request);
      const [err, socket, req] = await seen;
      assert.ok(err instanceof Error);
      assert.equal(err.message, message);
      assert.equal(err.statusCode, status);
      assert.ok(req instanceof http.IncomingMessage);
      socket.end('HTTP/1.1 418 I\'m a Teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      assert.equal((await answered).status, 418);
    });
  }

  it('is not emitted for a request to another path, nor for a verifyClient refusal', T, async () => {
    const wss = await listen({ path: '/ws', verifyClient: () => false });
    wss.on('wsClientError', () => assert.fail("unexpected 'wsClientError'"));
    const elsewhere = await ask(wss, { path: '/other' });
    assert.equal(elsewhere.status, 400);
    assert.equal(elsewhere.body, 'Bad Request');
    const unverified = await ask(wss, { path: '/ws' });
    assert.equal(unverified.status, 401);
  });
});

describe('server handshake: verifyClient refusals (ws 8)', () => {
  it('false, synchronously: 401 Unauthorized', T, async () => {
    const wss = await listen({ verifyClient: () => false });
    const res = await ask(wss, { headers: { 'Sec-WebSocket-Version': '8' } });
    assert.equal(res.lines[0], 'HTTP/1.1 401 Unauthorized');
    assert.equal(res.headers['content-type'], 'text/html');
    assert.equal(res.body, 'Unauthorized');
  });

  it('false, asynchronously, with no code: 401', T, async () => {
    const wss = await listen({ verifyClient: (info, cb) => process.nextTick(cb, false) });
    const res = await ask(wss, { headers: { 'Sec-WebSocket-Version': '8' } });
    assert.equal(res.status, 401);
  });

  it('a code gives its status text and body; a message replaces the body', T, async () => {
    const answers = [
      [404, undefined, 'HTTP/1.1 404 Not Found', 'Not Found'],
      [403, 'Go away', 'HTTP/1.1 403 Forbidden', 'Go away'],
      [418, '', "HTTP/1.1 418 I'm a Teapot", "I'm a Teapot"],
    ];
    for (const [code, message, line, body] of answers) {
      const wss = await listen({ verifyClient: (info, cb) => setImmediate(cb, false, code, message) });
      const res = await ask(wss, {});
      assert.equal(res.lines[0], line);
      assert.equal(res.body, body);
    }
  });

  it('custom headers are sent with the refusal', T, async () => {
    const wss = await listen({ verifyClient: (info, cb) => setImmediate(cb, false, 503, '', { 'Retry-After': 120, 'X-Reason': 'busy' }) });
    const res = await ask(wss, { headers: { 'Sec-WebSocket-Version': '8' } });
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '120');
    assert.equal(res.headers['x-reason'], 'busy');
    assert.equal(res.headers.connection, 'close');
    assert.equal(res.body, 'Service Unavailable');
  });

  it('a header value that would split the response throws a TypeError from the callback and drops the connection', T, async () => {
    let thrown = null;
    const wss = await listen({
      verifyClient: (info, cb) =>
        setImmediate(() => {
          try {
            cb(false, 401, 'no', { 'X-Evil': 'a\r\nSet-Cookie: b=c' });
          } catch (err) {
            thrown = err;
          }
        }),
    });
    const port = wss.address().port;
    const socket = net.connect(port, '127.0.0.1');
    socket.write(h.upgradeRequest());
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    await once(socket, 'close');
    assert.ok(thrown instanceof TypeError, String(thrown));
    assert.match(thrown.message, /X-Evil/);
    assert.equal(Buffer.concat(chunks).length, 0, 'nothing was written');
  });

  it("a version 8 client's origin is read from Sec-WebSocket-Origin", T, async () => {
    const origins = [];
    const wss = await listen({
      verifyClient: ({ origin }) => {
        origins.push(origin);
        return true;
      },
    });
    await ask(wss, { headers: { 'Sec-WebSocket-Version': '8', 'Sec-WebSocket-Origin': 'http://eight.test', Origin: 'http://other.test' } });
    await ask(wss, { headers: { 'Sec-WebSocket-Origin': 'http://eight.test', Origin: 'http://thirteen.test' } });
    assert.deepEqual(origins, ['http://eight.test', 'http://thirteen.test']);
  });
});

describe('handleUpgrade with a request built by a test tool', () => {
  /**
   * Hands handleUpgrade `req` on the server end of a TCP connection and
   * returns what the client end receives first.
   */
  async function upgradeOnSocket(wss, req) {
    const server = h.trackServer(net.createServer());
    const done = new Promise((resolve) => {
      server.on('connection', (socket) => wss.handleUpgrade(req, socket, Buffer.alloc(0), (ws) => resolve(ws)));
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = net.connect(server.address().port, '127.0.0.1');
    const [first] = await once(client, 'data');
    return { response: first.toString('latin1'), done, client };
  }

  it('method, url and headers are enough; Sec-WebSocket-Version may be a number; no Host is needed', T, async () => {
    const wss = h.trackServer(new WebSocketServer({ noServer: true }));
    const key = h.randomKey();
    const req = {
      method: 'GET',
      url: '/',
      headers: { upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-key': key, 'sec-websocket-version': 13 },
    };
    const { response, done, client } = await upgradeOnSocket(wss, req);
    assert.match(response, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.ok(response.includes(`Sec-WebSocket-Accept: ${h.computeAccept(key)}\r\n`));
    const ws = await done;
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.terminate();
    client.destroy();
  });

  it('an httpVersion string of 1.0 is refused; a header value with a newline is checked as it is', T, async () => {
    const wss = h.trackServer(new WebSocketServer({ noServer: true }));
    const headers = { upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-key': h.randomKey(), 'sec-websocket-version': '13' };
    const old = await upgradeOnSocket(wss, { method: 'GET', url: '/', httpVersion: '1.0', headers });
    assert.match(old.response, /^HTTP\/1\.1 400 Bad Request\r\n/);
    old.client.destroy();
    const newline = await upgradeOnSocket(wss, { method: 'GET', url: '/', headers: { ...headers, 'sec-websocket-protocol': 'a\nb' } });
    assert.match(newline.response, /^HTTP\/1\.1 400 Bad Request\r\n[^]*Invalid Sec-WebSocket-Protocol header$/);
    newline.client.destroy();
  });
});

describe('WebSocketServer constructor (ws 8)', () => {
  const MODES = /^TypeError: One and only one of the "port", "server", or "noServer" options must be specified$/;

  it('no options object, or none of port/server/noServer: the TypeError naming the three', () => {
    assert.throws(() => new WebSocketServer(), MODES);
    assert.throws(() => new WebSocketServer(null), MODES);
    assert.throws(() => new WebSocketServer({}), MODES);
    assert.throws(() => new WebSocketServer({ noServer: true, port: 0 }), MODES);
    assert.throws(() => new WebSocketServer('port'), (err) => err instanceof TypeError && /^options/.test(err.message));
  });

  it('`WebSocket`: connections are made with the class given, which gets the server options', T, async () => {
    const made = [];
    class Custom extends WebSocket {
      constructor(address, protocols, options) {
        super(address, protocols, options);
        made.push(options);
      }

      get kind() {
        return 'custom';
      }
    }
    const wss = await listen({ WebSocket: Custom });
    const connection = once(wss, 'connection');
    await ask(wss, {});
    const [ws] = await connection;
    assert.ok(ws instanceof Custom);
    assert.equal(ws.kind, 'custom');
    assert.equal(made.length, 1);
    assert.equal(made[0], wss.options);
    assert.equal(ws.readyState, WebSocket.OPEN);
  });

  it('`WebSocket` must be WebSocket or a class that extends it', () => {
    for (const value of [class Other {}, {}, 'WebSocket', require('node:events')]) {
      assert.throws(
        () => new WebSocketServer({ noServer: true, WebSocket: value }),
        (err) => err instanceof TypeError && /^WebSocket: must be the WebSocket class or a class that extends it$/.test(err.message)
      );
    }
    assert.equal(new WebSocketServer({ noServer: true }).options.WebSocket, WebSocket);
  });

  it("ws's receiver options are accepted with ws's defaults and reach every connection", T, async () => {
    const defaults = new WebSocketServer({ noServer: true }).options;
    assert.equal(defaults.allowSynchronousEvents, true);
    assert.equal(defaults.skipUTF8Validation, false);
    assert.equal(defaults.maxFragments, 16384);
    assert.equal(defaults.maxBufferedChunks, 262144);
    assert.equal(defaults.maxPendingAutoPongs, 60);

    const given = { allowSynchronousEvents: false, skipUTF8Validation: true, maxFragments: 512, maxBufferedChunks: 1024, maxPendingAutoPongs: 5 };
    let received = null;
    class Recording extends WebSocket {
      _setSocket(socket, head, options, ...rest) {
        received = options;
        return super._setSocket(socket, head, options, ...rest);
      }
    }
    const wss = await listen({ ...given, WebSocket: Recording });
    const connection = once(wss, 'connection');
    await ask(wss, {});
    await connection;
    for (const [name, value] of Object.entries(given)) assert.equal(received[name], value, name);
  });

  it('a limit that is not a number is refused, naming it', () => {
    for (const name of ['maxFragments', 'maxBufferedChunks', 'maxPendingAutoPongs']) {
      assert.throws(() => new WebSocketServer({ noServer: true, [name]: 'many' }), (err) => err instanceof TypeError && err.message.startsWith(`${name}:`));
    }
  });
});

describe('parseUpgradeRequest (primitive) versions', () => {
  it('accepts 8 and 13; refuses others with 400 and Sec-WebSocket-Version: 13, 8', () => {
    const request = (version) => Buffer.from(h.upgradeRequest({ headers: { 'Sec-WebSocket-Version': version } }));
    for (const version of ['8', '13']) assert.ok(h.lib.parseUpgradeRequest(request(version)).key);
    assert.throws(
      () => h.lib.parseUpgradeRequest(request('14')),
      (err) => err.statusCode === 400 && err.message === VERSION && /\r\nSec-WebSocket-Version: 13, 8\r\n/.test(err.response)
    );
  });
});

describe('callbacks set on wss.options after the server is made (ws 8 reads them per request)', () => {
  it('handleProtocols and verifyClient take effect', T, async () => {
    const wss = await listen();
    wss.options.handleProtocols = (offered) => (offered.has('second') ? 'second' : false);
    const chosen = await ask(wss, { headers: { 'Sec-WebSocket-Protocol': 'first, second' } });
    assert.equal(chosen.status, 101);
    assert.equal(chosen.headers['sec-websocket-protocol'], 'second');
    wss.options.verifyClient = () => false;
    const refused = await ask(wss, {});
    assert.equal(refused.status, 401);
  });
});
