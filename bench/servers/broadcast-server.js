'use strict';

// Broadcast server for bench/broadcast.js, driven over IPC. MODE:
//   native    native-ws: every connection subscribes to 'bench'; wss.publish()
//   ws-loop   ws: wss.clients.forEach(c => c.send(m))
//   ws-frame  ws: one WebSocket.Sender.frame() per message, then a raw
//             socket.write() of those same bytes per client (pre-framed)
// DEFLATE: '' (off), 'shared' (serverNoContextTakeover) or 'takeover'.
// BACKPLANE=redis with REDIS_URL: native-ws with a Redis backplane; with
// IDLE_CHANNEL=1 it also holds the Redis channel of 'bench' without any local
// subscriber (what every process would receive if all topics shared one channel).
// Messages from the parent:
//   { burst: n, size, perTurn } publishes n messages of `size` bytes, perTurn (default 1) per event-loop turn; answers { done, cpu }
//   { rate, seconds, size } publishes `rate` messages/s for `seconds`; answers { lag: {p50, p99, max} (ms), published, cpu }
//   { stats }               answers { clients, cpu }

const { monitorEventLoopDelay } = require('node:perf_hooks');

const MODE = process.env.MODE;
const DEFLATE = process.env.DEFLATE || '';
const TOPIC = 'bench';

function payloadOf(size) {
  // JSON-like ASCII text, compressible as real messages are.
  const unit = '{"t":"tick","v":12345,"s":"abcdefgh"}';
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

function deflateOption() {
  if (DEFLATE === 'shared') return { serverNoContextTakeover: true, clientNoContextTakeover: true };
  if (DEFLATE === 'takeover') return true;
  return false;
}

let publish;
let clientCount;
let received = () => 0;

if (MODE === 'native') {
  const { WebSocketServer, redisBackplane } = require('../..');
  const backplane = process.env.BACKPLANE === 'redis' ? redisBackplane({ url: process.env.REDIS_URL }) : undefined;
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', backlog: 4096, perMessageDeflate: deflateOption(), backplane });
  wss.on('connection', (ws) => {
    ws.subscribe(TOPIC);
    ws.on('error', () => {});
  });
  publish = (message) => wss.publish(TOPIC, message);
  clientCount = () => wss.subscriberCount(TOPIC);
  received = () => (backplane ? backplane.stats.received : 0);
  wss.on('listening', async () => {
    await wss.topics.synced();
    if (backplane && process.env.IDLE_CHANNEL === '1') await backplane.subscribe(TOPIC);
    process.send({ port: wss.address().port });
  });
} else {
  const WS = require('ws');
  const wss = new WS.WebSocketServer({ port: 0, host: '127.0.0.1', backlog: 4096, perMessageDeflate: deflateOption() });
  wss.on('connection', (ws) => ws.on('error', () => {}));
  if (MODE === 'ws-loop') {
    publish = (message) => {
      for (const client of wss.clients) client.send(message);
    };
  } else if (MODE === 'ws-frame') {
    publish = (message) => {
      const list = WS.Sender.frame(Buffer.from(message), { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false });
      const frame = list.length === 1 ? list[0] : Buffer.concat(list);
      for (const client of wss.clients) client._socket.write(frame);
    };
  } else {
    throw new Error(`unknown MODE ${MODE}`);
  }
  clientCount = () => wss.clients.size;
  wss.on('listening', () => process.send({ port: wss.address().port }));
}

function cpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function burst(n, size, perTurn = 1) {
  const message = payloadOf(size);
  for (let i = 0; i < n; i += perTurn) {
    for (let j = i; j < Math.min(n, i + perTurn); j++) publish(message);
    await new Promise(setImmediate);
  }
  process.send({ done: n, cpu: cpuSeconds() });
}

async function steady(rate, seconds, size) {
  const message = payloadOf(size);
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const start = process.hrtime.bigint();
  const cpuBefore = cpuSeconds();
  let published = 0;
  const total = Math.round(rate * seconds);
  await new Promise((resolve) => {
    const tick = () => {
      const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
      // Catch up on schedule: the publisher never sends ahead of the rate.
      while (published < total && published < elapsed * rate) {
        publish(message);
        published++;
      }
      if (published >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  histogram.disable();
  const ms = (ns) => ns / 1e6;
  process.send({
    lag: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) },
    published,
    cpu: cpuSeconds() - cpuBefore,
  });
}

process.on('message', (msg) => {
  if (msg.burst !== undefined) burst(msg.burst, msg.size, msg.perTurn);
  else if (msg.rate !== undefined) steady(msg.rate, msg.seconds, msg.size);
  else if (msg.stats) process.send({ clients: clientCount(), cpu: cpuSeconds(), user: process.cpuUsage().user / 1e6, received: received() });
});
