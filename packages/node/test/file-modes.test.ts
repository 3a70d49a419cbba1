import { chmodSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openNode, resolveFileModes, type ScribeNode } from '@scribe/node';

let dir: string;
let savedUmask: number;
const nodes: ScribeNode[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scribe-modes-'));
  savedUmask = process.umask();
});
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.close();
  process.umask(savedUmask);
  rmSync(dir, { recursive: true, force: true });
});

const mode = (path: string): number => lstatSync(path).mode & 0o777;

async function primaryWithOneWrite(dbPath: string, extra: Record<string, unknown> = {}): Promise<ScribeNode> {
  const node = await openNode({ dbPath, ...extra });
  nodes.push(node);
  await node.querier.createSession({ id: 's1', title: 'modes' } as never);
  return node;
}

describe('file modes: owner-only by default, whatever the umask', () => {
  it.each([['022', 0o022], ['000', 0o000]] as const)('umask %s: database, -wal, -shm 0600 and runtime directory 0700', async (_label, umask) => {
    process.umask(umask);
    const dbPath = join(dir, 'app.db');
    const node = await primaryWithOneWrite(dbPath);
    expect(mode(dbPath)).toBe(0o600);
    expect(mode(`${dbPath}-wal`)).toBe(0o600);
    expect(mode(`${dbPath}-shm`)).toBe(0o600);
    expect(mode(node.paths.runtimeDir)).toBe(0o700);
  });

  it('tightens a database and WAL left 0644 by an older version', async () => {
    const dbPath = join(dir, 'old.db');
    const first = await primaryWithOneWrite(dbPath);
    await first.close();
    nodes.length = 0;
    chmodSync(dbPath, 0o644);
    writeFileSync(`${dbPath}-wal`, '');
    chmodSync(`${dbPath}-wal`, 0o644);
    await primaryWithOneWrite(dbPath);
    expect(mode(dbPath)).toBe(0o600);
    expect(mode(`${dbPath}-wal`)).toBe(0o600);
    expect(mode(`${dbPath}-shm`)).toBe(0o600);
  });

  it('fileMode 0o660 shares database and directories with the group', async () => {
    process.umask(0o077);
    const dbPath = join(dir, 'shared.db');
    const node = await primaryWithOneWrite(dbPath, { fileMode: 0o660 });
    expect(mode(dbPath)).toBe(0o660);
    expect(mode(`${dbPath}-wal`)).toBe(0o660);
    expect(mode(`${dbPath}-shm`)).toBe(0o660);
    expect(mode(node.paths.runtimeDir)).toBe(0o770);
  });

  it('refuses a fileMode that would give access to every user', async () => {
    await expect(openNode({ dbPath: join(dir, 'x.db'), fileMode: 0o666 })).rejects.toThrow(
      "Expected 'fileMode' to be one of 0o600 (owner only), 0o640 (group reads) or 0o660 (group reads and writes), got 0o666",
    );
    expect(resolveFileModes(0o640)).toEqual({ fileMode: 0o640, dirMode: 0o750, groupWritable: false });
  });
});
