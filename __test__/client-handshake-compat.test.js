'use strict';

// The client's checks of a server's answer, as ws 8.23 makes them: against
// a raw http server that answers whatever the test writes (a server that is
// not native-ws, which may break RFC 6455/7692), the client fails with ws's
// Error and message, then 'close' with 1006, and never opens.

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const h = require('./helpers');

const { WebSocket } = h.lib;
const T = { timeout: 15000 };

afterEach(h.closeAll);

/**
 * An http server answering each upgrade with `answer(req)`: the extra header
 * lines of a 101 (an array), or a whole response (a string).
 */
async function answeringServer(answer) {
  const server = h.trackServer(http.createServer());
  server.on('upgrade', (req, socket) => {
    socket.on('error', () => {});
    const reply = answer(req);
    if (typeof reply === 'string') {
      socket.end(reply);
      return;
    }
    const lines = [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${h.computeAccept(req.headers['sec-websocket-key'])}`,
      ...reply,
    ];
    socket.end(`${lines.join('\r\n')}\r\n\r\n`);
  });
  await new Promise((resolve) => server.listen(0, h.HOST, resolve));
  return `ws://${h.HOST}:${server.address().port}`;
}

/** What a client emits until 'close': [['error', Error], ['close', code]], failing on 'open'. */
function outcome(ws) {
  return new Promise((resolve, reject) => {
    const events = [];
    ws.on('open', () => reject(new Error("unexpected 'open'")));
    ws.on('error', (err) => events.push(['error', err]));
    ws.on('close', (code) => {
      events.push(['close', code]);
      resolve(events);
    });
  });
}

async function expectRefusal(ws, message) {
  const events = await outcome(ws);
  assert.equal(events.length, 2, JSON.stringify(events));
  const [[kind, err], close] = events;
  assert.equal(kind, 'error');
  assert.ok(err instanceof Error);
  assert.equal(err.message, message);
  assert.deepEqual(close, ['close', 1006]);
  return err;
}

describe("the server's Sec-WebSocket-Extensions", () => {
  const cases = [
    ['that does not parse', 'foo;=', 'Invalid Sec-WebSocket-Extensions header'],
    ['naming an extension that was not offered', 'foo', 'Server indicated an extension that was not requested'],
    ['naming permessage-deflate and another', 'permessage-deflate,foo', 'Server indicated an extension that was not requested'],
    ['with a parameter permessage-deflate does not have', 'permessage-deflate; foo=bar', 'Invalid Sec-WebSocket-Extensions header'],
    ['with an out-of-range window', 'permessage-deflate; client_max_window_bits=7', 'Invalid Sec-WebSocket-Extensions header'],
  ];
  for (const [what, header, message] of cases) {
    it(`${what} (${header}): "${message}"`, T, async () => {
      const url = await answeringServer(() => [`Sec-WebSocket-Extensions: ${header}`]);
      await expectRefusal(new WebSocket(url), message);
    });
  }

  it('when the client offered no extension', T, async () => {
    const url = await answeringServer(() => ['Sec-WebSocket-Extensions: permessage-deflate']);
    await expectRefusal(
      new WebSocket(url, { perMessageDeflate: false }),
      'Server sent a Sec-WebSocket-Extensions header but no extension was requested'
    );
  });
});

describe("the server's Sec-WebSocket-Protocol", () => {
  it('one the client did not offer', T, async () => {
    const url = await answeringServer(() => ['Sec-WebSocket-Protocol: baz']);
    await expectRefusal(new WebSocket(url, ['foo', 'bar']), 'Server sent an invalid subprotocol');
  });

  it('an empty one', T, async () => {
    const url = await answeringServer(() => ['Sec-WebSocket-Protocol:']);
    await expectRefusal(new WebSocket(url, ['foo', 'bar']), 'Server sent an invalid subprotocol');
  });

  it('none, when the client offered some', T, async () => {
    const url = await answeringServer(() => []);
    await expectRefusal(new WebSocket(url, ['foo']), 'Server sent no subprotocol');
  });

  it('one, when the client offered none', T, async () => {
    const url = await answeringServer(() => ['Sec-WebSocket-Protocol: foo']);
    await expectRefusal(new WebSocket(url), 'Server sent a subprotocol but none was requested');
  });

  it('an offered one opens the connection with it', T, async () => {
    const url = await answeringServer(() => ['Sec-WebSocket-Protocol: bar']);
    const ws = new WebSocket(url, ['foo', 'bar']);
    ws.on('error', () => {});
    await new Promise((resolve) => ws.on('open', resolve));
    assert.equal(ws.protocol, 'bar');
    ws.terminate();
  });
});

describe('redirects', () => {
  it("are not followed by default: 'error' (Unexpected server response: 301), then 'close', once each", T, async () => {
    const url = await answeringServer(() => 'HTTP/1.1 301 Moved Permanently\r\nLocation: ws://localhost:1\r\n\r\n');
    const ws = new WebSocket(url);
    const err = await expectRefusal(ws, 'Unexpected server response: 301');
    assert.equal(err.statusCode, 301);
    assert.equal(ws._redirects, 0);
    // Nothing else follows.
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
});
