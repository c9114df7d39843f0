'use strict';

// Every default and every option check of the JS layer: the per-connection
// options (shared by WebSocketServer, accept() and the client), the options
// only a server, accept() or a client has, and the argument checks they are
// built from. A default is written here and nowhere else (those the core
// defines too — header limit, protocol version, deflate — come from it).

const { typeError, rangeError } = require('./errors');
const { LIMITS, DEFLATE } = require('./abi');

const MiB = 1024 * 1024;

/** Defaults, by option name. */
const DEFAULTS = Object.freeze({
  // Per connection.
  maxPayload: 100 * MiB,
  closeTimeout: 30 * 1000,
  autoPong: true,
  idleTimeout: 0,
  maxBackpressure: 0,
  backpressurePolicy: 'drop',
  // accept(): time to receive the request, and its header block limit.
  handshakeTimeout: 10 * 1000,
  maxHeaderBytes: LIMITS.DEFAULT_MAX_HEADER_BYTES,
  // Client.
  clientHandshakeTimeout: 0,
  maxRedirects: 10,
  protocolVersion: LIMITS.PROTOCOL_VERSION,
  clientPerMessageDeflate: true,
  // permessage-deflate (RFC 7692), as in ws; the core's numbers.
  deflateLevel: DEFLATE.DEFAULT_LEVEL,
  deflateMemLevel: DEFLATE.DEFAULT_MEM_LEVEL,
  deflateThreshold: DEFLATE.DEFAULT_THRESHOLD,
});

const BACKPRESSURE_POLICIES = ['drop', 'close'];

/**
 * How a value reads in an error message.
 * @param {*} value
 * @returns {string}
 */
function describe(value) {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an instance of ${value.constructor ? value.constructor.name : 'Object'}`;
  return `${typeof value} ${String(value)}`;
}

/**
 * Throws unless `value` is a number (not NaN) of at least `min`.
 * @param {*} value
 * @param {string} name the option's name, as the user wrote it
 * @param {number} [min] default 0
 */
function checkNumber(value, name, min = 0) {
  if (typeof value !== 'number' || Number.isNaN(value)) throw typeError(`${name}: must be a number, got ${describe(value)}`);
  if (value < min) throw rangeError(`${name}: must be >= ${min}, got ${value}`);
}

/**
 * Throws unless `value` is an integer of at least `min`.
 * @param {*} value
 * @param {string} name
 * @param {number} [min] default 0
 * @param {string} [what] how the rule reads in the message
 */
function checkInteger(value, name, min = 0, what = min === 0 ? 'a non-negative integer' : `an integer >= ${min}`) {
  if (!Number.isInteger(value) || value < min) throw rangeError(`${name}: must be ${what}, got ${value}`);
}

/**
 * Throws unless `options` is an object (or undefined, when allowed).
 * @param {*} options
 * @param {string} [name]
 */
function checkObject(options, name = 'options') {
  if (options === null || typeof options !== 'object') throw typeError(`${name}: must be an object`);
}

/**
 * WebSocketServer's options with ws 8's defaults filled in (what
 * `server.options` shows); the per-connection ones are checked by
 * connectionOptions(), the handshake's by ServerHandshake.
 * @param {object} options
 * @returns {object}
 */
function serverOptions(options) {
  checkObject(options);
  return {
    maxPayload: DEFAULTS.maxPayload,
    closeTimeout: DEFAULTS.closeTimeout,
    autoPong: DEFAULTS.autoPong,
    clientTracking: true,
    perMessageDeflate: false,
    handleProtocols: null,
    verifyClient: null,
    path: null,
    host: null,
    port: null,
    server: null,
    noServer: false,
    backlog: null,
    ...options,
  };
}

/**
 * The per-connection options shared by WebSocketServer, accept() and the
 * client, checked, with defaults filled in.
 * @param {object} options
 * @returns {{ maxPayload: number, closeTimeout: number, autoPong: boolean, idleTimeout: number, maxBackpressure: number, backpressurePolicy: 'drop'|'close' }}
 */
function connectionOptions(options) {
  const picked = {
    maxPayload: options.maxPayload === undefined ? DEFAULTS.maxPayload : options.maxPayload,
    closeTimeout: options.closeTimeout === undefined ? DEFAULTS.closeTimeout : options.closeTimeout,
    autoPong: options.autoPong === undefined ? DEFAULTS.autoPong : !!options.autoPong,
    idleTimeout: options.idleTimeout === undefined ? DEFAULTS.idleTimeout : options.idleTimeout,
    maxBackpressure: options.maxBackpressure === undefined ? DEFAULTS.maxBackpressure : options.maxBackpressure,
    backpressurePolicy: options.backpressurePolicy === undefined ? DEFAULTS.backpressurePolicy : options.backpressurePolicy,
  };
  checkNumber(picked.maxPayload, 'maxPayload');
  checkNumber(picked.closeTimeout, 'closeTimeout');
  checkNumber(picked.idleTimeout, 'idleTimeout');
  checkNumber(picked.maxBackpressure, 'maxBackpressure');
  if (!BACKPRESSURE_POLICIES.includes(picked.backpressurePolicy)) {
    throw rangeError(`backpressurePolicy: must be 'drop' or 'close', got ${describe(picked.backpressurePolicy)}`);
  }
  return picked;
}

module.exports = { DEFAULTS, describe, checkNumber, checkInteger, checkObject, connectionOptions, serverOptions };
