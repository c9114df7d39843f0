#!/usr/bin/env node
'use strict';

// Soak and load test of native-ws on loopback (not part of `npm test`).
//
//   node bench/soak.js [--seconds 120] [--clients 2000] [--procs 2] [--deflate]
//
// An echo server (WebSocketServer on an http.Server listening on port 0, and
// net.createServer + accept() on another port 0) runs in a child process
// (pinned to CPU 0 with taskset when it exists) so that its RSS and open file
// descriptors can be read from /proc. Client processes (CPU 1) keep
// `--clients` well-behaved connections (the `ws` client) busy with messages of
// mixed sizes, text and binary, verifying every echo byte for byte; each
// connection closes with 1000 after a random lifetime and reconnects. Beside
// them, raw-socket clients misbehave in a loop: drop mid-frame (or
// mid-handshake), never read while sending, send garbage (instead of a request,
// after the handshake, or an over-maxPayload header), and open and vanish (the
// server's handshake timeouts must close those). At the end all clients close,
// the server is left to settle and collects garbage (IPC 'gc'), and a table
// reports server RSS and fds at start/peak/end, messages sent / verified / lost
// / altered, and what the misbehaving clients got. Exit status 1 if a message
// was lost or altered, fds were left open, or a vanished client was not cleaned up.
//
// Options (defaults in DEFAULTS): --seconds, --clients, --procs (client
// processes), --inflight (messages in flight per connection), --interval (mean
// ms between sends), --lifetime (mean s before a clean close; 0 = never),
// --misbehavers (concurrent misbehaving clients of each kind per process),
// --max-backpressure (server option, bytes; 0 = unbounded), --timeout (ms: the
// server's accept() handshakeTimeout and http headersTimeout), --settle (s),
// --deflate (permessage-deflate on both sides, no context takeover),
// --server-lib ws (the same server on the ws library, for comparison),
// --rounds N (N rounds of --seconds each against the same server, fresh
// clients each time, RSS read after each: retained-but-reused memory stays
// flat from round to round, a leak grows).

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');

const DEFAULTS = {
  seconds: 120,
  clients: 2000,
  procs: 2,
  inflight: 2,
  interval: 1000,
  lifetime: 30,
  misbehavers: 12,
  maxPayload: 1 << 20,
  maxBackpressure: 1 << 20,
  timeout: 10000,
  settle: 5,
  deflate: false,
  serverLib: 'native-ws',
  rounds: 1,
};

function parseArgs(argv) {
  if (argv.includes('--help')) {
    const header = fs.readFileSync(__filename, 'utf8').split('\n\n')[1];
    console.log(header.replace(/^\/\/ ?/gm, '') + `\ndefaults: ${JSON.stringify(DEFAULTS)}`);
    process.exit(0);
  }
  const opts = { ...DEFAULTS, role: 'main' };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unknown argument ${argv[i]}`);
    const key = m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in opts) && key !== 'config') throw new Error(`unknown option --${m[1]}`);
    if (typeof opts[key] === 'boolean') {
      opts[key] = m[2] === undefined ? true : m[2] !== 'false';
      continue;
    }
    const value = m[2] !== undefined ? m[2] : argv[++i];
    opts[key] = typeof DEFAULTS[key] === 'number' ? Number(value) : value;
  }
  return opts;
}

const MiB = 1024 * 1024;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const rand = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1));
const bump = (map, key, n = 1) => {
  map[key] = (map[key] || 0) + n;
};

// ---------------------------------------------------------------------------
// Orchestrator
// ---------------------------------------------------------------------------

function hasTaskset() {
  try {
    require('node:child_process').execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Starts this script in `role`; raises the soft fd limit to the hard one, pins to `cpu`. */
function spawnRole(role, cpu, config, nodeFlags = []) {
  const node = [process.execPath, ...nodeFlags, __filename, `--role=${role}`, `--config=${Buffer.from(JSON.stringify(config)).toString('base64')}`];
  const pinned = TASKSET ? ['taskset', '-c', String(cpu), ...node] : node;
  const script = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"';
  return spawn('/bin/sh', ['-c', script, 'sh', ...pinned], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function request(child, type, extra = {}) {
  return new Promise((resolve) => {
    const onMessage = (m) => {
      if (m.type !== `${type}:reply`) return;
      child.removeListener('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
    child.send({ type, ...extra });
  });
}

function readRss(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

function listFds(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return `${fd} -> ${fs.readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
      } catch {
        return `${fd} -> ?`;
      }
    });
  } catch {
    return [];
  }
}

function cpuSeconds(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    return NaN;
  }
}

const TASKSET = process.platform === 'linux' && hasTaskset();

function mergeStats(list) {
  const out = {};
  for (const s of list) {
    for (const [k, v] of Object.entries(s)) {
      if (typeof v === 'number') out[k] = /max/i.test(k) ? Math.max(out[k] || 0, v) : (out[k] || 0) + v;
      else if (v && typeof v === 'object') {
        out[k] = out[k] || {};
        for (const [kk, vv] of Object.entries(v)) bump(out[k], kk, vv);
      }
    }
  }
  return out;
}

async function main(opts) {
  if (process.platform !== 'linux') throw new Error('bench/soak.js reads /proc: Linux only');
  const config = { ...opts };
  delete config.role;
  const server = spawnRole('server', 0, config, ['--expose-gc']);
  const ports = await new Promise((resolve, reject) => {
    server.once('message', resolve);
    server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const pid = server.pid;
  await request(server, 'gc');
  await sleep(300);
  const startMemory = (await request(server, 'gc')).memory;
  const start = { rss: readRss(pid), fds: listFds(pid), cpu: cpuSeconds(pid), memory: startMemory };
  let peakRss = start.rss;
  let peakFds = start.fds.length;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, readRss(pid) || 0);
    try {
      peakFds = Math.max(peakFds, fs.readdirSync(`/proc/${pid}/fd`).length);
    } catch {}
  }, 250);

  const perProc = Math.ceil(opts.clients / opts.procs);
  const finals = [];
  const afterRound = [];
  let elapsed = 0;
  let last;
  for (let round = 1; round <= opts.rounds; round++) {
    const clients = [];
    for (let i = 0; i < opts.procs; i++) {
      const count = Math.min(perProc, opts.clients - i * perProc);
      clients.push(spawnRole('client', 1, { ...config, ...ports, id: i, count }));
    }
    const progress = new Map();
    for (const [i, c] of clients.entries()) {
      c.on('message', (m) => {
        if (m.type === 'progress') progress.set(i, m.stats);
      });
    }
    const began = Date.now();
    const label = opts.rounds > 1 ? `round ${round} ` : '';
    const ticker = setInterval(async () => {
      const s = mergeStats([...progress.values()]);
      const t = ((Date.now() - began) / 1000).toFixed(0);
      const rss = readRss(pid);
      const { memory } = await request(server, 'memory');
      console.error(
        `[${label}${t}s] open ${s.open || 0}  verified ${s.verified || 0}  lost ${s.lost || 0}  altered ${s.altered || 0}  ` +
          `server RSS ${(rss / MiB).toFixed(0)} MiB (JS heap ${(memory.heapUsed / MiB).toFixed(0)}, external ${(memory.external / MiB).toFixed(0)}), fds ${listFds(pid).length}`
      );
    }, 10000);
    await sleep(opts.seconds * 1000);
    clearInterval(ticker);
    console.error(`[${label}${opts.seconds}s] stopping: draining echoes, closing every client`);
    finals.push(...(await Promise.all(clients.map((c) => request(c, 'stop')))));
    elapsed += (Date.now() - began) / 1000;
    await Promise.all(clients.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve() : c.once('exit', resolve)))));
    await sleep(opts.settle * 1000);
    await request(server, 'gc');
    await sleep(500);
    last = await request(server, 'gc');
    afterRound.push(readRss(pid));
  }
  const stats = mergeStats(finals.map((f) => f.stats));
  const serverStats = last.stats;
  clearInterval(sampler);
  const end = { rss: readRss(pid), fds: listFds(pid), cpu: cpuSeconds(pid), memory: last.memory };
  server.send({ type: 'exit' });

  const leaked = end.fds.filter((line) => !start.fds.some((s) => s.split(' -> ')[0] === line.split(' -> ')[0]));
  const report = buildReport(opts, { start, end, peakRss, peakFds, stats, serverStats, elapsed, leaked, afterRound });
  console.log(report.text);
  process.exitCode = report.ok ? 0 : 1;
}

function buildReport(opts, r) {
  const { stats: s, serverStats: ss } = r;
  const mib = (b) => `${(b / MiB).toFixed(1)} MiB`;
  const fmt = (n) => (n || 0).toLocaleString('en-US');
  const kv = (map) =>
    Object.entries(map || {})
      .sort()
      .map(([k, v]) => `${k}: ${fmt(v)}`)
      .join(', ') || '-';
  const lost = s.lost || 0;
  const altered = s.altered || 0;
  const vanishLeft = s.vanishNotCleaned || 0;
  const fdsOk = r.end.fds.length <= r.start.fds.length;
  const ok = lost === 0 && altered === 0 && fdsOk && vanishLeft === 0 && (s.unexpected || 0) === 0;
  const rows = [
    ['duration', `${opts.serverLib} server, ${r.elapsed.toFixed(0)} s of traffic${opts.rounds > 1 ? ` in ${opts.rounds} rounds` : ''}, ${opts.clients} connections from ${opts.procs} client processes${TASKSET ? ', server on CPU 0, clients on CPU 1' : ''}`],
    ['server RSS', `start ${mib(r.start.rss)}, peak ${mib(r.peakRss)}, end ${mib(r.end.rss)} (after close, ${opts.settle} s settle, gc)${r.afterRound.length > 1 ? `; after each round ${r.afterRound.map(mib).join(', ')}` : ''}`],
    ['server JS heap', `used ${mib(r.start.memory.heapUsed)} → ${mib(r.end.memory.heapUsed)}, total ${mib(r.start.memory.heapTotal)} → ${mib(r.end.memory.heapTotal)}, external ${mib(r.start.memory.external)} → ${mib(r.end.memory.external)} (start → end)`],
    ['server fds', `start ${r.start.fds.length}, peak ${r.peakFds}, end ${r.end.fds.length}${r.leaked.length ? ` — left open: ${r.leaked.slice(0, 5).join('; ')}` : ''}`],
    ['CPU, loop lag', `server ${(r.end.cpu - r.start.cpu).toFixed(1)} s CPU, event loop delay max ${ss.maxLagMs} ms; clients' max delay ${s.maxLagMs} ms`],
    ['connections', `opened ${fmt(s.opened)}, closed 1000 by client ${fmt(s.cleanCloses)}, other closes ${kv(s.otherCloses)}, connect errors ${fmt(s.connectErrors)}`],
    ['messages', `sent ${fmt(s.sent)}, verified ${fmt(s.verified)}, lost ${fmt(lost)}, altered ${fmt(altered)}, unexpected ${fmt(s.unexpected)} (${mib(s.bytesVerified || 0)} echoed)`],
    ['drop mid-frame', `${fmt(s.dropFrame)} (+ ${fmt(s.dropHandshake)} mid-handshake)`],
    ['never read', `${fmt(s.neverRead)} clients sent ${mib(s.neverReadBytes || 0)}; server refused ${fmt(ss.backpressureDrops)} echoes (maxBackpressure ${opts.maxBackpressure ? mib(opts.maxBackpressure) : 'off'})`],
    ['garbage', `${fmt(s.garbage)}: ${kv(s.garbageOutcome)}`],
    ['open and vanish', `${fmt(s.vanish)}: closed by the server ${fmt(s.vanishCleaned)} (after ${((s.vanishCleanMs || 0) / Math.max(1, s.vanishCleaned || 0) / 1000).toFixed(1)} s on average, ${((s.vanishMaxMs || 0) / 1000).toFixed(1)} s at most), not closed within ${(3 * opts.timeout) / 1000} s ${fmt(vanishLeft)}`],
    ['server saw', `connections ${fmt(ss.connections)}, close codes ${kv(ss.closeCodes)}, errors ${kv(ss.errors)}, refused handshakes ${kv(ss.refused)}, open now ${ss.openNow}`],
    ['client errors', kv(s.errors)],
    ['result', ok ? 'PASS' : `FAIL${lost || altered ? ' (lost/altered messages)' : ''}${fdsOk ? '' : ' (fds left open)'}${vanishLeft ? ' (vanished clients not cleaned)' : ''}${s.unexpected ? ' (unexpected echoes)' : ''}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const text = ['', 'native-ws soak test', ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`)].join('\n');
  return { ok, text };
}

// ---------------------------------------------------------------------------
// Server process
// ---------------------------------------------------------------------------

function runServer(config) {
  const http = require('node:http');
  const lag = require('node:perf_hooks').monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  const { WebSocketServer, accept } = require('..');
  const stats = { connections: 0, open: 0, closeCodes: {}, errors: {}, refused: {}, backpressureDrops: 0, sendErrors: 0 };
  const perMessageDeflate = config.deflate ? { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 64 } : false;
  const connectionOptions = {
    maxPayload: config.maxPayload,
    maxBackpressure: config.maxBackpressure,
    backpressurePolicy: 'drop',
    closeTimeout: 5000,
    perMessageDeflate,
  };
  function serve(ws) {
    stats.connections++;
    stats.open++;
    ws.on('message', (data, isBinary) => {
      ws.send(data, { binary: isBinary }, (err) => {
        if (!err) return;
        if (err.code === 'WS_ERR_BACKPRESSURE') stats.backpressureDrops++;
        else stats.sendErrors++;
      });
    });
    ws.on('error', (err) => bump(stats.errors, err.closeCode || err.code || err.message));
    ws.on('close', (code) => {
      stats.open--;
      bump(stats.closeCodes, code);
    });
  }
  // Node's defaults (headersTimeout 60 s, checked every 30 s) would clean a
  // silent connection only after up to 90 s; shorter here, like accept()'s.
  const httpServer = http.createServer(
    { headersTimeout: config.timeout, requestTimeout: config.timeout, connectionsCheckingInterval: 1000 },
    (req, res) => res.writeHead(426, { 'Content-Type': 'text/plain' }).end('Upgrade Required')
  );
  httpServer.on('clientError', (err, socket) => {
    bump(stats.refused, `http ${err.code || 'error'}`);
    // As Node's default handler: 408 for a request that timed out, else 400.
    if (!socket.writable) return socket.destroy();
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.once('finish', () => socket.destroy());
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  if (config.serverLib === 'ws') {
    // For comparison: the same echo server on the ws library (no maxBackpressure,
    // no accept(): the second port is another http.Server).
    const WS = require('ws');
    const second = http.createServer({ headersTimeout: config.timeout, requestTimeout: config.timeout, connectionsCheckingInterval: 1000 });
    second.on('clientError', (err, socket) => httpServer.emit('clientError', err, socket));
    for (const srv of [httpServer, second]) {
      const wss = new WS.WebSocketServer({ server: srv, maxPayload: config.maxPayload, perMessageDeflate });
      wss.on('connection', serve);
    }
    return startListening(httpServer, second, stats, lag);
  }
  const wss = new WebSocketServer({ server: httpServer, ...connectionOptions });
  wss.on('connection', serve);
  const acceptServer = net.createServer((socket) => {
    const ws = accept(socket, { ...connectionOptions, handshakeTimeout: config.timeout });
    ws.on('open', () => serve(ws));
    ws.on('error', (err) => {
      if (ws.readyState !== ws.OPEN && err.statusCode) bump(stats.refused, `accept ${err.statusCode}`);
    });
    ws.on('close', () => {});
  });
  startListening(httpServer, acceptServer, stats, lag);
}

function startListening(httpServer, acceptServer, stats, lag) {
  const listening = (srv) => new Promise((resolve) => srv.listen(0, '127.0.0.1', 4096, resolve));
  Promise.all([listening(httpServer), listening(acceptServer)]).then(() => {
    process.send({ wssPort: httpServer.address().port, acceptPort: acceptServer.address().port });
  });
  process.on('message', (m) => {
    if (m.type === 'gc') {
      if (global.gc) global.gc();
      process.send({ type: 'gc:reply', stats: { ...stats, openNow: stats.open, maxLagMs: Math.round(lag.max / 1e6) }, memory: process.memoryUsage() });
    } else if (m.type === 'memory') {
      process.send({ type: 'memory:reply', memory: process.memoryUsage() });
    } else if (m.type === 'exit') {
      httpServer.close();
      acceptServer.close();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------
// Client process
// ---------------------------------------------------------------------------

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A masked client frame; `length` may claim more than `payload` holds. */
function maskedFrame(opcode, payload, { fin = true, length = payload.length } = {}) {
  let header;
  if (length < 126) header = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | length]);
  else if (length < 65536) {
    header = Buffer.alloc(4);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const key = crypto.randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([header, key, body]);
}

function upgradeRequest(port) {
  const key = crypto.randomBytes(16).toString('base64');
  return {
    key,
    text:
      `GET /soak HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  };
}

function runClient(config) {
  const WS = require('ws');
  const lag = require('node:perf_hooks').monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  const stats = {
    open: 0, opened: 0, cleanCloses: 0, otherCloses: {}, connectErrors: 0,
    sent: 0, verified: 0, lost: 0, altered: 0, unexpected: 0, bytesVerified: 0,
    dropFrame: 0, dropHandshake: 0, neverRead: 0, neverReadBytes: 0, garbage: 0, garbageOutcome: {},
    vanish: 0, vanishCleaned: 0, vanishCleanMs: 0, vanishNotCleaned: 0, errors: {},
  };
  const ports = [config.wssPort, config.acceptPort];
  let stopping = false;
  const binaryPool = crypto.randomBytes(config.maxPayload);
  const alphabet = ['a', 'b', 'c', ' ', 'é', 'Ж', '中', '€', 'z', '0', '\n'];
  let textPool = '';
  while (textPool.length < config.maxPayload / 3) textPool += alphabet[rand(0, alphabet.length - 1)].repeat(rand(1, 8));

  /** A message to send: mixed sizes, 2/3 binary, 1/3 UTF-8 text. */
  function nextMessage() {
    const r = Math.random();
    const size =
      r < 0.4 ? rand(0, 125) : r < 0.7 ? rand(126, 4096) : r < 0.9 ? rand(4097, 65536) : r < 0.98 ? rand(65537, 262144) : rand(262145, config.maxPayload / 2);
    if (Math.random() < 1 / 3) {
      const chars = Math.min(textPool.length - 1, Math.floor(size / 2));
      const at = rand(0, textPool.length - 1 - chars);
      const text = textPool.slice(at, at + chars);
      return { data: text, bytes: Buffer.from(text), binary: false };
    }
    const at = rand(0, binaryPool.length - size);
    const bytes = binaryPool.subarray(at, at + size);
    return { data: Buffer.from(bytes), bytes, binary: true };
  }

  // Well-behaved connections.
  const good = new Set();
  function openGood(index) {
    if (stopping) return;
    const port = ports[index % 2];
    const ws = new WS(`ws://127.0.0.1:${port}/soak`, {
      perMessageDeflate: config.deflate ? { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 64 } : false,
      maxPayload: config.maxPayload,
    });
    const conn = { ws, queue: [], closing: false, timer: null };
    good.add(conn);
    let opened = false;
    const lifetime = config.lifetime > 0 ? rand(config.lifetime * 500, config.lifetime * 1500) : Infinity;
    const pump = () => {
      conn.timer = null;
      if (conn.closing || ws.readyState !== WS.OPEN) return;
      while (conn.queue.length < config.inflight && !stopping) {
        const m = nextMessage();
        conn.queue.push(m);
        stats.sent++;
        ws.send(m.data, { binary: m.binary });
        if (Math.random() < 0.5) break;
      }
      if (!stopping) conn.timer = setTimeout(pump, rand(0, 2 * config.interval));
    };
    ws.on('open', () => {
      opened = true;
      stats.opened++;
      stats.open++;
      pump();
      if (lifetime !== Infinity) setTimeout(() => finish(conn), lifetime).unref();
    });
    ws.on('message', (data, isBinary) => {
      const expected = conn.queue.shift();
      if (!expected) {
        stats.unexpected++;
        return;
      }
      if (expected.binary === isBinary && data.length === expected.bytes.length && data.equals(expected.bytes)) {
        stats.verified++;
        stats.bytesVerified += data.length;
      } else {
        stats.altered++;
      }
      if (conn.closing && conn.queue.length === 0) ws.close(1000, 'soak done');
    });
    ws.on('error', (err) => {
      if (conn.aborted) return; // still connecting when the run stopped
      if (!opened) stats.connectErrors++;
      bump(stats.errors, err.code || err.message.slice(0, 60));
    });
    ws.on('close', (code) => {
      good.delete(conn);
      clearTimeout(conn.timer);
      if (opened) stats.open--;
      stats.lost += conn.queue.length;
      conn.queue.length = 0;
      if (code === 1000 && conn.closing) stats.cleanCloses++;
      else if (opened) bump(stats.otherCloses, code);
      if (conn.onClosed) conn.onClosed();
      if (!stopping) setTimeout(() => openGood(index), opened ? rand(10, 200) : 1000);
    });
  }
  // Stop sending; close with 1000 once every echo is back.
  function finish(conn) {
    if (conn.closing) return;
    conn.closing = true;
    clearTimeout(conn.timer);
    if (conn.ws.readyState === WS.OPEN && conn.queue.length === 0) conn.ws.close(1000, 'soak done');
  }

  // Misbehaving clients.
  const raw = new Set();
  function rawConnect(port) {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    raw.add(socket);
    socket.on('error', (err) => bump(stats.errors, `raw ${err.code || err.message}`));
    socket.on('close', () => raw.delete(socket));
    return socket;
  }
  /** Resolves with the bytes after the 101 response head, or null if the server refused or closed. */
  function handshake(socket, port) {
    return new Promise((resolve) => {
      let buf = Buffer.alloc(0);
      const onData = (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.removeListener('data', onData);
        socket.removeListener('close', onClose);
        const head = buf.subarray(0, end).toString('latin1');
        const accept = crypto.createHash('sha1').update(req.key + GUID).digest('base64');
        resolve(head.startsWith('HTTP/1.1 101') && head.includes(accept) ? buf.subarray(end + 4) : null);
      };
      const onClose = () => resolve(null);
      const req = upgradeRequest(port);
      socket.on('data', onData);
      socket.once('close', onClose);
      socket.write(req.text);
    });
  }
  const whenClosed = (socket, ms) =>
    new Promise((resolve) => {
      if (socket.destroyed) return resolve(true);
      const timer = setTimeout(() => resolve(false), ms);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });

  const kinds = {
    // Handshake, then part of a frame (or part of the request), then gone.
    async dropMidFrame(n) {
      const port = ports[n % 2];
      const socket = rawConnect(port);
      if (Math.random() < 0.25) {
        stats.dropHandshake++;
        const text = upgradeRequest(port).text;
        socket.write(text.slice(0, rand(1, text.length - 2)));
        await sleep(rand(0, 100));
        socket.destroy();
        return;
      }
      stats.dropFrame++;
      if ((await handshake(socket, port)) === null) return socket.destroy();
      socket.resume();
      const size = rand(2, 200000);
      const frame = maskedFrame(2, crypto.randomBytes(size));
      const cut = rand(1, frame.length - 1);
      socket.write(frame.subarray(0, cut));
      await sleep(rand(0, 200));
      socket.destroy();
    },
    // Sends 64 KiB messages (about 3 MB/s, up to 24 MiB: more than the
    // kernel's socket buffers hold) for a few seconds and never reads the echoes.
    async neverRead(n) {
      const port = ports[n % 2];
      const socket = rawConnect(port);
      if ((await handshake(socket, port)) === null) return socket.destroy();
      stats.neverRead++;
      socket.pause();
      const frame = maskedFrame(2, crypto.randomBytes(65536));
      const until = Date.now() + rand(3000, 10000);
      for (let sent = 0; sent < 24 * MiB && Date.now() < until && !socket.destroyed && !stopping; sent += frame.length) {
        stats.neverReadBytes += frame.length;
        if (!socket.write(frame)) {
          await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), sleep(until - Date.now())]);
        }
        await sleep(20);
      }
      await sleep(Math.max(0, until - Date.now()));
      socket.destroy();
    },
    // Garbage instead of a request, garbage frames, or a header over maxPayload.
    async garbage(n) {
      const port = ports[n % 2];
      const socket = rawConnect(port);
      stats.garbage++;
      const variant = rand(0, 2);
      let outcome;
      let kind;
      if (variant === 0) {
        const got = [];
        socket.on('data', (c) => got.push(c));
        const sent = Buffer.concat([crypto.randomBytes(rand(1, 64)), Buffer.from('\r\n\r\n')]);
        socket.write(sent);
        const closed = await whenClosed(socket, config.timeout + 3000);
        const status = /^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(got).toString('latin1'));
        outcome = `request garbage → ${status ? status[1] : 'no response'}${closed ? '' : ', NOT CLOSED'}`;
        if (!status || !closed) {
          const where = port === config.wssPort ? 'WebSocketServer' : 'accept()';
          console.error(`soak: ${where} answered garbage ${sent.toString('hex')} with ${JSON.stringify(Buffer.concat(got).toString('latin1'))}`);
        }
      } else {
        const rest = await handshake(socket, port);
        if (rest === null) {
          outcome = 'handshake refused';
        } else {
          const got = [rest];
          socket.on('data', (c) => got.push(c));
          if (variant === 1) {
            // Random bytes made certainly invalid in one of four ways.
            const junk = crypto.randomBytes(rand(6, 512));
            junk[1] |= 0x80;
            kind = ['rsv', 'opcode', 'unmasked', 'utf8'][rand(0, 3)];
            if (kind === 'rsv') junk[0] |= 0x70;
            else if (kind === 'opcode') junk[0] = 0x80 | rand(3, 7);
            else if (kind === 'unmasked') junk[1] &= 0x7f;
            socket.write(kind === 'utf8' ? maskedFrame(1, Buffer.from([0x61, 0xff, 0xfe, 0x62])) : junk);
          } else {
            socket.write(maskedFrame(2, Buffer.alloc(16), { length: config.maxPayload + 1 }));
          }
          const closed = await whenClosed(socket, config.timeout + 3000);
          const bytes = Buffer.concat(got);
          const close = bytes.length >= 4 && (bytes[0] & 0x0f) === 8 ? bytes.readUInt16BE(2) : null;
          outcome = `${variant === 1 ? `bad frame (${kind})` : 'over maxPayload'} → ${close ? `close ${close}` : bytes.length ? 'data, no close' : 'no close frame'}${closed ? '' : ', NOT CLOSED'}`;
        }
      }
      bump(stats.garbageOutcome, outcome);
      socket.destroy();
    },
    // Connects, maybe sends part of a request, then stays silent: the server must close it.
    async vanish(n) {
      const port = ports[n % 2];
      const socket = rawConnect(port);
      stats.vanish++;
      const started = Date.now();
      socket.on('connect', () => {
        if (Math.random() < 0.5) socket.write(upgradeRequest(port).text.slice(0, rand(1, 40)));
      });
      socket.resume();
      const closed = (await whenClosed(socket, 3 * config.timeout)) && !socket.destroyedByUs;
      if (closed) {
        const ms = Date.now() - started;
        stats.vanishCleaned++;
        stats.vanishCleanMs += ms;
        stats.vanishMaxMs = Math.max(stats.vanishMaxMs || 0, ms);
      } else {
        stats.vanishNotCleaned++;
        socket.destroy();
      }
    },
  };
  const loops = [];
  function startMisbehaving() {
    for (const [name, fn] of Object.entries(kinds)) {
      // Never-read clients are the heaviest for the server: a quarter as many.
      const count = name === 'neverRead' ? Math.ceil(config.misbehavers / 4) : config.misbehavers;
      for (let i = 0; i < count; i++) {
        loops.push(
          (async () => {
            await sleep(rand(0, 2000));
            for (let n = i; !stopping; n++) {
              try {
                await fn(n);
              } catch (err) {
                bump(stats.errors, `${name}: ${err.message.slice(0, 60)}`);
              }
              if (!stopping) await sleep(rand(50, 500));
            }
          })()
        );
      }
    }
  }

  (async () => {
    // Ramp up in batches so the server's accept queue is not flooded.
    for (let i = 0; i < config.count && !stopping; i += 50) {
      for (let j = i; j < Math.min(config.count, i + 50); j++) openGood(config.id * config.count + j);
      await sleep(50);
    }
    startMisbehaving();
  })();
  const progressTimer = setInterval(() => process.send({ type: 'progress', stats }), 5000);

  process.on('message', async (m) => {
    if (m.type !== 'stop') return;
    stopping = true;
    clearInterval(progressTimer);
    // Every good connection stops sending and closes with 1000 once its echoes are back.
    const closed = [...good].map((conn) => new Promise((resolve) => (conn.onClosed = resolve)));
    for (const conn of good) {
      if (conn.ws.readyState === WS.CONNECTING) {
        conn.aborted = true;
        conn.ws.terminate();
      } else finish(conn);
    }
    // Misbehaving loops end after their current episode (vanish ones wait for the server).
    await Promise.race([Promise.all([...closed, ...loops]), sleep(3 * config.timeout + 5000)]);
    for (const conn of good) {
      stats.lost += conn.queue.length;
      conn.queue.length = 0;
      conn.ws.terminate();
    }
    for (const socket of raw) {
      socket.destroyedByUs = true;
      socket.destroy();
    }
    await sleep(10);
    stats.maxLagMs = Math.round(lag.max / 1e6);
    process.send({ type: 'stop:reply', stats }, () => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------

const opts = parseArgs(process.argv.slice(2));
if (opts.config) Object.assign(opts, JSON.parse(Buffer.from(opts.config, 'base64').toString()));
if (opts.role === 'server') runServer(opts);
else if (opts.role === 'client') runClient(opts);
else
  main(opts).catch((err) => {
    console.error(err);
    process.exit(1);
  });
