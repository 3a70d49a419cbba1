import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { NodeProcess } from './node-process.js';

/** A fresh temp directory and database per test, and the node processes a test starts in it. */
export interface TempCluster {
  /** The database of the current test. */
  readonly dbPath: string;
  /** Starts a node process on the current test's database. */
  spawn(options: Record<string, unknown>, fixture?: string): Promise<NodeProcess>;
}

/**
 * Registers beforeEach/afterEach hooks that give every test its own directory and
 * database, and afterwards SIGKILL (after SIGCONT, in case a test stopped one) every
 * node process the test started, then remove the directory.
 */
export function useTempCluster(prefix: string): TempCluster {
  let dir = '';
  let procs: NodeProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), `scribe-${prefix}-`));
    procs = [];
  });
  afterEach(async () => {
    for (const p of procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGCONT');
      await p.kill('SIGKILL').catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dbPath() {
      return join(dir, `${prefix}.db`);
    },
    async spawn(options, fixture) {
      const p = await NodeProcess.spawn({ dbPath: join(dir, `${prefix}.db`), ...options }, 20_000, fixture);
      procs.push(p);
      return p;
    },
  };
}
