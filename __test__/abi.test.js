'use strict';

// The boundary with the addon: the table constants lib/abi.js reads, the one
// error encoding lib/native.js decodes, and the typed violations (ws's
// WS_ERR_* code, message and close code per rule) that reach JS.

const { describe, it } = require('node:test');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const assert = require('node:assert/strict');
const h = require('./helpers');

const abi = require('../lib/abi');
const { addon, translateError } = require('../lib/native');
const { FrameParser, ProtocolError } = h.lib;

/** A masked client frame, built by hand so that any rule can be broken. */
function clientFrame(first, payload = Buffer.alloc(0), lengthByte = payload.length) {
  const key = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([Buffer.from([first, 0x80 | lengthByte]), key, masked]);
}

/** The error a server-side FrameParser throws for these bytes, at every chunking. */
function violation(original) {
  let first;
  for (const step of [original.length, 1, 2, 3]) {
    // The parser unmasks in place: each pass reads fresh bytes.
    const wire = Buffer.from(original);
    const parser = new FrameParser();
    let err;
    try {
      for (let at = 0; at < wire.length; at += step) parser.push(wire.subarray(at, at + step));
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ProtocolError, `step ${step}: ${err}`);
    if (first) assert.deepEqual([err.code, err.message, err.closeCode], [first.code, first.message, first.closeCode], `step ${step}`);
    first = first || err;
  }
  return first;
}

describe('table ABI', () => {
  it('lib/abi.js reads every layout constant from the addon, and the addon has the version native.js expects', () => {
    assert.equal(addon.ABI_VERSION, 1);
    for (const [name, value] of Object.entries(addon)) {
      if (/^(RECORD|BATCH|UPGRADE)_/.test(name)) assert.ok(Number.isInteger(value), name);
    }
    assert.equal(abi.UPGRADE_TABLE_WORDS, addon.UPGRADE_FIXED_WORDS + addon.UPGRADE_WORDS_PER_HEADER * addon.MAX_HEADER_COUNT);
    assert.equal(abi.newRecordTable().length, addon.RECORD_TABLE_WORDS);
    assert.equal(abi.newBatchTable().length, addon.BATCH_MAX_ENTRIES * addon.BATCH_ENTRY_WORDS);
  });

  it('an addon of another ABI version is refused at load with a clear error', () => {
    // A child process whose require() hands native.js an addon claiming ABI 99.
    const script = `
      const Module = require('module');
      const load = Module._load;
      Module._load = function (request, parent, isMain) {
        if (request.endsWith('native-ws.node')) return { ...load.apply(this, arguments), ABI_VERSION: 99 };
        return load.apply(this, arguments);
      };
      try { require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'native.js'))}); console.log('loaded'); }
      catch (err) { console.log(err.code + ' ' + err.message); }
    `;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    assert.match(out, /^ERR_NATIVE_WS_ADDON native-ws: the native addon speaks table ABI 99, this JavaScript ABI 1\./);
  });

  it('protocol numbers come from the core', () => {
    assert.deepEqual({ ...abi.OPCODE }, { CONTINUATION: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 });
    assert.equal(abi.LIMITS.MAX_CONTROL_PAYLOAD, 125);
    assert.equal(abi.LIMITS.PROTOCOL_VERSION, 13);
    assert.deepEqual([abi.CLOSE.NO_STATUS, abi.CLOSE.ABNORMAL, abi.CLOSE.POLICY_VIOLATION, abi.CLOSE.INTERNAL_ERROR], [1005, 1006, 1008, 1011]);
    for (const code of [1000, 1003, 1007, 1014, 3000, 4999]) assert.equal(abi.isSendableCloseCode(code), true, code);
    for (const code of [999, 1004, 1005, 1006, 1015, 2999, 5000, 70000, 1.5, -1]) assert.equal(abi.isSendableCloseCode(code), false, code);
  });

  it('headerLength matches the header the addon writes: a batch with each length is accepted', () => {
    const slab = Buffer.alloc(70000 + 14);
    const table = abi.newBatchTable();
    for (const [length, masked] of [[0, false], [125, false], [126, true], [65535, false], [65536, true]]) {
      const gap = abi.headerLength(length, masked);
      const flags = abi.frameFlags(abi.OPCODE.BINARY, true, false) | (masked ? abi.BATCH_MASKED : 0);
      abi.writeBatchEntry(table, 0, 0, length, flags, gap, 0x04030201);
      addon.writeFrameHeaders(slab, table, 1);
      assert.throws(() => {
        abi.writeBatchEntry(table, 0, 0, length, flags, gap + 1, 0);
        addon.writeFrameHeaders(slab, table, 1);
      }, (err) => err instanceof RangeError && err.code === 'ERR_OUT_OF_RANGE' && /header gap/.test(err.message));
    }
  });
});

describe('errors cross one way', () => {
  it('every kind the addon throws is decoded into the errors of lib/errors.js', () => {
    const decoded = (message) => translateError(new Error(message));
    const range = decoded('native-ws|RangeError|ERR_OUT_OF_RANGE|0|code: bad');
    assert.ok(range instanceof RangeError);
    assert.deepEqual([range.code, range.message], ['ERR_OUT_OF_RANGE', 'code: bad']);
    const protocol = decoded('native-ws|Protocol|WS_ERR_INVALID_OPCODE|1002|Invalid WebSocket frame: invalid opcode 5 | with a bar');
    assert.ok(protocol instanceof ProtocolError);
    assert.deepEqual([protocol.code, protocol.closeCode, protocol.message], ['WS_ERR_INVALID_OPCODE', 1002, 'Invalid WebSocket frame: invalid opcode 5 | with a bar']);
    const panic = decoded('native-ws|Panic|ERR_NATIVE_WS_PANIC|0|native-ws internal error: boom');
    assert.equal(panic.code, 'ERR_NATIVE_WS_PANIC');
    const handshake = decoded('native-ws|Handshake|WS_ERR_HANDSHAKE|426|unsupported');
    assert.equal(handshake.statusCode, 426);
    assert.throws(() => addon.writeFrameHeaders('not a buffer', abi.newBatchTable(), 1), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    const foreign = new Error('not ours');
    assert.equal(translateError(foreign), foreign);
  });

  it('a caught panic never reaches a user as a raw tagged error', () => {
    const parser = new FrameParser();
    parser._receiver._nativeParser()._testOnlyPanicOnNextParse();
    assert.throws(() => parser.push(clientFrame(0x81, Buffer.from('hi'))), (err) => {
      assert.equal(err.code, 'ERR_NATIVE_WS_PANIC');
      assert.equal(err.closeCode, 1011);
      assert.doesNotMatch(err.message, /native-ws\|/);
      return true;
    });
  });

  it('deflate options are reported under the name and with the value the user gave', () => {
    for (const [options, name, value] of [
      [{ serverMaxWindowBits: 300 }, 'serverMaxWindowBits', 300],
      [{ clientMaxWindowBits: 7 }, 'clientMaxWindowBits', 7],
      [{ memLevel: 256 }, 'memLevel', 256],
      [{ level: 10 }, 'level', 10],
    ]) {
      assert.throws(() => new h.lib.WebSocketServer({ noServer: true, perMessageDeflate: options }), (err) => {
        assert.ok(err instanceof RangeError, String(err));
        assert.equal(err.code, 'ERR_OUT_OF_RANGE');
        assert.match(err.message, new RegExp(`perMessageDeflate\\.${name}: must be between \\d+ and \\d+, got ${value}$`));
        return true;
      });
    }
  });
});

describe('typed violations', () => {
  const cases = [
    ['an unmasked frame', Buffer.from([0x81, 0x00]), 'WS_ERR_EXPECTED_MASK', 'Invalid WebSocket frame: MASK must be set', 1002],
    ['RSV1 without permessage-deflate', clientFrame(0xc1), 'WS_ERR_UNEXPECTED_RSV_1', 'Invalid WebSocket frame: RSV1 must be clear', 1002],
    ['RSV2', clientFrame(0xa1), 'WS_ERR_UNEXPECTED_RSV_2_3', 'Invalid WebSocket frame: RSV2 and RSV3 must be clear', 1002],
    ['a reserved opcode', clientFrame(0x85), 'WS_ERR_INVALID_OPCODE', 'Invalid WebSocket frame: invalid opcode 5', 1002],
    ['a continuation with no message', clientFrame(0x80), 'WS_ERR_INVALID_OPCODE', 'Invalid WebSocket frame: invalid opcode 0', 1002],
    ['a fragmented ping', clientFrame(0x09), 'WS_ERR_EXPECTED_FIN', 'Invalid WebSocket frame: FIN must be set', 1002],
    ['a 126-byte ping', Buffer.concat([clientFrame(0x89, Buffer.alloc(0), 126), Buffer.alloc(2)]), 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 'Invalid WebSocket frame: invalid payload length 126', 1002],
    ['a 1-byte close', clientFrame(0x88, Buffer.from([3])), 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 'Invalid WebSocket frame: invalid payload length 1', 1002],
    ['close code 1005', clientFrame(0x88, Buffer.from([0x03, 0xed])), 'WS_ERR_INVALID_CLOSE_CODE', 'Invalid WebSocket frame: invalid status code 1005', 1002],
    ['invalid UTF-8', clientFrame(0x81, Buffer.from([0xff])), 'WS_ERR_INVALID_UTF8', 'Invalid WebSocket frame: invalid UTF-8 sequence', 1007],
  ];
  for (const [what, wire, code, message, closeCode] of cases) {
    it(`${what}: ${code}`, () => {
      const err = violation(wire);
      assert.deepEqual([err.code, err.message, err.closeCode], [code, message, closeCode]);
    });
  }

  it('over maxPayload: WS_ERR_UNSUPPORTED_MESSAGE_LENGTH with 1009', () => {
    const parser = new FrameParser({ maxPayload: 4 });
    assert.throws(() => parser.push(clientFrame(0x82, Buffer.alloc(5))), { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', closeCode: 1009, message: 'Max payload size exceeded' });
  });

  it('a server frame that is masked: WS_ERR_UNEXPECTED_MASK', () => {
    const parser = new FrameParser({ client: true });
    assert.throws(() => parser.push(clientFrame(0x81)), { code: 'WS_ERR_UNEXPECTED_MASK', message: 'Invalid WebSocket frame: MASK must be clear' });
  });

  it('events before a violation in the same chunk are delivered first', () => {
    const parser = new FrameParser();
    const wire = Buffer.concat([clientFrame(0x81, Buffer.from('ok')), clientFrame(0x85)]);
    assert.throws(() => parser.push(wire), (err) => {
      assert.equal(err.code, 'WS_ERR_INVALID_OPCODE');
      assert.deepEqual(err.events.map((e) => e.data.toString()), ['ok']);
      return true;
    });
  });
});
