'use strict';

// The Redis backplane against a real redis-server (started here on a free
// loopback port) and two server processes with clients on each. Without
// redis-server these tests fail, saying how to install it.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { fork, spawnSync } = require('node:child_process');
const WS = require('ws');

const { lib, withTimeout } = require('./helpers');
const { startRedis, checkRedisServer } = require('./redis-helpers');

const SERVER = path.join(__dirname, 'fixtures', 'redis-topic-server.js');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A server process with a Redis backplane, driven over IPC. */
class ServerProcess {
  static async start(redisUrl, env = {}) {
    const child = fork(SERVER, [], { env: { ...process.env, REDIS_URL: redisUrl, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const server = new ServerProcess(child);
    const hello = await server._next((msg) => msg.port !== undefined, 15000, 'the server process to listen');
    server.port = hello.port;
    server.backplaneId = hello.id;
    return server;
  }

  constructor(child) {
    this.child = child;
    this.nextId = 1;
    this.waiters = [];
    child.on('message', (msg) => {
      const i = this.waiters.findIndex((w) => w.match(msg));
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(msg);
    });
  }

  _next(match, ms, what) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      this.waiters.push({ match, resolve: (msg) => { clearTimeout(timer); resolve(msg); } });
    });
  }

  _ask(message, what) {
    const id = this.nextId++;
    this.child.send({ ...message, id });
    return this._next((msg) => msg.id === id, 10000, what);
  }

  /** wss.publish() in that process; resolves with the number of local recipients. */
  async publish(topic, data, binary = false) {
    const reply = await this._ask({ publish: topic, data: Buffer.from(data).toString('base64'), binary }, 'publish');
    return reply.published;
  }

  stats() {
    return this._ask({ stats: true }, 'stats');
  }

  kill() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** A ws client (an independent implementation) recording what it receives. */
async function client(port) {
  const ws = new WS(`ws://127.0.0.1:${port}/`);
  const c = { ws, received: [], acks: [], waiters: [] };
  // Listening before 'open' resolves: a message that came in the 101's own
  // packet is emitted before an await after 'open' would resume.
  ws.on('message', (data, isBinary) => {
    if (!isBinary && data.toString().startsWith('ok:')) {
      c.acks.push(data.toString());
    } else {
      c.received.push({ text: isBinary ? null : data.toString(), bytes: Buffer.from(data), isBinary });
    }
    for (const w of c.waiters.splice(0)) w();
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  c.changed = () => new Promise((resolve) => c.waiters.push(resolve));
  /** Sends "sub:topic"/"unsub:topic" and waits for the server's ack (Redis included). */
  c.command = async (command) => {
    ws.send(command);
    const deadline = Date.now() + 10000;
    while (!c.acks.includes(`ok:${command}`)) {
      if (Date.now() > deadline) throw new Error(`no ack for ${command}`);
      await Promise.race([c.changed(), sleep(100)]);
    }
    c.acks.splice(c.acks.indexOf(`ok:${command}`), 1);
  };
  /** Waits until a message satisfies `match`; returns it. */
  c.waitFor = async (match, ms, what) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = c.received.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await Promise.race([c.changed(), sleep(100)]);
    }
  };
  c.texts = () => c.received.filter((m) => !m.isBinary).map((m) => m.text);
  c.close = () => new Promise((resolve) => {
    ws.once('close', resolve);
    ws.close();
  });
  return c;
}

let redis;
const processes = [];
const clients = [];

before(async () => {
  // Fails (does not skip) without redis-server, with the command that installs it.
  checkRedisServer();
  redis = await startRedis();
});

after(async () => {
  for (const c of clients) c.ws.terminate();
  for (const p of processes) p.kill();
  if (redis) await redis.kill();
});

async function redisCommand(...args) {
  const { createClient } = require('redis');
  const c = createClient({ url: redis.url });
  await c.connect();
  try {
    return await c.sendCommand(args);
  } finally {
    await c.close();
  }
}

test('two processes: a publish on either reaches subscribers on both exactly once (text and binary); a Redis restart is survived', async () => {
  const a = await ServerProcess.start(redis.url, { MAX_QUEUED: '5' });
  const b = await ServerProcess.start(redis.url, { GIVEN_CLIENT: '1' });
  processes.push(a, b);
  assert.notEqual(a.backplaneId, b.backplaneId);
  const a1 = await client(a.port);
  const a2 = await client(a.port);
  const b1 = await client(b.port);
  const b2 = await client(b.port);
  clients.push(a1, a2, b1, b2);
  await a1.command('sub:room');
  await a2.command('sub:other');
  await b1.command('sub:room');
  await b1.command('sub:sentinel');
  await b2.command('sub:other');

  // Redis holds one channel per topic, subscribed only where a local subscriber is.
  assert.deepEqual(await redisCommand('PUBSUB', 'NUMSUB', 'native-ws:room', 'native-ws:sentinel', 'native-ws:nobody'), [
    'native-ws:room', 2, 'native-ws:sentinel', 1, 'native-ws:nobody', 0,
  ]);

  // Text from A, binary from B (all 256 byte values: binary-safe).
  assert.equal(await a.publish('room', 'héllo from A'), 1);
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  assert.equal(await b.publish('room', bytes, true), 1);
  for (const c of [a1, b1]) {
    await c.waitFor((m) => m.text === 'héllo from A', 5000, 'text from A');
    const bin = await c.waitFor((m) => m.isBinary, 5000, 'binary from B');
    assert.deepEqual(bin.bytes, bytes);
  }
  // A sentinel published after them on the same connection arrives after them:
  // once it is in, anything duplicated would be too.
  await a.publish('sentinel', 'fence 1');
  await b1.waitFor((m) => m.text === 'fence 1', 5000, 'fence 1');
  await b.publish('sentinel', 'fence 2');
  await a.publish('room', 'fence 3');
  await a1.waitFor((m) => m.text === 'fence 3', 5000, 'fence 3 at A');
  await b1.waitFor((m) => m.text === 'fence 3', 5000, 'fence 3 at B');
  // Local delivery is immediate and Redis's comes later, so only the order of
  // one publisher's messages is fixed; each arrived exactly once.
  const label = (m) => (m.isBinary ? '<binary>' : m.text);
  assert.deepEqual(a1.received.map(label).sort(), ['<binary>', 'fence 3', 'héllo from A']);
  assert.deepEqual(b1.received.map(label).sort(), ['<binary>', 'fence 1', 'fence 2', 'fence 3', 'héllo from A']);
  assert.equal(a2.received.length, 0);
  assert.equal(b2.received.length, 0);

  // Redis goes away: both servers keep serving their local topics.
  await redis.kill();
  const deadline = Date.now() + 10000;
  while ((await a.stats()).connected) {
    if (Date.now() > deadline) throw new Error('A never noticed that Redis went away');
    await sleep(50);
  }
  assert.equal(await a.publish('room', 'local during outage'), 1);
  assert.equal(await b.publish('other', 'B local during outage'), 1);
  await a1.waitFor((m) => m.text === 'local during outage', 5000, 'local delivery on A during the outage');
  await b2.waitFor((m) => m.text === 'B local during outage', 5000, 'local delivery on B during the outage');
  // What A publishes meanwhile waits in its bounded queue (5): the oldest are dropped.
  for (let i = 0; i < 7; i++) await a.publish('room', `queued ${i}`);
  const during = await a.stats();
  assert.equal(during.stats.queued, 5);
  assert.equal(during.stats.dropped, 3, 'the first outage publish and two more were dropped');

  // Redis is back: cross-process delivery resumes within seconds.
  const restartedAt = Date.now();
  await redis.start();
  let probe = 0;
  let resumed = null;
  while (resumed === null) {
    if (Date.now() - restartedAt > 20000) throw new Error('cross-process delivery did not resume within 20 s');
    await a.publish('room', `probe ${probe++}`);
    try {
      resumed = await b1.waitFor((m) => m.text && m.text.startsWith('probe '), 250, 'a probe');
    } catch {
      // not yet
    }
  }
  const after = await a.stats();
  assert.equal(after.connected, true);
  assert.equal(after.stats.queued, 0, 'the queue was sent once Redis was back');
  // Queued messages reach B at most once, in order (those sent before B had
  // subscribed again are gone: Redis pub/sub keeps nothing).
  const queuedAtB = b1.texts().filter((t) => t.startsWith('queued '));
  assert.deepEqual(queuedAtB, [...new Set(queuedAtB)].sort());
  assert.ok(queuedAtB.every((t) => ['queued 2', 'queued 3', 'queued 4', 'queued 5', 'queued 6'].includes(t)), queuedAtB.join());
  // And the other way too, exactly once.
  assert.equal(await b.publish('room', 'from B after the restart'), 1);
  await a1.waitFor((m) => m.text === 'from B after the restart', 5000, 'B -> A after the restart');
  await a.publish('room', 'fence 4');
  await a1.waitFor((m) => m.text === 'fence 4', 5000, 'fence 4');
  assert.equal(a1.texts().filter((t) => t === 'from B after the restart').length, 1);
  console.log(`# cross-process delivery resumed ${Date.now() - restartedAt} ms after redis-server restarted`);

  // unsubscribe stops delivery to that client, and B lets go of the channel.
  await b1.command('unsub:room');
  assert.deepEqual(await redisCommand('PUBSUB', 'NUMSUB', 'native-ws:room'), ['native-ws:room', 1]);
  assert.equal(await a.publish('room', 'after unsubscribe'), 1);
  await a.publish('sentinel', 'fence 5');
  await b1.waitFor((m) => m.text === 'fence 5', 5000, 'fence 5');
  assert.equal(b1.texts().includes('after unsubscribe'), false);

  // close stops delivery: B's last subscriber of 'sentinel' leaves, so does B.
  await b1.close();
  const until = Date.now() + 5000;
  while ((await redisCommand('PUBSUB', 'NUMSUB', 'native-ws:sentinel'))[1] !== 0) {
    if (Date.now() > until) throw new Error('B kept its Redis subscription after its last subscriber closed');
    await sleep(50);
  }
  assert.equal(await b.publish('room', 'last'), 0);
  await a1.waitFor((m) => m.text === 'last', 5000, 'last');
});

test('redisBackplane: options are checked; a missing `redis` package names `npm install redis`', () => {
  assert.throws(() => lib.redisBackplane(), { name: 'TypeError', message: /^options:/ });
  assert.throws(() => lib.redisBackplane({}), { name: 'TypeError', message: /exactly one of `url` or `client`/ });
  assert.throws(() => lib.redisBackplane({ url: 6379 }), { name: 'TypeError', message: /^url:/ });
  assert.throws(() => lib.redisBackplane({ client: {} }), { name: 'TypeError', message: /^client:/ });
  assert.throws(() => lib.redisBackplane({ url: 'redis://127.0.0.1:1', maxQueued: -1 }), { name: 'RangeError', message: /^maxQueued:/ });
  // A process where `redis` cannot be resolved.
  const hide = "const M=require('module');const r=M._resolveFilename;M._resolveFilename=function(req,...a){" +
    "if(req==='redis'){const e=new Error(\"Cannot find module 'redis'\");e.code='MODULE_NOT_FOUND';throw e}return r.call(this,req,...a)};";
  const script = `${hide}try{require(${JSON.stringify(path.join(__dirname, '..'))}).redisBackplane({url:'redis://127.0.0.1:1'})}` +
    'catch(e){console.log(e.code+" "+e.message)}';
  const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.match(out.stdout, /^ERR_NATIVE_WS_REDIS_MISSING .*npm install redis/);
});

test('Topics with a Redis backplane in one process: two hubs exchange messages, their own are not delivered twice', async () => {
  const net = require('node:net');
  const hubs = [new lib.Topics({ backplane: lib.redisBackplane({ url: redis.url }) }), new lib.Topics({ backplane: lib.redisBackplane({ url: redis.url }) })];
  const servers = [];
  const received = [[], []];
  try {
    for (const [i, hub] of hubs.entries()) {
      const server = net.createServer((socket) => {
        const ws = lib.accept(socket, { topics: hub });
        ws.on('open', () => ws.subscribe('t'));
      });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      const c = new WS(`ws://127.0.0.1:${server.address().port}/`);
      c.on('message', (data) => received[i].push(data.toString()));
      await new Promise((resolve) => c.once('open', resolve));
      clients.push({ ws: c });
    }
    while (hubs.some((hub) => hub.subscriberCount('t') === 0)) await sleep(10);
    await Promise.all(hubs.map((hub) => hub.synced()));
    assert.equal(hubs[0].publish('t', 'one'), 1);
    assert.equal(hubs[1].publish('t', 'two'), 1);
    assert.equal(hubs[0].publish('t', 'three'), 1);
    const deadline = Date.now() + 5000;
    while (received[0].length < 3 || received[1].length < 3) {
      if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(received)}`);
      await sleep(20);
    }
    await sleep(100);
    // Each hub's own publishes are local (first); the other's come through Redis.
    assert.deepEqual(received[0].slice().sort(), ['one', 'three', 'two']);
    assert.deepEqual(received[1].slice().sort(), ['one', 'three', 'two']);
    assert.equal(received[0].length, 3);
    assert.equal(received[1].length, 3);
  } finally {
    await Promise.all(hubs.map((hub) => hub.close()));
    for (const server of servers) server.close();
  }
});

test('examples/cluster.js: clients on different workers get each other\'s publishes through Redis', async () => {
  const { spawn } = require('node:child_process');
  const { freePort } = require('./redis-helpers');
  const port = await freePort();
  const primary = spawn(process.execPath, [path.join(__dirname, '..', 'examples', 'cluster.js')], {
    env: { ...process.env, PORT: String(port), WORKERS: '2', REDIS_URL: redis.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  primary.stdout.on('data', (chunk) => (output += chunk));
  try {
    const deadline = Date.now() + 15000;
    while ((output.match(/listening/g) || []).length < 2) {
      if (Date.now() > deadline) throw new Error(`the workers did not start: ${output}`);
      await sleep(50);
    }
    // Connect until two clients sit on different workers (each says which).
    const byWorker = new Map();
    while (byWorker.size < 2) {
      if (Date.now() > deadline) throw new Error('every connection went to the same worker');
      const c = await client(port);
      clients.push(c);
      const hello = await c.waitFor((m) => m.text && m.text.startsWith('worker '), 5000, 'the greeting');
      const pid = hello.text.split(':')[0];
      if (!byWorker.has(pid)) byWorker.set(pid, c);
      else c.ws.terminate();
    }
    const [first, second] = [...byWorker.values()];
    // The second worker's Redis subscription may still be on its way: retry.
    let n = 0;
    while (!second.received.some((m) => m.text && m.text.startsWith('ping '))) {
      if (Date.now() > deadline) throw new Error('a publish on one worker never reached the other');
      first.ws.send(`ping ${n++}`);
      await sleep(100);
    }
    second.ws.send('pong');
    await first.waitFor((m) => m.text === 'pong', 5000, 'the other worker\'s publish');
  } finally {
    primary.kill('SIGTERM');
    await new Promise((resolve) => (primary.exitCode !== null ? resolve() : primary.once('exit', resolve)));
  }
});

test('closing a hub while Redis is away does not wait for it; local delivery works meanwhile', async () => {
  const net = require('node:net');
  const own = await startRedis();
  const backplane = lib.redisBackplane({ url: own.url });
  const errors = [];
  backplane.on('error', (err) => errors.push(err));
  const hub = new lib.Topics({ backplane });
  const server = net.createServer((socket) => {
    const ws = lib.accept(socket, { topics: hub });
    ws.on('open', () => ws.subscribe('before'));
  });
  try {
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const c = await client(server.address().port);
    clients.push(c);
    while (hub.subscriberCount('before') === 0) await sleep(10);
    await hub.synced();
    await own.kill();
    while (backplane.connected) await sleep(20);
    // A subscription that cannot reach Redis now stays pending…
    const [ws] = [...hub._subscribers.get('before')];
    ws.subscribe('during');
    assert.equal(hub.publish('during', 'local'), 1);
    await c.waitFor((m) => m.text === 'local', 5000, 'local delivery during the outage');
    assert.equal(backplane.stats.queued, 1);
    // …and close() does not wait for it.
    await withTimeout(hub.close(), 5000, 'close() while Redis is away');
    assert.equal(hub.publish('during', 'still local'), 1, 'local delivery goes on after the backplane stopped');
  } finally {
    server.close();
    await own.kill();
  }
});
