'use strict';

// Every error object native-ws builds: argument errors (TypeError/RangeError
// naming the argument, with Node's codes), protocol violations (ProtocolError
// with ws's WS_ERR_* code and the close code), handshake failures, caught
// native panics, and the few state errors of a WebSocket. Nothing else in lib/
// sets `err.code`. This module depends on nothing.

// Marks the protocol errors built here, whatever their class (ws gives
// RangeError for most rules, Error for invalid UTF-8 and zlib's errors).
const kProtocolError = Symbol('native-ws.protocolError');

/**
 * An error the peer caused; `closeCode` is the code the connection fails
 * with (ws's [kStatusCode]) and `code` is ws's error code for the rule it
 * broke. The errors native-ws emits are the class ws emits for the rule
 * (RangeError, or Error for invalid UTF-8 and corrupt compressed data);
 * `err instanceof ProtocolError` holds for all of them.
 */
class ProtocolError extends RangeError {
  /**
   * @param {string} message
   * @param {number} closeCode
   * @param {string} [code] ws's WS_ERR_* code (default: derived from closeCode)
   */
  constructor(message, closeCode, code = protocolErrorCode(closeCode)) {
    super(message);
    this.name = 'ProtocolError';
    this.closeCode = closeCode;
    this.code = code;
    brand(this);
  }

  static [Symbol.hasInstance](value) {
    return value !== null && typeof value === 'object' && value[kProtocolError] === true;
  }
}

function brand(err) {
  Object.defineProperty(err, kProtocolError, { value: true });
  return err;
}

/**
 * The generic ws error code for a close code, for violations that arrive
 * without a code of their own.
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

/** A refused upgrade request (primitives' parseUpgradeRequest); `statusCode` and `response` say how to answer. */
class HandshakeError extends Error {
  /**
   * @param {number} statusCode
   * @param {string} message
   * @param {string} response the complete HTTP error response
   */
  constructor(statusCode, message, response) {
    super(message);
    this.name = 'HandshakeError';
    this.code = 'WS_ERR_HANDSHAKE';
    this.statusCode = statusCode;
    this.response = response;
  }
}

/**
 * @param {number} statusCode
 * @param {string} message
 * @param {string} response the complete HTTP error response
 * @returns {HandshakeError}
 */
function handshakeRefusal(statusCode, message, response) {
  return new HandshakeError(statusCode, message, response);
}

/**
 * A bad argument or option.
 * @param {'TypeError'|'RangeError'} kind
 * @param {string} message names the argument ("maxPayload: must be …")
 * @param {string} [code] default ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE
 * @returns {TypeError|RangeError}
 */
function argumentError(kind, message, code) {
  if (kind === 'RangeError') return withCode(new RangeError(message), code || 'ERR_OUT_OF_RANGE');
  return withCode(new TypeError(message), code || 'ERR_INVALID_ARG_TYPE');
}

/**
 * @param {string} message names the argument
 * @param {string} [code] default ERR_INVALID_ARG_TYPE
 * @returns {TypeError}
 */
function typeError(message, code = 'ERR_INVALID_ARG_TYPE') {
  return withCode(new TypeError(message), code);
}

/**
 * @param {string} message names the argument
 * @param {string} [code] default ERR_OUT_OF_RANGE
 * @returns {RangeError}
 */
function rangeError(message, code = 'ERR_OUT_OF_RANGE') {
  return withCode(new RangeError(message), code);
}

/**
 * A protocol violation, as ws's receiver builds it: the class ws uses for
 * the rule, ws's message and code, and `closeCode`. zlib's data error keeps
 * zlib's `errno` (-3), as ws passes zlib's error on.
 * @param {string} message
 * @param {string} code ws's WS_ERR_* code (falls back to the close code's generic one)
 * @param {number} closeCode
 * @returns {RangeError|Error} an instance of ProtocolError too
 */
function protocolError(message, code, closeCode) {
  code = code || protocolErrorCode(closeCode);
  const err = code === 'WS_ERR_INVALID_UTF8' || code === 'Z_DATA_ERROR' || closeCode === 1011 ? new Error(message) : new RangeError(message);
  err.code = code;
  if (code === 'Z_DATA_ERROR') err.errno = -3;
  err.closeCode = closeCode;
  return brand(err);
}

/**
 * A panic caught in the native core; the connection it happened on fails
 * with 1011, the process goes on.
 * @param {string} message
 * @returns {Error}
 */
function panicError(message) {
  return withCode(new Error(message), 'ERR_NATIVE_WS_PANIC');
}

/**
 * A failed opening handshake (either side).
 * @param {string} message
 * @param {number} [statusCode] the HTTP status answered or received
 * @returns {Error}
 */
function handshakeError(message, statusCode) {
  const err = withCode(new Error(message), 'WS_ERR_HANDSHAKE');
  if (statusCode !== undefined) err.statusCode = statusCode;
  return err;
}

/**
 * send()/ping()/pong() on a WebSocket that is not open.
 * @param {number} readyState
 * @param {string} stateName
 * @returns {Error}
 */
function notOpenError(readyState, stateName) {
  return withCode(new Error(`WebSocket is not open: readyState ${readyState} (${stateName})`), 'ERR_WS_NOT_OPEN');
}

/**
 * ping()/pong() with more than a control frame holds (ws's message).
 * @param {number} max
 * @returns {RangeError}
 */
function controlPayloadError(max) {
  return withCode(new RangeError(`The data size must not be greater than ${max} bytes`), 'ERR_OUT_OF_RANGE');
}

/**
 * close() with a code that may not be sent (ws's message).
 * @returns {TypeError}
 */
function closeCodeError() {
  return withCode(new TypeError('First argument must be a valid error code number'), 'ERR_INVALID_ARG_VALUE');
}

/**
 * close() with a reason longer than a close frame holds (ws's message).
 * @returns {RangeError}
 */
function closeReasonError() {
  return withCode(new RangeError('The message must not be greater than 123 bytes'), 'ERR_OUT_OF_RANGE');
}

/**
 * close() with a reason that is neither a string nor bytes (ws's message).
 * @returns {TypeError}
 */
function closeReasonTypeError() {
  return withCode(new TypeError('Second argument must be a string or a Uint8Array'), 'ERR_INVALID_ARG_TYPE');
}

/**
 * The socket closed while a Blob given to send() was being read (ws's message).
 * @returns {Error}
 */
function blobClosedError() {
  return new Error('The socket was closed while the blob was being read');
}

/**
 * send() refused because too much is queued for the socket.
 * @param {string} message
 * @returns {Error}
 */
function backpressureError(message) {
  return withCode(new Error(message), 'WS_ERR_BACKPRESSURE');
}

/**
 * The addon could not be loaded.
 * @param {string} message
 * @param {Error} cause
 * @returns {Error}
 */
function addonLoadError(message, cause) {
  const err = withCode(new Error(message), 'ERR_NATIVE_WS_ADDON');
  err.cause = cause;
  return err;
}

/**
 * subscribe()/unsubscribe() on a WebSocket that belongs to no Topics hub.
 * @returns {Error}
 */
function noTopicsError() {
  return withCode(
    new Error(
      'This WebSocket has no topics: topics are for server-side sockets of a WebSocketServer, ' +
        'or of accept(socket, { topics: new Topics() })'
    ),
    'ERR_WS_NO_TOPICS'
  );
}

/**
 * redisBackplane() without the optional `redis` package.
 * @param {Error} cause the failed require
 * @returns {Error}
 */
function redisMissingError(cause) {
  const err = withCode(
    new Error('redisBackplane() needs the official Redis client: run `npm install redis`'),
    'ERR_NATIVE_WS_REDIS_MISSING'
  );
  err.cause = cause;
  return err;
}

/**
 * A bad URL or subprotocol list given to the client (ws throws SyntaxError, as browsers do).
 * @param {string} message
 * @returns {SyntaxError}
 */
function syntaxError(message) {
  return new SyntaxError(message);
}

/**
 * A misuse of the API that ws reports with a plain Error (no code): a server
 * in the wrong mode, a socket handled twice, a callback's bad answer.
 * @param {string} message
 * @returns {Error}
 */
function usageError(message) {
  return new Error(message);
}

/**
 * Adds a code to an error (a cause that reaches a user in a handshake failure).
 * @template {Error} E
 * @param {E} err
 * @param {string} code
 * @returns {E}
 */
function withCode(err, code) {
  err.code = code;
  return err;
}

module.exports = {
  ProtocolError,
  HandshakeError,
  handshakeRefusal,
  protocolErrorCode,
  argumentError,
  typeError,
  rangeError,
  protocolError,
  panicError,
  handshakeError,
  notOpenError,
  controlPayloadError,
  closeCodeError,
  closeReasonError,
  closeReasonTypeError,
  blobClosedError,
  backpressureError,
  addonLoadError,
  noTopicsError,
  redisMissingError,
  usageError,
  syntaxError,
  withCode,
};
