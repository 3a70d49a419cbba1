import type { Logger } from 'pino';
import type { NodeInfo, PluginInfo } from '@scribe/protocol';
import type { PrimaryLock, Querier, Store, WriteRegistry } from '@scribe/store';
import type { WriteForwarder } from '@scribe/proxy';
import type { ChangeFeed } from './change-feed.js';
import type { FileModes } from './file-modes.js';
import type { NodeEvent } from './node-events.js';
import type { NodeMetrics } from './node-metrics.js';
import type { NodeStatus } from './node-status.js';
import type { NodeTimings, OpenNodeOptions } from './node-options.js';
import type { ResolvedPlugins } from './plugins.js';
import type { RuntimePaths } from './runtime-paths.js';

/**
 * What the leadership loop and the role duties need from the node they serve. The
 * node builds one per instance; the duties own nothing in it, they only use it.
 */
export interface NodeContext {
  readonly instanceId: string;
  readonly paths: RuntimePaths;
  readonly options: OpenNodeOptions;
  readonly timings: NodeTimings;
  /** File and directory modes (owner-only unless a group shares the database). */
  readonly modes: FileModes;
  /** The write registry, with every plugin's writes. */
  readonly registry: WriteRegistry;
  /** The plugins, with their migrations and maintenance, resolved once. */
  readonly plugins: ResolvedPlugins;
  /** The node's logger (`{ node }`); duties make `{ role, component }` children. */
  readonly root: Logger;
  readonly lock: PrimaryLock;
  /** The querier's write path; the loop points it at the coordinator or at the primary. */
  readonly forwarder: WriteForwarder;
  readonly feed: ChangeFeed;
  readonly metrics: NodeMetrics;
  /** When the node started (ms since epoch). */
  readonly startedAt: number;
  /** True once someone reads the change feed (secondaries then subscribe to `db.` events). */
  wantsChanges(): boolean;
  /** What `db.ping` answers. */
  info(): NodeInfo;
  /** The status view (`db.status`, `/status.json`): the duties report failovers to it. */
  readonly status: NodeStatus;
  /** The HTTP listener's URL, when there is one (for member reports). */
  httpUrl(): string | null;
  /** This node's plugins and their schema versions (for member reports). */
  pluginInfo(): PluginInfo[];
  /** The node's read-only store (opened on first use, kept across role changes). */
  readStore(): Store;
  /** The node's querier, once it has one. */
  querier(): Querier | undefined;
  /** Tells the application (listener errors are logged, never thrown). */
  emit(event: NodeEvent): void;
}
