'use strict';

// Several processes, one set of topics: Node's cluster forks workers that
// share one port, and a Redis backplane carries each worker's publishes to
// the others. A client connects to ws://127.0.0.1:8080/<topic>, receives every
// message published on <topic> by anyone on any worker, and publishes what it
// sends.
//
//   redis-server --port 6379 --save "" --appendonly no &
//   node examples/cluster.js            # PORT=8080 WORKERS=2 REDIS_URL=redis://127.0.0.1:6379
//
// Where the running Node offers `reusePort` (22.12+, 23.1+; Linux), each worker
// listens on its own socket and the kernel spreads connections; otherwise the
// workers share the primary's handle, as cluster does by default.

const cluster = require('node:cluster');
const http = require('node:http');
const os = require('node:os');
const { WebSocketServer, redisBackplane } = require('..');

const PORT = Number(process.env.PORT || 8080);
const HOST = process.env.HOST || '127.0.0.1';
const WORKERS = Number(process.env.WORKERS || Math.min(2, os.availableParallelism ? os.availableParallelism() : os.cpus().length));
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** Whether net.Server#listen takes `reusePort` in this Node (added in 22.12 and 23.1). */
function hasReusePort() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  return process.platform === 'linux' && (major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12));
}

if (cluster.isPrimary) {
  console.log(`primary ${process.pid}: ${WORKERS} workers on ws://${HOST}:${PORT}/<topic>, ` +
    `${hasReusePort() ? 'reusePort' : "cluster's shared handle"}, backplane ${REDIS_URL}`);
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => console.log(`worker ${worker.process.pid} exited (${signal || code})`));
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers)) worker.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const backplane = redisBackplane({ url: REDIS_URL });
  backplane.on('error', (err) => console.error(`worker ${process.pid}: redis: ${err.message}`));
  let wss;
  if (hasReusePort()) {
    const server = http.createServer((req, res) => res.writeHead(426).end());
    server.listen({ port: PORT, host: HOST, reusePort: true, exclusive: true });
    wss = new WebSocketServer({ server, backplane });
  } else {
    wss = new WebSocketServer({ port: PORT, host: HOST, backplane });
  }
  wss.on('connection', (ws, req) => {
    const topic = decodeURIComponent(req.url.slice(1).split('?')[0]) || 'lobby';
    ws.subscribe(topic);
    ws.send(`worker ${process.pid}: subscribed to ${topic}`);
    ws.on('message', (data, isBinary) => wss.publish(topic, data, { binary: isBinary }));
  });
  wss.on('listening', () => console.log(`worker ${process.pid} listening`));
  process.on('SIGTERM', () => wss.close(() => process.exit(0)));
}
