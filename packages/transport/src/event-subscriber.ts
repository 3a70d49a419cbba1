/**
 * The receiving side of the primary's PUB socket: a SUB socket filtered by topic
 * prefix, delivering `(topic, payload)` to listeners.
 */
import { Subscriber } from 'zeromq';
import type { Logger } from 'pino';
import { applyCurveClientKeys, checkCurveClientKeys, type CurveClientKeys } from './curve.js';
import { silentLogger } from './logger.js';
import { endpointOption } from './validate-options.js';
import { needsIpv6 } from './loopback.js';

/** Options for {@link EventSubscriber}. */
export interface EventSubscriberOptions {
  /** The primary's PUB endpoint. */
  endpoint: string;
  /** Topic prefixes to receive; default `['']` (everything). */
  topics?: string[];
  /** Structured logger; default a silent pino logger. */
  logger?: Logger;
  /** CURVE keys, when the publisher requires them. */
  curve?: CurveClientKeys;
}

/** Receives one event: its topic and its parsed JSON payload. */
export type EventListener = (topic: string, payload: unknown) => void;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Subscribes to the primary's events. Messages that are not exactly two frames
 * (UTF-8 topic, JSON payload) are logged and skipped; a listener that throws is
 * logged and does not stop the others. ZeroMQ PUB/SUB drops what is published
 * while no connection exists (including just after connecting): events are
 * notifications, not a log.
 */
export class EventSubscriber {
  readonly #logger: Logger;
  readonly #topics: readonly string[];
  readonly #listeners = new Set<EventListener>();
  #endpoint: string;
  #socket: Subscriber | undefined;
  #receiving: Promise<void> | undefined;
  #closed = false;

  readonly #curve: CurveClientKeys | undefined;

  constructor(options: EventSubscriberOptions) {
    this.#endpoint = endpointOption('endpoint', options.endpoint);
    this.#curve = checkCurveClientKeys(options.curve);
    this.#logger = (options.logger ?? silentLogger()).child({ component: 'event-subscriber' });
    const topics = options.topics ?? [''];
    if (!Array.isArray(topics) || topics.some((t) => typeof t !== 'string')) {
      throw new TypeError("Expected 'topics' to be an array of topic prefixes (strings)");
    }
    this.#topics = Object.freeze([...topics]);
  }

  /** The endpoint the subscriber is (or will be) connected to. */
  get endpoint(): string {
    return this.#endpoint;
  }

  /** Creates the SUB socket, subscribes and connects; safe to call twice. */
  connect(): void {
    if (this.#closed) throw new Error('EventSubscriber.connect: the subscriber is closed');
    if (this.#socket !== undefined) return;
    const socket = new Subscriber({ linger: 0, reconnectInterval: 100, reconnectMaxInterval: 1000 });
    applyCurveClientKeys(socket, this.#curve);
    socket.subscribe(...this.#topics);
    if (needsIpv6(this.#endpoint)) socket.ipv6 = true;
    socket.connect(this.#endpoint);
    this.#socket = socket;
    this.#receiving = this.#receiveLoop(socket);
  }

  /** Switches to another primary's PUB endpoint; subscriptions and listeners stay. */
  reconnect(endpoint: string): void {
    endpointOption('endpoint', endpoint);
    if (this.#closed) throw new Error('EventSubscriber.reconnect: the subscriber is closed');
    const old = this.#endpoint;
    this.#endpoint = endpoint;
    const socket = this.#socket;
    if (socket === undefined) {
      this.connect();
      return;
    }
    if (old === endpoint) return;
    try {
      socket.disconnect(old);
    } catch (error) {
      this.#logger.debug({ err: error, endpoint: old }, 'disconnect from the old endpoint failed');
    }
    if (needsIpv6(endpoint)) socket.ipv6 = true;
    socket.connect(endpoint);
    this.#logger.info({ from: old, to: endpoint }, 'reconnecting to a new endpoint');
  }

  /** Adds `listener`; returns a function that removes it. */
  onEvent(listener: EventListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('Expected the listener to be a function');
    const entry: EventListener = (topic, payload) => listener(topic, payload);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Closes the socket and forgets the listeners; safe to call twice. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#socket?.close();
    }
    await this.#receiving;
    this.#listeners.clear();
  }

  async #receiveLoop(socket: Subscriber): Promise<void> {
    try {
      for await (const frames of socket) this.#onMessage(frames);
    } catch (error) {
      if (!this.#closed) this.#logger.error({ err: error }, 'event subscriber receive loop stopped');
    }
  }

  #onMessage(frames: Buffer[]): void {
    const [topicFrame, payloadFrame] = frames;
    if (frames.length !== 2 || topicFrame === undefined || payloadFrame === undefined) {
      this.#logger.warn({ frames: frames.length }, 'event with a wrong frame count skipped');
      return;
    }
    let topic: string;
    let payload: unknown;
    try {
      topic = utf8.decode(topicFrame);
      payload = JSON.parse(utf8.decode(payloadFrame));
    } catch {
      this.#logger.warn({ topic: topicFrame.toString('utf8', 0, 200), bytes: payloadFrame.length }, 'malformed event payload skipped');
      return;
    }
    for (const listener of this.#listeners) {
      try {
        listener(topic, payload);
      } catch (error) {
        this.#logger.error({ err: error, topic }, 'event listener threw');
      }
    }
  }
}
