/**
 * @packageDocumentation
 * One scribe cluster member: lock and role, discovery, promotion, wiring.
 */
export { openNode, ScribeNode } from './scribe-node.js';
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
export { ChangeFeed, ResyncNeededError, DEFAULT_CHANGE_POLL_MS, type ChangesOptions, type ChangeLog } from './change-feed.js';
export { readDiscovery, writeDiscovery, type DiscoveryRecord } from './discovery.js';
export { resolveRuntimePaths, defaultEndpoints, ensurePrivateDir, type RuntimePaths } from './runtime-paths.js';
export { InsecureEndpointError, INSECURE_ENDPOINT, checkEndpointPolicy, endpointExposure, type EndpointExposure } from './endpoint-policy.js';
export { HttpEndpoint, isLoopback, type HttpOptions, type HttpSource } from './http-endpoint.js';
export { NodeMetrics, type MetricsSource } from './node-metrics.js';
export { resolvePlugins, schemaProblem, type PluginOptions, type ResolvedPlugins } from './plugins.js';
export { definePlugin, type ScribePlugin } from '@scribe/store';
