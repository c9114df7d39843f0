'use strict';

// permessage-deflate (RFC 7692) on the JS side: option handling, the
// negotiation call, and per-connection compressors whose native context is
// freed when the connection goes quiet. Compression and decompression run in
// Rust, synchronously, inside the same calls that frame and parse.

const { addon, call } = require('./native');
const { DEFAULTS, checkInteger } = require('./options');
const { typeError } = require('./errors');

const EXTENSION = 'permessage-deflate';
// A compressor unused for a whole sweep interval frees its native context.
const IDLE_SWEEP_MS = 5000;

/**
 * Turns the `perMessageDeflate` option (false, true or an object, as in ws)
 * into the native options, or null when off. Throws a RangeError naming a bad field.
 * @param {boolean|object|undefined} option
 * @returns {object|null}
 */
function normalizeOptions(option) {
  if (!option) return null;
  const given = option === true ? {} : option;
  if (typeof given !== 'object') {
    throw typeError('perMessageDeflate: must be a boolean or an object');
  }
  const zlib = given.zlibDeflateOptions || {};
  const options = {
    serverNoContextTakeover: !!given.serverNoContextTakeover,
    clientNoContextTakeover: !!given.clientNoContextTakeover,
    serverMaxWindowBits: windowBits(given.serverMaxWindowBits, 'serverMaxWindowBits'),
    clientMaxWindowBits: windowBits(given.clientMaxWindowBits, 'clientMaxWindowBits'),
    level: integer(given.level !== undefined ? given.level : zlib.level !== undefined ? zlib.level : DEFAULTS.deflateLevel, 'level'),
    memLevel: integer(
      given.memLevel !== undefined ? given.memLevel : zlib.memLevel !== undefined ? zlib.memLevel : DEFAULTS.deflateMemLevel,
      'memLevel'
    ),
    threshold: integer(given.threshold !== undefined ? given.threshold : DEFAULTS.deflateThreshold, 'threshold'),
  };
  call(addon.validateDeflateOptions, options);
  return options;
}

function windowBits(value, name) {
  if (value === undefined || value === true) return undefined;
  return integer(value, name);
}

function integer(value, name) {
  checkInteger(value, `perMessageDeflate.${name}`);
  return value;
}

/**
 * Negotiates from the request's Sec-WebSocket-Extensions value.
 * @param {string|undefined} header
 * @param {object|null} options normalized options
 * @returns {{ status: number, message: string } | { status: 0, response: string, params: object } | null}
 *   null when the extension is not in use
 */
function negotiate(header, options) {
  if (!options || !header) return null;
  const result = addon.negotiateDeflate(header, options);
  if (result.status !== 0) return { status: result.status, message: result.message };
  if (!result.response) return null;
  return {
    status: 0,
    response: result.response,
    params: {
      serverNoContextTakeover: result.serverNoContextTakeover,
      clientNoContextTakeover: result.clientNoContextTakeover,
      serverMaxWindowBits: result.serverMaxWindowBits,
      clientMaxWindowBits: result.clientMaxWindowBits,
    },
  };
}

const active = new Set();
let sweepTimer = null;

function sweep() {
  for (const compressor of active) {
    if (compressor._usedSinceSweep) {
      compressor._usedSinceSweep = false;
    } else {
      compressor._native.release();
      active.delete(compressor);
    }
  }
  if (active.size === 0) {
    clearInterval(sweepTimer);
    sweepTimer = null;
  }
}

/** Compresses one connection's outgoing messages. */
class MessageCompressor {
  /**
   * @param {object} options normalized options
   * @param {number} windowBits negotiated window for our messages
   * @param {boolean} noContextTakeover
   */
  constructor(options, windowBits, noContextTakeover) {
    this.threshold = options.threshold;
    this._native = new addon.Deflater(options.level, options.memLevel, windowBits, noContextTakeover);
    this._usedSinceSweep = false;
    // Compressors that reset their context each message and share these
    // settings turn the same message into the same bytes (topics compress a
    // publish once for all of them); null when the context is kept.
    this.sharedKey = noContextTakeover ? `${options.level}/${options.memLevel}/${windowBits}` : null;
  }

  /**
   * The compressed payload of a whole message.
   * @param {Buffer} data
   * @returns {Buffer}
   */
  compress(data) {
    const out = call(this._native.compress.bind(this._native), data);
    this._usedSinceSweep = true;
    if (!active.has(this)) {
      active.add(this);
      if (!sweepTimer) {
        sweepTimer = setInterval(sweep, IDLE_SWEEP_MS);
        sweepTimer.unref();
      }
    }
    return out;
  }

  /** Frees the native context now (connection closed). */
  release() {
    this._native.release();
    active.delete(this);
  }
}

module.exports = { EXTENSION, normalizeOptions, negotiate, MessageCompressor };
