'use strict';

// The tutorial's two servers, rewritten on native-ws's accept(): a raw
// `net.createServer(socket => …)` server that does the WebSocket handshake,
// framing and the closing handshake natively.
//
//   ws://HOST:PORT/server-close  the server answers your first message, then
//                                closes with 1000 and a reason in Chinese
//   ws://HOST:PORT/client-close  an echo; the browser closes, the server answers
//
// The same port serves index.html to plain HTTP requests, so `npm start` and
// opening http://127.0.0.1:8000 is the whole demo. PORT (default 8000) and
// HOST (default 127.0.0.1) choose where it listens.

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { accept } = require('..');

const REASON = '孩子,地球太危险了,快回火星去吧!';
const PAGE = path.join(__dirname, 'index.html');

/**
 * Server 1: replies to the first message, then starts the close handshake.
 * @param {import('..')} ws
 * @param {(line: string) => void} log
 */
function serverCloses(ws, log) {
  ws.send('Hello from native-ws. Send me anything and I will close the connection.');
  ws.once('message', (data) => {
    ws.send(`You said: ${data}`);
    log(`server-close: closing with 1000 "${REASON}"`);
    ws.close(1000, REASON);
  });
}

/**
 * Server 2: echoes until the client closes; the close is answered by the library.
 * @param {import('..')} ws
 * @param {(line: string) => void} log
 */
function clientCloses(ws, log) {
  ws.send('Hello from native-ws. Everything you send comes back; close when you like.');
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
}

/** Whether the first bytes of a connection are a WebSocket upgrade request. */
function isUpgrade(firstChunk) {
  const head = firstChunk.toString('latin1', 0, Math.min(firstChunk.length, 4096));
  return /^upgrade:\s*websocket\s*$/im.test(head);
}

function servePage(socket) {
  fs.readFile(PAGE, (err, body) => {
    const status = err ? '500 Internal Server Error' : '200 OK';
    const content = err ? Buffer.from('index.html is missing') : body;
    socket.end(
      Buffer.concat([
        Buffer.from(
          `HTTP/1.1 ${status}\r\nContent-Type: text/html; charset=utf-8\r\n` +
            `Content-Length: ${content.length}\r\nConnection: close\r\n\r\n`
        ),
        content,
      ])
    );
  });
}

/**
 * Builds the demo server (not yet listening).
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {net.Server}
 */
function createArticleServer(options = {}) {
  const log = options.log || (() => {});
  return net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (chunk) => {
      socket.pause();
      if (!isUpgrade(chunk)) {
        servePage(socket);
        return;
      }
      socket.unshift(chunk);
      const ws = accept(socket);
      ws.on('error', (err) => log(`error: ${err.message}`));
      ws.on('open', (req) => {
        log(`open ${req.url}`);
        if (req.url === '/server-close') serverCloses(ws, log);
        else clientCloses(ws, log);
      });
      ws.on('close', (code, reason) => log(`close ${code} "${reason}"`));
      socket.resume();
    });
  });
}

/**
 * The port from the PORT variable (default 8000), or null when it is not one.
 * @param {string|undefined} value
 * @returns {number|null}
 */
function portFrom(value) {
  if (value === undefined || value === '') return 8000;
  const port = Number(value);
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : null;
}

/** One line for a server that could not listen (no stack: it is the user's setting, not a bug). */
function listenFailure(err, host, port) {
  if (err.code === 'EADDRINUSE') {
    return `native-ws demo: port ${port} on ${host} is already in use; start the demo on another one, e.g. PORT=8001 npm start`;
  }
  if (err.code === 'EACCES') {
    return `native-ws demo: no permission to listen on port ${port}; use a port above 1023, e.g. PORT=8001 npm start`;
  }
  return `native-ws demo: cannot listen on ${host}:${port}: ${err.message}`;
}

module.exports = { createArticleServer, REASON, portFrom, listenFailure };

if (require.main === module) {
  const port = portFrom(process.env.PORT);
  const host = process.env.HOST || '127.0.0.1';
  if (port === null) {
    console.error(`native-ws demo: PORT must be a port number (0-65535), got "${process.env.PORT}"`);
    process.exit(1);
  }
  const server = createArticleServer({ log: (line) => console.log(line) });
  server.on('error', (err) => {
    console.error(listenFailure(err, host, port));
    process.exitCode = 1;
  });
  server.listen(port, host, () => {
    const bound = server.address().port;
    console.log(`native-ws demo: open http://${host}:${bound}/ in a browser (PORT=${bound})`);
    console.log(`  ws://${host}:${bound}/server-close  the server closes with 1000 "${REASON}"`);
    console.log(`  ws://${host}:${bound}/client-close  you close, the server answers`);
  });
}
