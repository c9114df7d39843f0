'use strict';

// createWebSocketStream(ws): a stream.Duplex over a WebSocket, as in ws 8.
// Each write() is sent as one message (strings as text, Buffers as binary);
// each message received is pushed as one chunk. Ending the writable side
// starts the closing handshake; destroying the stream terminates the socket.

const { Duplex } = require('node:stream');

function emitClose(stream) {
  stream.emit('close');
}

function duplexOnEnd() {
  if (!this.destroyed && this._writableState.finished) this.destroy();
}

function duplexOnError(err) {
  this.removeListener('error', duplexOnError);
  this.destroy();
  // Without a listener of its own, the error still throws as a stream error would.
  if (this.listenerCount('error') === 0) this.emit('error', err);
}

/**
 * Wraps a WebSocket (client or server side, open or still connecting) in a Duplex.
 * @param {import('./websocket').WebSocket} ws
 * @param {import('stream').DuplexOptions} [options] e.g. readableObjectMode, encoding
 * @returns {Duplex}
 */
function createWebSocketStream(ws, options) {
  let terminateOnDestroy = true;

  const duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
  });

  ws.on('message', (msg, isBinary) => {
    const data = !isBinary && duplex._readableState.objectMode ? msg.toString() : msg;
    if (!duplex.push(data)) ws.pause();
  });

  ws.once('error', (err) => {
    if (duplex.destroyed) return;
    // The WebSocket already fails the connection itself (sending a close
    // frame when it can); terminating now could cut that frame off.
    terminateOnDestroy = false;
    duplex.destroy(err);
  });

  ws.once('close', () => {
    if (duplex.destroyed) return;
    duplex.push(null);
  });

  duplex._destroy = function (err, callback) {
    if (ws.readyState === ws.CLOSED) {
      callback(err);
      process.nextTick(emitClose, duplex);
      return;
    }
    let called = false;
    ws.once('error', (error) => {
      called = true;
      callback(error);
    });
    ws.once('close', () => {
      if (!called) callback(err);
      process.nextTick(emitClose, duplex);
    });
    if (terminateOnDestroy) ws.terminate();
  };

  duplex._final = function (callback) {
    if (ws.readyState === ws.CONNECTING) {
      ws.once('open', () => duplex._final(callback));
      return;
    }
    // No socket: a client whose handshake failed; the 'error' event ends the stream.
    if (ws._seam === null) return;
    if (ws._seam.finished) {
      callback();
      if (duplex._readableState.endEmitted) duplex.destroy();
    } else {
      // 'end' follows on the duplex: the EOF chunk is pushed on the WebSocket's 'close'.
      ws._seam.onceFinished(() => callback());
      ws.close();
    }
  };

  duplex._read = function () {
    if (ws.isPaused) ws.resume();
  };

  duplex._write = function (chunk, encoding, callback) {
    if (ws.readyState === ws.CONNECTING) {
      ws.once('open', () => duplex._write(chunk, encoding, callback));
      return;
    }
    ws.send(chunk, callback);
  };

  duplex.on('end', duplexOnEnd);
  duplex.on('error', duplexOnError);
  return duplex;
}

module.exports = { createWebSocketStream };
