'use strict';

// The published form, as a new user gets it: `npm pack` (whose prepack puts
// the prebuilt addon for this platform in the tarball), then `npm install` of
// the tarball into fresh apps: with no cargo on PATH (the prebuilt), and with
// NATIVE_WS_BUILD_FROM_SOURCE=1 (a real cargo build into a target dir outside
// the package). Plus the install script's decisions, case by case.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const { installPlan, gatherFacts, forcesSourceBuild } = require('../scripts/install');
const { cargoTargetDir, isInstalledPackage, libraryFileName } = require('../scripts/build');
const { platformTag, prebuiltFileName } = require('../lib/addon-file');

const root = path.resolve(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const PREBUILT = prebuiltFileName();
const FIVE_MIB = 5 * 1024 * 1024;

let work;
let tarball;
let packedFiles;

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'native-ws-pack-'));
  const packed = execFileSync(npm, ['pack', '--json', '--pack-destination', work], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [report] = JSON.parse(packed);
  tarball = path.join(work, report.filename);
  packedFiles = report.files.map((f) => f.path);
});

after(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** The environment with every PATH entry that holds a cargo executable removed. */
function envWithoutCargo() {
  const env = { ...process.env };
  delete env.CARGO;
  delete env.CARGO_TARGET_DIR;
  env.PATH = (env.PATH || '')
    .split(path.delimiter)
    .filter((dir) => dir && !['cargo', 'cargo.exe'].some((name) => fs.existsSync(path.join(dir, name))))
    .join(path.delimiter);
  return env;
}

/** A fresh app directory with an empty package.json. */
function freshApp(name) {
  const app = path.join(work, name);
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  return app;
}

function npmInstall(app, env, extra = []) {
  return spawnSync(npm, ['install', '--no-audit', '--no-fund', '--offline', ...extra, tarball], { cwd: app, env, encoding: 'utf8' });
}

/** Disk usage of a directory in bytes, as `du -sk` counts it. */
function diskUsage(dir) {
  return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split(/\s/)[0]) * 1024;
}

/** Loads native-ws in the app; returns the addon file that was loaded. */
function loadIn(app, env) {
  const check = `
    const ws = require('native-ws');
    const assert = require('node:assert/strict');
    assert.equal(ws.acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    assert.equal(typeof ws.WebSocketServer, 'function');
    console.log(Object.keys(require.cache).find((file) => file.endsWith('.node')));
  `;
  const result = spawnSync(process.execPath, ['-e', check], { cwd: app, env, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

test('the tarball ships the prebuilt addon, both entries, both typings, the sources and LICENSE, and nothing built', () => {
  for (const file of ['index.js', 'index.mjs', 'index.d.ts', 'index.d.mts', 'LICENSE', 'README.md', PREBUILT, 'lib/addon-file.js',
    'scripts/install.js', 'scripts/build.js', 'Cargo.toml', 'Cargo.lock', 'build.rs', 'src/lib.rs']) {
    assert.ok(packedFiles.includes(file), `tarball lacks ${file}`);
  }
  assert.ok(!packedFiles.includes('native-ws.node'), 'the local build is not shipped');
  assert.ok(!packedFiles.some((f) => f.startsWith('target/') || f.startsWith('__test__/') || f.startsWith('bench/')));
  assert.ok(!fs.existsSync(path.join(root, PREBUILT)), 'postpack removes the prebuilt copy from the repo');
});

test('with no cargo on PATH the tarball installs from the prebuilt, loads in CommonJS and ESM, and weighs under 5 MiB', () => {
  const env = envWithoutCargo();
  assert.equal(spawnSync('cargo', ['--version'], { env }).error?.code, 'ENOENT', 'cargo must be absent for this test');
  const app = freshApp('app-prebuilt');
  const installed = npmInstall(app, env, ['--foreground-scripts']);
  assert.equal(installed.status, 0, installed.stdout + installed.stderr);
  assert.match(installed.stdout + installed.stderr, new RegExp(`native-ws: using the prebuilt ${PREBUILT.replace(/\./g, '\\.')}`));

  const pkg = path.join(app, 'node_modules', 'native-ws');
  assert.ok(!fs.existsSync(path.join(pkg, 'native-ws.node')), 'no source build happened');
  assert.equal(loadIn(app, env), path.join(fs.realpathSync(pkg), PREBUILT));

  const esm = spawnSync(process.execPath, ['--input-type=module', '-e',
    "import WebSocket, { WebSocketServer, createWebSocketStream } from 'native-ws'; " +
    'console.log(typeof WebSocket, typeof WebSocketServer, typeof createWebSocketStream);'], { cwd: app, env, encoding: 'utf8' });
  assert.equal(esm.stdout.trim(), 'function function function', esm.stderr);

  const size = diskUsage(pkg);
  assert.ok(size < FIVE_MIB, `node_modules/native-ws is ${size} bytes`);

  // The ws-style TypeScript app against the installed package (its own typings and entries).
  const ts = path.join(app, 'ts');
  fs.mkdirSync(ts);
  fs.writeFileSync(path.join(ts, 'package.json'), JSON.stringify({ name: 'ts', private: true, type: 'module' }));
  const source = fs.readFileSync(path.join(__dirname, 'types', 'ws-app.ts'), 'utf8').replace(/ from 'ws';/g, " from 'native-ws';");
  fs.writeFileSync(path.join(ts, 'app.ts'), source);
  fs.mkdirSync(path.join(app, 'node_modules', '@types'));
  fs.symlinkSync(path.join(root, 'node_modules', '@types', 'node'), path.join(app, 'node_modules', '@types', 'node'), 'junction');
  const tsc = require.resolve('typescript/bin/tsc');
  const compiled = spawnSync(process.execPath, [tsc, '--strict', '--module', 'nodenext', '--target', 'es2022', '--types', 'node', '--outDir', 'out', 'app.ts'], {
    cwd: ts,
    encoding: 'utf8',
  });
  assert.equal(compiled.status, 0, compiled.stdout + compiled.stderr);
  const ran = spawnSync(process.execPath, [path.join(ts, 'out', 'app.js')], { cwd: ts, env, encoding: 'utf8', timeout: 30000 });
  assert.equal(ran.stdout.trim(), 'ws-app ok', ran.stderr);
});

test('installed with --ignore-scripts (or with its script denied), native-ws still loads the prebuilt', () => {
  const env = envWithoutCargo();
  const app = freshApp('app-ignore-scripts');
  const installed = npmInstall(app, env, ['--ignore-scripts']);
  assert.equal(installed.status, 0, installed.stdout + installed.stderr);
  const pkg = path.join(app, 'node_modules', 'native-ws');
  assert.equal(loadIn(app, env), path.join(fs.realpathSync(pkg), PREBUILT));
});

test('with no cargo and a source build forced, the install fails with one clear message', () => {
  const env = { ...envWithoutCargo(), NATIVE_WS_BUILD_FROM_SOURCE: '1', XDG_CACHE_HOME: path.join(work, 'cache-no-cargo') };
  const app = freshApp('app-no-cargo');
  const installed = npmInstall(app, env);
  const output = installed.stdout + installed.stderr;
  assert.notEqual(installed.status, 0);
  assert.equal(output.match(/native-ws: cargo was not found .*https:\/\/rustup\.rs.*npm rebuild native-ws/g).length, 1, output);
  assert.doesNotMatch(output, /cargo failed/);
});

test('NATIVE_WS_BUILD_FROM_SOURCE=1 builds with cargo outside the package, shows progress, and npm rebuild native-ws repairs a missing addon', { timeout: 15 * 60 * 1000 }, () => {
  const cache = path.join(work, 'cache');
  const env = { ...process.env, NATIVE_WS_BUILD_FROM_SOURCE: '1', XDG_CACHE_HOME: cache };
  delete env.CARGO_TARGET_DIR;
  const app = freshApp('app-source');
  // --foreground-scripts lets the test read what the script prints (npm hides it otherwise).
  const installed = npmInstall(app, env, ['--foreground-scripts']);
  const output = installed.stdout + installed.stderr;
  assert.equal(installed.status, 0, output);
  assert.match(output, /native-ws: building the addon from source: cargo rustc --lib --crate-type cdylib/);
  assert.match(output, /native-ws: {3}still building \(\d+ s, /, 'a progress line while cargo runs');
  assert.match(output, /native-ws: built native-ws\.node \(release\) in \d+ s/);

  const targetDir = path.join(cache, 'native-ws', 'cargo-target');
  assert.ok(fs.existsSync(path.join(targetDir, 'release', libraryFileName())), 'cargo built in the user cache dir');
  assert.ok(!fs.readdirSync(path.join(targetDir, 'release')).some((f) => f.endsWith('.rlib')), 'only the cdylib is built');
  const pkg = path.join(app, 'node_modules', 'native-ws');
  assert.ok(!fs.existsSync(path.join(pkg, 'target')), 'no target dir inside the package');
  assert.ok(diskUsage(pkg) < FIVE_MIB, `node_modules/native-ws is ${diskUsage(pkg)} bytes`);
  assert.equal(loadIn(app, env), path.join(fs.realpathSync(pkg), 'native-ws.node'));

  // Without the variable, `npm rebuild native-ws` goes back to the prebuilt.
  const { NATIVE_WS_BUILD_FROM_SOURCE, ...plainEnv } = env;
  assert.equal(NATIVE_WS_BUILD_FROM_SOURCE, '1');
  const rebuilt = spawnSync(npm, ['rebuild', 'native-ws'], { cwd: app, env: plainEnv, encoding: 'utf8' });
  assert.equal(rebuilt.status, 0, rebuilt.stdout + rebuilt.stderr);
  assert.equal(loadIn(app, plainEnv), path.join(fs.realpathSync(pkg), PREBUILT));

  // No addon at all: the error names the command that fixes it, and that command does.
  fs.rmSync(path.join(pkg, PREBUILT));
  const broken = spawnSync(process.execPath, ['-e', "require('native-ws')"], { cwd: app, env: plainEnv, encoding: 'utf8' });
  assert.notEqual(broken.status, 0);
  assert.match(broken.stderr, /native-ws: the native addon is missing or failed to load\. In an app, run `npm rebuild native-ws`/);
  const repaired = spawnSync(npm, ['rebuild', 'native-ws'], { cwd: app, env: plainEnv, encoding: 'utf8' });
  assert.equal(repaired.status, 0, repaired.stdout + repaired.stderr);
  assert.equal(loadIn(app, plainEnv), path.join(fs.realpathSync(pkg), 'native-ws.node'));
});

test('install decisions: prebuilt when it fits and loads, source otherwise or when forced; a clone always builds', () => {
  const tag = 'linux-x64-gnu';
  const prebuilt = { file: `/app/node_modules/native-ws/native-ws.${tag}.node`, loads: true };
  const plan = (env, installed, p) => installPlan({ env, installed, tag, prebuilt: p }).action;
  assert.equal(plan({}, true, prebuilt), 'prebuilt');
  assert.equal(plan({ NATIVE_WS_BUILD_FROM_SOURCE: '1' }, true, prebuilt), 'source');
  assert.equal(plan({ NATIVE_WS_BUILD_FROM_SOURCE: 'true' }, true, prebuilt), 'source');
  assert.equal(plan({ NATIVE_WS_BUILD_FROM_SOURCE: '0' }, true, prebuilt), 'prebuilt');
  assert.equal(plan({}, true, null), 'source');
  assert.equal(plan({}, true, { ...prebuilt, loads: false, error: 'GLIBC_2.99 not found' }), 'source');
  assert.match(installPlan({ env: {}, installed: true, tag, prebuilt: { ...prebuilt, loads: false, error: 'GLIBC_2.99 not found' } }).reason, /GLIBC_2\.99/);
  assert.equal(plan({}, false, prebuilt), 'source');
  assert.equal(forcesSourceBuild({}), false);

  // This checkout is a clone: npm install here builds from source.
  assert.equal(isInstalledPackage(root), false);
  assert.equal(installPlan(gatherFacts(root, {})).action, 'source');
  assert.equal(isInstalledPackage('/srv/app/node_modules/native-ws'), true);
  assert.equal(isInstalledPackage('C:\\app\\node_modules\\native-ws'), true);
});

test('cargo target dir: CARGO_TARGET_DIR, else ./target in a clone, else outside the installed package', () => {
  const installed = '/srv/app/node_modules/native-ws';
  const base = { root: installed, home: '/home/u', tmp: '/tmp', usable: () => true };
  assert.equal(cargoTargetDir({ ...base, env: { CARGO_TARGET_DIR: '/build' }, platform: 'linux' }), '/build');
  assert.equal(cargoTargetDir({ ...base, root: '/src/native-ws', env: {}, platform: 'linux' }), '/src/native-ws/target');
  assert.equal(cargoTargetDir({ ...base, env: {}, platform: 'linux' }), '/home/u/.cache/native-ws/cargo-target');
  assert.equal(cargoTargetDir({ ...base, env: { XDG_CACHE_HOME: '/xdg' }, platform: 'linux' }), '/xdg/native-ws/cargo-target');
  assert.equal(cargoTargetDir({ ...base, env: {}, platform: 'darwin' }), '/home/u/Library/Caches/native-ws/cargo-target');
  assert.equal(cargoTargetDir({ ...base, env: {}, platform: 'linux', usable: () => false }), '/tmp/native-ws-cargo-target');
  assert.equal(cargoTargetDir({ ...base, env: {}, platform: 'linux', home: '' }), '/tmp/native-ws-cargo-target');
});

test('platform tags follow napi-rs', () => {
  assert.equal(platformTag('linux', 'x64', 'gnu'), 'linux-x64-gnu');
  assert.equal(platformTag('linux', 'arm64', 'musl'), 'linux-arm64-musl');
  assert.equal(platformTag('linux', 'arm', 'gnu'), 'linux-arm-gnueabihf');
  assert.equal(platformTag('darwin', 'arm64'), 'darwin-arm64');
  assert.equal(platformTag('win32', 'x64'), 'win32-x64-msvc');
  assert.equal(prebuiltFileName('darwin-x64'), 'native-ws.darwin-x64.node');
  assert.match(PREBUILT, /^native-ws\.[a-z0-9]+-[a-z0-9]+(-[a-z]+)?\.node$/);
});
