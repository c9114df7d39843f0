'use strict';

// The demo server end to end, driven by Node's built-in WebSocket client
// (the browser API, as examples/index.html uses it) in a child process.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { execFile } = require('node:child_process');
const { createArticleServer, REASON } = require('../examples/article-server');

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

/** Runs a browser-style client script with Node's WebSocket; resolves with its stdout lines. */
function runClient(script) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--experimental-websocket', '-e', script], { timeout: 10000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout.trim().split('\n'));
    });
  });
}

test('GET / serves the demo page', async () => {
  const server = createArticleServer();
  const port = await listen(server);
  try {
    const body = await new Promise((resolve, reject) => {
      http.get(`http://127.0.0.1:${port}/`, (res) => {
        assert.equal(res.statusCode, 200);
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.match(body, /new WebSocket\(/);
    assert.match(body, /event\.code/);
  } finally {
    server.close();
  }
});

test('server-initiated close reaches the browser with 1000 and the Chinese reason', async () => {
  const lines = [];
  const server = createArticleServer({ log: (l) => lines.push(l) });
  const port = await listen(server);
  try {
    const out = await runClient(`
      const ws = new WebSocket('ws://127.0.0.1:${port}/server-close');
      ws.onmessage = (e) => { console.log('message ' + e.data); if (e.data.startsWith('Hello')) ws.send('hi'); };
      ws.onclose = (e) => console.log(JSON.stringify({ code: e.code, reason: e.reason, wasClean: e.wasClean }));
    `);
    assert.equal(out[1], 'message You said: hi');
    assert.deepEqual(JSON.parse(out[2]), { code: 1000, reason: REASON, wasClean: true });
    await waitFor(() => lines.some((l) => l.startsWith('close 1000')));
  } finally {
    server.close();
  }
});

test('client-initiated close is answered and reported on both sides', async () => {
  const lines = [];
  const server = createArticleServer({ log: (l) => lines.push(l) });
  const port = await listen(server);
  try {
    const out = await runClient(`
      const ws = new WebSocket('ws://127.0.0.1:${port}/client-close');
      ws.onmessage = (e) => {
        console.log('message ' + e.data);
        if (e.data.startsWith('Hello')) ws.send('echo me'); else ws.close(1000, ${JSON.stringify(REASON)});
      };
      ws.onclose = (e) => console.log(JSON.stringify({ code: e.code, reason: e.reason, wasClean: e.wasClean }));
    `);
    assert.equal(out[1], 'message echo me');
    assert.deepEqual(JSON.parse(out[2]), { code: 1000, reason: REASON, wasClean: true });
    await waitFor(() => lines.includes(`close 1000 "${REASON}"`));
  } finally {
    server.close();
  }
});

async function waitFor(predicate) {
  for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(predicate(), 'condition not reached');
}
