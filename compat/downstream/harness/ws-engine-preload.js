'use strict';
// Server-only substitution: any `require("ws")` issued by the server-side
// packages named in NATIVE_WS_SCOPE (comma-separated path fragments, e.g.
// "/node_modules/engine.io/,/engine.io/build/") resolves to the native-ws
// checkout in NATIVE_WS_PATH. This is what `wsEngine: require("native-ws").Server`
// does, applied to every engine the test suite creates, without editing the tests.
// Test clients (the suites' own `require("ws")`, engine.io-client) keep using ws.
const Module = require('module');
const path = require('path');
const target = path.resolve(process.env.NATIVE_WS_PATH);
const scopes = (process.env.NATIVE_WS_SCOPE || '').split(',').filter(Boolean);
const orig = Module._resolveFilename;
let hits = 0;
const seen = new Set();
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === 'ws' && parent && parent.filename &&
      scopes.some((s) => parent.filename.includes(s))) {
    hits++;
    if (process.env.NATIVE_WS_VERBOSE && !seen.has(parent.filename)) {
      seen.add(parent.filename);
      console.error('[native-ws preload] ws -> %s for %s', target, parent.filename);
    }
    return orig.call(this, target, parent, ...rest);
  }
  return orig.call(this, request, parent, ...rest);
};
process.on('exit', () => {
  if (!hits) console.error('[native-ws preload] WARNING: no require("ws") was redirected');
});
