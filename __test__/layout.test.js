'use strict';

// The shape of lib/: no require cycle, and dependencies run one way —
// native/abi/errors/options → connection → handshake → server/accept → index.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const lib = path.join(root, 'lib');

// Each module's layer; a module may require only its own layer or lower ones.
function layerOf(file) {
  const rel = path.relative(lib, file).split(path.sep).join('/');
  // Topics sit on the connection (they install ws.subscribe() and queue frames to its sender).
  if (rel.startsWith('connection/') || rel === 'topics.js') return 1;
  if (rel.startsWith('handshake/')) return 2;
  if (['websocket-server.js', 'accept.js', 'stream.js', 'primitives.js'].includes(rel)) return 3;
  if (rel.startsWith('..')) return 4; // index.js
  // native, addon-file, abi, errors, options, constants, permessage-deflate,
  // event-target, backplane (the interface), redis-backplane (needs only options/errors)
  return 0;
}

function libFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return libFiles(full);
    return entry.name.endsWith('.js') ? [full] : [];
  });
}

/** Relative requires of a file (strings only), resolved to files. */
function requiresOf(file) {
  const source = fs.readFileSync(file, 'utf8');
  const found = [];
  for (const match of source.matchAll(/require\(\s*'(\.{1,2}\/[^']+)'\s*\)/g)) {
    const target = require.resolve(path.resolve(path.dirname(file), match[1]));
    if (target.endsWith('.js')) found.push(target);
  }
  return found;
}

const files = [...libFiles(lib), path.join(root, 'index.js')];
const graph = new Map(files.map((file) => [file, requiresOf(file)]));

test('lib/ has no require cycle', () => {
  const state = new Map();
  const stack = [];
  function visit(file) {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      const cycle = stack.slice(stack.indexOf(file)).concat(file).map((f) => path.relative(root, f));
      assert.fail(`require cycle: ${cycle.join(' -> ')}`);
    }
    state.set(file, 'open');
    stack.push(file);
    for (const dep of graph.get(file) || []) visit(dep);
    stack.pop();
    state.set(file, 'done');
  }
  for (const file of files) visit(file);
  assert.ok(graph.size > 10, 'the graph was read');
});

test('dependencies run one way: base -> connection -> handshake -> server/accept -> index', () => {
  for (const [file, deps] of graph) {
    for (const dep of deps) {
      assert.ok(
        layerOf(dep) <= layerOf(file),
        `${path.relative(root, file)} (layer ${layerOf(file)}) requires ${path.relative(root, dep)} (layer ${layerOf(dep)})`
      );
    }
  }
});
