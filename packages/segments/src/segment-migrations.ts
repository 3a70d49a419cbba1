import type { Migration } from '@scribe/store';

/**
 * The segment-log schema, in the plugin's own migration namespace (`@scribe/segments`,
 * versions from 1; files made before namespaces recorded version 1 as 1200), for SQLite
 * and PostgreSQL.
 *
 * - `_segments`: one row per segment: its session, entry count and `touched`, a
 *   counter bumped by every write to it, which orders "most recent first" strictly
 *   (timestamps tie within a millisecond).
 * - `_segment_entries`: the log, `(segment_id, position)` from 0 without gaps, JSON text.
 * - `_segment_traces`: debug traces, apart from the log (truncate leaves them).
 */
export const SEGMENT_MIGRATIONS: readonly Migration[] = Object.freeze([
  Object.freeze({
    version: 1,
    name: 'segments: segments, entries and traces',
    up: {
      sqlite: `CREATE TABLE _segments (
  segment_id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  entry_count INTEGER NOT NULL,
  touched INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX _segments_session ON _segments (session_id, touched);
CREATE INDEX _segments_touched ON _segments (touched);
CREATE TABLE _segment_entries (
  segment_id TEXT NOT NULL REFERENCES _segments (segment_id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  entry TEXT NOT NULL,
  appended_at TEXT NOT NULL,
  PRIMARY KEY (segment_id, position)
) WITHOUT ROWID;
CREATE TABLE _segment_traces (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL,
  segment_id TEXT NOT NULL REFERENCES _segments (segment_id) ON DELETE CASCADE,
  entry TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);
CREATE INDEX _segment_traces_segment ON _segment_traces (segment_id, id);`,
      // The same tables: text compares by bytes (COLLATE "C") as on SQLite; the traces'
      // id is an identity column, which like AUTOINCREMENT never reuses a number.
      postgres: `CREATE TABLE _segments (
  segment_id TEXT COLLATE "C" PRIMARY KEY,
  session_id TEXT COLLATE "C" NOT NULL,
  entry_count BIGINT NOT NULL,
  touched BIGINT NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX _segments_session ON _segments (session_id, touched);
CREATE INDEX _segments_touched ON _segments (touched);
CREATE TABLE _segment_entries (
  segment_id TEXT COLLATE "C" NOT NULL REFERENCES _segments (segment_id) ON DELETE CASCADE,
  position BIGINT NOT NULL,
  entry TEXT COLLATE "C" NOT NULL,
  appended_at TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (segment_id, position)
);
CREATE TABLE _segment_traces (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id TEXT COLLATE "C" NOT NULL,
  segment_id TEXT COLLATE "C" NOT NULL REFERENCES _segments (segment_id) ON DELETE CASCADE,
  entry TEXT COLLATE "C" NOT NULL,
  recorded_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX _segment_traces_segment ON _segment_traces (segment_id, id);`,
    },
  }),
]);
