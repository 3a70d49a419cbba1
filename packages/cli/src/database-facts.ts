import type { DatabaseFacts } from '@scribe/store';

/**
 * `1,234,567 bytes, 301 pages of 4096 bytes, schema version 2 (shadow@1), integrity ok`:
 * how backup and restore describe a file (plugins' migration versions in brackets).
 */
export function describeFacts(f: DatabaseFacts): string {
  const others = Object.entries(f.versions).filter(([ns]) => ns !== 'scribe');
  const plugins = others.length === 0 ? '' : ` (${others.map(([ns, v]) => `${ns}@${v}`).join(', ')})`;
  return `${f.bytes.toLocaleString('en-US')} bytes, ${f.pages} pages of ${f.pageSize} bytes, schema version ${f.schemaVersion}${plugins}, integrity ${f.integrity === 'ok' ? 'ok' : 'FAILED'}`;
}

/** Throws, naming the file and the first problems, unless `PRAGMA integrity_check` said ok. */
export function assertIntact(f: DatabaseFacts, what: string): void {
  if (f.integrity !== 'ok') {
    throw new Error(`${what} ${f.path} fails its integrity check: ${f.integrity.slice(0, 3).join('; ')}`);
  }
}
