'use strict';

// Test helpers: a raw WebSocket client written against RFC 6455 with
// node:net and node:crypto only (its framing code is independent of the
// library under test), and fixtures that start the two kinds of server
// (WebSocketServer and net.createServer + accept()) on 127.0.0.1:0.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const { EventEmitter, once } = require('node:events');

const lib = require('..');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HOST = '127.0.0.1';
const KINDS = ['wss', 'accept'];
const REASON = '孩子,地球太危险了,快回火星去吧!';

// Everything opened by a test, closed by closeAll() (call it in afterEach).
const openClients = new Set();
const openServers = new Set();

/** Sec-WebSocket-Accept per RFC 6455 §4.2.2, computed here, not by the library. */
function computeAccept(key) {
  return crypto.createHash('sha1').update(key + GUID).digest('base64');
}

function randomKey() {
  return crypto.randomBytes(16).toString('base64');
}

function toBytes(data) {
  if (data === undefined || data === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Array.isArray(data)) return Buffer.from(data);
  return Buffer.from(data);
}

/**
 * Builds one frame. Client frames are masked unless `mask: false`.
 * @param {object} f
 * @param {number} f.opcode
 * @param {string|Buffer|number[]} [f.payload]
 * @param {boolean} [f.fin=true]
 * @param {boolean} [f.rsv1] @param {boolean} [f.rsv2] @param {boolean} [f.rsv3]
 * @param {boolean} [f.mask=true]
 * @param {Buffer} [f.maskKey] 4 bytes; random by default
 * @param {number} [f.length] declared payload length (default: the payload's); lets a
 *   test send a header that promises more bytes than it writes
 * @param {16|64} [f.lengthBits] force the 16- or 64-bit length form
 * @returns {Buffer}
 */
function frame(f) {
  const payload = toBytes(f.payload);
  const fin = f.fin !== false;
  const masked = f.mask !== false;
  const length = f.length === undefined ? payload.length : f.length;
  const b0 = (fin ? 0x80 : 0) | (f.rsv1 ? 0x40 : 0) | (f.rsv2 ? 0x20 : 0) | (f.rsv3 ? 0x10 : 0) | (f.opcode & 0x0f);
  let header;
  if (length < 126 && !f.lengthBits) {
    header = Buffer.from([b0, length]);
  } else if (length < 65536 && f.lengthBits !== 64) {
    header = Buffer.alloc(4);
    header[0] = b0;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = b0;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  if (!masked) return Buffer.concat([header, payload]);
  header[1] |= 0x80;
  const key = f.maskKey || crypto.randomBytes(4);
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) body[i] = payload[i] ^ key[i & 3];
  return Buffer.concat([header, key, body]);
}

const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 };

const text = (payload, opts = {}) => frame({ opcode: OP.TEXT, payload, ...opts });
const binary = (payload, opts = {}) => frame({ opcode: OP.BINARY, payload, ...opts });
const cont = (payload, opts = {}) => frame({ opcode: OP.CONT, payload, ...opts });
const ping = (payload, opts = {}) => frame({ opcode: OP.PING, payload, ...opts });
const pong = (payload, opts = {}) => frame({ opcode: OP.PONG, payload, ...opts });
/** A close frame; `code` undefined gives an empty payload. */
const close = (code, reason, opts = {}) => frame({ opcode: OP.CLOSE, payload: closePayload(code, reason), ...opts });

/** Close payload bytes: 2-byte big-endian code, then the reason's bytes. */
function closePayload(code, reason) {
  if (code === undefined) return Buffer.alloc(0);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code, 0);
  return Buffer.concat([head, toBytes(reason)]);
}

/**
 * Parses frames (as a server sends them: unmasked, but masked ones are
 * parsed too and flagged) from a byte stream.
 */
class FrameReader extends EventEmitter {
  constructor() {
    super();
    this.buffer = Buffer.alloc(0);
    this.frames = [];
    this.queue = [];
    this.waiters = [];
    this.ended = false;
    this.error = null;
  }

  push(chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const f = this._parseOne();
      if (!f) break;
      this.frames.push(f);
      this.emit('frame', f);
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(f);
      else this.queue.push(f);
    }
  }

  _parseOne() {
    const buf = this.buffer;
    if (buf.length < 2) return null;
    const b0 = buf[0];
    const b1 = buf[1];
    let length = b1 & 0x7f;
    let pos = 2;
    if (length === 126) {
      if (buf.length < 4) return null;
      length = buf.readUInt16BE(2);
      pos = 4;
    } else if (length === 127) {
      if (buf.length < 10) return null;
      const big = buf.readBigUInt64BE(2);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('frame reader: absurd 64-bit length from the server');
      length = Number(big);
      pos = 10;
    }
    const masked = (b1 & 0x80) !== 0;
    let key = null;
    if (masked) {
      if (buf.length < pos + 4) return null;
      key = buf.subarray(pos, pos + 4);
      pos += 4;
    }
    if (buf.length < pos + length) return null;
    const payload = Buffer.from(buf.subarray(pos, pos + length));
    if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    this.buffer = buf.subarray(pos + length);
    const f = {
      fin: (b0 & 0x80) !== 0,
      rsv1: (b0 & 0x40) !== 0,
      rsv2: (b0 & 0x20) !== 0,
      rsv3: (b0 & 0x10) !== 0,
      opcode: b0 & 0x0f,
      masked,
      payload,
      headerLength: pos,
    };
    if (f.opcode === OP.CLOSE) {
      f.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : undefined;
      f.closeReason = payload.subarray(2);
    }
    return f;
  }

  /** The next frame; rejects if the connection ends first. */
  next() {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.ended) return Promise.reject(new Error('connection closed before the next frame'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  end() {
    this.ended = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error('connection closed before the next frame'));
  }
}

/** Splits a raw HTTP response head: status, lowercased headers (values joined with ", "), raw lines. */
function parseHttpHead(headText) {
  const lines = headText.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  assert.ok(m, `bad status line: ${JSON.stringify(lines[0])}`);
  const headers = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { status: Number(m[1]), headers, lines };
}

/**
 * An upgrade request's text. `headers` entries override the defaults (a null
 * value removes the header); extra entries are appended in order.
 */
function upgradeRequest({ method = 'GET', path = '/', httpVersion = '1.1', key = randomKey(), protocols, headers = {} } = {}) {
  const all = {
    Host: `${HOST}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
  };
  if (protocols && protocols.length) all['Sec-WebSocket-Protocol'] = protocols.join(', ');
  for (const [name, value] of Object.entries(headers)) {
    const existing = Object.keys(all).find((n) => n.toLowerCase() === name.toLowerCase());
    if (existing) delete all[existing];
    if (value !== null) all[name] = value;
  }
  let out = `${method} ${path} HTTP/${httpVersion}\r\n`;
  for (const [name, value] of Object.entries(all)) out += `${name}: ${value}\r\n`;
  return out + '\r\n';
}

function yieldToLoop() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Writes bytes, optionally one byte per write with an event-loop turn between writes. */
async function writeTo(socket, bytes, { oneByteAtATime = false } = {}) {
  bytes = toBytes(bytes);
  if (!oneByteAtATime) {
    await new Promise((resolve) => socket.write(bytes, () => resolve()));
    return;
  }
  for (let i = 0; i < bytes.length; i++) {
    if (socket.destroyed) return;
    await new Promise((resolve) => socket.write(bytes.subarray(i, i + 1), () => resolve()));
    await yieldToLoop();
  }
}

/** Tracks how a client socket's TCP connection ended. */
function watchClose(socket, client) {
  return new Promise((resolve) => {
    let serverEndedFirst = false;
    let error = null;
    socket.on('end', () => {
      if (!client.clientEnded) serverEndedFirst = true;
    });
    socket.on('error', (err) => {
      error = err;
      // A reset from the server also counts as the server closing first.
      if (!client.clientEnded) serverEndedFirst = true;
    });
    socket.on('close', () => {
      openClients.delete(client);
      client.reader.end();
      resolve({ serverEndedFirst, error });
    });
  });
}

/**
 * A raw client connection. It starts in HTTP mode (bytes are collected for
 * the response head); after a 101 response it parses WebSocket frames.
 */
class RawClient {
  constructor(socket) {
    this.socket = socket;
    this.clientEnded = false;
    this.mode = 'http';
    this.httpBytes = Buffer.alloc(0);
    this.onHttpData = null;
    this.response = null;
    this.key = null;
    this.reader = new FrameReader();
    this.closed = watchClose(socket, this);
    socket.on('data', (chunk) => {
      if (this.mode === 'ws') {
        this.reader.push(chunk);
        return;
      }
      this.httpBytes = Buffer.concat([this.httpBytes, chunk]);
      if (this.onHttpData) this.onHttpData();
    });
    openClients.add(this);
  }

  /** Switches to frame parsing; `rest` are the bytes after the 101 head. */
  _upgrade(rest) {
    this.mode = 'ws';
    if (rest.length) this.reader.push(rest);
  }

  /** All frames received so far. */
  get frames() {
    return this.reader.frames;
  }

  write(bytes, options) {
    return writeTo(this.socket, bytes, options);
  }

  nextFrame() {
    return this.reader.next();
  }

  /** Half-closes (FIN) from the client side. */
  end() {
    this.clientEnded = true;
    this.socket.end();
  }

  destroy() {
    this.clientEnded = true;
    this.socket.destroy();
  }
}

/**
 * Sends a raw request and reads the HTTP response head (plus a
 * Content-Length body). Resolves with { status, headers, lines, body, client };
 * after a 101 the client is in frame mode with any following bytes parsed.
 */
function rawHttp(port, requestBytes, { oneByteAtATime = false } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: HOST });
    socket.setNoDelay(true);
    const client = new RawClient(socket);
    let head = null;
    let done = false;
    let ended = false;
    const finish = () => {
      if (done) return true;
      const received = client.httpBytes;
      if (!head) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return false;
        head = parseHttpHead(received.subarray(0, end).toString('latin1'));
        head.bodyStart = end + 4;
      }
      if (head.status === 101) {
        done = true;
        client.response = head;
        client._upgrade(received.subarray(head.bodyStart));
        resolve({ ...head, body: '', client });
        return true;
      }
      const length = head.headers['content-length'] === undefined ? null : Number(head.headers['content-length']);
      const available = received.length - head.bodyStart;
      if (length !== null && available < length) return false;
      if (length === null && !ended) return false;
      done = true;
      const bodyEnd = length === null ? received.length : head.bodyStart + length;
      resolve({ ...head, body: received.subarray(head.bodyStart, bodyEnd).toString('utf8'), client });
      return true;
    };
    client.onHttpData = finish;
    socket.on('end', () => {
      ended = true;
      finish();
    });
    client.closed.then(() => {
      ended = true;
      if (!done && !finish()) {
        reject(
          new Error(`connection closed without a complete HTTP response (got ${JSON.stringify(client.httpBytes.toString('latin1'))})`)
        );
      }
    });
    socket.once('connect', () => {
      writeTo(socket, requestBytes, { oneByteAtATime }).catch(() => {});
    });
  });
}

/**
 * Opens a WebSocket connection and checks the 101 response (status, Upgrade,
 * Connection, and Sec-WebSocket-Accept computed with node:crypto).
 * @param {number} port
 * @param {object} [options]
 * @param {string[]} [options.protocols]
 * @param {string} [options.path]
 * @param {Record<string,string|null>} [options.headers]
 * @param {Buffer} [options.head] bytes written in the same write as the request
 * @param {boolean} [options.oneByteAtATime]
 * @returns {Promise<RawClient>}
 */
async function connect(port, options = {}) {
  const key = randomKey();
  const request = Buffer.concat([
    Buffer.from(upgradeRequest({ key, path: options.path, protocols: options.protocols, headers: options.headers })),
    toBytes(options.head),
  ]);
  const res = await rawHttp(port, request, { oneByteAtATime: options.oneByteAtATime });
  assert.equal(res.status, 101, `expected 101, got ${res.status}: ${res.lines.join(' | ')}`);
  assert.equal(res.headers.upgrade.toLowerCase(), 'websocket');
  assert.match(res.headers.connection, /\bupgrade\b/i);
  assert.equal(res.headers['sec-websocket-accept'], computeAccept(key), 'Sec-WebSocket-Accept');
  res.client.key = key;
  return res.client;
}

/**
 * Records everything a server-side WebSocket emits.
 */
class Conn {
  constructor(ws) {
    this.ws = ws;
    this.messages = [];
    this.pings = [];
    this.pongs = [];
    this.errors = [];
    this.closeEvents = [];
    this.log = [];
    this.opened = false;
    ws.on('open', (req) => {
      this.opened = true;
      // accept()'s 'open' carries the request.
      this.openRequest = req;
      this.log.push('open');
    });
    ws.on('message', (data, isBinary) => {
      const copy = Buffer.isBuffer(data) ? Buffer.from(data) : data;
      this.messages.push({ data: copy, isBinary, isBuffer: Buffer.isBuffer(data) });
      this.log.push('message');
    });
    ws.on('ping', (data) => {
      this.pings.push(Buffer.from(data));
      this.log.push('ping');
    });
    ws.on('pong', (data) => {
      this.pongs.push(Buffer.from(data));
      this.log.push('pong');
    });
    ws.on('error', (err) => {
      this.errors.push(err);
      this.log.push('error');
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeEvents.push({ code, reason });
        this.log.push('close');
        resolve({ code, reason });
      });
    });
  }

  /** Resolves when `n` messages have arrived. */
  waitMessages(n) {
    if (this.messages.length >= n) return Promise.resolve(this.messages);
    return new Promise((resolve) => {
      const check = () => {
        if (this.messages.length >= n) {
          this.ws.removeListener('message', onMessage);
          resolve(this.messages);
        }
      };
      const onMessage = () => setImmediate(check);
      this.ws.on('message', onMessage);
    });
  }
}

/**
 * Starts a server of `kind` ('wss': new WebSocketServer({ port: 0 }),
 * 'accept': net.createServer(s => accept(s))) with `options`.
 * Resolves with { kind, port, conns, nextConnection(), close(), wss?, server? }.
 * For 'accept', a Conn is made at accept() time; nextConnection() waits for 'open'.
 */
async function startServer(kind, options = {}) {
  const fixture = new EventEmitter();
  fixture.kind = kind;
  fixture.conns = [];
  fixture.opened = [];
  fixture.waiters = [];
  fixture.sockets = new Set();
  const opened = (conn) => {
    fixture.opened.push(conn);
    const waiter = fixture.waiters.shift();
    if (waiter) waiter(conn);
  };
  let nextOpened = 0;
  fixture.nextConnection = () => {
    if (nextOpened < fixture.opened.length) return Promise.resolve(fixture.opened[nextOpened++]);
    return new Promise((resolve) => {
      fixture.waiters.push((conn) => {
        nextOpened++;
        resolve(conn);
      });
    });
  };
  if (kind === 'wss') {
    const wss = new lib.WebSocketServer({ port: 0, host: HOST, ...options });
    fixture.wss = wss;
    wss.on('connection', (ws, req) => {
      const conn = new Conn(ws);
      conn.req = req;
      fixture.conns.push(conn);
      opened(conn);
    });
    await once(wss, 'listening');
    fixture.port = wss.address().port;
    fixture.close = async () => {
      openServers.delete(fixture);
      for (const conn of fixture.conns) conn.ws.terminate();
      await new Promise((resolve) => wss.close(() => resolve()));
    };
  } else if (kind === 'accept') {
    const server = net.createServer((socket) => {
      fixture.sockets.add(socket);
      socket.on('close', () => fixture.sockets.delete(socket));
      const ws = lib.accept(socket, options);
      const conn = new Conn(ws);
      conn.socket = socket;
      fixture.conns.push(conn);
      fixture.emit('accepted', conn);
      ws.on('open', (req) => {
        conn.req = req;
        opened(conn);
      });
    });
    fixture.server = server;
    await new Promise((resolve) => server.listen(0, HOST, resolve));
    fixture.port = server.address().port;
    fixture.close = async () => {
      openServers.delete(fixture);
      for (const socket of fixture.sockets) socket.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    };
  } else {
    throw new Error(`unknown server kind ${kind}`);
  }
  openServers.add(fixture);
  return fixture;
}

/**
 * Registers a server a test created itself (net/http server, or a
 * WebSocketServer) so closeAll() closes it, even when the test fails.
 * @template T
 * @param {T} server
 * @returns {T}
 */
function trackServer(server) {
  const sockets = new Set();
  const isWss = server instanceof lib.WebSocketServer;
  if (!isWss) {
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
  }
  const fixture = {
    close: () =>
      new Promise((resolve) => {
        openServers.delete(fixture);
        if (isWss) {
          for (const ws of server.clients || []) ws.terminate();
        } else {
          for (const socket of sockets) socket.destroy();
        }
        server.close(() => resolve());
      }),
  };
  openServers.add(fixture);
  return server;
}

/** Connects a raw client to a fixture and waits for the server-side connection. */
async function connectPair(fixture, options) {
  const connection = fixture.nextConnection();
  const client = await connect(fixture.port, options);
  const conn = await connection;
  return { client, conn };
}

/** Closes every client and server still open. */
async function closeAll() {
  for (const client of [...openClients]) client.destroy();
  openClients.clear();
  const servers = [...openServers];
  await Promise.all(servers.map((s) => s.close()));
}

/**
 * Waits until the server fails the connection and checks how: the last frame
 * is an unmasked close frame carrying `code`, and the server closed TCP first.
 */
async function expectFailure(client, code) {
  const info = await client.closed;
  const frames = client.frames;
  assert.ok(frames.length > 0, 'the server sent no frame before closing');
  const last = frames[frames.length - 1];
  assert.equal(last.opcode, OP.CLOSE, `last frame should be a close frame, got opcode ${last.opcode}`);
  assert.equal(last.masked, false, 'server frames must not be masked');
  assert.equal(last.closeCode, code, `close code: expected ${code}, got ${last.closeCode}`);
  assert.equal(info.serverEndedFirst, true, 'the server should close the TCP connection');
  return { info, frames, closeFrame: last };
}

/** A Promise with a timeout, so a missed event fails the test with a message instead of hanging. */
function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

module.exports = {
  lib,
  GUID,
  HOST,
  KINDS,
  REASON,
  OP,
  computeAccept,
  randomKey,
  frame,
  text,
  binary,
  cont,
  ping,
  pong,
  close,
  closePayload,
  FrameReader,
  parseHttpHead,
  upgradeRequest,
  writeTo,
  yieldToLoop,
  rawHttp,
  connect,
  RawClient,
  Conn,
  startServer,
  trackServer,
  connectPair,
  closeAll,
  expectFailure,
  withTimeout,
};
