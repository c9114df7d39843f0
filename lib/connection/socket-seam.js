'use strict';

// The one seam between a connection and its transport. A WebSocket touches
// its stream.Duplex only through a SocketSeam: chunks come in (to
// `connection._onData`), send batches go out (write/cork/uncork, used by the
// Sender), reading is paused, resumed or stopped, our side is ended or the
// whole transport destroyed, and the transport's end, the flush of our
// ended side, its close and its error are reported (to `_onEnd`,
// `_onFinished`, `_onClose`, `_onSocketFailure`). Another transport
// (a native socket, say) can sit under a connection by offering the same
// methods.

const { kWebSocket, NOOP } = require('../constants');

const kSeam = Symbol('native-ws.seam');

/**
 * @typedef {object} SeamConnection what a seam reports to
 * @property {(chunk: Buffer) => void} _onData
 * @property {() => void} _onEnd
 * @property {() => void} _onFinished our side is ended and all written has been flushed
 * @property {() => void} _onClose
 * @property {() => void} _onSocketFailure
 */

class SocketSeam {
  /**
   * Takes over `socket` for `connection`: from now on its data, end, close
   * and error go to the connection.
   * @param {import('stream').Duplex} socket
   * @param {SeamConnection} connection
   * @param {Buffer} [head] bytes already read past the handshake; delivered first
   */
  constructor(socket, connection, head) {
    this.socket = socket;
    this.connection = connection;
    socket[kSeam] = this;
    socket[kWebSocket] = connection;
    if (typeof socket.setTimeout === 'function') socket.setTimeout(0);
    if (typeof socket.setNoDelay === 'function') socket.setNoDelay();
    if (head && head.length > 0) socket.unshift(head);
    socket.on('close', seamOnClose);
    socket.on('data', seamOnData);
    socket.on('end', seamOnEnd);
    socket.on('error', seamOnError);
  }

  /** Bytes handed to the transport and not yet written to the OS. */
  get queuedBytes() {
    return this.socket.writableLength;
  }

  /** Whether our side has been ended. */
  get ended() {
    return this.socket.writableEnded;
  }

  /** Whether the transport has been destroyed. */
  get destroyed() {
    return this.socket.destroyed;
  }

  /** Whether everything written has reached the OS and our side is ended. */
  get finished() {
    return this.socket.writableFinished;
  }

  /**
   * Calls `cb` once our side is ended and everything written has been flushed.
   * @param {() => void} cb
   */
  onceFinished(cb) {
    this.socket.once('finish', cb);
  }

  /**
   * Writes one send batch (or part of one, between cork() and uncork()).
   * @param {Buffer} bytes
   * @param {(err?: Error) => void} [cb] when the transport has taken it
   */
  write(bytes, cb) {
    this.socket.write(bytes, cb);
  }

  /** Gathers the writes that follow until uncork(). */
  cork() {
    this.socket.cork();
  }

  uncork() {
    this.socket.uncork();
  }

  /** Stops reading (the connection's pause()). */
  pause() {
    this.socket.pause();
  }

  /** Reads again. */
  resume() {
    this.socket.resume();
  }

  /**
   * Nothing more is wanted from the peer (after its close frame or a
   * violation): further chunks are read and dropped, so that the transport
   * sees the peer's end.
   */
  stopReading() {
    this.socket.removeListener('data', seamOnData);
    this.socket.resume();
  }

  /**
   * Ends our side, after what is already written; the connection's
   * _onFinished runs once all of it has been flushed. Ending twice is skipped.
   */
  end() {
    // Ending twice costs an error object inside Node.
    if (this.socket.writableEnded) return;
    // 'finish' comes once: a plain listener, not once() with a closure.
    this.socket.on('finish', seamOnFinish);
    this.socket.end();
  }

  /** Destroys the transport at once. */
  destroy() {
    this.socket.destroy();
  }

  /** The transport failed: errors from now on are ignored, and it is destroyed. */
  destroyAfterError() {
    const socket = this.socket;
    socket.removeListener('error', seamOnError);
    socket.on('error', NOOP);
    socket.destroy();
  }
}

/**
 * Calls `fn` once a transport that never became a connection's (a failed
 * opening handshake) has closed, or on the next tick if it has already.
 * @param {import('stream').Duplex|null} socket
 * @param {() => void} fn
 */
function whenClosed(socket, fn) {
  if (socket && !socket.closed) socket.once('close', fn);
  else process.nextTick(fn);
}

// Transport listeners, shared by every seam: `this` is the socket.
function seamOnData(chunk) {
  // The hot path: one property load, as before the seam (socket[kWebSocket] is the seam's connection).
  this[kWebSocket]._onData(chunk);
}

function seamOnEnd() {
  this[kSeam].connection._onEnd();
}

function seamOnFinish() {
  this[kSeam].connection._onFinished();
}

function seamOnClose() {
  const seam = this[kSeam];
  this.removeListener('data', seamOnData);
  seam.connection._onClose();
}

function seamOnError() {
  this[kSeam].connection._onSocketFailure();
}

module.exports = { SocketSeam, whenClosed };
