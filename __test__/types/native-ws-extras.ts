// What native-ws adds to ws's API, and the ws names that @types/ws's ESM view
// lacks but native-ws has at run time (WebSocket.Server, WebSocket.WebSocketServer,
// the named WebSocket import). types.test.js compiles it with tsc --strict for
// CommonJS and nodenext ESM and runs it against real servers on 127.0.0.1.
import * as net from 'node:net';
import { strict as assert } from 'node:assert';
import WebSocket, { WebSocket as NamedWebSocket, Server, accept, ProtocolError, HandshakeError, FrameParser, Topics, redisBackplane, Sender } from 'native-ws';
import { acceptKey, parseUpgradeRequest, buildAcceptResponse, encodeFrame, decodeFrame, encodeClose, decodeClose } from 'native-ws';
import type { AcceptOptions, AcceptedRequest, Backplane, ConnectionLimits, FrameOptions, ParsedEvent, PublishOptions, RawData, SendOptions, UpgradeRequestLike } from 'native-ws';

// The same class under every name ws code uses.
const ServerClass: typeof Server = WebSocket.Server;
assert.equal(ServerClass, WebSocket.WebSocketServer);
assert.equal(NamedWebSocket, WebSocket);
assert.equal(WebSocket.OPEN, 1);

// The primitives.
assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
const request = Buffer.from('GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
const parsed = parseUpgradeRequest(request);
assert.ok(parsed !== null && parsed.url === '/chat' && parsed.bytesUsed === request.length);
assert.match(buildAcceptResponse(parsed.key), /^HTTP\/1\.1 101/);
try {
  parseUpgradeRequest(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  assert.fail('a request without Upgrade must be refused');
} catch (err) {
  assert.ok(err instanceof HandshakeError);
  assert.equal(err.statusCode, 400);
}
const frame = decodeFrame(encodeFrame({ opcode: 2, payload: Buffer.from([9]), mask: true }));
assert.ok(frame !== null && frame.masked && frame.payload[0] === 9);
assert.deepEqual(decodeClose(encodeClose(1000, 'bye')), { code: 1000, reason: 'bye' });
const events: ParsedEvent[] = new FrameParser({ maxPayload: 4 }).push(encodeFrame({ payload: 'hi', mask: true }));
assert.equal(events[0].type, 'message');
try {
  new FrameParser({ maxPayload: 4 }).push(encodeFrame({ payload: 'too long', mask: true }));
  assert.fail('over maxPayload must throw');
} catch (err) {
  assert.ok(err instanceof ProtocolError);
  assert.equal(err.closeCode, 1009);
  // ws's class for the rule: a RangeError.
  const asRange: RangeError = err;
  assert.ok(asRange instanceof RangeError);
  const made: RangeError = new ProtocolError('Invalid WebSocket frame: invalid opcode 5', 1002, 'WS_ERR_INVALID_OPCODE');
  assert.equal((made as ProtocolError).errno, undefined);
}

// ws's static Sender.frame(), which socket.io's adapter uses to frame a broadcast once.
assert.equal(WebSocket.Sender, Sender);
const frameOptions: FrameOptions = { opcode: 1, fin: true, rsv1: false, mask: false, readOnly: true };
const framed: Buffer[] = Sender.frame('hi', frameOptions);
assert.deepEqual(Buffer.concat(framed), Buffer.from([0x81, 0x02, 0x68, 0x69]));

// Compiled, not run (it needs a Redis server; redis-backplane.test.js runs it).
export function serverWithRedis(url: string): Server {
  const backplane = redisBackplane({ url, maxQueued: 100 });
  backplane.on('error', (err: Error) => console.log(err.message, backplane.stats.dropped, backplane.connected));
  const asInterface: Backplane = backplane;
  return new WebSocket.Server({ port: 0, backplane: asInterface });
}

// accept() on a raw net server with the limit and backpressure options; a
// 'fragments' client echoes its Buffer[] message straight back.
const limits: ConnectionLimits = {
  maxPayload: 1 << 16,
  idleTimeout: 30,
  maxBackpressure: 1 << 20,
  backpressurePolicy: 'drop',
  closeGraceTimeout: 1000,
  // ws 8's receiver options.
  maxFragments: 1024,
  maxBufferedChunks: 4096,
  maxPendingAutoPongs: 10,
  skipUTF8Validation: false,
  allowSynchronousEvents: true,
};
const acceptOptions: AcceptOptions = { ...limits, handshakeTimeout: 5000, maxHeaderBytes: 8192 };
const hub = new Topics();
const rawServer = net.createServer((socket) => {
  // accept()'s path and asynchronous verifyClient, as on WebSocketServer.
  const ws = accept(socket, {
    ...acceptOptions,
    topics: hub,
    path: '/raw',
    verifyClient: (info, done) => done(!info.secure, 403, 'Forbidden', { 'X-Reason': 'plain TCP only' }),
  });
  ws.on('headers', (headers: string[], req: AcceptedRequest) => headers.push(`X-Path: ${req.url}`));
  // @ts-expect-error upgradeReq is not part of native-ws (nor of ws): the request comes with 'open'
  assert.equal(ws.upgradeReq, undefined);
  ws.on('open', (req: AcceptedRequest) => {
    ws.send(`hello ${req.url}`);
    const fresh: boolean = ws.subscribe('news');
    assert.ok(fresh && ws.isSubscribed('news') && ws.topics.length === 1);
  });
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const options: SendOptions = { binary: isBinary, compress: false };
    ws.send(data, options);
  });
});

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString();
  return (data instanceof ArrayBuffer ? Buffer.from(data) : data).toString();
}

async function main(): Promise<void> {
  await new Promise<void>((resolve) => rawServer.listen(0, '127.0.0.1', () => resolve()));
  const address = rawServer.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  // A server on a port with its own handshake limit, created and closed.
  const portServer = new ServerClass({ port: 0, host: '127.0.0.1', handshakeTimeout: 5000, closeGraceTimeout: 1000, maxPendingAutoPongs: 10, ...limits });
  await new Promise<void>((resolve) => portServer.close(() => resolve()));

  // handleUpgrade with the request a framework's test tool builds (no
  // IncomingMessage; the version as a number), on one end of a TCP pair.
  const injected = new ServerClass({ noServer: true });
  const injectedRequest: UpgradeRequestLike = {
    method: 'GET',
    url: '/injected',
    headers: { upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': 13 },
  };
  const pairServer = net.createServer((socket) =>
    injected.handleUpgrade(injectedRequest, socket, Buffer.alloc(0), (ws, req) => {
      assert.equal(req.url, '/injected');
      ws.terminate();
    })
  );
  await new Promise<void>((resolve) => pairServer.listen(0, '127.0.0.1', () => resolve()));
  const pairAddress = pairServer.address();
  if (pairAddress === null || typeof pairAddress === 'string') throw new Error('no TCP address');
  const pairClient = net.connect(pairAddress.port, '127.0.0.1');
  const answer = await new Promise<string>((resolve) => pairClient.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
  assert.match(answer, /^HTTP\/1\.1 101 /);
  pairClient.destroy();
  await new Promise<void>((resolve) => pairServer.close(() => resolve()));
  await new Promise<void>((resolve) => injected.close(() => resolve()));

  const client = new NamedWebSocket(`ws://127.0.0.1:${address.port}/raw`, {
    protocols: [],
    closeGraceTimeout: 1000,
    handshakeTimeout: 5000,
    generateMask: (mask: Buffer) => mask.fill(7),
  });
  assert.equal(typeof client.setSocket, 'function');
  client.binaryType = 'fragments';
  const upgraded = new Promise<string | string[] | undefined>((resolve) => client.once('upgrade', (response) => resolve(response.headers['x-path'])));
  const messages: RawData[] = [];
  const got = (count: number) =>
    new Promise<void>((resolve) => {
      const check = () => (messages.length >= count ? resolve() : client.once('message', (data) => (messages.push(data), check())));
      check();
    });
  await got(1);
  assert.equal(textOf(messages[0]), 'hello /raw');
  assert.equal(await upgraded, '/raw', "the 'headers' listener's line reached the client");
  // Published once, framed once, received by the subscriber.
  while (hub.subscriberCount('news') === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const publishOptions: PublishOptions = { binary: false };
  assert.equal(hub.publish('news', 'extra, extra', publishOptions), 1);
  await got(2);
  assert.equal(textOf(messages[1]), 'extra, extra');
  messages.splice(1, 1);
  client.send(Buffer.from('fragments echo'));
  await got(2);
  const echoed = messages[1];
  assert.ok(Array.isArray(echoed), 'binaryType fragments hands over Buffer[]');
  client.send(echoed);
  await got(3);
  assert.ok(Array.isArray(messages[2]));
  assert.equal(textOf(messages[2]), 'fragments echo');
  // A Blob is sent as binary; binaryType 'blob' hands binary messages over as Blobs.
  client.binaryType = 'blob';
  const blobEcho = new Promise<Blob>((resolve) => client.once('message', (data: unknown) => resolve(data as Blob)));
  client.send(new Blob(['blob echo']));
  assert.equal(await (await blobEcho).text(), 'blob echo');
  client.send();
  const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
  client.close(1000);
  assert.equal(await closed, 1000);
  await new Promise<void>((resolve) => rawServer.close(() => resolve()));
  await hub.close();
  console.log('native-ws extras ok');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
