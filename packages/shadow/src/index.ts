/**
 * @packageDocumentation
 * Shadow sessions: session-scoped rows in a shadow table, seeded from a real table at
 * open, deleted at close, reaped when abandoned. The registry of open sessions lives
 * in the database, so it survives the process that opened a session and failovers.
 *
 * Wiring: add {@link plugin} (or `shadowPlugin({ reapAfterMs })`) to `openNode({ plugins })`
 * or `scribe start --plugin @scribe/shadow`, then `new ShadowSessions(node.querier)`.
 */
export {
  plugin,
  plugin as default,
  shadowPlugin,
  SHADOW_PLUGIN_NAME,
  DEFAULT_REAP_AFTER_MS,
  DEFAULT_REAP_INTERVAL_MS,
  type ShadowPluginOptions,
} from './shadow-plugin.js';
export {
  ShadowSessions,
  ShadowSession,
  DEFAULT_REAP_CONCURRENCY,
  type OpenShadowOptions,
  type ShadowSessionsOptions,
  type ShadowReadOptions,
  type ReapResult,
} from './shadow-sessions.js';
export {
  ShadowSessionError,
  SHADOW_ERROR_CODES,
  isShadowErrorCode,
  toShadowSessionError,
  type ShadowErrorCode,
  type ShadowSessionErrorOptions,
} from './shadow-errors.js';
export {
  OpenShadowSession,
  CloseShadowSession,
  InsertShadowRows,
  UpdateShadowRows,
  DeleteShadowRows,
  SHADOW_WRITES,
  SHADOW_WRITE_NAMES,
  registerShadowWrites,
  type ShadowSessionRecord,
  type OpenShadowSessionResult,
  type CloseShadowSessionResult,
  type ShadowRow,
  type ShadowValue,
} from './shadow-writes.js';
export { SHADOW_MIGRATIONS } from './shadow-migrations.js';
export { PLAIN_IDENTIFIER, SESSIONS_TABLE, isPlainIdentifier } from './identifiers.js';
