'use strict';

// The WHATWG-style surface ws 8 offers beside EventEmitter: the event classes,
// addEventListener/removeEventListener and the onopen/onmessage/onclose/onerror
// attributes. Each is an EventEmitter listener (a wrapper) that builds its
// event object only when it runs, so a socket with plain `on('message')`
// listeners never allocates one.

const { typeError } = require('./errors');

// On a wrapper: the function or handleEvent object it calls.
const kListener = Symbol('native-ws.listener');
// On a wrapper: true when it is the one behind an on<event> attribute.
const kForOnAttribute = Symbol('native-ws.for-on-attribute');
// The event fields are read-only to listeners, as in the WHATWG API.
const kType = Symbol('native-ws.event-type');
const kTarget = Symbol('native-ws.event-target');
const kData = Symbol('native-ws.event-data');
const kCode = Symbol('native-ws.event-code');
const kReason = Symbol('native-ws.event-reason');
const kWasClean = Symbol('native-ws.event-was-clean');
const kError = Symbol('native-ws.event-error');
const kMessage = Symbol('native-ws.event-message');

/** An event with a type and the WebSocket it happened on (`open`). */
class Event {
  /** @param {string} type */
  constructor(type) {
    this[kType] = type;
    this[kTarget] = null;
  }

  /** @type {string} */
  get type() {
    return this[kType];
  }

  /** @type {object|null} the WebSocket, once dispatched */
  get target() {
    return this[kTarget];
  }
}

/** A received message: `data` is a string for text, binaryType's form for binary. */
class MessageEvent extends Event {
  /**
   * @param {string} type
   * @param {{ data?: * }} [init]
   */
  constructor(type, init = {}) {
    super(type);
    this[kData] = init.data === undefined ? null : init.data;
  }

  /** @type {*} */
  get data() {
    return this[kData];
  }
}

/** The end of a connection. */
class CloseEvent extends Event {
  /**
   * @param {string} type
   * @param {{ code?: number, reason?: string, wasClean?: boolean }} [init]
   */
  constructor(type, init = {}) {
    super(type);
    this[kCode] = init.code === undefined ? 0 : init.code;
    this[kReason] = init.reason === undefined ? '' : init.reason;
    this[kWasClean] = init.wasClean === undefined ? false : init.wasClean;
  }

  /** @type {number} */
  get code() {
    return this[kCode];
  }

  /** @type {string} */
  get reason() {
    return this[kReason];
  }

  /** @type {boolean} true when close frames went both ways */
  get wasClean() {
    return this[kWasClean];
  }
}

/** A failure: `error` is what the WebSocket emitted, `message` its message. */
class ErrorEvent extends Event {
  /**
   * @param {string} type
   * @param {{ error?: *, message?: string }} [init]
   */
  constructor(type, init = {}) {
    super(type);
    this[kError] = init.error === undefined ? null : init.error;
    this[kMessage] = init.message === undefined ? '' : init.message;
  }

  /** @type {*} */
  get error() {
    return this[kError];
  }

  /** @type {string} */
  get message() {
    return this[kMessage];
  }
}

// WHATWG attributes are enumerable accessors on the prototype (as in ws, and
// as console.log and structured copies of an event expect).
for (const [Class, names] of [
  [Event, ['type', 'target']],
  [MessageEvent, ['data']],
  [CloseEvent, ['code', 'reason', 'wasClean']],
  [ErrorEvent, ['error', 'message']],
]) {
  for (const name of names) Object.defineProperty(Class.prototype, name, { enumerable: true });
}

/**
 * Builds the event for one EventEmitter event, from its arguments; `ws` is
 * the emitting WebSocket. Types without a maker are not WHATWG events and
 * addEventListener ignores them, as ws does.
 */
const makers = {
  open: () => new Event('open'),
  // Text is a string whatever binaryType says; binary comes as binaryType made it.
  message: (ws, data, isBinary) => new MessageEvent('message', { data: isBinary ? data : data.toString() }),
  close: (ws, code, reason) =>
    new CloseEvent('close', {
      code,
      reason: reason === undefined ? '' : reason.toString(),
      // Clean means the closing handshake completed (RFC 6455 §7.1.4/§7.1.5),
      // which a close code alone does not say.
      wasClean: ws._closeFrameReceived === true && ws._closeFrameSent === true,
    }),
  error: (ws, error) => new ErrorEvent('error', { error, message: error == null ? undefined : error.message }),
};

function callListener(listener, thisArg, event) {
  if (typeof listener === 'function') {
    listener.call(thisArg, event);
    return;
  }
  // An object's handleEvent is looked up at each dispatch, as in the DOM.
  if (typeof listener.handleEvent !== 'function') {
    throw typeError(`listener: the object given to addEventListener('${event.type}') has no handleEvent method`);
  }
  listener.handleEvent(event);
}

function makeWrapper(make, handler) {
  // `this` is the emitting WebSocket, as EventEmitter calls listeners.
  const wrapper = function (a, b) {
    const event = make(this, a, b);
    event[kTarget] = this;
    callListener(handler, this, event);
  };
  wrapper[kListener] = handler;
  return wrapper;
}

const EventTargetMethods = {
  /**
   * Registers a WHATWG-style listener. Adding the same listener for the same
   * type twice registers it once; unknown types and null listeners are ignored.
   * @param {'open'|'message'|'close'|'error'} type
   * @param {Function|{handleEvent: Function}} listener
   * @param {{ once?: boolean }} [options] once: removed after its first call
   */
  addEventListener(type, listener, options) {
    if (listener === null || listener === undefined) return;
    if (typeof listener !== 'function' && typeof listener !== 'object') {
      throw typeError(`listener: must be a function or an object with a handleEvent method, got ${typeof listener}`);
    }
    const make = makers[type];
    if (make === undefined) return;
    const forOnAttribute = options != null && options[kForOnAttribute] === true;
    if (!forOnAttribute) {
      for (const existing of this.listeners(type)) {
        if (existing[kListener] === listener && existing[kForOnAttribute] !== true) return;
      }
    }
    const wrapper = makeWrapper(make, listener);
    if (forOnAttribute) wrapper[kForOnAttribute] = true;
    if (options != null && options.once) this.once(type, wrapper);
    else this.on(type, wrapper);
  },

  /**
   * Removes a listener added with addEventListener. Listeners added with
   * `on()` and the on<event> attributes are left alone.
   * @param {'open'|'message'|'close'|'error'} type
   * @param {Function|{handleEvent: Function}} listener
   */
  removeEventListener(type, listener) {
    for (const existing of this.listeners(type)) {
      if (existing[kListener] === listener && existing[kForOnAttribute] !== true) {
        this.removeListener(type, existing);
        return;
      }
    }
  },
};

/**
 * The on<type> attribute: reads back the function set (null when none) and
 * replaces only its own listener; a non-function clears it.
 */
function onAttribute(type) {
  return {
    enumerable: true,
    configurable: true,
    get() {
      for (const existing of this.listeners(type)) {
        if (existing[kForOnAttribute] === true) return existing[kListener];
      }
      return null;
    },
    set(handler) {
      for (const existing of this.listeners(type)) {
        if (existing[kForOnAttribute] === true) {
          this.removeListener(type, existing);
          break;
        }
      }
      if (typeof handler !== 'function') return;
      this.addEventListener(type, handler, { [kForOnAttribute]: true });
    },
  };
}

/**
 * Adds addEventListener, removeEventListener and the on<event> attributes to
 * an EventEmitter class.
 * @param {Function} Class
 */
function installEventTarget(Class) {
  Object.assign(Class.prototype, EventTargetMethods);
  for (const type of ['open', 'error', 'close', 'message']) {
    Object.defineProperty(Class.prototype, `on${type}`, onAttribute(type));
  }
}

module.exports = { Event, MessageEvent, CloseEvent, ErrorEvent, installEventTarget, kListener };
