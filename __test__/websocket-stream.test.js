'use strict';

// createWebSocketStream: how errors travel (re-emitted, not swallowed while
// destroying, thrown when nobody listens, as in ws 8) and what happens to
// writes made before the WebSocket is open or after it started closing.

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const h = require('./helpers');

const lib = h.lib;
const { WebSocket, createWebSocketStream } = lib;
const T = { timeout: 15000 };

afterEach(h.closeAll);

/** Resolves on the stream's 'close' (events.once would reject on an 'error' first). */
function closeOf(duplex) {
  return new Promise((resolve) => duplex.once('close', resolve));
}

/** A client WebSocket to a fixture, with its stream; the socket is closed after the test. */
function clientStream(srv, options) {
  const ws = new WebSocket(`ws://${h.HOST}:${srv.port}`);
  const duplex = createWebSocketStream(ws, options);
  return { ws, duplex };
}

describe('createWebSocketStream: writes', () => {
  it('writes made while CONNECTING are sent in order once open; end() then closes with 1005', T, async () => {
    const srv = await h.startServer('wss');
    const { ws, duplex } = clientStream(srv);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    const flushed = [];
    duplex.write(Buffer.from([1, 2, 3]), () => flushed.push('first'));
    duplex.write('two', () => flushed.push('second'));
    duplex.end(Buffer.from([4]));
    const closed = closeOf(duplex);
    const conn = await srv.nextConnection();
    const { code } = await conn.closed;
    assert.equal(code, 1005);
    // A stream decodes strings to Buffers (decodeStrings), so every write is a binary message.
    assert.deepEqual(
      conn.messages.map((m) => [m.isBinary, [...m.data]]),
      [
        [true, [1, 2, 3]],
        [true, [...Buffer.from('two')]],
        [true, [4]],
      ]
    );
    assert.deepEqual(flushed, ['first', 'second']);
    duplex.resume();
    await closed;
  });

  it('a write after the WebSocket started closing errors the stream with the not-open error', T, async () => {
    const srv = await h.startServer('wss');
    const { client, conn } = await h.connectPair(srv);
    const duplex = createWebSocketStream(conn.ws);
    const closed = closeOf(duplex);
    conn.ws.close();
    assert.equal(conn.ws.readyState, WebSocket.CLOSING);
    duplex.write('late');
    const [err] = await once(duplex, 'error');
    assert.equal(err.message, 'WebSocket is not open: readyState 2 (CLOSING)');
    assert.equal(duplex.destroyed, true);
    client.destroy();
    await closed;
  });
});

describe('createWebSocketStream: errors', () => {
  for (const kind of h.KINDS) {
    it(`re-emits the WebSocket's error and lets its close frame reach the peer (${kind})`, T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const duplex = createWebSocketStream(conn.ws);
      const errored = once(duplex, 'error');
      const closed = closeOf(duplex);
      // Opcode 5 is reserved.
      await client.write(h.frame({ opcode: 5 }));
      const [err] = await errored;
      assert.equal(conn.errors.length, 1);
      assert.equal(err, conn.errors[0], 'the very error the WebSocket emitted');
      assert.equal(duplex.destroyed, true);
      // The stream does not terminate the socket under the WebSocket's close frame.
      await h.expectFailure(client, 1002);
      await closed;
    });
  }

  it('an error the WebSocket emits while the stream is being destroyed reaches the stream (destroy while CONNECTING)', T, async () => {
    const srv = await h.startServer('wss');
    const { ws, duplex } = clientStream(srv);
    const closed = closeOf(duplex);
    duplex.destroy();
    const [err] = await once(duplex, 'error');
    assert.equal(err.message, 'WebSocket was closed before the connection was established');
    await closed;
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  it('an error the WebSocket emits while the stream is being destroyed reaches the stream (bad frame after the message that destroys it)', T, async () => {
    const srv = await h.startServer('wss');
    const { client, conn } = await h.connectPair(srv);
    const duplex = createWebSocketStream(conn.ws);
    const events = [];
    conn.ws.on('message', () => {
      events.push('message');
      duplex.destroy();
    });
    duplex.on('error', (err) => events.push(['error', err]));
    const closed = closeOf(duplex);
    // One chunk: a message, then a reserved opcode the WebSocket reports after destroy() began.
    await client.write(Buffer.concat([h.text('last words'), h.frame({ opcode: 5 })]));
    await closed;
    assert.equal(events[0], 'message');
    assert.equal(events.length, 2, `events: ${events.map(String)}`);
    assert.equal(events[1][0], 'error');
    assert.equal(events[1][1], conn.errors[0]);
  });

  it("an error nobody listens for on the stream is thrown, as any stream's would be", T, async () => {
    const srv = await h.startServer('wss');
    // The child connects, wraps its client in a stream with no 'error' listener,
    // and must die from the error; it exits 0 only if nothing was thrown.
    const script = `
      const { WebSocket, createWebSocketStream } = require(${JSON.stringify(path.join(__dirname, '..'))});
      const ws = new WebSocket(process.argv[1]);
      createWebSocketStream(ws);
      ws.on('close', () => setTimeout(() => process.exit(0), 200));
    `;
    const child = spawn(process.execPath, ['-e', script, `ws://${h.HOST}:${srv.port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const conn = await srv.nextConnection();
    // A masked frame from the server is a protocol violation (RFC 6455 §5.1).
    conn.ws._socket.write(h.frame({ opcode: 1, payload: 'masked', mask: true }));
    const [code] = await once(child, 'exit');
    assert.notEqual(code, 0, `the child should have crashed; stderr: ${stderr}`);
    assert.match(stderr, /Unhandled 'error' event|Error/);
    assert.match(stderr, /mask/i, `the thrown error is the protocol error; stderr: ${stderr}`);
  });
});
