'use strict';

// The WHATWG-style surface ws offers beside EventEmitter: addEventListener,
// removeEventListener and the onopen/onmessage/onclose/onerror properties.

const kListener = Symbol('native-ws.listener');
const kForOnProperty = Symbol('native-ws.on-property');

class Event {
  /** @param {string} type */
  constructor(type) {
    this.type = type;
    this.target = null;
  }
}

class MessageEvent extends Event {
  constructor(type, init = {}) {
    super(type);
    this.data = init.data === undefined ? null : init.data;
  }
}

class CloseEvent extends Event {
  constructor(type, init = {}) {
    super(type);
    this.code = init.code === undefined ? 0 : init.code;
    this.reason = init.reason === undefined ? '' : init.reason;
    this.wasClean = init.wasClean === undefined ? false : init.wasClean;
  }
}

class ErrorEvent extends Event {
  constructor(type, init = {}) {
    super(type);
    this.error = init.error === undefined ? null : init.error;
    this.message = init.message === undefined ? '' : init.message;
  }
}

/** Builds the event object for an EventEmitter event's arguments. */
const makers = {
  open: () => new Event('open'),
  message: (data, isBinary) => new MessageEvent('message', { data: isBinary ? data : data.toString() }),
  close: (code, reason) => new CloseEvent('close', { code, reason: reason.toString(), wasClean: code !== 1006 }),
  error: (error) => new ErrorEvent('error', { error, message: error.message }),
};

function callListener(listener, thisArg, event) {
  if (typeof listener === 'object' && typeof listener.handleEvent === 'function') {
    listener.handleEvent.call(listener, event);
  } else {
    listener.call(thisArg, event);
  }
}

const EventTargetMixin = {
  /**
   * Registers a WHATWG-style listener.
   * @param {'open'|'message'|'close'|'error'} type
   * @param {Function|{handleEvent: Function}} handler
   * @param {{ once?: boolean }} [options]
   */
  addEventListener(type, handler, options = {}) {
    const make = makers[type];
    if (!make || handler == null) return;
    for (const existing of this.listeners(type)) {
      if (!options[kForOnProperty] && existing[kListener] === handler && !existing[kForOnProperty]) return;
    }
    const target = this;
    const wrapper = function (...args) {
      const event = make(...args);
      event.target = target;
      callListener(handler, target, event);
    };
    wrapper[kListener] = handler;
    wrapper[kForOnProperty] = !!options[kForOnProperty];
    if (options.once) this.once(type, wrapper);
    else this.on(type, wrapper);
  },

  /**
   * Removes a listener added with addEventListener.
   * @param {string} type
   * @param {Function|{handleEvent: Function}} handler
   */
  removeEventListener(type, handler) {
    for (const listener of this.listeners(type)) {
      if (listener[kListener] === handler && !listener[kForOnProperty]) {
        this.removeListener(type, listener);
        break;
      }
    }
  },
};

/**
 * Adds EventTarget methods and on<event> properties to a class.
 * @param {Function} Class
 */
function installEventTarget(Class) {
  Object.assign(Class.prototype, EventTargetMixin);
  for (const type of Object.keys(makers)) {
    Object.defineProperty(Class.prototype, `on${type}`, {
      enumerable: true,
      configurable: true,
      get() {
        for (const listener of this.listeners(type)) {
          if (listener[kForOnProperty]) return listener[kListener];
        }
        return null;
      },
      set(handler) {
        for (const listener of this.listeners(type)) {
          if (listener[kForOnProperty]) {
            this.removeListener(type, listener);
            break;
          }
        }
        if (typeof handler !== 'function') return;
        this.addEventListener(type, handler, { [kForOnProperty]: true });
      },
    });
  }
}

module.exports = { Event, MessageEvent, CloseEvent, ErrorEvent, installEventTarget };
