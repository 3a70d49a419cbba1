import type pg from 'pg';

/** What {@link PgDeferredStatements} needs of a connection (a pg `Client` or `PoolClient`). */
export interface PgSimpleQueryable {
  query(text: string): Promise<pg.QueryResult | pg.QueryResult[]>;
}

/**
 * The statements of a transaction that need no answer of their own (SAVEPOINT, RELEASE,
 * the request record's outcome), held back and sent in front of the next statement
 * that does, in one simple-query round trip (`a; b; c`: PostgreSQL runs them in order
 * and stops at the first error, which fails the whole send). Their values must be
 * literals (`pgLiteral`): the simple protocol binds none. Statements that bind
 * values (a write's own SQL) go on the connection directly, when nothing is held.
 */
export class PgDeferredStatements {
  readonly #client: PgSimpleQueryable;
  #held: string[] = [];

  constructor(client: PgSimpleQueryable) {
    this.#client = client;
  }

  /** Holds `statements` back until the next {@link send}. */
  defer(...statements: string[]): void {
    this.#held.push(...statements);
  }

  /**
   * Sends the held statements and then `statements`, in one round trip; resolves with
   * the results of `statements` only (one per statement, in order).
   */
  async send(...statements: string[]): Promise<pg.QueryResult[]> {
    const all = [...this.#held, ...statements];
    this.#held = [];
    if (all.length === 0) return [];
    const r = await this.#client.query(all.join(';\n'));
    const results = Array.isArray(r) ? r : [r];
    if (results.length !== all.length) {
      throw new Error(`postgres: ${all.length} statements sent in one round trip, ${results.length} results came back`);
    }
    return results.slice(results.length - statements.length);
  }

  /** Forgets the held statements (the transaction is being rolled back). */
  discard(): void {
    this.#held = [];
  }
}
