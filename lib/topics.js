'use strict';

// Topics: who is subscribed to what, and publish with frame-once broadcast.
// A publish encodes its frame once (one native call) and queues that same
// Buffer, by reference, to every subscriber's send batch; with
// permessage-deflate it compresses once per group of subscribers whose
// compressors give identical bytes, and once per connection for the others.
// A backplane (lib/backplane.js) carries publishes to other processes.

const { addon } = require('./native');
const { OPCODE, CLOSE, newBatchTable, headerLength, frameFlags, writeBatchEntry } = require('./abi');
const { noTopicsError } = require('./errors');
const { DEFAULTS, checkObject, checkTopic, checkBackplane } = require('./options');
const { WebSocket, toBuffer } = require('./connection/websocket');
const { OPEN, CLOSED } = require('./constants');

/** Longest topic accepted, in UTF-16 code units (as `string.length`). */
const MAX_TOPIC_LENGTH = DEFAULTS.maxTopicLength;

const OP_TEXT = OPCODE.TEXT;
const OP_BINARY = OPCODE.BINARY;

// One-entry send batch table for addon.writeFrameHeaders (layout: lib/abi.js).
const headerTable = newBatchTable();

/**
 * Encodes one whole unmasked frame: the payload is copied once, behind a gap
 * for its header, and the header is written by the core in one native call.
 * @param {string|Buffer} payload
 * @param {number} length payload bytes
 * @param {number} opcode
 * @param {boolean} rsv1
 * @returns {Buffer}
 */
function encodeWholeFrame(payload, length, opcode, rsv1) {
  const gap = headerLength(length, false);
  const frame = Buffer.allocUnsafe(gap + length);
  if (typeof payload === 'string') frame.utf8Write(payload, gap, length);
  else frame.set(payload, gap);
  writeBatchEntry(headerTable, 0, 0, length, frameFlags(opcode, true, rsv1), gap, 0);
  addon.writeFrameHeaders(frame, headerTable, 1);
  return frame;
}

/**
 * A set of topics and their subscribers. `WebSocketServer` has one
 * (`wss.topics`); `accept()` users create one and pass it as `{ topics }`.
 */
class Topics {
  /**
   * @param {object} [options]
   * @param {import('./backplane').Backplane} [options.backplane] carries publishes to and from other processes
   */
  constructor(options = {}) {
    checkObject(options);
    /** @type {Map<string, Set<WebSocket>>} */
    this._subscribers = new Map();
    this._backplane = options.backplane === undefined || options.backplane === null ? null : checkBackplane(options.backplane);
    // Backplane subscribe/unsubscribe calls not finished yet.
    this._pending = new Set();
    this._stopped = false;
    if (this._backplane !== null) {
      const deliver = (topic, payload, binary) => this._deliverLocally(topic, payload, !!binary, true);
      // Started at once, so that it exists before any subscribe() reaches it.
      let started;
      try {
        started = Promise.resolve(this._backplane.start(deliver));
      } catch (err) {
        started = Promise.reject(err);
      }
      this._track(started);
    }
  }

  /** The backplane given to the constructor, or null. */
  get backplane() {
    return this._backplane;
  }

  /**
   * Sends a message to every local subscriber of `topic` and, with a
   * backplane, to the other processes. Never waits: a subscriber over its
   * `maxBackpressure` is skipped (or closed, with policy 'close').
   * @param {string} topic
   * @param {string|Buffer|ArrayBuffer|ArrayBufferView|number} data
   * @param {{ binary?: boolean, compress?: boolean }} [options] binary defaults to `typeof data !== 'string'`; compress to true
   * @returns {number} local subscribers the message was queued to
   */
  publish(topic, data, options) {
    checkTopic(topic);
    if (typeof data === 'number') data = data.toString();
    const isString = typeof data === 'string';
    const payload = isString ? data : toBuffer(data, 'data');
    const binary = options && options.binary !== undefined ? !!options.binary : !isString;
    const compress = !(options && options.compress === false);
    if (this._backplane !== null && !this._stopped) {
      this._backplane.publish(topic, isString ? Buffer.from(payload) : payload, binary);
    }
    return this._deliverLocally(topic, payload, binary, compress);
  }

  /**
   * @param {string} topic
   * @returns {number} local subscribers of `topic`
   */
  subscriberCount(topic) {
    checkTopic(topic);
    const set = this._subscribers.get(topic);
    return set === undefined ? 0 : set.size;
  }

  /** Topics with at least one local subscriber. */
  get topics() {
    return [...this._subscribers.keys()];
  }

  /**
   * Resolves once the backplane has started and every subscribe/unsubscribe
   * it was asked for so far has completed (or failed: see its 'error').
   * @returns {Promise<void>}
   */
  async synced() {
    while (this._pending.size > 0) await Promise.allSettled([...this._pending]);
  }

  /**
   * Stops the backplane (the server's close() does it), without waiting for
   * calls still pending on it. Local subscriptions stay.
   * @returns {Promise<void>}
   */
  async close() {
    if (this._backplane === null || this._stopped) return;
    this._stopped = true;
    await this._backplane.stop();
  }

  _track(promise) {
    const tracked = promise.then(
      () => this._pending.delete(tracked),
      (err) => {
        this._pending.delete(tracked);
        if (this._backplane && typeof this._backplane.emit === 'function' && this._backplane.listenerCount('error') > 0) {
          this._backplane.emit('error', err);
        }
      }
    );
    this._pending.add(tracked);
    return tracked;
  }

  // Frames once and queues to every open local subscriber.
  _deliverLocally(topic, payload, binary, compress) {
    const set = this._subscribers.get(topic);
    if (set === undefined) return 0;
    const opcode = binary ? OP_BINARY : OP_TEXT;
    const isString = typeof payload === 'string';
    const length = isString ? Buffer.byteLength(payload) : payload.length;
    let plain = null;
    let bytes = null;
    let shared = null;
    let recipients = 0;
    for (const ws of set) {
      if (ws._readyState !== OPEN) continue;
      const sender = ws._sender;
      const limit = ws._maxBackpressure;
      if (limit !== 0 && ws._seam.queuedBytes + sender.pendingBytes > limit) {
        // This subscriber reads too slowly: its policy decides, the others go on.
        if (ws._backpressurePolicy === 'close') ws.close(CLOSE.POLICY_VIOLATION, 'backpressure limit exceeded');
        continue;
      }
      recipients++;
      const compressor = ws._compressor;
      if (compressor !== null && compress && length >= compressor.threshold) {
        if (bytes === null) bytes = isString ? Buffer.from(payload) : payload;
        const key = compressor.sharedKey;
        if (key === null) {
          // Context takeover: this connection's compressor state is its own.
          sender.frame(compressor.compress(bytes), opcode, true, true, undefined);
          continue;
        }
        if (shared === null) shared = new Map();
        let frame = shared.get(key);
        if (frame === undefined) {
          const compressed = compressor.compress(bytes);
          frame = [encodeWholeFrame(compressed, compressed.length, opcode, true)];
          shared.set(key, frame);
        }
        sender.sendFrame(frame, undefined);
        continue;
      }
      if (plain === null) plain = [encodeWholeFrame(payload, length, opcode, false)];
      sender.sendFrame(plain, undefined);
    }
    return recipients;
  }

  /**
   * Adds `ws` to `topic`. Internal: use ws.subscribe().
   * @returns {boolean} false if it already was a subscriber
   */
  _add(ws, topic) {
    let set = this._subscribers.get(topic);
    if (set === undefined) {
      set = new Set();
      this._subscribers.set(topic, set);
      if (this._backplane !== null && !this._stopped) this._track(Promise.resolve(this._backplane.subscribe(topic)));
    } else if (set.has(ws)) {
      return false;
    }
    set.add(ws);
    return true;
  }

  /** Removes `ws` from all its topics. Internal: the socket closed. */
  _leaveAll(ws) {
    const topics = ws._topics;
    if (!topics) return;
    ws._topics = null;
    for (const topic of topics) this._remove(ws, topic);
  }

  /** Removes `ws` from `topic`. Internal: use ws.unsubscribe(). */
  _remove(ws, topic) {
    const set = this._subscribers.get(topic);
    if (set === undefined || !set.delete(ws)) return false;
    if (set.size === 0) {
      this._subscribers.delete(topic);
      if (this._backplane !== null && !this._stopped) this._track(Promise.resolve(this._backplane.unsubscribe(topic)));
    }
    return true;
  }
}

/**
 * The hub of a server-side WebSocket, or a clear error.
 * @param {WebSocket} ws
 * @returns {Topics}
 */
function hubOf(ws) {
  if (ws._topicHub === null || ws._topicHub === undefined) throw noTopicsError();
  return ws._topicHub;
}

/**
 * Subscribes this socket to `topic`; a closed socket is never subscribed.
 * @param {string} topic
 * @returns {boolean} true if it was not subscribed before
 */
function subscribe(topic) {
  const hub = hubOf(this);
  checkTopic(topic);
  if (this._readyState === CLOSED || this._closeEmitted) return false;
  if (!hub._add(this, topic)) return false;
  if (this._topics === null || this._topics === undefined) this._topics = new Set();
  this._topics.add(topic);
  return true;
}

/**
 * @param {string} topic
 * @returns {boolean} true if it was subscribed
 */
function unsubscribe(topic) {
  const hub = hubOf(this);
  checkTopic(topic);
  if (!this._topics || !this._topics.delete(topic)) return false;
  hub._remove(this, topic);
  return true;
}

/**
 * @param {string} topic
 * @returns {boolean}
 */
function isSubscribed(topic) {
  checkTopic(topic);
  return !!this._topics && this._topics.has(topic);
}

// The socket-side API lives here, next to the hub it works on.
Object.defineProperties(WebSocket.prototype, {
  subscribe: { value: subscribe, writable: true, configurable: true },
  unsubscribe: { value: unsubscribe, writable: true, configurable: true },
  isSubscribed: { value: isSubscribed, writable: true, configurable: true },
  topics: {
    get() {
      return this._topics ? [...this._topics] : [];
    },
    configurable: true,
  },
});

module.exports = { Topics, MAX_TOPIC_LENGTH, checkTopic, encodeWholeFrame };
