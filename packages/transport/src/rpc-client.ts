/**
 * The secondary's side of the wire: a DEALER socket with many JSON-RPC calls in
 * flight, replies matched by id.
 *
 * json-rpc-2.0's `JSONRPCClient` is not used: its timeouts are one `setTimeout`
 * per call, it cannot tell TIMEOUT from UNREACHABLE, and its errors are
 * `JSONRPCErrorException`s that would have to be re-mapped to `WriteError` anyway.
 */
import { Dealer } from 'zeromq';
import type { Logger } from 'pino';
import { RPC_METHODS, WriteError } from '@scribe/protocol';
import { DeadlineTimer } from './deadline-timer.js';
import { applyCurveClientKeys, checkCurveClientKeys, type CurveClientKeys } from './curve.js';
import { DEFAULT_MAX_FRAME_BYTES, DEFAULT_TIMEOUT_MS } from './limits.js';
import { silentLogger } from './logger.js';
import { endpointOption, integerOption } from './validate-options.js';
import { needsIpv6 } from './loopback.js';

/** Options for {@link RpcClient}. */
export interface RpcClientOptions {
  /** The primary's ROUTER endpoint. */
  endpoint: string;
  /** Structured logger; default a silent pino logger. */
  logger?: Logger;
  /** Reply timeout of a call unless it says otherwise; default {@link DEFAULT_TIMEOUT_MS}. */
  defaultTimeoutMs?: number;
  /**
   * Most calls coalesced into one JSON-RPC batch frame when several are waiting to
   * be sent; 1 sends every call on its own. Default {@link MAX_COALESCED_CALLS}.
   * Keep it at or below the server's `maxBatchLength`.
   */
  maxCoalescedCalls?: number;
  /** CURVE keys, when the server requires them. */
  curve?: CurveClientKeys;
  /**
   * Largest request sent, bytes; default {@link DEFAULT_MAX_FRAME_BYTES}, the
   * server's hard cap, above which the server could only drop the connection. A
   * larger call is refused here with INVALID_REQUEST and never sent.
   */
  maxRequestBytes?: number;
}

/** Per-call options of {@link RpcClient.call}. */
export interface CallOptions {
  /** How long to wait for the reply, in ms; default the client's `defaultTimeoutMs`. */
  timeoutMs?: number;
}

/**
 * How long one zeromq `send()` may wait for room (no connected peer, or the high
 * water mark reached) before the send loop looks again at whether the call is still
 * wanted and a peer is still there.
 */
const SEND_RETRY_MS = 100;

const EMPTY = Buffer.alloc(0);

/** Most calls sent together in one JSON-RPC batch frame (default of `maxCoalescedCalls`). */
export const MAX_COALESCED_CALLS = 128;
/** Most bytes of requests coalesced into one frame. */
export const MAX_COALESCED_BYTES = 256 * 1024;

interface PendingCall {
  readonly id: number;
  readonly method: string;
  /** For `db.write`, the write name (`params.method`); null otherwise. */
  readonly writeName: string | null;
  readonly timeoutMs: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: WriteError) => void;
  slot: number;
  /** The frames until handed to the socket, then undefined. */
  frames: [Buffer, string] | undefined;
}

function writeNameOf(method: string, params: unknown): string | null {
  if (method !== RPC_METHODS.write || params === null || typeof params !== 'object') return null;
  const name = (params as { method?: unknown }).method;
  return typeof name === 'string' ? name : null;
}

function isEagain(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'EAGAIN';
}

/**
 * A JSON-RPC 2.0 client on one DEALER socket.
 *
 * Calls go through one outbox and one send loop. The socket has `immediate` set, so
 * ZeroMQ never queues a request for a peer whose connection is not complete; while
 * no peer is connected requests wait in the outbox, where a call that times out is
 * removed before it is ever sent. A call settles exactly once: by its reply, by its
 * deadline (TIMEOUT if the request was handed to a connected peer, UNREACHABLE if
 * it never was), or by {@link close}. Replies to calls already settled are ignored.
 */
export class RpcClient {
  readonly #logger: Logger;
  readonly #defaultTimeoutMs: number;
  readonly #maxRequestBytes: number;
  readonly #pending = new Map<number, PendingCall>();
  /** Calls whose request is not yet sent, in call order. */
  readonly #outbox = new Set<PendingCall>();
  readonly #timer = new DeadlineTimer<number>((id) => this.#expire(id));
  /** Endpoints we left; their late socket events must not change our state. */
  readonly #retired = new Set<string>();
  #endpoint: string;
  #socket: Dealer | undefined;
  #connected = false;
  #closed = false;
  #nextId = 1;
  #pumping: Promise<void> | undefined;
  #receiving: Promise<void> | undefined;
  #wakeSender: (() => void) | undefined;
  /** The calls whose `send()` is in progress: they may reach the peer whatever happens next. */
  readonly #sending = new Set<PendingCall>();
  readonly #maxCoalesce: number;
  readonly #curve: CurveClientKeys | undefined;

  constructor(options: RpcClientOptions) {
    this.#endpoint = endpointOption('endpoint', options.endpoint);
    this.#logger = (options.logger ?? silentLogger()).child({ component: 'rpc-client' });
    this.#defaultTimeoutMs = integerOption('defaultTimeoutMs', options.defaultTimeoutMs, DEFAULT_TIMEOUT_MS, 1);
    this.#maxRequestBytes = integerOption('maxRequestBytes', options.maxRequestBytes, DEFAULT_MAX_FRAME_BYTES, 1);
    this.#curve = checkCurveClientKeys(options.curve);
    this.#maxCoalesce = integerOption('maxCoalescedCalls', options.maxCoalescedCalls, MAX_COALESCED_CALLS, 1);
  }

  /** The endpoint the client is (or will be) connected to. */
  get endpoint(): string {
    return this.#endpoint;
  }

  /** True while a peer is connected at the current endpoint (per the socket's event observer). */
  isConnected(): boolean {
    return this.#connected;
  }

  /** Creates the DEALER and connects it; safe to call twice. {@link call} connects on first use too. */
  connect(): void {
    if (this.#closed) throw new Error('RpcClient.connect: the client is closed');
    if (this.#socket !== undefined) return;
    const socket = new Dealer({
      // Queue only to completed connections, so nothing waits inside ZeroMQ for a
      // dead peer; the outbox holds it instead, where a timeout can withdraw it.
      immediate: true,
      linger: 0,
      sendTimeout: SEND_RETRY_MS,
      // Replies are bounded by the calls this client made; never let ZeroMQ's
      // default of 1000 push back on (and so drop at) the server's ROUTER.
      receiveHighWaterMark: 0,
      reconnectInterval: 100,
      reconnectMaxInterval: 1000,
    });
    applyCurveClientKeys(socket, this.#curve);
    this.#socket = socket;
    socket.events.on('connect', (event) => this.#onConnect(event.address));
    socket.events.on('disconnect', (event) => this.#onDisconnect(event.address));
    socket.events.on('connect:retry', (event) => {
      if (!this.#retired.has(event.address)) this.#logger.trace({ endpoint: event.address, interval: event.interval }, 'connect retry');
    });
    if (needsIpv6(this.#endpoint)) socket.ipv6 = true;
    socket.connect(this.#endpoint);
    this.#receiving = this.#receiveLoop(socket);
  }

  /**
   * Switches to another primary: disconnects the current endpoint and connects
   * `endpoint`. Calls in flight keep their deadlines; requests not yet sent go to
   * the new primary, requests already sent to the old one end in TIMEOUT (retry
   * them with the same request id).
   */
  reconnect(endpoint: string): void {
    endpointOption('endpoint', endpoint);
    if (this.#closed) throw new Error('RpcClient.reconnect: the client is closed');
    const old = this.#endpoint;
    this.#endpoint = endpoint;
    const socket = this.#socket;
    if (socket === undefined) {
      this.connect();
      return;
    }
    if (old === endpoint) return;
    this.#retired.add(old);
    this.#retired.delete(endpoint);
    this.#connected = false;
    try {
      socket.disconnect(old);
    } catch (error) {
      this.#logger.debug({ err: error, endpoint: old }, 'disconnect from the old endpoint failed');
    }
    if (needsIpv6(endpoint)) socket.ipv6 = true;
    socket.connect(endpoint);
    this.#logger.info({ from: old, to: endpoint }, 'reconnecting to a new endpoint');
  }

  /**
   * Calls `method` with `params` and resolves with the result. Rejects with a
   * `WriteError`: the server's error (rebuilt with `WriteError.fromJsonRpc`, using
   * the write name of a `db.write` call), TIMEOUT or UNREACHABLE at the deadline,
   * UNREACHABLE when the client is closed, INVALID_PARAMS when params cannot be
   * serialised. `params` null or undefined is sent as no `params` member (JSON-RPC
   * allows only an object or an array there); the handler then sees undefined.
   */
  call<R = unknown>(method: string, params: unknown, options: CallOptions = {}): Promise<R> {
    const writeName = writeNameOf(method, params);
    if (this.#closed) return Promise.reject(new WriteError('UNREACHABLE', 'client closed', { method: writeName }));
    let timeoutMs: number;
    try {
      timeoutMs = integerOption('timeoutMs', options.timeoutMs, this.#defaultTimeoutMs, 1);
    } catch (error) {
      return Promise.reject(error);
    }
    const id = this.#nextId++;
    let json: string;
    try {
      // JSON-RPC allows only structured params: null/undefined are sent as no params.
      json = JSON.stringify(params == null ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
    } catch (error) {
      return Promise.reject(new WriteError('INVALID_PARAMS', 'params are not JSON-serialisable', { method: writeName, cause: error }));
    }
    const bytes = Buffer.byteLength(json);
    if (bytes > this.#maxRequestBytes) {
      return Promise.reject(
        new WriteError('INVALID_REQUEST', `Request of ${bytes} bytes exceeds the limit of ${this.#maxRequestBytes} bytes; it was not sent`, {
          method: writeName,
        }),
      );
    }
    this.connect();
    return new Promise<R>((resolve, reject) => {
      const call: PendingCall = {
        id,
        method,
        writeName,
        timeoutMs,
        resolve: resolve as (value: unknown) => void,
        reject,
        slot: 0,
        frames: [EMPTY, json],
      };
      call.slot = this.#timer.add(id, timeoutMs);
      this.#pending.set(id, call);
      this.#outbox.add(call);
      this.#kickSender();
    });
  }

  /** Closes the socket and rejects every call in flight with UNREACHABLE ("client closed"); safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) {
      await this.#receiving;
      return;
    }
    this.#closed = true;
    this.#connected = false;
    this.#timer.clear();
    const calls = [...this.#pending.values()];
    this.#pending.clear();
    this.#outbox.clear();
    for (const call of calls) call.reject(new WriteError('UNREACHABLE', 'client closed', { method: call.writeName }));
    this.#wake();
    this.#socket?.close();
    await Promise.all([this.#pumping, this.#receiving]);
  }

  #onConnect(address: string): void {
    if (this.#retired.has(address)) return;
    this.#connected = true;
    this.#logger.debug({ endpoint: address }, 'peer connected');
    this.#wake();
  }

  #onDisconnect(address: string): void {
    if (this.#retired.has(address)) return;
    this.#connected = false;
    this.#logger.info({ endpoint: address }, 'peer disconnected');
    // A reply can only come back over the connection its request went out on, and
    // that connection is gone: end the calls already sent now, as TIMEOUT (they may
    // have run; retry with the same request id), instead of at their deadlines.
    for (const call of [...this.#pending.values()]) {
      if (call.frames !== undefined || this.#sending.has(call)) continue;
      this.#settle(call)?.reject(
        new WriteError('TIMEOUT', `The server went away before answering ${call.method}; it may or may not have run it`, {
          method: call.writeName,
        }),
      );
    }
  }

  #wake(): void {
    const wake = this.#wakeSender;
    this.#wakeSender = undefined;
    wake?.();
  }

  #kickSender(): void {
    if (this.#pumping !== undefined) return;
    // Start the loop on the next turn of the event loop, not now: every call made in
    // this turn (a burst of writes, or the next writes of callers whose replies just
    // arrived together) is then in the outbox and goes out in one frame.
    this.#pumping = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#pump())
      .finally(() => {
        this.#pumping = undefined;
        // A call added while the loop was finishing must not be stranded.
        if (this.#outbox.size > 0 && !this.#closed) this.#kickSender();
      });
  }

  /**
   * The one send loop: oldest unsent calls first, only while a peer is connected.
   * Calls that queued up while the previous send was in progress go out together as
   * one JSON-RPC batch frame (up to {@link MAX_COALESCED_CALLS} calls and
   * {@link MAX_COALESCED_BYTES}): one ZeroMQ message and one reply frame instead of
   * one per call, which is most of the per-write cost under load. A call alone in the
   * outbox goes out as a plain request.
   */
  async #pump(): Promise<void> {
    while (!this.#closed && this.#outbox.size > 0) {
      const socket = this.#socket;
      if (socket === undefined) return;
      if (!this.#connected) {
        await new Promise<void>((resolve) => {
          this.#wakeSender = resolve;
        });
        continue;
      }
      const batch: PendingCall[] = [];
      let bytes = 0;
      for (const call of this.#outbox) {
        if (call.frames === undefined) {
          this.#outbox.delete(call);
          continue;
        }
        const size = call.frames[1].length;
        if (batch.length > 0 && (batch.length >= this.#maxCoalesce || bytes + size > MAX_COALESCED_BYTES)) break;
        batch.push(call);
        bytes += size;
      }
      if (batch.length === 0) continue;
      const frames: [Buffer, string] =
        batch.length === 1 ? batch[0]!.frames! : [EMPTY, `[${batch.map((c) => c.frames![1]).join(',')}]`];
      for (const call of batch) this.#sending.add(call);
      try {
        await socket.send(frames);
      } catch (error) {
        this.#sending.clear();
        if (this.#closed) return;
        if (isEagain(error)) continue; // no room or no peer for SEND_RETRY_MS: look again
        this.#logger.warn({ err: error, calls: batch.length }, 'send failed');
        for (const call of batch) {
          this.#outbox.delete(call);
          this.#settle(call)?.reject(new WriteError('UNREACHABLE', 'request could not be sent', { method: call.writeName, cause: error }));
        }
        continue;
      }
      this.#sending.clear();
      for (const call of batch) {
        call.frames = undefined;
        this.#outbox.delete(call);
      }
    }
  }

  /** Removes a call from every structure; returns it if it was still pending. */
  #settle(call: PendingCall): PendingCall | undefined {
    if (this.#pending.get(call.id) !== call) return undefined;
    this.#pending.delete(call.id);
    this.#outbox.delete(call);
    this.#timer.remove(call.id, call.slot);
    return call;
  }

  #expire(id: number): void {
    const call = this.#pending.get(id);
    if (call === undefined) return;
    this.#pending.delete(id);
    this.#outbox.delete(call);
    // Sent means ZeroMQ handed it to a connected peer (immediate mode), so the
    // primary may be working on it: TIMEOUT. Never sent means no peer was there to
    // take it during the whole call: UNREACHABLE, and it certainly did not run. A
    // send still in progress may yet deliver it, so that is TIMEOUT too.
    if (call.frames === undefined || this.#sending.has(call)) {
      call.reject(new WriteError('TIMEOUT', `No reply to ${call.method} within ${call.timeoutMs} ms`, { method: call.writeName }));
    } else {
      call.frames = undefined;
      call.reject(
        new WriteError('UNREACHABLE', `No server reachable at ${this.#endpoint} within ${call.timeoutMs} ms`, {
          method: call.writeName,
        }),
      );
    }
  }

  async #receiveLoop(socket: Dealer): Promise<void> {
    try {
      for await (const frames of socket) {
        const [delimiter, body] = frames;
        if (frames.length !== 2 || delimiter === undefined || delimiter.length !== 0 || body === undefined) {
          this.#logger.warn({ frames: frames.length }, 'malformed reply envelope ignored');
          continue;
        }
        let message: unknown;
        try {
          message = JSON.parse(body.toString('utf8'));
        } catch {
          this.#logger.warn({ bytes: body.length }, 'reply is not JSON; ignored');
          continue;
        }
        if (Array.isArray(message)) for (const response of message) this.#onResponse(response);
        else this.#onResponse(message);
      }
    } catch (error) {
      if (!this.#closed) this.#logger.error({ err: error }, 'rpc client receive loop stopped');
    }
  }

  #onResponse(response: unknown): void {
    if (response === null || typeof response !== 'object') {
      this.#logger.warn('reply is not a JSON-RPC response object; ignored');
      return;
    }
    const r = response as { id?: unknown; result?: unknown; error?: unknown };
    if (typeof r.id !== 'number') {
      // id null: the server could not read our request (it never does this for ours).
      this.#logger.warn({ id: r.id, error: r.error }, 'reply without a call id; ignored');
      return;
    }
    const pending = this.#pending.get(r.id);
    const call = pending === undefined ? undefined : this.#settle(pending);
    if (call === undefined) {
      this.#logger.debug({ id: r.id }, 'late reply to a settled call ignored');
      return;
    }
    const error = r.error;
    if (error !== undefined) {
      if (error !== null && typeof error === 'object' && typeof (error as { code?: unknown }).code === 'number') {
        call.reject(WriteError.fromJsonRpc(error as { code: number; message?: unknown; data?: unknown }, call.writeName));
      } else {
        call.reject(new WriteError('INTERNAL', 'malformed error in reply', { method: call.writeName }));
      }
      return;
    }
    if (!('result' in r)) {
      call.reject(new WriteError('INTERNAL', 'reply has neither result nor error', { method: call.writeName }));
      return;
    }
    call.resolve(r.result);
  }
}
