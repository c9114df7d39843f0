'use strict';

// RSS per idle connection, native-ws vs ws, with and without permessage-deflate.
// Each connection completes the handshake and (with deflate) exchanges one
// ~2 KiB JSON message, so compression contexts exist; then all sit idle.
// Server RSS is read (after a GC) before connecting, right after, and after
// an idle period longer than native-ws's compressor sweep.
//   node bench/memory.js [--connections 5000] [--idle 12]

const { fork } = require('node:child_process');
const path = require('node:path');
const WS = require('ws');

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const CONNECTIONS = option('--connections', 5000);
const IDLE_SECONDS = option('--idle', 12);
const MESSAGE = JSON.stringify({ type: 'update', items: Array.from({ length: 30 }, (_, i) => ({ id: i, name: `item-${i}`, price: i * 1.5 })) });

function startServer(file, deflate, port) {
  const child = fork(path.join(__dirname, 'servers', file), [], {
    env: { ...process.env, PORT: String(port), DEFLATE: deflate ? '1' : '0' },
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  return new Promise((resolve) => child.stdout.once('data', () => resolve(child)));
}

function rss(child) {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m.rss));
    child.send('rss');
  });
}

async function openClients(port, deflate) {
  const clients = [];
  const batch = 200;
  for (let i = 0; i < CONNECTIONS; i += batch) {
    const opened = [];
    for (let j = i; j < Math.min(CONNECTIONS, i + batch); j++) {
      const ws = new WS(`ws://127.0.0.1:${port}/`, { perMessageDeflate: deflate });
      clients.push(ws);
      opened.push(
        new Promise((resolve, reject) => {
          ws.once('error', reject);
          ws.once('open', () => {
            if (!deflate) return resolve();
            ws.once('message', () => resolve());
            ws.send(MESSAGE);
          });
        })
      );
    }
    await Promise.all(opened);
  }
  return clients;
}

async function measure(name, file, deflate, port) {
  const server = await startServer(file, deflate, port);
  try {
    const before = await rss(server);
    const clients = await openClients(port, deflate);
    const busy = await rss(server);
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idle = await rss(server);
    for (const c of clients) c.terminate();
    const kib = (bytes) => (bytes / CONNECTIONS / 1024).toFixed(1);
    return { name, deflate, afterMessage: kib(busy - before), idle: kib(idle - before), idleBytes: (idle - before) / CONNECTIONS };
  } finally {
    server.kill('SIGKILL');
  }
}

async function main() {
  const rows = [];
  let port = 19300 + (process.pid % 300);
  for (const deflate of [false, true]) {
    for (const [name, file] of [['native-ws', 'native-echo.js'], ['ws', 'ws-echo.js']]) {
      rows.push(await measure(name, file, deflate, port++));
    }
  }
  console.log(`\nRSS per idle connection, ${CONNECTIONS} connections, Node ${process.version}`);
  console.log('| server | permessage-deflate | KiB/conn after one message | KiB/conn idle ' + IDLE_SECONDS + ' s | vs ws (idle) |');
  console.log('|---|---|---:|---:|---:|');
  for (const row of rows) {
    const ws = rows.find((r) => r.name === 'ws' && r.deflate === row.deflate);
    console.log(`| ${row.name} | ${row.deflate ? 'on' : 'off'} | ${row.afterMessage} | ${row.idle} | ${(row.idleBytes / ws.idleBytes).toFixed(2)}× |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
