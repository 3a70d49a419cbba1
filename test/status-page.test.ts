import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium, launchChromium } from './helpers/browser.js';
import { waitFor, type NodeProcess } from './helpers/node-process.js';
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
    await waitFor(async () => (await onSecondary.locator('#members tr').count()) === 2, 15_000, 'both members listed');
    expect(await text(onSecondary, '#members tr.primary')).toMatch(/PRIMARY\s+p\s/);
    expect(await text(onSecondary, '#members tr:not(.primary)')).toMatch(/secondary\s+s\s/);
    expect(await text(onSecondary, '#who')).toMatch(/^served by s \(secondary, pid \d+, epoch 1\)$/);
    expect(await text(onPrimary, '#primary')).toBe('p');
    expect(await text(onSecondary, '#now-committed')).toMatch(/^(0|-)$/); // no writes yet ('-' before the first sample)

    await secondary.call('createSession', { id: 'live', title: 'status page' });
    const writing = secondary.send<{ acked: string[] }>('writeSeries', { sessionId: 'live', prefix: 'w', count: 1_000_000, concurrency: 4 });
    writing.catch(() => undefined); // awaited below; a failure before then must not go unhandled
    await waitFor(async () => Number(await text(onSecondary, '#now-committed')) > 0, 15_000, 'a committed write rate');
    await waitFor(async () => (await onSecondary.locator('#changes tr td').count()) > 1, 5_000, 'the change feed');
    expect(await text(onSecondary, '#changes')).toMatch(/\tmessages\tw-\d{6}\tcreated\ts$/m);
    await onSecondary.screenshot({ path: join(ARTEFACTS, 'status-page-writing.png'), fullPage: true });

    await primary.kill('SIGKILL');
    await waitFor(async () => (await text(onSecondary, '#primary')) === 's', 20_000, 'the new primary');
    await waitFor(async () => (await onSecondary.locator('#failovers tr td').count()) > 1, 5_000, 'the failover');
    expect(await text(onSecondary, '#failovers tr:first-child')).toMatch(/p \(pid \d+, epoch 1\)\s+s \(epoch 2\)\s+\u2264 \d+ ms\s+promoted/);
    expect(await text(onSecondary, '#members tr.primary')).toMatch(/PRIMARY\s+s\s/);
    // The page that was served by the dead primary finds the new one by itself.
    await onPrimary.waitForURL(url(secondary), { timeout: 20_000 });
    await waitFor(async () => (await text(onPrimary, '#primary')) === 's', 10_000, 'the new primary');
    // Writes go on, now committed by the new primary (its own counters start at its promotion).
    await waitFor(async () => Number(await text(onSecondary, '#now-committed')) > 0, 15_000, 'a committed write rate');
    await onSecondary.screenshot({ path: join(ARTEFACTS, 'status-page-after-failover.png'), fullPage: true });
    await secondary.send('stop');
    const done = await writing;
    expect(done.acked.length).toBeGreaterThan(0);
    console.info(`status page screenshots: ${ARTEFACTS}`);
  });

  it('says plainly that no primary answers while the primary is stopped, and recovers when it answers again', async () => {
    const primary = await cluster.spawn({ instanceId: 'p' });
    const secondary = await cluster.spawn({ instanceId: 's', promote: false, http: { port: 0 } });
    const page = await open(url(secondary));
    await waitFor(async () => (await text(page, '#primary')) === 'p', 15_000, 'the primary');
    expect(await page.locator('#banner').isVisible()).toBe(false);
    primary.child.kill('SIGSTOP');
    try {
      await waitFor(async () => page.locator('#banner').isVisible(), 15_000, 'the banner');
      expect(await text(page, '#banner')).toMatch(/^no primary answers: the primary p \(pid \d+, epoch 1\) did not answer \(TIMEOUT\)$/);
      await page.screenshot({ path: join(ARTEFACTS, 'status-page-no-primary.png'), fullPage: true });
    } finally {
      primary.child.kill('SIGCONT');
    }
    await waitFor(async () => !(await page.locator('#banner').isVisible()), 15_000, 'the banner gone');
  });
});
