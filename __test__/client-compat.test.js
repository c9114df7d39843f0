'use strict';

// Client items of ws 8.23 that frameworks rely on: protocolVersion 8, the
// `protocols` option (ws 8.22), setSocket() on a `new WebSocket(null)`, and a
// failure to connect that is never silent.

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const h = require('./helpers');

const lib = h.lib;
const { WebSocket } = lib;
const T = { timeout: 15000 };

afterEach(h.closeAll);

/**
 * An http server that answers every upgrade with a 101 written here (not by
 * the library) and hands the socket to `onSocket(socket, head, req)`.
 */
async function handRolledServer(onSocket) {
  const server = h.trackServer(http.createServer());
  server.on('upgrade', (req, socket, head) => {
    const lines = [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${h.computeAccept(req.headers['sec-websocket-key'])}`,
    ];
    if (req.headers['sec-websocket-protocol']) lines.push(`Sec-WebSocket-Protocol: ${req.headers['sec-websocket-protocol'].split(',')[0]}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    onSocket(socket, head, req);
  });
  await new Promise((resolve) => server.listen(0, h.HOST, resolve));
  return { server, url: `ws://${h.HOST}:${server.address().port}` };
}

/** A client that is closed after the test. */
function client(...args) {
  const ws = new WebSocket(...args);
  ws.on('error', () => {});
  afterEachClose.push(ws);
  return ws;
}
const afterEachClose = [];
afterEach(() => {
  for (const ws of afterEachClose.splice(0)) ws.terminate();
});

describe('protocolVersion', () => {
  it('8 sends Sec-WebSocket-Version: 8 and the origin as Sec-WebSocket-Origin, and connects', T, async () => {
    const requests = [];
    const { url } = await handRolledServer((socket, head, req) => {
      requests.push(req.headers);
      socket.on('error', () => {});
    });
    const ws = client(url, { protocolVersion: 8, origin: 'https://app.example' });
    await once(ws, 'open');
    assert.equal(requests[0]['sec-websocket-version'], '8');
    assert.equal(requests[0]['sec-websocket-origin'], 'https://app.example');
    assert.equal(requests[0].origin, undefined);
  });

  it('13 (the default) sends Origin', T, async () => {
    const requests = [];
    const { url } = await handRolledServer((socket, head, req) => {
      requests.push(req.headers);
      socket.on('error', () => {});
    });
    const ws = client(url, { origin: 'https://app.example' });
    await once(ws, 'open');
    assert.equal(requests[0]['sec-websocket-version'], '13');
    assert.equal(requests[0].origin, 'https://app.example');
    assert.equal(requests[0]['sec-websocket-origin'], undefined);
  });

  it('any other version is a RangeError naming the supported ones', () => {
    for (const version of [7, 12, 14, '13']) {
      assert.throws(() => new WebSocket(`ws://${h.HOST}:1`, { protocolVersion: version }), {
        name: 'RangeError',
        message: `Unsupported protocol version: ${version} (supported versions: 8, 13)`,
      });
    }
  });
});

describe('the protocols option', () => {
  it('offers the subprotocols of the option when the argument is left out', T, async () => {
    const offered = [];
    const { url } = await handRolledServer((socket, head, req) => {
      offered.push(req.headers['sec-websocket-protocol']);
      socket.on('error', () => {});
    });
    const a = client(url, { protocols: ['chat', 'superchat'] });
    await once(a, 'open');
    assert.equal(a.protocol, 'chat');
    const b = client(url, undefined, { protocols: 'one' });
    await once(b, 'open');
    assert.equal(b.protocol, 'one');
    // An explicit argument wins over the option.
    const c = client(url, 'explicit', { protocols: ['ignored'] });
    await once(c, 'open');
    assert.equal(c.protocol, 'explicit');
    assert.deepEqual(offered, ['chat,superchat', 'one', 'explicit']);
  });

  it('is checked like the argument', () => {
    assert.throws(() => new WebSocket(`ws://${h.HOST}:1`, { protocols: ['a', 'a'] }), {
      name: 'SyntaxError',
      message: 'An invalid or duplicated subprotocol was specified',
    });
    assert.throws(() => new WebSocket(`ws://${h.HOST}:1`, { protocols: 'not a token' }), { name: 'SyntaxError' });
  });
});

describe('setSocket', () => {
  it("attaches an upgraded socket to new WebSocket(null), emits 'open', applies the options", T, async () => {
    const serverSide = [];
    const { url } = await handRolledServer((socket, head) => {
      const ws = new WebSocket(null);
      const log = [];
      ws.on('open', () => log.push(['open', ws.readyState]));
      ws.on('message', (data, isBinary) => log.push(['message', data.toString(), isBinary]));
      ws.on('error', (err) => log.push(['error', err.closeCode]));
      ws.on('close', (code) => log.push(['close', code]));
      ws.setSocket(socket, head, { maxPayload: 8 });
      serverSide.push({ ws, log });
    });
    const ws = client(url);
    await once(ws, 'open');
    ws.send('hello');
    const closed = once(ws, 'close');
    ws.send('more than eight bytes');
    const [code] = await closed;
    assert.equal(code, 1009, 'maxPayload was applied');
    const { log } = serverSide[0];
    assert.deepEqual(log[0], ['open', WebSocket.OPEN]);
    assert.deepEqual(log[1], ['message', 'hello', false]);
    assert.deepEqual(log[2], ['error', 1009]);
  });

  it('checks its options as the server does', () => {
    const ws = new WebSocket(null);
    const socket = new net.Socket();
    assert.throws(() => ws.setSocket(socket, Buffer.alloc(0), { maxPayload: -1 }), (err) => err instanceof RangeError && /^maxPayload/.test(err.message));
  });
});

describe('a client that cannot connect', () => {
  /** A loopback port with nothing listening on it. */
  async function closedPort() {
    const server = net.createServer();
    await new Promise((resolve) => server.listen(0, h.HOST, resolve));
    const { port } = server.address();
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  it("emits 'error' with the cause (ECONNREFUSED), then 'close' with 1006", T, async () => {
    const port = await closedPort();
    const ws = new WebSocket(`ws://${h.HOST}:${port}`);
    const events = [];
    ws.on('error', (err) => events.push(['error', err.code]));
    await new Promise((resolve) => {
      ws.on('close', (code) => {
        events.push(['close', code]);
        resolve();
      });
    });
    assert.deepEqual(events, [
      ['error', 'ECONNREFUSED'],
      ['close', 1006],
    ]);
  });

  it("throws the cause when nobody listens for 'error' (as ws): never silent", T, async () => {
    const port = await closedPort();
    const script = `
      const { WebSocket } = require(${JSON.stringify(path.join(__dirname, '..'))});
      const ws = new WebSocket(process.argv[1]);
      ws.on('close', () => setTimeout(() => process.exit(0), 200));
    `;
    const child = spawn(process.execPath, ['-e', script, `ws://${h.HOST}:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const [code] = await once(child, 'exit');
    assert.notEqual(code, 0, 'the refused connection should have thrown');
    assert.match(stderr, /ECONNREFUSED/);
  });
});
