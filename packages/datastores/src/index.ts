/**
 * @packageDocumentation
 * Shared datastores: server-authoritative keyed collections, temp (TTL) or
 * permanent, with subscribers, over any scribe node.
 */
export { Datastores, Datastore, type DatastoresOptions, type OpenDatastoreOptions, type DatastoreRecord, type DatastoreEvent } from './datastores.js';
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
export { DATASTORE_MIGRATIONS, DATASTORE_KINDS, DEFAULT_TTL_MS, DATASTORE_ID, datastoreEntity, type DatastoreKind } from './schema.js';
