'use strict';

// End-to-end benchmarks on loopback: echo servers of each library (and a raw
// net echo as the ceiling) driven by the Rust load generator in
// bench/loadgen, server and generator pinned to different cores. Reports
// msgs/s, messages per server CPU-second (steadier on a shared machine),
// round-trip p50/p99, handshakes/s and RSS per idle connection.

const { spawn, spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { formatRate } = require('./common');

const LOADGEN_DIR = path.join(__dirname, 'loadgen');
const LOADGEN = path.join(LOADGEN_DIR, 'target', 'release', 'loadgen');
const SERVERS = {
  'native-ws': { file: 'native-echo.js' },
  'native-ws accept()': { file: 'native-echo.js', env: { MODE: 'accept' } },
  ws: { file: 'ws-echo.js' },
  'raw net': { file: 'raw-echo.js', raw: true },
  'raw handshake': { file: 'raw-handshake.js' },
  'raw http upgrade': { file: 'raw-http-upgrade.js' },
};
const CLK_TCK = 100;
const PAGE = 4096;

function buildLoadgen() {
  console.log('building bench/loadgen (cargo build --release)…');
  const result = spawnSync('cargo', ['build', '--release', '--quiet'], { cwd: LOADGEN_DIR, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('bench/loadgen failed to build');
}

const pinning = os.cpus().length >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
function pinned(core, command, args) {
  return pinning ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];
}

let nextPort = 19500 + (process.pid % 500);

/** Starts an echo server; resolves once it printed 'ready'. */
function startServer(name, extraEnv = {}) {
  const spec = SERVERS[name];
  const port = nextPort++;
  const [cmd, args] = pinned(0, process.execPath, [path.join(__dirname, 'servers', spec.file)]);
  const child = spawn(cmd, args, { env: { ...process.env, ...spec.env, ...extraEnv, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve({ child, port, raw: !!spec.raw }));
    child.once('exit', (code) => reject(new Error(`${name} server exited with ${code}`)));
  });
}

function stopServer(server) {
  return new Promise((resolve) => {
    server.child.removeAllListeners('exit');
    server.child.once('exit', resolve);
    server.child.kill('SIGKILL');
  });
}

/** utime + stime of a process in seconds. */
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function rssBytes(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
  return Number(fields[1]) * PAGE;
}

function loadgen(args) {
  const [cmd, argv] = pinned(1, LOADGEN, args);
  const out = execFileSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop());
}

async function echoRun(name, { connections, depth, size, seconds, extraEnv }) {
  const server = await startServer(name, extraEnv);
  try {
    const url = `ws://127.0.0.1:${server.port}/`;
    const common = ['--url', url, '--connections', String(connections), '--depth', String(depth), '--size', String(size)];
    if (server.raw) common.push('--raw');
    loadgen(['echo', ...common, '--duration', '1', '--warmup', '0']); // warm the JIT
    const cpuBefore = cpuSeconds(server.child.pid);
    const result = loadgen(['echo', ...common, '--duration', String(seconds), '--warmup', '0']);
    const cpu = cpuSeconds(server.child.pid) - cpuBefore;
    return { ...result, cpu, perCpuSecond: result.messages / Math.max(cpu, 0.01) };
  } finally {
    await stopServer(server);
  }
}

async function latencyRun(name, seconds) {
  const server = await startServer(name);
  try {
    const base = ['latency', '--url', `ws://127.0.0.1:${server.port}/`, '--size', '16', '--warmup', '0'];
    if (server.raw) base.push('--raw');
    loadgen([...base, '--duration', '1']);
    return loadgen([...base, '--duration', String(seconds)]);
  } finally {
    await stopServer(server);
  }
}

async function handshakeRun(name, seconds) {
  const server = await startServer(name);
  try {
    const base = ['handshake', '--url', `ws://127.0.0.1:${server.port}/`, '--concurrency', '16'];
    loadgen([...base, '--duration', '1']);
    const cpuBefore = cpuSeconds(server.child.pid);
    const result = loadgen([...base, '--duration', String(seconds)]);
    const cpu = cpuSeconds(server.child.pid) - cpuBefore;
    return { ...result, perCpuSecond: result.handshakes / Math.max(cpu, 0.01) };
  } finally {
    await stopServer(server);
  }
}

async function idleRun(name, connections) {
  const server = await startServer(name);
  try {
    await new Promise((r) => setTimeout(r, 300));
    const before = rssBytes(server.child.pid);
    const [cmd, argv] = pinned(1, LOADGEN, ['idle', '--url', `ws://127.0.0.1:${server.port}/`, '--connections', String(connections), '--hold', '30']);
    const gen = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
    const line = await new Promise((resolve) => gen.stdout.once('data', (d) => resolve(d.toString())));
    const report = JSON.parse(line.trim().split('\n')[0]);
    await new Promise((r) => setTimeout(r, 1000)); // let the server settle its buffers
    const after = rssBytes(server.child.pid);
    gen.kill('SIGKILL');
    return { ...report, perConnection: (after - before) / Math.max(report.opened, 1) };
  } finally {
    await stopServer(server);
  }
}

function table(title, header, rows) {
  console.log(`\n${title}`);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

/**
 * Alternates the servers `rounds` times and keeps the median run by perCpuSecond.
 */
async function alternated(names, rounds, run) {
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 ? [...names].reverse() : names) samples[name].push(await run(name));
  }
  return samples;
}

function medianBy(list, key) {
  const sorted = [...list].sort((a, b) => a[key] - b[key]);
  return sorted[sorted.length >> 1];
}

async function run({ quick }) {
  if (process.platform !== 'linux') {
    console.log('\nend-to-end benchmarks need Linux (/proc); skipped');
    return;
  }
  buildLoadgen();
  const seconds = quick ? 2 : 5;
  const rounds = quick ? 1 : 3;
  console.log(`\nEnd to end on loopback (server on core 0, load generator on core 1${pinning ? '' : ': NOT pinned'}), ${seconds} s runs`);

  const echoRows = [];
  for (const size of [16, 1024, 65536]) {
    const names = ['native-ws', 'ws', 'raw net'];
    const samples = await alternated(names, rounds, (name) =>
      echoRun(name, { connections: 50, depth: 4, size, seconds })
    );
    const med = Object.fromEntries(names.map((n) => [n, medianBy(samples[n], 'perCpuSecond')]));
    for (const name of names) {
      const m = med[name];
      echoRows.push([
        `echo ${size} B 50×4`,
        name,
        `${formatRate(m.msgs_per_sec)}`,
        `${formatRate(m.perCpuSecond)}`,
        `${(m.perCpuSecond / med.ws.perCpuSecond).toFixed(2)}×`,
        `${m.p50_us} / ${m.p99_us}`,
      ]);
    }
  }
  table('Echo (messages/s; messages per server CPU-second; ratio to ws per CPU-second; p50/p99 µs)',
    ['case', 'server', 'msgs/s', 'msgs/CPU-s', 'vs ws', 'p50/p99 µs'], echoRows);

  const latRows = [];
  for (const name of ['native-ws', 'ws', 'raw net']) {
    const m = await latencyRun(name, seconds);
    latRows.push([name, String(m.p50_us), String(m.p99_us), formatRate(m.msgs_per_sec)]);
  }
  table('Latency, 1 connection × 1 message in flight, 16 B', ['server', 'p50 µs', 'p99 µs', 'round trips/s'], latRows);

  // 'raw handshake' is the ceiling of accept(): the least a JS server on net
  // can do per connection; 'raw http upgrade' that of any server on Node's
  // http 'upgrade' event, as WebSocketServer and ws are.
  const hsNames = ['native-ws', 'native-ws accept()', 'ws', 'raw handshake', 'raw http upgrade'];
  const hsSamples = await alternated(hsNames, rounds, (name) => handshakeRun(name, seconds));
  const hs = Object.fromEntries(hsNames.map((n) => [n, medianBy(hsSamples[n], 'perCpuSecond')]));
  const hsRows = hsNames.map((name) => [
    name,
    formatRate(hs[name].per_sec),
    formatRate(hs[name].perCpuSecond),
    `${(hs[name].perCpuSecond / hs.ws.perCpuSecond).toFixed(2)}×`,
    String(hs[name].errors),
  ]);
  table('Handshakes (open, close handshake, repeat; 16 in parallel)', ['server', 'handshakes/s', 'per CPU-s', 'vs ws (CPU-s)', 'errors'], hsRows);

  const idleRows = [];
  const idle = {};
  // 'raw handshake' is the floor: a net.Socket that did a handshake and holds nothing else.
  for (const name of ['native-ws', 'native-ws accept()', 'ws', 'raw handshake']) idle[name] = await idleRun(name, quick ? 1000 : 5000);
  for (const name of Object.keys(idle)) {
    idleRows.push([name, String(idle[name].opened), `${(idle[name].perConnection / 1024).toFixed(1)} KiB`,
      `${(idle[name].perConnection / idle.ws.perConnection).toFixed(2)}×`]);
  }
  table('RSS per idle connection', ['server', 'connections', 'RSS / connection', 'vs ws'], idleRows);
}

module.exports = { run, echoRun, startServer, stopServer, loadgen, cpuSeconds };
