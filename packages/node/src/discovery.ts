import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/** What the primary tells secondaries about itself; the content of `discovery.json`. */
export interface DiscoveryRecord {
  instance_id: string;
  pid: number;
  /** Grows on every promotion; a secondary reconnects when it sees a new one. */
  epoch: number;
  /** The primary's ROUTER endpoint (requests). */
  router: string;
  /** The primary's PUB endpoint (events). */
  pub: string;
  schema_version: number;
  /** RFC 3339. */
  started_at: string;
  /**
   * The primary's CURVE public key when its endpoints require CURVE (absent when they
   * do not). Public by nature; it lets `scribe status` say that keys are needed.
   */
  curve_public_key?: string;
}

/** Writes the record atomically (temporary file, then rename) with owner-only permissions. */
export function writeDiscovery(path: string, record: DiscoveryRecord): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Reads the record; undefined when the file is absent or not a valid record (a half-written or foreign file is never trusted). */
export function readDiscovery(path: string): DiscoveryRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<DiscoveryRecord>;
    if (
      typeof v.instance_id === 'string' &&
      typeof v.pid === 'number' &&
      typeof v.epoch === 'number' &&
      typeof v.router === 'string' &&
      typeof v.pub === 'string' &&
      typeof v.schema_version === 'number' &&
      typeof v.started_at === 'string' &&
      (v.curve_public_key === undefined || typeof v.curve_public_key === 'string')
    ) {
      return v as DiscoveryRecord;
    }
  } catch {
    // fall through
  }
  return undefined;
}
