'use strict';

// The only JS reader and writer of the tables shared with the addon: parse
// records (StreamParser#parse), send batches (writeFrameHeaders) and the
// upgrade layout (parseUpgradeInto). Every layout constant, and every
// protocol number JS needs (opcodes, close codes, limits, deflate defaults),
// comes from the addon, which defines them once in src/abi.rs and the core;
// lib/native.js has already checked that its ABI_VERSION is the one read here.

const { addon } = require('./native');

// Parse records: [count, consumed], then [word0, offset, length] per record.
const RECORD_COUNT = addon.RECORD_COUNT;
const RECORD_CONSUMED = addon.RECORD_CONSUMED;
const RECORD_HEADER_WORDS = addon.RECORD_HEADER_WORDS;
const RECORD_WORDS = addon.RECORD_WORDS;
const RECORD_KIND_MASK = addon.RECORD_KIND_MASK;
const RECORD_OWNED = addon.RECORD_OWNED;
const RECORD_COMPRESSED = addon.RECORD_COMPRESSED;
const RECORD_IN_SLAB = addon.RECORD_IN_SLAB;
const RECORD_HIGH_SHIFT = addon.RECORD_HIGH_SHIFT;
const RECORD_TABLE_WORDS = addon.RECORD_TABLE_WORDS;

// Send batches: [header offset, payload length, flags, mask key] per frame.
const BATCH_ENTRY_WORDS = addon.BATCH_ENTRY_WORDS;
const BATCH_FIN = addon.BATCH_FIN;
const BATCH_RSV1 = addon.BATCH_RSV1;
const BATCH_PAYLOAD_ELSEWHERE = addon.BATCH_PAYLOAD_ELSEWHERE;
const BATCH_MASKED = addon.BATCH_MASKED;
const BATCH_GAP_SHIFT = addon.BATCH_GAP_SHIFT;
const BATCH_MAX_ENTRIES = addon.BATCH_MAX_ENTRIES;

// The upgrade layout.
const UPGRADE_BYTES_USED = addon.UPGRADE_BYTES_USED;
const UPGRADE_VERSION_MINOR = addon.UPGRADE_VERSION_MINOR;
const UPGRADE_METHOD = addon.UPGRADE_METHOD;
const UPGRADE_PATH = addon.UPGRADE_PATH;
const UPGRADE_KEY = addon.UPGRADE_KEY;
const UPGRADE_HEADER_COUNT = addon.UPGRADE_HEADER_COUNT;
const UPGRADE_FIXED_WORDS = addon.UPGRADE_FIXED_WORDS;
const UPGRADE_WORDS_PER_HEADER = addon.UPGRADE_WORDS_PER_HEADER;
const UPGRADE_TABLE_WORDS = addon.UPGRADE_TABLE_WORDS;

const MASK_KEY_BYTES = 4;
const FRAME_MAX_7BIT_LENGTH = addon.FRAME_MAX_7BIT_LENGTH;
const FRAME_MAX_16BIT_LENGTH = addon.FRAME_MAX_16BIT_LENGTH;

/** Opcodes (RFC 6455 §5.2). */
const OPCODE = Object.freeze({
  CONTINUATION: addon.OPCODE_CONTINUATION,
  TEXT: addon.OPCODE_TEXT,
  BINARY: addon.OPCODE_BINARY,
  CLOSE: addon.OPCODE_CLOSE,
  PING: addon.OPCODE_PING,
  PONG: addon.OPCODE_PONG,
});

/** Close codes JS sends or reports (RFC 6455 §7.4.1). */
const CLOSE = Object.freeze({
  NORMAL: addon.CLOSE_NORMAL,
  PROTOCOL_ERROR: addon.CLOSE_PROTOCOL_ERROR,
  NO_STATUS: addon.CLOSE_NO_STATUS,
  ABNORMAL: addon.CLOSE_ABNORMAL,
  POLICY_VIOLATION: addon.CLOSE_POLICY_VIOLATION,
  MESSAGE_TOO_BIG: addon.CLOSE_MESSAGE_TOO_BIG,
  INTERNAL_ERROR: addon.CLOSE_INTERNAL_ERROR,
});

/** Limits and fixed numbers of the protocol, as the core has them. */
const LIMITS = Object.freeze({
  MAX_CONTROL_PAYLOAD: addon.MAX_CONTROL_PAYLOAD,
  MAX_CLOSE_REASON_BYTES: addon.MAX_CLOSE_REASON_BYTES,
  PROTOCOL_VERSION: addon.PROTOCOL_VERSION,
  MAX_HEADER_COUNT: addon.MAX_HEADER_COUNT,
  DEFAULT_MAX_HEADER_BYTES: addon.DEFAULT_MAX_HEADER_BYTES,
});

/** permessage-deflate defaults and ranges (RFC 7692, ws's options). */
const DEFLATE = Object.freeze({
  MIN_WINDOW_BITS: addon.DEFLATE_MIN_WINDOW_BITS,
  MAX_WINDOW_BITS: addon.DEFLATE_MAX_WINDOW_BITS,
  DEFAULT_LEVEL: addon.DEFLATE_DEFAULT_LEVEL,
  DEFAULT_MEM_LEVEL: addon.DEFLATE_DEFAULT_MEM_LEVEL,
  DEFAULT_THRESHOLD: addon.DEFLATE_DEFAULT_THRESHOLD,
});

/**
 * Whether a close code may be sent (RFC 6455 §7.4), by the core's rule.
 * @param {number} code
 * @returns {boolean}
 */
function isSendableCloseCode(code) {
  return Number.isInteger(code) && code >= 0 && code <= 0xffff && addon.isSendableCloseCode(code);
}

// ---------------------------------------------------------------------------
// Parse records
// ---------------------------------------------------------------------------

/** A fresh parse record table. */
function newRecordTable() {
  return new Uint32Array(RECORD_TABLE_WORDS);
}

/**
 * Records in a filled table, and where the next parse() starts (for callers
 * that count records without dispatching them, as bench/ does).
 * @param {Uint32Array} table
 */
function recordCount(table) {
  return table[RECORD_COUNT];
}

/** @param {Uint32Array} table */
function recordsConsumed(table) {
  return table[RECORD_CONSUMED];
}

/**
 * Hands each record StreamParser#parse wrote into `table` to
 * `receiver._record(kind, data, compressed, closeCode)`; kind is the opcode
 * (text, binary, close, ping, pong) and closeCode is meaningful for close.
 * @param {Buffer} chunk the chunk parse() read
 * @param {Buffer[] | null} owned what parse() returned
 * @param {Uint32Array} table
 * @param {{ _record: Function, _stopped: boolean }} receiver
 * @returns {number} where the next parse() of this chunk starts, or -1 once the receiver stopped
 */
function dispatchRecords(chunk, owned, table, receiver) {
  const count = table[RECORD_COUNT];
  for (let i = 0, at = RECORD_HEADER_WORDS; i < count; i++, at += RECORD_WORDS) {
    const word0 = table[at];
    const offset = table[at + 1];
    const length = table[at + 2];
    const data = (word0 & RECORD_OWNED) === 0
      ? chunk.subarray(offset, offset + length)
      : (word0 & RECORD_IN_SLAB) === 0
        ? owned[offset]
        : owned[word0 >>> RECORD_HIGH_SHIFT].subarray(offset, offset + length);
    receiver._record(word0 & RECORD_KIND_MASK, data, (word0 & RECORD_COMPRESSED) !== 0, word0 >>> RECORD_HIGH_SHIFT);
    if (receiver._stopped) return -1;
  }
  return table[RECORD_CONSUMED];
}

// ---------------------------------------------------------------------------
// Send batches
// ---------------------------------------------------------------------------

/** A fresh send batch table, for `BATCH_MAX_ENTRIES` frames. */
function newBatchTable() {
  return new Uint32Array(BATCH_MAX_ENTRIES * BATCH_ENTRY_WORDS);
}

/**
 * The header length the addon writes for a payload; writeFrameHeaders
 * refuses a gap of any other length, so a slip here cannot corrupt a frame.
 * @param {number} length
 * @param {boolean} masked
 */
function headerLength(length, masked) {
  return (length <= FRAME_MAX_7BIT_LENGTH ? 2 : length <= FRAME_MAX_16BIT_LENGTH ? 4 : 10) + (masked ? MASK_KEY_BYTES : 0);
}

/**
 * The flags word of a frame (without the gap).
 * @param {number} opcode
 * @param {boolean} fin
 * @param {boolean} rsv1
 */
function frameFlags(opcode, fin, rsv1) {
  return opcode | (fin ? BATCH_FIN : 0) | (rsv1 ? BATCH_RSV1 : 0);
}

/**
 * Writes entry `index` of a batch table.
 * @param {Uint32Array} table
 * @param {number} index
 * @param {number} headerAt where the header goes in the slab
 * @param {number} length payload length
 * @param {number} flags from frameFlags(), with BATCH_MASKED or BATCH_PAYLOAD_ELSEWHERE added
 * @param {number} gap the header length left before the payload
 * @param {number} maskKey the masking key as a little-endian uint32 (masked frames)
 */
function writeBatchEntry(table, index, headerAt, length, flags, gap, maskKey) {
  const at = index * BATCH_ENTRY_WORDS;
  table[at] = headerAt;
  table[at + 1] = length;
  table[at + 2] = flags | (gap << BATCH_GAP_SHIFT);
  table[at + 3] = maskKey;
}

// ---------------------------------------------------------------------------
// The upgrade layout
// ---------------------------------------------------------------------------

/** A fresh upgrade layout table. */
function newUpgradeTable() {
  return new Uint32Array(UPGRADE_TABLE_WORDS);
}

/**
 * Bytes the request head took, from a filled layout.
 * @param {Uint32Array} table
 */
function upgradeBytesUsed(table) {
  return table[UPGRADE_BYTES_USED];
}

/**
 * The parts of a request from a filled layout; `head` is its header block
 * as Latin-1 text (where the layout's offsets point).
 * @param {Uint32Array} table
 * @param {string} head
 * @returns {{ method: string, url: string, httpVersion: string, key: string, spans: number[] }}
 *   spans: name start, end, value start, end per header
 */
function readUpgradeLayout(table, head) {
  const words = UPGRADE_WORDS_PER_HEADER * table[UPGRADE_HEADER_COUNT];
  const spans = new Array(words);
  for (let i = 0; i < words; i++) spans[i] = table[UPGRADE_FIXED_WORDS + i];
  return {
    method: head.slice(table[UPGRADE_METHOD], table[UPGRADE_METHOD + 1]),
    url: head.slice(table[UPGRADE_PATH], table[UPGRADE_PATH + 1]),
    httpVersion: `1.${table[UPGRADE_VERSION_MINOR]}`,
    key: head.slice(table[UPGRADE_KEY], table[UPGRADE_KEY + 1]),
    spans,
  };
}

module.exports = {
  OPCODE,
  CLOSE,
  LIMITS,
  DEFLATE,
  isSendableCloseCode,
  newRecordTable,
  recordCount,
  recordsConsumed,
  dispatchRecords,
  BATCH_MAX_ENTRIES,
  BATCH_MASKED,
  BATCH_PAYLOAD_ELSEWHERE,
  newBatchTable,
  headerLength,
  frameFlags,
  writeBatchEntry,
  UPGRADE_TABLE_WORDS,
  newUpgradeTable,
  upgradeBytesUsed,
  readUpgradeLayout,
};
