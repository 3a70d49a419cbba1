import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DEMO = fileURLToPath(new URL('../scripts/demo.js', import.meta.url));

describe('the two-node demo (npm run demo)', () => {
  it('runs two processes, shows provenance and a CONFLICT, and exits 0 with a summary', () => {
    const r = spawnSync(process.execPath, [DEMO], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/node-a is primary, node-b is secondary/);
    expect(r.stdout).toMatch(/\[node-a\] write CreateMessage from node-b request …[0-9a-f]{12} ok in/);
    expect(r.stdout).toMatch(/\[node-a\] write CreateMessage from node-b request …[0-9a-f]{12} CONFLICT in/);
    // The part of each request id shown is the one that tells the writes apart
    // (a retry's "(duplicate)" line repeats its id on purpose, so it is left out).
    const shown = [...r.stdout.matchAll(/request …([0-9a-f]{12}) \w+ in/g)].map((m) => m[1]);
    expect(shown.length).toBeGreaterThan(2);
    expect(new Set(shown).size).toBe(shown.length);
    expect(r.stdout).toMatch(/tried demo-message-1 again: CONFLICT \(retryable: false\)/);
    expect(r.stdout).toMatch(/node-b reads: project "Demo", session "Hello from the secondary" with 3 messages/);
    expect(r.stdout).toMatch(/^summary: OK/m);
  });
});
