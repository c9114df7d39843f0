'use strict';

// Every default and every option check of the JS layer: the per-connection
// options (shared by WebSocketServer, accept() and the client), the options
// only a server, accept() or a client has, and the argument checks they are
// built from. A default is written here and nowhere else (those the core
// defines too — header limit, protocol version, deflate — come from it).

const { typeError, rangeError } = require('./errors');
const { LIMITS, DEFLATE } = require('./abi');
const { BACKPLANE_METHODS } = require('./backplane');

const MiB = 1024 * 1024;

/** Defaults, by option name. */
const DEFAULTS = Object.freeze({
  // Per connection.
  maxPayload: 100 * MiB,
  closeTimeout: 30 * 1000,
  // After the close frames are exchanged and our FIN is sent: how long the peer gets to close TCP.
  closeGraceTimeout: 3 * 1000,
  autoPong: true,
  idleTimeout: 0,
  maxBackpressure: 0,
  backpressurePolicy: 'drop',
  // ws 8's receiver options and DoS limits (8.21-8.23); a count of 0 or less
  // (after ws's int32 coercion) turns a limit off.
  allowSynchronousEvents: true,
  skipUTF8Validation: false,
  maxFragments: 16 * 1024,
  maxBufferedChunks: 256 * 1024,
  maxPendingAutoPongs: 60,
  // accept() and the server made for `port`: time to receive the request;
  // accept(): its header block limit.
  handshakeTimeout: 10 * 1000,
  maxHeaderBytes: LIMITS.DEFAULT_MAX_HEADER_BYTES,
  // Client.
  clientHandshakeTimeout: 0,
  maxRedirects: 10,
  protocolVersion: LIMITS.PROTOCOL_VERSION,
  clientPerMessageDeflate: true,
  // Topics (lib/topics.js) and the Redis backplane (lib/redis-backplane.js).
  maxTopicLength: 1024,
  redisPrefix: 'native-ws:',
  redisMaxQueued: 1000,
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
 * @param {object} [options] missing: as ws, the error that names the three modes
 * @param {Function} BaseWebSocket the WebSocket class: the default of the
 *   `WebSocket` option, which must be it or a class that extends it
 * @returns {object}
 */
function serverOptions(options, BaseWebSocket) {
  if (options !== undefined && options !== null) checkObject(options);
  const merged = {
    allowSynchronousEvents: DEFAULTS.allowSynchronousEvents,
    autoPong: DEFAULTS.autoPong,
    maxBufferedChunks: DEFAULTS.maxBufferedChunks,
    maxFragments: DEFAULTS.maxFragments,
    maxPayload: DEFAULTS.maxPayload,
    maxPendingAutoPongs: DEFAULTS.maxPendingAutoPongs,
    skipUTF8Validation: DEFAULTS.skipUTF8Validation,
    closeTimeout: DEFAULTS.closeTimeout,
    handshakeTimeout: DEFAULTS.handshakeTimeout,
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
    WebSocket: BaseWebSocket,
    ...options,
  };
  const modes = [merged.port != null, !!merged.server, !!merged.noServer].filter(Boolean).length;
  if (modes !== 1) throw typeError('One and only one of the "port", "server", or "noServer" options must be specified');
  if (merged.WebSocket === undefined || merged.WebSocket === null) merged.WebSocket = BaseWebSocket;
  const WebSocketClass = merged.WebSocket;
  if (typeof WebSocketClass !== 'function' || (WebSocketClass !== BaseWebSocket && !(WebSocketClass.prototype instanceof BaseWebSocket))) {
    throw typeError('WebSocket: must be the WebSocket class or a class that extends it');
  }
  checkNumber(merged.handshakeTimeout, 'handshakeTimeout');
  return merged;
}

/**
 * Throws unless `value` is undefined, null or an instance of `Class`.
 * @param {*} value
 * @param {Function} Class
 * @param {string} name the option's name
 * @param {string} what how the expected value reads in the message
 */
function checkOptionalInstance(value, Class, name, what) {
  if (value !== undefined && value !== null && !(value instanceof Class)) throw typeError(`${name}: must be ${what}`);
}

/**
 * A numeric limit as ws reads it: a number (TypeError otherwise), coerced to
 * an int32 with `| 0` as ws does, so 0, a negative value or 2^32 turn the
 * limit off.
 * @param {*} value
 * @param {number} fallback the default when undefined
 * @param {string} name
 * @returns {number}
 */
function int32Option(value, fallback, name) {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) throw typeError(`${name}: must be a number, got ${describe(value)}`);
  return value | 0;
}

/**
 * The per-connection options shared by WebSocketServer, accept() and the
 * client, checked, with defaults filled in.
 * @param {object} options
 * @returns {{ maxPayload: number, closeTimeout: number, closeGraceTimeout: number, autoPong: boolean, idleTimeout: number,
 *   maxBackpressure: number, backpressurePolicy: 'drop'|'close', allowSynchronousEvents: boolean, skipUTF8Validation: boolean,
 *   maxFragments: number, maxBufferedChunks: number, maxPendingAutoPongs: number }}
 */
function connectionOptions(options) {
  const picked = {
    allowSynchronousEvents: options.allowSynchronousEvents === undefined ? DEFAULTS.allowSynchronousEvents : !!options.allowSynchronousEvents,
    skipUTF8Validation: options.skipUTF8Validation === undefined ? DEFAULTS.skipUTF8Validation : !!options.skipUTF8Validation,
    maxFragments: int32Option(options.maxFragments, DEFAULTS.maxFragments, 'maxFragments'),
    maxBufferedChunks: int32Option(options.maxBufferedChunks, DEFAULTS.maxBufferedChunks, 'maxBufferedChunks'),
    maxPendingAutoPongs: int32Option(options.maxPendingAutoPongs, DEFAULTS.maxPendingAutoPongs, 'maxPendingAutoPongs'),
    maxPayload: options.maxPayload === undefined ? DEFAULTS.maxPayload : options.maxPayload,
    closeTimeout: options.closeTimeout === undefined ? DEFAULTS.closeTimeout : options.closeTimeout,
    closeGraceTimeout: options.closeGraceTimeout === undefined ? DEFAULTS.closeGraceTimeout : options.closeGraceTimeout,
    autoPong: options.autoPong === undefined ? DEFAULTS.autoPong : !!options.autoPong,
    idleTimeout: options.idleTimeout === undefined ? DEFAULTS.idleTimeout : options.idleTimeout,
    maxBackpressure: options.maxBackpressure === undefined ? DEFAULTS.maxBackpressure : options.maxBackpressure,
    backpressurePolicy: options.backpressurePolicy === undefined ? DEFAULTS.backpressurePolicy : options.backpressurePolicy,
  };
  checkNumber(picked.maxPayload, 'maxPayload');
  checkNumber(picked.closeTimeout, 'closeTimeout');
  checkNumber(picked.closeGraceTimeout, 'closeGraceTimeout');
  checkNumber(picked.idleTimeout, 'idleTimeout');
  checkNumber(picked.maxBackpressure, 'maxBackpressure');
  if (!BACKPRESSURE_POLICIES.includes(picked.backpressurePolicy)) {
    throw rangeError(`backpressurePolicy: must be 'drop' or 'close', got ${describe(picked.backpressurePolicy)}`);
  }
  // The client's generateMask (ws 8): fills each frame's 4-byte masking key; default: the CSPRNG pool.
  if (options.generateMask !== undefined && options.generateMask !== null) {
    if (typeof options.generateMask !== 'function') throw typeError(`generateMask: must be a function, got ${describe(options.generateMask)}`);
    picked.generateMask = options.generateMask;
  }
  return picked;
}

/**
 * Throws unless `topic` is a string of 1 to DEFAULTS.maxTopicLength UTF-16 code units.
 * @param {*} topic
 */
function checkTopic(topic) {
  if (typeof topic !== 'string') throw typeError(`topic: must be a string, got ${topic === null ? 'null' : typeof topic}`);
  if (topic.length === 0 || topic.length > DEFAULTS.maxTopicLength) {
    throw rangeError(`topic: must be 1 to ${DEFAULTS.maxTopicLength} characters long, got ${topic.length}`);
  }
}

/**
 * Throws a TypeError naming the member a backplane (lib/backplane.js) lacks.
 * @param {*} backplane
 * @returns {object} the backplane
 */
function checkBackplane(backplane) {
  if (backplane === null || typeof backplane !== 'object') {
    throw typeError('backplane: must be an object such as redisBackplane({ url })');
  }
  for (const name of BACKPLANE_METHODS) {
    if (typeof backplane[name] !== 'function') throw typeError(`backplane.${name}: must be a function`);
  }
  if (typeof backplane.id !== 'string' || backplane.id.length === 0) throw typeError('backplane.id: must be a non-empty string');
  return backplane;
}

/**
 * redisBackplane()'s options, checked, with defaults filled in.
 * @param {*} options
 * @returns {{ url: string|undefined, client: object|undefined, prefix: string, maxQueued: number }}
 */
function redisBackplaneOptions(options) {
  if (options === null || typeof options !== 'object') throw typeError('options: must be an object with `url` or `client`');
  const { url, client, prefix = DEFAULTS.redisPrefix, maxQueued = DEFAULTS.redisMaxQueued } = options;
  if ((url === undefined) === (client === undefined)) throw typeError('options: give exactly one of `url` or `client`');
  if (url !== undefined && typeof url !== 'string') throw typeError('url: must be a string such as redis://127.0.0.1:6379');
  if (client !== undefined && (client === null || typeof client.duplicate !== 'function' || typeof client.publish !== 'function')) {
    throw typeError('client: must be a node-redis client (createClient())');
  }
  if (typeof prefix !== 'string') throw typeError('prefix: must be a string');
  checkInteger(maxQueued, 'maxQueued', 0, 'an integer >= 0');
  return { url, client, prefix, maxQueued };
}

module.exports = {
  DEFAULTS,
  checkTopic,
  checkBackplane,
  redisBackplaneOptions,
  describe,
  checkNumber,
  checkInteger,
  checkObject,
  checkOptionalInstance,
  connectionOptions,
  serverOptions,
};
