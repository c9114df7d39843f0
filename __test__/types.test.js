'use strict';

// index.d.ts must compile against ws-style usage under --strict.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

test('index.d.ts type-checks ws-style code', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const file = path.join(__dirname, 'types', 'usage.ts');
  const result = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--esModuleInterop', '--types', 'node', file], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
