/**
 * @packageDocumentation
 * One scribe cluster member: lock and role, discovery, promotion, wiring.
 */
export { openNode, ScribeNode } from './scribe-node.js';
export { PgScribeNode } from './pg-node.js';
export {
  isPgNodeOptions,
  checkPgNodeOptions,
  DEFAULT_PG_FALLBACK_POLL_MS,
  DEFAULT_PG_LISTEN_POLL_MS,
  PG_DEFAULT_MAX_BATCH_SIZE,
  type OpenPgNodeOptions,
} from './pg-node-options.js';
export {
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_START_TIMEOUT_MS,
  SYNCHRONOUS_LEVELS,
  resolveNodeTimings,
  type OpenNodeOptions,
  type MaintenanceTask,
  type SynchronousLevel,
  type NodeTimings,
} from './node-options.js';
export type { NodeEvent, NodeListener } from './node-events.js';
export { PrimaryLiveness, DEFAULT_MISSED_HEARTBEATS, type PrimaryLivenessOptions, type LivenessChange, type PrimaryLivenessView } from './primary-liveness.js';
export { ChangeFeed, ResyncNeededError, DEFAULT_CHANGE_POLL_MS, type ChangesOptions, type ChangeLog, type ChangeFeedOptions } from './change-feed.js';
export { readDiscovery, writeDiscovery, type DiscoveryRecord } from './discovery.js';
export { resolveRuntimePaths, defaultEndpoints, ensurePrivateDir, MAX_SOCKET_PATH, type RuntimePaths } from './runtime-paths.js';
export { UnsafePathError, UNSAFE_PATH, ensureSafeDir, assertSafeAncestors, assertOwnDir, OWNER_ONLY, type AccessPolicy } from './safe-dir.js';
export { createSocketDir, assertSafeIpcEndpoint, removeTempSocketDir, TEMP_SOCKET_DIR_PREFIX } from './socket-dir.js';
export { resolveFileModes, prepareDatabaseFile, enforceSidecarModes, DEFAULT_FILE_MODE, FILE_MODES, type FileModes } from './file-modes.js';
export { InsecureEndpointError, INSECURE_ENDPOINT, checkEndpointPolicy, endpointExposure, type EndpointExposure } from './endpoint-policy.js';
export { HttpEndpoint, isLoopback, type HttpOptions, type HttpSource } from './http-endpoint.js';
export { NodeMetrics, type MetricsSource } from './node-metrics.js';
export { resolvePlugins, schemaProblem, type PluginOptions, type ResolvedPlugins } from './plugins.js';
export { definePlugin, type ScribePlugin } from '@scribe/store';

// What an application needs beside openNode, so that it can depend on @scribe/node alone:
// the error it catches, the querier and row types it handles, the events it hears.
export {
  WriteError,
  isWriteError,
  WRITE_ERROR_CODES,
  RETRYABLE,
  type WriteErrorCode,
  type WriteErrorData,
  type ChangeEvent,
  type ChangeOp,
  type NodeInfo,
  type MemberInfo,
  type Role,
} from '@scribe/protocol';
export type {
  Querier,
  WriteOptions,
  WriteParams,
  Migration,
  Project,
  Session,
  Message,
  FileRecord,
  Skill,
  PromptTemplate,
  SessionScore,
  DeleteResult,
  ExecResult,
} from '@scribe/store';
export type { StatusReport } from './status-report.js';
export {
  StatusHistory,
  quantileMs,
  DEFAULT_STATUS_SAMPLES,
  STATUS_SAMPLE_INTERVAL_MS,
  type StatusHistorySource,
  type StatusHistoryOptions,
} from './status-history.js';
export { STATUS_PAGE_HTML } from './status-page.js';
export { PeerPresence, peerMember, type PeerTable, type PeerPresenceOptions } from './peer-presence.js';
