import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WriteError, isWriteError } from '@scribe/protocol';

type ProtocolModule = typeof import('@scribe/protocol');

// An application and one of its dependencies may each load their own copy of
// @scribe/protocol; a WriteError made by one copy must be recognised by the other.
describe('isWriteError across two copies of @scribe/protocol', () => {
  let dir: string;
  let other: ProtocolModule;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scribe-protocol-copy-'));
    cpSync(fileURLToPath(new URL('../dist', import.meta.url)), join(dir, 'dist'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    other = (await import(pathToFileURL(join(dir, 'dist', 'index.js')).href)) as ProtocolModule;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a distinct copy (its class is not ours, so instanceof cannot tell)', () => {
    expect(other.WriteError).not.toBe(WriteError);
    expect(new other.WriteError('CONFLICT', 'duplicate id') instanceof WriteError).toBe(false);
  });

  it('recognises the other copy\'s errors, both ways', () => {
    const theirs = new other.WriteError('CONFLICT', 'duplicate id', { method: 'CreateSession' });
    expect(isWriteError(theirs)).toBe(true);
    expect(other.isWriteError(new WriteError('TIMEOUT', 'no answer'))).toBe(true);
    if (isWriteError(theirs)) expect([theirs.code, theirs.method, theirs.isRetryable()]).toEqual(['CONFLICT', 'CreateSession', false]);
  });

  it('says no to look-alikes: a plain Error, an object with a code, null', () => {
    expect(isWriteError(new Error('CONFLICT'))).toBe(false);
    expect(isWriteError({ name: 'WriteError', code: 'CONFLICT', retryable: false })).toBe(false);
    expect(isWriteError(null)).toBe(false);
    expect(isWriteError('CONFLICT')).toBe(false);
  });
});
