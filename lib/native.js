'use strict';

// Loads the addon (the local build, else the platform's prebuilt: see
// lib/addon-file.js), refuses one built for another table layout (ABI_VERSION),
// and wraps every export once, so that whatever a call throws reaches JS as
// an error of lib/errors.js: the addon throws only errors whose message is
// `native-ws|<kind>|<code>|<number>|<message>` (see src/binding/mod.rs), and
// translateError() is their one decoder. The numeric constants the addon
// exports (table layouts, opcodes, close codes, limits) pass through as they
// are; lib/abi.js is their reader.

const errors = require('./errors');
const { addonFiles } = require('./addon-file');

/** The table layout this JS was written for; src/abi.rs ABI_VERSION. */
const EXPECTED_ABI_VERSION = 1;

let raw;
let loadError;
for (const file of addonFiles()) {
  try {
    raw = require(file);
    break;
  } catch (err) {
    // Report the first file that exists but fails, else the first missing one.
    if (!loadError || (loadError.code === 'MODULE_NOT_FOUND' && err.code !== 'MODULE_NOT_FOUND')) loadError = err;
  }
}
if (!raw) {
  throw errors.addonLoadError(
    'native-ws: the native addon is missing or failed to load. In an app, run `npm rebuild native-ws` ' +
      '(it uses the prebuilt addon for this platform if the package has one, or builds from source with ' +
      'cargo: https://rustup.rs); in a clone of native-ws, run `npm run build`. Cause: ' + loadError.message,
    loadError
  );
}
if (raw.ABI_VERSION !== EXPECTED_ABI_VERSION) {
  throw errors.addonLoadError(
    `native-ws: the native addon speaks table ABI ${raw.ABI_VERSION}, this JavaScript ABI ${EXPECTED_ABI_VERSION}. ` +
      'In an app, run `npm rebuild native-ws`; in a clone of native-ws, rebuild it from this source tree with `npm run build`.',
    undefined
  );
}

const PREFIX = 'native-ws|';

/**
 * The lib/errors.js error for one the addon threw; anything else unchanged.
 * @param {unknown} err
 * @returns {unknown}
 */
function translateError(err) {
  const message = err !== null && typeof err === 'object' && typeof err.message === 'string' ? err.message : '';
  if (!message.startsWith(PREFIX)) {
    // napi-rs refused to convert an argument before any of our code ran.
    const napiCode = err !== null && typeof err === 'object' ? err.code : undefined;
    if (typeof napiCode === 'string' && (napiCode === 'InvalidArg' || napiCode.endsWith('Expected'))) {
      return errors.argumentError('TypeError', `native-ws: an argument has the wrong type (${message})`, 'ERR_INVALID_ARG_TYPE');
    }
    return err;
  }
  const fields = message.slice(PREFIX.length);
  const kindEnd = fields.indexOf('|');
  const codeEnd = fields.indexOf('|', kindEnd + 1);
  const numberEnd = fields.indexOf('|', codeEnd + 1);
  const kind = fields.slice(0, kindEnd);
  const code = fields.slice(kindEnd + 1, codeEnd);
  const number = Number(fields.slice(codeEnd + 1, numberEnd));
  const text = fields.slice(numberEnd + 1);
  switch (kind) {
    case 'TypeError':
    case 'RangeError':
      return errors.argumentError(kind, text, code);
    case 'Protocol':
      return errors.protocolError(text, code, number);
    case 'Handshake':
      return errors.handshakeError(text, number);
    case 'Response':
      return errors.handshakeError(text);
    case 'Panic':
      return errors.panicError(text);
    default:
      return errors.withCode(errors.panicError(text), code);
  }
}

/**
 * Calls an addon function, translating its errors. Kept for callers that
 * still pass the raw function; the exports of `addon` already translate.
 * @param {Function} fn
 * @param {...any} args
 */
function call(fn, ...args) {
  try {
    return fn(...args);
  } catch (err) {
    throw translateError(err);
  }
}

/**
 * An export wrapped so that it throws only translated errors. Fixed arities,
 * so that no call allocates an arguments array.
 * @param {Function} fn
 * @returns {Function}
 */
function wrap(fn) {
  return function translated(a, b, c, d, e) {
    try {
      return fn(a, b, c, d, e);
    } catch (err) {
      throw translateError(err);
    }
  };
}

/** A server refusal as the JS callers take it (status and message). */
function refusal(err) {
  return { status: err.statusCode || 400, message: err.message };
}

/**
 * The Handshake error an addon call threw, as a refusal object; anything
 * else rethrown.
 */
function refused(err) {
  const translated = translateError(err);
  if (translated && translated.code === 'WS_ERR_HANDSHAKE' && translated.statusCode !== undefined) {
    return refusal(translated);
  }
  throw translated;
}

/** The streaming frame parser of one connection (src/binding/parser.rs). */
class StreamParser {
  /**
   * @param {boolean} client
   * @param {number} maxPayload 0: no limit
   * @param {boolean} [skipUTF8Validation]
   * @param {number} [maxFragments] data frames per message, 0: no limit
   * @param {number} [maxBufferedChunks] socket chunks per frame, 0: no limit
   */
  constructor(client, maxPayload, skipUTF8Validation = false, maxFragments = 0, maxBufferedChunks = 0) {
    try {
      this._native = new raw.StreamParser(client, maxPayload, skipUTF8Validation, maxFragments, maxBufferedChunks);
    } catch (err) {
      throw translateError(err);
    }
    // The limits it was made with: a released parser serves only a connection with the same.
    this.client = client;
    this.maxPayload = maxPayload;
    this.skipUTF8Validation = skipUTF8Validation;
    this.maxFragments = maxFragments;
    this.maxBufferedChunks = maxBufferedChunks;
  }

  /**
   * Whether this parser was made with these limits.
   * @returns {boolean}
   */
  hasLimits(client, maxPayload, skipUTF8Validation, maxFragments, maxBufferedChunks) {
    return this.client === client && this.maxPayload === maxPayload && this.skipUTF8Validation === skipUTF8Validation &&
      this.maxFragments === maxFragments && this.maxBufferedChunks === maxBufferedChunks;
  }

  /** Drops all it holds (inflater included) and becomes as new, with the same limits. */
  release() {
    try {
      this._native.release();
    } catch (err) {
      throw translateError(err);
    }
  }

  /**
   * Parses chunk[start..] into a record table (lib/abi.js reads it); throws
   * the ProtocolError of a violation, after the records that precede it.
   * @param {Buffer} chunk
   * @param {number} start
   * @param {Uint32Array} table
   * @returns {Buffer[] | null} the Buffers owned records point at
   */
  parse(chunk, start, table) {
    try {
      return this._native.parse(chunk, start, table);
    } catch (err) {
      throw translateError(err);
    }
  }

  /**
   * @param {number} windowBits
   * @param {boolean} noContextTakeover
   */
  enableInflate(windowBits, noContextTakeover) {
    try {
      this._native.enableInflate(windowBits, noContextTakeover);
    } catch (err) {
      throw translateError(err);
    }
  }

  /** Bytes held natively for incomplete frames or messages. */
  get bufferedBytes() {
    return this._native.bufferedBytes;
  }

  /** Test hook: the next parse() panics inside the addon. */
  _testOnlyPanicOnNextParse() {
    this._native._testOnlyPanicOnNextParse();
  }
}

/** The compressor of one connection's outgoing messages. */
class Deflater {
  constructor(level, memLevel, windowBits, noContextTakeover) {
    try {
      this._native = new raw.Deflater(level, memLevel, windowBits, noContextTakeover);
    } catch (err) {
      throw translateError(err);
    }
  }

  /**
   * @param {Buffer} data a whole message
   * @returns {Buffer}
   */
  compress(data) {
    try {
      return this._native.compress(data);
    } catch (err) {
      throw translateError(err);
    }
  }

  /** Frees the compression context of an idle connection. */
  release() {
    this._native.release();
  }
}

const addon = { StreamParser, Deflater };
for (const name of Object.keys(raw)) {
  if (name in addon) continue;
  addon[name] = typeof raw[name] === 'function' ? wrap(raw[name]) : raw[name];
}

// Handshake results in the shapes the JS callers take: a success carries
// status 0; a refusal ({ status, message, headers }) comes back as a value.

/**
 * A refusal the addon returned, in the shape of a successful check (no key,
 * no offers) so that callers read one shape.
 * @param {{ status: number, message: string, headers?: Record<string, string> }} refusal
 */
function refusedUpgrade(refusal) {
  return { status: refusal.status, message: refusal.message, headers: refusal.headers || undefined, key: '', protocols: [], extensions: undefined, protocolRefusal: undefined };
}

/**
 * A valid upgrade's offers with status 0 (the addon returns them without one).
 * @param {object} result
 */
function validUpgrade(result) {
  result.status = 0;
  if (result.protocolRefusal === null) result.protocolRefusal = undefined;
  return result;
}

/**
 * Wraps one of the addon's upgrade validators: errors translated, and an
 * object result (valid offers or a refusal) brought to the one shape callers
 * read; other results (incomplete, the bare key) pass through.
 * @param {Function} validate
 */
function upgradeValidator(validate) {
  return function checkedUpgrade(...args) {
    let result;
    try {
      result = validate(...args);
    } catch (err) {
      throw translateError(err);
    }
    if (result === null || typeof result !== 'object') return result;
    return result.status === undefined ? validUpgrade(result) : refusedUpgrade(result);
  };
}

/** (buffer, maxHeaderBytes, table) => 0 | 1 | the upgrade's shape (see refusedUpgrade) */
addon.parseUpgradeInto = upgradeValidator(raw.parseUpgradeInto);
/** (method, versionMinor, joined, count) => null | key | the upgrade's shape */
addon.validateUpgradeJoined = upgradeValidator(raw.validateUpgradeJoined);
/** validateUpgradeJoined for raw headers that do not survive joining (see src/binding/handshake.rs). */
addon.validateUpgrade = upgradeValidator(raw.validateUpgrade);

/** @returns {{ complete: boolean, status: number, message: string, headers?: object } & object} */
addon.parseRequest = function parseRequest(buffer, maxHeaderBytes) {
  let result;
  try {
    result = raw.parseRequest(buffer, maxHeaderBytes);
  } catch (err) {
    throw translateError(err);
  }
  if (result.refusal) return { complete: true, ...refusedUpgrade(result.refusal) };
  result.status = 0;
  result.message = '';
  return result;
};

/** @returns {{ status: number, message?: string, response?: string } & object} */
addon.negotiateDeflate = function negotiateDeflate(header, options) {
  let agreement;
  try {
    agreement = raw.negotiateDeflate(header, options);
  } catch (err) {
    return refused(err);
  }
  if (agreement === null) return { status: 0, message: '', response: undefined };
  return { status: 0, message: '', response: agreement.response, ...agreement.params };
};

module.exports = { addon, call, translateError, ProtocolError: errors.ProtocolError };
