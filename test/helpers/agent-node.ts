import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { ChildCallError, NodeProcess, type ChildError } from './node-process.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/agent-storage-node.mjs', import.meta.url));

/** A node process with shadow sessions and segment logs (test/fixtures/agent-storage-node.mjs). */
export class AgentNode {
  private constructor(readonly proc: NodeProcess) {}

  /**
   * Starts one. `options` go to openNode, plus `pluginSpecs`: module specifiers
   * (absolute paths or package names) whose plugins replace the fixture's own set.
   */
  static async spawn(dbPath: string, instanceId: string, options: Record<string, unknown> = {}): Promise<AgentNode> {
    return new AgentNode(await NodeProcess.spawn({ dbPath, instanceId, ...options }, 20_000, FIXTURE));
  }

  get ready(): NodeProcess['ready'] {
    return this.proc.ready;
  }

  send<T = unknown>(cmd: string, fields: Record<string, unknown> = {}): Promise<T> {
    return this.proc.send<T>(cmd, fields, 30_000);
  }

  open(sessionId: string, options: Record<string, unknown>) {
    return this.send<{ sessionId: string; seeded: number; openedBy: string; openedAt: string }>('open', { args: [sessionId, options] });
  }
  shadows<T = unknown>(op: string, ...args: unknown[]) {
    return this.send<T>('shadows', { op, args });
  }
  session<T = unknown>(sessionId: string, op: string, ...args: unknown[]) {
    return this.send<T>('session', { sessionId, op, args });
  }
  logs<T = unknown>(op: string, ...args: unknown[]) {
    return this.send<T>('logs', { op, args });
  }
  datastores<T = unknown>(op: string, ...args: unknown[]) {
    return this.send<T>('datastores', { op, args });
  }
  datastore<T = unknown>(datastoreId: string, op: string, ...args: unknown[]) {
    return this.send<T>('datastore', { datastoreId, op, args });
  }
  /** Any registered write by name, through this process's querier. */
  write<T = unknown>(method: string, params: unknown) {
    return this.send<T>('write', { method, args: params });
  }
  query<T = Record<string, unknown>>(sql: string, params: unknown[] = []) {
    return this.send<T[]>('query', { sql, params });
  }

  /** SIGKILLs the process (if it still runs) and waits for it to be gone. */
  async kill(): Promise<void> {
    if (this.proc.child.exitCode !== null || this.proc.child.signalCode !== null) return;
    await this.proc.kill('SIGKILL');
  }
}

/** Awaits a call that must fail in the child and returns its error as data. */
export async function failure(p: Promise<unknown>): Promise<ChildError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ChildCallError);
  return (e as ChildCallError).error;
}

/**
 * A database shared by the tests of one describe block (beforeAll/afterAll), and the
 * agent nodes started on it; everything is killed and removed afterwards.
 */
export function agentCluster(prefix: string) {
  const c = { dir: '', procs: [] as AgentNode[] };
  beforeAll(() => {
    c.dir = mkdtempSync(join(tmpdir(), `scribe-${prefix}-`));
  });
  afterAll(async () => {
    for (const p of c.procs) await p.kill();
    rmSync(c.dir, { recursive: true, force: true });
  });
  return {
    get dbPath() {
      return join(c.dir, 'shared.db');
    },
    async spawn(instanceId: string, options: Record<string, unknown> = {}): Promise<AgentNode> {
      const p = await AgentNode.spawn(join(c.dir, 'shared.db'), instanceId, options);
      c.procs.push(p);
      return p;
    },
  };
}
