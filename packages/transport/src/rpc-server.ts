/**
 * The primary's side of the wire: a ROUTER socket answering JSON-RPC 2.0 requests
 * and a PUB socket for events.
 */
import { performance } from 'node:perf_hooks';
import { existsSync } from 'node:fs';
import { XPublisher, Router } from 'zeromq';
import { assertCurveKey, zapAuthority, type CurveServerKeys } from './curve.js';
import type { Logger } from 'pino';
import { BindError } from './bind-error.js';
import { isIpcEndpointLive } from './endpoint.js';
import { errorResponse } from './json-rpc-message.js';
import {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_MAX_BATCH_LENGTH,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_MAX_MESSAGE_BYTES,
} from './limits.js';
import { silentLogger } from './logger.js';
import { decodeRequestFrames, type FrameLimits } from './request-frames.js';
import { RequestDispatcher, isPromiseLike, type Reply, type RpcHandler } from './request-dispatcher.js';
import { SendQueue } from './send-queue.js';
import { endpointOption, integerOption } from './validate-options.js';
import { needsIpv6 } from './loopback.js';

/** Options for {@link RpcServer}. */
export interface RpcServerOptions {
  /** Where the ROUTER binds, e.g. `ipc:///run/scribe/router.sock` or `tcp://127.0.0.1:5555` (`:*` picks a port). */
  routerEndpoint: string;
  /** CURVE keys: encrypt and authenticate every connection (required for tcp beyond loopback). */
  curve?: CurveServerKeys;
  /** Where the PUB socket binds. */
  pubEndpoint: string;
  /** Structured logger; default a silent pino logger. */
  logger?: Logger;
  /** Largest JSON frame processed, in bytes; default {@link DEFAULT_MAX_MESSAGE_BYTES}. Larger → INVALID_REQUEST, id null. */
  maxMessageBytes?: number;
  /**
   * Hard cap on one incoming message, bytes; default the larger of
   * {@link DEFAULT_MAX_FRAME_BYTES} and `maxMessageBytes` + 64 KiB. Messages between
   * `maxMessageBytes` and this cap are answered INVALID_REQUEST; above it libzmq
   * closes the sender's connection without a reply (nothing is allocated).
   */
  maxFrameBytes?: number;
  /** Largest batch processed; default {@link DEFAULT_MAX_BATCH_LENGTH}. Larger → one INVALID_REQUEST. */
  maxBatchLength?: number;
  /** Deepest array/object nesting accepted; default {@link DEFAULT_MAX_JSON_DEPTH}. Deeper → INVALID_REQUEST. */
  maxJsonDepth?: number;
  /** Bound on handler calls in flight; past it requests are answered OVERLOADED at once. Default: no bound. */
  maxConcurrentRequests?: number;
  /** How long {@link RpcServer.close} waits for in-flight handlers and queued replies; default {@link DEFAULT_CLOSE_GRACE_MS}. */
  closeGraceMs?: number;
}

/** Counters of {@link RpcServer}; a snapshot, read through {@link RpcServer.stats}. */
export interface RpcServerStats {
  /** ZeroMQ messages received on the ROUTER (a batch counts once). */
  received: number;
  /** Reply messages queued for sending (a batch reply counts once). */
  replied: number;
  /** Messages or notifications discarded without an answer (failed sends, overloaded notifications). */
  dropped: number;
  /** Error objects answered (each failed batch entry counts). */
  errors: number;
}

type State = 'new' | 'binding' | 'bound' | 'closing' | 'closed';

const EMPTY = Buffer.alloc(0);
const IPC_PROBE_ATTEMPTS = 5;
/** Replies queued per peer before further replies to it are dropped (and counted). */
const REPLY_HIGH_WATER_MARK = 100_000;
/**
 * How long close() keeps the ROUTER open after the last reply was queued. A DEALER
 * with `immediate` set discards replies it has received but not yet read when the
 * connection drops, so closing the instant a reply leaves can lose it.
 */
const REPLY_FLUSH_MS = 100;
const IPC_PROBE_INTERVAL_MS = 50;

function errnoOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EBIND';
}

/**
 * JSON-RPC 2.0 over ZeroMQ: binds a ROUTER for requests and a PUB for events.
 *
 * One receive loop reads the ROUTER; each message is checked (frames, size, UTF-8,
 * depth, JSON, envelope) before any handler runs, and answered `[routingId, '',
 * json]`. Replies and publications each go through one send queue, because
 * zeromq.js allows one send in progress per socket.
 */
export class RpcServer {
  readonly #routerEndpoint: string;
  readonly #pubEndpoint: string;
  readonly #logger: Logger;
  readonly #limits: FrameLimits;
  readonly #closeGraceMs: number;
  readonly #maxFrameBytes: number;
  readonly #dispatcher: RequestDispatcher;
  readonly #stats: RpcServerStats = { received: 0, replied: 0, dropped: 0, errors: 0 };
  #state: State = 'new';
  #router: Router | undefined;
  #pub: XPublisher | undefined;
  /**
   * Topic prefixes some subscriber holds, as the XPUB socket reports them (it passes
   * on the first subscription to a prefix and the last unsubscription). A publish
   * no subscription matches is skipped before it costs a JSON encode and a send.
   */
  readonly #subscriptions = new Set<string>();
  #replies: SendQueue | undefined;
  #events: SendQueue | undefined;
  #loop: Promise<void> | undefined;
  #boundRouterEndpoint: string | undefined;
  #boundPubEndpoint: string | undefined;
  #binding: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** performance.now() of the last reply queued. */
  #lastReplyAt = Number.NEGATIVE_INFINITY;
  /** Messages whose answer is not yet queued for sending (what `close()` waits for). */
  #unanswered = 0;
  #idleWaiters: Array<() => void> = [];
  readonly #curve: CurveServerKeys | undefined;
  #zapDomain: string | undefined;

  constructor(options: RpcServerOptions) {
    if (options.curve !== undefined) {
      assertCurveKey('curve.publicKey', options.curve.publicKey);
      assertCurveKey('curve.secretKey', options.curve.secretKey);
      for (const [i, k] of (options.curve.allowedClientKeys ?? []).entries()) assertCurveKey(`curve.allowedClientKeys[${i}]`, k);
      this.#curve = options.curve;
    }
    this.#routerEndpoint = endpointOption('routerEndpoint', options.routerEndpoint);
    this.#pubEndpoint = endpointOption('pubEndpoint', options.pubEndpoint);
    this.#logger = (options.logger ?? silentLogger()).child({ component: 'rpc-server' });
    this.#limits = Object.freeze({
      maxMessageBytes: integerOption('maxMessageBytes', options.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 1),
      maxJsonDepth: integerOption('maxJsonDepth', options.maxJsonDepth, DEFAULT_MAX_JSON_DEPTH, 1),
    });
    this.#maxFrameBytes = integerOption(
      'maxFrameBytes',
      options.maxFrameBytes,
      Math.min(Math.max(DEFAULT_MAX_FRAME_BYTES, this.#limits.maxMessageBytes + 65_536), 2 ** 31 - 1),
      this.#limits.maxMessageBytes + 2,
    );
    this.#closeGraceMs = integerOption('closeGraceMs', options.closeGraceMs, DEFAULT_CLOSE_GRACE_MS, 0);
    this.#dispatcher = new RequestDispatcher({
      logger: this.#logger,
      maxBatchLength: integerOption('maxBatchLength', options.maxBatchLength, DEFAULT_MAX_BATCH_LENGTH, 1),
      maxConcurrent: integerOption('maxConcurrentRequests', options.maxConcurrentRequests, Number.POSITIVE_INFINITY, 1),
      counters: this.#stats,
      accepting: () => this.#state === 'bound',
    });
  }

  /** Registers `handler` for the JSON-RPC method `name` (replacing any earlier one). */
  addMethod(name: string, handler: RpcHandler): this {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('Expected a non-empty method name');
    if (typeof handler !== 'function') throw new TypeError(`Expected the handler of '${name}' to be a function`);
    this.#dispatcher.addMethod(name, handler);
    return this;
  }

  /** A snapshot of the counters. */
  get stats(): RpcServerStats {
    return { ...this.#stats };
  }

  /** The ROUTER's endpoint: once bound, the resolved one (a `tcp://host:*` shows its port). */
  get routerEndpoint(): string {
    return this.#boundRouterEndpoint ?? this.#routerEndpoint;
  }

  /** The PUB socket's endpoint: once bound, the resolved one. */
  get pubEndpoint(): string {
    return this.#boundPubEndpoint ?? this.#pubEndpoint;
  }

  /**
   * Binds both sockets and starts answering. Rejects with a {@link BindError}
   * naming the socket and endpoint (e.g. code `EADDRINUSE`, also for a live ipc
   * endpoint that libzmq would otherwise silently take over); after a failure
   * nothing stays bound and `bind()` may be called again.
   */
  bind(): Promise<void> {
    if (this.#state !== 'new') return Promise.reject(new Error(`RpcServer.bind: cannot bind a server that is ${this.#state}`));
    this.#state = 'binding';
    this.#binding = this.#bind();
    return this.#binding;
  }

  async #bind(): Promise<void> {
    // Replies get a short linger so that answers queued just before close still leave.
    const router = new Router({
      linger: this.#closeGraceMs,
      // A plain ROUTER silently drops replies to a peer whose queue is full (libzmq's
      // default is 1000 messages, which one busy client reaches easily). Mandatory
      // routing makes that an EAGAIN (or EHOSTUNREACH for a peer that left), which
      // the send queue logs and counts in `stats.dropped`; sendTimeout 0 keeps one
      // slow client from stalling the replies to everybody else.
      mandatory: true,
      sendTimeout: 0,
      sendHighWaterMark: REPLY_HIGH_WATER_MARK,
      // The hard cap, far above the JSON limit: messages between the two are read and
      // get an INVALID_REQUEST reply; beyond it libzmq drops the connection before the
      // message is allocated, and no reply is possible (the peer's pipe is gone).
      maxMessageSize: this.#maxFrameBytes,
    });
    const pub = new XPublisher({ linger: 0 });
    if (this.#curve !== undefined) {
      this.#zapDomain = zapAuthority.register(this.#curve.allowedClientKeys);
      await zapAuthority.ready();
      for (const socket of [router, pub]) {
        socket.curveServer = true;
        socket.curvePublicKey = this.#curve.publicKey;
        socket.curveSecretKey = this.#curve.secretKey;
        socket.zapDomain = this.#zapDomain;
      }
    }
    try {
      await this.#bindOne(router, 'ROUTER', this.#routerEndpoint);
      await this.#bindOne(pub, 'PUB', this.#pubEndpoint);
    } catch (error) {
      router.close();
      pub.close();
    if (this.#zapDomain !== undefined) zapAuthority.unregister(this.#zapDomain);
      this.#state = 'new';
      throw error;
    }
    this.#router = router;
    this.#pub = pub;
    // Read once while the sockets are open: options of a closed socket cannot be read.
    this.#boundRouterEndpoint = router.lastEndpoint ?? this.#routerEndpoint;
    this.#boundPubEndpoint = pub.lastEndpoint ?? this.#pubEndpoint;
    this.#replies = new SendQueue(router, this.#logger, () => this.#stats.dropped++);
    this.#events = new SendQueue(pub, this.#logger);
    void this.#subscriptionLoop(pub);
    this.#state = 'bound';
    this.#loop = this.#receiveLoop(router);
    this.#logger.info({ router: this.#boundRouterEndpoint, pub: this.#boundPubEndpoint }, 'rpc server bound');
  }

  /** Follows subscribe (0x01 + prefix) and unsubscribe (0x00 + prefix) messages on the XPUB socket. */
  async #subscriptionLoop(pub: XPublisher): Promise<void> {
    try {
      for await (const [frame] of pub) {
        if (frame === undefined || frame.length === 0) continue;
        const prefix = frame.subarray(1).toString('utf8');
        if (frame[0] === 1) this.#subscriptions.add(prefix);
        else if (frame[0] === 0) this.#subscriptions.delete(prefix);
      }
    } catch (error) {
      if (this.#state === 'bound') this.#logger.warn({ err: error }, 'subscription loop stopped; publishing to every topic from now on');
      this.#subscriptions.add('');
    }
  }

  /** True when some subscriber's prefix matches `topic`. */
  #subscribed(topic: string): boolean {
    for (const prefix of this.#subscriptions) if (topic.startsWith(prefix)) return true;
    return false;
  }

  async #bindOne(socket: Router | XPublisher, name: 'ROUTER' | 'PUB', endpoint: string): Promise<void> {
    if (await this.#ipcStaysLive(endpoint)) {
      throw new BindError(name, endpoint, 'EADDRINUSE', 'address already in use (another process is listening on this ipc socket)');
    }
    try {
      if (needsIpv6(endpoint)) socket.ipv6 = true;
      await socket.bind(endpoint);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new BindError(name, endpoint, errnoOf(error), reason, error);
    }
  }

  /**
   * True when an ipc endpoint keeps accepting connections over a short window: a
   * socket closed a moment ago (by this process) is torn down asynchronously by
   * libzmq and may still accept for a few milliseconds.
   */
  async #ipcStaysLive(endpoint: string): Promise<boolean> {
    for (let attempt = 0; attempt < IPC_PROBE_ATTEMPTS; attempt++) {
      if (!(await isIpcEndpointLive(endpoint))) return false;
      await new Promise<void>((resolve) => setTimeout(resolve, IPC_PROBE_INTERVAL_MS));
    }
    return true;
  }

  /**
   * Binds again every ipc endpoint whose socket file is gone (a stray `rm`, a temp
   * cleaner): the listening socket lives on, but nobody new could connect to it.
   * Connections already made are kept. Resolves with the endpoints bound again.
   */
  async reassertIpc(): Promise<string[]> {
    const again: string[] = [];
    const pairs: Array<[Router | XPublisher | undefined, string | undefined]> = [
      [this.#router, this.#boundRouterEndpoint],
      [this.#pub, this.#boundPubEndpoint],
    ];
    for (const [socket, endpoint] of pairs) {
      if (this.#state !== 'bound' || socket === undefined || endpoint === undefined) return again;
      if (!endpoint.startsWith('ipc://') || endpoint.startsWith('ipc://@')) continue;
      if (existsSync(endpoint.slice('ipc://'.length))) continue;
      await socket.unbind(endpoint).catch(() => undefined);
      await socket.bind(endpoint);
      again.push(endpoint);
    }
    if (again.length > 0) this.#logger.warn({ endpoints: again }, 'ipc socket files were gone; bound them again');
    return again;
  }

  /**
   * Publishes `payload` (JSON-serialised; undefined becomes null) on `topic`.
   * Resolves once the PUB socket accepted it; PUB never blocks, and subscribers
   * that are slow or not yet connected miss messages (ZeroMQ PUB semantics). A
   * topic no subscriber asked for is not sent at all.
   */
  async publish(topic: string, payload: unknown): Promise<void> {
    const events = this.#events;
    if (events === undefined || (this.#state !== 'bound' && this.#state !== 'closing')) {
      throw new Error(`RpcServer.publish: the server is ${this.#state}, not bound`);
    }
    if (typeof topic !== 'string') throw new TypeError(`Expected topic to be a string, got ${typeof topic}`);
    if (!this.#subscribed(topic)) return;
    const json = JSON.stringify(payload === undefined ? null : payload);
    await events.send([topic, json]);
  }

  /**
   * Stops answering and closes both sockets; safe to call twice. Requests that
   * arrive meanwhile are answered SHUTTING_DOWN; handlers in flight get up to
   * `closeGraceMs` to finish and have their replies sent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#binding !== undefined) await this.#binding.catch(() => undefined);
    const router = this.#router;
    const pub = this.#pub;
    if (this.#state !== 'bound' || router === undefined || pub === undefined) {
      this.#state = 'closed';
      return;
    }
    this.#state = 'closing';
    await this.#withinGrace(this.#whenIdle());
    await this.#withinGrace(Promise.all([this.#replies?.drained(), this.#events?.drained()]));
    const sinceReply = performance.now() - this.#lastReplyAt;
    if (sinceReply < REPLY_FLUSH_MS) await this.#withinGrace(new Promise((resolve) => setTimeout(resolve, REPLY_FLUSH_MS - sinceReply)));
    this.#state = 'closed';
    router.close();
    pub.close();
    if (this.#zapDomain !== undefined) zapAuthority.unregister(this.#zapDomain);
    await this.#loop;
    this.#logger.info({ stats: this.#stats }, 'rpc server closed');
  }

  async #withinGrace(promise: Promise<unknown>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#closeGraceMs);
    });
    await Promise.race([promise, grace]);
    clearTimeout(timer);
  }

  #whenIdle(): Promise<void> {
    if (this.#unanswered === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #receiveLoop(router: Router): Promise<void> {
    try {
      for await (const frames of router) {
        this.#stats.received++;
        const [routingId, ...rest] = frames;
        if (routingId === undefined) continue;
        try {
          this.#onMessage(routingId, rest);
        } catch (error) {
          // Defensive: #onMessage does not throw by design; never let the loop die.
          this.#stats.dropped++;
          this.#logger.error({ err: error }, 'message handling failed; message dropped');
        }
      }
    } catch (error) {
      if (this.#state !== 'closed') this.#logger.error({ err: error }, 'rpc server receive loop stopped');
    }
  }

  #onMessage(routingId: Buffer, frames: Buffer[]): void {
    const peer = routingId.toString('hex');
    const decoded = decodeRequestFrames(frames, this.#limits);
    if (!decoded.ok) {
      this.#logger.debug({ peer, code: decoded.error.code, reason: decoded.error.message }, 'malformed message');
      this.#stats.errors++;
      this.#reply(routingId, errorResponse(null, decoded.error));
      return;
    }
    const reply = this.#dispatcher.dispatch(decoded.value, peer);
    if (isPromiseLike(reply)) this.#answerLater(reply, (response) => this.#reply(routingId, response));
    else this.#reply(routingId, reply);
  }

  /** Runs `answer` when `outcome` settles (it never rejects), counting it as unanswered until then. */
  #answerLater<T>(outcome: Promise<T>, answer: (value: T) => void): void {
    this.#unanswered++;
    void outcome.then(answer).finally(() => {
      this.#unanswered--;
      if (this.#unanswered === 0 && this.#idleWaiters.length > 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const wake of waiters) wake();
      }
    });
  }

  #reply(routingId: Buffer, response: Reply): void {
    if (response === null) return;
    const replies = this.#replies;
    if (replies === undefined || this.#state === 'closed') {
      this.#stats.dropped++;
      return;
    }
    this.#stats.replied++;
    this.#lastReplyAt = performance.now();
    replies.post([routingId, EMPTY, this.#dispatcher.encode(response)]);
  }
}
