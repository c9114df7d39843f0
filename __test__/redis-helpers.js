'use strict';

// A real redis-server for tests (and the broadcast bench): started on a free
// loopback port without persistence, killed and restarted on the same port.

const { spawn, spawnSync } = require('node:child_process');
const net = require('node:net');

const INSTALL_HINT =
  'redis-server is not installed; the Redis backplane tests need a real one. ' +
  'Install it with `apt-get install redis-server` (Debian/Ubuntu; .ci/run does this when it is missing).';

/** Throws with the install command unless redis-server can be run. */
function checkRedisServer() {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`${INSTALL_HINT}${probe.error ? ` (${probe.error.message})` : ''}`);
  }
  return probe.stdout.trim();
}

/** A loopback port nobody listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `port` accepts a TCP connection (polling), or rejects after `ms`. */
async function waitForPort(port, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on 127.0.0.1:${port} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A redis-server process of our own. */
class RedisProcess {
  constructor(port) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.child = null;
  }

  /** Starts redis-server (again) on this port. */
  async start() {
    checkRedisServer();
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.child = child;
    const exited = new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`))));
    exited.catch(() => {});
    await Promise.race([waitForPort(this.port, 10000), exited]);
  }

  /** Kills it at once (SIGKILL), as a crash would. */
  async kill() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.child = null;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }
}

/** Starts a redis-server on a free loopback port. */
async function startRedis() {
  const redis = new RedisProcess(await freePort());
  await redis.start();
  return redis;
}

module.exports = { startRedis, checkRedisServer, freePort, INSTALL_HINT };
