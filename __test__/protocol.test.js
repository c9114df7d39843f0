'use strict';

// Receive rules of RFC 6455 as the server applies them, over real TCP
// connections, against both WebSocketServer and accept().

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./helpers');

const { OP, REASON, text, binary, cont, ping, pong, close, frame } = h;
const T = { timeout: 10000 };

afterEach(h.closeAll);

/** Messages as comparable plain values. */
function summarize(messages) {
  return messages.map((m) => ({ data: m.data.toString('hex'), isBinary: m.isBinary, isBuffer: m.isBuffer }));
}

const msg = (data, isBinary) => ({ data: Buffer.from(data).toString('hex'), isBinary, isBuffer: true });

/**
 * Sends `before` frames, then the violating bytes, then `after` frames in
 * ONE write, and checks: close frame with `code`, TCP closed by the server,
 * only the `before` messages delivered, an 'error' with closeCode `code`.
 */
async function violation(kind, bytes, code, { serverOptions, before = [text('before')], beforeMessages, after = [text('after'), binary('after')] } = {}) {
  const srv = await h.startServer(kind, serverOptions);
  const { client, conn } = await h.connectPair(srv);
  await client.write(Buffer.concat([...before, bytes, ...after]));
  const { frames } = await h.expectFailure(client, code);
  assert.deepEqual(
    frames.filter((f) => f.opcode !== OP.CLOSE).map((f) => f.opcode),
    [],
    'no frame but the close frame was expected'
  );
  assert.equal(frames.filter((f) => f.opcode === OP.CLOSE).length, 1, 'exactly one close frame');
  await conn.closed;
  const expected = beforeMessages || [msg('before', false)];
  assert.deepEqual(summarize(conn.messages), expected, 'nothing after the violation is delivered');
  assert.equal(conn.errors.length, 1, "one 'error' event");
  assert.equal(conn.errors[0].closeCode, code, 'error.closeCode');
  assert.equal(conn.closeEvents.length, 1);
  return { client, conn, frames };
}

for (const kind of h.KINDS) {
  describe(`receive rules: protocol violations (${kind})`, () => {
    it('an unmasked client frame fails with 1002', T, async () => {
      await violation(kind, text('unmasked', { mask: false }), 1002);
    });

    it('an unmasked client control frame fails with 1002', T, async () => {
      await violation(kind, ping('unmasked', { mask: false }), 1002);
    });

    for (const rsv of ['rsv1', 'rsv2', 'rsv3']) {
      it(`${rsv.toUpperCase()} set without an extension fails with 1002`, T, async () => {
        await violation(kind, text('rsv', { [rsv]: true }), 1002);
      });
    }

    it('RSV1 fails with 1002 when the client offered permessage-deflate but the server (default options) did not accept it', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' } });
      assert.equal(client.response.headers['sec-websocket-extensions'], undefined, 'no extension negotiated');
      assert.equal(conn.ws.extensions, '');
      await client.write(Buffer.concat([text('before'), text('x', { rsv1: true }), text('after')]));
      await h.expectFailure(client, 1002);
      await conn.closed;
      assert.deepEqual(summarize(conn.messages), [msg('before', false)]);
    });

    it('RSV1 set on a ping fails with 1002', T, async () => {
      await violation(kind, ping('rsv', { rsv1: true }), 1002);
    });

    for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
      it(`reserved opcode ${opcode} fails with 1002`, T, async () => {
        await violation(kind, frame({ opcode, payload: 'x' }), 1002);
      });
    }

    it('the first two bytes of a wrong frame are enough: 1002 without waiting for its length and key', T, async () => {
      // Reserved opcode 3, masked, 64-bit length announced, and nothing more.
      await violation(kind, Buffer.from([0x83, 0xff]), 1002, { after: [] });
    });

    it('a ping over 125 bytes fails with 1002', T, async () => {
      await violation(kind, ping(Buffer.alloc(126, 1)), 1002);
    });

    it('a close frame over 125 bytes fails with 1002', T, async () => {
      await violation(kind, close(1000, 'r'.repeat(124)), 1002);
    });

    it('a pong over 125 bytes (64-bit length form) fails with 1002', T, async () => {
      await violation(kind, pong(Buffer.alloc(200, 1), { lengthBits: 64 }), 1002);
    });

    it('a ping with FIN=0 fails with 1002', T, async () => {
      await violation(kind, ping('frag', { fin: false }), 1002);
    });

    it('a close frame with FIN=0 fails with 1002', T, async () => {
      await violation(kind, close(1000, '', { fin: false }), 1002);
    });

    it('a continuation frame without a message in progress fails with 1002', T, async () => {
      await violation(kind, cont('orphan'), 1002);
    });

    it('a continuation frame after a complete message fails with 1002', T, async () => {
      await violation(kind, Buffer.concat([text('done'), cont('orphan', { fin: false })]), 1002, {
        beforeMessages: [msg('before', false), msg('done', false)],
      });
    });

    it('a new text frame while a fragmented message is in progress fails with 1002', T, async () => {
      await violation(kind, Buffer.concat([text('part', { fin: false }), text('new')]), 1002);
    });

    it('a new binary frame while a fragmented message is in progress fails with 1002', T, async () => {
      await violation(kind, Buffer.concat([binary('part', { fin: false }), cont('more', { fin: false }), binary('new')]), 1002);
    });

    it('a close payload of 1 byte fails with 1002', T, async () => {
      await violation(kind, frame({ opcode: OP.CLOSE, payload: [0x03] }), 1002);
    });

    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
      it(`a close frame with code ${code} fails with 1002`, T, async () => {
        await violation(kind, close(code), 1002);
      });
    }

    it('a close reason that is not UTF-8 fails with 1007', T, async () => {
      await violation(kind, close(1000, Buffer.from([0x61, 0xff, 0x62])), 1007);
    });

    it('a close reason cut inside a code point fails with 1007', T, async () => {
      await violation(kind, close(1000, Buffer.from(REASON).subarray(0, 4)), 1007);
    });

    for (const [name, bytes] of [
      ['0xFF', [0x61, 0xff]],
      ['a lone continuation byte', [0x80]],
      ['overlong C0 80', [0xc0, 0x80]],
      ['a UTF-16 surrogate ED A0 80', [0xed, 0xa0, 0x80]],
      ['a code point over U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
      ['a truncated code point at the end', [0x61, 0xe2, 0x82]],
    ]) {
      it(`text with ${name} (whole frame) fails with 1007`, T, async () => {
        await violation(kind, text(Buffer.from(bytes)), 1007);
      });
    }

    it('invalid UTF-8 split across fragments fails with 1007', T, async () => {
      // E2 82 | 28: each fragment is a valid prefix on its own, the join is not.
      await violation(kind, Buffer.concat([text(Buffer.from([0x61, 0xe2, 0x82]), { fin: false }), cont(Buffer.from([0x28]))]), 1007);
    });

    it('a message ending inside a code point split across fragments fails with 1007', T, async () => {
      await violation(kind, Buffer.concat([text(Buffer.from([0x61, 0xf0, 0x9f]), { fin: false }), cont(Buffer.from([0x98]))]), 1007);
    });

    for (const [name, bytes] of [
      ['F0 9F 98 + "a"', [0xf0, 0x9f, 0x98, 0x61]],
      ['overlong E0 80 80', [0xe0, 0x80, 0x80]],
      ['surrogate ED B0 80', [0xed, 0xb0, 0x80]],
      ['F5 80 80 80', [0xf5, 0x80, 0x80, 0x80]],
      ['a message ending after E2 82', [0x61, 0xe2, 0x82]],
    ]) {
      it(`invalid UTF-8 (${name}) with every fragment one byte long fails with 1007`, T, async () => {
        const frames = [text(Buffer.from(bytes.slice(0, 1)), { fin: false })];
        for (let i = 1; i < bytes.length; i++) frames.push(cont(Buffer.from(bytes.slice(i, i + 1)), { fin: i === bytes.length - 1 }));
        await violation(kind, Buffer.concat(frames), 1007);
      });
    }

    it('invalid UTF-8 split across TCP writes fails with 1007', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const bad = text(Buffer.from([0x61, 0x62, 0xe2, 0x82, 0x28, 0x63]));
      await client.write(text('before'));
      await conn.waitMessages(1);
      await client.write(bad.subarray(0, 9));
      await h.yieldToLoop();
      await client.write(bad.subarray(9));
      await client.write(text('after'));
      await h.expectFailure(client, 1007);
      await conn.closed;
      assert.deepEqual(summarize(conn.messages), [msg('before', false)]);
    });

    it('invalid UTF-8 sent one byte per write fails with 1007', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const bad = Buffer.concat([text(Buffer.from([0x61, 0xed, 0xa0, 0x80])), text('after')]);
      client.write(bad, { oneByteAtATime: true });
      await h.expectFailure(client, 1007);
      await conn.closed;
      assert.deepEqual(conn.messages, []);
    });

    it('fails fast: 1007 arrives before the rest of a frame with an invalid byte is sent', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      // The header promises 1000 bytes; only 4 are sent, the 4th invalid. The rest is never sent.
      const head = text(Buffer.alloc(1000, 0x61));
      const partial = Buffer.from(head.subarray(0, 8 + 4));
      const key = head.subarray(4, 8);
      partial[8 + 3] = 0xff ^ key[3];
      await client.write(partial);
      await h.expectFailure(client, 1007);
      await conn.closed;
      assert.deepEqual(conn.messages, []);
    });

    it('fails fast on an invalid byte arriving in a later write of an unfinished frame', T, async () => {
      const srv = await h.startServer(kind);
      const { client } = await h.connectPair(srv);
      const maskKey = Buffer.from([1, 2, 3, 4]);
      // 300-byte text frame: valid "ab" then a surrogate lead; the rest never comes.
      const payload = Buffer.alloc(300, 0x61);
      payload[2] = 0xed;
      payload[3] = 0xa0;
      const whole = text(payload, { maskKey });
      await client.write(whole.subarray(0, 8 + 2)); // header (2+2+4) and "aa"
      await h.yieldToLoop();
      await client.write(whole.subarray(10, 12)); // ED A0
      await h.expectFailure(client, 1007);
    });

    it('fails fast inside the first fragment of a message that never finishes', T, async () => {
      const srv = await h.startServer(kind);
      const { client } = await h.connectPair(srv);
      await client.write(text(Buffer.from([0x61, 0xff, 0x62]), { fin: false }));
      await h.expectFailure(client, 1007);
    });

    describe('maxPayload (1000)', () => {
      const serverOptions = { maxPayload: 1000 };

      it('a frame header announcing 1001 bytes fails with 1009 before any payload is sent', T, async () => {
        const srv = await h.startServer(kind, serverOptions);
        const { client, conn } = await h.connectPair(srv);
        const header = text(Buffer.alloc(1001, 0x61)).subarray(0, 8);
        await client.write(header);
        await h.expectFailure(client, 1009);
        await conn.closed;
        assert.equal(conn.errors[0].closeCode, 1009);
      });

      it('a 64-bit length header of 2^40 bytes fails with 1009', T, async () => {
        const srv = await h.startServer(kind, serverOptions);
        const { client } = await h.connectPair(srv);
        await client.write(frame({ opcode: OP.BINARY, payload: Buffer.alloc(0), length: 2 ** 40 }));
        await h.expectFailure(client, 1009);
      });

      it('a whole frame over maxPayload fails with 1009', T, async () => {
        await violation(kind, binary(Buffer.alloc(1001)), 1009, { serverOptions });
      });

      it('a message of many small fragments over maxPayload fails with 1009', T, async () => {
        const fragments = [binary(Buffer.alloc(100, 1), { fin: false })];
        for (let i = 1; i < 20; i++) fragments.push(cont(Buffer.alloc(100, 1), { fin: i === 19 }));
        await violation(kind, Buffer.concat(fragments), 1009, { serverOptions });
      });

      it('fragments over maxPayload fail with 1009 even when sent one per write', T, async () => {
        const srv = await h.startServer(kind, serverOptions);
        const { client, conn } = await h.connectPair(srv);
        client.write(text('x'.repeat(100), { fin: false }));
        for (let i = 1; i < 20 && !client.socket.destroyed; i++) {
          await client.write(cont('x'.repeat(100), { fin: i === 19 }));
        }
        await h.expectFailure(client, 1009);
        await conn.closed;
        assert.deepEqual(conn.messages, []);
      });

      it('exactly maxPayload bytes is accepted, as one frame and as fragments', T, async () => {
        const srv = await h.startServer(kind, serverOptions);
        const { client, conn } = await h.connectPair(srv);
        const data = crypto.randomBytes(1000);
        await client.write(
          Buffer.concat([binary(data), binary(data.subarray(0, 600), { fin: false }), cont(data.subarray(600, 999), { fin: false }), cont(data.subarray(999))])
        );
        await conn.waitMessages(2);
        assert.deepEqual(summarize(conn.messages), [msg(data, true), msg(data, true)]);
        assert.equal(client.frames.length, 0);
      });

      it('control frames do not count towards maxPayload', T, async () => {
        const srv = await h.startServer(kind, serverOptions);
        const { client, conn } = await h.connectPair(srv);
        const data = Buffer.alloc(1000, 7);
        await client.write(
          Buffer.concat([binary(data.subarray(0, 500), { fin: false }), ping(Buffer.alloc(125, 9)), cont(data.subarray(500))])
        );
        await conn.waitMessages(1);
        assert.deepEqual(summarize(conn.messages), [msg(data, true)]);
      });
    });
  });

  describe(`receive rules: valid traffic (${kind})`, () => {
    it('pings are answered with a pong carrying the same payload', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const payloads = [Buffer.alloc(0), Buffer.from('hello'), crypto.randomBytes(125)];
      for (const p of payloads) {
        await client.write(ping(p));
        const f = await client.nextFrame();
        assert.equal(f.opcode, OP.PONG);
        assert.equal(f.fin, true);
        assert.equal(f.masked, false);
        assert.deepEqual(f.payload, p);
      }
      assert.deepEqual(conn.pings, payloads);
    });

    it('pings between the fragments of a message are answered, and the message arrives whole', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const bytes = Buffer.from(REASON);
      await client.write(
        Buffer.concat([
          text(bytes.subarray(0, 5), { fin: false }),
          ping('one'),
          cont(bytes.subarray(5, 20), { fin: false }),
          ping('two'),
          ping('three'),
          cont(bytes.subarray(20)),
        ])
      );
      await conn.waitMessages(1);
      assert.deepEqual(summarize(conn.messages), [msg(REASON, false)]);
      assert.equal(conn.messages[0].data.toString(), REASON);
      const pongs = [await client.nextFrame(), await client.nextFrame(), await client.nextFrame()];
      assert.deepEqual(
        pongs.map((f) => [f.opcode, f.payload.toString()]),
        [
          [OP.PONG, 'one'],
          [OP.PONG, 'two'],
          [OP.PONG, 'three'],
        ]
      );
      assert.deepEqual(conn.pings.map(String), ['one', 'two', 'three']);
    });

    it('text arrives as a Buffer with isBinary=false, binary with isBinary=true', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      await client.write(Buffer.concat([text('héllo'), binary('héllo')]));
      await conn.waitMessages(2);
      const [t, b] = conn.messages;
      assert.ok(t.isBuffer, 'text message data is a Buffer');
      assert.equal(t.isBinary, false);
      assert.equal(t.data.toString('utf8'), 'héllo');
      assert.ok(b.isBuffer);
      assert.equal(b.isBinary, true);
      assert.deepEqual(b.data, Buffer.from('héllo'));
    });

    it('empty text and binary messages (also fragmented) are delivered', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      await client.write(Buffer.concat([text(''), binary(''), text('', { fin: false }), cont(''), binary('', { fin: false }), cont('', { fin: false }), cont('')]));
      await conn.waitMessages(4);
      assert.deepEqual(summarize(conn.messages), [msg('', false), msg('', true), msg('', false), msg('', true)]);
    });

    it('16-bit (200 B) and 64-bit (70 KiB) length frames', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const small = crypto.randomBytes(200);
      const big = crypto.randomBytes(70 * 1024);
      const bigText = 'é'.repeat(35 * 1024 + 7);
      const f200 = binary(small);
      const f70k = binary(big);
      assert.equal(f200[1] & 0x7f, 126);
      assert.equal(f70k[1] & 0x7f, 127);
      await client.write(Buffer.concat([f200, f70k, text(bigText)]));
      await conn.waitMessages(3);
      assert.deepEqual(summarize(conn.messages), [msg(small, true), msg(big, true), msg(bigText, false)]);
    });

    it('non-minimal length encodings are accepted (5 bytes in the 16-bit and 64-bit forms)', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      await client.write(Buffer.concat([text('abcde', { lengthBits: 16 }), binary('abcde', { lengthBits: 64 })]));
      await conn.waitMessages(2);
      assert.deepEqual(summarize(conn.messages), [msg('abcde', false), msg('abcde', true)]);
    });

    it('a big message made of fragments with all three length forms', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const data = crypto.randomBytes(100 + 300 + 70000);
      await client.write(
        Buffer.concat([
          binary(data.subarray(0, 100), { fin: false }),
          cont(data.subarray(100, 400), { fin: false }),
          cont(data.subarray(400)),
        ])
      );
      await conn.waitMessages(1);
      assert.deepEqual(summarize(conn.messages), [msg(data, true)]);
    });

    it('more than 4096 frames in one write: every message, in order', { timeout: 20000 }, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const count = 12000;
      const frames = [];
      const expected = [];
      for (let i = 0; i < count; i++) {
        if (i % 1000 === 500) frames.push(ping(String(i)));
        const isBinary = i % 3 === 0;
        frames.push(isBinary ? binary(String(i)) : text(String(i)));
        expected.push(msg(String(i), isBinary));
      }
      await client.write(Buffer.concat([...frames, h.close(1000)]));
      await client.closed;
      await conn.closed;
      assert.equal(conn.messages.length, count);
      assert.deepEqual(summarize(conn.messages), expected);
      const pongs = client.frames.filter((f) => f.opcode === OP.PONG).map((f) => f.payload.toString());
      assert.deepEqual(pongs, Array.from({ length: 12 }, (_, k) => String(k * 1000 + 500)));
    });

    it('multi-byte text with every fragment one byte long', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const str = 'aé€😀' + REASON;
      const bytes = Buffer.from(str);
      const frames = [text(bytes.subarray(0, 1), { fin: false })];
      for (let i = 1; i < bytes.length; i++) frames.push(cont(bytes.subarray(i, i + 1), { fin: i === bytes.length - 1 }));
      await client.write(Buffer.concat(frames));
      await conn.waitMessages(1);
      assert.equal(conn.messages[0].data.toString(), str);
      assert.equal(conn.messages[0].isBinary, false);
    });

    describe('the same traffic three ways gives identical message events', () => {
      const big = crypto.randomBytes(70 * 1024);
      const reasonBytes = Buffer.from(REASON);
      const max125 = crypto.randomBytes(125);
      const frames = [
        text('Hello, world'),
        text(''),
        binary(''),
        binary([0, 1, 2, 255]),
        text('x'.repeat(200)),
        binary(Buffer.alloc(126, 3)),
        text(REASON),
        // Fragments split inside code points, with a ping in between.
        text(reasonBytes.subarray(0, 4), { fin: false }),
        cont(reasonBytes.subarray(4, 5), { fin: false }),
        ping('mid'),
        cont(reasonBytes.subarray(5)),
        binary('', { fin: false }),
        cont([1, 2, 3], { fin: false }),
        cont(''),
        ping(''),
        pong('unsolicited'),
        ping(max125),
        binary(big),
        text('last'),
      ];
      const expected = [
        msg('Hello, world', false),
        msg('', false),
        msg('', true),
        msg([0, 1, 2, 255], true),
        msg('x'.repeat(200), false),
        msg(Buffer.alloc(126, 3), true),
        msg(REASON, false),
        msg(REASON, false),
        msg([1, 2, 3], true),
        msg(big, true),
        msg('last', false),
      ];
      const expectedPongs = [Buffer.from('mid'), Buffer.alloc(0), max125].map((p) => p.toString('hex'));
      const results = {};

      async function run(mode) {
        const srv = await h.startServer(kind);
        const { client, conn } = await h.connectPair(srv);
        const all = [...frames, h.close(1000, 'bye')];
        if (mode === 'normal') {
          for (const f of all) await client.write(f);
        } else if (mode === 'one byte per write') {
          await client.write(Buffer.concat(all), { oneByteAtATime: true });
        } else {
          await client.write(Buffer.concat(all));
        }
        const closed = await client.closed;
        assert.equal(closed.serverEndedFirst, true);
        const events = await conn.closed;
        assert.equal(events.code, 1000);
        assert.equal(events.reason.toString(), 'bye');
        const got = summarize(conn.messages);
        results[mode] = got;
        assert.deepEqual(got, expected);
        const replies = client.frames;
        assert.deepEqual(
          replies.filter((f) => f.opcode === OP.PONG).map((f) => f.payload.toString('hex')),
          expectedPongs
        );
        assert.equal(replies[replies.length - 1].opcode, OP.CLOSE);
        assert.equal(replies[replies.length - 1].closeCode, 1000);
        assert.deepEqual(conn.pongs.map((p) => p.toString()), ['unsolicited']);
        assert.equal(conn.pings.length, 3);
      }

      for (const mode of ['normal', 'one byte per write', 'many frames in one write']) {
        it(mode, { timeout: 30000 }, () => run(mode));
      }

      it('the three runs match each other', () => {
        assert.deepEqual(results['one byte per write'], results.normal);
        assert.deepEqual(results['many frames in one write'], results.normal);
      });
    });
  });
}
