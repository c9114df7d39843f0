'use strict';

// Issue 5: WebSocket over TLS. wss:// through https.createServer +
// WebSocketServer({ noServer: true }).handleUpgrade, and accept() on a
// tls.createServer socket. The client is the raw RFC 6455 client of
// helpers.js over tls.connect; both sides exchange messages (one larger than
// a TLS record) and complete the closing handshake with a code and reason.
//
// The self-signed certificate is made at test time with node:crypto alone
// (an ECDSA P-256 key and a minimal X.509 v3 certificate signed with it), so
// neither openssl nor a committed key is needed.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const https = require('node:https');
const tls = require('node:tls');
const { once } = require('node:events');
const {
  lib,
  HOST,
  REASON,
  OP,
  text,
  binary,
  ping,
  close,
  upgradeRequest,
  randomKey,
  computeAccept,
  parseHttpHead,
  RawClient,
  Conn,
  closeAll,
  withTimeout,
} = require('./helpers');

// ---------------------------------------------------------------------------
// A self-signed certificate from node:crypto (DER built by hand).
// ---------------------------------------------------------------------------

function derLength(n) {
  if (n < 0x80) return Buffer.from([n]);
  const bytes = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const der = (tag, ...parts) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
};
const seq = (...parts) => der(0x30, ...parts);
function oid(dotted) {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const v of rest) {
    const chunk = [v & 0x7f];
    for (let x = v >> 7; x > 0; x >>= 7) chunk.unshift(0x80 | (x & 0x7f));
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}
const utcTime = (date) => der(0x17, Buffer.from(date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
const name = (cn) => seq(der(0x31, seq(oid('2.5.4.3'), der(0x0c, Buffer.from(cn)))));

/** { key, cert } PEM strings: a P-256 key and a self-signed certificate for 127.0.0.1 / localhost. */
function selfSignedCertificate() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const now = Date.now();
  const subjectAltName = seq(
    oid('2.5.29.17'),
    der(0x04, seq(der(0x82, Buffer.from('localhost')), der(0x87, Buffer.from([127, 0, 0, 1]))))
  );
  const serial = crypto.randomBytes(8);
  serial[0] &= 0x7f; // a positive INTEGER
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))), // version v3
    der(0x02, serial),
    ecdsaWithSha256,
    name('native-ws test only'),
    seq(utcTime(new Date(now - 3600e3)), utcTime(new Date(now + 24 * 3600e3))),
    name('native-ws test only'),
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, seq(subjectAltName)) // extensions
  );
  const signature = crypto.sign('sha256', tbs, privateKey);
  const certDer = seq(tbs, ecdsaWithSha256, der(0x03, Buffer.from([0]), signature));
  const cert = `-----BEGIN CERTIFICATE-----\n${certDer.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }), cert };
}

const { key, cert } = selfSignedCertificate();

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const servers = new Set();
after(async () => {
  await closeAll();
  for (const server of servers) server.close();
});

function listen(server) {
  servers.add(server);
  return new Promise((resolve) => server.listen(0, HOST, () => resolve(server.address().port)));
}

/** A raw WebSocket client over tls.connect; resolves once the 101 response is checked. */
async function connectTls(port) {
  const socket = tls.connect({ port, host: HOST, rejectUnauthorized: false, servername: 'localhost' });
  await once(socket, 'secureConnect');
  const client = new RawClient(socket);
  const wsKey = randomKey();
  const head = await new Promise((resolve, reject) => {
    client.onHttpData = () => {
      const end = client.httpBytes.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.onHttpData = null;
      const parsed = parseHttpHead(client.httpBytes.subarray(0, end).toString('latin1'));
      client._upgrade(client.httpBytes.subarray(end + 4));
      resolve(parsed);
    };
    client.closed.then(() => reject(new Error('connection closed during the handshake')));
    socket.write(upgradeRequest({ key: wsKey, path: '/secure' }));
  });
  assert.equal(head.status, 101);
  assert.equal(head.headers['sec-websocket-accept'], computeAccept(wsKey));
  client.key = wsKey;
  return client;
}

/** Messages of every kind, one of them spanning several TLS records (16 KiB each). */
const LARGE = crypto.randomBytes(100 * 1024);

/** The server echoes; the client sends text, binary, a large message and a ping and checks the echoes. */
async function exchange(client, conn) {
  conn.ws.on('message', (data, isBinary) => conn.ws.send(data, { binary: isBinary }));
  await client.write(Buffer.concat([text('héllo over TLS'), binary([1, 2, 3, 255]), ping('tls?')]));
  await client.write(binary(LARGE));
  const frames = [];
  for (let i = 0; i < 4; i++) frames.push(await withTimeout(client.nextFrame(), 10000, `frame ${i}`));
  const pong = frames.find((f) => f.opcode === OP.PONG);
  assert.equal(pong.payload.toString(), 'tls?');
  const data = frames.filter((f) => f.opcode !== OP.PONG);
  assert.deepEqual(
    data.map((f) => [f.opcode, f.fin, f.masked]),
    [
      [OP.TEXT, true, false],
      [OP.BINARY, true, false],
      [OP.BINARY, true, false],
    ]
  );
  assert.equal(data[0].payload.toString(), 'héllo over TLS');
  assert.deepEqual([...data[1].payload], [1, 2, 3, 255]);
  assert.ok(data[2].payload.equals(LARGE), 'the 100 KiB echo is intact');
  assert.deepEqual(
    conn.messages.map((m) => m.isBinary),
    [false, true, true]
  );
  assert.ok(conn.messages[2].data.equals(LARGE));
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

test('wss:// through https.createServer + WebSocketServer({ noServer: true }).handleUpgrade', { timeout: 20000 }, async () => {
  const server = https.createServer({ key, cert }, (req, res) => res.end('plain https'));
  const secureFlags = [];
  const wss = new lib.WebSocketServer({
    noServer: true,
    verifyClient: (info) => {
      secureFlags.push(info.secure);
      return true;
    },
  });
  const connections = [];
  const waiters = [];
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws, req) => {
    const conn = new Conn(ws);
    conn.req = req;
    connections.push(conn);
    const waiter = waiters.shift();
    if (waiter) waiter(conn);
  });
  const port = await listen(server);
  const nextConnection = () => (connections.length ? Promise.resolve(connections.shift()) : new Promise((r) => waiters.push(r)));

  const client = await connectTls(port);
  const conn = await withTimeout(nextConnection(), 10000, 'connection');
  assert.equal(conn.req.url, '/secure');
  assert.equal(conn.req.socket.encrypted, true);
  assert.deepEqual(secureFlags, [true]);
  await exchange(client, conn);

  // The client closes: the server reports its code and reason, echoes them and closes TCP first.
  await client.write(close(1000, REASON));
  const echoed = await withTimeout(client.nextFrame(), 10000, 'close echo');
  assert.equal(echoed.opcode, OP.CLOSE);
  assert.equal(echoed.closeCode, 1000);
  const closed = await withTimeout(conn.closed, 10000, 'server close event');
  assert.equal(closed.code, 1000);
  assert.equal(closed.reason.toString(), REASON);
  const ended = await withTimeout(client.closed, 10000, 'TCP close');
  assert.equal(ended.serverEndedFirst, true);
  assert.equal(conn.errors.length, 0);
  assert.equal(wss.clients.size, 0);
  wss.close();
});

test('accept() on a tls.createServer socket', { timeout: 20000 }, async () => {
  const opened = [];
  const waiters = [];
  const server = tls.createServer({ key, cert }, (socket) => {
    const ws = lib.accept(socket, { verifyClient: (info) => info.secure === true });
    const conn = new Conn(ws);
    ws.on('open', (req) => {
      conn.req = req;
      const waiter = waiters.shift();
      if (waiter) waiter(conn);
      else opened.push(conn);
    });
  });
  const port = await listen(server);
  const client = await connectTls(port);
  const conn = await withTimeout(opened.length ? Promise.resolve(opened.shift()) : new Promise((r) => waiters.push(r)), 10000, 'open');
  assert.equal(conn.req.url, '/secure');
  assert.equal('upgradeReq' in conn.ws, false);
  await exchange(client, conn);

  // The server closes: the client gets the code and reason, answers, and the server ends TCP.
  conn.ws.close(4000, REASON);
  const frame = await withTimeout(client.nextFrame(), 10000, 'close frame');
  assert.equal(frame.opcode, OP.CLOSE);
  assert.equal(frame.closeCode, 4000);
  assert.equal(frame.closeReason.toString(), REASON);
  assert.equal(conn.ws.readyState, lib.WebSocket.CLOSING);
  await client.write(close(4000, 'bye'));
  const closed = await withTimeout(conn.closed, 10000, 'server close event');
  assert.equal(closed.code, 4000);
  assert.equal(closed.reason.toString(), 'bye');
  const ended = await withTimeout(client.closed, 10000, 'TCP close');
  assert.equal(ended.serverEndedFirst, true);
  assert.equal(conn.errors.length, 0);
});

test('the test certificate is a valid self-signed X.509 certificate for its key', () => {
  const x509 = new crypto.X509Certificate(cert);
  assert.equal(x509.subject, 'CN=native-ws test only');
  assert.ok(x509.checkPrivateKey(crypto.createPrivateKey(key)));
  assert.ok(x509.verify(x509.publicKey));
  assert.ok(x509.checkIP('127.0.0.1'));
});
