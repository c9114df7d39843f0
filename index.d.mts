// Type definitions for native-ws, ESM view (the "import" condition, index.mjs):
// the default export and every named export index.mjs has, typed by index.d.ts.

import WebSocket from './index.js';

export default WebSocket;

// Values (classes and functions) with their types.
export import WebSocketServer = WebSocket.WebSocketServer;
export import Server = WebSocket.Server;
export import createWebSocketStream = WebSocket.createWebSocketStream;
export import accept = WebSocket.accept;
export import ProtocolError = WebSocket.ProtocolError;
export import HandshakeError = WebSocket.HandshakeError;
export import Sender = WebSocket.Sender;
export import acceptKey = WebSocket.acceptKey;
export import parseUpgradeRequest = WebSocket.parseUpgradeRequest;
export import buildAcceptResponse = WebSocket.buildAcceptResponse;
export import encodeFrame = WebSocket.encodeFrame;
export import decodeFrame = WebSocket.decodeFrame;
export import encodeClose = WebSocket.encodeClose;
export import decodeClose = WebSocket.decodeClose;
export import FrameParser = WebSocket.FrameParser;
export import Topics = WebSocket.Topics;
export import redisBackplane = WebSocket.redisBackplane;
export type RedisBackplane = WebSocket.RedisBackplane;
export declare const CONNECTING: typeof WebSocket.CONNECTING;
export declare const OPEN: typeof WebSocket.OPEN;
export declare const CLOSING: typeof WebSocket.CLOSING;
export declare const CLOSED: typeof WebSocket.CLOSED;

// Types only.
export import RawData = WebSocket.RawData;
export import Data = WebSocket.Data;
export import CertMeta = WebSocket.CertMeta;
export import SendOptions = WebSocket.SendOptions;
export import FrameOptions = WebSocket.FrameOptions;
export import VerifyClientCallbackSync = WebSocket.VerifyClientCallbackSync;
export import VerifyClientCallbackAsync = WebSocket.VerifyClientCallbackAsync;
export import FinishRequestCallback = WebSocket.FinishRequestCallback;
export import ConnectionLimits = WebSocket.ConnectionLimits;
export import ClientOptions = WebSocket.ClientOptions;
export import PerMessageDeflateOptions = WebSocket.PerMessageDeflateOptions;
export import Event = WebSocket.Event;
export import ErrorEvent = WebSocket.ErrorEvent;
export import CloseEvent = WebSocket.CloseEvent;
export import MessageEvent = WebSocket.MessageEvent;
export import WebSocketEventMap = WebSocket.WebSocketEventMap;
export import EventListenerOptions = WebSocket.EventListenerOptions;
export import ServerOptions = WebSocket.ServerOptions;
export import AddressInfo = WebSocket.AddressInfo;
export import AcceptedRequest = WebSocket.AcceptedRequest;
export import AcceptOptions = WebSocket.AcceptOptions;
export import UpgradeRequest = WebSocket.UpgradeRequest;
export import UpgradeRequestLike = WebSocket.UpgradeRequestLike;
export import Frame = WebSocket.Frame;
export import DecodedFrame = WebSocket.DecodedFrame;
export import ParsedEvent = WebSocket.ParsedEvent;
export import PublishOptions = WebSocket.PublishOptions;
export import Backplane = WebSocket.Backplane;
export import RedisBackplaneOptions = WebSocket.RedisBackplaneOptions;

// `import { WebSocket } from 'native-ws'` is the same class as the default export.
export { WebSocket };
