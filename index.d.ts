// Type definitions for native-ws. The server API mirrors ws 8.

/// <reference types="node" />

import { EventEmitter } from 'events';
import type { Agent, ClientRequest, IncomingMessage, Server as HTTPServer } from 'http';
import type { Server as HTTPSServer } from 'https';
import type { Duplex, DuplexOptions } from 'stream';
import type { SecureContextOptions } from 'tls';

type BinaryData = Buffer | ArrayBuffer | Buffer[];
type SendData = string | Buffer | ArrayBuffer | ArrayBufferView | number;

declare class WebSocket extends EventEmitter {
  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;

  /** `null`: a server-side WebSocket (made by WebSocketServer and accept()). */
  constructor(address: null);
  /** A client: opens a connection to a ws:, wss:, http:, https: or ws+unix: URL. */
  constructor(address: string | URL, options?: WebSocket.ClientOptions);
  constructor(address: string | URL, protocols?: string | string[], options?: WebSocket.ClientOptions);

  binaryType: 'nodebuffer' | 'arraybuffer' | 'fragments';
  readonly bufferedAmount: number;
  readonly extensions: string;
  readonly isPaused: boolean;
  readonly protocol: string;
  readonly readyState: 0 | 1 | 2 | 3;
  readonly url: string | undefined;
  /** The handshake request, on WebSockets made by accept(). */
  upgradeReq?: WebSocket.AcceptedRequest;

  onopen: ((event: WebSocket.Event) => void) | null;
  onmessage: ((event: WebSocket.MessageEvent) => void) | null;
  onclose: ((event: WebSocket.CloseEvent) => void) | null;
  onerror: ((event: WebSocket.ErrorEvent) => void) | null;

  /** Closing handshake; throws RangeError for a code that may not be sent or a reason over 123 bytes. */
  close(code?: number, reason?: string | Buffer): void;
  terminate(): void;
  ping(data?: SendData, mask?: boolean, cb?: (err?: Error) => void): void;
  pong(data?: SendData, mask?: boolean, cb?: (err?: Error) => void): void;
  send(data: SendData, cb?: (err?: Error) => void): void;
  send(
    data: SendData,
    options: { binary?: boolean; compress?: boolean; fin?: boolean; mask?: boolean },
    cb?: (err?: Error) => void
  ): void;
  pause(): void;
  resume(): void;

  /** Topics (server-side sockets with a hub): true if it was not subscribed yet; a bad topic throws TypeError/RangeError. */
  subscribe(topic: string): boolean;
  /** True if it was subscribed. */
  unsubscribe(topic: string): boolean;
  isSubscribed(topic: string): boolean;
  /** The topics this socket is subscribed to (left all at once when it closes). */
  readonly topics: string[];

  addEventListener(type: 'open', listener: (event: WebSocket.Event) => void, options?: { once?: boolean }): void;
  addEventListener(type: 'message', listener: (event: WebSocket.MessageEvent) => void, options?: { once?: boolean }): void;
  addEventListener(type: 'close', listener: (event: WebSocket.CloseEvent) => void, options?: { once?: boolean }): void;
  addEventListener(type: 'error', listener: (event: WebSocket.ErrorEvent) => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (...args: any[]) => void): void;

  on(event: 'open', listener: (this: WebSocket, req: WebSocket.AcceptedRequest) => void): this;
  on(event: 'message', listener: (this: WebSocket, data: BinaryData, isBinary: boolean) => void): this;
  on(event: 'ping' | 'pong', listener: (this: WebSocket, data: Buffer) => void): this;
  on(event: 'close', listener: (this: WebSocket, code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (this: WebSocket, err: Error) => void): this;
  on(event: 'upgrade', listener: (this: WebSocket, response: IncomingMessage) => void): this;
  on(event: 'unexpected-response', listener: (this: WebSocket, request: ClientRequest, response: IncomingMessage) => void): this;
  on(event: 'redirect', listener: (this: WebSocket, url: string, request: ClientRequest) => void): this;
  on(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
  once(event: 'open', listener: (this: WebSocket, req: WebSocket.AcceptedRequest) => void): this;
  once(event: 'message', listener: (this: WebSocket, data: BinaryData, isBinary: boolean) => void): this;
  once(event: 'ping' | 'pong', listener: (this: WebSocket, data: Buffer) => void): this;
  once(event: 'close', listener: (this: WebSocket, code: number, reason: Buffer) => void): this;
  once(event: 'error', listener: (this: WebSocket, err: Error) => void): this;
  once(event: 'upgrade', listener: (this: WebSocket, response: IncomingMessage) => void): this;
  once(event: 'unexpected-response', listener: (this: WebSocket, request: ClientRequest, response: IncomingMessage) => void): this;
  once(event: 'redirect', listener: (this: WebSocket, url: string, request: ClientRequest) => void): this;
  once(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
}

declare namespace WebSocket {
  interface Event {
    type: string;
    target: WebSocket;
  }
  interface MessageEvent extends Event {
    data: string | BinaryData;
  }
  interface CloseEvent extends Event {
    code: number;
    reason: string;
    wasClean: boolean;
  }
  interface ErrorEvent extends Event {
    error: any;
    message: string;
  }

  interface AcceptedRequest {
    method: string;
    url: string;
    httpVersion: string;
    headers: Record<string, string>;
    rawHeaders: string[];
    socket: Duplex;
  }

  interface VerifyClientInfo {
    origin: string | undefined;
    secure: boolean;
    req: IncomingMessage;
  }

  interface ServerOptions {
    port?: number;
    host?: string;
    backlog?: number;
    server?: HTTPServer | HTTPSServer;
    noServer?: boolean;
    path?: string;
    /** Largest message in bytes (default 100 MiB); 0 means no limit. */
    maxPayload?: number;
    /** Milliseconds to wait for the peer's close frame (default 30000). */
    closeTimeout?: number;
    /** Milliseconds the peer gets to close TCP once close frames are exchanged and our FIN is sent (default 3000; 0: off). */
    closeGraceTimeout?: number;
    /** With `port`: milliseconds from TCP accept to a complete upgrade request, else 408 and dropped (default 10000; 0: Node's http limits only). */
    handshakeTimeout?: number;
    autoPong?: boolean;
    clientTracking?: boolean;
    /** Not supported yet: must be false or absent. */
    perMessageDeflate?: false;
    handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false;
    verifyClient?:
      | ((info: VerifyClientInfo) => boolean)
      | ((
          info: VerifyClientInfo,
          callback: (res: boolean, code?: number, message?: string, headers?: Record<string, string | number>) => void
        ) => void);
    /** Carries publishes to and from other processes, e.g. redisBackplane({ url }). */
    backplane?: Backplane;
  }

  class WebSocketServer extends EventEmitter {
    constructor(options: ServerOptions, callback?: () => void);
    options: ServerOptions;
    clients: Set<WebSocket>;
    address(): ReturnType<HTTPServer['address']>;
    close(cb?: (err?: Error) => void): void;
    handleUpgrade(
      request: IncomingMessage,
      socket: Duplex,
      upgradeHead: Buffer,
      callback: (client: WebSocket, request: IncomingMessage) => void
    ): void;
    shouldHandle(request: IncomingMessage): boolean;
    /** The topics of this server's sockets. */
    readonly topics: Topics;
    /** Sends to the subscribers of `topic` (and, with a backplane, to the other processes); returns the local recipients. */
    publish(topic: string, data: SendData, options?: PublishOptions): number;
    subscriberCount(topic: string): number;

    on(event: 'connection', listener: (this: WebSocketServer, socket: WebSocket, request: IncomingMessage) => void): this;
    on(event: 'error', listener: (this: WebSocketServer, error: Error) => void): this;
    on(event: 'headers', listener: (this: WebSocketServer, headers: string[], request: IncomingMessage) => void): this;
    on(event: 'close' | 'listening', listener: (this: WebSocketServer) => void): this;
    on(
      event: 'wsClientError',
      listener: (this: WebSocketServer, error: Error & { statusCode: number }, socket: Duplex, request: IncomingMessage) => void
    ): this;
    on(event: string | symbol, listener: (this: WebSocketServer, ...args: any[]) => void): this;
  }
  const Server: typeof WebSocketServer;

  interface AcceptOptions {
    maxPayload?: number;
    closeTimeout?: number;
    /** Milliseconds the peer gets to close TCP after the closing handshake (default 3000; 0: off). */
    closeGraceTimeout?: number;
    /** Milliseconds to receive the whole request (default 10000; 0: no limit). */
    handshakeTimeout?: number;
    /** Request header block limit in bytes (default 16 KiB); over it the answer is 431. */
    maxHeaderBytes?: number;
    autoPong?: boolean;
    handleProtocols?: (protocols: Set<string>, request: AcceptedRequest) => string | false;
    verifyClient?: (info: { origin: string | undefined; secure: boolean; req: AcceptedRequest }) => boolean;
    /** The hub for ws.subscribe()/publish() on accepted sockets. */
    topics?: Topics;
  }

  interface PublishOptions {
    /** Default: true unless `data` is a string. */
    binary?: boolean;
    /** Default true: compressed for subscribers with permessage-deflate (above its threshold). */
    compress?: boolean;
  }

  /** What a Topics hub needs from a transport to other processes (see README, "Backplane interface"). */
  interface Backplane {
    /** Unique per instance; a backplane drops its own messages by it. */
    readonly id: string;
    start(deliver: (topic: string, payload: Buffer, binary: boolean) => void): Promise<void> | void;
    stop(): Promise<void> | void;
    subscribe(topic: string): Promise<void> | void;
    unsubscribe(topic: string): Promise<void> | void;
    /** Must not throw or block while the transport is away. */
    publish(topic: string, payload: Buffer, binary: boolean): void;
  }

  /** Topics and their subscribers, with frame-once publish. */
  class Topics {
    constructor(options?: { backplane?: Backplane });
    readonly backplane: Backplane | null;
    /** Topics with at least one local subscriber. */
    readonly topics: string[];
    publish(topic: string, data: SendData, options?: PublishOptions): number;
    subscriberCount(topic: string): number;
    /** Resolves once the backplane's pending subscribe/unsubscribe calls are done. */
    synced(): Promise<void>;
    /** Stops the backplane. */
    close(): Promise<void>;
  }

  interface RedisBackplaneOptions {
    /** e.g. redis://127.0.0.1:6379: the backplane opens (and closes) its two connections. */
    url?: string;
    /** A node-redis client to publish with; a duplicate of it subscribes. Left open by stop(). */
    client?: any;
    /** Channel name prefix (default 'native-ws:'); one channel per topic. */
    prefix?: string;
    /** Publishes held while Redis is away (default 1000; the oldest are dropped first; 0: none). */
    maxQueued?: number;
  }

  class RedisBackplane extends EventEmitter implements Backplane {
    readonly id: string;
    /** Whether publishes go to Redis now (false: they wait in the queue). */
    readonly connected: boolean;
    readonly stats: { published: number; queued: number; dropped: number; failed: number; received: number };
    start(deliver: (topic: string, payload: Buffer, binary: boolean) => void): Promise<void>;
    stop(): Promise<void>;
    subscribe(topic: string): Promise<void>;
    unsubscribe(topic: string): Promise<void>;
    publish(topic: string, payload: Buffer, binary: boolean): void;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'ready', listener: () => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
  }

  /** A backplane on Redis pub/sub (needs `npm install redis`). */
  function redisBackplane(options: RedisBackplaneOptions): RedisBackplane;

  /** permessage-deflate settings (RFC 7692), as ws's `perMessageDeflate` object. */
  interface PerMessageDeflateOptions {
    serverNoContextTakeover?: boolean;
    clientNoContextTakeover?: boolean;
    serverMaxWindowBits?: number | boolean;
    clientMaxWindowBits?: number | boolean;
    level?: number;
    memLevel?: number;
    zlibDeflateOptions?: { level?: number; memLevel?: number };
    /** Messages shorter than this (bytes) are sent uncompressed (default 1024). */
    threshold?: number;
  }

  /** Options of `new WebSocket(address, protocols, options)`; other keys go to http(s).request. */
  interface ClientOptions extends SecureContextOptions {
    /** Only 13 (the default). */
    protocolVersion?: 13;
    /** Milliseconds for the whole opening handshake of each request (default: no limit). */
    handshakeTimeout?: number;
    headers?: Record<string, string | string[]>;
    origin?: string;
    /** Largest message in bytes (default 100 MiB); 0 means no limit. */
    maxPayload?: number;
    /** Milliseconds to wait for the peer's close frame (default 30000). */
    closeTimeout?: number;
    /** Milliseconds the peer gets to close TCP once close frames are exchanged and our FIN is sent (default 3000; 0: off). */
    closeGraceTimeout?: number;
    autoPong?: boolean;
    /** Offered by default, as in ws; false sends no offer. */
    perMessageDeflate?: boolean | PerMessageDeflateOptions;
    followRedirects?: boolean;
    /** Default 10. */
    maxRedirects?: number;
    agent?: Agent;
    host?: string;
    family?: number;
    localAddress?: string;
    servername?: string;
    rejectUnauthorized?: boolean;
    checkServerIdentity?(servername: string, cert: import('tls').PeerCertificate): Error | undefined;
    createConnection?: (options: object, callback?: () => void) => Duplex;
    finishRequest?: (request: ClientRequest, websocket: WebSocket) => void;
  }

  /** A Duplex over a WebSocket: writes are sent as messages, messages are read as chunks (as in ws). */
  function createWebSocketStream(websocket: WebSocket, options?: DuplexOptions): Duplex;

  /** WebSocket handshake on a raw socket (net.createServer style). */
  function accept(socket: Duplex, options?: AcceptOptions): WebSocket;

  class ProtocolError extends Error {
    /** The close code the connection fails with (1002, 1007, 1009, …). */
    closeCode: number;
    code: string;
    /** Events parsed before the error, when thrown by FrameParser.push. */
    events?: ParsedEvent[];
  }

  class HandshakeError extends Error {
    code: 'WS_ERR_HANDSHAKE';
    /** 400, 426 or 431. */
    statusCode: number;
    /** A complete HTTP response to write before closing. */
    response: string;
  }

  interface UpgradeRequest {
    method: string;
    url: string;
    httpVersion: string;
    rawHeaders: string[];
    headers: Record<string, string>;
    key: string;
    protocols: string[];
    extensions: string | null;
    /** Length of the header block; later bytes are WebSocket frames. */
    bytesUsed: number;
  }

  interface Frame {
    fin?: boolean;
    rsv1?: boolean;
    opcode?: number;
    payload?: string | Buffer | ArrayBufferView;
    /** true for a random key, or the 4-byte key. */
    mask?: boolean | Buffer;
  }

  interface DecodedFrame {
    fin: boolean;
    rsv1: boolean;
    rsv2: boolean;
    rsv3: boolean;
    opcode: number;
    masked: boolean;
    payload: Buffer;
    bytesUsed: number;
  }

  type ParsedEvent =
    | { type: 'message'; data: Buffer; isBinary: boolean }
    | { type: 'ping' | 'pong'; data: Buffer }
    | { type: 'close'; code: number; reason: string };

  function acceptKey(key: string): string;
  function parseUpgradeRequest(buffer: Buffer, options?: { maxHeaderBytes?: number }): UpgradeRequest | null;
  function buildAcceptResponse(key: string, options?: { protocol?: string }): string;
  function encodeFrame(frame: Frame): Buffer;
  function decodeFrame(buffer: Buffer): DecodedFrame | null;
  function encodeClose(code?: number, reason?: string | Buffer): Buffer;
  function decodeClose(payload: Buffer): { code: number; reason: string };

  class FrameParser {
    constructor(options?: { maxPayload?: number; client?: boolean });
    push(chunk: Buffer): ParsedEvent[];
  }
}

export = WebSocket;
