'use strict';

// The exported protocol primitives, checked against the RFC and against the
// independent frame builder/reader in helpers.js.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./helpers');

const {
  acceptKey,
  parseUpgradeRequest,
  buildAcceptResponse,
  HandshakeError,
  encodeFrame,
  decodeFrame,
  encodeClose,
  decodeClose,
  FrameParser,
  ProtocolError,
} = h.lib;
const { OP, REASON } = h;

const isArgError = (Class, name) => (err) => {
  assert.ok(err instanceof Class, `expected ${Class.name}, got ${err && err.constructor.name}: ${err && err.message}`);
  assert.match(err.message, new RegExp(`\\b${name}\\b`), `the message names "${name}"`);
  return true;
};

const isProtocolError = (closeCode) => (err) => {
  assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${err && err.constructor.name}: ${err && err.message}`);
  assert.ok(err instanceof Error);
  assert.equal(err.closeCode, closeCode);
  return true;
};

const RFC_REQUEST =
  'GET /chat?x=1 HTTP/1.1\r\n' +
  'Host: server.example.com\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Origin: http://example.com\r\n' +
  'Sec-WebSocket-Protocol: chat, superchat\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  '\r\n';

describe('acceptKey', () => {
  it('gives the RFC 6455 example answer', () => {
    assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('matches sha1(key + GUID) for random keys', () => {
    for (let i = 0; i < 20; i++) {
      const key = h.randomKey();
      assert.equal(acceptKey(key), h.computeAccept(key));
    }
  });

  it('rejects a non-string with a TypeError naming "key"', () => {
    assert.throws(() => acceptKey(123), isArgError(TypeError, 'key'));
    assert.throws(() => acceptKey(Buffer.from('x')), isArgError(TypeError, 'key'));
  });
});

describe('buildAcceptResponse', () => {
  it('builds a complete 101 response', () => {
    const text = buildAcceptResponse('dGhlIHNhbXBsZSBub25jZQ==', { protocol: 'chat' });
    assert.ok(text.startsWith('HTTP/1.1 101 Switching Protocols\r\n'));
    assert.ok(text.endsWith('\r\n\r\n'));
    const head = h.parseHttpHead(text.slice(0, -4));
    assert.equal(head.status, 101);
    assert.equal(head.headers.upgrade, 'websocket');
    assert.equal(head.headers.connection, 'Upgrade');
    assert.equal(head.headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    assert.equal(head.headers['sec-websocket-protocol'], 'chat');
    assert.equal(h.parseHttpHead(buildAcceptResponse(h.randomKey()).slice(0, -4)).headers['sec-websocket-protocol'], undefined);
  });
});

describe('parseUpgradeRequest', () => {
  it('returns null at every cut point of a valid request', () => {
    const bytes = Buffer.from(RFC_REQUEST);
    for (let cut = 0; cut < bytes.length; cut++) {
      assert.equal(parseUpgradeRequest(bytes.subarray(0, cut)), null, `cut at ${cut}`);
    }
  });

  it('parses the fields of a complete request, and bytesUsed excludes what follows', () => {
    const frameBytes = h.text('after');
    const bytes = Buffer.concat([Buffer.from(RFC_REQUEST), frameBytes]);
    const r = parseUpgradeRequest(bytes);
    assert.equal(r.method, 'GET');
    assert.equal(r.url, '/chat?x=1');
    assert.equal(r.httpVersion, '1.1');
    assert.equal(r.key, 'dGhlIHNhbXBsZSBub25jZQ==');
    assert.deepEqual(r.protocols, ['chat', 'superchat']);
    assert.equal(r.extensions, null);
    assert.equal(r.bytesUsed, Buffer.byteLength(RFC_REQUEST));
    assert.equal(r.headers.host, 'server.example.com');
    assert.equal(r.headers.origin, 'http://example.com');
    assert.equal(r.headers['sec-websocket-version'], '13');
    assert.deepEqual(r.rawHeaders.slice(0, 2), ['Host', 'server.example.com']);
    assert.equal(r.rawHeaders.length, 14);
    assert.deepEqual(bytes.subarray(r.bytesUsed), frameBytes);
  });

  it('reports Sec-WebSocket-Extensions and joins repeated headers', () => {
    const text = RFC_REQUEST.replace('\r\n\r\n', '\r\nSec-WebSocket-Extensions: permessage-deflate\r\nX-A: 1\r\nX-A: 2\r\n\r\n');
    const r = parseUpgradeRequest(Buffer.from(text));
    assert.equal(r.extensions, 'permessage-deflate');
    assert.equal(r.headers['x-a'], '1, 2');
  });

  const refusals = [
    ['POST', RFC_REQUEST.replace('GET', 'POST'), 405],
    ['HTTP/1.0', RFC_REQUEST.replace('HTTP/1.1', 'HTTP/1.0'), 400],
    ['no Host', RFC_REQUEST.replace('Host: server.example.com\r\n', ''), 400],
    ['no Upgrade', RFC_REQUEST.replace('Upgrade: websocket\r\n', ''), 400],
    ['Upgrade: h2c', RFC_REQUEST.replace('Upgrade: websocket', 'Upgrade: h2c'), 400],
    ['Connection: keep-alive', RFC_REQUEST.replace('Connection: Upgrade', 'Connection: keep-alive'), 400],
    ['short key', RFC_REQUEST.replace('dGhlIHNhbXBsZSBub25jZQ==', 'dGhlIHNhbXBsZQ=='), 400],
    ['non-base64 key', RFC_REQUEST.replace('dGhlIHNhbXBsZSBub25jZQ==', '????????????????????????'), 400],
    ['no version', RFC_REQUEST.replace('Sec-WebSocket-Version: 13\r\n', ''), 400],
    ['malformed request line', 'GARBAGE\r\n\r\n', 400],
    ['version 12', RFC_REQUEST.replace('Version: 13', 'Version: 12'), 400],
  ];
  for (const [name, text, status] of refusals) {
    it(`throws HandshakeError ${status} for ${name}`, () => {
      assert.throws(
        () => parseUpgradeRequest(Buffer.from(text)),
        (err) => {
          assert.ok(err instanceof HandshakeError);
          assert.ok(err instanceof Error);
          assert.equal(err.statusCode, status);
          assert.equal(typeof err.response, 'string');
          assert.ok(err.response.startsWith(`HTTP/1.1 ${status} `));
          if (/Version: 12/.test(text)) assert.match(err.response, /\r\nSec-WebSocket-Version: 13, 8\r\n/);
          assert.ok(err.response.endsWith(`\r\n\r\n${err.message}`));
          return true;
        }
      );
    });
  }

  it('throws HandshakeError 431 for a header block over maxHeaderBytes (default 16 KiB)', () => {
    const big = RFC_REQUEST.replace('\r\n\r\n', `\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
    assert.throws(() => parseUpgradeRequest(Buffer.from(big)), (err) => err instanceof HandshakeError && err.statusCode === 431);
    // Also while still incomplete.
    const partial = Buffer.from(big).subarray(0, 17 * 1024);
    assert.throws(() => parseUpgradeRequest(partial), (err) => err instanceof HandshakeError && err.statusCode === 431);
    assert.throws(
      () => parseUpgradeRequest(Buffer.from(RFC_REQUEST), { maxHeaderBytes: 100 }),
      (err) => err instanceof HandshakeError && err.statusCode === 431
    );
    assert.ok(parseUpgradeRequest(Buffer.from(RFC_REQUEST), { maxHeaderBytes: Buffer.byteLength(RFC_REQUEST) }));
  });

  it('argument errors name the argument', () => {
    assert.throws(() => parseUpgradeRequest(RFC_REQUEST), isArgError(TypeError, 'buffer'));
    assert.throws(() => parseUpgradeRequest(Buffer.from(RFC_REQUEST), { maxHeaderBytes: 0 }), isArgError(RangeError, 'maxHeaderBytes'));
    assert.throws(() => parseUpgradeRequest(Buffer.from(RFC_REQUEST), { maxHeaderBytes: 1.5 }), isArgError(RangeError, 'maxHeaderBytes'));
  });
});

describe('encodeFrame / decodeFrame', () => {
  for (const length of [0, 1, 125, 126, 127, 65535, 65536, 70 * 1024]) {
    for (const masked of [false, true]) {
      it(`round trip of ${length} bytes, ${masked ? 'masked' : 'unmasked'}`, () => {
        const payload = crypto.randomBytes(length);
        const mask = masked ? crypto.randomBytes(4) : undefined;
        const wire = encodeFrame({ opcode: OP.BINARY, payload, mask });
        const headerLength = (length < 126 ? 2 : length < 65536 ? 4 : 10) + (masked ? 4 : 0);
        assert.equal(wire.length, headerLength + length);
        // The independent builder produces the same bytes for the same key.
        assert.deepEqual(wire, h.frame({ opcode: OP.BINARY, payload, mask: masked, maskKey: mask }));
        const trailing = Buffer.from([0x81, 0x00]);
        const decoded = decodeFrame(Buffer.concat([wire, trailing]));
        assert.equal(decoded.fin, true);
        assert.equal(decoded.rsv1, false);
        assert.equal(decoded.rsv2, false);
        assert.equal(decoded.rsv3, false);
        assert.equal(decoded.opcode, OP.BINARY);
        assert.equal(decoded.masked, masked);
        assert.deepEqual(decoded.payload, payload);
        assert.equal(decoded.bytesUsed, wire.length);
        // The independent reader agrees.
        const reader = new h.FrameReader();
        reader.push(wire);
        assert.equal(reader.frames.length, 1);
        assert.deepEqual(reader.frames[0].payload, payload);
        // Every strict prefix is incomplete.
        const cuts = length < 300 ? [...Array(wire.length).keys()] : [0, 1, headerLength - 1, headerLength, wire.length - 1];
        for (const cut of cuts) assert.equal(decodeFrame(wire.subarray(0, cut)), null, `cut ${cut}`);
      });
    }
  }

  it('defaults: a string payload is a text frame, fin set, unmasked; mask:true picks a key', () => {
    const wire = encodeFrame({ payload: 'héllo' });
    assert.deepEqual(wire, h.frame({ opcode: OP.TEXT, payload: 'héllo', mask: false }));
    assert.equal(encodeFrame({ payload: Buffer.from('x') })[0], 0x82);
    const masked = encodeFrame({ payload: 'abc', mask: true });
    assert.equal(masked[1] & 0x80, 0x80);
    assert.equal(decodeFrame(masked).payload.toString(), 'abc');
    const frag = decodeFrame(encodeFrame({ payload: 'a', fin: false, opcode: 0, rsv1: true }));
    assert.equal(frag.fin, false);
    assert.equal(frag.rsv1, true);
    assert.equal(frag.opcode, 0);
  });

  it('decodes the RFC 6455 §5.7 examples', () => {
    assert.equal(decodeFrame(Buffer.from([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])).payload.toString(), 'Hello');
    const masked = decodeFrame(Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]));
    assert.equal(masked.payload.toString(), 'Hello');
    assert.equal(masked.masked, true);
    const split1 = decodeFrame(Buffer.from([0x01, 0x03, 0x48, 0x65, 0x6c]));
    assert.deepEqual([split1.fin, split1.opcode, split1.payload.toString()], [false, 1, 'Hel']);
    const ping = decodeFrame(Buffer.from([0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]));
    assert.deepEqual([ping.opcode, ping.payload.toString()], [9, 'Hello']);
    assert.deepEqual([...encodeFrame({ opcode: 2, payload: Buffer.alloc(256) }).subarray(0, 4)], [0x82, 0x7e, 0x01, 0x00]);
    assert.deepEqual(
      [...encodeFrame({ opcode: 2, payload: Buffer.alloc(65536) }).subarray(0, 10)],
      [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]
    );
  });

  it('a 64-bit length with the top bit set is a ProtocolError with closeCode 1009, as ws refuses lengths over 2^53 - 1', () => {
    const wire = Buffer.from([0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1]);
    assert.throws(() => decodeFrame(wire), isProtocolError(1009));
    const err = (() => {
      try {
        decodeFrame(wire);
      } catch (e) {
        return e;
      }
    })();
    assert.equal(err.code, 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH');
  });

  it('argument errors are TypeError/RangeError naming the argument', () => {
    assert.throws(() => encodeFrame(null), isArgError(TypeError, 'frame'));
    assert.throws(() => encodeFrame('x'), isArgError(TypeError, 'frame'));
    assert.throws(() => encodeFrame({ payload: 42 }), isArgError(TypeError, 'payload'));
    assert.throws(() => encodeFrame({ payload: 'x', opcode: 16 }), isArgError(RangeError, 'opcode'));
    assert.throws(() => encodeFrame({ payload: 'x', opcode: -1 }), isArgError(RangeError, 'opcode'));
    assert.throws(() => encodeFrame({ payload: 'x', opcode: 1.5 }), isArgError(RangeError, 'opcode'));
    assert.throws(() => encodeFrame({ payload: 'x', mask: Buffer.alloc(3) }), isArgError(RangeError, 'mask'));
    assert.throws(() => encodeFrame({ payload: 'x', mask: 7 }), isArgError(TypeError, 'mask'));
    assert.throws(() => encodeFrame({ opcode: OP.PING, payload: Buffer.alloc(126) }), isArgError(RangeError, 'payload'));
    assert.throws(() => encodeFrame({ opcode: OP.CLOSE, payload: Buffer.alloc(2), fin: false }), isArgError(RangeError, 'fin'));
    assert.throws(() => decodeFrame('x'), isArgError(TypeError, 'buffer'));
    assert.ok(encodeFrame({ opcode: OP.PING, payload: Buffer.alloc(125) }));
  });
});

describe('encodeClose / decodeClose', () => {
  it('round trip with the Chinese reason', () => {
    const payload = encodeClose(1000, REASON);
    assert.deepEqual(payload, h.closePayload(1000, REASON));
    assert.deepEqual([...payload.subarray(0, 2)], [0x03, 0xe8]);
    assert.deepEqual(decodeClose(payload), { code: 1000, reason: REASON });
    assert.deepEqual(decodeClose(encodeClose(4999, Buffer.from(REASON))), { code: 4999, reason: REASON });
  });

  it('no code gives an empty payload, which decodes as 1005', () => {
    assert.equal(encodeClose().length, 0);
    assert.deepEqual(decodeClose(Buffer.alloc(0)), { code: 1005, reason: '' });
    assert.deepEqual(decodeClose(h.closePayload(1001)), { code: 1001, reason: '' });
  });

  it('sendable codes are accepted, the others are RangeErrors naming "code"', () => {
    for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]) {
      assert.equal(decodeClose(encodeClose(code)).code, code);
    }
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535, 65536, -1]) {
      assert.throws(() => encodeClose(code), isArgError(RangeError, 'code'), String(code));
    }
  });

  it('reason limit: 123 bytes fit, 124 are a RangeError naming "reason"', () => {
    assert.equal(encodeClose(1000, 'a'.repeat(123)).length, 125);
    assert.equal(encodeClose(1000, '孩'.repeat(41)).length, 125);
    assert.throws(() => encodeClose(1000, 'a'.repeat(124)), isArgError(RangeError, 'reason'));
    assert.throws(() => encodeClose(1000, '孩'.repeat(42)), isArgError(RangeError, 'reason'));
  });

  it('type errors name the argument', () => {
    assert.throws(() => encodeClose('1000'), isArgError(TypeError, 'code'));
    assert.throws(() => encodeClose(1000.5), isArgError(TypeError, 'code'));
    assert.throws(() => encodeClose(undefined, 'why'), isArgError(TypeError, 'code'));
    assert.throws(() => encodeClose(1000, 42), isArgError(TypeError, 'reason'));
    assert.throws(() => decodeClose('x'), isArgError(TypeError, 'payload'));
  });

  it('decodeClose rejects bad payloads with the right closeCode', () => {
    assert.throws(() => decodeClose(Buffer.from([0x03])), isProtocolError(1002));
    for (const code of [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) {
      assert.throws(() => decodeClose(h.closePayload(code)), isProtocolError(1002), String(code));
    }
    assert.throws(() => decodeClose(h.closePayload(1000, Buffer.from([0xff]))), isProtocolError(1007));
    assert.throws(() => decodeClose(h.closePayload(1000, Buffer.from(REASON).subarray(0, 5))), isProtocolError(1007));
  });
});

describe('FrameParser', () => {
  // The parser unmasks in place: give it copies.
  const copy = (b) => Buffer.from(b);

  function stream() {
    const big = crypto.randomBytes(70 * 1024);
    const bytes = Buffer.from(REASON);
    const wire = Buffer.concat([
      h.text('hello'),
      h.binary(''),
      h.text(bytes.subarray(0, 4), { fin: false }),
      h.ping('p'),
      h.cont(bytes.subarray(4)),
      h.binary(big),
      h.pong('q'),
      h.text('x'.repeat(200)),
      h.close(1000, REASON),
    ]);
    const events = [
      { type: 'message', data: 'hello', isBinary: false },
      { type: 'message', data: '', isBinary: true },
      { type: 'ping', data: 'p' },
      { type: 'message', data: REASON, isBinary: false },
      { type: 'message', data: big.toString('latin1'), isBinary: true },
      { type: 'pong', data: 'q' },
      { type: 'message', data: 'x'.repeat(200), isBinary: false },
      { type: 'close', code: 1000, reason: REASON },
    ];
    return { wire, events };
  }

  const plain = (events) =>
    events.map((e) => {
      if (e.type === 'close') return e;
      const out = { type: e.type, data: e.data.toString(e.isBinary ? 'latin1' : 'utf8') };
      if (e.type === 'message') out.isBinary = e.isBinary;
      return out;
    });

  it('many frames in one chunk', () => {
    const { wire, events } = stream();
    const parser = new FrameParser();
    assert.deepEqual(plain(parser.push(copy(wire))), events);
  });

  it('frames split over chunks of every size from 1 to 7 bytes, and at random', () => {
    const { wire, events } = stream();
    for (const size of [1, 2, 3, 5, 7, 'random']) {
      const parser = new FrameParser();
      const got = [];
      for (let at = 0; at < wire.length; ) {
        const n = size === 'random' ? 1 + crypto.randomInt(3000) : size;
        got.push(...parser.push(copy(wire.subarray(at, at + n))));
        at += n;
      }
      assert.deepEqual(plain(got), events, `chunk size ${size}`);
    }
  });

  it('returns no events for an incomplete frame, then the message when it completes', () => {
    const wire = h.text('complete me');
    const parser = new FrameParser();
    assert.deepEqual(parser.push(copy(wire.subarray(0, 8))), []);
    const events = parser.push(copy(wire.subarray(8)));
    assert.deepEqual(plain(events), [{ type: 'message', data: 'complete me', isBinary: false }]);
    assert.ok(Buffer.isBuffer(events[0].data));
  });

  it('client: true parses unmasked server frames and refuses masked ones', () => {
    const parser = new FrameParser({ client: true });
    assert.deepEqual(plain(parser.push(encodeFrame({ payload: 'from server' }))), [
      { type: 'message', data: 'from server', isBinary: false },
    ]);
    const strict = new FrameParser({ client: true });
    assert.throws(() => strict.push(h.text('masked')), isProtocolError(1002));
  });

  const violations = [
    ['an unmasked frame', () => h.text('x', { mask: false }), 1002],
    ['RSV1', () => h.text('x', { rsv1: true }), 1002],
    ['RSV2', () => h.text('x', { rsv2: true }), 1002],
    ['RSV3', () => h.text('x', { rsv3: true }), 1002],
    ['opcode 3', () => h.frame({ opcode: 3 }), 1002],
    ['opcode 11', () => h.frame({ opcode: 11 }), 1002],
    ['a 126-byte ping', () => h.ping(Buffer.alloc(126)), 1002],
    ['a fragmented ping', () => h.ping('x', { fin: false }), 1002],
    ['an orphan continuation', () => h.cont('x'), 1002],
    ['a text frame inside a fragmented message', () => Buffer.concat([h.text('a', { fin: false }), h.text('b')]), 1002],
    ['a 1-byte close payload', () => h.frame({ opcode: OP.CLOSE, payload: [3] }), 1002],
    ['close code 1005', () => h.close(1005), 1002],
    ['a non-UTF-8 close reason', () => h.close(1000, Buffer.from([0xff])), 1007],
    ['invalid UTF-8 text', () => h.text(Buffer.from([0xc0, 0x80])), 1007],
    ['a 64-bit length with the top bit set', () => Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]), 1009],
  ];
  for (const [name, make, code] of violations) {
    it(`throws ProtocolError ${code} for ${name}, with earlier events on error.events`, () => {
      const parser = new FrameParser();
      assert.throws(
        () => parser.push(Buffer.concat([h.text('before'), make(), h.text('after')])),
        (err) => {
          isProtocolError(code)(err);
          assert.deepEqual(plain(err.events), [{ type: 'message', data: 'before', isBinary: false }]);
          return true;
        }
      );
      // After the error the parser ignores input.
      assert.deepEqual(parser.push(h.text('ignored')), []);
    });
  }

  it('maxPayload: a message over the limit is ProtocolError 1009, from the header alone or from fragments', () => {
    const header = new FrameParser({ maxPayload: 1000 });
    assert.throws(() => header.push(h.binary(Buffer.alloc(1001)).subarray(0, 8)), isProtocolError(1009));
    const fragments = new FrameParser({ maxPayload: 1000 });
    let chunks = Buffer.concat([h.binary(Buffer.alloc(500), { fin: false }), h.cont(Buffer.alloc(500), { fin: false })]);
    assert.deepEqual(fragments.push(chunks), []);
    assert.throws(() => fragments.push(h.cont(Buffer.alloc(1))), isProtocolError(1009));
    const exact = new FrameParser({ maxPayload: 1000 });
    chunks = Buffer.concat([h.binary(Buffer.alloc(500), { fin: false }), h.cont(Buffer.alloc(500))]);
    assert.equal(exact.push(chunks).length, 1);
    const unlimited = new FrameParser({ maxPayload: 0 });
    assert.equal(unlimited.push(h.binary(Buffer.alloc(200000))).length, 1);
  });

  it('fails fast on invalid UTF-8 inside an unfinished frame', () => {
    const parser = new FrameParser();
    const wire = h.text(Buffer.from([0x61, 0xff, ...Buffer.alloc(300, 0x61)]));
    assert.throws(() => parser.push(Buffer.from(wire.subarray(0, 10))), isProtocolError(1007));
  });

  it('argument errors name the argument', () => {
    assert.throws(() => new FrameParser({ maxPayload: -1 }), isArgError(RangeError, 'maxPayload'));
    assert.throws(() => new FrameParser({ maxPayload: '10' }), isArgError(RangeError, 'maxPayload'));
    assert.throws(() => new FrameParser().push('x'), isArgError(TypeError, 'chunk'));
    assert.throws(() => new FrameParser().push(new Uint8Array(2)), isArgError(TypeError, 'chunk'));
  });

  // Messages that span chunks are assembled into buffers the native side lends:
  // up to 16 KiB from a shared 64 KiB slab, larger ones each in their own.
  function straddling(sizes, text = false) {
    const payloads = sizes.map((n) => (text ? Buffer.from('é'.repeat(n / 2)) : crypto.randomBytes(n)));
    const frames = payloads.map((p) => (text ? h.text(p) : h.binary(p)));
    // Chunks are cut in the middle of every frame, as a stream arrives: each
    // chunk completes one message and starts the next.
    const wire = Buffer.concat(frames);
    const cuts = [];
    let at = 0;
    for (const frame of frames) {
      cuts.push(at + (frame.length >> 1));
      at += frame.length;
    }
    cuts.push(wire.length);
    const parser = new FrameParser();
    const got = [];
    let from = 0;
    for (const cut of cuts) {
      got.push(...parser.push(copy(wire.subarray(from, cut))));
      from = cut;
    }
    return { payloads, got };
  }

  it('messages spanning chunks keep their bytes while later ones are assembled next to them', () => {
    const sizes = Array.from({ length: 40 }, (_, i) => 1 + ((i * 977) % (16 * 1024)));
    const { payloads, got } = straddling(sizes);
    assert.equal(got.length, payloads.length);
    // Checked only after everything was parsed: no later message wrote over an earlier one.
    got.forEach((e, i) => assert.ok(e.data.equals(payloads[i]), `message ${i} (${sizes[i]} bytes)`));
  });

  it('up to 16 KiB, messages spanning chunks share a 64 KiB slab; larger ones get their own Buffer', () => {
    const { got } = straddling([4000, 4000, 16 * 1024, 16 * 1024 + 1]);
    const [a, b, c, d] = got.map((e) => e.data);
    assert.ok(a.buffer === b.buffer, 'consecutive small messages come from one slab');
    assert.equal(a.buffer.byteLength, 64 * 1024);
    assert.ok(b.byteOffset >= a.byteOffset + a.length, 'regions do not overlap');
    assert.equal(c.buffer.byteLength, 64 * 1024, '16 KiB is lent from a slab');
    assert.equal(d.buffer.byteLength, 16 * 1024 + 1, 'over 16 KiB: a Buffer of its own');
  });

  it('a connection that is between messages holds no slab: the next message starts a new one', () => {
    const parser = new FrameParser();
    const first = h.binary(crypto.randomBytes(3000));
    const second = h.binary(crypto.randomBytes(3000));
    const a = [...parser.push(copy(first.subarray(0, 100))), ...parser.push(copy(first.subarray(100)))];
    const b = [...parser.push(copy(second.subarray(0, 100))), ...parser.push(copy(second.subarray(100)))];
    assert.ok(a[0].data.buffer !== b[0].data.buffer);
  });

  it('text spanning chunks from a slab is validated: valid UTF-8 arrives, invalid is 1007', () => {
    const { payloads, got } = straddling([2000, 6000, 10000], true);
    got.forEach((e, i) => assert.equal(e.data.toString(), payloads[i].toString()));
    const parser = new FrameParser();
    const bad = h.text(Buffer.concat([Buffer.from('a'.repeat(3000)), Buffer.from([0xff]), Buffer.from('b'.repeat(3000))]));
    parser.push(copy(bad.subarray(0, 1000)));
    assert.throws(() => parser.push(copy(bad.subarray(1000))), isProtocolError(1007));
  });
});
