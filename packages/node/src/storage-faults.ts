import type { Logger } from 'pino';
import { WriteError, type WriteErrorCode } from '@scribe/protocol';
import { isStorageFault } from '@scribe/store';

/** A storage fault the primary is in now: writes fail with `code` until a batch commits again. */
export interface StorageFault {
  readonly code: WriteErrorCode;
  /** ms since epoch. */
  readonly since: number;
  readonly message: string;
}

/**
 * Follows the storage faults (STORAGE_FULL, STORAGE_IO, DATABASE_GONE) the primary's
 * batches meet, whether SQLite failed the whole transaction or one write in it: the
 * fault lasts until a batch commits without one, which is how it recovers by itself
 * once space is back.
 */
export class StorageFaults {
  readonly #log: Logger;
  #current: StorageFault | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** The fault now, if any. */
  get current(): StorageFault | undefined {
    return this.#current;
  }

  /** A batch failed with `error` as a whole. */
  failed(error: unknown): void {
    if (error instanceof WriteError && isStorageFault(error)) this.#enter(error);
  }

  /** A batch committed; `error` is the storage fault one of its writes met, if any. */
  committed(error: WriteError | undefined): void {
    if (error !== undefined) {
      this.#enter(error);
      return;
    }
    const was = this.#current;
    if (was === undefined) return;
    this.#current = undefined;
    this.#log.info({ code: was.code, lasted_ms: Date.now() - was.since }, 'storage fault over: a batch committed');
  }

  #enter(error: WriteError): void {
    if (this.#current?.code === error.code) return;
    this.#current = { code: error.code, since: Date.now(), message: error.message };
    this.#log.error({ code: error.code, err: error.cause ?? error }, 'storage fault: writes fail until it is fixed');
  }
}
