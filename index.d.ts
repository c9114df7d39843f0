// Type definitions for native-ws (CommonJS view; index.d.mts is the ESM view).
//
// Every name and shape that ws 8's typings (@types/ws) give to something
// native-ws implements is here under the same name, so ws code type-checks
// with only its import changed; native-ws's own additions (accept(), the
// protocol primitives, the limits and backpressure options) come on top.
// An option that native-ws does not know is left out, so tsc points at it.

/// <reference types="node" />

import { EventEmitter } from 'events';
import type { Agent, ClientRequest, ClientRequestArgs, IncomingMessage, OutgoingHttpHeaders, Server as HTTPServer } from 'http';
import type { Server as HTTPSServer } from 'https';
import type { Duplex, DuplexOptions } from 'stream';
import type { PeerCertificate, SecureContextOptions } from 'tls';
import type { URL } from 'url';

/**
 * What send(), ping() and pong() take; numbers are sent as their decimal
 * text; a Blob is read first, in order with the sends around it.
 */
type NativeWsSendable =
  | string
  | number
  | Buffer
  | ArrayBuffer
  | SharedArrayBuffer
  | ArrayBufferView
  | Blob
  | readonly Buffer[];

/** Arguments of each WebSocket event, by event name. */
interface NativeWsSocketEvents {
  /** On a client: no argument. On a WebSocket made by accept(): the parsed request. */
  open: [request: WebSocket.AcceptedRequest];
  message: [data: WebSocket.RawData, isBinary: boolean];
  ping: [data: Buffer];
  pong: [data: Buffer];
  close: [code: number, reason: Buffer];
  error: [error: Error];
  /** accept() only: the 101's lines, just before they are written; listeners may add headers. */
  headers: [headers: string[], request: WebSocket.AcceptedRequest];
  /** Client: the 101 response. */
  upgrade: [response: IncomingMessage];
  /** Client: a response other than 101. */
  'unexpected-response': [request: ClientRequest, response: IncomingMessage];
  /** Client, with followRedirects: before each redirect is followed. */
  redirect: [url: string, request: ClientRequest];
}

/** Arguments of each WebSocketServer event, by event name. */
interface NativeWsServerEvents<Socket, Request> {
  connection: [socket: Socket, request: Request];
  listening: [];
  close: [];
  error: [error: Error];
  headers: [headers: string[], request: Request];
  wsClientError: [error: Error, socket: Duplex, request: Request];
}

declare class WebSocket extends EventEmitter {
  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;

  /** `null`: a server-side WebSocket (WebSocketServer and accept() make these). */
  constructor(address: null);
  /** A client of a ws:, wss:, http:, https: or ws+unix: URL. */
  constructor(address: string | URL, options?: WebSocket.ClientOptions | ClientRequestArgs);
  constructor(address: string | URL, protocols?: string | string[], options?: WebSocket.ClientOptions | ClientRequestArgs);

  /** How binary messages are handed over: one Buffer, an ArrayBuffer, the Buffers as received, or a Blob. */
  binaryType: 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';
  /** Bytes queued and not yet written to the socket (including sends made after the close, as in ws). */
  readonly bufferedAmount: number;
  /** The negotiated extensions, e.g. 'permessage-deflate'. */
  readonly extensions: string;
  readonly isPaused: boolean;
  /** The negotiated subprotocol, '' when none. */
  readonly protocol: string;
  readonly readyState: typeof WebSocket.CONNECTING | typeof WebSocket.OPEN | typeof WebSocket.CLOSING | typeof WebSocket.CLOSED;
  /** The URL of a client; undefined on the server side. */
  readonly url: string;

  onopen: ((event: WebSocket.Event) => void) | null;
  onmessage: ((event: WebSocket.MessageEvent) => void) | null;
  onclose: ((event: WebSocket.CloseEvent) => void) | null;
  onerror: ((event: WebSocket.ErrorEvent) => void) | null;

  /**
   * Starts the closing handshake. As in ws, throws a TypeError ("First
   * argument must be a valid error code number") for a code that may not be
   * sent (only 1000-1003, 1007-1014 and 3000-4999) and a RangeError ("The
   * message must not be greater than 123 bytes") for a longer reason, before
   * readyState changes.
   */
  close(code?: number, reason?: string | Buffer | Uint8Array): void;
  /** Destroys the socket at once. */
  terminate(): void;
  /** At most 125 bytes (a RangeError otherwise, while open); after the close, the callback gets an error. */
  ping(data?: NativeWsSendable, mask?: boolean, cb?: (err?: Error) => void): void;
  pong(data?: NativeWsSendable, mask?: boolean, cb?: (err?: Error) => void): void;
  /**
   * Sends a message: strings as text, anything else as binary unless
   * `binary` says otherwise; an array of Buffers is sent as their
   * concatenation; no data sends an empty binary message. The callback runs
   * once the data is flushed to the OS, or with an error (after the close;
   * code 'WS_ERR_BACKPRESSURE' when maxBackpressure refused it).
   */
  send(data?: NativeWsSendable, cb?: (err?: Error) => void): void;
  send(data: NativeWsSendable, options: WebSocket.SendOptions, cb?: (err?: Error) => void): void;
  /**
   * ws's way to attach an upgraded socket to a `new WebSocket(null)` (as
   * frameworks do): the per-connection options are checked as the server
   * checks them, and 'open' is emitted.
   */
  setSocket(socket: Duplex, head?: Buffer, options?: WebSocket.ConnectionLimits): void;
  /** Stops reading from the socket. */
  pause(): void;
  resume(): void;

  /** Topics (server-side sockets with a hub): true if it was not subscribed yet; a bad topic throws TypeError/RangeError. */
  subscribe(topic: string): boolean;
  /** True if it was subscribed. */
  unsubscribe(topic: string): boolean;
  isSubscribed(topic: string): boolean;
  /** The topics this socket is subscribed to (left all at once when it closes). */
  readonly topics: string[];

  addEventListener<K extends keyof WebSocket.WebSocketEventMap>(
    type: K,
    listener: ((event: WebSocket.WebSocketEventMap[K]) => void) | { handleEvent(event: WebSocket.WebSocketEventMap[K]): void },
    options?: WebSocket.EventListenerOptions
  ): void;
  removeEventListener<K extends keyof WebSocket.WebSocketEventMap>(
    type: K,
    listener: ((event: WebSocket.WebSocketEventMap[K]) => void) | { handleEvent(event: WebSocket.WebSocketEventMap[K]): void }
  ): void;

  on<K extends keyof NativeWsSocketEvents>(event: K, listener: (this: WebSocket, ...args: NativeWsSocketEvents[K]) => void): this;
  on(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
  once<K extends keyof NativeWsSocketEvents>(event: K, listener: (this: WebSocket, ...args: NativeWsSocketEvents[K]) => void): this;
  once(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
  off<K extends keyof NativeWsSocketEvents>(event: K, listener: (this: WebSocket, ...args: NativeWsSocketEvents[K]) => void): this;
  off(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
  addListener<K extends keyof NativeWsSocketEvents>(event: K, listener: (...args: NativeWsSocketEvents[K]) => void): this;
  addListener(event: string | symbol, listener: (...args: any[]) => void): this;
  removeListener<K extends keyof NativeWsSocketEvents>(event: K, listener: (...args: NativeWsSocketEvents[K]) => void): this;
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** The class under a second name, so the namespace can export it as `WebSocket` too. */
declare const NativeWsSocketClass: typeof WebSocket;
interface NativeWsSocketClass extends WebSocket {}

declare namespace WebSocket {
  /** A received message: a Buffer, an ArrayBuffer (binaryType 'arraybuffer') or Buffers (binaryType 'fragments'); a Blob with binaryType 'blob'. */
  type RawData = Buffer | ArrayBuffer | Buffer[];
  /** A message as the WHATWG-style MessageEvent carries it (text as a string). */
  type Data = string | Buffer | ArrayBuffer | Buffer[];
  /** Certificate and key material. */
  type CertMeta = string | string[] | Buffer | Buffer[];

  interface SendOptions {
    /** Send as binary (default: false for strings, true for everything else). */
    binary?: boolean | undefined;
    /** false: skip permessage-deflate for this message. */
    compress?: boolean | undefined;
    /** false: this is a fragment and more follow. */
    fin?: boolean | undefined;
    /** Whether to mask the payload (default: true on the client, false on the server, as RFC 6455 §5.1 requires). */
    mask?: boolean | undefined;
  }

  /** What Sender.frame() takes, as ws's. */
  interface FrameOptions {
    /** 0 (continuation), 1 (text), 2 (binary), 8 (close), 9 (ping) or 10 (pong). */
    opcode: number;
    fin?: boolean | undefined;
    rsv1?: boolean | undefined;
    mask?: boolean | undefined;
    /** Accepted for ws's sake: the payload is never written to. */
    readOnly?: boolean | undefined;
    /** Receives the masking key used. */
    maskBuffer?: Buffer | undefined;
    /** Fills the 4-byte masking key instead of the CSPRNG. */
    generateMask?(mask: Buffer): void;
  }

  /**
   * ws's Sender, for its static frame(): frames a payload once (a broadcast)
   * so that each socket's `_sender.sendFrame(frames, cb)` queues the same bytes.
   */
  class Sender {
    private constructor();
    /** [header, payload], [header] for an empty payload, or [frame] when masked. */
    static frame(data: string | Buffer | ArrayBuffer | ArrayBufferView, options: FrameOptions): Buffer[];
    /** Queues frames made by frame(), by reference and in order with the socket's other sends. */
    sendFrame(list: readonly Buffer[], cb?: (err?: Error) => void): void;
  }

  /**
   * Decides synchronously whether to accept a handshake. `origin` is the
   * Origin header (Sec-WebSocket-Origin for protocol version 8); as in ws it
   * is undefined at run time when the request has none.
   */
  type VerifyClientCallbackSync<Request extends IncomingMessage = IncomingMessage> = (info: {
    origin: string;
    secure: boolean;
    req: Request;
  }) => boolean;

  /** Decides asynchronously: call back with false and a status code (401 by default) to refuse. */
  type VerifyClientCallbackAsync<Request extends IncomingMessage = IncomingMessage> = (
    info: { origin: string; secure: boolean; req: Request },
    callback: (res: boolean, code?: number, message?: string, headers?: OutgoingHttpHeaders) => void
  ) => void;

  /** Last-moment access to the client's handshake request; it must call request.end(). */
  type FinishRequestCallback = (request: ClientRequest, websocket: WebSocket) => void;

  /** Per-connection limits and liveness, shared by WebSocketServer and accept(). */
  interface ConnectionLimits {
    /** Largest message in bytes, after inflating (default 100 MiB); 0 means no limit. Over it: close 1009. */
    maxPayload?: number | undefined;
    /** Milliseconds to wait for the peer's close frame before destroying the socket (default 30000). */
    closeTimeout?: number | undefined;
    /** Milliseconds the peer gets to close TCP once close frames are exchanged and our FIN is sent (default 3000; 0: off). */
    closeGraceTimeout?: number | undefined;
    /** Answer pings automatically (default true). */
    autoPong?: boolean | undefined;
    /** Seconds without incoming data before a ping; a second silent period terminates (default 0: off). */
    idleTimeout?: number | undefined;
    /** Bytes queued for the socket beyond which send() is refused (default 0: no limit). */
    maxBackpressure?: number | undefined;
    /** A refused send is dropped (its callback gets WS_ERR_BACKPRESSURE), or also closes with 1008. Default 'drop'. */
    backpressurePolicy?: 'drop' | 'close' | undefined;
    /** ws: emit several 'message'/'ping'/'pong' events in one tick (default true); false: one per setImmediate. */
    allowSynchronousEvents?: boolean | undefined;
    /** ws: leave text messages and close reasons unchecked for UTF-8 (default false). */
    skipUTF8Validation?: boolean | undefined;
    /** ws: most data frames in one message (default 16384; int32-coerced, <= 0: no limit). Over it: close 1008. */
    maxFragments?: number | undefined;
    /** ws: most socket chunks one frame may arrive in (default 262144; int32-coerced, <= 0: no limit). Over it: close 1008. */
    maxBufferedChunks?: number | undefined;
    /** ws: automatic pongs not yet flushed before the peer is terminated (default 60; int32-coerced, <= 0: no limit). */
    maxPendingAutoPongs?: number | undefined;
  }

  interface ClientOptions extends SecureContextOptions {
    /** 13 (the default) or 8 (hybi-08: the origin goes in Sec-WebSocket-Origin); anything else throws a RangeError. */
    protocolVersion?: number | undefined;
    /** The subprotocols to offer when the `protocols` argument is left out (as in ws 8.22). */
    protocols?: string | string[] | undefined;
    /** Milliseconds for the whole opening handshake of each request (default: no limit). */
    handshakeTimeout?: number | undefined;
    headers?: OutgoingHttpHeaders | undefined;
    origin?: string | undefined;
    /** Largest message in bytes (default 100 MiB); 0 means no limit. */
    maxPayload?: number | undefined;
    /** Milliseconds to wait for the peer's close frame (default 30000). */
    closeTimeout?: number | undefined;
    /** Milliseconds the server gets to close TCP once close frames are exchanged (default 3000; 0: off). */
    closeGraceTimeout?: number | undefined;
    autoPong?: boolean | undefined;
    allowSynchronousEvents?: boolean | undefined;
    skipUTF8Validation?: boolean | undefined;
    maxFragments?: number | undefined;
    maxBufferedChunks?: number | undefined;
    maxPendingAutoPongs?: number | undefined;
    /** Offered by default, as in ws; false sends no offer. */
    perMessageDeflate?: boolean | PerMessageDeflateOptions | undefined;
    /** Fills each frame's 4-byte masking key (default: a pool filled by the CSPRNG). */
    generateMask?(mask: Buffer): void;
    followRedirects?: boolean | undefined;
    /** Default 10. */
    maxRedirects?: number | undefined;
    /** The rest go to http.request / https.request. */
    agent?: Agent | undefined;
    host?: string | undefined;
    family?: number | undefined;
    localAddress?: string | undefined;
    protocol?: string | undefined;
    servername?: string | undefined;
    rejectUnauthorized?: boolean | undefined;
    checkServerIdentity?(servername: string, cert: PeerCertificate | CertMeta): boolean | Error | undefined;
    createConnection?: ((options: any, callback?: () => void) => Duplex) | undefined;
    finishRequest?: FinishRequestCallback | undefined;
  }

  /** permessage-deflate (RFC 7692) settings, as ws's `perMessageDeflate` object. */
  interface PerMessageDeflateOptions {
    serverNoContextTakeover?: boolean | undefined;
    clientNoContextTakeover?: boolean | undefined;
    /** 8..15, or true/undefined for the default. */
    serverMaxWindowBits?: number | boolean | undefined;
    clientMaxWindowBits?: number | boolean | undefined;
    /** zlib level (default 6); also read from zlibDeflateOptions. */
    level?: number | undefined;
    /** zlib memLevel (default 8); also read from zlibDeflateOptions. */
    memLevel?: number | undefined;
    /** Of ws's zlib settings, level and memLevel are used; the rest are accepted and ignored (compression runs in Rust). */
    zlibDeflateOptions?:
      | {
          level?: number | undefined;
          memLevel?: number | undefined;
          flush?: number | undefined;
          finishFlush?: number | undefined;
          chunkSize?: number | undefined;
          windowBits?: number | undefined;
          strategy?: number | undefined;
          dictionary?: Buffer | Buffer[] | DataView | undefined;
          info?: boolean | undefined;
        }
      | undefined;
    /** Accepted for ws compatibility and ignored (inflating runs in Rust). */
    zlibInflateOptions?: import('zlib').ZlibOptions | undefined;
    /** Messages shorter than this many bytes go uncompressed (default 1024). */
    threshold?: number | undefined;
    /** Accepted for ws compatibility and ignored: there is no zlib thread pool to limit. */
    concurrencyLimit?: number | undefined;
  }

  interface Event {
    type: string;
    target: WebSocket;
  }
  interface ErrorEvent extends Event {
    error: any;
    message: string;
  }
  interface CloseEvent extends Event {
    wasClean: boolean;
    code: number;
    reason: string;
  }
  interface MessageEvent extends Event {
    data: Data;
  }
  interface WebSocketEventMap {
    open: Event;
    error: ErrorEvent;
    close: CloseEvent;
    message: MessageEvent;
  }
  interface EventListenerOptions {
    once?: boolean | undefined;
  }

  interface ServerOptions<
    T extends typeof NativeWsSocketClass = typeof NativeWsSocketClass,
    U extends typeof IncomingMessage = typeof IncomingMessage,
  > extends ConnectionLimits {
    host?: string | undefined;
    port?: number | undefined;
    backlog?: number | undefined;
    server?: HTTPServer<U> | HTTPSServer<U> | undefined;
    noServer?: boolean | undefined;
    /** With `port`: milliseconds from TCP accept to a complete upgrade request, else 408 and dropped (default 10000; 0: Node's http limits only). */
    handshakeTimeout?: number | undefined;
    /** Accept only upgrades to this path. */
    path?: string | undefined;
    clientTracking?: boolean | undefined;
    /** RFC 7692 compression; default false. */
    perMessageDeflate?: boolean | PerMessageDeflateOptions | undefined;
    /** Picks a subprotocol from the client's offer; without it the first offer is chosen, as in ws 8. */
    handleProtocols?: (protocols: Set<string>, request: InstanceType<U>) => string | false;
    verifyClient?: VerifyClientCallbackAsync<InstanceType<U>> | VerifyClientCallbackSync<InstanceType<U>> | undefined;
    /** Carries publishes to and from other processes, e.g. redisBackplane({ url }). */
    backplane?: Backplane | undefined;
    /** The class connections are made with: WebSocket (default) or a class that extends it (else a TypeError). */
    WebSocket?: T | undefined;
    /** ws's receiver option: 'message', 'ping' and 'pong' may be emitted several times in one tick (default true). */
    allowSynchronousEvents?: boolean | undefined;
    /** ws's receiver option: skip the UTF-8 check of text messages and close reasons (default false). */
    skipUTF8Validation?: boolean | undefined;
    /** Most fragments one message may have (default 16384, as ws 8.21+). */
    maxFragments?: number | undefined;
    /** Most chunks buffered for one message (default 262144, as ws 8.21+). */
    maxBufferedChunks?: number | undefined;
    /** Most automatic pongs waiting to be written (default 60, as ws 8.23). */
    maxPendingAutoPongs?: number | undefined;
  }

  /**
   * What handleUpgrade() needs of a request: Node's IncomingMessage, or an
   * object a framework's test tool builds (`method`, `url` and `headers`;
   * header values may be numbers).
   */
  interface UpgradeRequestLike {
    method?: string | undefined;
    url?: string | undefined;
    headers: Record<string, string | string[] | number | undefined>;
    httpVersion?: string | undefined;
  }

  interface AddressInfo {
    address: string;
    family: string;
    port: number;
  }

  /** ws 8's server: on a port, on your http(s) server, or with noServer and handleUpgrade(). */
  class Server<
    T extends typeof NativeWsSocketClass = typeof NativeWsSocketClass,
    U extends typeof IncomingMessage = typeof IncomingMessage,
  > extends EventEmitter {
    constructor(options?: ServerOptions<T, U>, callback?: () => void);
    options: ServerOptions<T, U>;
    /** Open connections (unless clientTracking is false). */
    clients: Set<InstanceType<T>>;

    /** The bound address of the server; throws in noServer mode. */
    address(): AddressInfo | string | null;
    /** Stops accepting connections; 'close' (and the callback) once the open ones have closed. */
    close(cb?: (err?: Error) => void): void;
    handleUpgrade(
      request: InstanceType<U>,
      socket: Duplex,
      upgradeHead: Buffer,
      callback: (client: InstanceType<T>, request: InstanceType<U>) => void
    ): void;
    handleUpgrade<R extends UpgradeRequestLike>(
      request: R,
      socket: Duplex,
      upgradeHead: Buffer,
      callback: (client: InstanceType<T>, request: R) => void
    ): void;
    shouldHandle(request: InstanceType<U>): boolean;
    /** The topics of this server's sockets. */
    readonly topics: Topics;
    /** Sends to the subscribers of `topic` (and, with a backplane, to the other processes); returns the local recipients. */
    publish(topic: string, data: NativeWsSendable, options?: PublishOptions): number;
    subscriberCount(topic: string): number;

    on<K extends keyof NativeWsServerEvents<InstanceType<T>, InstanceType<U>>>(
      event: K,
      listener: (this: Server<T, U>, ...args: NativeWsServerEvents<InstanceType<T>, InstanceType<U>>[K]) => void
    ): this;
    on(event: string | symbol, listener: (this: Server<T, U>, ...args: any[]) => void): this;
    once<K extends keyof NativeWsServerEvents<InstanceType<T>, InstanceType<U>>>(
      event: K,
      listener: (this: Server<T, U>, ...args: NativeWsServerEvents<InstanceType<T>, InstanceType<U>>[K]) => void
    ): this;
    once(event: string | symbol, listener: (this: Server<T, U>, ...args: any[]) => void): this;
    off<K extends keyof NativeWsServerEvents<InstanceType<T>, InstanceType<U>>>(
      event: K,
      listener: (this: Server<T, U>, ...args: NativeWsServerEvents<InstanceType<T>, InstanceType<U>>[K]) => void
    ): this;
    off(event: string | symbol, listener: (this: Server<T, U>, ...args: any[]) => void): this;
    addListener<K extends keyof NativeWsServerEvents<InstanceType<T>, InstanceType<U>>>(
      event: K,
      listener: (...args: NativeWsServerEvents<InstanceType<T>, InstanceType<U>>[K]) => void
    ): this;
    addListener(event: string | symbol, listener: (...args: any[]) => void): this;
    removeListener<K extends keyof NativeWsServerEvents<InstanceType<T>, InstanceType<U>>>(
      event: K,
      listener: (...args: NativeWsServerEvents<InstanceType<T>, InstanceType<U>>[K]) => void
    ): this;
    removeListener(event: string | symbol, listener: (...args: any[]) => void): this;
  }
  const WebSocketServer: typeof Server;
  interface WebSocketServer extends Server {}
  const WebSocket: typeof NativeWsSocketClass;
  interface WebSocket extends NativeWsSocketClass {}

  /** A Duplex over a WebSocket: each write is one message, each message one chunk; end() closes, destroy() terminates. */
  function createWebSocketStream(websocket: WebSocket, options?: DuplexOptions): Duplex;

  // ---- native-ws additions ----

  /** The request accept() parsed (headers and rawHeaders are built on first read). */
  interface AcceptedRequest {
    method: string;
    url: string;
    httpVersion: string;
    headers: Record<string, string>;
    rawHeaders: string[];
    socket: Duplex;
  }

  interface AcceptOptions extends ConnectionLimits {
    /** Milliseconds to receive the whole request (default 10000; 0: no limit); then 408. */
    handshakeTimeout?: number | undefined;
    /** Request header block limit in bytes (default 16 KiB); over it the answer is 431. */
    maxHeaderBytes?: number | undefined;
    /** Accept only this path (400 otherwise). */
    path?: string | undefined;
    handleProtocols?: (protocols: Set<string>, request: AcceptedRequest) => string | false;
    /** Synchronous (return false to refuse with 401) or asynchronous (call back with false and a status code). */
    verifyClient?:
      | ((info: { origin: string | undefined; secure: boolean; req: AcceptedRequest }) => boolean)
      | ((
          info: { origin: string | undefined; secure: boolean; req: AcceptedRequest },
          callback: (res: boolean, code?: number, message?: string, headers?: OutgoingHttpHeaders) => void
        ) => void)
      | undefined;
    /** The hub for ws.subscribe()/publish() on accepted sockets. */
    topics?: Topics | undefined;
  }

  /** The WebSocket handshake on a raw socket (net.createServer style); 'open' fires with the request. */
  function accept(socket: Duplex, options?: AcceptOptions): WebSocket;

  interface PublishOptions {
    /** Default: true unless `data` is a string. */
    binary?: boolean | undefined;
    /** Default true: compressed for subscribers with permessage-deflate (above its threshold). */
    compress?: boolean | undefined;
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
    publish(topic: string, data: NativeWsSendable, options?: PublishOptions): number;
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

  /**
   * An error the peer caused. The errors emitted are the class ws emits for
   * the rule (RangeError; Error for invalid UTF-8 and zlib's Z_DATA_ERROR);
   * `instanceof ProtocolError` holds for every one of them.
   */
  class ProtocolError extends RangeError {
    constructor(message: string, closeCode: number, code?: string);
    /** The close code the connection fails with (1002, 1007, 1008, 1009, ...): ws's [kStatusCode]. */
    closeCode: number;
    /** ws's code for the rule: 'WS_ERR_INVALID_OPCODE', 'WS_ERR_UNEXPECTED_RSV_2_3', 'WS_ERR_INVALID_UTF8', 'Z_DATA_ERROR', … */
    code: string;
    /** zlib's errno (-3) with code 'Z_DATA_ERROR'. */
    errno?: number;
    /** Events parsed before the error, when thrown by FrameParser.push. */
    events?: ParsedEvent[];
  }

  /** A refused upgrade request, thrown by parseUpgradeRequest(). */
  class HandshakeError extends Error {
    constructor(statusCode: number, message: string);
    code: 'WS_ERR_HANDSHAKE';
    /** 400, 405 (not GET) or 431; a version refusal's response lists Sec-WebSocket-Version: 13, 8. */
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

  /** Sec-WebSocket-Accept for a Sec-WebSocket-Key. */
  function acceptKey(key: string): string;
  /** null until the header block is complete; throws HandshakeError for a request to refuse. */
  function parseUpgradeRequest(buffer: Buffer, options?: { maxHeaderBytes?: number }): UpgradeRequest | null;
  /** The complete 101 response. */
  function buildAcceptResponse(key: string, options?: { protocol?: string }): string;
  function encodeFrame(frame: Frame): Buffer;
  /** null while the buffer holds less than one frame. */
  function decodeFrame(buffer: Buffer): DecodedFrame | null;
  /** A close frame's payload: the 2-byte code and the UTF-8 reason. */
  function encodeClose(code?: number, reason?: string | Buffer): Buffer;
  /** Throws ProtocolError (1002 or 1007) for a payload a peer may not send. */
  function decodeClose(payload: Buffer): { code: number; reason: string };

  /** Streaming frame parser: push socket chunks, get complete events; throws ProtocolError on the first violation. */
  class FrameParser {
    constructor(options?: { maxPayload?: number; client?: boolean });
    push(chunk: Buffer): ParsedEvent[];
  }
}

export = WebSocket;
