/**
 * @packageDocumentation
 * Shared datastores: server-authoritative keyed collections, temp (TTL) or
 * permanent, with subscribers, over any scribe node.
 *
 * Wiring: add {@link plugin} (or `datastoresPlugin({ purgeIntervalMs })`) to
 * `openNode({ plugins })` or `scribe start --plugin @scribe/datastores`, then
 * `new Datastores({ querier: node.querier, changes: node.changes.bind(node) })`.
 */
export {
  plugin,
  plugin as default,
  datastoresPlugin,
  DATASTORES_PLUGIN_NAME,
  DEFAULT_PURGE_INTERVAL_MS,
  type DatastoresPluginOptions,
} from './datastores-plugin.js';
export { Datastores, Datastore, type DatastoresOptions, type OpenDatastoreOptions, type DatastoreRecord, type DatastoreEvent } from './datastores.js';
export { MergePool, type OpenMergePoolOptions, type PoolState, type PoolDelta, type PoolEvent } from './merge-pool.js';
export {
  MERGE_POOL_WRITES,
  MAX_FIELDS_PER_MERGE,
  OpenMergePool,
  MergeIntoPool,
  SubscribeMergePool,
  UnsubscribeMergePool,
  type MergePoolRow,
  type MergeResult,
} from './merge-pool-writes.js';
export { applyMergePatch } from './merge-patch.js';
export {
  DATASTORE_WRITES,
  registerDatastoreWrites,
  OpenDatastore,
  SetDatastoreRecord,
  DeleteDatastoreRecord,
  SubscribeDatastore,
  UnsubscribeDatastore,
  DropDatastoreClient,
  PurgeExpiredDatastores,
  type DatastoreRow,
  type MutationResult,
} from './datastore-writes.js';
export {
  DATASTORE_MIGRATIONS,
  DATASTORE_KINDS,
  DEFAULT_TTL_MS,
  DATASTORE_ID,
  MAX_POOL_FIELD_LENGTH,
  datastoreEntity,
  poolEntity,
  type DatastoreKind,
} from './schema.js';
