'use strict';

// Issue 14: clients that try to hold a socket without doing anything —
// a slow upgrade request on the server WebSocketServer creates for `port`,
// and a peer that never closes TCP after the closing handshake.
// Timeouts are small here; every wait is bounded, nothing is timed.

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { once } = require('node:events');
const h = require('./helpers');

const { WebSocket, WebSocketServer } = h.lib;
const T = { timeout: 10000 };
// Long enough that a test would fail by waiting for it.
const LONG = 60000;
// How long a test waits for something that should happen after a timeout of about 100-200 ms.
const BOUND = 3000;

afterEach(h.closeAll);

/** Waits `ms`, then reports whether `socket` is still open. */
async function stillOpenAfter(socket, ms) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return !socket.destroyed;
}

/**
 * A raw client that starts an upgrade request late and sends it one byte
 * at a time, never finishing within the test. Resolves with what it received once closed.
 */
function slowClient(port, { firstByteAfter = 0, every = 25 } = {}) {
  const socket = net.connect({ port, host: h.HOST });
  socket.on('error', () => {});
  const request = Buffer.from(h.upgradeRequest());
  let sent = 0;
  let timer = null;
  const trickle = () => {
    if (socket.destroyed || sent >= request.length - 1) return;
    socket.write(request.subarray(sent, sent + 1));
    sent++;
    timer = setTimeout(trickle, every);
  };
  socket.once('connect', () => {
    timer = setTimeout(trickle, firstByteAfter);
  });
  const chunks = [];
  socket.on('data', (chunk) => chunks.push(chunk));
  const closed = once(socket, 'close').then(() => {
    clearTimeout(timer);
    return Buffer.concat(chunks).toString('latin1');
  });
  return { socket, closed, stop: () => socket.destroy() };
}

describe('handshakeTimeout on the server WebSocketServer creates for `port`', () => {
  async function portServer(options) {
    const wss = h.trackServer(new WebSocketServer({ port: 0, host: h.HOST, ...options }));
    await once(wss, 'listening');
    return wss;
  }

  it('a client that trickles its request, starting late, gets 408 and is dropped', T, async () => {
    const wss = await portServer({ handshakeTimeout: 200 });
    // The first byte comes after 150 ms: Node's headersTimeout would restart its clock there.
    const slow = slowClient(wss.address().port, { firstByteAfter: 150 });
    try {
      const received = await h.withTimeout(slow.closed, BOUND, 'the server to drop the slow client');
      assert.match(received, /^HTTP\/1\.1 408 /);
    } finally {
      slow.stop();
    }
  });

  it('a client that sends nothing gets 408 and is dropped', T, async () => {
    const wss = await portServer({ handshakeTimeout: 150 });
    const slow = slowClient(wss.address().port, { firstByteAfter: LONG });
    try {
      const received = await h.withTimeout(slow.closed, BOUND, 'the server to drop the silent client');
      assert.match(received, /^HTTP\/1\.1 408 /);
    } finally {
      slow.stop();
    }
  });

  it('each waiting connection has its own deadline, counted from its accept', T, async () => {
    const wss = await portServer({ handshakeTimeout: 300 });
    const port = wss.address().port;
    const first = slowClient(port, { firstByteAfter: LONG });
    await new Promise((resolve) => setTimeout(resolve, 150));
    // One that upgrades and closes in between, and a second slow one.
    const upgraded = await h.connect(port);
    upgraded.destroy();
    const second = slowClient(port, { firstByteAfter: LONG });
    try {
      assert.match(await h.withTimeout(first.closed, BOUND, 'the first slow client to be dropped'), /^HTTP\/1\.1 408 /);
      assert.equal(second.socket.destroyed, false, 'the second was dropped at the first one\'s deadline');
      assert.match(await h.withTimeout(second.closed, BOUND, 'the second slow client to be dropped'), /^HTTP\/1\.1 408 /);
    } finally {
      first.stop();
      second.stop();
    }
  });

  it('a process whose port server had upgrades and closed exits without waiting for handshakeTimeout', T, async () => {
    const script = `
      const { WebSocketServer, WebSocket } = require(${JSON.stringify(require.resolve('..'))});
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handshakeTimeout: 60000 }, () => {
        const client = new WebSocket('ws://127.0.0.1:' + wss.address().port);
        client.on('open', () => client.close());
        client.on('close', () => wss.close());
      });
      wss.on('connection', (ws) => ws.on('error', () => {}));
    `;
    const child = require('node:child_process').spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
    const [code] = await h.withTimeout(once(child, 'exit'), BOUND * 2, 'the process to exit');
    assert.equal(code, 0);
  });

  it('an upgraded connection outlives handshakeTimeout', T, async () => {
    const wss = await portServer({ handshakeTimeout: 150 });
    const connection = once(wss, 'connection');
    const client = await h.connect(wss.address().port);
    const [ws] = await connection;
    assert.equal(await stillOpenAfter(client.socket, 400), true, 'the WebSocket connection was dropped');
    const message = once(ws, 'message');
    await client.write(h.text('still here'));
    assert.equal((await h.withTimeout(message, BOUND, 'the message'))[0].toString(), 'still here');
    assert.equal(ws.readyState, WebSocket.OPEN);
  });

  it('a plain HTTP request is still answered 426 within the limit', T, async () => {
    const wss = await portServer({ handshakeTimeout: 500 });
    const res = await h.rawHttp(wss.address().port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(res.status, 426);
    res.client.destroy();
  });

  it('a server passed in keeps its own settings: handshakeTimeout does not shorten them', T, async () => {
    const server = h.trackServer(http.createServer());
    h.trackServer(new WebSocketServer({ server, handshakeTimeout: 50 }));
    await new Promise((resolve) => server.listen(0, h.HOST, resolve));
    const slow = slowClient(server.address().port);
    try {
      assert.equal(await stillOpenAfter(slow.socket, 300), true, "a server passed in was given native-ws's timeout");
    } finally {
      slow.stop();
    }
  });

  it("the README's settings for a server passed in drop a slow client, and not an upgraded one", T, async () => {
    const server = h.trackServer(
      http.createServer({ headersTimeout: 200, requestTimeout: 200, connectionsCheckingInterval: 20 })
    );
    server.timeout = 200;
    const wss = h.trackServer(new WebSocketServer({ server }));
    await new Promise((resolve) => server.listen(0, h.HOST, resolve));
    const port = server.address().port;
    const slow = slowClient(port);
    const connection = once(wss, 'connection');
    const client = await h.connect(port);
    const [ws] = await connection;
    try {
      const received = await h.withTimeout(slow.closed, BOUND, 'the server to drop the slow client');
      assert.match(received, /^HTTP\/1\.1 408 /);
      assert.equal(await stillOpenAfter(client.socket, 300), true, "the http server's timeouts dropped a WebSocket");
      assert.equal(ws.readyState, WebSocket.OPEN);
    } finally {
      slow.stop();
    }
  });

  it('handshakeTimeout is checked', () => {
    assert.throws(
      () => new WebSocketServer({ noServer: true, handshakeTimeout: -1 }),
      (err) => err instanceof RangeError && /handshakeTimeout/.test(err.message)
    );
    assert.throws(
      () => new WebSocketServer({ noServer: true, handshakeTimeout: '10' }),
      (err) => err instanceof TypeError && /handshakeTimeout/.test(err.message)
    );
  });
});

for (const kind of h.KINDS) {
  describe(`closeGraceTimeout (${kind}): a peer that never closes TCP after the closing handshake`, () => {
    const options = { closeGraceTimeout: 100, closeTimeout: LONG };

    /** A raw client that will not answer the server's FIN. */
    async function halfOpenPair(srv) {
      const pair = await h.connectPair(srv);
      pair.client.socket.allowHalfOpen = true;
      return pair;
    }

    /**
     * After the server dropped the socket, data from the client is answered
     * with a reset, which the client's next write reports (it no longer reads after the FIN).
     */
    async function expectSocketGone(client) {
      const probe = setInterval(() => client.socket.write(h.text('anyone there?')), 20);
      try {
        const info = await h.withTimeout(client.closed, BOUND, 'the client to see the connection gone');
        assert.ok(info.error && ['ECONNRESET', 'EPIPE'].includes(info.error.code), `got ${info.error}`);
      } finally {
        clearInterval(probe);
      }
    }

    it('server closes, client answers and keeps TCP open: dropped, close code from the frame', T, async () => {
      const srv = await h.startServer(kind, options);
      const { client, conn } = await halfOpenPair(srv);
      const ended = once(client.socket, 'end');
      conn.ws.close(1000, 'bye');
      assert.equal((await client.nextFrame()).closeCode, 1000);
      await client.write(h.close(4000, 'ok'));
      await h.withTimeout(ended, BOUND, "the server's FIN");
      const event = await h.withTimeout(conn.closed, BOUND, 'the server to drop the socket');
      assert.equal(event.code, 4000);
      assert.equal(event.reason.toString(), 'ok');
      await expectSocketGone(client);
    });

    it('client closes, server echoes and ends, client keeps TCP open: dropped', T, async () => {
      const srv = await h.startServer(kind, options);
      const { client, conn } = await halfOpenPair(srv);
      const ended = once(client.socket, 'end');
      await client.write(h.close(1001, 'going'));
      assert.equal((await client.nextFrame()).closeCode, 1001);
      await h.withTimeout(ended, BOUND, "the server's FIN");
      const event = await h.withTimeout(conn.closed, BOUND, 'the server to drop the socket');
      assert.equal(event.code, 1001);
      await expectSocketGone(client);
    });

    it('the grace does not start before the close frames are exchanged (closeTimeout keeps its meaning)', T, async () => {
      const srv = await h.startServer(kind, options);
      const { client, conn } = await halfOpenPair(srv);
      conn.ws.close(1000);
      await client.nextFrame();
      // Answer late: well past closeGraceTimeout, well before closeTimeout.
      assert.equal(await stillOpenAfter(client.socket, 300), true, 'dropped while waiting for the close frame');
      assert.equal(conn.closeEvents.length, 0);
      await client.write(h.close(1000));
      client.end();
      assert.equal((await h.withTimeout(conn.closed, BOUND, 'the close')).code, 1000);
    });

    it('closeGraceTimeout 0 turns it off', T, async () => {
      const srv = await h.startServer(kind, { closeGraceTimeout: 0, closeTimeout: LONG });
      const { client, conn } = await halfOpenPair(srv);
      await client.write(h.close(1000));
      await h.withTimeout(once(client.socket, 'end'), BOUND, "the server's FIN");
      assert.equal(await stillOpenAfter(client.socket, 300), true);
      assert.equal(conn.closeEvents.length, 0);
    });
  });
}

describe('closeGraceTimeout on the client', () => {
  it('a server that never closes TCP after the closing handshake is dropped by the client', T, async () => {
    // A hand-written server: answers the upgrade, closes with 1000, reads the
    // client's close frame and FIN, and never ends its side.
    const reader = new h.FrameReader();
    const server = h.trackServer(
      net.createServer({ allowHalfOpen: true }, (socket) => {
        socket.on('error', () => {});
        let head = Buffer.alloc(0);
        const onData = (chunk) => {
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          socket.removeListener('data', onData);
          const key = /sec-websocket-key: *(\S+)/i.exec(head.toString('latin1'))[1];
          socket.write(
            'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
              `Sec-WebSocket-Accept: ${h.computeAccept(key)}\r\n\r\n`
          );
          socket.write(h.close(1000, 'server done', { mask: false }));
          socket.on('data', (data) => reader.push(data));
          socket.on('end', () => server.emit('client-fin'));
        };
        socket.on('data', onData);
      })
    );
    await new Promise((resolve) => server.listen(0, h.HOST, resolve));
    const clientFin = once(server, 'client-fin');
    const ws = new WebSocket(`ws://${h.HOST}:${server.address().port}`, {
      closeGraceTimeout: 100,
      closeTimeout: LONG,
      perMessageDeflate: false,
    });
    const closed = once(ws, 'close');
    const [code, reason] = await h.withTimeout(closed, BOUND, 'the client to drop the socket');
    assert.equal(code, 1000);
    assert.equal(reason.toString(), 'server done');
    await clientFin;
    assert.equal(reader.frames[0].closeCode, 1000, 'the client answered the close frame');
    assert.equal(reader.frames[0].masked, true);
  });

  it('closeGraceTimeout is checked', () => {
    assert.throws(
      () => new WebSocket('ws://127.0.0.1:1', { closeGraceTimeout: -1 }),
      (err) => err instanceof RangeError && /closeGraceTimeout/.test(err.message)
    );
    assert.throws(
      () => new WebSocketServer({ noServer: true, closeGraceTimeout: 'x' }),
      (err) => err instanceof TypeError && /closeGraceTimeout/.test(err.message)
    );
  });
});
