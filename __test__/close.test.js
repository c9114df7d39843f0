'use strict';

// The closing handshake in both directions, abnormal closes, closeTimeout,
// and ws.close() argument checking.

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const { OP, REASON } = h;
const { WebSocket } = h.lib;
const T = { timeout: 10000 };
const reasonBytes = Buffer.from(REASON, 'utf8');

afterEach(h.closeAll);

/** Lets pending events run, so a second 'close' would have shown up. */
async function settle() {
  for (let i = 0; i < 5; i++) await h.yieldToLoop();
}

for (const kind of h.KINDS) {
  describe(`closing handshake (${kind})`, () => {
    it('(a) server closes: close frame with code and reason, client echoes, server ends TCP, one close event', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      assert.equal(conn.ws.readyState, WebSocket.OPEN);
      conn.ws.close(1000, REASON);
      assert.equal(conn.ws.readyState, WebSocket.CLOSING);
      const f = await client.nextFrame();
      assert.equal(f.opcode, OP.CLOSE);
      assert.equal(f.fin, true);
      assert.equal(f.masked, false);
      assert.equal(f.closeCode, 1000);
      assert.deepEqual(f.closeReason, reasonBytes);
      assert.equal(f.closeReason.toString('utf8'), REASON);
      assert.equal(client.socket.readableEnded, false, 'the server must wait for the close reply before ending TCP');
      assert.equal(conn.closeEvents.length, 0);
      // The client's reply echoes the reason.
      await client.write(h.close(1000, REASON));
      const info = await client.closed;
      assert.equal(info.serverEndedFirst, true, 'the server closes the TCP connection first');
      const event = await conn.closed;
      await settle();
      assert.equal(conn.closeEvents.length, 1, "'close' fires exactly once");
      assert.equal(event.code, 1000);
      assert.ok(Buffer.isBuffer(event.reason), 'the reason is a Buffer');
      assert.deepEqual(event.reason, reasonBytes);
      assert.equal(conn.ws.readyState, WebSocket.CLOSED);
      assert.equal(client.frames.length, 1, 'no other frame than the close frame');
    });

    it('own properties named onMessage/onPing/onPong/onClose/onError change nothing: the close frame is echoed and close fires', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const called = [];
      for (const name of ['onMessage', 'onPing', 'onPong', 'onClose', 'onError']) {
        assert.equal(conn.ws[name], undefined, `${name} is not on the public object`);
        conn.ws[name] = () => called.push(name);
      }
      await client.write(h.frame({ opcode: OP.TEXT, payload: 'still here' }));
      await conn.waitMessages(1);
      await client.write(h.close(4002, 'bye'));
      const echo = await client.nextFrame();
      assert.equal(echo.opcode, OP.CLOSE);
      assert.equal(echo.closeCode, 4002);
      const event = await conn.closed;
      assert.equal(event.code, 4002);
      assert.deepEqual(called, []);
    });

    it('(a) server closes: the close event carries the reason the client answered with', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      conn.ws.close(1000, REASON);
      await client.nextFrame();
      await client.write(h.close(4001, 'other'));
      await client.closed;
      const event = await conn.closed;
      assert.equal(event.code, 4001);
      assert.equal(event.reason.toString(), 'other');
    });

    it('(a) a second ws.close() while closing sends no second close frame', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      conn.ws.close(1000, REASON);
      conn.ws.close(1001, 'again');
      await client.nextFrame();
      await client.write(h.close(1000));
      await client.closed;
      await conn.closed;
      assert.equal(client.frames.filter((f) => f.opcode === OP.CLOSE).length, 1);
      assert.equal(client.frames[0].closeCode, 1000);
    });

    it('(b) client closes: server echoes the code, ends TCP, one close event with the reason', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      await client.write(h.close(1000, REASON));
      const f = await client.nextFrame();
      assert.equal(f.opcode, OP.CLOSE);
      assert.equal(f.masked, false);
      assert.equal(f.closeCode, 1000);
      const info = await client.closed;
      assert.equal(info.serverEndedFirst, true, 'the server ends TCP after echoing');
      const event = await conn.closed;
      await settle();
      assert.equal(conn.closeEvents.length, 1);
      assert.equal(event.code, 1000);
      assert.ok(Buffer.isBuffer(event.reason));
      assert.deepEqual(event.reason, reasonBytes);
      assert.equal(conn.ws.readyState, WebSocket.CLOSED);
    });

    it('(b) client closes with 4000: the echo carries 4000', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      await client.write(h.close(4000, 'x'));
      const f = await client.nextFrame();
      assert.equal(f.closeCode, 4000);
      assert.equal((await client.closed).serverEndedFirst, true);
      assert.equal((await conn.closed).code, 4000);
    });

    it('(b) echoes of reason-less closes carry the code each connection received, however many share it', T, async () => {
      const srv = await h.startServer(kind);
      for (const code of [4002, 1001, 4002, 1000, 1001, 4002]) {
        const { client, conn } = await h.connectPair(srv);
        await client.write(h.close(code));
        const f = await client.nextFrame();
        assert.equal(f.closeCode, code);
        assert.equal(f.payload.length, 2, 'the echo has no reason');
        assert.equal((await client.closed).serverEndedFirst, true);
        assert.equal((await conn.closed).code, code);
      }
    });

    it('(b) frames after the client close frame are not delivered', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      await client.write(Buffer.concat([h.text('before'), h.close(1000), h.text('after'), h.ping('p')]));
      await client.closed;
      await conn.closed;
      assert.deepEqual(conn.messages.map((m) => m.data.toString()), ['before']);
      assert.deepEqual(client.frames.map((f) => f.opcode), [OP.CLOSE]);
    });

    it('(b) a close reason of the maximum 123 bytes is accepted and echoed', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const reason = '孩'.repeat(41);
      await client.write(h.close(3000, reason));
      const f = await client.nextFrame();
      assert.equal(f.closeCode, 3000);
      const event = await conn.closed;
      assert.equal(event.code, 3000);
      assert.equal(event.reason.toString(), reason);
    });

    it('(b) a close frame with the reason sent one byte per write', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      await client.write(h.close(1000, REASON), { oneByteAtATime: true });
      const f = await client.nextFrame();
      assert.equal(f.closeCode, 1000);
      assert.equal((await client.closed).serverEndedFirst, true);
      const event = await conn.closed;
      assert.equal(event.code, 1000);
      assert.equal(event.reason.toString(), REASON);
    });

    it('(b) a close frame in the middle of a fragmented message closes normally; the partial message is dropped', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      await client.write(Buffer.concat([h.text('part', { fin: false }), h.close(1001, 'leaving')]));
      const f = await client.nextFrame();
      assert.equal(f.closeCode, 1001);
      assert.equal((await client.closed).serverEndedFirst, true);
      const event = await conn.closed;
      assert.equal(event.code, 1001);
      assert.equal(event.reason.toString(), 'leaving');
      assert.deepEqual(conn.messages, []);
    });

    it('simultaneous close: both sides send a close frame; the server ends TCP, close event has the peer code', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const sent = client.write(h.close(4002, 'client side'));
      conn.ws.close(4001, 'server side');
      await sent;
      const f = await client.nextFrame();
      assert.equal(f.closeCode, 4001);
      assert.equal((await client.closed).serverEndedFirst, true);
      const event = await conn.closed;
      assert.equal(event.code, 4002);
      assert.equal(event.reason.toString(), 'client side');
      assert.equal(client.frames.filter((x) => x.opcode === OP.CLOSE).length, 1, 'the server sends one close frame');
    });

    it('(c) an empty close frame gives close code 1005 and an empty echo', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      await client.write(h.close());
      const f = await client.nextFrame();
      assert.equal(f.opcode, OP.CLOSE);
      assert.equal(f.payload.length, 0, 'the echo of an empty close is empty');
      assert.equal((await client.closed).serverEndedFirst, true);
      const event = await conn.closed;
      assert.equal(event.code, 1005);
      assert.equal(event.reason.length, 0);
    });

    it('(d) the client ends TCP without a close frame: close code 1006', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      client.end();
      const event = await conn.closed;
      await settle();
      assert.equal(event.code, 1006);
      assert.equal(event.reason.length, 0);
      assert.equal(conn.closeEvents.length, 1);
      const info = await client.closed;
      assert.equal(info.serverEndedFirst, false);
      assert.equal(conn.ws.readyState, WebSocket.CLOSED);
    });

    it('(d) the client resets TCP: close code 1006', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      client.socket.resetAndDestroy();
      client.clientEnded = true;
      const event = await conn.closed;
      assert.equal(event.code, 1006);
    });

    it('(d) the client drops TCP in the middle of a message: 1006, nothing delivered', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const partial = h.text('x'.repeat(300)).subarray(0, 100);
      await client.write(partial);
      client.end();
      const event = await conn.closed;
      assert.equal(event.code, 1006);
      assert.deepEqual(conn.messages, []);
    });

    it('(e) closeTimeout: a client that never answers the close frame is dropped; close 1006', T, async () => {
      const options = { closeTimeout: 200 };
      const srv = await h.startServer(kind, options);
      const { client, conn } = await h.connectPair(srv);
      conn.ws.close(1000, REASON);
      const f = await client.nextFrame();
      assert.equal(f.closeCode, 1000);
      // The client keeps the connection open and silent.
      const info = await client.closed;
      assert.equal(info.serverEndedFirst, true, 'the server drops the connection');
      const event = await conn.closed;
      assert.equal(event.code, 1006);
      assert.equal(conn.closeEvents.length, 1);
    });

    it('(e) closeTimeout also applies after the server failed the connection', T, async () => {
      const srv = await h.startServer(kind, { closeTimeout: 200 });
      const { client, conn } = await h.connectPair(srv);
      // Keep the client half-open: it will not answer the server's FIN.
      client.socket.allowHalfOpen = true;
      await client.write(h.text(Buffer.from([0xff])));
      const event = await conn.closed;
      assert.equal(event.code, 1006);
      assert.equal(client.frames[client.frames.length - 1].closeCode, 1007);
    });

    describe('(f) ws.close() argument errors', () => {
      const invalidCodes = [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535, 65536, -1];
      for (const code of invalidCodes) {
        it(`code ${code} throws ws's TypeError ("First argument must be a valid error code number"); the connection stays open`, T, async () => {
          const srv = await h.startServer(kind);
          const { client, conn } = await h.connectPair(srv);
          assert.throws(() => conn.ws.close(code), { name: 'TypeError', message: 'First argument must be a valid error code number' });
          assert.equal(conn.ws.readyState, WebSocket.OPEN);
          conn.ws.send('still open');
          const f = await client.nextFrame();
          assert.equal(f.opcode, OP.TEXT);
          assert.equal(f.payload.toString(), 'still open');
        });
      }

      for (const code of ['1000', 1000.5, NaN, null, {}]) {
        it(`code ${typeof code === 'string' ? `'${code}'` : String(code)} throws a TypeError naming "code"`, T, async () => {
          const srv = await h.startServer(kind);
          const { conn } = await h.connectPair(srv);
          assert.throws(() => conn.ws.close(code), (err) => err instanceof TypeError && /\bcode\b/.test(err.message));
          assert.equal(conn.ws.readyState, WebSocket.OPEN);
        });
      }

      it("a reason over 123 UTF-8 bytes throws ws's RangeError (\"The message must not be greater than 123 bytes\")", T, async () => {
        const srv = await h.startServer(kind);
        const { conn } = await h.connectPair(srv);
        const cjk = '孩'.repeat(42); // 126 bytes
        assert.equal(Buffer.byteLength(cjk), 126);
        const wsReasonError = { name: 'RangeError', message: 'The message must not be greater than 123 bytes' };
        assert.throws(() => conn.ws.close(1000, cjk), wsReasonError);
        assert.throws(() => conn.ws.close(1000, 'a'.repeat(124)), wsReasonError);
        assert.throws(() => conn.ws.close(1000, Buffer.alloc(124, 0x61)), wsReasonError);
        // The code is judged first, as in ws.
        assert.throws(() => conn.ws.close(999, 'a'.repeat(124)), { name: 'TypeError', message: 'First argument must be a valid error code number' });
        assert.throws(() => conn.ws.close(1000, 42), { name: 'TypeError', message: 'Second argument must be a string or a Uint8Array' });
        assert.equal(conn.ws.readyState, WebSocket.OPEN);
      });

      it('a reason of exactly 123 bytes is accepted', T, async () => {
        const srv = await h.startServer(kind);
        const { client, conn } = await h.connectPair(srv);
        const reason = '孩'.repeat(41);
        assert.equal(Buffer.byteLength(reason), 123);
        conn.ws.close(1000, reason);
        const f = await client.nextFrame();
        assert.equal(f.closeCode, 1000);
        assert.equal(f.closeReason.toString(), reason);
        assert.equal(f.payload.length, 125);
      });

      it('a reason without a code throws a TypeError naming "code"', T, async () => {
        const srv = await h.startServer(kind);
        const { conn } = await h.connectPair(srv);
        assert.throws(() => conn.ws.close(undefined, 'why'), (err) => err instanceof TypeError && /\bcode\b/.test(err.message));
      });

      for (const code of [1000, 1001, 1003, 1007, 1014, 3000, 4999]) {
        it(`code ${code} is accepted and sent`, T, async () => {
          const srv = await h.startServer(kind);
          const { client, conn } = await h.connectPair(srv);
          conn.ws.close(code, 'ok');
          const f = await client.nextFrame();
          assert.equal(f.opcode, OP.CLOSE);
          assert.equal(f.closeCode, code);
          assert.equal(f.closeReason.toString(), 'ok');
        });
      }

      it('close() without arguments sends an empty close frame', T, async () => {
        const srv = await h.startServer(kind);
        const { client, conn } = await h.connectPair(srv);
        conn.ws.close();
        const f = await client.nextFrame();
        assert.equal(f.opcode, OP.CLOSE);
        assert.equal(f.payload.length, 0);
        await client.write(h.close());
        assert.equal((await conn.closed).code, 1005);
      });
    });

    describe('(g) send after close', () => {
      it('while CLOSING: the callback gets an error, nothing throws, nothing is sent', T, async () => {
        const srv = await h.startServer(kind);
        const { client, conn } = await h.connectPair(srv);
        conn.ws.close(1000);
        const err = await new Promise((resolve) => {
          assert.doesNotThrow(() => conn.ws.send('late', (e) => resolve(e)));
        });
        assert.ok(err instanceof Error, 'the callback receives an Error');
        await new Promise((resolve) => {
          assert.doesNotThrow(() => conn.ws.ping('late', false, (e) => resolve(e)));
        });
        await client.write(h.close(1000));
        await client.closed;
        assert.deepEqual(client.frames.map((f) => f.opcode), [OP.CLOSE]);
      });

      it('when CLOSED: the callback gets an error and nothing throws', T, async () => {
        const srv = await h.startServer(kind);
        const { client, conn } = await h.connectPair(srv);
        client.end();
        await conn.closed;
        assert.equal(conn.ws.readyState, WebSocket.CLOSED);
        const err = await new Promise((resolve) => {
          assert.doesNotThrow(() => conn.ws.send(Buffer.from('late'), { binary: true }, (e) => resolve(e)));
        });
        assert.ok(err instanceof Error);
        assert.doesNotThrow(() => conn.ws.send('no callback'));
        assert.doesNotThrow(() => conn.ws.close(1000));
      });
    });
  });
}
