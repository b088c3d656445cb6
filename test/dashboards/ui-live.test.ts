/**
 * The live UI while a scenario plays (`fabricscope up --speed 2`): the stream connects, new
 * stalls arrive over SSE, and the view redraws with newer data without a reload.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT, startCli, tempDir, type Service } from '../harness/cli-process.js';
import { launchBrowser, type BrowserSession } from './browser.js';
import { SCENARIO } from './played-scenario.js';

let api: Service;
let session: BrowserSession;

beforeAll(async () => {
  session = await launchBrowser();
  api = await startCli(
    ['up', '--scenario', SCENARIO, '--speed', '2', '--port', '0', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--data', tempDir('ui-live'), '--log-level', 'info'],
    ['api listening'],
  );
}, 120_000);

afterAll(async () => {
  await session?.close();
  await api?.stop();
});

it('updates the fabric view live while the scenario plays', async () => {
  const page = await session.page();
  await page.goto(`${api.urls['api listening']}/#/fabric?last=60`);
  await page.waitForSelector('#live-status.live-live', { timeout: 20_000 });
  await page.waitForSelector('#view[data-view="fabric"][data-state="ready"]', { timeout: 60_000 });
  const firstHead = await page.textContent('#data-head');
  const firstRefreshes = Number(await page.getAttribute('#view', 'data-refreshes'));

  // The incast starts 8 simulated seconds in (4 s at speed 2): stalls arrive by SSE.
  await page.waitForFunction(() => Number(document.querySelector('#live-status')?.getAttribute('data-live-stalls')) > 0, undefined, { timeout: 45_000 });
  await page
    .waitForFunction(() => Number(document.querySelector('[data-kpi="stalls"] .kpi-value')?.textContent) > 0, undefined, { timeout: 20_000 })
    .catch(async (e: unknown) => {
      const state = await page.evaluate(() => ({ view: document.querySelector('#view')?.outerHTML.slice(0, 400), error: document.querySelector('.view-error')?.textContent, head: document.querySelector('#data-head')?.textContent }));
      throw new Error(`${(e as Error).message}\n${JSON.stringify(state)}\n${session.problems.join('\n')}`);
    });
  // A whole redraw (every series) also completes, with newer data than the first one.
  // (A refresh may land before newer telemetry is stored when the machine is busy, so wait for
  // one that shows a newer head rather than taking the next one.)
  await page.waitForFunction(
    ([n, head]) => Number(document.querySelector('#view')?.getAttribute('data-refreshes')) > Number(n) && document.querySelector('#data-head')?.textContent !== head,
    [firstRefreshes, firstHead] as const,
    { timeout: 60_000 },
  );
  expect(await page.textContent('#data-head')).not.toBe(firstHead);

  mkdirSync(join(REPO_ROOT, 'test-output', 'screenshots'), { recursive: true });
  await page.waitForSelector('#view[data-state="ready"]');
  await page.screenshot({ path: join(REPO_ROOT, 'test-output', 'screenshots', 'live-fabric.png'), fullPage: true });
  expect(session.problems).toEqual([]);
}, 150_000);
