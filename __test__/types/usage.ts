// Compiled (not run) by types.test.js: the typings must accept ws-style code.
import * as http from 'http';
import * as net from 'net';
import WebSocket = require('../../index');
import { WebSocketServer, accept, FrameParser, encodeFrame, decodeFrame, encodeClose, decodeClose, acceptKey } from '../../index';

const wss = new WebSocketServer({ port: 0, maxPayload: 1024, handleProtocols: (p) => (p.has('chat') ? 'chat' : false) });
wss.on('connection', (ws: WebSocket, req: http.IncomingMessage) => {
  ws.on('message', (data, isBinary: boolean) => ws.send(data as Buffer, { binary: isBinary }));
  ws.on('close', (code: number, reason: Buffer) => console.log(code, reason.toString()));
  ws.close(1000, '孩子,地球太危险了,快回火星去吧!');
  const state: number = ws.readyState === WebSocket.OPEN ? ws.bufferedAmount : 0;
  console.log(state, req.url);
});
wss.close();
new WebSocketServer({ port: 0, handshakeTimeout: 5000, closeGraceTimeout: 1000 }).close();
new WebSocket('ws://127.0.0.1:1', { closeGraceTimeout: 1000 }).terminate();

net.createServer((socket) => {
  const ws = accept(socket, { handshakeTimeout: 5000, closeGraceTimeout: 1000 });
  ws.on('open', (req) => console.log(req.url));
  ws.onmessage = (event) => console.log(event.data);
});

const parser = new FrameParser({ maxPayload: 10 });
for (const event of parser.push(encodeFrame({ payload: 'hi', mask: true }))) {
  if (event.type === 'message') console.log(event.data.length, event.isBinary);
  if (event.type === 'close') console.log(event.code, event.reason);
}
const frame = decodeFrame(Buffer.alloc(2));
if (frame) console.log(frame.opcode, frame.bytesUsed);
console.log(decodeClose(encodeClose(1000, 'bye')).reason, acceptKey('x'));

// Topics, frame-once publish and a Redis backplane.
import { Topics, redisBackplane } from '../../index';
const backplane = redisBackplane({ url: 'redis://127.0.0.1:6379', maxQueued: 100 });
backplane.on('error', (err: Error) => console.log(err.message, backplane.stats.dropped, backplane.connected));
const hubbed = new WebSocketServer({ port: 0, backplane });
hubbed.on('connection', (ws) => {
  const fresh: boolean = ws.subscribe('room');
  console.log(fresh, ws.isSubscribed('room'), ws.topics.length, ws.unsubscribe('room'));
  const recipients: number = hubbed.publish('room', 'hello', { binary: false, compress: true });
  console.log(recipients, hubbed.subscriberCount('room'), hubbed.topics.topics);
});
const hub = new Topics();
net.createServer((socket) => {
  const ws = accept(socket, { topics: hub });
  ws.on('open', () => ws.subscribe('news'));
});
hub.publish('news', Buffer.from([1, 2, 3]));
hub.synced().then(() => hub.close());
