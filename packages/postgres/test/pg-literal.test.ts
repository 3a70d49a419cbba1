import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pgLiteral, isPgText } from '../src/pg-literal.js';
import { runPostgresTests, usePostgres } from '../../../test/helpers/postgres-server.js';

const server = usePostgres({ durable: false });

const SAMPLES = ["plain", "it's", "''", "\\", "\\'", "E'x'", "a\\nb", "tab\there\nnewline", "ünïcødé ✓ 𝄞", "$$ $tag$", ";", "'; DROP TABLE x; --", ""];

describe.runIf(runPostgresTests)('pgLiteral: a string as a PostgreSQL string constant', () => {
  it.each(['on', 'off'])('reads back exactly what it quoted, with standard_conforming_strings %s', async (scs) => {
    const client = new pg.Client({ connectionString: await server.database() });
    await client.connect();
    try {
      await client.query(`SET standard_conforming_strings = ${scs}`);
      for (const s of SAMPLES) {
        // The simple query protocol, as the batch executor sends it; the bound value is the reference.
        const [, r] = (await client.query(`SELECT 1; SELECT ${pgLiteral(s)} AS v`)) as unknown as pg.QueryResult[];
        expect(r!.rows[0].v).toBe(s);
      }
    } finally {
      await client.end();
    }
  });

  it('refuses U+0000, which PostgreSQL text cannot hold and the protocol would cut the query at', () => {
    expect(() => pgLiteral('a\u0000b')).toThrow(RangeError);
    expect(isPgText('a\u0000b')).toBe(false);
    expect(isPgText('ab')).toBe(true);
  });
});
