'use strict';

// A backplane (see lib/backplane.js) on Redis pub/sub, with the official
// `redis` client (node-redis), loaded only when a backplane is made.
//
// One Redis channel per topic (`prefix + topic`): Redis sends a process only
// the topics it has local subscribers for, so a process never receives and
// throws away the traffic of topics nobody there listens to. The cost is one
// SUBSCRIBE per topic a process starts to need (and an UNSUBSCRIBE when its
// last local subscriber leaves).
//
// Message: [flags: 1 byte, bit 0 = binary] [id length: 1 byte] [instance id]
// [payload]; binary-safe, the payload is never re-encoded.
//
// While Redis is away: local publishes go on as usual; what is published for
// the other processes waits in a bounded queue (maxQueued messages, oldest
// dropped first and counted in stats.dropped) and is sent, in order, as soon
// as the connection is back. node-redis reconnects on its own and subscribes
// again to every channel it had.

const crypto = require('node:crypto');
const EventEmitter = require('node:events');

const { redisBackplaneOptions } = require('./options');
const { redisMissingError, usageError } = require('./errors');

const FLAG_BINARY = 1;
// Reconnection: 50 ms doubling up to 1 s, so a restarted Redis is found within about a second.
const MAX_RECONNECT_DELAY = 1000;

function reconnectStrategy(retries) {
  return Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY);
}

/**
 * Loads node-redis, or explains how to install it.
 * @returns {typeof import('redis')}
 */
function loadRedis() {
  try {
    return require('redis');
  } catch (cause) {
    if (cause && cause.code !== 'MODULE_NOT_FOUND') throw cause;
    throw redisMissingError(cause);
  }
}

/** A backplane on Redis pub/sub; make one with redisBackplane(). */
class RedisBackplane extends EventEmitter {
  /**
   * @param {object} options see redisBackplane()
   */
  constructor(options) {
    super();
    const { url, client, prefix, maxQueued } = redisBackplaneOptions(options);
    /** This instance's id; its own messages coming back from Redis are dropped by it. */
    this.id = crypto.randomBytes(8).toString('hex');
    this._idBytes = Buffer.from(this.id, 'latin1');
    this._prefix = prefix;
    this._maxQueued = maxQueued;
    this._url = url;
    this._givenClient = client || null;
    this._publisher = null;
    this._subscriber = null;
    this._deliver = null;
    this._listeners = new Map();
    this._queue = [];
    this._stopped = false;
    this.stats = { published: 0, queued: 0, dropped: 0, failed: 0, received: 0 };
    if (url !== undefined) this._redis = loadRedis();
  }

  /** Whether publishes go to Redis now (false: they wait in the queue). */
  get connected() {
    return this._publisher !== null && this._publisher.isReady;
  }

  /**
   * Connects (and keeps reconnecting) and starts delivering.
   * @param {(topic: string, payload: Buffer, binary: boolean) => void} deliver
   * @returns {Promise<void>} resolved once both connections are up
   */
  async start(deliver) {
    if (this._deliver !== null) throw usageError('RedisBackplane: start() was called twice');
    this._deliver = deliver;
    const onError = (err) => {
      // Connection errors are expected while Redis is away; node-redis reconnects.
      if (this.listenerCount('error') > 0) this.emit('error', err);
    };
    if (this._givenClient !== null) {
      this._publisher = this._givenClient;
      this._subscriber = this._givenClient.duplicate();
    } else {
      const options = { url: this._url, disableOfflineQueue: true, socket: { reconnectStrategy } };
      this._publisher = this._redis.createClient(options);
      this._subscriber = this._redis.createClient({ url: this._url, socket: { reconnectStrategy } });
      this._publisher.on('error', onError);
    }
    this._subscriber.on('error', onError);
    this._publisher.on('ready', () => this._flushQueue());
    this._subscriber.on('ready', () => this.emit('ready'));
    const connecting = [this._subscriber.connect()];
    if (!this._publisher.isOpen) connecting.push(this._publisher.connect());
    await Promise.all(connecting);
    this._flushQueue();
  }

  /** Closes the connections it opened (a given client stays open). */
  async stop() {
    if (this._stopped) return;
    this._stopped = true;
    this._queue.length = 0;
    this.stats.queued = 0;
    const closing = [];
    if (this._subscriber !== null) closing.push(closeClient(this._subscriber));
    if (this._publisher !== null && this._givenClient === null) closing.push(closeClient(this._publisher));
    await Promise.all(closing);
  }

  /**
   * Starts receiving what other instances publish on `topic`.
   * @param {string} topic
   */
  async subscribe(topic) {
    if (this._stopped || this._listeners.has(topic)) return;
    const listener = (message) => this._onMessage(topic, message);
    this._listeners.set(topic, listener);
    await this._subscriber.subscribe(this._prefix + topic, listener, true);
  }

  /** @param {string} topic */
  async unsubscribe(topic) {
    const listener = this._listeners.get(topic);
    if (this._stopped || listener === undefined) return;
    this._listeners.delete(topic);
    await this._subscriber.unsubscribe(this._prefix + topic, listener, true);
  }

  /**
   * Sends to the other instances; queued (bounded) while Redis is away.
   * @param {string} topic
   * @param {Buffer} payload
   * @param {boolean} binary
   */
  publish(topic, payload, binary) {
    if (this._stopped) return;
    const id = this._idBytes;
    const message = Buffer.allocUnsafe(2 + id.length + payload.length);
    message[0] = binary ? FLAG_BINARY : 0;
    message[1] = id.length;
    id.copy(message, 2);
    message.set(payload, 2 + id.length);
    const channel = this._prefix + topic;
    if (this.connected && this._queue.length === 0) this._send(channel, message);
    else this._enqueue(channel, message);
  }

  _send(channel, message) {
    this.stats.published++;
    this._publisher.publish(channel, message).catch((err) => {
      // Lost on the way (the connection dropped meanwhile): not resent, so
      // nothing arrives twice.
      this.stats.failed++;
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  _enqueue(channel, message) {
    if (this._maxQueued === 0) {
      this.stats.dropped++;
      return;
    }
    if (this._queue.length === this._maxQueued * 2) {
      this._queue.splice(0, 2);
      this.stats.dropped++;
    }
    this._queue.push(channel, message);
    this.stats.queued = this._queue.length / 2;
  }

  _flushQueue() {
    if (this._stopped || !this.connected) return;
    const queue = this._queue;
    this._queue = [];
    this.stats.queued = 0;
    for (let i = 0; i < queue.length; i += 2) this._send(queue[i], queue[i + 1]);
  }

  _onMessage(topic, message) {
    if (this._stopped || message.length < 2) return;
    const idLength = message[1];
    if (message.length < 2 + idLength) return;
    // Our own publish, already delivered locally.
    if (idLength === this._idBytes.length && this._idBytes.compare(message, 2, 2 + idLength) === 0) return;
    this.stats.received++;
    this._deliver(topic, message.subarray(2 + idLength), (message[0] & FLAG_BINARY) !== 0);
  }
}

// Closes gracefully when connected; while Redis is away, at once (what is
// waiting for the connection fails instead of holding stop() up).
function closeClient(client) {
  if (!client.isReady && typeof client.destroy === 'function') {
    if (client.isOpen) client.destroy();
    return Promise.resolve();
  }
  const close = typeof client.close === 'function' ? client.close : client.quit;
  return Promise.resolve(close.call(client)).catch(() => {
    if (typeof client.destroy === 'function' && client.isOpen) client.destroy();
  });
}

/**
 * A backplane on Redis pub/sub for `new WebSocketServer({ backplane })` or
 * `new Topics({ backplane })`.
 * @param {object} options
 * @param {string} [options.url] e.g. redis://127.0.0.1:6379; the backplane opens and closes its connections
 * @param {object} [options.client] a node-redis client to publish with (a duplicate of it subscribes); left open by stop()
 * @param {string} [options.prefix] channel name prefix, default 'native-ws:'
 * @param {number} [options.maxQueued] publishes held while Redis is away, default 1000 (0: drop them)
 * @returns {RedisBackplane}
 */
function redisBackplane(options) {
  return new RedisBackplane(options);
}

module.exports = { redisBackplane, RedisBackplane };
