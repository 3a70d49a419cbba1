import type { Migration } from '@scribe/store';

/**
 * The datastores tables, in the plugin's own migration namespace (`@scribe/datastores`,
 * versions from 1; files made before namespaces recorded version 1 as 1300), for SQLite
 * and PostgreSQL: the same tables, with text compared by bytes (COLLATE "C") as on
 * SQLite and integers as BIGINT (SQLite's INTEGER is 64-bit).
 */
export const DATASTORE_MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'datastores',
    up: {
      sqlite: `
CREATE TABLE _datastores (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('temp', 'permanent')),
  primary_key TEXT NOT NULL,
  ttl_ms INTEGER,
  expires_at TEXT,
  seq INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX _datastores_by_expiry ON _datastores (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE _datastore_records (
  datastore_id TEXT NOT NULL REFERENCES _datastores (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  data TEXT NOT NULL,
  seq INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (datastore_id, key)
);
CREATE INDEX _datastore_records_by_seq ON _datastore_records (datastore_id, seq);
CREATE TABLE _datastore_subscribers (
  datastore_id TEXT NOT NULL REFERENCES _datastores (id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  subscribed_at TEXT NOT NULL,
  PRIMARY KEY (datastore_id, client_id)
);
CREATE INDEX _datastore_subscribers_by_client ON _datastore_subscribers (client_id);
`,
      postgres: `
CREATE TABLE _datastores (
  id TEXT COLLATE "C" PRIMARY KEY,
  kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('temp', 'permanent')),
  primary_key TEXT COLLATE "C" NOT NULL,
  ttl_ms BIGINT,
  expires_at TEXT COLLATE "C",
  seq BIGINT NOT NULL DEFAULT 0,
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX _datastores_by_expiry ON _datastores (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE _datastore_records (
  datastore_id TEXT COLLATE "C" NOT NULL REFERENCES _datastores (id) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  data TEXT COLLATE "C" NOT NULL,
  seq BIGINT NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (datastore_id, key)
);
CREATE INDEX _datastore_records_by_seq ON _datastore_records (datastore_id, seq);
CREATE TABLE _datastore_subscribers (
  datastore_id TEXT COLLATE "C" NOT NULL REFERENCES _datastores (id) ON DELETE CASCADE,
  client_id TEXT COLLATE "C" NOT NULL,
  subscribed_at TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (datastore_id, client_id)
);
CREATE INDEX _datastore_subscribers_by_client ON _datastore_subscribers (client_id);
`,
    },
  },
  {
    version: 2,
    name: 'datastores: expiry fixed from open (sliding as an option); merge pools',
    // Temp datastores made before this version were created with a sliding TTL: they keep it.
    up: {
      sqlite: `
ALTER TABLE _datastores ADD COLUMN sliding INTEGER NOT NULL DEFAULT 0 CHECK (sliding IN (0, 1));
UPDATE _datastores SET sliding = 1 WHERE kind = 'temp';
CREATE TABLE _merge_pools (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('temp', 'permanent')),
  ttl_ms INTEGER,
  sliding INTEGER NOT NULL DEFAULT 0 CHECK (sliding IN (0, 1)),
  expires_at TEXT,
  seq INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX _merge_pools_by_expiry ON _merge_pools (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE _merge_pool_fields (
  pool_id TEXT NOT NULL REFERENCES _merge_pools (id) ON DELETE CASCADE,
  field TEXT NOT NULL,
  value TEXT,
  seq INTEGER NOT NULL,
  updated_by TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (pool_id, field)
);
CREATE INDEX _merge_pool_fields_by_seq ON _merge_pool_fields (pool_id, seq);
CREATE TABLE _merge_pool_subscribers (
  pool_id TEXT NOT NULL REFERENCES _merge_pools (id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  subscribed_at TEXT NOT NULL,
  PRIMARY KEY (pool_id, client_id)
);
CREATE INDEX _merge_pool_subscribers_by_client ON _merge_pool_subscribers (client_id);
`,
      postgres: `
ALTER TABLE _datastores ADD COLUMN sliding INTEGER NOT NULL DEFAULT 0 CHECK (sliding IN (0, 1));
UPDATE _datastores SET sliding = 1 WHERE kind = 'temp';
CREATE TABLE _merge_pools (
  id TEXT COLLATE "C" PRIMARY KEY,
  kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('temp', 'permanent')),
  ttl_ms BIGINT,
  sliding INTEGER NOT NULL DEFAULT 0 CHECK (sliding IN (0, 1)),
  expires_at TEXT COLLATE "C",
  seq BIGINT NOT NULL DEFAULT 0,
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX _merge_pools_by_expiry ON _merge_pools (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE _merge_pool_fields (
  pool_id TEXT COLLATE "C" NOT NULL REFERENCES _merge_pools (id) ON DELETE CASCADE,
  field TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C",
  seq BIGINT NOT NULL,
  updated_by TEXT COLLATE "C",
  updated_at TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (pool_id, field)
);
CREATE INDEX _merge_pool_fields_by_seq ON _merge_pool_fields (pool_id, seq);
CREATE TABLE _merge_pool_subscribers (
  pool_id TEXT COLLATE "C" NOT NULL REFERENCES _merge_pools (id) ON DELETE CASCADE,
  client_id TEXT COLLATE "C" NOT NULL,
  subscribed_at TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (pool_id, client_id)
);
CREATE INDEX _merge_pool_subscribers_by_client ON _merge_pool_subscribers (client_id);
`,
    },
  },
]);

/** The two kinds of datastore. */
export const DATASTORE_KINDS = ['temp', 'permanent'] as const;
/** One of {@link DATASTORE_KINDS}. */
export type DatastoreKind = (typeof DATASTORE_KINDS)[number];

/** Default time to live of a temp datastore: one hour. */
export const DEFAULT_TTL_MS = 60 * 60 * 1000;

/** Longest field name a merge pool takes. */
export const MAX_POOL_FIELD_LENGTH = 200;

/** Datastore and merge-pool ids: letters, digits, `_` and `-`, 1–128 characters (they appear in topics, where `.` separates parts). */
export const DATASTORE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** The change-feed entity of a datastore's records: `datastore:<id>`, so topics are `db.datastore:<id>.<op>`. */
export function datastoreEntity(id: string): string {
  return `datastore:${id}`;
}

/** The change-feed entity of a merge pool's fields: `pool:<id>`, so topics are `db.pool:<id>.<op>` (key = the field). */
export function poolEntity(id: string): string {
  return `pool:${id}`;
}
