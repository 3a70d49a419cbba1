/**
 * @packageDocumentation
 * scribe's wire transport: JSON-RPC 2.0 over ZeroMQ. The primary runs an
 * {@link RpcServer} (ROUTER for requests, PUB for events); secondaries use an
 * {@link RpcClient} (DEALER) and an {@link EventSubscriber} (SUB). The only package
 * that imports zeromq.
 */
export { RpcServer, type RpcServerOptions, type RpcServerStats } from './rpc-server.js';
export { type RpcHandler, type RpcContext } from './request-dispatcher.js';
export { RpcClient, MAX_COALESCED_CALLS, MAX_COALESCED_BYTES, type RpcClientOptions, type CallOptions } from './rpc-client.js';
export { EventSubscriber, type EventSubscriberOptions, type EventListener } from './event-subscriber.js';
export { BindError } from './bind-error.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_BATCH_LENGTH,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_CLOSE_GRACE_MS,
} from './limits.js';
export { z85Decode, assertCurveKey, curveKeyPair, type CurveServerKeys, type CurveClientKeys } from './curve.js';
export { isLoopbackHost, isLoopbackTcpEndpoint, parseTcpEndpoint, needsIpv6, type TcpEndpoint } from './loopback.js';
export { RateLimitedLog, DEFAULT_LOG_INTERVAL_MS, type RateLimitedLogOptions } from './rate-limited-log.js';
export { ipcPath } from './endpoint.js';
