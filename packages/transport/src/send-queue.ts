/**
 * Serialises sends on one ZeroMQ socket: zeromq.js allows only one `send()` in
 * progress per socket (a second one rejects with EBUSY while the first waits).
 */
import type { Logger } from 'pino';
import { RateLimitedLog } from './rate-limited-log.js';

/** The one method of a zeromq.js socket the queue uses. */
export interface SendableSocket {
  send(message: Buffer[] | string[] | Array<Buffer | string>): Promise<void>;
}

interface Entry {
  readonly frames: Array<Buffer | string>;
  readonly resolve: (() => void) | undefined;
  readonly reject: ((error: unknown) => void) | undefined;
}

/**
 * A FIFO of outgoing messages drained by one loop. `post` is fire-and-forget (a
 * failed send is logged and counted); `send` returns a promise for callers that
 * need to know.
 */
export class SendQueue {
  readonly #socket: SendableSocket;
  readonly #failures: RateLimitedLog;
  readonly #onFailure: (error: unknown) => void;
  #queue: Entry[] = [];
  #draining: Promise<void> | undefined;

  constructor(socket: SendableSocket, logger: Logger, onFailure: (error: unknown) => void = () => {}) {
    this.#socket = socket;
    // A flood of replies to a peer that left must not become a flood of log lines.
    this.#failures = new RateLimitedLog(logger, 'send failed; message dropped');
    this.#onFailure = onFailure;
  }

  /** Messages waiting to be handed to the socket. */
  get length(): number {
    return this.#queue.length;
  }

  /**
   * Queues `frames`; failures are reported to `onFailure` and logged at warn level
   * as one short line per 10 s with the number of failures not logged since.
   */
  post(frames: Array<Buffer | string>): void {
    this.#queue.push({ frames, resolve: undefined, reject: undefined });
    this.#kick();
  }

  /** Queues `frames`; resolves once the socket accepted them, rejects if it did not. */
  send(frames: Array<Buffer | string>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ frames, resolve, reject });
      this.#kick();
    });
  }

  /** Resolves when everything queued so far has been handed to the socket (or failed). */
  async drained(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  #kick(): void {
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
      // An entry queued after the loop's last check but before this callback ran
      // would otherwise wait for the next post.
      if (this.#queue.length > 0) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    // Swap the whole array per round so that each message costs O(1), not a shift().
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      for (const entry of batch) {
        try {
          await this.#socket.send(entry.frames);
          entry.resolve?.();
        } catch (error) {
          if (entry.reject !== undefined) {
            entry.reject(error);
          } else {
            this.#failures.record(error);
            this.#onFailure(error);
          }
        }
      }
    }
  }
}
