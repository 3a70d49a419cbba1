import { Store } from '@scribe/store';

/** What the database holds for one session, read by a fresh read-only connection. */
export interface SessionAudit {
  /** The marker (`parts[0].text`) of every message row, in row order. */
  markers: string[];
  /** The session's message_count column. */
  messageCount: number;
  /** `PRAGMA integrity_check` result. */
  integrity: string;
}

/** Reads the rows of a session the way an outside auditor would: its own read-only connection. */
export function auditSession(dbPath: string, sessionId: string): SessionAudit {
  const store = Store.open({ path: dbPath, readonly: true });
  try {
    const rows = store.query<{ parts: string }>('SELECT parts FROM messages WHERE session_id = ? ORDER BY rowid', [sessionId]);
    const markers = rows.map((r) => (JSON.parse(r.parts) as Array<{ text: string }>)[0]!.text);
    // The raw column, as an auditor reads it (the typed reads are async and map rows to entities).
    const [session] = store.query<{ message_count: number }>('SELECT message_count FROM sessions WHERE id = ?', [sessionId]);
    const integrity = store.query<{ integrity_check: string }>('PRAGMA integrity_check')[0]!.integrity_check;
    return { markers, messageCount: session?.message_count ?? -1, integrity };
  } finally {
    store.close();
  }
}

/** Result of a writer's `writeSeries`. */
export interface SeriesResult {
  acked: string[];
  ackedAt: number[];
  failed: Array<{ id: string; error: { code?: string; retryable?: boolean; name?: string } }>;
}

/**
 * The crash-safety invariants: no marker twice; every acknowledged write present
 * exactly once; every failed write failed with a structured WriteError; every row
 * written by someone; message_count true; the file intact. Returns a list of
 * violations (empty when all hold) so a test can print them all at once.
 */
export function checkInvariants(audit: SessionAudit, results: readonly SeriesResult[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const m of audit.markers) seen.set(m, (seen.get(m) ?? 0) + 1);
  const twice = [...seen].filter(([, n]) => n > 1).map(([m]) => m);
  if (twice.length > 0) problems.push(`applied more than once: ${twice.slice(0, 10).join(', ')}`);
  const issued = new Set<string>();
  for (const r of results) {
    for (const m of r.acked) {
      issued.add(m);
      if (seen.get(m) !== 1) problems.push(`acknowledged but present ${seen.get(m) ?? 0} times: ${m}`);
    }
    for (const f of r.failed) {
      issued.add(f.id);
      if (f.error.name !== 'WriteError' || typeof f.error.code !== 'string') {
        problems.push(`failed without a structured WriteError: ${f.id} ${JSON.stringify(f.error)}`);
      }
    }
  }
  const unknown = audit.markers.filter((m) => !issued.has(m));
  if (unknown.length > 0) problems.push(`rows nobody wrote: ${unknown.slice(0, 10).join(', ')}`);
  if (audit.messageCount !== audit.markers.length) {
    problems.push(`message_count ${audit.messageCount} but ${audit.markers.length} rows`);
  }
  if (audit.integrity !== 'ok') problems.push(`integrity_check: ${audit.integrity}`);
  return problems;
}

/** Median and maximum of a list of numbers. */
export function medianMax(values: readonly number[]): { median: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length === 0 ? NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, max: s.length === 0 ? NaN : s[s.length - 1]! };
}
