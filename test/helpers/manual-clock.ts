/** The time a {@link ManualClock} starts at by default. */
export const T0 = Date.parse('2025-01-02T03:04:05.000Z');

/** A clock the test moves by hand, so the times the store writes can be asserted exactly. */
export class ManualClock {
  #ms: number;
  constructor(start = T0) {
    this.#ms = start;
  }
  /** The function to hand to the store's `clock` (`Store.open({ clock })`, `PgStore.open({ clock })`). */
  readonly fn = (): Date => new Date(this.#ms);
  /** The current time as the store writes it (RFC 3339, UTC, milliseconds). */
  get iso(): string {
    return new Date(this.#ms).toISOString();
  }
  /** Moves time forward and returns the new time as the store writes it. */
  advance(ms = 1000): string {
    this.#ms += ms;
    return this.iso;
  }
}
