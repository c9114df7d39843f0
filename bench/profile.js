'use strict';

// Where the time of the 16 B echo goes: samples the echo server with
// `perf record -e cpu-clock` (JIT code named through --perf-basic-prof) while
// bench/loadgen drives it, then splits the samples into JS, the N-API
// crossing, Rust (native-ws.node), the kernel (syscalls and TCP), and the
// rest of Node/V8/libuv/libc.
//   node bench/profile.js [--root DIR] [--seconds 5] [--size 16]
// --root profiles another checkout (e.g. an older commit) with the same load.

const { spawn, spawnSync, execFileSync } = require('node:child_process');
const path = require('node:path');

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const root = path.resolve(option('--root', path.join(__dirname, '..')));
const seconds = Number(option('--seconds', 5));
const size = Number(option('--size', 16));
const loadgenBin = path.join(__dirname, 'loadgen', 'target', 'release', 'loadgen');
const port = 19800 + (process.pid % 100);

function category(dso, symbol) {
  if (dso.includes('kernel') || dso === '[unknown]' && /^0xffff/.test(symbol)) return 'kernel (syscalls, TCP)';
  if (dso.endsWith('.node')) return 'Rust (native-ws.node)';
  if (dso.startsWith('[JIT]') || dso.startsWith('perf-') || symbol.includes('Builtins_')) return 'JS (JIT code and V8 builtins)';
  if (/napi|v8impl|node::Buffer|ArrayBuffer|TypedArray|BackingStore/.test(symbol)) return 'N-API crossing';
  if (dso.includes('libc')) return 'libc (memcpy, malloc)';
  return 'Node/V8 runtime (GC, builtins, libuv)';
}

async function main() {
  const server = spawn(
    'perf',
    ['record', '-e', 'cpu-clock', '-F', '2000', '-o', '/tmp/native-ws-perf.data', '--',
      'taskset', '-c', '0', process.execPath, '--perf-basic-prof', path.join(root, 'bench', 'servers', 'native-echo.js')],
    { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] }
  );
  await new Promise((resolve) => server.stdout.once('data', resolve));
  const out = execFileSync('taskset', ['-c', '1', loadgenBin, 'echo', '--url', `ws://127.0.0.1:${port}/`, '--size', String(size), '--duration', String(seconds), '--warmup', '1'], { encoding: 'utf8' });
  const result = JSON.parse(out.trim());
  spawnSync('pkill', ['-INT', '-f', path.join(root, 'bench', 'servers', 'native-echo.js')]);
  await new Promise((resolve) => server.once('exit', resolve));
  const report = execFileSync('perf', ['report', '-i', '/tmp/native-ws-perf.data', '--stdio', '--sort', 'dso,sym', '--no-children', '-q'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const totals = new Map();
  let all = 0;
  for (const line of report.split('\n')) {
    const fields = line.trim().split(/\s{2,}/);
    if (fields.length < 3 || !fields[0].endsWith('%')) continue;
    const share = Number(fields[0].slice(0, -1));
    const key = category(fields[1], fields.slice(2).join(' '));
    totals.set(key, (totals.get(key) || 0) + share);
    all += share;
  }
  console.log(`\nProfile of the ${size} B echo (50 × 4), ${root}: ${Math.round(result.msgs_per_sec)} msgs/s`);
  console.log('| where | share of server CPU samples |');
  console.log('|---|---:|');
  for (const [key, share] of [...totals].sort((a, b) => b[1] - a[1])) console.log(`| ${key} | ${((100 * share) / all).toFixed(1)}% |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
