/**
 * A database made by the code before per-plugin migration identities
 * (test/fixtures/pre-plugins.db, made by test/fixtures/make-pre-plugins-db.mjs at
 * 3f990cf: versions 1, 2, application 1000, shadow 1100, segments 1200, datastores
 * 1300) upgrades cleanly when today's code opens it with the packages' plugins.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openNode, type ScribeNode } from '@scribe/node';
import { Store, SCHEMA_VERSION } from '@scribe/store';
import shadow, { ShadowSessions } from '@scribe/shadow';
import segments, { SegmentLogs } from '@scribe/segments';
import datastores, { Datastores } from '@scribe/datastores';

const FIXTURE = fileURLToPath(new URL('./fixtures/pre-plugins.db', import.meta.url));
/** The application migration the old file recorded as 1000 (same SQL as the maker script). */
const APP_1000 = {
  version: 1000,
  name: 'app docs',
  up: "CREATE TABLE docs (path TEXT PRIMARY KEY, content TEXT NOT NULL); CREATE TABLE docs_shadow (session_id TEXT NOT NULL, path TEXT NOT NULL, content TEXT NOT NULL, PRIMARY KEY (session_id, path)); INSERT INTO docs VALUES ('a.ts', 'A');",
};

let dir: string;
let dbPath: string;
let node: ScribeNode | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scribe-upgrade-'));
  dbPath = join(dir, 'old.db');
  copyFileSync(FIXTURE, dbPath);
});
afterEach(async () => {
  await node?.close();
  node = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('a file made before per-plugin migration identities', () => {
  it('is read by a read-only opener as it is, by namespace', () => {
    const reader = Store.open({ path: dbPath, readonly: true });
    try {
      expect(reader.appliedMigrations().map((m) => `${m.plugin}@${m.version}`).sort()).toEqual(
        ['scribe@1', 'scribe@2', 'application@1000', '@scribe/shadow@1', '@scribe/segments@1', '@scribe/datastores@1'].sort(),
      );
    } finally {
      reader.close();
    }
  });

  it('is re-keyed once by the first primary with the packages as plugins, re-runs nothing, and keeps every row', async () => {
    // Had any step run again, its CREATE TABLE would fail on the existing table and openNode would throw.
    node = await openNode({ dbPath, plugins: [shadow, segments, datastores], migrations: [APP_1000] });
    // Every record of the old file, re-keyed with its name. (Steps added since, built-in or a
    // plugin's, are applied now on top: they are not the old file's.)
    const records = await node.querier.query<{ plugin: string; version: number; name: string }>(
      'SELECT plugin, version, name FROM _scribe_migrations ORDER BY plugin, version',
    );
    expect(records).toEqual(
      expect.arrayContaining([
        { plugin: '@scribe/datastores', version: 1, name: 'datastores' },
        { plugin: '@scribe/segments', version: 1, name: 'segments: segments, entries and traces' },
        { plugin: '@scribe/shadow', version: 1, name: 'shadow: open-session registry' },
        { plugin: 'application', version: 1000, name: 'app docs' },
        { plugin: 'scribe', version: 1, name: 'agent tables' },
        { plugin: 'scribe', version: 2, name: 'request records and change log' },
      ]),
    );
    expect(records.filter((r) => r.plugin === 'application')).toHaveLength(1);
    expect(node.info().schema_version).toBe(SCHEMA_VERSION);
    expect(node.info().plugins.map((p) => p.name)).toEqual(['@scribe/shadow', '@scribe/segments', '@scribe/datastores']);
    expect(node.info().plugins.every((p) => p.schema_version >= 1)).toBe(true);
    // What the old code wrote is there, and works through today's packages.
    expect(await node.querier.getSession('old-session')).toMatchObject({ title: 'made before plugins' });
    const old = await new ShadowSessions(node.querier).get('old-shadow');
    expect(old?.shadowTable).toBe('docs_shadow');
    expect(await old!.rows()).toMatchObject([{ path: 'a.ts', content: 'A' }]);
    expect(await new SegmentLogs(node.querier).readAll('old-session', 'old-segment')).toEqual([{ n: 1 }, { n: 2 }]);
    const board = await new Datastores({ querier: node.querier }).get('old-board');
    expect(await board!.get('card')).toEqual({ id: 'card', title: 'old' });
    // And new writes of every package go on.
    await new SegmentLogs(node.querier).append('old-session', 'old-segment', { n: 3 });
    expect(await old!.close()).toMatchObject({ closed: true });
    await node.close();
    // A second open finds nothing to do.
    const again = Store.open({ path: dbPath, plugins: [shadow, segments, datastores], migrations: [APP_1000], autoMigrate: false });
    try {
      expect(again.migrate().applied).toEqual([]);
    } finally {
      again.close();
    }
  });

  it('upgrades for a daemon that loads only some of the plugins: the others keep their re-keyed records', async () => {
    node = await openNode({ dbPath, plugins: [segments] });
    const rows = await node.querier.query<{ plugin: string; version: number }>('SELECT plugin, version FROM _scribe_migrations ORDER BY plugin, version');
    expect(rows.map((r) => `${r.plugin}@${r.version}`)).toEqual(expect.arrayContaining(['@scribe/shadow@1', '@scribe/datastores@1', 'application@1000', '@scribe/segments@1']));
  });
});
