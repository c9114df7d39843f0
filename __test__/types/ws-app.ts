// A ws-style program written against ws + @types/ws. types.test.js compiles
// it as it is and again with only the module name 'ws' changed to
// 'native-ws', with tsc --strict for CommonJS and for nodenext ESM, and runs
// every build against real servers on 127.0.0.1. No casts: what compiles
// against @types/ws must compile against native-ws's typings.
import * as http from 'node:http';
import { strict as assert } from 'node:assert';
import WebSocket, { WebSocketServer, createWebSocketStream } from 'ws';
import type {
  AddressInfo,
  ClientOptions,
  Data,
  PerMessageDeflateOptions,
  RawData,
  ServerOptions,
  VerifyClientCallbackAsync,
} from 'ws';

function text(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString();
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString();
  return data.toString();
}

function portOf(address: AddressInfo | string | null): number {
  if (address === null || typeof address === 'string') throw new Error(`not a TCP address: ${address}`);
  return address.port;
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: RawData; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data, isBinary })));
}

function closed(ws: WebSocket): Promise<[number, string]> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
}

// Server 1: its own port, permessage-deflate, an async verifyClient, echo and broadcast.
const verifyClient: VerifyClientCallbackAsync = (info, done) => {
  if (info.req.headers['x-token'] === 'let-me-in') done(true);
  else done(false, 401, 'Unauthorized');
};
const deflate: PerMessageDeflateOptions = { threshold: 16, serverNoContextTakeover: true, zlibDeflateOptions: { level: 3 } };
const serverOptions: ServerOptions = { port: 0, host: '127.0.0.1', perMessageDeflate: deflate, verifyClient, maxPayload: 1 << 20 };
const wss = new WebSocketServer(serverOptions);
wss.on('connection', (ws, req) => {
  ws.on('error', (err) => console.error('server socket error', err.message));
  ws.on('message', (data, isBinary) => {
    if (!isBinary && text(data) === 'broadcast') {
      wss.clients.forEach((client) => {
        if (client.readyState === WebSocket.OPEN) client.send('news for everyone');
      });
      return;
    }
    ws.send(data, { binary: isBinary });
  });
  ws.send(`welcome ${req.headers['x-token']}`);
});

// Server 2: an http server of our own; its 'upgrade' event feeds a noServer
// WebSocketServer whose connections are a class of ours, with ws's receiver options.
class ShoutSocket extends WebSocket {
  shouts = 0;
}
const httpServer = http.createServer((req, res) => res.end('plain http'));
const upgrades = new WebSocketServer({
  noServer: true,
  WebSocket: ShoutSocket,
  allowSynchronousEvents: false,
  skipUTF8Validation: false,
  maxFragments: 64,
  maxBufferedChunks: 1024,
});
httpServer.on('upgrade', (req, socket, head) => {
  if (req.url !== '/shout') {
    socket.destroy();
    return;
  }
  upgrades.handleUpgrade(req, socket, head, (ws) => upgrades.emit('connection', ws, req));
});
upgrades.on('connection', (ws) => {
  assert.ok(ws instanceof ShoutSocket);
  ws.shouts++;
  const duplex = createWebSocketStream(ws);
  duplex.on('error', () => {});
  duplex.on('data', (chunk: Buffer) => duplex.write(chunk.toString().toUpperCase()));
});

async function main(): Promise<void> {
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', () => resolve()));
  const url = `ws://127.0.0.1:${portOf(wss.address())}/`;
  const clientOptions: ClientOptions = { headers: { 'x-token': 'let-me-in' }, handshakeTimeout: 5000, perMessageDeflate: true };

  const client = new WebSocket(url, clientOptions);
  const welcome = nextMessage(client);
  await opened(client);
  assert.equal(text((await welcome).data), 'welcome let-me-in');
  assert.equal(client.extensions, 'permessage-deflate');

  const long = 'compressible '.repeat(20);
  client.send(long);
  const echoedText = await nextMessage(client);
  assert.deepEqual([text(echoedText.data), echoedText.isBinary], [long, false]);
  client.send(Buffer.from([1, 2, 3]));
  const echoedBytes = await nextMessage(client);
  assert.deepEqual([text(echoedBytes.data), echoedBytes.isBinary], [Buffer.from([1, 2, 3]).toString(), true]);

  const viaEvent = new Promise<Data>((resolve) => client.addEventListener('message', (ev) => resolve(ev.data), { once: true }));
  client.send('through addEventListener');
  assert.equal(await viaEvent, 'through addEventListener');

  const other = new WebSocket(url, { headers: { 'x-token': 'let-me-in' }, handshakeTimeout: 5000 });
  const otherWelcome = nextMessage(other);
  await opened(other);
  await otherWelcome;
  const news = [nextMessage(client), nextMessage(other)];
  client.send('broadcast');
  for (const message of await Promise.all(news)) assert.equal(text(message.data), 'news for everyone');

  const refused = new WebSocket(url, { handshakeTimeout: 5000 });
  const refusal = await new Promise<Error>((resolve) => refused.on('error', resolve));
  assert.match(refusal.message, /401/);

  const shouter = new WebSocket(`ws://127.0.0.1:${portOf(httpServer.address())}/shout`);
  await opened(shouter);
  const shouted = nextMessage(shouter);
  shouter.send('quiet words');
  assert.equal(text((await shouted).data), 'QUIET WORDS');

  const closing = [closed(client), closed(other), closed(shouter)];
  client.close(1000, 'done');
  other.close();
  shouter.close(4000, 'bye');
  assert.deepEqual(await Promise.all(closing), [[1000, 'done'], [1005, ''], [4000, 'bye']]);

  await new Promise<void>((resolve) => wss.close(() => resolve()));
  await new Promise<void>((resolve) => upgrades.close(() => resolve()));
  await new Promise<void>((resolve) => httpServer.close(() => resolve()));
  console.log('ws-app ok');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
