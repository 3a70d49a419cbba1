import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium, launchChromium } from './helpers/browser.js';
import type { NodeProcess } from './helpers/node-process.js';
import { useTempCluster } from './helpers/temp-cluster.js';

const cluster = useTempCluster('status-page');
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** Screenshots are kept (not removed with the test's cluster) as the test's artefacts. */
const ARTEFACTS = mkdtempSync(join(tmpdir(), 'scribe-status-page-artefacts-'));

function url(p: NodeProcess): string {
  return `http://${p.ready.http!.host}:${p.ready.http!.port}/`;
}

async function open(url: string): Promise<Page> {
  const browser = await launchChromium();
  closers.push(browser.close);
  const page = await browser.context.newPage();
  await page.goto(url);
  return page;
}

const text = (page: Page, selector: string): Promise<string> => page.locator(selector).innerText();

// Without Chromium the test cannot run; CI installs it (.ci/run), so there it must.
describe.skipIf(!hasChromium && process.env.CI === undefined)('the status page in a real browser', () => {
  it('lists both members, shows the write rate rising under a writer, and after kill -9 of the primary shows the new primary and the failover', async () => {
    const primary = await cluster.spawn({ instanceId: 'p', http: { port: 0 } });
    const secondary = await cluster.spawn({ instanceId: 's', http: { port: 0 } });
    const onSecondary = await open(url(secondary));
    const onPrimary = await open(url(primary));

    // Both members, the primary marked, as the secondary fetches them through the cluster.
    await onSecondary.waitForFunction(() => document.querySelectorAll('#members tr').length === 2, null, { timeout: 15_000 });
    expect(await text(onSecondary, '#members tr.primary')).toMatch(/PRIMARY\s+p\s/);
    expect(await text(onSecondary, '#members tr:not(.primary)')).toMatch(/secondary\s+s\s/);
    expect(await text(onSecondary, '#who')).toMatch(/^served by s \(secondary, pid \d+, epoch 1\)$/);
    expect(await text(onPrimary, '#primary')).toBe('p');
    expect(await text(onSecondary, '#now-committed')).toBe('0');

    await secondary.call('createSession', { id: 'live', title: 'status page' });
    const writing = secondary.send<{ acked: string[] }>('writeSeries', { sessionId: 'live', prefix: 'w', count: 1_000_000, concurrency: 4 });
    writing.catch(() => undefined); // awaited below; a failure before then must not go unhandled
    await onSecondary.waitForFunction(() => Number(document.getElementById('now-committed')?.textContent) > 0, null, { timeout: 15_000 });
    await onSecondary.waitForFunction(() => document.querySelectorAll('#changes tr td').length > 1, null, { timeout: 5_000 });
    expect(await text(onSecondary, '#changes')).toMatch(/\tmessages\tw-\d{6}\tcreated\ts$/m);
    await onSecondary.screenshot({ path: join(ARTEFACTS, 'status-page-writing.png'), fullPage: true });

    await primary.kill('SIGKILL');
    await onSecondary.waitForFunction(() => document.getElementById('primary')?.textContent === 's', null, { timeout: 20_000 });
    await onSecondary.waitForFunction(() => document.querySelectorAll('#failovers tr td').length > 1, null, { timeout: 5_000 });
    expect(await text(onSecondary, '#failovers tr:first-child')).toMatch(/p \(pid \d+, epoch 1\)\s+s \(epoch 2\)\s+\u2264 \d+ ms\s+promoted/);
    expect(await text(onSecondary, '#members tr.primary')).toMatch(/PRIMARY\s+s\s/);
    // The page that was served by the dead primary finds the new one by itself.
    await onPrimary.waitForURL(url(secondary), { timeout: 20_000 });
    await onPrimary.waitForFunction(() => document.getElementById('primary')?.textContent === 's', null, { timeout: 10_000 });
    // Writes go on on the new primary.
    const before = await secondary.send<{ completed: number }>('info').then((i) => (i as unknown as { writes: { completed: number } }).writes.completed);
    await onSecondary.waitForFunction(() => Number(document.getElementById('now-committed')?.textContent) > 0, null, { timeout: 15_000 });
    await onSecondary.screenshot({ path: join(ARTEFACTS, 'status-page-after-failover.png'), fullPage: true });
    await secondary.send('stop');
    const done = await writing;
    expect(done.acked.length).toBeGreaterThan(before > 0 ? 0 : 1);
    console.info(`status page screenshots: ${ARTEFACTS}`);
  });

  it('says plainly that no primary answers while the primary is stopped, and recovers when it answers again', async () => {
    const primary = await cluster.spawn({ instanceId: 'p' });
    const secondary = await cluster.spawn({ instanceId: 's', promote: false, http: { port: 0 } });
    const page = await open(url(secondary));
    await page.waitForFunction(() => document.getElementById('primary')?.textContent === 'p', null, { timeout: 15_000 });
    expect(await page.locator('#banner').isVisible()).toBe(false);
    primary.child.kill('SIGSTOP');
    try {
      await page.waitForFunction(() => document.getElementById('banner')?.classList.contains('show') === true, null, { timeout: 15_000 });
      expect(await text(page, '#banner')).toMatch(/^no primary answers: the primary p \(pid \d+, epoch 1\) did not answer \(TIMEOUT\)$/);
      await page.screenshot({ path: join(ARTEFACTS, 'status-page-no-primary.png'), fullPage: true });
    } finally {
      primary.child.kill('SIGCONT');
    }
    await page.waitForFunction(() => document.getElementById('banner')?.classList.contains('show') === false, null, { timeout: 15_000 });
  });
});
