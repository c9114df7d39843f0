'use strict';

// Loads the addon and turns its tagged errors ("RangeError|…",
// "Protocol|1002|…", "Panic|…") into proper JS errors.

const path = require('node:path');
const { ProtocolError, protocolErrorCode } = require('./errors');

let addon;
try {
  addon = require(path.join(__dirname, '..', 'native-ws.node'));
} catch (err) {
  const hint = new Error(
    'native-ws: the native addon is missing or failed to load. Run `npm install` ' +
      '(it builds the addon with cargo) or `npm run build`. Cause: ' + err.message
  );
  hint.code = 'ERR_NATIVE_WS_ADDON';
  hint.cause = err;
  throw hint;
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
