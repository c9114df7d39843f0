'use strict';

// `import WebSocket, { WebSocketServer, … } from 'native-ws'` in an ES module:
// the "exports" map's import condition (index.mjs) gives the default export
// and every named export, as ws's wrapper does.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

test('an .mjs file uses ws-style named imports of native-ws and talks to a server', () => {
  const script = path.join(__dirname, 'fixtures', 'esm-imports.mjs');
  const result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 30000 });
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.equal(result.stdout.trim(), 'esm ok');
});

test('node --input-type=module imports the names the issue tried', () => {
  const code = "import WebSocket, { WebSocketServer, createWebSocketStream } from 'native-ws'; " +
    "import { WebSocket as W } from 'native-ws'; " +
    "console.log(typeof WebSocket, typeof WebSocketServer, typeof createWebSocketStream, W === WebSocket);";
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: path.join(__dirname, '..'),
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), 'function function function true');
});
