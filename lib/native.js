'use strict';

// Loads the addon and turns its tagged errors ("RangeError|…",
// "Protocol|1002|…", "Panic|…") into proper JS errors.

const { addonFiles } = require('./addon-file');

let addon;
let loadError;
for (const file of addonFiles()) {
  try {
    addon = require(file);
    break;
  } catch (err) {
    // Report the first file that exists but fails, else the first missing one.
    if (!loadError || (loadError.code === 'MODULE_NOT_FOUND' && err.code !== 'MODULE_NOT_FOUND')) loadError = err;
  }
}
if (!addon) {
  const hint = new Error(
    'native-ws: the native addon is missing or failed to load. In an app, run `npm rebuild native-ws` ' +
      '(it uses the prebuilt addon for this platform if the package has one, or builds from source with ' +
      'cargo: https://rustup.rs); in a clone of native-ws, run `npm run build`. Cause: ' + loadError.message
  );
  hint.code = 'ERR_NATIVE_WS_ADDON';
  hint.cause = loadError;
  throw hint;
}

/**
 * An error the peer caused; `closeCode` is the code the connection fails with.
 */
class ProtocolError extends Error {
  /**
   * @param {string} message
   * @param {number} closeCode
   */
  constructor(message, closeCode) {
    super(message);
    this.name = 'ProtocolError';
    this.closeCode = closeCode;
    this.code = protocolErrorCode(closeCode);
  }
}

/**
 * The ws-style error code for a close code.
 * @param {number} closeCode
 * @returns {string}
 */
function protocolErrorCode(closeCode) {
  switch (closeCode) {
    case 1007:
      return 'WS_ERR_INVALID_UTF8';
    case 1009:
      return 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
    default:
      return 'WS_ERR_PROTOCOL';
  }
}

/**
 * Converts an error thrown by the addon.
 * @param {Error} err
 * @returns {Error}
 */
function translateError(err) {
  const message = typeof err.message === 'string' ? err.message : '';
  const bar = message.indexOf('|');
  if (bar < 0) return err;
  const kind = message.slice(0, bar);
  const rest = message.slice(bar + 1);
  switch (kind) {
    case 'TypeError':
      return withCode(new TypeError(rest), 'ERR_INVALID_ARG_TYPE');
    case 'RangeError':
      return withCode(new RangeError(rest), 'ERR_OUT_OF_RANGE');
    case 'Protocol': {
      const second = rest.indexOf('|');
      return new ProtocolError(rest.slice(second + 1), Number(rest.slice(0, second)));
    }
    case 'Panic':
      return withCode(new Error(rest), 'ERR_NATIVE_WS_PANIC');
    default:
      return err;
  }
}

function withCode(err, code) {
  err.code = code;
  return err;
}

/**
 * Calls an addon function, translating its errors.
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

module.exports = { addon, call, translateError, ProtocolError, protocolErrorCode };
