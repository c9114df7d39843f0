'use strict';

// Broadcast benchmarks: topics' frame-once publish against ws's two ways of
// broadcasting, on loopback, server on core 0 and subscribers on core 1.
//  1. publish 16 B and 1 KiB to 1,000 and 10,000 subscribers: subscriber-
//     messages delivered per server CPU-second (native-ws publish, ws
//     clients.forEach(send), ws pre-framed: one Sender.frame + a raw write
//     per client); 1 KiB also with permessage-deflate, compressed once per
//     publish (serverNoContextTakeover) and per connection (context takeover);
//  2. event-loop lag (p99) while 750 subscribers get 150 messages/s each;
//  3. cross-process delivery through Redis between two native-ws processes.
// Subscribers only drain bytes (bench/servers/broadcast-drain.js).
//
//   node bench/broadcast.js [--quick]      (also part of `npm run bench`)

const { fork, spawnSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { formatRate } = require('./common');

const SERVER = path.join(__dirname, 'servers', 'broadcast-server.js');
const DRAIN = path.join(__dirname, 'servers', 'broadcast-drain.js');
const pinning = os.cpus().length >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const NAMES = { native: 'native-ws publish', 'ws-loop': 'ws clients.forEach(send)', 'ws-frame': 'ws pre-framed' };

/** The fd limit children get: the hard limit (sh raises the soft one to it). */
function fdLimit() {
  const out = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
  return out === 'unlimited' ? 1 << 20 : Number(out);
}

/** Forks a node script pinned to `core` with the fd soft limit raised to the hard one. */
function start(script, core, env) {
  const child = fork(script, [], {
    env: { ...process.env, ...env },
    execPath: 'sh',
    execArgv: ['-c', `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec ${pinning ? `taskset -c ${core} ` : ''}"${process.execPath}" "$0" "$@"`],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters = [];
  child.on('message', (msg) => {
    const i = waiters.findIndex((w) => w.match(msg));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(msg);
  });
  const exited = new Promise((_, reject) => child.once('exit', (code, signal) => reject(new Error(`${path.basename(script)} exited (${signal || code})`))));
  exited.catch(() => {});
  child.next = (match) => Promise.race([new Promise((resolve) => waiters.push({ match, resolve })), exited]);
  child.ask = (message, match) => {
    const reply = child.next(match);
    child.send(message);
    return reply;
  };
  return child;
}

function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGKILL');
  });
}

/** A server of `mode` with `subscribers` draining clients, all connected. */
async function setUp(mode, subscribers, { deflate = '', env = {} } = {}) {
  const server = start(SERVER, 0, { MODE: mode, DEFLATE: deflate, ...env });
  const { port } = await server.next((m) => m.port !== undefined);
  const drain = start(DRAIN, 1, { PORT: String(port), CONNECTIONS: String(subscribers), DEFLATE: deflate ? '1' : '0' });
  await drain.next((m) => m.opened !== undefined);
  for (;;) {
    const { clients } = await server.ask({ stats: true }, (m) => m.clients !== undefined);
    if (clients >= subscribers) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { server, drain, port };
}

/**
 * Publishes `messages` in bursts small enough for the subscribers' buffers,
 * waits for every copy to arrive, and rates subscriber-messages per server CPU-second.
 */
async function throughputRun(mode, size, subscribers, messages, deflate, perTurn = 1) {
  const { server, drain } = await setUp(mode, subscribers, { deflate });
  try {
    const burst = Math.max(1, Math.min(100, Math.floor((8 << 20) / (subscribers * (size + 4)))));
    let sent = 0;
    const round = async (n) => {
      sent += n;
      const reached = drain.ask({ expect: sent * subscribers }, (m) => m.reached !== undefined);
      await server.ask({ burst: n, size, perTurn }, (m) => m.done !== undefined);
      await reached;
    };
    await round(Math.min(burst, 20)); // warm-up, not counted
    const before = await server.ask({ stats: true }, (m) => m.cpu !== undefined && m.clients !== undefined);
    const wallStart = process.hrtime.bigint();
    for (let done = 0; done < messages; done += burst) await round(Math.min(burst, messages - done));
    const wall = Number(process.hrtime.bigint() - wallStart) / 1e9;
    const after = await server.ask({ stats: true }, (m) => m.cpu !== undefined && m.clients !== undefined);
    const delivered = messages * subscribers;
    const cpu = after.cpu - before.cpu;
    const user = after.user - before.user;
    if (process.env.BENCH_VERBOSE) console.log(`  ${mode} ${size} B → ${subscribers}: cpu ${cpu.toFixed(2)} s (user ${user.toFixed(2)}), ${(cpu * 1e6 / delivered).toFixed(2)} µs per delivery`);
    return { delivered, cpu, user, perCpuSecond: delivered / Math.max(cpu, 1e-3), perSecond: delivered / wall };
  } finally {
    await stop(drain);
    await stop(server);
  }
}

async function lagRun(mode, seconds) {
  const { server, drain } = await setUp(mode, 750);
  try {
    const result = await server.ask({ rate: 150, seconds, size: 128 }, (m) => m.lag !== undefined);
    return result;
  } finally {
    await stop(drain);
    await stop(server);
  }
}

/** Two native-ws processes on one Redis: A publishes, B's subscribers receive. */
async function redisRun(size, subscribers, messages) {
  const { startRedis } = require('../__test__/redis-helpers');
  const redis = await startRedis();
  const env = { BACKPLANE: 'redis', REDIS_URL: redis.url };
  let a;
  let b;
  try {
    a = start(SERVER, 0, { MODE: 'native', ...env });
    await a.next((m) => m.port !== undefined);
    b = await setUp('native', subscribers, { env });
    await new Promise((resolve) => setTimeout(resolve, 200)); // B's SUBSCRIBE has gone out
    const burst = 100;
    let sent = 0;
    const round = async (n) => {
      sent += n;
      const reached = b.drain.ask({ expect: sent * subscribers }, (m) => m.reached !== undefined);
      await a.ask({ burst: n, size }, (m) => m.done !== undefined);
      await reached;
    };
    await round(burst);
    const bBefore = await b.server.ask({ stats: true }, (m) => m.cpu !== undefined && m.clients !== undefined);
    const wallStart = process.hrtime.bigint();
    for (let done = 0; done < messages; done += burst) await round(Math.min(burst, messages - done));
    const wall = Number(process.hrtime.bigint() - wallStart) / 1e9;
    const bAfter = await b.server.ask({ stats: true }, (m) => m.cpu !== undefined && m.clients !== undefined);
    return {
      publishesPerSecond: messages / wall,
      deliveredPerSecond: (messages * subscribers) / wall,
      receiverCpuPerMessageUs: ((bAfter.cpu - bBefore.cpu) * 1e6) / messages,
    };
  } finally {
    if (b) {
      await stop(b.drain);
      await stop(b.server);
    }
    await stop(a);
    await redis.kill();
  }
}

/**
 * What a process pays for a message on a channel it holds but has no local
 * subscriber for: the cost per process and message of one shared channel.
 */
async function redisIdleRun(size, messages) {
  const { startRedis } = require('../__test__/redis-helpers');
  const redis = await startRedis();
  const env = { MODE: 'native', BACKPLANE: 'redis', REDIS_URL: redis.url };
  let a;
  let b;
  try {
    a = start(SERVER, 0, env);
    await a.next((m) => m.port !== undefined);
    b = start(SERVER, 1, { ...env, IDLE_CHANNEL: '1' });
    await b.next((m) => m.port !== undefined);
    const stats = () => b.ask({ stats: true }, (m) => m.received !== undefined);
    let sent = 0;
    const round = async (n) => {
      sent += n;
      await a.ask({ burst: n, size, perTurn: 10 }, (m) => m.done !== undefined);
      while ((await stats()).received < sent) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    await round(100);
    const before = await stats();
    for (let done = 0; done < messages; done += 100) await round(Math.min(100, messages - done));
    const after = await stats();
    return { cpuPerMessageUs: ((after.cpu - before.cpu) * 1e6) / messages };
  } finally {
    await stop(b);
    await stop(a);
    await redis.kill();
  }
}

function table(title, header, rows) {
  console.log(`\n${title}`);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[sorted.length >> 1];
}

async function run({ quick = false, only = ['fanout', 'deflate', 'lag', 'redis'], subscriberCounts = [1000, 10000] } = {}) {
  if (process.platform !== 'linux') {
    console.log('\nbroadcast benchmarks need Linux; skipped');
    return;
  }
  const rounds = quick ? 1 : 3;
  const limit = fdLimit();
  const counts = subscriberCounts.filter((n) => {
    if (n + 64 <= limit) return true;
    console.log(`(skipping ${n} subscribers: the fd limit is ${limit})`);
    return false;
  });
  console.log(`\nBroadcast on loopback (server on core 0, subscribers on core 1${pinning ? '' : ': NOT pinned'}), ` +
    `${rounds} alternated round(s), medians`);

  if (only.includes('fanout')) {
    const rows = [];
    const userRows = [];
    const modes = ['native', 'ws-loop', 'ws-frame'];
    for (const subscribers of counts) {
      for (const size of [16, 1024]) {
        // About 2 M subscriber-messages per run (200 k with --quick).
        const messages = Math.max(10, Math.round((quick ? 2e5 : 2e6) / subscribers));
        const samples = Object.fromEntries(modes.map((m) => [m, []]));
        const userUs = Object.fromEntries(modes.map((m) => [m, []]));
        for (let r = 0; r < rounds; r++) {
          for (const mode of r % 2 ? [...modes].reverse() : modes) {
            const result = await throughputRun(mode, size, subscribers, messages, '');
            samples[mode].push(result.perCpuSecond);
            userUs[mode].push((result.user * 1e6) / result.delivered);
          }
        }
        const med = Object.fromEntries(modes.map((m) => [m, median(samples[m])]));
        rows.push([`${size} B → ${subscribers}`, formatRate(med.native), formatRate(med['ws-loop']), formatRate(med['ws-frame']),
          `${(med.native / med['ws-loop']).toFixed(2)}×`, `${(med.native / med['ws-frame']).toFixed(2)}×`]);
        const cpuUs = Object.fromEntries(modes.map((m) => [m, 1e6 / med[m]]));
        userRows.push([`${size} B → ${subscribers}`,
          ...modes.map((m) => `${cpuUs[m].toFixed(2)} / ${median(userUs[m]).toFixed(2)}`)]);
      }
    }
    // Several publishes in one event-loop turn (a burst of updates handled
    // in one callback): native-ws sends them in one write per subscriber.
    const turnRows = [];
    for (const mode of modes) {
      const result = await throughputRun(mode, 16, counts[0], Math.max(10, Math.round((quick ? 2e5 : 2e6) / counts[0])), '', 10);
      turnRows.push([NAMES[mode], formatRate(result.perCpuSecond)]);
    }
    table(`Publish 16 B to ${counts[0]} subscribers, 10 publishes per event-loop turn (subscriber-messages per server CPU-second, one round)`,
      ['server', 'per CPU-s'], turnRows);
    table('Publish to N subscribers (subscriber-messages per server CPU-second)',
      ['message → subscribers', NAMES.native, NAMES['ws-loop'], NAMES['ws-frame'], 'vs ws loop', 'vs pre-framed'], rows);
    table('Where the server CPU goes: µs per subscriber-message, total / user space (the rest is the kernel sending on loopback)',
      ['message → subscribers', NAMES.native, NAMES['ws-loop'], NAMES['ws-frame']], userRows);
  }

  if (only.includes('deflate')) {
    const subscribers = 1000;
    const messages = quick ? 50 : 500;
    const cases = [
      ['native-ws publish, serverNoContextTakeover (compressed once)', 'native', 'shared'],
      ['native-ws publish, context takeover (per connection)', 'native', 'takeover'],
      ['ws clients.forEach(send), serverNoContextTakeover', 'ws-loop', 'shared'],
      ['ws clients.forEach(send), context takeover', 'ws-loop', 'takeover'],
    ];
    const samples = cases.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (const [i, [, mode, deflate]] of cases.entries()) samples[i].push((await throughputRun(mode, 1024, subscribers, messages, deflate)).perCpuSecond);
    }
    const meds = samples.map(median);
    table(`permessage-deflate: 1 KiB JSON-like text to ${subscribers} subscribers (subscriber-messages per server CPU-second)`,
      ['case', 'per CPU-s', 'vs ws, same setting'],
      cases.map(([name], i) => [name, formatRate(meds[i]), `${(meds[i] / meds[i < 2 ? i + 2 : i]).toFixed(2)}×`]));
  }

  if (only.includes('lag')) {
    const seconds = quick ? 3 : 10;
    const rows = [];
    for (const mode of ['native', 'ws-loop', 'ws-frame']) {
      const r = await lagRun(mode, seconds);
      rows.push([NAMES[mode], r.lag.p50.toFixed(2), r.lag.p99.toFixed(2), r.lag.max.toFixed(1), `${((r.cpu / seconds) * 100).toFixed(0)} %`]);
    }
    table(`Event-loop lag: 750 subscribers × 150 messages/s of 128 B for ${seconds} s`, ['server', 'p50 ms', 'p99 ms', 'max ms', 'server CPU'], rows);
  }

  if (only.includes('redis')) {
    const rows = [];
    for (const size of [16, 1024]) {
      const r = await redisRun(size, 100, quick ? 2000 : 20000);
      rows.push([`${size} B`, formatRate(r.publishesPerSecond), formatRate(r.deliveredPerSecond), r.receiverCpuPerMessageUs.toFixed(1)]);
    }
    table('Across processes through Redis (A publishes; B has 100 subscribers; one channel per topic)',
      ['message', 'publishes/s A → B', 'subscriber-messages/s on B', "B's CPU µs per Redis message"], rows);
    const idle = [];
    for (const size of [16, 1024]) {
      const r = await redisIdleRun(size, quick ? 2000 : 20000);
      idle.push([`${size} B`, r.cpuPerMessageUs.toFixed(1)]);
    }
    table('One channel for all topics would cost every process this per message of a topic it has no subscriber for ' +
      '(measured: a process holding a channel with no local subscriber)', ['message', 'CPU µs per message'], idle);
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1].split(',') : undefined;
  const subscriberCounts = argv.includes('--subscribers') ? argv[argv.indexOf('--subscribers') + 1].split(',').map(Number) : undefined;
  run({ quick: argv.includes('--quick'), only, subscriberCounts }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

module.exports = { run };
