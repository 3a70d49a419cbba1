import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../fixtures/node-process.mjs', import.meta.url));
/** The fixture with the datastore writes registered. */
export const DATASTORES_FIXTURE = fileURLToPath(new URL('../fixtures/datastores-process.mjs', import.meta.url));

/** The error a child reports, as plain data. */
export interface ChildError {
  name?: string;
  code?: string;
  message?: string;
  method?: string | null;
  field?: string;
  retryable?: boolean;
  /** Domain errors of the agent-storage packages. */
  sessionId?: string;
  segmentId?: string;
  position?: number;
  cause?: { name?: string; code?: string; field?: string; method?: string; message?: string };
  /** name and code of every error of the cause chain, outermost first (agent-storage fixture). */
  chain?: Array<{ name?: string; code?: string }>;
  /** A ShadowSessionError's `driverError` (agent-storage fixture). */
  driver?: { name?: string; code?: string; remoteName?: string; message?: string };
}

/** Thrown by {@link NodeProcess.call} when the child's call failed. */
export class ChildCallError extends Error {
  constructor(readonly error: ChildError) {
    super(`${error.code ?? error.name}: ${error.message}`);
  }
}

/** What the child says when it has a role. */
export interface Ready {
  role: 'primary' | 'secondary';
  instanceId: string;
  epoch: number;
  pid: number;
  /** The HTTP listener's address, when the node was given `http`. */
  http?: { host: string; port: number } | null;
}

/** A scribe node running in a child process, driven over IPC. */
export class NodeProcess {
  readonly events: Array<Record<string, unknown>> = [];
  readonly stderr: string[] = [];
  #nextId = 0;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly ready: Ready,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    child.on('message', (m: { id?: number; ok?: boolean; result?: unknown; error?: ChildError; type?: string; event?: Record<string, unknown> }) => {
      if (m.type === 'event' && m.event) {
        this.events.push(m.event);
        return;
      }
      if (m.id === undefined) return;
      const w = this.#waiting.get(m.id);
      if (!w) return;
      this.#waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new ChildCallError(m.error ?? {}));
    });
    child.once('exit', () => {
      for (const w of this.#waiting.values()) w.reject(new Error('child exited'));
      this.#waiting.clear();
    });
  }

  /** Starts a node process and resolves once it has a role. */
  static async spawn(options: Record<string, unknown>, timeoutMs = 20_000, fixture = FIXTURE): Promise<NodeProcess> {
    const child = fork(fixture, [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    const stderr: string[] = [];
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => stderr.push(d));
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`node process did not become ready in ${timeoutMs} ms: ${stderr.join('')}`));
      }, timeoutMs);
      child.on('message', function onMessage(m: { type?: string; error?: ChildError } & Ready) {
        if (m.type === 'ready') {
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(m);
        } else if (m.type === 'failed') {
          clearTimeout(timer);
          reject(new ChildCallError(m.error ?? {}));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`node process exited with ${code} before ready: ${stderr.join('')}`));
      });
    });
    const p = new NodeProcess(child, ready);
    p.stderr.push(...stderr);
    child.stderr?.on('data', (d: string) => p.stderr.push(d));
    return p;
  }

  /** Sends a command and resolves with the child's result. */
  send<T = unknown>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = ++this.#nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`command ${cmd} got no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, cmd, ...args });
    });
  }

  /** Calls a Querier method in the child. */
  call<T = unknown>(fn: string, ...args: unknown[]): Promise<T> {
    return this.send<T>('call', { fn, args });
  }

  /** Closes the node gracefully and waits for the process to exit. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await this.send('close').catch(() => undefined);
    await this.exited;
  }

  /** SIGKILLs the process and waits for it to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.child.kill(signal);
    if (signal === 'SIGKILL') await this.exited;
  }
}

/** Polls `condition` until it is truthy, or throws after `timeoutMs`. */
export async function waitFor<T>(condition: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await condition();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
