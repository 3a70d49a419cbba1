/**
 * One interval for many deadlines: a hashed timer wheel with fixed-width slots.
 * Adding and removing a deadline is O(1) and creates no timer, so tens of
 * thousands of calls per second do not churn `setTimeout`.
 */
import { performance } from 'node:perf_hooks';

/** Default slot width; a deadline fires at most this much late (plus event-loop lag). */
export const DEFAULT_TICK_MS = 10;

/** Ticks an empty wheel keeps its interval (unreferenced) before stopping it. */
const IDLE_TICKS = 100;

/**
 * Calls `onExpire(key)` once each key's deadline has passed, never early. The
 * interval keeps the process alive only while deadlines are registered, and is
 * stopped after {@link IDLE_TICKS} empty ticks, so that one call at a time does not
 * create and clear an interval per call.
 */
export class DeadlineTimer<K> {
  readonly #tickMs: number;
  readonly #onExpire: (key: K) => void;
  readonly #slots = new Map<number, Set<K>>();
  #size = 0;
  #lastTick: number;
  #interval: ReturnType<typeof setInterval> | undefined;
  #idleTicks = 0;

  constructor(onExpire: (key: K) => void, tickMs: number = DEFAULT_TICK_MS) {
    this.#onExpire = onExpire;
    this.#tickMs = tickMs;
    this.#lastTick = this.#currentTick();
  }

  /** Registers `key` to expire `delayMs` from now; returns the slot to pass to {@link remove}. */
  add(key: K, delayMs: number): number {
    if (this.#interval === undefined) this.#lastTick = this.#currentTick();
    const slot = Math.max(Math.ceil((performance.now() + delayMs) / this.#tickMs), this.#lastTick + 1);
    let keys = this.#slots.get(slot);
    if (keys === undefined) {
      keys = new Set();
      this.#slots.set(slot, keys);
    }
    keys.add(key);
    this.#size++;
    if (this.#interval === undefined) {
      this.#interval = setInterval(() => this.#tick(), this.#tickMs);
    } else if (this.#size === 1) {
      this.#interval.ref();
    }
    this.#idleTicks = 0;
    return slot;
  }

  /** Forgets `key` (settled before its deadline). */
  remove(key: K, slot: number): void {
    const keys = this.#slots.get(slot);
    if (keys === undefined || !keys.delete(key)) return;
    if (keys.size === 0) this.#slots.delete(slot);
    this.#size--;
    if (this.#size === 0) this.#interval?.unref();
  }

  /** Forgets every deadline and stops the interval. */
  clear(): void {
    this.#slots.clear();
    this.#size = 0;
    this.#stop();
  }

  #currentTick(): number {
    return Math.floor(performance.now() / this.#tickMs);
  }

  #stop(): void {
    if (this.#interval !== undefined) clearInterval(this.#interval);
    this.#interval = undefined;
  }

  #tick(): void {
    const now = this.#currentTick();
    if (this.#size === 0) {
      this.#lastTick = now;
      if (++this.#idleTicks >= IDLE_TICKS) this.#stop();
      return;
    }
    const due: Array<Set<K>> = [];
    if (now - this.#lastTick > this.#slots.size) {
      // A long stall: walking the registered slots is cheaper than walking every tick.
      for (const [slot, keys] of this.#slots) {
        if (slot <= now) {
          due.push(keys);
          this.#slots.delete(slot);
        }
      }
    } else {
      for (let slot = this.#lastTick + 1; slot <= now; slot++) {
        const keys = this.#slots.get(slot);
        if (keys !== undefined) {
          due.push(keys);
          this.#slots.delete(slot);
        }
      }
    }
    this.#lastTick = now;
    for (const keys of due) {
      this.#size -= keys.size;
      for (const key of keys) this.#onExpire(key);
    }
    if (this.#size === 0) this.#interval?.unref();
  }
}
