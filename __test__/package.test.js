'use strict';

// Installing the published form: `npm pack`, then `npm install` of the
// tarball into a fresh app (which builds the addon from source with cargo),
// then `require('native-ws')` there.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

test('the npm tarball installs, builds and loads in a fresh app', { timeout: 15 * 60 * 1000 }, () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'native-ws-pack-'));
  try {
    const packed = execFileSync(npm, ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
    const [{ filename, files }] = JSON.parse(packed);
    const names = files.map((f) => f.path);
    for (const required of ['index.js', 'index.d.ts', 'Cargo.toml', 'Cargo.lock', 'build.rs', 'src/lib.rs', 'scripts/build.js']) {
      assert.ok(names.includes(required), `tarball lacks ${required}`);
    }
    assert.ok(!names.some((n) => n.endsWith('.node')), 'tarball must not ship a prebuilt binary');

    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    // Share compiled dependencies with the project's own build to save time.
    const env = { ...process.env, CARGO_TARGET_DIR: process.env.CARGO_TARGET_DIR || path.join(root, 'target') };
    execFileSync(npm, ['install', '--no-audit', '--no-fund', path.join(work, filename)], { cwd: app, env, stdio: 'pipe' });

    const check = `
      const ws = require('native-ws');
      const assert = require('node:assert/strict');
      assert.equal(ws.acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
      assert.equal(typeof ws.WebSocketServer, 'function');
      assert.equal(typeof ws.accept, 'function');
      console.log(require.resolve('native-ws'));
    `;
    const resolved = execFileSync(process.execPath, ['-e', check], { cwd: app, encoding: 'utf8' }).trim();
    assert.ok(resolved.startsWith(path.join(app, 'node_modules', 'native-ws')), resolved);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
