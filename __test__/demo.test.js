'use strict';

// `npm start` as a user meets it: PORT chooses the port, a taken port is one
// clear line (no stack), and the page says why Send or Close cannot act
// before connecting and after the server closed.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const path = require('node:path');
const { spawn, spawnSync, execFile } = require('node:child_process');
const { createArticleServer } = require('../examples/article-server');

const demo = path.join(__dirname, '..', 'examples', 'article-server.js');

function listen(server, port = 0) {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server.address().port)));
}

test('a taken PORT is reported in one line, without a stack, and the demo exits 1', async () => {
  const holder = net.createServer();
  const port = await listen(holder);
  try {
    const result = spawnSync(process.execPath, [demo], { env: { ...process.env, PORT: String(port) }, encoding: 'utf8', timeout: 10000 });
    assert.equal(result.status, 1);
    assert.equal(result.stderr, `native-ws demo: port ${port} on 127.0.0.1 is already in use; start the demo on another one, e.g. PORT=8001 npm start\n`);
  } finally {
    holder.close();
  }
});

test('a PORT that is not a port number is one line too', () => {
  const result = spawnSync(process.execPath, [demo], { env: { ...process.env, PORT: 'eighty' }, encoding: 'utf8', timeout: 10000 });
  assert.equal(result.status, 1);
  assert.equal(result.stderr, 'native-ws demo: PORT must be a port number (0-65535), got "eighty"\n');
});

test('the demo listens on PORT', async () => {
  const probe = net.createServer();
  const port = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  const child = spawn(process.execPath, [demo], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const firstLine = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.on('exit', (code) => reject(new Error(`demo exited with ${code}`)));
    });
    assert.equal(firstLine, `native-ws demo: open http://127.0.0.1:${port}/ in a browser (PORT=${port})`);
  } finally {
    child.kill();
  }
});

test('the page says why Send and Close cannot act before connecting, while connecting and after the server closed', async () => {
  const server = createArticleServer();
  const port = await listen(server);
  try {
    const driver = path.join(__dirname, 'fixtures', 'demo-page-driver.js');
    const stdout = await new Promise((resolve, reject) => {
      execFile(process.execPath, ['--experimental-websocket', driver, String(port)], { timeout: 15000 }, (err, out, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out));
    });
    const lines = JSON.parse(stdout);
    assert.deepEqual(lines.slice(0, 3), [
      '[warn] Send: not connected yet. Press one of the Connect buttons first.',
      '[warn] Close: not connected yet. Press one of the Connect buttons first.',
      '[warn] Send: still connecting, try again in a moment.',
    ]);
    assert.ok(lines.includes('message: You said: 你好'), JSON.stringify(lines));
    assert.deepEqual(lines.slice(-2), [
      '[warn] Send: the connection is closed. Press a Connect button to open a new one.',
      '[warn] Close: the connection is closed. Press a Connect button to open a new one.',
    ]);
  } finally {
    server.close();
  }
});
