'use strict';

// The WHATWG emulation of ws 8: Event/MessageEvent/CloseEvent/ErrorEvent with
// type and target, addEventListener (functions, handleEvent objects, once),
// removeEventListener, and the on<event> attributes, on server-side (both
// server kinds) and client WebSockets.

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const h = require('./helpers');
const { Event, MessageEvent, CloseEvent, ErrorEvent } = require('../lib/event-target');

const lib = h.lib;
const { WebSocket } = lib;
const T = { timeout: 10000 };

afterEach(h.closeAll);

// An agent that never hands out a socket: the client stays CONNECTING and
// holds no handle, a bare WebSocket for listener bookkeeping.
class StalledAgent extends http.Agent {
  addRequest() {}
}

function idleClient() {
  return new WebSocket(`ws://${h.HOST}:1`, { agent: new StalledAgent() });
}

describe('event classes', () => {
  it('defaults and read-only, enumerable accessors', () => {
    const plain = new Event('open');
    assert.equal(plain.type, 'open');
    assert.equal(plain.target, null);
    const message = new MessageEvent('message');
    assert.equal(message.data, null);
    assert.equal(new MessageEvent('message', { data: 'x' }).data, 'x');
    const close = new CloseEvent('close');
    assert.deepEqual([close.code, close.reason, close.wasClean], [0, '', false]);
    const error = new ErrorEvent('error');
    assert.deepEqual([error.error, error.message], [null, '']);
    assert.ok(message instanceof Event && close instanceof Event && error instanceof Event);

    // Listeners cannot rewrite what they were given.
    assert.throws(() => {
      message.data = 'changed';
    }, TypeError);
    assert.equal(message.data, null);

    for (const [Class, names] of [
      [Event, ['type', 'target']],
      [MessageEvent, ['data']],
      [CloseEvent, ['code', 'reason', 'wasClean']],
      [ErrorEvent, ['error', 'message']],
    ]) {
      for (const name of names) {
        const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, name);
        assert.equal(typeof descriptor.get, 'function', `${Class.name}.${name} is an accessor`);
        assert.equal(descriptor.set, undefined, `${Class.name}.${name} is read-only`);
        assert.equal(descriptor.enumerable, true, `${Class.name}.${name} is enumerable`);
      }
    }
  });
});

describe('on<event> attributes', () => {
  it('are enumerable, configurable accessors on the prototype', () => {
    for (const name of ['onopen', 'onmessage', 'onclose', 'onerror']) {
      const descriptor = Object.getOwnPropertyDescriptor(WebSocket.prototype, name);
      assert.equal(descriptor.enumerable, true, name);
      assert.equal(descriptor.configurable, true, name);
      assert.equal(typeof descriptor.get, 'function', name);
      assert.equal(typeof descriptor.set, 'function', name);
    }
  });

  it('read back what was set, null when unset; a non-function clears', () => {
    const ws = idleClient();
    for (const name of ['onopen', 'onmessage', 'onclose', 'onerror']) assert.equal(ws[name], null, name);
    const before = ws.listenerCount('message');
    const first = () => {};
    const second = () => {};
    ws.onmessage = first;
    assert.equal(ws.onmessage, first);
    assert.equal(ws.listenerCount('message'), before + 1);
    ws.onmessage = second;
    assert.equal(ws.onmessage, second);
    assert.equal(ws.listenerCount('message'), before + 1, 'the old attribute listener is replaced, not kept');
    ws.onmessage = 'not a function';
    assert.equal(ws.onmessage, null);
    assert.equal(ws.listenerCount('message'), before, 'nothing is left on the message path');
    ws.onmessage = second;
    ws.onmessage = null;
    assert.equal(ws.onmessage, null);
    assert.equal(ws.listenerCount('message'), before);
  });

  it("see neither on() nor addEventListener() listeners, and leave them in place", () => {
    const ws = idleClient();
    const viaOn = () => {};
    const viaAdd = () => {};
    ws.on('close', viaOn);
    ws.addEventListener('close', viaAdd);
    assert.equal(ws.onclose, null);
    const count = ws.listenerCount('close');
    ws.onclose = viaAdd;
    assert.equal(ws.onclose, viaAdd);
    assert.equal(ws.listenerCount('close'), count + 1, 'the same function as attribute and as listener: both kept');
    ws.onclose = null;
    assert.equal(ws.listenerCount('close'), count);
    assert.ok(ws.listeners('close').includes(viaOn));
  });
});

describe('addEventListener / removeEventListener', () => {
  it('adds a listener once per type; ignores unknown types and null; refuses other non-objects', () => {
    const ws = idleClient();
    const listener = () => {};
    const count = ws.listenerCount('open');
    ws.addEventListener('open', listener);
    ws.addEventListener('open', listener);
    assert.equal(ws.listenerCount('open'), count + 1);
    ws.addEventListener('not-an-event', listener);
    assert.equal(ws.listenerCount('not-an-event'), 0);
    ws.addEventListener('open', null);
    assert.equal(ws.listenerCount('open'), count + 1);
    assert.throws(
      () => ws.addEventListener('open', 'a string'),
      (err) => err instanceof TypeError && /^listener:/.test(err.message) && err.code === 'ERR_INVALID_ARG_TYPE'
    );
  });

  it('removeEventListener removes only what addEventListener added', () => {
    const ws = idleClient();
    const fn = () => {};
    const count = ws.listenerCount('message');
    ws.on('message', fn);
    ws.onmessage = fn;
    ws.addEventListener('message', fn);
    assert.equal(ws.listenerCount('message'), count + 3);
    ws.removeEventListener('message', () => {});
    assert.equal(ws.listenerCount('message'), count + 3, 'another function removes nothing');
    ws.removeEventListener('message', fn);
    assert.equal(ws.listenerCount('message'), count + 2);
    ws.removeEventListener('message', fn);
    assert.equal(ws.listenerCount('message'), count + 2, 'on() and the attribute stay');
    assert.ok(ws.listeners('message').includes(fn), 'the on() listener itself is still there');
    assert.equal(ws.onmessage, fn);
  });

  it("{ once: true } runs once and then is gone; removeEventListener works on it before it runs", () => {
    const ws = idleClient();
    const calls = [];
    const listener = {
      handleEvent(event) {
        calls.push([this === listener, event.type, event.data]);
      },
    };
    const count = ws.listenerCount('message');
    ws.addEventListener('message', listener, { once: true });
    ws.addEventListener('message', listener);
    assert.equal(ws.listenerCount('message'), count + 1, 'the same object is added once');
    ws.emit('message', Buffer.from('a'), false);
    ws.emit('message', Buffer.from('b'), false);
    assert.deepEqual(calls, [[true, 'message', 'a']]);
    assert.equal(ws.listenerCount('message'), count);

    const fn = () => calls.push('never');
    ws.addEventListener('open', fn, { once: true });
    ws.removeEventListener('open', fn);
    ws.emit('open');
    assert.equal(calls.length, 1);
  });

  it('a handleEvent object is called as a method, looked up at each dispatch', () => {
    const ws = idleClient();
    const seen = [];
    const listener = {};
    ws.addEventListener('message', listener);
    listener.handleEvent = function (event) {
      seen.push([this, event.data]);
    };
    ws.emit('message', Buffer.from('late'), false);
    assert.deepEqual(seen, [[listener, 'late']]);
    delete listener.handleEvent;
    assert.throws(() => ws.emit('message', Buffer.from('x'), false), (err) => err instanceof TypeError && /handleEvent/.test(err.message));
  });
});

for (const kind of h.KINDS) {
  describe(`events on a server-side WebSocket (${kind})`, () => {
    it('a text message is a string whatever binaryType; binary follows binaryType; on("message") text stays a Buffer', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const ws = conn.ws;
      const events = [];
      const raw = [];
      ws.addEventListener('message', function (event) {
        events.push({ event, self: this });
      });
      ws.on('message', (data, isBinary) => raw.push([data, isBinary]));
      let total = 0;
      for (const binaryType of ['nodebuffer', 'arraybuffer', 'fragments']) {
        ws.binaryType = binaryType;
        await client.write(Buffer.concat([h.text('héllo'), h.binary([1, 2, 3])]));
        total += 2;
        await conn.waitMessages(total);
      }
      assert.equal(events.length, 6);
      for (const { event, self } of events) {
        assert.ok(event instanceof MessageEvent);
        assert.equal(event.type, 'message');
        assert.equal(event.target, ws);
        assert.equal(self, ws, 'a function listener is called on the WebSocket');
      }
      const texts = events.filter((_, i) => i % 2 === 0).map(({ event }) => event.data);
      assert.deepEqual(texts, ['héllo', 'héllo', 'héllo']);
      const binaries = events.filter((_, i) => i % 2 === 1).map(({ event }) => event.data);
      assert.ok(Buffer.isBuffer(binaries[0]));
      assert.ok(binaries[1] instanceof ArrayBuffer);
      assert.deepEqual([...new Uint8Array(binaries[1])], [1, 2, 3]);
      assert.ok(Array.isArray(binaries[2]));
      assert.deepEqual(Buffer.concat(binaries[2]), Buffer.from([1, 2, 3]));
      // EventEmitter listeners get text as a Buffer in every binaryType, as in ws.
      for (const [data, isBinary] of raw.filter(([, b]) => !b)) {
        assert.equal(isBinary, false);
        assert.ok(Buffer.isBuffer(data));
        assert.equal(data.toString(), 'héllo');
      }
    });

    it('open, close and error events are Event, CloseEvent and ErrorEvent with type and target', T, async () => {
      const srv = await h.startServer(kind);
      const { client, conn } = await h.connectPair(srv);
      const ws = conn.ws;
      const events = [];
      ws.addEventListener('error', (event) => events.push(event));
      ws.onclose = (event) => events.push(event);
      // Opcode 3 is reserved: the peer breaks the protocol.
      await client.write(h.frame({ opcode: 3 }));
      await conn.closed;
      assert.deepEqual(events.map((e) => e.type), ['error', 'close']);
      const [error, close] = events;
      assert.ok(error instanceof ErrorEvent);
      assert.equal(error.target, ws);
      assert.equal(error.error, conn.errors[0]);
      assert.equal(error.message, conn.errors[0].message);
      assert.ok(close instanceof CloseEvent);
      assert.equal(close.target, ws);
      assert.equal(close.code, 1006, 'the peer never answered our close frame');
      assert.equal(close.wasClean, false);
    });

    it('wasClean: true after a completed closing handshake, false after terminate()', T, async () => {
      const srv = await h.startServer(kind);
      const first = await h.connectPair(srv);
      const closes = [];
      first.conn.ws.addEventListener('close', (event) => closes.push(event));
      await first.client.write(h.close(4001, 'bye'));
      await first.conn.closed;
      assert.equal(closes[0].code, 4001);
      assert.equal(closes[0].reason, 'bye');
      assert.equal(closes[0].wasClean, true);

      const second = await h.connectPair(srv);
      second.conn.ws.addEventListener('close', (event) => closes.push(event));
      second.conn.ws.terminate();
      await second.conn.closed;
      assert.equal(closes[1].code, 1006);
      assert.equal(closes[1].reason, '');
      assert.equal(closes[1].wasClean, false);
    });
  });
}

describe('events on a client WebSocket', () => {
  it('onopen, onmessage (text as string with binaryType arraybuffer), onclose', T, async () => {
    const srv = await h.startServer('wss');
    const ws = new WebSocket(`ws://${h.HOST}:${srv.port}`);
    ws.binaryType = 'arraybuffer';
    const seen = [];
    ws.onopen = (event) => seen.push([event.type, event.target === ws, event instanceof Event]);
    ws.onmessage = (event) => {
      seen.push([event.type, event.data]);
      if (typeof event.data === 'string') ws.close(1000, 'done');
    };
    const closed = new Promise((resolve) => {
      ws.onclose = resolve;
    });
    const conn = await srv.nextConnection();
    conn.ws.send(Buffer.from([7, 8]));
    conn.ws.send('text');
    const close = await closed;
    assert.equal(seen.length, 3);
    assert.deepEqual(seen[0], ['open', true, true]);
    assert.equal(seen[1][0], 'message');
    assert.ok(seen[1][1] instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(seen[1][1])], [7, 8]);
    assert.deepEqual(seen[2], ['message', 'text']);
    assert.ok(close instanceof CloseEvent);
    assert.equal(close.code, 1000);
    assert.equal(close.reason, 'done');
    assert.equal(close.wasClean, true);
  });
});
